package catalog

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
	"marketplace/licensing"
)

// newTestService returns a catalogue on a fresh database, with an independent seller and one
// stored image.
func newTestService(t *testing.T) (*Service, *pgxpool.Pool, Seller, int64) {
	t.Helper()
	pool := pgtest.New(t, Schemas()...)
	svc, err := NewService(pool, licensing.NewService(pool))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	seller, err := svc.CreateSeller(ctx, NewSeller{Kind: SellerIndependent, Name: "Corner Shop", Country: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	var img int64
	err = pool.QueryRow(ctx, `INSERT INTO images (sha256, blob_key, content_type, width, height, bytes)
		VALUES (decode(repeat('ab', 32), 'hex'), 'x', 'image/jpeg', 10, 10, 100) RETURNING id`).Scan(&img)
	if err != nil {
		t.Fatal(err)
	}
	return svc, pool, seller, img
}

func TestCreateListingIsPendingWithItsScreeningJob(t *testing.T) {
	svc, pool, seller, img := newTestService(t)
	ctx := context.Background()
	l, err := svc.CreateListing(ctx, seller.ID, NewListing{Title: "Mascot plush", Price: money.New(1500, "eur"),
		Stock: 3, Territories: []string{"fr", "DE"}, ImageIDs: []int64{img}})
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != StatusPending || l.Price.Currency != "EUR" || len(l.Images) != 1 || l.ShipsFrom != "FR" {
		t.Fatalf("listing = %+v", l)
	}
	var jobs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'screen_listing' AND args->>'listing_id' = $1`,
		itoa(l.ID)).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("screening jobs = %d, %v", jobs, err)
	}
	changes, err := svc.ChangesSince(ctx, 0, 10)
	if err != nil || len(changes) != 1 || changes[0].ListingID != l.ID {
		t.Fatalf("changes = %v, %v", changes, err)
	}
	err = postgres.Tx(ctx, pool, func(tx pgx.Tx) error { return svc.SetListingStatus(ctx, tx, l.ID, StatusLive, "screened") })
	if err != nil {
		t.Fatal(err)
	}
	if l, _ = svc.Listing(ctx, l.ID); l.Status != StatusLive {
		t.Fatalf("status = %s", l.Status)
	}
	if changes, _ = svc.ChangesSince(ctx, changes[0].ID, 10); len(changes) != 1 {
		t.Fatalf("changes after status = %v", changes)
	}
}

func TestCreateListingRefusesBadInputAndWritesNothing(t *testing.T) {
	svc, pool, seller, img := newTestService(t)
	ctx := context.Background()
	_, err := svc.CreateListing(ctx, seller.ID, NewListing{Title: "", Price: money.New(-5, "XXY"),
		Territories: []string{"ZZ"}, ProductSKU: "NOPE-1", ImageIDs: []int64{img}})
	e, ok := fault.As(err)
	if !ok || e.Code != fault.Invalid {
		t.Fatalf("err = %v", err)
	}
	fields := map[string]bool{}
	for _, f := range e.Fields {
		fields[f.Field] = true
	}
	for _, f := range []string{"title", "currency", "price_amount", "territories", "product_sku"} {
		if !fields[f] {
			t.Errorf("no error for %s in %v", f, e.Fields)
		}
	}
	var n int
	_ = pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM listings) + (SELECT count(*) FROM river_job)`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows written", n)
	}
}
