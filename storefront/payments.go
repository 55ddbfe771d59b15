package storefront

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"marketplace/internal/fault"
	"marketplace/internal/money"
)

// PaymentMode says who takes the fan's money: Stripe, or the labelled test-payment page when
// no Stripe key is configured.
type PaymentMode string

// The payment modes.
const (
	PaymentStripe PaymentMode = "stripe"
	PaymentTest   PaymentMode = "test"
)

// paymentSession is what the payment side needs to open a checkout for one order.
type paymentSession struct {
	OrderID     int64
	Currency    string // ISO 4217, upper case
	Lang        string // BCP 47 base language of the fan's pages
	Lines       []paymentLine
	Destination string // a licensee's connected account, or ""
	Fee         int64  // the royalty kept as the platform's application fee (destination charges)
	ExpiresAt   time.Time
	SuccessURL  string
	CancelURL   string
}

type paymentLine struct {
	Name     string
	Unit     int64
	Quantity int
}

// openedSession is the payment side's answer: where to send the fan.
type openedSession struct {
	ID  string
	URL string
}

// gateway opens and closes checkout sessions.
type gateway interface {
	Mode() PaymentMode
	Open(ctx context.Context, s paymentSession) (openedSession, error)
	// Expire closes a session that was not paid, so a late payment cannot arrive after its
	// stock went back on sale. Returns Conflict when the session was completed meanwhile.
	Expire(ctx context.Context, orderID int64, sessionID string) error
}

// stripeGateway is Stripe Checkout through stripe-go (API version 2023-10-16).
type stripeGateway struct {
	api *client.API
}

func newStripeGateway(key, apiURL string, hc *http.Client) *stripeGateway {
	cfg := &stripe.BackendConfig{MaxNetworkRetries: stripe.Int64(2), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError},
		HTTPClient: hc}
	if apiURL != "" {
		cfg.URL = stripe.String(strings.TrimSuffix(apiURL, "/"))
	}
	backends := &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg),
	}
	api := &client.API{}
	api.Init(key, backends)
	return &stripeGateway{api: api}
}

func (g *stripeGateway) Mode() PaymentMode { return PaymentStripe }

// stripeLocales are the Checkout page languages we ask for; others fall back to Stripe's "auto".
var stripeLocales = map[string]string{"en": "en", "fr": "fr", "zh": "zh"}

// Open creates the Checkout Session. Its idempotency key is derived from the order alone, so a
// retry (by stripe-go after a network error, or by us) returns the same session instead of
// opening a second one.
func (g *stripeGateway) Open(ctx context.Context, s paymentSession) (openedSession, error) {
	id := strconv.FormatInt(s.OrderID, 10)
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(id),
		Currency:          stripe.String(strings.ToLower(s.Currency)),
		SuccessURL:        stripe.String(s.SuccessURL),
		CancelURL:         stripe.String(s.CancelURL),
		ExpiresAt:         stripe.Int64(s.ExpiresAt.Unix()),
		Metadata:          map[string]string{"order_id": id},
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: map[string]string{"order_id": id}},
	}
	params.Context = ctx
	if loc, ok := stripeLocales[s.Lang]; ok {
		params.Locale = stripe.String(loc)
	}
	for _, l := range s.Lines {
		params.LineItems = append(params.LineItems, &stripe.CheckoutSessionLineItemParams{
			Quantity: stripe.Int64(int64(l.Quantity)),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(strings.ToLower(s.Currency)),
				UnitAmount:  stripe.Int64(l.Unit),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(l.Name)},
			},
		})
	}
	if s.Destination != "" {
		// A destination charge: the licensee is paid through Connect and the platform keeps
		// the royalty owed under its licence as the application fee.
		params.PaymentIntentData.ApplicationFeeAmount = stripe.Int64(s.Fee)
		params.PaymentIntentData.TransferData = &stripe.CheckoutSessionPaymentIntentDataTransferDataParams{
			Destination: stripe.String(s.Destination)}
	}
	params.SetIdempotencyKey("order-" + id + "-checkout-session")
	sess, err := g.api.CheckoutSessions.New(params)
	if err != nil {
		return openedSession{}, stripeErr(err, "open the Stripe checkout")
	}
	return openedSession{ID: sess.ID, URL: sess.URL}, nil
}

// Expire closes an open session; one already expired counts as done.
func (g *stripeGateway) Expire(ctx context.Context, orderID int64, sessionID string) error {
	params := &stripe.CheckoutSessionExpireParams{}
	params.Context = ctx
	params.SetIdempotencyKey("order-" + strconv.FormatInt(orderID, 10) + "-expire-session")
	_, err := g.api.CheckoutSessions.Expire(sessionID, params)
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode == 400 {
		if strings.Contains(se.Msg, "complete") {
			return fault.Wrap(fault.Conflict, err, "the Stripe checkout was completed meanwhile")
		}
		if strings.Contains(se.Msg, "expired") {
			return nil
		}
	}
	if err != nil {
		return stripeErr(err, "expire the Stripe checkout")
	}
	return nil
}

