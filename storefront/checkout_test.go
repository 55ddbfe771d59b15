package storefront

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/text/language"

	"marketplace/catalog"
	"marketplace/internal/auth"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/stripetest"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// fixture is a checkout on a fresh database with the demo registry and a few live listings.
type fixture struct {
	co        *Checkout
	db        *pgxpool.Pool
	cat       *catalog.Service
	auth      *auth.Service
	licensee  int64 // Maison Bleue Textiles: PAR24-APP-0001, apparel, FR BE LU MC CH, 12 %
	tee       catalog.Listing
	usOnly    catalog.Listing // ships to the US only
	unlicensd catalog.Listing // ships to DE, where the licence does not reach
	ts        *httptest.Server
}

var france = web.Market{Country: "FR", Language: language.French, Currency: "EUR"}

func newFixture(t testing.TB, cfg CheckoutConfig) *fixture {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t, CheckoutSchemas()...)
	reg := licensing.NewService(db)
	seed, err := licensing.Seed(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.NewService(db, reg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://shop.test"
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Store = NewStore(db, cat, Options{Logger: cfg.Logger})
	co, err := NewCheckout(db, cat, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{co: co, db: db, cat: cat, auth: auth.NewService(db, auth.DefaultLimits), licensee: seed.LicenseeID("Maison Bleue Textiles")}
	seller, err := cat.LicenseeSeller(ctx, f.licensee)
	if err != nil {
		t.Fatal(err)
	}
	f.tee = f.liveListing(t, seller.ID, "Paris 2024 rowing tee", 3500, "EUR", 3, "FR", "BE")
	f.usOnly = f.liveListing(t, seller.ID, "Paris 2024 cap for the US", 2500, "USD", 5, "US")
	f.unlicensd = f.liveListing(t, seller.ID, "Paris 2024 scarf", 2000, "EUR", 5, "DE")
	return f
}

var imageSeq sync.Mutex

// liveListing creates a listing of the licensee's and sets it live, as screening would.
func (f *fixture) liveListing(t testing.TB, sellerID int64, title string, amount int64, cur string, stock int, territories ...string) catalog.Listing {
	t.Helper()
	ctx := context.Background()
	// The picture's row only: the checkout never reads image bytes.
	imageSeq.Lock()
	sum := sha256.Sum256([]byte(title))
	imageSeq.Unlock()
	var img int64
	if err := f.db.QueryRow(ctx, `INSERT INTO images (sha256, blob_key, content_type, width, height, bytes)
		VALUES ($1, 'x', 'image/jpeg', 10, 10, 100) RETURNING id`, sum[:]).Scan(&img); err != nil {
		t.Fatal(err)
	}
	l, err := f.cat.CreateListing(ctx, sellerID, catalog.NewListing{Title: title, Price: money.New(amount, cur), Stock: stock,
		Territories: territories, Property: "PARIS2024", Category: "apparel", ImageIDs: []int64{img}})
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Tx(ctx, f.db, func(tx pgx.Tx) error {
		return f.cat.SetListingStatus(ctx, tx, l.ID, catalog.StatusLive, "screened")
	}); err != nil {
		t.Fatal(err)
	}
	return l
}

func anonBuyer(name string) Buyer {
	h := sha256.Sum256([]byte("browser " + name))
	return Buyer{TokenHash: h[:]}
}

func (f *fixture) stock(t *testing.T, listingID int64) int {
	t.Helper()
	it, err := f.cat.Sellable(context.Background(), listingID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return it.Stock
}

// order reads an order, failing the test when it cannot.
func (f *fixture) order(t *testing.T, id int64) Order {
	t.Helper()
	o, err := f.co.Order(context.Background(), id)
	if err != nil {
		t.Fatalf("order %d: %v", id, err)
	}
	return o
}

// cart reads b's cart in France, failing the test when it cannot.
func (f *fixture) cart(t *testing.T, b Buyer) Cart {
	t.Helper()
	c, err := f.co.loadCart(context.Background(), b, france)
	if err != nil {
		t.Fatalf("cart: %v", err)
	}
	return c
}

func (f *fixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// place adds qty of l to a new buyer's cart and checks out at the total the cart shows.
func (f *fixture) place(t *testing.T, b Buyer, l catalog.Listing, qty int) (Placed, error) {
	t.Helper()
	ctx := context.Background()
	if err := f.co.AddToCart(ctx, b, france, l.ID, 0, qty); err != nil {
		t.Fatal(err)
	}
	cart, err := f.co.loadCart(ctx, b, france)
	if err != nil {
		t.Fatal(err)
	}
	return f.co.PlaceOrder(ctx, b, france, CheckoutRequest{Currency: "EUR", SeenTotal: fmt.Sprint(cart.Total.Amount)})
}

func wantField(t *testing.T, err error, code fault.Code, field string) {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Code != code {
		t.Fatalf("err = %v; want %s", err, code)
	}
	for _, f := range fe.Fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("err = %v (fields %v); want one naming %q", err, fe.Fields, field)
}

func TestQuantityRefused(t *testing.T) {
	for _, in := range []string{"0", "-1", "1000000000", "", "two", "1.5", "99999999999999999999999"} {
		if _, err := ParseQuantity(in); err == nil {
			t.Errorf("ParseQuantity(%q) accepted", in)
		} else {
			wantField(t, err, fault.Invalid, "quantity")
		}
	}
	if n, err := ParseQuantity(" 3 "); err != nil || n != 3 {
		t.Fatalf("ParseQuantity(3) = %d, %v", n, err)
	}
	f := newFixture(t, CheckoutConfig{})
	b := anonBuyer("q")
	for _, q := range []int{0, -1, 1_000_000_000} {
		wantField(t, f.co.AddToCart(context.Background(), b, france, f.tee.ID, 0, q), fault.Invalid, "quantity")
	}
	if n := f.count(t, `SELECT count(*) FROM cart_items`); n != 0 {
		t.Fatalf("%d cart items written", n)
	}
	t.Run("ErrConflictMoreThanInStock", func(t *testing.T) {
		err := f.co.AddToCart(context.Background(), b, france, f.tee.ID, 0, 4)
		if !fault.Is(err, fault.Conflict) || !strings.Contains(err.Error(), "only 3 left") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestCartRefusesWhatTheFansCountryCannotBuy(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	ctx := context.Background()
	b := anonBuyer("country")
	for _, tc := range []struct {
		name    string
		listing catalog.Listing
		market  web.Market
		want    string
	}{
		{"NotShippedToTheCountry", f.usOnly, france, "does not ship this item to France"},
		{"ShippedButNotLicensedThere", f.unlicensd, web.Market{Country: "DE", Language: language.German, Currency: "EUR"}, "does not cover Germany"},
		{"NotPricedInTheCurrency", f.tee, web.Market{Country: "FR", Language: language.French, Currency: "USD"}, "priced in EUR only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.co.AddToCart(ctx, b, tc.market, tc.listing.ID, 0, 1)
			wantField(t, err, fault.Unprocessable, "listing_id")
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want %q", err, tc.want)
			}
		})
	}
	if n := f.count(t, `SELECT count(*) FROM cart_items`); n != 0 {
		t.Fatalf("%d cart items written", n)
	}
	t.Run("AnItemInTheCartBecomesUnsellableWhenTheFanMoves", func(t *testing.T) {
		if err := f.co.AddToCart(ctx, b, france, f.tee.ID, 0, 1); err != nil {
			t.Fatal(err)
		}
		us := web.Market{Country: "US", Language: language.English, Currency: "USD"}
		cart, err := f.co.loadCart(ctx, b, us)
		if err != nil || len(cart.Lines) != 1 || cart.Lines[0].Available || cart.CanCheckout {
			t.Fatalf("cart = %+v, %v", cart, err)
		}
		_, err = f.co.PlaceOrder(ctx, b, us, CheckoutRequest{Currency: "USD", SeenTotal: "1"})
		wantField(t, err, fault.Unprocessable, "items[0]")
		if n := f.count(t, `SELECT count(*) FROM orders`); n != 0 {
			t.Fatalf("%d orders written", n)
		}
	})
}

func TestPriceChangeIsShownNotCharged(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	ctx := context.Background()
	b := anonBuyer("price")
	if err := f.co.AddToCart(ctx, b, france, f.tee.ID, 0, 2); err != nil {
		t.Fatal(err)
	}
	// The seller raises the price after the fan filled the cart.
	if _, err := f.db.Exec(ctx, `UPDATE listings SET price_amount = 3900 WHERE id = $1`, f.tee.ID); err != nil {
		t.Fatal(err)
	}
	cart, err := f.co.loadCart(ctx, b, france)
	if err != nil {
		t.Fatal(err)
	}
	l := cart.Lines[0]
	if !l.PriceChanged || l.Seen.Amount != 3500 || l.Unit.Amount != 3900 || cart.Total.Amount != 7800 {
		t.Fatalf("line = %+v, total %v", l, cart.Total)
	}
	// Checking out with the total the fan saw before the change is refused, naming both totals.
	_, err = f.co.PlaceOrder(ctx, b, france, CheckoutRequest{Currency: "EUR", SeenTotal: "7000"})
	if !fault.Is(err, fault.Conflict) || !strings.Contains(err.Error(), "70,00") || !strings.Contains(err.Error(), "78,00") {
		t.Fatalf("err = %v", err)
	}
	if n := f.count(t, `SELECT count(*) FROM orders`); n != 0 || f.stock(t, f.tee.ID) != 3 {
		t.Fatalf("%d orders, stock %d after a refused checkout", n, f.stock(t, f.tee.ID))
	}
	// With the new total shown, the fan accepts it.
	placed, err := f.co.PlaceOrder(ctx, b, france, CheckoutRequest{Currency: "EUR", SeenTotal: "7800"})
	if err != nil {
		t.Fatal(err)
	}
	o := f.order(t, placed.OrderID)
	if o.Total.Amount != 7800 || o.Lines[0].Unit.Amount != 3900 {
		t.Fatalf("order = %+v", o)
	}
}

func TestUnknownCurrencyRefused(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	ctx := context.Background()
	b := anonBuyer("currency")
	if err := f.co.AddToCart(ctx, b, france, f.tee.ID, 0, 1); err != nil {
		t.Fatal(err)
	}
	for _, cur := range []string{"XYZ", "", "EURO", "SEK"} {
		_, err := f.co.PlaceOrder(ctx, b, france, CheckoutRequest{Currency: cur, SeenTotal: "3500"})
		wantField(t, err, fault.Invalid, "currency")
	}
	_, err := f.co.PlaceOrder(ctx, b, france, CheckoutRequest{Currency: "USD", SeenTotal: "3500"})
	if !fault.Is(err, fault.Conflict) {
		t.Fatalf("a currency other than the market's: %v", err)
	}
	if n := f.count(t, `SELECT count(*) FROM orders`); n != 0 {
		t.Fatalf("%d orders written", n)
	}
}

// TestRaceForTheLastThree is 50 fans, each with the item in their cart, checking out at once
// for the last 3: exactly 3 orders are placed, 47 fans are told it sold out, stock ends at 0.
func TestRaceForTheLastThree(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	ctx := context.Background()
	buyers := make([]Buyer, 50)
	for i := range buyers {
		buyers[i] = anonBuyer(fmt.Sprint("racer ", i))
		if err := f.co.AddToCart(ctx, buyers[i], france, f.tee.ID, 0, 1); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	placed, soldOut := 0, 0
	start := make(chan struct{})
	for _, b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.co.PlaceOrder(ctx, b, france, CheckoutRequest{Currency: "EUR", SeenTotal: "3500"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				placed++
			case fault.Is(err, fault.Conflict):
				soldOut++
			default:
				t.Errorf("checkout: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if placed != 3 || soldOut != 47 {
		t.Fatalf("placed %d, sold out %d; want 3 and 47", placed, soldOut)
	}
	if s := f.stock(t, f.tee.ID); s != 0 {
		t.Fatalf("stock %d", s)
	}
	if n := f.count(t, `SELECT count(*) FROM orders WHERE status = 'pending'`); n != 3 {
		t.Fatalf("%d pending orders", n)
	}
	// The losers keep their carts.
	if n := f.count(t, `SELECT count(*) FROM cart_items`); n != 47 {
		t.Fatalf("%d cart items left", n)
	}
}

// TestDoubleClickPlacesOneOrder: two checkouts of one cart at the same moment make one order
// and reserve the stock once.
func TestDoubleClickPlacesOneOrder(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	ctx := context.Background()
	b := anonBuyer("double click")
	if err := f.co.AddToCart(ctx, b, france, f.tee.ID, 0, 1); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := f.co.PlaceOrder(ctx, b, france, CheckoutRequest{Currency: "EUR", SeenTotal: "3500"})
			errs <- err
		}()
	}
	ok, conflict := 0, 0
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case fault.Is(err, fault.Conflict) || fault.Is(err, fault.Unprocessable):
			conflict++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || conflict != 1 || f.stock(t, f.tee.ID) != 2 || f.count(t, `SELECT count(*) FROM orders`) != 1 {
		t.Fatalf("ok %d, refused %d, stock %d, orders %d", ok, conflict, f.stock(t, f.tee.ID), f.count(t, `SELECT count(*) FROM orders`))
	}
}

// recorder keeps the Idempotency-Key of every call to Stripe.
type recorder struct {
	mu   sync.Mutex
	keys []string
	next http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.keys = append(r.keys, req.Method+" "+req.URL.Path+" "+req.Header.Get("Idempotency-Key"))
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// TestCheckoutSessionOnStripeMock opens real Checkout Sessions on stripe-mock: lines carry the
// licence and royalty, the stock is reserved, the idempotency key comes from the order, and a
// licensee with a connected account gets a destination charge with the royalty as the fee.
func TestCheckoutSessionOnStripeMock(t *testing.T) {
	rec := &recorder{next: http.DefaultTransport}
	f := newFixture(t, CheckoutConfig{StripeSecretKey: stripetest.Key, StripeAPIURL: stripetest.URL(t),
		StripeHTTPClient: &http.Client{Transport: rec, Timeout: 20 * time.Second}})
	ctx := context.Background()
	if f.co.Mode() != PaymentStripe {
		t.Fatalf("mode %s", f.co.Mode())
	}
	placed, err := f.place(t, anonBuyer("stripe"), f.tee, 2)
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.co.Order(ctx, placed.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(o.SessionID, "cs_") || placed.CheckoutURL == "" || o.Status != OrderPending || o.PaymentMode != PaymentStripe {
		t.Fatalf("order = %+v, placed %+v", o, placed)
	}
	l := o.Lines[0]
	if l.LicenceNumber != "PAR24-APP-0001" || l.RoyaltyBPS != 1200 || l.Royalty.Amount != 840 || l.Amount.Amount != 7000 || o.Royalty.Amount != 840 {
		t.Fatalf("line = %+v", l)
	}
	if o.Destination != "" || o.Fee.Amount != 0 {
		t.Fatalf("a destination charge without a connected account: %+v", o)
	}
	if s := f.stock(t, f.tee.ID); s != 1 {
		t.Fatalf("stock %d after reserving 2 of 3", s)
	}
	want := fmt.Sprintf("POST /v1/checkout/sessions order-%d-checkout-session", o.ID)
	if len(rec.keys) != 1 || rec.keys[0] != want {
		t.Fatalf("calls %q; want %q", rec.keys, want)
	}

	t.Run("DestinationChargeWithTheRoyaltyAsFee", func(t *testing.T) {
		wantField(t, f.co.SetStripeAccount(ctx, f.licensee, "acct_ bad"), fault.Invalid, "account_id")
		if err := f.co.SetStripeAccount(ctx, f.licensee, "acct_1MaisonBleue"); err != nil {
			t.Fatal(err)
		}
		placed, err := f.place(t, anonBuyer("connect"), f.tee, 1)
		if err != nil {
			t.Fatal(err)
		}
		o := f.order(t, placed.OrderID)
		if o.Destination != "acct_1MaisonBleue" || o.Fee.Amount != 420 || o.Royalty.Amount != 420 {
			t.Fatalf("order = %+v", o)
		}
	})

	t.Run("CancelExpiresTheSessionAndReturnsTheItems", func(t *testing.T) {
		b := anonBuyer("stripe")
		if err := f.co.CancelOrder(ctx, b, placed.OrderID); err != nil {
			t.Fatal(err)
		}
		o := f.order(t, placed.OrderID)
		cart := f.cart(t, b)
		if o.Status != OrderCancelled || f.stock(t, f.tee.ID) != 2 || len(cart.Lines) != 1 || cart.Lines[0].Quantity != 2 {
			t.Fatalf("order %s, stock %d, cart %+v", o.Status, f.stock(t, f.tee.ID), cart.Lines)
		}
		last := rec.keys[len(rec.keys)-1]
		if want := fmt.Sprintf("POST /v1/checkout/sessions/%s/expire order-%d-expire-session", o.SessionID, o.ID); last != want {
			t.Fatalf("last call %q; want %q", last, want)
		}
		if err := f.co.CancelOrder(ctx, anonBuyer("someone else"), placed.OrderID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another's order: %v", err)
		}
	})
}

func TestStripeUnavailableLeavesTheCartAsItWas(t *testing.T) {
	f := newFixture(t, CheckoutConfig{StripeSecretKey: stripetest.Key, StripeAPIURL: "http://127.0.0.1:1",
		StripeHTTPClient: &http.Client{Timeout: time.Second}})
	b := anonBuyer("down")
	_, err := f.place(t, b, f.tee, 1)
	if !fault.Is(err, fault.Unavailable) {
		t.Fatalf("err = %v", err)
	}
	cart := f.cart(t, b)
	if len(cart.Lines) != 1 || f.stock(t, f.tee.ID) != 3 || f.count(t, `SELECT count(*) FROM orders WHERE status = 'failed'`) != 1 {
		t.Fatalf("cart %+v, stock %d", cart.Lines, f.stock(t, f.tee.ID))
	}
}

func TestSweeperReleasesExpiredCheckouts(t *testing.T) {
	now := time.Now()
	clock := &now
	var mu sync.Mutex
	f := newFixture(t, CheckoutConfig{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return *clock }})
	ctx := context.Background()
	placed, err := f.place(t, anonBuyer("slow"), f.tee, 2)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.co.ExpireStale(ctx); n != 0 || err != nil {
		t.Fatalf("expired %d fresh orders, %v", n, err)
	}
	mu.Lock()
	*clock = now.Add(40 * time.Minute)
	mu.Unlock()
	if n, err := f.co.ExpireStale(ctx); n != 1 || err != nil {
		t.Fatalf("expired %d, %v", n, err)
	}
	o := f.order(t, placed.OrderID)
	if o.Status != OrderExpired || f.stock(t, f.tee.ID) != 3 {
		t.Fatalf("order %s, stock %d", o.Status, f.stock(t, f.tee.ID))
	}
}

func TestFlagCounterfeit(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	ctx := context.Background()
	placed, err := f.place(t, anonBuyer("fan"), f.tee, 2)
	if err != nil {
		t.Fatal(err)
	}
	o := f.order(t, placed.OrderID)
	f.deliver(t, "evt_paid_1", "checkout.session.completed", SessionObject(o.SessionID, o.ID, o.Total.Amount, "EUR", "paid"), time.Now(), http.StatusOK)
	pending, err := f.place(t, anonBuyer("other"), f.tee, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Tx(ctx, f.db, func(tx pgx.Tx) error { return f.co.FlagCounterfeit(ctx, tx, f.tee.ID) }); err != nil {
		t.Fatal(err)
	}
	o = f.order(t, placed.OrderID)
	if o.RefundDue.Amount != 7000 || o.RefundReason != "counterfeit" || !o.Lines[0].Counterfeit {
		t.Fatalf("paid order = %+v", o)
	}
	// The order still waiting for payment is refunded when the payment arrives.
	p := f.order(t, pending.OrderID)
	if p.RefundDue.Amount != 0 || !p.Lines[0].Counterfeit {
		t.Fatalf("pending order = %+v", p)
	}
	f.deliver(t, "evt_paid_2", "checkout.session.completed", SessionObject(p.SessionID, p.ID, p.Total.Amount, "EUR", "paid"), time.Now(), http.StatusOK)
	p = f.order(t, pending.OrderID)
	if p.Status != OrderPaid || p.RefundDue.Amount != 3500 || p.RefundReason != "counterfeit" {
		t.Fatalf("order paid after the flag = %+v", p)
	}
	// Flagging again adds nothing.
	if err := postgres.Tx(ctx, f.db, func(tx pgx.Tx) error { return f.co.FlagCounterfeit(ctx, tx, f.tee.ID) }); err != nil {
		t.Fatal(err)
	}
	if o = f.order(t, placed.OrderID); o.RefundDue.Amount != 7000 {
		t.Fatalf("refund after a second flag: %v", o.RefundDue)
	}
}

func TestCartFollowsTheFanWhoLogsIn(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	ctx := context.Background()
	u, err := f.auth.CreateUser(ctx, auth.NewUser{Email: "fan@example.com", Password: "olympic-demo-2028", Role: web.RoleFan})
	if err != nil {
		t.Fatal(err)
	}
	browser := anonBuyer("shared laptop")
	if err := f.co.AddToCart(ctx, browser, france, f.tee.ID, 0, 1); err != nil {
		t.Fatal(err)
	}
	fan := Buyer{TokenHash: browser.TokenHash, UserID: u.ID}
	cart, err := f.co.loadCart(ctx, fan, france)
	if err != nil || len(cart.Lines) != 1 {
		t.Fatalf("after logging in: %+v, %v", cart, err)
	}
	// Logged out again, the browser's cart is empty: the items are the fan's now.
	if cart := f.cart(t, browser); len(cart.Lines) != 0 {
		t.Fatalf("anonymous cart after login: %+v", cart.Lines)
	}
	// Items added anonymously later join the fan's cart at the next login.
	if err := f.co.AddToCart(ctx, browser, france, f.tee.ID, 0, 1); err != nil {
		t.Fatal(err)
	}
	cart = f.cart(t, fan)
	if len(cart.Lines) != 1 || cart.Lines[0].Quantity != 2 {
		t.Fatalf("merged cart: %+v", cart.Lines)
	}
}
