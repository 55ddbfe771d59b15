package storefront

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/catalog"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// The checkout half of the storefront: carts, orders, payments through Stripe Checkout (or the
// labelled test-payment page), the Stripe webhook and the fan's order pages.
//
// Money moves in this order: POST /checkout prices the cart again (refusing a total other than
// the one the fan was shown), writes the order with each line's licence and royalty, takes the
// items out of stock and empties the cart in one transaction, then opens the Checkout Session
// with a key derived from the order, so a retry never opens a second one. The webhook marks
// the order paid; an expired session (its webhook, or the sweeper for one that never came)
// puts the stock back. A payment that arrives after its session expired takes the stock again,
// or is flagged for refund when it is gone.

//go:embed orders_migrations/*.sql
var ordersMigrations embed.FS

// OrdersSchema is the carts, orders and payment tables; it needs the catalogue's schemas first.
var OrdersSchema = func() postgres.Schema {
	sub, _ := fs.Sub(ordersMigrations, "orders_migrations")
	return postgres.Schema{Name: "orders", FS: sub}
}()

// CheckoutSchemas is the orders schema after the ones it depends on.
func CheckoutSchemas() []postgres.Schema {
	return append(catalog.Schemas(), OrdersSchema)
}

// CheckoutConfig is what the checkout needs from cmd/.
type CheckoutConfig struct {
	Store           *Store // its Offer says whether a fan's country may buy a listing today
	BaseURL         string // where fans reach us, for Stripe's return links
	StripeSecretKey string // empty: the test-payment page completes orders
	StripeAPIURL    string // another Stripe API base (stripe-mock in tests)
	WebhookSecret   string // signs POST /webhooks/stripe; empty: generated at start
	// StripeHTTPClient carries the calls to Stripe (tests record them); nil: stripe-go's own.
	StripeHTTPClient *http.Client
	// HoldTTL is how long an unpaid order holds its items (DefaultHoldTTL when zero): when it
	// is over, the sweeper closes the payment session and puts the items back on sale. Short,
	// so that a checkout nobody pays does not keep the items from other fans for long.
	HoldTTL time.Duration
	// HoldLimits caps what one unpaid buyer may hold at once (DefaultHoldLimits when zero).
	HoldLimits HoldLimits
	// SessionTTL is how long the Stripe Checkout Session stays open. Stripe wants 30 minutes to
	// 24 hours (the default is 31 minutes), longer than the hold: the sweeper closes the
	// session when the hold ends. It is raised to HoldTTL when shorter.
	SessionTTL time.Duration
	// Grace is how long after a session's expiry the sweeper waits for Stripe's own
	// checkout.session.expired before it expires the order itself (default 2 minutes).
	Grace  time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// Checkout is carts, orders and payments.
type Checkout struct {
	db      *pgxpool.Pool
	catalog *catalog.Service
	store   *Store
	pay     gateway
	secret  string
	baseURL string
	ttl     time.Duration // the payment session's life
	hold    time.Duration // how long an unpaid order holds its items
	limits  HoldLimits
	grace   time.Duration
	log     *slog.Logger
	now     func() time.Time
	srv     *web.Server // set by CheckoutRoutes: the test-payment page delivers its events through it
}

// NewCheckout returns the checkout over db and the catalogue.
func NewCheckout(db *pgxpool.Pool, cat *catalog.Service, cfg CheckoutConfig) (*Checkout, error) {
	if cfg.Store == nil {
		return nil, errors.New("storefront: the checkout needs the Store, whose Offer says what a fan may buy")
	}
	co := &Checkout{db: db, catalog: cat, store: cfg.Store, secret: cfg.WebhookSecret,
		baseURL: strings.TrimSuffix(cfg.BaseURL, "/"), ttl: cfg.SessionTTL, hold: cfg.HoldTTL, limits: cfg.HoldLimits,
		grace: cfg.Grace, log: cfg.Logger, now: cfg.Now}
	if co.hold <= 0 {
		co.hold = DefaultHoldTTL
	}
	if co.ttl == 0 {
		co.ttl = 31 * time.Minute
	}
	co.ttl = max(co.ttl, co.hold)
	if co.limits.UnitsPerListing <= 0 {
		co.limits.UnitsPerListing = DefaultHoldLimits.UnitsPerListing
	}
	if co.limits.UnpaidOrders <= 0 {
		co.limits.UnpaidOrders = DefaultHoldLimits.UnpaidOrders
	}
	if co.grace == 0 {
		co.grace = 2 * time.Minute
	}
	if co.log == nil {
		co.log = slog.Default()
	}
	if co.now == nil {
		co.now = time.Now
	}
	if co.secret == "" {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		co.secret = "whsec_dev_" + hex.EncodeToString(b[:])
	}
	if cfg.StripeSecretKey != "" {
		co.pay = newStripeGateway(cfg.StripeSecretKey, cfg.StripeAPIURL, cfg.StripeHTTPClient)
	} else {
		co.pay = &testGateway{}
	}
	return co, nil
}

// Mode says whether orders are paid through Stripe or the test-payment page.
func (co *Checkout) Mode() PaymentMode { return co.pay.Mode() }

// WebhookSecret is the secret POST /webhooks/stripe checks signatures with.
func (co *Checkout) WebhookSecret() string { return co.secret }

// DefaultHoldTTL is how long an unpaid order holds its items unless CheckoutConfig.HoldTTL
// says otherwise.
const DefaultHoldTTL = 10 * time.Minute

// HoldLimits caps what one buyer may hold in unpaid orders at once, counted both by the buyer
// (cart cookie, or account) and by client address, since a new cookie costs nothing. Fans
// behind one address (a stadium's Wi-Fi) share its caps, which a hold of minutes keeps small.
type HoldLimits struct {
	UnitsPerListing int // units of one listing, over every unpaid order and the cart at checkout
	UnpaidOrders    int // unpaid orders holding items
}

// DefaultHoldLimits are the caps when CheckoutConfig.HoldLimits leaves them zero.
var DefaultHoldLimits = HoldLimits{UnitsPerListing: 5, UnpaidOrders: 3}

// maxQuantity bounds one cart line: a fan's purchase, not a wholesaler's.
const maxQuantity = 99

// ParseQuantity reads a quantity typed by a fan. Returns Invalid naming "quantity" for
// anything but a whole number from 1 to 99.
func ParseQuantity(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	switch {
	case s == "":
		return 0, fault.Validation("the quantity is missing", fault.Field("quantity", "enter how many you want, from 1 to %d", maxQuantity))
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, fault.Validation("the quantity is not valid", fault.Field("quantity", "%q is not a whole number", s))
	case err != nil || n > maxQuantity:
		return 0, fault.Validation("the quantity is not valid", fault.Field("quantity", "at most %d of one item per order", maxQuantity))
	case n < 1:
		return 0, fault.Validation("the quantity is not valid", fault.Field("quantity", "must be at least 1 (use Remove to take an item out)"))
	}
	return n, nil
}

// pricedItem is a cart item as it can be bought now in a market: its price in the market's
// currency and the licence that covers the sale.
type pricedItem struct {
	Item      catalog.Sellable
	Unit      money.Money
	Licence   *licensing.Licence
	Seller    catalog.Seller
	Available bool     // live, shipped to the country, licensed there today, priced in the currency, in stock
	SoldOut   bool     // everything else holds, but none is left
	Problem   string   // why not, for the fan (English, for errors)
	problem   pageText // the same, for a page in the fan's language
}

// price checks whether listingID (variantID) can be sold in market today, and at what price.
// Whether the fan's country may buy the listing today (live, shipped there, licensed there,
// and under which licence) is the storefront's Offer, the answer the product page shows; the
// price in the market's currency and the stock come from the catalogue's Sellable, the rows
// Reserve takes from. An unknown listing or variant is an error; everything else that stops
// a sale is a Problem.
func (co *Checkout) price(ctx context.Context, listingID, variantID int64, m web.Market) (pricedItem, error) {
	it, err := co.catalog.Sellable(ctx, listingID, variantID)
	if err != nil {
		return pricedItem{}, err
	}
	p := pricedItem{Item: it}
	offer, err := co.store.Offer(ctx, listingID, m)
	if err != nil {
		return pricedItem{}, err
	}
	p.Seller = offer.Seller
	country := licensing.CountryName(m.Country)
	if !offer.Buyable || offer.Licence == nil {
		p.Problem = offer.Detail
		switch offer.Reason {
		case ReasonNotShippedHere:
			p.problem = pageText{"The seller does not ship this item to %s.", []any{country}}
		case ReasonNotLicensedHere:
			p.problem = pageText{"No licence covers this item in %s today, so it cannot be sold there.", []any{country}}
		default:
			p.problem = pageText{key: "This item is not for sale at the moment."}
		}
		if p.Problem == "" {
			p.Problem = "not for sale in " + country
		}
		return p, nil
	}
	if p.Seller.Status != catalog.SellerActive {
		p.Problem, p.problem = "no longer for sale", pageText{key: "This item is not for sale at the moment."}
		return p, nil
	}
	p.Licence = offer.Licence
	amount, ok := it.Prices[m.Currency]
	if !ok {
		others := make([]string, 0, len(it.Prices))
		for c := range it.Prices {
			others = append(others, c)
		}
		slices.Sort(others)
		p.Problem = fmt.Sprintf("not sold in %s: priced in %s only (choose that currency to buy it)", m.Currency, strings.Join(others, ", "))
		p.problem = pageText{"Not sold in %s: priced in %s only. Choose that currency to buy it.", []any{m.Currency, strings.Join(others, ", ")}}
		return p, nil
	}
	p.Unit = money.New(amount, m.Currency)
	if it.Stock < 1 {
		p.Problem, p.SoldOut, p.problem = "sold out", true, pageText{key: "Sold out"}
		return p, nil
	}
	p.Available = true
	return p, nil
}

// pageText is a text for a page, translated there: a catalogue key and its arguments.
type pageText struct {
	key  string
	args []any
}

// royaltyOf is the royalty on amount at bps basis points, rounded half up to the minor unit.
func royaltyOf(amount int64, bps int) int64 {
	return (amount*int64(bps) + 5000) / 10000
}

// Order statuses.
const (
	OrderPending   = "pending"
	OrderPaid      = "paid"
	OrderExpired   = "expired"
	OrderFailed    = "failed"
	OrderCancelled = "cancelled"
)

// CheckoutRequest is the fan's "pay now": the cart's currency and total as the cart page
// showed them, so that nothing else is charged.
type CheckoutRequest struct {
	Currency  string
	SeenTotal string // minor units, as shown
}

// Placed is a new order and where to send the fan to pay for it.
type Placed struct {
	OrderID     int64
	CheckoutURL string
}

// PlaceOrder turns the cart into an order and opens its payment. Returns Invalid naming
// "currency" (unknown, or not one we charge in) or "seen_total"; Conflict when the currency or
// a price changed since the cart was shown (the cart then shows the new prices) or an item sold
// out meanwhile; Unprocessable for an empty cart or an item that cannot be sold in the fan's
// market; Unavailable when Stripe does not answer (the cart is then as it was).
func (co *Checkout) PlaceOrder(ctx context.Context, b Buyer, m web.Market, req CheckoutRequest) (_ Placed, err error) {
	defer fault.Annotate(&err, "storefront.PlaceOrder()")
	cur, err := chargeable(req.Currency, Currencies)
	if err != nil {
		return Placed{}, err
	}
	if cur != m.Currency {
		return Placed{}, fault.New(fault.Conflict, "your currency is now %s, not %s: check the cart's prices and check out again", m.Currency, cur)
	}
	seen, err := strconv.ParseInt(strings.TrimSpace(req.SeenTotal), 10, 64)
	if err != nil || seen <= 0 {
		return Placed{}, fault.Validation("the total is missing", fault.Field("seen_total", "check out from the cart page"))
	}
	cart, err := co.loadCart(ctx, b, m)
	if err != nil {
		return Placed{}, err
	}
	if len(cart.Lines) == 0 {
		return Placed{}, fault.New(fault.Unprocessable, "your cart is empty")
	}
	// An item that cannot be sold here is a rule the fan must act on; one that sold out (or
	// has fewer left) is the race for the last items, lost: a conflict.
	var bad, short fault.Fields
	for i, l := range cart.Lines {
		switch {
		case l.SoldOut:
			short.Add(fmt.Sprintf("items[%d]", i), "%s: sold out", l.Title)
		case !l.Available:
			bad.Add(fmt.Sprintf("items[%d]", i), "%s: %s", l.Title, l.Problem)
		case l.Quantity > l.Stock:
			short.Add(fmt.Sprintf("items[%d]", i), "%s: only %d left", l.Title, l.Stock)
		}
	}
	if len(bad) > 0 {
		return Placed{}, &fault.Error{Code: fault.Unprocessable, Message: "some items cannot be bought: remove them or change the quantity", Fields: append(bad, short...)}
	}
	if len(short) > 0 {
		return Placed{}, &fault.Error{Code: fault.Conflict, Message: "some items sold out meanwhile: remove them or change the quantity", Fields: short}
	}
	if cart.Total.Amount != seen {
		return Placed{}, fault.New(fault.Conflict, "the total changed from %s to %s since the cart was shown: check the new prices and check out again",
			money.New(seen, cur).Format(m.Language), cart.Total.Format(m.Language))
	}

	// Lines, royalties and the payee. A destination charge needs one payee: every line sold
	// by one licensee, under its own licence, with a connected Stripe account.
	var royalty int64
	payee := int64(-1)
	for _, l := range cart.Lines {
		royalty += royaltyOf(l.Amount.Amount, l.Licence.RoyaltyBPS)
		own := l.SellerLicenseeID != 0 && l.SellerLicenseeID == l.Licence.LicenseeID
		switch {
		case !own:
			payee = 0
		case payee == -1:
			payee = l.Licence.LicenseeID
		case payee != l.Licence.LicenseeID:
			payee = 0
		}
	}
	destination := ""
	if payee > 0 {
		destination, err = co.StripeAccount(ctx, payee)
		if err != nil {
			return Placed{}, err
		}
	}

	now := co.now()
	expires, sessionEnds := now.Add(co.hold), now.Add(co.ttl)
	var orderID int64
	err = postgres.Tx(ctx, co.db, func(tx pgx.Tx) error {
		var userID *int64
		if b.UserID != 0 {
			userID = &b.UserID
		}
		if err := co.checkHoldLimits(ctx, tx, b, cart); err != nil {
			return err
		}
		fee := int64(0)
		if destination != "" {
			fee = royalty
		}
		lang, _ := m.Language.Base()
		if err := tx.QueryRow(ctx, `INSERT INTO orders (user_id, buyer_hash, country, currency, lang, total_amount, royalty_amount,
			payment_mode, destination, application_fee, expires_at, client_addr, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id`,
			userID, b.TokenHash, m.Country, cur, lang.String(), cart.Total.Amount, royalty, co.pay.Mode(), destination, fee, expires,
			b.Address, now).Scan(&orderID); err != nil {
			return err
		}
		for i, l := range cart.Lines {
			if _, err := tx.Exec(ctx, `INSERT INTO order_lines (order_id, line, listing_id, variant_id, seller_id, title, sku, quantity,
				unit_amount, amount, licence_number, licensee_id, royalty_bps, royalty_amount)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
				orderID, i+1, l.ListingID, l.VariantID, l.SellerID, l.Title, l.SKU, l.Quantity, l.Unit.Amount, l.Amount.Amount,
				l.Licence.Number, l.Licence.LicenseeID, l.Licence.RoyaltyBPS, royaltyOf(l.Amount.Amount, l.Licence.RoyaltyBPS)); err != nil {
				return err
			}
			if err := co.catalog.Reserve(ctx, tx, l.ListingID, l.VariantID, l.Quantity); err != nil {
				if fe, ok := fault.As(err); ok && fe.Code == fault.Conflict {
					return fault.Wrap(fault.Conflict, err, "%s: %s", l.Title, fe.Message)
				}
				return err
			}
		}
		// The cart empties into the order. A second checkout of the same cart at the same time
		// (a double click) waits here for the first and finds nothing left to take.
		tag, err := tx.Exec(ctx, `DELETE FROM cart_items WHERE cart_id = $1`, cart.ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != int64(len(cart.Lines)) {
			return fault.New(fault.Conflict, "this cart was checked out a moment ago: see your orders")
		}
		return nil
	})
	if err != nil {
		return Placed{}, err
	}

	ps := paymentSession{OrderID: orderID, Currency: cur, Destination: destination, ExpiresAt: sessionEnds,
		SuccessURL: fmt.Sprintf("%s/orders/%d?paid=1", co.baseURL, orderID),
		CancelURL:  fmt.Sprintf("%s/orders/%d", co.baseURL, orderID)}
	if destination != "" {
		ps.Fee = royalty
	}
	lang, _ := m.Language.Base()
	ps.Lang = lang.String()
	for _, l := range cart.Lines {
		ps.Lines = append(ps.Lines, paymentLine{Name: l.Title, Unit: l.Unit.Amount, Quantity: l.Quantity})
	}
	opened, err := co.pay.Open(ctx, ps)
	if err != nil {
		// Nothing was charged: the order fails, its stock and the fan's cart come back.
		if ferr := co.failOrder(context.WithoutCancel(ctx), orderID, cart.ID, OrderFailed, "the payment could not be opened"); ferr != nil {
			co.log.Error("undo an order whose payment did not open", "order", orderID, "err", ferr)
		}
		return Placed{}, err
	}
	if _, err := co.db.Exec(ctx, `UPDATE orders SET stripe_session_id = $2, checkout_url = $3, updated_at = now() WHERE id = $1`,
		orderID, opened.ID, opened.URL); err != nil {
		return Placed{}, err
	}
	return Placed{OrderID: orderID, CheckoutURL: opened.URL}, nil
}

// failOrder undoes an order whose payment could not be opened: stock released, the lines put
// back in the cart.
func (co *Checkout) failOrder(ctx context.Context, orderID, cartID int64, status, reason string) error {
	return postgres.Tx(ctx, co.db, func(tx pgx.Tx) error {
		if err := co.releaseOrder(ctx, tx, orderID, status, reason); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO cart_items (cart_id, listing_id, variant_id, quantity, seen_amount, seen_currency)
			SELECT $2, ol.listing_id, ol.variant_id, ol.quantity, ol.unit_amount, o.currency
			FROM order_lines ol JOIN orders o ON o.id = ol.order_id WHERE ol.order_id = $1
			ON CONFLICT (cart_id, listing_id, variant_id) DO NOTHING`, orderID, cartID)
		return err
	})
}

// releaseOrder moves a pending order to status (expired, failed or cancelled) and puts its items back in
// stock, inside tx. An order that is not pending is left alone.
func (co *Checkout) releaseOrder(ctx context.Context, tx pgx.Tx, orderID int64, status, reason string) error {
	var cur string
	var held bool
	err := tx.QueryRow(ctx, `SELECT status, stock_held FROM orders WHERE id = $1 FOR UPDATE`, orderID).Scan(&cur, &held)
	if err != nil {
		return postgres.Err(err, "order")
	}
	if cur != OrderPending {
		return nil
	}
	if held {
		if err := co.releaseStock(ctx, tx, orderID); err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `UPDATE orders SET status = $2, status_reason = $3, stock_held = false, updated_at = now() WHERE id = $1`,
		orderID, status, reason)
	return err
}

func (co *Checkout) releaseStock(ctx context.Context, tx pgx.Tx, orderID int64) error {
	lines, err := orderLineItems(ctx, tx, orderID)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if err := co.catalog.Release(ctx, tx, l.listing, l.variant, l.qty); err != nil {
			return err
		}
	}
	return nil
}

type lineItem struct {
	listing, variant int64
	qty              int
	title            string
}

func orderLineItems(ctx context.Context, tx pgx.Tx, orderID int64) ([]lineItem, error) {
	rows, err := tx.Query(ctx, `SELECT listing_id, variant_id, quantity, title FROM order_lines WHERE order_id = $1 ORDER BY line`, orderID)
	if err != nil {
		return nil, err
	}
	var out []lineItem
	var li lineItem
	_, err = pgx.ForEachRow(rows, []any{&li.listing, &li.variant, &li.qty, &li.title}, func() error { out = append(out, li); return nil })
	return out, err
}

// StripeAccount returns the connected Stripe account of a licensee, or "" when it has none.
func (co *Checkout) StripeAccount(ctx context.Context, licenseeID int64) (_ string, err error) {
	defer fault.Annotate(&err, "storefront.StripeAccount(%d)", licenseeID)
	var acct string
	err = co.db.QueryRow(ctx, `SELECT account_id FROM licensee_stripe_accounts WHERE licensee_id = $1`, licenseeID).Scan(&acct)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return acct, err
}

// SetStripeAccount records (or replaces) a licensee's connected Stripe account, so its own
// sales are destination charges with the royalty as the platform's fee. Returns Invalid naming
// "account_id" unless it looks like acct_…, and Unprocessable for an unknown licensee.
func (co *Checkout) SetStripeAccount(ctx context.Context, licenseeID int64, accountID string) (err error) {
	defer fault.Annotate(&err, "storefront.SetStripeAccount(%d, %q)", licenseeID, accountID)
	accountID = strings.TrimSpace(accountID)
	if !strings.HasPrefix(accountID, "acct_") || len(accountID) < 6 || strings.ContainsFunc(accountID[5:], func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return fault.Validation("the Stripe account is not valid", fault.Field("account_id", "a connected account id looks like acct_1A2b3C"))
	}
	_, err = co.db.Exec(ctx, `INSERT INTO licensee_stripe_accounts (licensee_id, account_id) VALUES ($1, $2)
		ON CONFLICT (licensee_id) DO UPDATE SET account_id = excluded.account_id`, licenseeID, accountID)
	return postgres.Err(err, "Stripe account")
}

// checkHoldLimits refuses a checkout that would make b hold more than co.limits allow in
// unpaid orders: by cart cookie or account, and by client address. It runs in the checkout's
// transaction, after a lock per buyer and per address, so two checkouts at once cannot both
// pass. Returns Unprocessable saying what to do (pay for or cancel an unpaid order, or buy
// fewer), naming the cart line that is too many.
func (co *Checkout) checkHoldLimits(ctx context.Context, tx pgx.Tx, b Buyer, cart Cart) error {
	keys := []string{"hold buyer " + hex.EncodeToString(b.TokenHash)}
	if b.UserID != 0 {
		keys = append(keys, "hold user "+strconv.FormatInt(b.UserID, 10))
	}
	if b.Address != "" {
		keys = append(keys, "hold address "+b.Address)
	}
	slices.Sort(keys) // one order of locks for everyone: no deadlock between two buyers
	for _, k := range keys {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, k); err != nil {
			return err
		}
	}
	// Each of the buyer's identities counts alone: a buyer holds what its cookie holds, or its
	// account, or its address, whichever is the most.
	const mine = `o.status = 'pending' AND o.stock_held AND (
		($1 = 'buyer' AND o.buyer_hash = $2) OR ($1 = 'user' AND o.user_id = $3) OR ($1 = 'address' AND o.client_addr = $4))`
	kinds := []string{"buyer"}
	if b.UserID != 0 {
		kinds = append(kinds, "user")
	}
	if b.Address != "" {
		kinds = append(kinds, "address")
	}
	held := map[int64]int{}
	orders := 0
	for _, kind := range kinds {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM orders o WHERE `+mine, kind, b.TokenHash, b.UserID, b.Address).Scan(&n); err != nil {
			return err
		}
		orders = max(orders, n)
		rows, err := tx.Query(ctx, `SELECT ol.listing_id, sum(ol.quantity)::int FROM order_lines ol JOIN orders o ON o.id = ol.order_id
			WHERE `+mine+` GROUP BY ol.listing_id`, kind, b.TokenHash, b.UserID, b.Address)
		if err != nil {
			return err
		}
		var listing int64
		var units int
		if _, err := pgx.ForEachRow(rows, []any{&listing, &units}, func() error {
			held[listing] = max(held[listing], units)
			return nil
		}); err != nil {
			return err
		}
	}
	if orders >= co.limits.UnpaidOrders {
		return fault.New(fault.Unprocessable, "you already have %d unpaid orders holding items: pay for or cancel one of them (see your orders), or wait until they expire, then check out again", orders)
	}
	inCart := map[int64]int{}
	for _, l := range cart.Lines {
		inCart[l.ListingID] += l.Quantity
	}
	var over fault.Fields
	for i, l := range cart.Lines {
		total := held[l.ListingID] + inCart[l.ListingID]
		if total <= co.limits.UnitsPerListing {
			continue
		}
		if held[l.ListingID] > 0 {
			over.Add(fmt.Sprintf("items[%d]", i), "%s: one buyer may hold at most %d unpaid, and %d are already in your unpaid orders: lower the quantity, or pay for or cancel those orders first",
				l.Title, co.limits.UnitsPerListing, held[l.ListingID])
		} else {
			over.Add(fmt.Sprintf("items[%d]", i), "%s: one buyer may check out at most %d at a time: lower the quantity", l.Title, co.limits.UnitsPerListing)
		}
	}
	if len(over) > 0 {
		return &fault.Error{Code: fault.Unprocessable, Message: "that is more than one buyer may hold unpaid: lower the quantity, or pay for or cancel your unpaid orders first", Fields: over}
	}
	return nil
}