// stripeErr keeps Stripe's reason in the log and tells the fan their cart is safe.
func stripeErr(err error, what string) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 && se.HTTPStatusCode != 429 {
		return fault.Wrap(fault.Unprocessable, err, "Stripe refused to %s: %s", what, se.Msg)
	}
	return fault.Wrap(fault.Unavailable, err, "could not %s: the payment service did not answer; nothing was charged, try again", what)
}

// testGateway stands in for Stripe when no key is configured: its sessions are pages of our
// own (/testpay/{id}), clearly labelled, that complete the order through CompleteTestPayment
// with the checkout.session event Stripe would send.
type testGateway struct{}

func (g *testGateway) Mode() PaymentMode { return PaymentTest }

func (g *testGateway) Open(_ context.Context, s paymentSession) (openedSession, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := fmt.Sprintf("cs_test_local_%d_%s", s.OrderID, hex.EncodeToString(b[:]))
	// A path on this site, not BASE_URL: the page is ours, wherever the fan reached us.
	return openedSession{ID: id, URL: "/testpay/" + id}, nil
}

func (g *testGateway) Expire(context.Context, int64, string) error { return nil }

// TestPayment returns the order of test-payment session for its buyer (OrderFor's rules), for
// the labelled test-payment page. Returns fault.NotFound when payments are not in test mode,
// when no test-mode order has that session, or when it is not the buyer's.
func (co *Checkout) TestPayment(ctx context.Context, b Buyer, session string) (_ Order, err error) {
	defer fault.Annotate(&err, "storefront.TestPayment(%q)", session)
	if co.Mode() != PaymentTest {
		return Order{}, fault.New(fault.NotFound, "no test payment %q", session)
	}
	var id int64
	err = co.db.QueryRow(ctx, `SELECT id FROM orders WHERE stripe_session_id = $1 AND payment_mode = 'test'`, session).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Order{}, fault.New(fault.NotFound, "no test payment %q", session)
	}
	if err != nil {
		return Order{}, err
	}
	return co.OrderFor(ctx, b, id)
}

// CompleteTestPayment pays the buyer's test-mode order of session, or with paid false
// abandons it, the way Stripe would: the checkout.session.completed (or .expired) event that
// Stripe would send goes through the webhook's own path (applyStripeEvent), without a
// signature since it never leaves the process. The event id is one per session and outcome,
// so a second click is a redelivery and changes nothing. Returns the order as it is after the
// event, and TestPayment's errors.
func (co *Checkout) CompleteTestPayment(ctx context.Context, b Buyer, session string, paid bool) (_ Order, err error) {
	defer fault.Annotate(&err, "storefront.CompleteTestPayment(%q)", session)
	o, err := co.TestPayment(ctx, b, session)
	if err != nil {
		return Order{}, err
	}
	typ, status := stripe.EventTypeCheckoutSessionCompleted, "paid"
	if !paid {
		typ, status = stripe.EventTypeCheckoutSessionExpired, "unpaid"
	}
	raw, err := json.Marshal(SessionObject(o.SessionID, o.ID, o.Total.Amount, o.Total.Currency, status))
	if err != nil {
		return Order{}, err
	}
	ev := stripe.Event{
		ID:         fmt.Sprintf("evt_testpay_%s_%s", strings.TrimPrefix(o.SessionID, "cs_test_local_"), status),
		Type:       typ,
		Created:    co.now().Unix(),
		APIVersion: stripe.APIVersion,
		Data:       &stripe.EventData{Raw: raw},
	}
	if _, err := co.applyStripeEvent(ctx, ev); err != nil {
		return Order{}, err
	}
	return co.OrderFor(ctx, b, o.ID)
}

// chargeable reports whether Stripe can charge in cur: an ISO 4217 code among the currencies the
// store runs in. Returns Invalid naming "currency" otherwise.
func chargeable(cur string, allowed []string) (string, error) {
	code, err := money.ParseCurrency(cur)
	if err != nil {
		return "", fault.Validation("the currency is not valid", fault.Field("currency", "%q is not an ISO 4217 currency code", cur))
	}
	for _, a := range allowed {
		if a == code {
			return code, nil
		}
	}
	return "", fault.Validation("the currency is not valid", fault.Field("currency", "we do not charge in %s; choose one of %s", code, strings.Join(allowed, ", ")))
}
