package storefront

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"marketplace/internal/fault"
	"marketplace/internal/web"
)

// server is the fixture's checkout behind the house web server.
func (f *fixture) server(t *testing.T) *web.Server {
	t.Helper()
	if f.co.srv != nil {
		return f.co.srv
	}
	srv, err := web.NewServer(web.Config{Auth: f.auth, Markets: Markets(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckoutRoutes(srv, f.co); err != nil {
		t.Fatal(err)
	}
	return srv
}

// post sends a webhook delivery and returns the status and the reply's outcome.
func (f *fixture) post(t *testing.T, payload []byte, sig string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", strings.NewReader(string(payload)))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	rec := httptest.NewRecorder()
	f.server(t).Echo.ServeHTTP(rec, req)
	var reply struct {
		Outcome string `json:"outcome"`
		Detail  string `json:"detail"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatalf("reply %d is not JSON (%v): %s", rec.Code, err, rec.Body)
	}
	if rec.Code != http.StatusOK {
		return rec.Code, reply.Detail
	}
	return rec.Code, reply.Outcome
}

// deliver signs an event with the webhook secret and posts it, expecting status.
func (f *fixture) deliver(t *testing.T, id, typ string, session map[string]any, at time.Time, status int) string {
	t.Helper()
	payload, sig := SignedEvent(f.co.WebhookSecret(), id, stripe.EventType(typ), session, at)
	got, outcome := f.post(t, payload, sig)
	if got != status {
		t.Fatalf("%s %s: status %d (%s); want %d", typ, id, got, outcome, status)
	}
	return outcome
}

func TestWebhook(t *testing.T) {
	f := newFixture(t, CheckoutConfig{WebhookSecret: "whsec_test_secret"})
	placed, err := f.place(t, anonBuyer("hook"), f.tee, 1)
	if err != nil {
		t.Fatal(err)
	}
	o := f.order(t, placed.OrderID)
	paid := SessionObject(o.SessionID, o.ID, 3500, "EUR", "paid")
	now := time.Now()

	t.Run("ErrForged", func(t *testing.T) {
		payload, sig := SignedEvent("whsec_not_ours", "evt_forged", "checkout.session.completed", paid, now)
		if status, detail := f.post(t, payload, sig); status != http.StatusBadRequest || !strings.Contains(detail, "signature does not match") {
			t.Fatalf("status %d, %q", status, detail)
		}
		// Signed by us, then altered.
		payload, sig = SignedEvent(f.co.WebhookSecret(), "evt_tampered", "checkout.session.completed", SessionObject(o.SessionID, o.ID, 1, "EUR", "paid"), now)
		payload = []byte(strings.Replace(string(payload), `"amount_total":1`, `"amount_total":3500`, 1))
		if status, _ := f.post(t, payload, sig); status != http.StatusBadRequest {
			t.Fatalf("a tampered payload: status %d", status)
		}
		if status, detail := f.post(t, payload, ""); status != http.StatusBadRequest || !strings.Contains(detail, "missing") {
			t.Fatalf("no signature: status %d, %q", status, detail)
		}
	})
	t.Run("ErrStale", func(t *testing.T) {
		payload, sig := SignedEvent(f.co.WebhookSecret(), "evt_stale", "checkout.session.completed", paid, now.Add(-10*time.Minute))
		if status, detail := f.post(t, payload, sig); status != http.StatusBadRequest || !strings.Contains(detail, "too old") {
			t.Fatalf("status %d, %q", status, detail)
		}
	})
	t.Run("ErrOtherAPIVersion", func(t *testing.T) {
		payload, _ := SignedEvent(f.co.WebhookSecret(), "evt_old_api", "checkout.session.completed", paid, now)
		payload = []byte(strings.Replace(string(payload), stripe.APIVersion, "2020-08-27", 1))
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: f.co.WebhookSecret(), Timestamp: now})
		if status, _ := f.post(t, payload, signed.Header); status != http.StatusBadRequest {
			t.Fatalf("status %d", status)
		}
	})
	if o := f.order(t, placed.OrderID); o.Status != OrderPending || f.count(t, `SELECT count(*) FROM stripe_events`) != 0 {
		t.Fatalf("refused events changed the order (%s) or were recorded", o.Status)
	}
	t.Run("ErrAmountMismatchDoesNotPay", func(t *testing.T) {
		out := f.deliver(t, "evt_short", "checkout.session.completed", SessionObject(o.SessionID, o.ID, 100, "EUR", "paid"), now, http.StatusOK)
		if o := f.order(t, placed.OrderID); o.Status != OrderPending || !strings.Contains(out, "is not the order's") {
			t.Fatalf("order %s after %q", o.Status, out)
		}
	})
	t.Run("CompletedMarksPaid", func(t *testing.T) {
		if out := f.deliver(t, "evt_paid", "checkout.session.completed", paid, now, http.StatusOK); out != outcomePaid {
			t.Fatalf("outcome %q", out)
		}
		o := f.order(t, placed.OrderID)
		if o.Status != OrderPaid || o.PaidAt == nil || f.stock(t, f.tee.ID) != 2 {
			t.Fatalf("order %+v, stock %d", o, f.stock(t, f.tee.ID))
		}
	})
	t.Run("ReplayedChangesNothing", func(t *testing.T) {
		if out := f.deliver(t, "evt_paid", "checkout.session.completed", paid, now, http.StatusOK); out != outcomeDuplicate {
			t.Fatalf("outcome %q", out)
		}
		if n := f.count(t, `SELECT count(*) FROM stripe_events WHERE id = 'evt_paid'`); n != 1 {
			t.Fatalf("%d rows", n)
		}
	})
	t.Run("ExpiredAfterCompletedIsIgnored", func(t *testing.T) {
		out := f.deliver(t, "evt_late_expiry", "checkout.session.expired", SessionObject(o.SessionID, o.ID, 3500, "EUR", "unpaid"), now.Add(-time.Minute), http.StatusOK)
		o := f.order(t, placed.OrderID)
		if o.Status != OrderPaid || f.stock(t, f.tee.ID) != 2 || !strings.Contains(out, "already paid") {
			t.Fatalf("order %s, stock %d, %q", o.Status, f.stock(t, f.tee.ID), out)
		}
	})
	t.Run("UnknownTypesAndOrdersAreAcknowledged", func(t *testing.T) {
		if out := f.deliver(t, "evt_other", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}, now, http.StatusOK); !strings.HasPrefix(out, outcomeIgnored) {
			t.Fatalf("outcome %q", out)
		}
		if out := f.deliver(t, "evt_stranger", "checkout.session.completed", SessionObject("cs_x", 999999, 1, "EUR", "paid"), now, http.StatusOK); !strings.Contains(out, "unknown order") {
			t.Fatalf("outcome %q", out)
		}
	})
}

// TestWebhookOutOfOrder: a payment that completes after its session expired (the expiry
// event, or the sweeper, got there first) takes the stock again, or is flagged for refund when
// the last items were sold meanwhile.
func TestWebhookOutOfOrder(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	first, err := f.place(t, anonBuyer("late payer"), f.tee, 2)
	if err != nil {
		t.Fatal(err)
	}
	o := f.order(t, first.OrderID)
	now := time.Now()
	if out := f.deliver(t, "evt_exp_1", "checkout.session.expired", SessionObject(o.SessionID, o.ID, 7000, "EUR", "unpaid"), now, http.StatusOK); out != outcomeExpired {
		t.Fatalf("outcome %q", out)
	}
	if o := f.order(t, first.OrderID); o.Status != OrderExpired || f.stock(t, f.tee.ID) != 3 {
		t.Fatalf("order %s, stock %d", o.Status, f.stock(t, f.tee.ID))
	}
	f.deliver(t, "evt_paid_1", "checkout.session.completed", SessionObject(o.SessionID, o.ID, 7000, "EUR", "paid"), now.Add(-time.Minute), http.StatusOK)
	if o := f.order(t, first.OrderID); o.Status != OrderPaid || o.RefundDue.Amount != 0 || f.stock(t, f.tee.ID) != 1 {
		t.Fatalf("order %+v, stock %d", o, f.stock(t, f.tee.ID))
	}

	// Now the last item: it expires, someone else buys it, then the late payment arrives.
	second, err := f.place(t, anonBuyer("second"), f.tee, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := f.order(t, second.OrderID)
	f.deliver(t, "evt_exp_2", "checkout.session.expired", SessionObject(s.SessionID, s.ID, 3500, "EUR", "unpaid"), now, http.StatusOK)
	if _, err := f.place(t, anonBuyer("third"), f.tee, 1); err != nil {
		t.Fatal(err)
	}
	out := f.deliver(t, "evt_paid_2", "checkout.session.completed", SessionObject(s.SessionID, s.ID, 3500, "EUR", "paid"), now, http.StatusOK)
	s = f.order(t, second.OrderID)
	if s.Status != OrderPaid || s.RefundDue.Amount != 3500 || !strings.Contains(s.RefundReason, "sold out") || !strings.Contains(out, "refund") {
		t.Fatalf("order %+v, outcome %q", s, out)
	}
	if st := f.stock(t, f.tee.ID); st != 0 {
		t.Fatalf("stock %d", st)
	}
}

// TestCompleteTestPayment checks that the test-payment page's completion is the webhook's
// path: the event is recorded under its id with its outcome, and a second click is a
// redelivery that changes nothing.
func TestCompleteTestPayment(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	ctx := context.Background()
	fan := anonBuyer("testpay")
	placed, err := f.place(t, fan, f.tee, 1)
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.co.Order(ctx, placed.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	eventOutcome := func(id string) (string, int) {
		t.Helper()
		var outcome string
		var n int
		if err := f.db.QueryRow(ctx, `SELECT coalesce(max(outcome), ''), count(*) FROM stripe_events WHERE id = $1`, id).Scan(&outcome, &n); err != nil {
			t.Fatal(err)
		}
		return outcome, n
	}
	paidEvent := "evt_testpay_" + strings.TrimPrefix(o.SessionID, "cs_test_local_") + "_paid"

	t.Run("ErrAnotherBuyersSession", func(t *testing.T) {
		if _, err := f.co.CompleteTestPayment(ctx, anonBuyer("stranger"), o.SessionID, true); !fault.Is(err, fault.NotFound) {
			t.Fatalf("err = %v, want NotFound", err)
		}
		if _, n := eventOutcome(paidEvent); n != 0 {
			t.Fatal("a stranger's click recorded an event")
		}
	})
	t.Run("ErrUnknownSession", func(t *testing.T) {
		if _, err := f.co.CompleteTestPayment(ctx, fan, "cs_test_local_0_nope", true); !fault.Is(err, fault.NotFound) {
			t.Fatalf("err = %v, want NotFound", err)
		}
	})
	t.Run("PaysThroughTheWebhookPath", func(t *testing.T) {
		got, err := f.co.CompleteTestPayment(ctx, fan, o.SessionID, true)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != OrderPaid {
			t.Fatalf("status = %s, want paid", got.Status)
		}
		if outcome, n := eventOutcome(paidEvent); n != 1 || outcome != outcomePaid {
			t.Fatalf("event %s: %d rows, outcome %q; want one, %q", paidEvent, n, outcome, outcomePaid)
		}
	})
	t.Run("SecondClickChangesNothing", func(t *testing.T) {
		before := f.stock(t, f.tee.ID)
		got, err := f.co.CompleteTestPayment(ctx, fan, o.SessionID, true)
		if err != nil || got.Status != OrderPaid {
			t.Fatalf("second click: %v, %v", got.Status, err)
		}
		if outcome, n := eventOutcome(paidEvent); n != 1 || outcome != outcomePaid {
			t.Fatalf("event %s after a second click: %d rows, outcome %q", paidEvent, n, outcome)
		}
		if after := f.stock(t, f.tee.ID); after != before {
			t.Fatalf("stock %d → %d after a second click", before, after)
		}
	})
	t.Run("AbandonAfterPaymentKeepsItPaid", func(t *testing.T) {
		got, err := f.co.CompleteTestPayment(ctx, fan, o.SessionID, false)
		if err != nil || got.Status != OrderPaid {
			t.Fatalf("abandon after payment: %v, %v", got.Status, err)
		}
	})
	t.Run("ErrNotInTestMode", func(t *testing.T) {
		live := newFixture(t, CheckoutConfig{StripeSecretKey: "sk_test_123"})
		if _, err := live.co.TestPayment(ctx, fan, o.SessionID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("err = %v, want NotFound", err)
		}
	})
}
