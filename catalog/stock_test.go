package catalog

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
)

// TestReserveRace is 50 fans racing for the last 3 items, once for a listing's own stock and
// once for a variant's: exactly 3 reservations succeed, the others are told it is sold out,
// and the stock ends at zero, never below.
func TestReserveRace(t *testing.T) {
	svc, pool, seller, img := newTestService(t)
	ctx := context.Background()
	l, err := svc.CreateListing(ctx, seller.ID, NewListing{Title: "Last torch keyrings", Price: money.New(900, "EUR"),
		Stock: 3, Territories: []string{"FR"}, ImageIDs: []int64{img}})
	if err != nil {
		t.Fatal(err)
	}
	official, variant := officialListingWithVariant(t, svc, pool, 3)

	for _, tc := range []struct {
		name               string
		listing, variantID int64
	}{{"ListingStock", l.ID, 0}, {"VariantStock", official, variant}} {
		t.Run(tc.name, func(t *testing.T) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			won, soldOut := 0, 0
			start := make(chan struct{})
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error { return svc.Reserve(ctx, tx, tc.listing, tc.variantID, 1) })
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						won++
					case fault.Is(err, fault.Conflict):
						soldOut++
					default:
						t.Errorf("reserve: %v", err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if won != 3 || soldOut != 47 {
				t.Fatalf("won %d, sold out %d; want 3 and 47", won, soldOut)
			}
			if left, err := svc.stockIn(ctx, pool, tc.listing, tc.variantID); err != nil || left != 0 {
				t.Fatalf("stock left %d, %v", left, err)
			}
			// Released items can be bought again.
			if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error { return svc.Release(ctx, tx, tc.listing, tc.variantID, 2) }); err != nil {
				t.Fatal(err)
			}
			if left, err := svc.stockIn(ctx, pool, tc.listing, tc.variantID); err != nil || left != 2 {
				t.Fatalf("after release: %d left, %v", left, err)
			}
		})
	}

	t.Run("ErrConflictSaysHowManyAreLeft", func(t *testing.T) {
		err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error { return svc.Reserve(ctx, tx, l.ID, 0, 5) })
		if e, ok := fault.As(err); !ok || e.Code != fault.Conflict || e.Message != "only 2 left" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrInvalidQuantity", func(t *testing.T) {
		for _, q := range []int{0, -1} {
			err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error { return svc.Reserve(ctx, tx, l.ID, 0, q) })
			if !fault.Is(err, fault.Invalid) {
				t.Fatalf("qty %d: err = %v", q, err)
			}
		}
	})
	t.Run("ErrNotFoundForAnotherListingsVariant", func(t *testing.T) {
		err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error { return svc.Reserve(ctx, tx, l.ID, variant, 1) })
		if !fault.Is(err, fault.NotFound) {
			t.Fatalf("err = %v", err)
		}
		err = postgres.Tx(ctx, pool, func(tx pgx.Tx) error { return svc.Release(ctx, tx, 1<<40, 0, 1) })
		if !fault.Is(err, fault.NotFound) {
			t.Fatalf("release of an unknown listing: err = %v", err)
		}
	})
	t.Run("Sellable", func(t *testing.T) {
		it, err := svc.Sellable(ctx, official, variant)
		if err != nil || it.SKU != "MB-TEE-M" || it.Prices["EUR"] != 3500 || it.Prices["USD"] != 3900 || it.Stock != 2 {
			t.Fatalf("sellable = %+v, %v", it, err)
		}
		if _, err := svc.Sellable(ctx, official, 0); !fault.Is(err, fault.Invalid) {
			t.Fatalf("no variant chosen: err = %v", err)
		}
		if _, err := svc.Sellable(ctx, l.ID, variant); !fault.Is(err, fault.Invalid) {
			t.Fatalf("a variant of a listing without variants: err = %v", err)
		}
		it, err = svc.Sellable(ctx, l.ID, 0)
		if err != nil || it.Prices["EUR"] != 900 || len(it.Prices) != 1 {
			t.Fatalf("sellable = %+v, %v", it, err)
		}
	})
}

// officialListingWithVariant writes a licensee's product with one variant (stock, prices in EUR
// and USD) and its official listing straight into the tables, as the catalogue import does.
func officialListingWithVariant(t *testing.T, svc *Service, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, stock int) (listingID, variantID int64) {
	t.Helper()
	ctx := context.Background()
	var licensee, product int64
	err := pool.QueryRow(ctx, `INSERT INTO licensees (name, country, contact_email) VALUES ('Maison Bleue Textiles', 'FR', 'x@example.com') RETURNING id`).Scan(&licensee)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO properties (code, name) VALUES ('PARIS2024', 'Paris 2024') ON CONFLICT (code) DO UPDATE SET name = excluded.name RETURNING 0`).Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	err = pool.QueryRow(ctx, `INSERT INTO products (licensee_id, slug, property, category, territories) VALUES ($1, 'mb-tee', 'PARIS2024', 'apparel', '{FR}') RETURNING id`, licensee).Scan(&product)
	if err != nil {
		t.Fatal(err)
	}
	err = pool.QueryRow(ctx, `INSERT INTO variants (product_id, licensee_id, sku, size, stock) VALUES ($1, $2, 'MB-TEE-M', 'M', $3) RETURNING id`, product, licensee, stock).Scan(&variantID)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO variant_prices VALUES ($1, 'EUR', 3500), ($1, 'USD', 3900) RETURNING 0`, variantID).Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	seller, err := svc.LicenseeSeller(ctx, licensee)
	if err != nil {
		t.Fatal(err)
	}
	err = pool.QueryRow(ctx, `INSERT INTO listings (seller_id, product_id, slug, title, price_amount, currency, territories, ships_from, status)
		VALUES ($1, $2, 'mb-tee-1', 'Paris 2024 tee', 3500, 'EUR', '{FR}', 'FR', 'live') RETURNING id`, seller.ID, product).Scan(&listingID)
	if err != nil {
		t.Fatal(err)
	}
	return listingID, variantID
}
