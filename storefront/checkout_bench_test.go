package storefront

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/postgres"
)

// BenchmarkCheckout measures a whole purchase (a new buyer's cart, PlaceOrder with its stock
// reservation and test-mode session, and the signed checkout.session.completed that pays it)
// one at a time and from many goroutines on one hot listing, beside the floor: one
// transaction that only reserves the item (Reserve) on the same row.
func BenchmarkCheckout(b *testing.B) {
	f := newFixture(b, CheckoutConfig{})
	ctx := context.Background()
	seller, err := f.cat.LicenseeSeller(ctx, f.licensee)
	if err != nil {
		b.Fatal(err)
	}
	hot := f.liveListing(b, seller.ID, "Paris 2024 bench tee", 3500, "EUR", 1_000_000, "FR")
	var n atomic.Int64
	purchase := func() error {
		i := n.Add(1)
		buyer := anonBuyer(fmt.Sprint("bench ", i, time.Now().UnixNano()))
		if err := f.co.AddToCart(ctx, buyer, france, hot.ID, 0, 1); err != nil {
			return err
		}
		placed, err := f.co.PlaceOrder(ctx, buyer, france, CheckoutRequest{Currency: "EUR", SeenTotal: "3500"})
		if err != nil {
			return err
		}
		sid := ""
		if err := f.db.QueryRow(ctx, `SELECT stripe_session_id FROM orders WHERE id = $1`, placed.OrderID).Scan(&sid); err != nil {
			return err
		}
		payload, sig := SignedEvent(f.co.WebhookSecret(), fmt.Sprint("evt_bench_", placed.OrderID), "checkout.session.completed",
			SessionObject(sid, placed.OrderID, 3500, "EUR", "paid"), time.Now())
		out, err := f.co.HandleStripeEvent(ctx, payload, sig)
		if err == nil && out != outcomePaid {
			err = fmt.Errorf("outcome %q", out)
		}
		return err
	}
	b.Run("PlaceAndPay", func(b *testing.B) {
		for b.Loop() {
			if err := purchase(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PlaceAndPayParallel", func(b *testing.B) {
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := purchase(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("BaselineReserveOnly", func(b *testing.B) {
		for b.Loop() {
			if err := postgres.Tx(ctx, f.db, func(tx pgx.Tx) error { return f.cat.Reserve(ctx, tx, hot.ID, 0, 1) }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
