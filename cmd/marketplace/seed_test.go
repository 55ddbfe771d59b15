package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"marketplace/catalog"
)

// seedCounts counts the rows the demo seed writes, table by table.
func seedCounts(t *testing.T, m *Main) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, table := range []string{"licensees", "licences", "users", "sellers", "reseller_authorisations", "products",
		"product_texts", "variants", "variant_prices", "product_images", "images", "listings", "listing_images", "imports"} {
		var n int
		if err := m.DB.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

func TestSeedTwiceChangesNothing(t *testing.T) {
	m := startMain(t) // seeds once (the small demo catalogue)
	ctx := context.Background()
	first := seedCounts(t, m)
	started := time.Now()
	if err := m.Seed(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Logf("second seed: %s; %v", time.Since(started).Round(time.Millisecond), first)
	second := seedCounts(t, m)
	for table, n := range first {
		if second[table] != n {
			t.Errorf("%s: %d rows after the first seed, %d after the second", table, n, second[table])
		}
	}
	if first["products"] < 7 || first["images"] < first["products"] {
		t.Errorf("the small demo catalogue has %d products and %d pictures", first["products"], first["images"])
	}
}

func TestSeedSellersAndFakes(t *testing.T) {
	m := startMain(t)
	ctx := context.Background()
	u, err := m.Auth.UserByEmail(ctx, "seller@demo.olympics.test")
	if err != nil || u.SellerID == 0 {
		t.Fatalf("seller@: %+v, %v", u, err)
	}
	own, err := m.Catalog.Listings(ctx, catalog.ListingFilter{SellerID: u.SellerID, WithImages: true})
	if err != nil || len(own) < 2 {
		t.Fatalf("seller@ has %d listings (%v)", len(own), err)
	}
	// The counterfeiters: one lists an official picture as it is, another a replica; the two
	// accounts are paid to one bank account.
	fake, err := m.Auth.UserByEmail(ctx, "megabargain@demo.olympics.test")
	if err != nil {
		t.Fatal(err)
	}
	fakes, err := m.Catalog.Listings(ctx, catalog.ListingFilter{SellerID: fake.SellerID, WithImages: true})
	if err != nil || len(fakes) != 3 {
		t.Fatalf("megabargain has %d listings (%v)", len(fakes), err)
	}
	official, err := m.Catalog.Products(ctx, catalog.ProductFilter{Property: "PARIS2024", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	officialImages := map[int64]bool{}
	for _, p := range official {
		for _, img := range p.Images {
			officialImages[img.ID] = true
		}
	}
	stolen := 0
	for _, l := range fakes {
		for _, img := range l.Images {
			if officialImages[img.ID] {
				stolen++
			}
		}
	}
	if stolen != 1 {
		t.Errorf("%d megabargain listings show an official picture as it is, want 1", stolen)
	}
	linked, err := m.Catalog.LinkedSellers(ctx, fake.SellerID)
	if err != nil {
		t.Fatal(err)
	}
	if len(linked) != 1 || linked[0].Name != "Replica Kings" {
		t.Errorf("megabargain's linked sellers: %+v", linked)
	}
	rk, err := m.Auth.UserByEmail(ctx, "replicakings@demo.olympics.test")
	if err != nil {
		t.Fatal(err)
	}
	replicas, err := m.Catalog.Listings(ctx, catalog.ListingFilter{SellerID: rk.SellerID})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range replicas {
		if strings.Contains(strings.ToLower(l.Title), "replica") {
			n++
		}
	}
	if n < 2 {
		t.Errorf("%d replica listings, want at least 2", n)
	}
	// The resellers are authorised.
	rs, err := m.Auth.UserByEmail(ctx, "reseller@demo.olympics.test")
	if err != nil {
		t.Fatal(err)
	}
	auths, err := m.Licensing.AuthorisationsOf(ctx, rs.SellerID)
	if err != nil || len(auths) != 1 {
		t.Fatalf("reseller@ authorisations: %+v, %v", auths, err)
	}

	// Screening (the workers run in startMain) keeps the copies of official pictures from
	// going live and lets the honest seller's own photos through.
	deadline := time.Now().Add(60 * time.Second)
	for {
		pending, err := m.Catalog.Listings(ctx, catalog.ListingFilter{Status: catalog.StatusPending})
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d listings still pending after a minute", len(pending))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if fakes, err = m.Catalog.Listings(ctx, catalog.ListingFilter{SellerID: fake.SellerID}); err != nil {
		t.Fatal(err)
	}
	for _, l := range fakes {
		if l.Status == catalog.StatusLive {
			t.Errorf("the copy %q went live: %s", l.Title, l.StatusReason)
		}
	}
	if own, err = m.Catalog.Listings(ctx, catalog.ListingFilter{SellerID: u.SellerID}); err != nil {
		t.Fatal(err)
	}
	for _, l := range own {
		if l.Status != catalog.StatusLive {
			t.Errorf("the honest listing %q is %s: %s", l.Title, l.Status, l.StatusReason)
		}
	}
}
