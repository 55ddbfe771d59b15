package storefront

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"marketplace/catalog"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/web"
)

func sameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// TestSearchShowsOnlyWhatTheFansCountryMayBuy proves the country filter: live, shipped there,
// and licensed there today.
func TestSearchShowsOnlyWhatTheFansCountryMayBuy(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	w.standard()
	for _, tc := range []struct {
		name string
		m    web.Market
		want []string
	}{
		{"France", marketFR, []string{"tee", "cap", "tee-zh", "claimed", "jacket", "ringpin"}},
		{"UnitedStates", marketUS, []string{"hoodie", "ringpin"}},
		{"JapanHasNoLicenceHere", marketJP, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := w.search(tc.m, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := w.keys(r); !sameSet(got, tc.want) || r.Total != len(tc.want) {
				t.Fatalf("got %v (total %d), want %v", got, r.Total, tc.want)
			}
		})
	}
	t.Run("ASuspendedLicenceHidesItsListingsAtOnce", func(t *testing.T) {
		if _, err := w.reg.SetLicenceStatus(context.Background(), nil, "PAR24-APP-0001", "suspended", "audit"); err != nil {
			t.Fatal(err)
		}
		defer w.reg.SetLicenceStatus(context.Background(), nil, "PAR24-APP-0001", "active", "") //nolint:errcheck
		r, err := w.search(marketFR, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := w.keys(r); !sameSet(got, []string{"jacket", "ringpin"}) {
			t.Fatalf("got %v", got)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestSearchText proves words, typos, phrases, CJK, SKU and GTIN search.
func TestSearchText(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	w.standard()
	for _, tc := range []struct {
		name, params string
		want         []string // in order when ordered
		ordered      bool
	}{
		{"Word", "q=jacket", []string{"jacket"}, false},
		{"Prefix", "q=jack", []string{"jacket"}, false},
		{"AccentsFold", "q=brodee", []string{"cap"}, false},
		{"TypoMascot", "q=mascott", []string{"tee"}, false},
		{"TypoJacket", "q=jaket", []string{"jacket"}, false},
		{"HyphenatedWord", "q=t-shirt", []string{"tee"}, false},
		{"CategoryInFrench", "q=vêtements", []string{"tee", "tee-zh", "claimed", "jacket"}, false},
		{"Phrase", `q="ski jacket"`, []string{"jacket"}, false},
		{"PhraseInOtherOrderFindsNothing", `q="jacket ski"`, []string{}, false},
		{"UnclosedQuote", `q="ski jack`, []string{}, false},
		{"Chinese", "q=奥运", []string{"tee-zh"}, false},
		{"ChineseWithLatin", "q=T恤", []string{"tee-zh"}, false},
		{"ChineseCategory", "q=服装", []string{"tee", "tee-zh", "claimed", "jacket"}, false},
		{"SKU", "q=mb-par24-tee-001", []string{"claimed"}, false},
		{"GTINIsNotIndexedForClaims", "q=3760123456781", []string{}, false},
		{"PercentIsNoWildcard", "q=%25", []string{}, false},
		{"PercentInAWord", "q=100%25+cotton", []string{}, false},
		{"SQLIsText", "q=%27+OR+1%3D1+--", []string{}, false},
		{"TsqueryOperatorsAreText", "q=jacket+%26+%21%7C%3A*()", []string{"jacket"}, false},
		{"Backslash", `q=\\jacket\\`, []string{"jacket"}, false},
		{"NotSoldHereIsNotFound", "q=hoodie", []string{}, false},
		{"ExpiredLicenceIsNotFound", "q=tower", []string{}, false},
		{"PriceAscending", "sort=price_asc&property=PARIS2024", []string{"tee", "tee-zh", "cap", "claimed"}, true},
		{"PriceDescending", "sort=price_desc&category=apparel", []string{"jacket", "claimed", "tee-zh", "tee"}, true},
		{"PriceBand", "price=1&property=PARIS2024", []string{"tee", "tee-zh", "cap"}, false},
		{"Licensee", "licensee=" + itoa(w.seed.LicenseeID("Alpina Sportswear S.p.A.")), []string{"jacket"}, false},
		{"UnknownLicenseeIsEmpty", "licensee=999999", []string{}, false},
		{"VeryLongButAllowed", "q=" + strings.Repeat("jacket ", 28), []string{"jacket"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := w.search(marketFR, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			got := w.keys(r)
			if tc.ordered && !slices.Equal(got, tc.want) || !tc.ordered && !sameSet(got, tc.want) {
				t.Fatalf("%s: got %v, want %v", tc.params, got, tc.want)
			}
		})
	}
	t.Run("NewestFirstWhenBrowsing", func(t *testing.T) {
		r, err := w.search(marketFR, "property=PARIS2024")
		if err != nil {
			t.Fatal(err)
		}
		if got := w.keys(r); !slices.Equal(got, []string{"claimed", "tee-zh", "cap", "tee"}) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("RelevanceRanksTheSKUFirst", func(t *testing.T) {
		r, err := w.search(marketFR, "q=MB-PAR24-TEE-001")
		if err != nil || len(r.Hits) == 0 || w.keys(r)[0] != "claimed" {
			t.Fatalf("got %v, %v", w.keys(r), err)
		}
	})
}

// TestSearchRefusesBadParametersNamingTheField covers the bad input a URL can carry.
func TestSearchRefusesBadParametersNamingTheField(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	for params, field := range map[string]string{
		"q=" + strings.Repeat("a", MaxQueryRunes+1): "q",
		"q=%ff%fe":                "q",
		"property=ATLANTIS1896":   "property",
		"category=weapons":        "category",
		"sort=cheapest":           "sort",
		"price=9":                 "price",
		"price=-1":                "price",
		"licensee=abc":            "licensee",
		"page=0":                  "page",
		"page=100000000000000000": "page",
	} {
		_, err := w.search(marketFR, params)
		e, ok := fault.As(err)
		if !ok || e.Code != fault.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != field {
			t.Errorf("%s: want an Invalid error naming %q, got %v", params, field, err)
		}
	}
}

// TestSearchFacetsCountEveryMatch checks the counts by property, category, licensee and band.
func TestSearchFacetsCountEveryMatch(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	w.standard()
	r, err := w.search(marketFR, "")
	if err != nil {
		t.Fatal(err)
	}
	counts := func(fs []FacetCount) map[string]int {
		m := map[string]int{}
		for _, f := range fs {
			m[f.Value] = f.Count
		}
		return m
	}
	if got := counts(r.Facets.Property); got["PARIS2024"] != 4 || got["MILANOCORTINA2026"] != 1 || got["OLYMPIC"] != 1 || len(got) != 3 {
		t.Errorf("property facet %v", got)
	}
	if got := counts(r.Facets.Category); got["apparel"] != 4 || got["headwear"] != 1 || got["pins"] != 1 {
		t.Errorf("category facet %v", got)
	}
	if got := counts(r.Facets.Licensee); got[itoa(w.seed.LicenseeID("Maison Bleue Textiles"))] != 4 || len(got) != 3 {
		t.Errorf("licensee facet %v", got)
	}
	// EUR bands: under 25 € (ringpin is 9 GBP: its own currency's band 0), 25-50 (tee, tee-zh,
	// cap), 50-100 (claimed), 100+ (jacket).
	if got := counts(r.Facets.Band); got["0"] != 1 || got["1"] != 3 || got["2"] != 1 || got["3"] != 1 {
		t.Errorf("band facet %v", got)
	}
	if r.Facets.Property[0].Value != "PARIS2024" {
		t.Errorf("facets are not ordered by count: %v", r.Facets.Property)
	}
}

// TestFollowerAppliesTheOutbox proves the index follows the catalogue: a listing going live is
// found, taken down is gone, and a reindex rebuilds what was lost.
func TestFollowerAppliesTheOutbox(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	ctx := context.Background()
	mb := w.licenseeSeller("Maison Bleue Textiles")
	l := w.list("scarf", mb.ID, catalog.NewListing{Title: "Paris 2024 scarf", Price: money.New(3000, "EUR"),
		Territories: []string{"FR"}, Property: "PARIS2024", Category: "apparel"}, catalog.StatusPending)
	w.sync()
	if r := w.mustSearch(t, marketFR, "q=scarf"); r.Total != 0 {
		t.Fatal("a pending listing is searchable")
	}
	w.setStatus(l.ID, catalog.StatusLive)
	w.sync()
	if r := w.mustSearch(t, marketFR, "q=scarf"); r.Total != 1 {
		t.Fatal("a live listing is not searchable after sync")
	}
	pos, err := w.store.FollowerPosition(ctx)
	if err != nil || pos == 0 {
		t.Fatalf("position %d, %v", pos, err)
	}
	w.setStatus(l.ID, catalog.StatusRemoved)
	// A crash before the batch's transaction commits leaves its changes in the outbox (they
	// are consumed in that transaction): the engine failing mid-batch is
	// TestMeiliEngineUnreachableLeavesTheFollowerWhereItWas; here the next run applies the removal.
	w.sync()
	if r := w.mustSearch(t, marketFR, "q=scarf"); r.Total != 0 {
		t.Fatal("a removed listing is still searchable after the sync")
	}
	var docs int
	if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM search_documents`).Scan(&docs); err != nil || docs != 0 {
		t.Fatalf("%d documents, %v", docs, err)
	}
	t.Run("Reindex", func(t *testing.T) {
		w.standard()
		if _, err := w.pool.Exec(ctx, `TRUNCATE search_documents`); err != nil {
			t.Fatal(err)
		}
		n, err := w.store.Reindex(ctx)
		if err != nil || n != 10 { // every live listing with a property, whatever its licence
			t.Fatalf("reindexed %d, %v", n, err)
		}
		if r := w.mustSearch(t, marketFR, ""); r.Total != 6 {
			t.Fatalf("after reindex: %d results", r.Total)
		}
		if applied, err := w.store.SyncOnce(ctx); err != nil || applied != 0 {
			t.Fatalf("after reindex the follower applied %d changes, %v", applied, err)
		}
	})
}

// TestFollowerWakesOnNotify proves a running follower applies a change when NOTIFY arrives,
// long before its next poll.
func TestFollowerWakesOnNotify(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{PollInterval: time.Hour})
	if err := w.store.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer w.store.Close()
	time.Sleep(200 * time.Millisecond) // let it LISTEN
	mb := w.licenseeSeller("Maison Bleue Textiles")
	w.list("towel", mb.ID, catalog.NewListing{Title: "Paris 2024 beach towel", Price: money.New(3000, "EUR"),
		Territories: []string{"FR"}, Property: "PARIS2024", Category: "apparel"}, catalog.StatusLive)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r := w.mustSearch(t, marketFR, "q=towel"); r.Total == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the follower did not apply the change within 10 s of its NOTIFY")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestFoldTerms pins the folding both engines' documents share.
func TestFoldTerms(t *testing.T) {
	for in, want := range map[string]string{
		"Casquette Brodée": "casquette brodee",
		"T-Shirt 100%":     "t shirt 100",
		"巴黎奥运会T恤":          "巴黎 黎奥 奥运 运会 t 恤 巴 黎 黎 奥 奥 运 运 会",
		"' OR 1=1 --":      "or 1 1",
		"Ｆｕｌｌ　ｗｉｄｔｈ":       "full width",
	} {
		if got := foldText(in); got != want {
			t.Errorf("foldText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPriceBands(t *testing.T) {
	for _, tc := range []struct {
		m    money.Money
		want int
	}{{money.New(2499, "EUR"), 0}, {money.New(2500, "EUR"), 1}, {money.New(10000, "EUR"), 3}, {money.New(3999, "JPY"), 0}, {money.New(9000, "JPY"), 2}} {
		if got := PriceBand(tc.m); got != tc.want {
			t.Errorf("PriceBand(%v) = %d, want %d", tc.m, got, tc.want)
		}
	}
}

// TestSearchServesAStaleAnswerWhileItRefreshes proves the cache's expiry costs no fan a wait:
// an answer past its TTL is served once more while one refresh runs, then the new one shows.
func TestSearchServesAStaleAnswerWhileItRefreshes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{CacheTTL: 2 * time.Second})
	w.standard()
	if r, err := w.search(marketFR, "q=jacket"); err != nil || r.Total != 1 {
		t.Fatalf("%d, %v", r.Total, err)
	}
	alpina := w.licenseeSeller("Alpina Sportswear S.p.A.")
	w.list("jacket2", alpina.ID, catalog.NewListing{Title: "Cortina down jacket", Price: money.New(20000, "EUR"),
		Territories: []string{"FR"}, Property: "MILANOCORTINA2026", Category: "apparel"}, catalog.StatusLive)
	w.sync()
	if r := w.mustSearch(t, marketFR, "q=jacket"); r.Total != 1 {
		t.Fatalf("a fresh answer was not reused: %d", r.Total)
	}
	time.Sleep(2300 * time.Millisecond)
	if r := w.mustSearch(t, marketFR, "q=jacket"); r.Total != 1 {
		t.Fatalf("the stale answer was not served while refreshing: %d", r.Total)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if r := w.mustSearch(t, marketFR, "q=jacket"); r.Total == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the refresh never replaced the stale answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFacetCountsStayExact holds search_facet_counts, which a browse without words reads its
// facets and total from, to a recount of the documents after every kind of change: a price
// moving band, new territories, a removal, the same batch applied twice, a slug passing to
// another listing, and several transactions applying overlapping batches at once.
func TestFacetCountsStayExact(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	w.standard()
	ctx := context.Background()
	check := func(step string) {
		t.Helper()
		var wrong int
		err := w.pool.QueryRow(ctx, `SELECT count(*) FROM (
			(SELECT group_id, territories, property, category, licensee_id, bands, count(*)::int AS n FROM search_documents
				GROUP BY 1, 2, 3, 4, 5, 6
			 EXCEPT SELECT group_id, territories, property, category, licensee_id, bands, n FROM search_facet_counts)
			UNION ALL
			(SELECT group_id, territories, property, category, licensee_id, bands, n FROM search_facet_counts
			 EXCEPT SELECT group_id, territories, property, category, licensee_id, bands, count(*)::int FROM search_documents
				GROUP BY 1, 2, 3, 4, 5, 6)) x`).Scan(&wrong)
		if err != nil {
			t.Fatal(err)
		}
		if wrong != 0 {
			t.Fatalf("%s: %d facet count rows differ from a recount of the documents", step, wrong)
		}
	}
	check("after the follower")
	var docs []Document
	sellers := map[int64]catalog.Seller{}
	for _, l := range w.listings {
		l, err := w.cat.Listing(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d, ok, err := w.store.document(ctx, l, sellers); err != nil {
			t.Fatal(err)
		} else if ok {
			docs = append(docs, d)
		}
	}
	if len(docs) < 4 {
		t.Fatalf("only %d documents", len(docs))
	}
	e := NewPostgresEngine(w.pool)
	apply := func(step string, docs []Document, gone []int64) {
		t.Helper()
		if err := e.Apply(ctx, docs, gone); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		check(step)
	}
	dearer := docs[0]
	dearer.Bands = map[string]int{"EUR": 3, "USD": 3}
	apply("a price moving band", []Document{dearer}, nil)
	apply("the same batch twice", []Document{dearer}, nil)
	wider := docs[1]
	wider.Territories = append(slices.Clone(wider.Territories), "WORLD")
	apply("new territories", []Document{wider}, nil)
	apply("a removal", nil, []int64{docs[2].ListingID})
	taken := docs[3]
	taken.ListingID = 1 << 40 // a new listing given the slug of a deleted one
	apply("a slug passing to another listing", []Document{taken}, nil)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			batch := slices.Clone(docs)
			if i%2 == 1 {
				slices.Reverse(batch)
			}
			errs <- e.Apply(ctx, batch[i%3:], []int64{docs[i%len(docs)].ListingID})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !strings.Contains(err.Error(), "deadlock") {
			t.Fatal(err)
		}
	}
	check("overlapping batches at once")
	if err := e.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	check("reset")
}

// TestEveryMarketCurrencyHasAPriceIndex keeps migration 002's price indexes in step with the
// market currencies: a currency without one would sort a browse by price by reading every
// document.
func TestEveryMarketCurrencyHasAPriceIndex(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	for _, cur := range Currencies {
		var n int
		err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_indexes WHERE tablename = 'search_documents'
			AND indexdef LIKE '%' || $1 || '%'`, "(prices -> '"+cur+"'::text)").Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s: %d price indexes on search_documents, want 1", cur, n)
		}
	}
}
