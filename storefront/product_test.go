package storefront

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"marketplace/catalog"
	"marketplace/internal/web"
)

// importProducts runs the catalogue's real import for a licensee and puts the official
// listings it made live (screening is detection's job; here it has said yes).
func (w *world) importProducts(licensee, csv string) []catalog.Listing {
	w.t.Helper()
	ctx := context.Background()
	imp, err := w.cat.Import(ctx, catalog.ImportRequest{LicenseeID: w.seed.LicenseeID(licensee), CSV: strings.NewReader(csv),
		Filename: "catalogue.csv", Size: int64(len(csv))})
	if err != nil || imp.Rejected > 0 {
		w.t.Fatalf("import: %+v, %v", imp, err)
	}
	seller := w.licenseeSeller(licensee)
	ls, err := w.cat.Listings(ctx, catalog.ListingFilter{SellerID: seller.ID, Status: catalog.StatusPending, Limit: 1000})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, l := range ls {
		w.setStatus(l.ID, catalog.StatusLive)
	}
	w.sync()
	return ls
}

// TestOfficialProductIsOfferedInTheFansCurrencyWithItsVariants imports a product with two
// sizes priced in EUR and JPY and checks the offer, search and page in France and Japan.
func TestOfficialProductIsOfferedInTheFansCurrencyWithItsVariants(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	ls := w.importProducts("Sakura Fan Goods K.K.",
		"sku,product,title_en,title_fr,description_en,property,category,currency,price_amount,price_EUR,territories,stock,gtin,size\n"+
			"SK-OLY-TEE-M,TEE,Olympic rings tee,T-shirt anneaux olympiques,Soft cotton,OLYMPIC,apparel,JPY,4200,26.00,JP;KR,3,4006381333931,M\n"+
			"SK-OLY-TEE-L,TEE,Olympic rings tee,T-shirt anneaux olympiques,Soft cotton,OLYMPIC,apparel,JPY,4500,28.00,JP;KR,0,,L\n")
	if len(ls) != 1 {
		t.Fatalf("%d official listings", len(ls))
	}
	l := ls[0]
	ctx := context.Background()
	t.Run("OfferInJapanInYen", func(t *testing.T) {
		o, err := w.store.Offer(ctx, l.ID, marketJP)
		if err != nil || !o.Buyable || o.Price.Currency != "JPY" || o.Price.Amount != 4200 || !o.InMarketCurrency || !o.InStock {
			t.Fatalf("offer %+v, %v", o, err)
		}
		if o.Licence == nil || o.Licence.Number != "OLY-APP-0002" || len(o.Variants) != 2 || o.Variants[1].Stock != 0 {
			t.Fatalf("licence %v, variants %+v", o.Licence, o.Variants)
		}
		if got := o.Title("fr"); got != "T-shirt anneaux olympiques" {
			t.Fatalf("French title %q", got)
		}
	})
	t.Run("NotShippedToFrance", func(t *testing.T) {
		o, err := w.store.Offer(ctx, l.ID, web.Market{Country: "FR", Currency: "EUR"})
		if err != nil || o.Buyable || o.Reason != ReasonNotShippedHere || o.Price.Amount != 2600 {
			t.Fatalf("offer %+v, %v", o, err)
		}
	})
	t.Run("SearchBySKUAndGTINInJapan", func(t *testing.T) {
		for _, q := range []string{"q=SK-OLY-TEE-L", "q=4006381333931", "q=anneaux", "q=rings"} {
			r, err := w.search(marketJP, q)
			if err != nil || r.Total != 1 || r.Hits[0].ListingID != l.ID || r.Hits[0].Price.Amount != 4200 {
				t.Fatalf("%s: %+v, %v", q, r, err)
			}
		}
		if r := w.mustSearch(t, marketFR, "q=SK-OLY-TEE-L"); r.Total != 0 {
			t.Fatal("found in France, where it is not sold")
		}
	})
	t.Run("PageShowsVariantsInYen", func(t *testing.T) {
		s := newSite(t, w)
		status, body := s.get("/products/"+l.Slug, "Accept-Language", "fr", "Cookie", web.MarketCookie+"=JP.JPY")
		for _, want := range []string{"T-shirt anneaux olympiques", "4\u00a0200\u00a0¥", `name="variant_id"`, "Épuisé", "OLY-APP-0002", "SK-OLY-TEE-M"} {
			if !strings.Contains(body, want) {
				t.Errorf("want %q on the page (status %d)", want, status)
			}
		}
		if status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	})
}

// TestAnExpiredListingIsServedWhileItRefreshes proves a product page past its TTL does not
// make a fan wait for the database: the listing kept is used once more while one refresh
// reads it behind the request, and the next requests see what the refresh read.
func TestAnExpiredListingIsServedWhileItRefreshes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{CacheTTL: 100 * time.Millisecond}) // listings kept 1.2 s
	w.standard()
	ctx := context.Background()
	tee := w.listings["tee"]
	before, err := w.store.OfferBySlug(ctx, tee.Slug, marketFR)
	if err != nil {
		t.Fatal(err)
	}
	// A change this process does not hear of (no follower runs here): only the TTL shows it.
	if _, err := w.pool.Exec(ctx, `UPDATE listings SET stock = stock + 5 WHERE id = $1`, tee.ID); err != nil {
		t.Fatal(err)
	}
	if o, err := w.store.OfferBySlug(ctx, tee.Slug, marketFR); err != nil || o.Listing.Stock != before.Listing.Stock {
		t.Fatalf("a fresh listing was not reused (%v)", err)
	}
	time.Sleep(1300 * time.Millisecond)
	if o, err := w.store.OfferBySlug(ctx, tee.Slug, marketFR); err != nil || o.Listing.Stock != before.Listing.Stock {
		t.Fatalf("the expired listing was read while the fan waited (stock %d, %v)", o.Listing.Stock, err)
	}
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		o, err := w.store.OfferBySlug(ctx, tee.Slug, marketFR)
		if err != nil {
			t.Fatal(err)
		}
		if o.Listing.Stock == before.Listing.Stock+5 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh never replaced the expired listing")
		}
	}
}
