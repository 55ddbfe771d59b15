package storefront

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"marketplace/internal/fault"
	"marketplace/internal/postgres"
)

// maxWebhookBody bounds an event: Stripe's are a few kilobytes.
const maxWebhookBody = 256 << 10

// Event outcomes, recorded with each event id and answered to Stripe.
const (
	outcomePaid      = "order paid"
	outcomeDuplicate = "duplicate: already applied"
	outcomeExpired   = "order expired, stock released"
	outcomeIgnored   = "ignored"
)

// HandleStripeEvent verifies and applies one webhook delivery. The signature is checked with
// the webhook secret (webhook.ConstructEvent: a wrong or missing signature, a timestamp older
// than five minutes and an API version other than stripe-go's are refused with Invalid). An
// event id already applied changes nothing (Stripe redelivers). Events may arrive in any order:
// a paid order is never expired again, and a payment that completes after its session expired
// takes its stock again, or is flagged for refund when the stock is gone.
func (co *Checkout) HandleStripeEvent(ctx context.Context, payload []byte, signature string) (_ string, err error) {
	defer fault.Annotate(&err, "storefront.HandleStripeEvent(%q)", signature)
	ev, err := webhook.ConstructEvent(payload, signature, co.secret)
	if err != nil {
		switch {
		case errors.Is(err, webhook.ErrTooOld):
			return "", fault.Wrap(fault.Invalid, err, "the event is too old (its signature's timestamp is more than five minutes away): refused")
		case errors.Is(err, webhook.ErrNotSigned):
			return "", fault.Wrap(fault.Invalid, err, "the Stripe-Signature header is missing")
		case errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrInvalidHeader):
			return "", fault.Wrap(fault.Invalid, err, "the signature does not match: refused")
		default:
			return "", fault.Wrap(fault.Invalid, err, "the event cannot be read: %s", err.Error())
		}
	}
	return co.applyStripeEvent(ctx, ev)
}

