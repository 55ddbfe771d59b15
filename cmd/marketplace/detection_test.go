package main

import (
	"bytes"
	"context"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"marketplace/catalog"
	"marketplace/detection"
	"marketplace/internal/money"
	"marketplace/licensing"
)

// TestDemoScreening is the "done when" on the demo: a listing using an official photo
// from an unlicensed seller is blocked within seconds with the reason shown, while the
// licensee's own listing of that photo goes live.
func TestDemoScreening(t *testing.T) {
	m := startMain(t)
	ctx := context.Background()
	store := m.Catalog
	licensee, err := m.Licensing.Licensees(ctx, licensing.LicenseeFilter{Query: "Maison Bleue Textiles"})
	if err != nil || len(licensee) != 1 {
		t.Fatalf("licensee: %v, %v", licensee, err)
	}
	products, err := m.Catalog.Products(ctx, catalog.ProductFilter{LicenseeID: licensee[0].ID, Status: catalog.ProductApproved, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var product catalog.Product
	for _, p := range products {
		if len(p.Images) > 0 {
			product = p
			break
		}
	}
	if product.ID == 0 {
		t.Fatalf("no Maison Bleue product with a picture among %d", len(products))
	}
	official := product.Images[0].ID

	// The licensee's own listing of the product goes live once screened.
	own, err := m.Catalog.Listings(ctx, catalog.ListingFilter{ProductID: product.ID})
	if err != nil || len(own) == 0 {
		t.Fatalf("official listings: %v, %v", own, err)
	}
	waitListing(t, m, own[0].ID, catalog.StatusLive)

	// An independent seller lists the same photo, saved from the product page.
	deadline := time.Now().Add(30 * time.Second)
	for {
		refs, err := m.Detection.References(ctx, official)
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the product's picture never became a reference")
		}
		time.Sleep(50 * time.Millisecond)
	}
	data, _, err := store.ImageBytes(ctx, official)
	if err != nil {
		t.Fatal(err)
	}
	// Saved again at another quality, it is a picture of its own: the screening must name the
	// official reference it matched, not the listing's own copy.
	decoded, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var resaved bytes.Buffer
	if err := jpeg.Encode(&resaved, decoded, &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	img, err := store.PutImage(ctx, resaved.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if img.ID == official {
		t.Fatal("the resaved copy was stored as the official picture itself")
	}
	seller, err := m.Catalog.CreateSeller(ctx, catalog.NewSeller{Kind: catalog.SellerIndependent, Name: "Quick Flip Shirts", Country: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	l, err := m.Catalog.CreateListing(ctx, seller.ID, catalog.NewListing{Title: "Tee, like new", Price: money.New(1500, "EUR"),
		Stock: 2, Territories: []string{"FR"}, ImageIDs: []int64{img.ID}})
	if err != nil {
		t.Fatal(err)
	}
	l = waitListing(t, m, l.ID, catalog.StatusBlocked)
	t.Logf("blocked %v after it was listed: %s", time.Since(started).Round(time.Millisecond), l.StatusReason)
	if !strings.Contains(l.StatusReason, "official product") {
		t.Errorf("status reason %q", l.StatusReason)
	}
	sc, err := m.Catalog.Screening(ctx, l.ID)
	if err != nil || sc == nil || sc.Verdict != detection.VerdictBlock || len(sc.Reasons) == 0 ||
		sc.Reasons[0].Rule != detection.RuleOfficialPhotoUnlicensedSeller || len(sc.Matches) == 0 || sc.Matches[0].ImageID != official {
		t.Fatalf("screening shown = %+v, %v (want a match naming the official picture %d, not the listing's %d)", sc, err, official, img.ID)
	}
}

func waitListing(t *testing.T, m *Main, id int64, want catalog.ListingStatus) catalog.Listing {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		l, err := m.Catalog.Listing(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if l.Status == want {
			return l
		}
		if time.Now().After(deadline) {
			scs, _ := m.Detection.Screenings(context.Background(), id)
			t.Fatalf("listing %d is %s (%s), want %s; screenings %+v", id, l.Status, l.StatusReason, want, scs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
