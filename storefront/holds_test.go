package storefront

import (
	"context"
	"sync"
	"testing"
	"time"

	"marketplace/internal/fault"
)

// TestAnUnpaidCheckoutHoldsStockForMinutes proves an order nobody pays holds its items for the
// hold (10 minutes by default), not for the payment session's half hour: the sweeper puts
// them back once the hold is over.
func TestAnUnpaidCheckoutHoldsStockForMinutes(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := now
	at := func(d time.Duration) { mu.Lock(); clock = now.Add(d); mu.Unlock() }
	f := newFixture(t, CheckoutConfig{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }})
	ctx := context.Background()
	placed, err := f.place(t, anonBuyer("squatter"), f.tee, 3)
	if err != nil {
		t.Fatal(err)
	}
	if o := f.order(t, placed.OrderID); !o.ExpiresAt.Equal(now.Add(DefaultHoldTTL).Truncate(time.Microsecond)) || DefaultHoldTTL != 10*time.Minute {
		t.Fatalf("held until %v, want %v after %v", o.ExpiresAt, DefaultHoldTTL, now)
	}
	at(9 * time.Minute)
	if n, err := f.co.ExpireStale(ctx); n != 0 || err != nil {
		t.Fatalf("expired %d orders within their hold, %v", n, err)
	}
	if s := f.stock(t, f.tee.ID); s != 0 {
		t.Fatalf("stock %d during the hold", s)
	}
	at(10*time.Minute + time.Second)
	if n, err := f.co.ExpireStale(ctx); n != 1 || err != nil {
		t.Fatalf("expired %d after the hold, %v", n, err)
	}
	if o := f.order(t, placed.OrderID); o.Status != OrderExpired {
		t.Fatalf("order %s after the hold", o.Status)
	}
	if s := f.stock(t, f.tee.ID); s != 3 {
		t.Fatalf("stock %d after the hold, want 3 back", s)
	}
}

// TestOneUnpaidBuyerHoldsOnlySoMuch proves the caps on what one buyer may hold unpaid: at most
// 5 units of one listing and 3 unpaid orders, counted by cart cookie (or account) and by client
// address, each refusal naming what to do; a fan elsewhere is not affected.
func TestOneUnpaidBuyerHoldsOnlySoMuch(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	seller, err := f.cat.LicenseeSeller(context.Background(), f.licensee)
	if err != nil {
		t.Fatal(err)
	}
	many := f.liveListing(t, seller.ID, "Paris 2024 pin", 500, "EUR", 50, "FR")
	squatter := anonBuyer("squatter")
	squatter.Address = "203.0.113.7"

	t.Run("UnitsOfOneListingInOneOrder", func(t *testing.T) {
		_, err := f.place(t, squatter, many, 6)
		wantField(t, err, fault.Unprocessable, "items[0]")
		if s := f.stock(t, many.ID); s != 50 {
			t.Fatalf("stock %d after a refused checkout", s)
		}
		clearCart(t, f, squatter)
	})
	t.Run("UnitsOfOneListingAcrossOrders", func(t *testing.T) {
		if _, err := f.place(t, squatter, many, 4); err != nil {
			t.Fatal(err)
		}
		_, err := f.place(t, squatter, many, 2)
		wantField(t, err, fault.Unprocessable, "items[0]")
		clearCart(t, f, squatter)
		// A fresh cookie from the same address is the same buyer.
		other := anonBuyer("squatter's new cookie")
		other.Address = squatter.Address
		_, err = f.place(t, other, many, 2)
		wantField(t, err, fault.Unprocessable, "items[0]")
		clearCart(t, f, other)
		// A fan elsewhere buys.
		fan := anonBuyer("fan")
		fan.Address = "198.51.100.20"
		if _, err := f.place(t, fan, many, 5); err != nil {
			t.Fatalf("another fan: %v", err)
		}
	})
	t.Run("UnpaidOrders", func(t *testing.T) {
		// The squatter holds one order; two more are allowed, the fourth is not.
		for i, title := range []string{"Paris 2024 badge", "Paris 2024 patch"} {
			l := f.liveListing(t, seller.ID, title, 400, "EUR", 10, "FR")
			if _, err := f.place(t, squatter, l, 1); err != nil {
				t.Fatalf("unpaid order %d: %v", i+2, err)
			}
		}
		_, err := f.place(t, squatter, f.tee, 1)
		fe, ok := fault.As(err)
		if !ok || fe.Code != fault.Unprocessable {
			t.Fatalf("a fourth unpaid order: %v", err)
		}
		if n := f.count(t, `SELECT count(*) FROM orders WHERE status = 'pending' AND buyer_hash = $1`, squatter.TokenHash); n != 3 {
			t.Fatalf("%d unpaid orders held", n)
		}
	})
}

// clearCart empties b's cart after a refused checkout.
func clearCart(t *testing.T, f *fixture, b Buyer) {
	t.Helper()
	c := f.cart(t, b)
	if _, err := f.db.Exec(context.Background(), `DELETE FROM cart_items WHERE cart_id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
}
