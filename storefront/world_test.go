package storefront

import (
	"context"
	"crypto/sha256"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/catalog"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// world is a storefront over the demo registry (licensing.Seed: licences that are active,
// expired, suspended, for various territories) with listings that a fan in France may or may
// not buy, each for a known reason.
type world struct {
	t        testing.TB
	pool     *pgxpool.Pool
	reg      *licensing.Service
	cat      *catalog.Service
	store    *Store
	seed     licensing.SeedResult
	image    int64
	listings map[string]catalog.Listing // by short name
}

// newWorld builds the world; opts may set the engine or the cache.
func newWorld(t testing.TB, opts Options) *world {
	t.Helper()
	pool := pgtest.New(t, Schemas()...)
	ctx := context.Background()
	reg := licensing.NewService(pool)
	seed, err := licensing.Seed(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.NewService(pool, reg)
	if err != nil {
		t.Fatal(err)
	}
	if opts.CacheTTL == 0 {
		opts.CacheTTL = -1 // tests see every change at once unless they test the cache
	}
	w := &world{t: t, pool: pool, reg: reg, cat: cat, seed: seed, listings: map[string]catalog.Listing{}}
	w.store = NewStore(pool, cat, opts)
	w.image = w.addImage("main")
	return w
}

// addImage stores an image row (the catalogue's images.go stores the bytes; search needs only
// the id).
func (w *world) addImage(name string) int64 {
	w.t.Helper()
	sum := sha256.Sum256([]byte(name))
	var id int64
	err := w.pool.QueryRow(context.Background(), `INSERT INTO images (sha256, blob_key, content_type, width, height, bytes)
		VALUES ($1, $2, 'image/jpeg', 800, 800, 1000) RETURNING id`, sum[:], name).Scan(&id)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// licenseeSeller is the seller account of a seeded licensee.
func (w *world) licenseeSeller(name string) catalog.Seller {
	w.t.Helper()
	s, err := w.cat.LicenseeSeller(context.Background(), w.seed.LicenseeID(name))
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// list creates a listing for seller and, unless status is pending, sets it.
func (w *world) list(key string, sellerID int64, n catalog.NewListing, status catalog.ListingStatus) catalog.Listing {
	w.t.Helper()
	ctx := context.Background()
	if len(n.ImageIDs) == 0 {
		n.ImageIDs = []int64{w.image}
	}
	if n.Stock == 0 {
		n.Stock = 5
	}
	l, err := w.cat.CreateListing(ctx, sellerID, n)
	if err != nil {
		w.t.Fatalf("listing %s: %v", key, err)
	}
	if status != catalog.StatusPending {
		w.setStatus(l.ID, status)
	}
	l, err = w.cat.Listing(ctx, l.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	w.listings[key] = l
	return l
}

func (w *world) setStatus(id int64, status catalog.ListingStatus) {
	w.t.Helper()
	ctx := context.Background()
	err := postgres.Tx(ctx, w.pool, func(tx pgx.Tx) error { return w.cat.SetListingStatus(ctx, tx, id, status, "test") })
	if err != nil {
		w.t.Fatal(err)
	}
}

// sync applies the outbox to the search engine.
func (w *world) sync() {
	w.t.Helper()
	if _, err := w.store.SyncOnce(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// product inserts an official product with one variant (SKU, GTIN) for a licensee; the
// catalogue's importer does this for real, the test only needs a SKU to claim.
func (w *world) product(licensee, sku, gtin, property, category string) {
	w.t.Helper()
	ctx := context.Background()
	id := w.seed.LicenseeID(licensee)
	var pid int64
	err := w.pool.QueryRow(ctx, `INSERT INTO products (licensee_id, slug, property, category, territories)
		VALUES ($1, lower($2), $3, $4, '{FR}') RETURNING id`, id, sku, property, category).Scan(&pid)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.pool.Exec(ctx, `INSERT INTO variants (product_id, licensee_id, sku, gtin, stock) VALUES ($1, $2, $3, $4, 10)`,
		pid, id, sku, gtin); err != nil {
		w.t.Fatal(err)
	}
}

// standard fills the world with the listings most tests use. In France (EUR) a fan may buy:
// tee, cap, tee-zh, claimed (Maison Bleue, PARIS2024 apparel/headwear, FR), jacket (Alpina,
// MILANOCORTINA2026, FR) and ringpin (Rings & Pins, OLYMPIC pins, WORLD). Not: expiredpin
// (licence expired 2025-12-31), plush (licence suspended), hoodie (LA28, ships to US/CA only),
// fake (independent seller, no licence), pending (not screened).
func (w *world) standard() {
	w.t.Helper()
	mb := w.licenseeSeller("Maison Bleue Textiles")
	w.list("tee", mb.ID, catalog.NewListing{Title: "Paris 2024 T-shirt Phryge mascot", Description: "Organic cotton tee with the Phryge mascot.",
		Price: money.New(2500, "EUR"), Territories: []string{"FR", "BE"}, Property: "PARIS2024", Category: "apparel"}, catalog.StatusLive)
	w.list("cap", mb.ID, catalog.NewListing{Title: "Casquette brodée Paris 2024", Description: "Casquette en coton, logo brodé.",
		Price: money.New(3200, "EUR"), Territories: []string{"FR"}, Property: "PARIS2024", Category: "headwear"}, catalog.StatusLive)
	w.list("tee-zh", mb.ID, catalog.NewListing{Title: "巴黎奥运会T恤", Description: "纯棉T恤，吉祥物图案。",
		Price: money.New(2900, "EUR"), Territories: []string{"FR"}, Property: "PARIS2024", Category: "apparel"}, catalog.StatusLive)
	w.product("Maison Bleue Textiles", "MB-PAR24-TEE-001", "3760123456781", "PARIS2024", "apparel")
	w.list("claimed", mb.ID, catalog.NewListing{Title: "Striped sailor top", Description: "Breton stripes.",
		Price: money.New(5500, "EUR"), Territories: []string{"FR"}, ProductSKU: "MB-PAR24-TEE-001"}, catalog.StatusLive)
	alpina := w.licenseeSeller("Alpina Sportswear S.p.A.")
	w.list("jacket", alpina.ID, catalog.NewListing{Title: "Milano Cortina ski jacket", Description: "Warm padded jacket for the winter games.",
		Price: money.New(18000, "EUR"), Territories: []string{"FR", "IT", "DE"}, Property: "MILANOCORTINA2026", Category: "apparel"}, catalog.StatusLive)
	rp := w.licenseeSeller("Rings & Pins Ltd")
	w.list("ringpin", rp.ID, catalog.NewListing{Title: "Olympic rings enamel pin", Description: "Five rings, hard enamel.",
		Price: money.New(900, "GBP"), Territories: []string{"WORLD"}, Property: "OLYMPIC", Category: "pins"}, catalog.StatusLive)
	at := w.licenseeSeller("Atelier Tricolore")
	w.list("expiredpin", at.ID, catalog.NewListing{Title: "Paris 2024 enamel pin tower", Description: "Eiffel tower pin.",
		Price: money.New(800, "EUR"), Territories: []string{"WORLD"}, Property: "PARIS2024", Category: "pins"}, catalog.StatusLive)
	dolo := w.licenseeSeller("Dolomiti Souvenir")
	w.list("plush", dolo.ID, catalog.NewListing{Title: "Tina mascot plush", Description: "Soft toy.",
		Price: money.New(2000, "EUR"), Territories: []string{"FR", "IT"}, Property: "MILANOCORTINA2026", Category: "toys"}, catalog.StatusLive)
	pc := w.licenseeSeller("Pacific Coast Apparel Inc.")
	w.list("hoodie", pc.ID, catalog.NewListing{Title: "LA28 hoodie", Description: "Fleece hoodie.",
		Price: money.New(6000, "USD"), Territories: []string{"US", "CA"}, Property: "LA28", Category: "apparel"}, catalog.StatusLive)
	indie, err := w.cat.CreateSeller(context.Background(), catalog.NewSeller{Kind: catalog.SellerIndependent, Name: "Bargain Bazaar", Country: "FR"})
	if err != nil {
		w.t.Fatal(err)
	}
	w.list("fake", indie.ID, catalog.NewListing{Title: "Paris 2024 T-shirt mascot cheap", Description: "Same as official.",
		Price: money.New(900, "EUR"), Territories: []string{"FR"}, Property: "PARIS2024", Category: "apparel"}, catalog.StatusLive)
	w.list("pending", mb.ID, catalog.NewListing{Title: "Paris 2024 hoodie preview", Description: "Not screened yet.",
		Price: money.New(6500, "EUR"), Territories: []string{"FR"}, Property: "PARIS2024", Category: "apparel"}, catalog.StatusPending)
	w.sync()
}

var (
	marketFR = web.Market{Country: "FR", Currency: "EUR"}
	marketJP = web.Market{Country: "JP", Currency: "JPY"}
	marketUS = web.Market{Country: "US", Currency: "USD"}
)

// search runs a query given as URL parameters in market m.
func (w *world) search(m web.Market, params string) (SearchResult, error) {
	w.t.Helper()
	v, err := url.ParseQuery(params)
	if err != nil {
		w.t.Fatal(err)
	}
	q, err := ParseSearch(v, m, []string{"PARIS2024", "MILANOCORTINA2026", "LA28", "OLYMPIC"})
	if err != nil {
		return SearchResult{}, err
	}
	return w.store.Search(context.Background(), q)
}

// mustSearch is search for the queries that must run: it fails the test when one does not.
func (w *world) mustSearch(t testing.TB, m web.Market, params string) SearchResult {
	t.Helper()
	r, err := w.search(m, params)
	if err != nil {
		t.Fatalf("search %q in %s: %v", params, m.Country, err)
	}
	return r
}

// keys names the hits by their world key, in order.
func (w *world) keys(r SearchResult) []string {
	byID := map[int64]string{}
	for k, l := range w.listings {
		byID[l.ID] = k
	}
	out := []string{}
	for _, h := range r.Hits {
		out = append(out, byID[h.ListingID])
	}
	return out
}
