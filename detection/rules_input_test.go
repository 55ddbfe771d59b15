package detection

import (
	"context"
	"slices"
	"strings"
	"testing"

	"marketplace/catalog"
	"marketplace/internal/money"
)

// TestJudgeWithRules judges real evidence (the pipeline's gather over a real catalogue,
// registry and reference set) with the configured rules.
func TestJudgeWithRules(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	rules := NewRuleStore(w.pool, w.lic)

	official := w.images.put(t, jpegOf(t, synthPhoto(7, 480, 360)))
	productID := w.product("maison-bleue-paris-tee", official)
	if _, err := w.pool.Exec(ctx, `INSERT INTO product_texts (product_id, lang, title) VALUES ($1, 'en', 'Paris 2024 blue tee')`, productID); err != nil {
		t.Fatal(err)
	}
	var variant int64
	if err := w.pool.QueryRow(ctx, `INSERT INTO variants (product_id, licensee_id, sku) VALUES ($1, $2, 'MB-TEE-1') RETURNING id`, productID, w.licensee).Scan(&variant); err != nil {
		t.Fatal(err)
	}
	if _, err := w.pool.Exec(ctx, `INSERT INTO variant_prices (variant_id, currency, amount) VALUES ($1, 'EUR', 3900)`, variant); err != nil {
		t.Fatal(err)
	}
	if changed, err := w.svc.UpdateProductReferences(ctx, productID); err != nil || !changed {
		t.Fatalf("references: %v %v", changed, err)
	}

	judge := func(t *testing.T, l catalog.Listing) Judgement {
		t.Helper()
		l, err := w.cat.Listing(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := w.svc.gather(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		j, err := w.svc.JudgeWithRules(ctx, ev, rules)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	rulesOf := func(j Judgement) []string {
		var ids []string
		for _, r := range j.Reasons {
			ids = append(ids, r.Rule)
		}
		return ids
	}

	t.Run("UnlicensedSellerCopyingTheOfficialPhoto", func(t *testing.T) {
		copyPhoto := w.images.put(t, encodeJPEG(t, synthPhoto(7, 480, 360), 70))
		s := w.seller("Cheap Tees")
		l, err := w.cat.CreateListing(ctx, s.ID, catalog.NewListing{Title: "P4ris 2024 tee, 1:1 replica", Category: "apparel",
			Price: money.New(900, "EUR"), Stock: 5, Territories: []string{"FR", "DE"}, ImageIDs: []int64{copyPhoto}})
		if err != nil {
			t.Fatal(err)
		}
		j := judge(t, l)
		got := rulesOf(j)
		for _, want := range []string{RuleOfficialPhotoUnlicensedSeller, RuleMarksWithoutLicence, RulePriceTooLow, RuleCounterfeitWords} {
			if !slices.Contains(got, want) {
				t.Fatalf("rules %v lack %s; reasons %+v", got, want, j.Reasons)
			}
		}
		if j.Verdict != VerdictBlock || j.Score != 100 || j.RulesVersion != 0 {
			t.Fatalf("judgement %+v", j)
		}
		detail := j.Reasons[slices.Index(got, RuleOfficialPhotoUnlicensedSeller)].Detail
		if !strings.Contains(detail, `"Paris 2024 blue tee"`) || !strings.Contains(detail, `"Maison Bleue Textiles"`) || !strings.Contains(detail, "for FR, DE") {
			t.Fatalf("detail %q", detail)
		}
		price := j.Reasons[slices.Index(got, RulePriceTooLow)].Detail
		if !strings.Contains(price, "23%") {
			t.Fatalf("price detail %q", price)
		}
	})

	t.Run("TheLicenseeItselfGoesLive", func(t *testing.T) {
		seller, err := w.cat.LicenseeSeller(ctx, w.licensee)
		if err != nil {
			t.Fatal(err)
		}
		own := w.images.put(t, encodeJPEG(t, synthPhoto(7, 480, 360), 60))
		l, err := w.cat.CreateListing(ctx, seller.ID, catalog.NewListing{Title: "Paris 2024 blue tee", Category: "apparel",
			Price: money.New(3900, "EUR"), Stock: 5, Territories: []string{"FR"}, ImageIDs: []int64{own}})
		if err != nil {
			t.Fatal(err)
		}
		if j := judge(t, l); j.Verdict != VerdictAllow || len(j.Reasons) != 0 {
			t.Fatalf("licensee's own listing: %+v", j)
		}
	})

	t.Run("YoungSellerListingManyMarkedItems", func(t *testing.T) {
		s := w.seller("Fresh Account")
		var last catalog.Listing
		for i := range 5 {
			img := w.images.put(t, jpegOf(t, synthPhoto(uint64(100+i), 320, 240)))
			last = w.listing(s.ID, "Olympic souvenir scarf", img)
		}
		j := judge(t, last)
		if !slices.Contains(rulesOf(j), RuleNewSellerManyMarked) {
			t.Fatalf("rules %v; reasons %+v", rulesOf(j), j.Reasons)
		}
	})
}