// applyStripeEvent applies one verified event in one transaction, once per event id: the
// payment-completion path that the webhook and the test-payment page (CompleteTestPayment)
// share. It returns the outcome recorded with the event id.
func (co *Checkout) applyStripeEvent(ctx context.Context, ev stripe.Event) (string, error) {
	var outcome string
	err := postgres.Tx(ctx, co.db, func(tx pgx.Tx) error {
		created := time.Unix(ev.Created, 0).UTC()
		tag, err := tx.Exec(ctx, `INSERT INTO stripe_events (id, type, created, outcome) VALUES ($1, $2, $3, '')
			ON CONFLICT (id) DO NOTHING`, ev.ID, string(ev.Type), created)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			outcome = outcomeDuplicate
			return nil
		}
		var orderID int64
		outcome, orderID, err = co.applyEvent(ctx, tx, ev)
		if err != nil {
			return err
		}
		var order *int64
		if orderID != 0 {
			order = &orderID
			if _, err := tx.Exec(ctx, `UPDATE orders SET last_event_at = greatest(last_event_at, $2) WHERE id = $1`, orderID, created); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE stripe_events SET outcome = $2, order_id = $3 WHERE id = $1`, ev.ID, outcome, order)
		return err
	})
	if err != nil {
		return "", err
	}
	co.log.Info("stripe event", "id", ev.ID, "type", ev.Type, "outcome", outcome)
	return outcome, nil
}

// applyEvent changes the order an event is about, inside tx.
func (co *Checkout) applyEvent(ctx context.Context, tx pgx.Tx, ev stripe.Event) (string, int64, error) {
	switch ev.Type {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded,
		stripe.EventTypeCheckoutSessionExpired, stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
	default:
		return outcomeIgnored + ": " + string(ev.Type), 0, nil
	}
	var s stripe.CheckoutSession
	if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &s) != nil {
		return "", 0, fault.New(fault.Invalid, "the event's data is not a checkout session")
	}
	ref := s.ClientReferenceID
	if ref == "" {
		ref = s.Metadata["order_id"]
	}
	orderID, err := strconv.ParseInt(ref, 10, 64)
	if err != nil {
		return outcomeIgnored + ": not one of our orders", 0, nil
	}
	var o struct {
		status, currency, session string
		total                     int64
		held                      bool
	}
	err = tx.QueryRow(ctx, `SELECT status, currency, coalesce(stripe_session_id, ''), total_amount, stock_held FROM orders WHERE id = $1 FOR UPDATE`,
		orderID).Scan(&o.status, &o.currency, &o.session, &o.total, &o.held)
	if errors.Is(err, pgx.ErrNoRows) {
		return outcomeIgnored + ": unknown order", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	if o.session != "" && s.ID != o.session {
		return outcomeIgnored + ": a session this order no longer uses", orderID, nil
	}

	switch ev.Type {
	case stripe.EventTypeCheckoutSessionExpired, stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		if o.status != OrderPending {
			return outcomeIgnored + ": order already " + o.status, orderID, nil
		}
		reason := "the payment was not completed in time"
		if ev.Type == stripe.EventTypeCheckoutSessionAsyncPaymentFailed {
			reason = "the payment failed"
		}
		return outcomeExpired, orderID, co.releaseOrder(ctx, tx, orderID, OrderExpired, reason)
	}

	// Completed, or an async payment that succeeded.
	if s.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid {
		return outcomeIgnored + ": payment not yet received (" + string(s.PaymentStatus) + ")", orderID, nil
	}
	if s.AmountTotal != o.total || !strings.EqualFold(string(s.Currency), o.currency) {
		co.log.Error("stripe session amount differs from the order", "order", orderID, "session", s.ID,
			"stripe_amount", s.AmountTotal, "stripe_currency", s.Currency, "order_amount", o.total, "order_currency", o.currency)
		return fmt.Sprintf("%s: amount %d %s is not the order's %d %s", outcomeIgnored, s.AmountTotal, s.Currency, o.total, o.currency), orderID, nil
	}
	if o.status == OrderPaid {
		return outcomeIgnored + ": order already paid", orderID, nil
	}
	refund, reason := int64(0), ""
	if !o.held {
		// The session expired here first (its event, or the sweeper) and the items went back on
		// sale; the payment came anyway. Take them again if they are still there.
		err := co.reserveAgain(ctx, tx, orderID)
		switch {
		case fault.Is(err, fault.Conflict):
			fe, _ := fault.As(err)
			refund, reason = o.total, "sold out while the payment was late: "+fe.Message
		case err != nil:
			return "", 0, err
		}
	}
	pi := ""
	if s.PaymentIntent != nil {
		pi = s.PaymentIntent.ID
	}
	_, err = tx.Exec(ctx, `UPDATE orders SET status = 'paid', status_reason = '', paid_at = now(), stock_held = $2,
		payment_intent = $3, stripe_session_id = coalesce(stripe_session_id, $4),
		refund_due = refund_due + $5 + (SELECT coalesce(sum(amount), 0) FROM order_lines WHERE order_id = $1 AND counterfeit_at IS NOT NULL),
		refund_reason = CASE WHEN $6 <> '' THEN $6 WHEN EXISTS (SELECT 1 FROM order_lines WHERE order_id = $1 AND counterfeit_at IS NOT NULL)
			THEN 'counterfeit' ELSE refund_reason END,
		updated_at = now() WHERE id = $1`, orderID, refund == 0, pi, s.ID, refund, reason)
	if err != nil {
		return "", 0, err
	}
	if refund > 0 {
		return outcomePaid + ", flagged for refund: " + reason, orderID, nil
	}
	return outcomePaid, orderID, nil
}

// reserveAgain takes an order's items out of stock again, all or none (a savepoint undoes a
// partial reservation).
func (co *Checkout) reserveAgain(ctx context.Context, tx pgx.Tx, orderID int64) error {
	lines, err := orderLineItems(ctx, tx, orderID)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error {
		for _, l := range lines {
			if err := co.catalog.Reserve(ctx, sp, l.listing, l.variant, l.qty); err != nil {
				if fe, ok := fault.As(err); ok && fe.Code == fault.Conflict {
					return fault.New(fault.Conflict, "%s: %s", l.title, fe.Message)
				}
				return err
			}
		}
		return nil
	})
}

// webhookReply is what Stripe (or a person testing) reads back.
type webhookReply struct {
	Received bool   `json:"received"`
	Outcome  string `json:"outcome"`
}

// stripeWebhook is POST /webhooks/stripe.
func (co *Checkout) stripeWebhook(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxWebhookBody+1))
	if err != nil {
		return fault.Wrap(fault.Invalid, err, "the event could not be read")
	}
	if len(body) > maxWebhookBody {
		return fault.New(fault.TooLarge, "the event is larger than %d bytes", maxWebhookBody)
	}
	outcome, err := co.HandleStripeEvent(c.Request().Context(), body, c.Request().Header.Get("Stripe-Signature"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookReply{Received: true, Outcome: outcome})
}

// SignedEvent builds a Stripe event about a checkout session, as Stripe would send it (API
// version 2023-10-16), and its Stripe-Signature header for secret at time at. Tests use them
// to build their deliveries.
func SignedEvent(secret, eventID string, typ stripe.EventType, session map[string]any, at time.Time) (payload []byte, header string) {
	ev := map[string]any{
		"id": eventID, "object": "event", "api_version": stripe.APIVersion, "created": at.Unix(), "livemode": false,
		"pending_webhooks": 1, "type": typ, "data": map[string]any{"object": session},
		"request": map[string]any{"id": nil, "idempotency_key": nil},
	}
	payload, _ = json.Marshal(ev)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	return payload, signed.Header
}

// SessionObject is the checkout.session an event carries for an order.
func SessionObject(sessionID string, orderID int64, amount int64, currency, paymentStatus string) map[string]any {
	id := strconv.FormatInt(orderID, 10)
	status := "complete"
	if paymentStatus == "unpaid" {
		status = "expired"
	}
	return map[string]any{
		"id": sessionID, "object": "checkout.session", "client_reference_id": id, "amount_total": amount,
		"currency": strings.ToLower(currency), "payment_status": paymentStatus, "status": status, "mode": "payment",
		"payment_intent": "pi_" + strings.TrimPrefix(sessionID, "cs_"), "metadata": map[string]string{"order_id": id},
	}
}
