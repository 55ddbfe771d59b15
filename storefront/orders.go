package storefront

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
)

// Order is a fan's purchase as its pages show it.
type Order struct {
	ID           int64
	UserID       int64
	Country      string
	Status       string
	StatusReason string
	Total        money.Money
	Royalty      money.Money
	PaymentMode  PaymentMode
	SessionID    string
	CheckoutURL  string
	Destination  string
	Fee          money.Money
	ExpiresAt    time.Time
	PaidAt       *time.Time
	RefundDue    money.Money
	RefundReason string
	CreatedAt    time.Time
	Lines        []OrderLine
	buyerHash    []byte
}

// OrderLine is one line of an order, with the licence it was sold under and the royalty owed.
type OrderLine struct {
	Line          int
	ListingID     int64
	VariantID     int64
	Title         string
	SKU           string
	Quantity      int
	Unit          money.Money
	Amount        money.Money
	LicenceNumber string
	LicenseeID    int64
	RoyaltyBPS    int
	Royalty       money.Money
	Counterfeit   bool
}

// PaidOn is when the order was paid (zero while it is not).
func (o Order) PaidOn() time.Time {
	if o.PaidAt == nil {
		return time.Time{}
	}
	return *o.PaidAt
}

// Badge is the CSS class of the order's status badge.
func (o Order) Badge() string {
	switch o.Status {
	case OrderPaid:
		return "ok"
	case OrderPending:
		return "warn"
	}
	return "bad"
}

const orderColumns = `id, coalesce(user_id, 0), buyer_hash, country, status, status_reason, currency, total_amount, royalty_amount,
	payment_mode, coalesce(stripe_session_id, ''), checkout_url, destination, application_fee, expires_at, paid_at,
	refund_due, refund_reason, created_at`

func scanOrder(row pgx.Row) (Order, error) {
	var o Order
	var cur string
	err := row.Scan(&o.ID, &o.UserID, &o.buyerHash, &o.Country, &o.Status, &o.StatusReason, &cur, &o.Total.Amount, &o.Royalty.Amount,
		&o.PaymentMode, &o.SessionID, &o.CheckoutURL, &o.Destination, &o.Fee.Amount, &o.ExpiresAt, &o.PaidAt,
		&o.RefundDue.Amount, &o.RefundReason, &o.CreatedAt)
	o.Total.Currency, o.Royalty.Currency, o.Fee.Currency, o.RefundDue.Currency = cur, cur, cur, cur
	return o, err
}

// Order returns an order with its lines, whoever it belongs to (for the service's own use and
// tests; pages use OrderFor).
func (co *Checkout) Order(ctx context.Context, id int64) (_ Order, err error) {
	defer fault.Annotate(&err, "storefront.Order(%d)", id)
	o, err := scanOrder(co.db.QueryRow(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, id))
	if err != nil {
		return Order{}, postgres.Err(err, "order")
	}
	rows, err := co.db.Query(ctx, `SELECT line, listing_id, variant_id, title, sku, quantity, unit_amount, amount,
		licence_number, licensee_id, royalty_bps, royalty_amount, counterfeit_at IS NOT NULL FROM order_lines WHERE order_id = $1 ORDER BY line`, id)
	if err != nil {
		return Order{}, err
	}
	var l OrderLine
	_, err = pgx.ForEachRow(rows, []any{&l.Line, &l.ListingID, &l.VariantID, &l.Title, &l.SKU, &l.Quantity, &l.Unit.Amount, &l.Amount.Amount,
		&l.LicenceNumber, &l.LicenseeID, &l.RoyaltyBPS, &l.Royalty.Amount, &l.Counterfeit}, func() error {
		cur := o.Total.Currency
		l.Unit.Currency, l.Amount.Currency, l.Royalty.Currency = cur, cur, cur
		o.Lines = append(o.Lines, l)
		return nil
	})
	return o, err
}

// OrderFor returns an order to its buyer: the fan who placed it, or, for an order placed
// without logging in, the browser that holds its cart token. Returns NotFound for anyone else,
// as for an order that does not exist.
func (co *Checkout) OrderFor(ctx context.Context, b Buyer, id int64) (_ Order, err error) {
	defer fault.Annotate(&err, "storefront.OrderFor(%d)", id)
	o, err := co.Order(ctx, id)
	if err != nil {
		return Order{}, err
	}
	mine := (o.UserID != 0 && o.UserID == b.UserID) ||
		(o.UserID == 0 && b.TokenHash != nil && bytes.Equal(o.buyerHash, b.TokenHash))
	if !mine {
		return Order{}, fault.New(fault.NotFound, "order not found")
	}
	return o, nil
}

// OrdersOf lists a fan's orders, newest first (at most 200).
func (co *Checkout) OrdersOf(ctx context.Context, userID int64) (_ []Order, err error) {
	defer fault.Annotate(&err, "storefront.OrdersOf(%d)", userID)
	rows, err := co.db.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200`, userID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Order, error) { return scanOrder(r) })
}

// CancelOrder ends a pending order its buyer no longer wants to pay: the payment session is
// expired first (so a payment cannot follow), then the stock is released and the items go back
// in the cart. Returns NotFound for another's order, Conflict when it is no longer pending or
// the payment was completed meanwhile.
func (co *Checkout) CancelOrder(ctx context.Context, b Buyer, id int64) (err error) {
	defer fault.Annotate(&err, "storefront.CancelOrder(%d)", id)
	o, err := co.OrderFor(ctx, b, id)
	if err != nil {
		return err
	}
	if o.Status != OrderPending {
		return fault.New(fault.Conflict, "the order is %s, not waiting for payment", o.Status)
	}
	if o.SessionID != "" {
		if err := co.pay.Expire(ctx, o.ID, o.SessionID); err != nil {
			return err
		}
	}
	cart, err := co.cartID(ctx, b, true)
	if err != nil {
		return err
	}
	return co.failOrder(ctx, o.ID, cart, OrderCancelled, "cancelled by the fan")
}

// FlagCounterfeit records that the listing was found counterfeit after it was sold: every line
// of it in a paid order is marked, and its amount is added to what the order owes the fan back
// (the order page tells the fan). Lines of orders still waiting for payment are marked too, and
// refunded when the payment arrives. It runs inside tx, the review decision's transaction.
func (co *Checkout) FlagCounterfeit(ctx context.Context, tx pgx.Tx, listingID int64) (err error) {
	defer fault.Annotate(&err, "storefront.FlagCounterfeit(%d)", listingID)
	rows, err := tx.Query(ctx, `UPDATE order_lines ol SET counterfeit_at = now() FROM orders o
		WHERE o.id = ol.order_id AND ol.listing_id = $1 AND ol.counterfeit_at IS NULL AND o.status IN ('pending', 'paid')
		RETURNING o.id, o.status, ol.amount`, listingID)
	if err != nil {
		return err
	}
	refunds := map[int64]int64{}
	var id, amount int64
	var status string
	if _, err := pgx.ForEachRow(rows, []any{&id, &status, &amount}, func() error {
		if status == OrderPaid {
			refunds[id] += amount
		}
		return nil
	}); err != nil {
		return err
	}
	for id, amount := range refunds {
		if _, err := tx.Exec(ctx, `UPDATE orders SET refund_due = least(total_amount, refund_due + $2), refund_reason = 'counterfeit',
			updated_at = now() WHERE id = $1`, id, amount); err != nil {
			return err
		}
	}
	return nil
}

// ExpireStale expires pending orders whose hold is over: the payment session is expired at
// Stripe first, so no payment can follow, then the stock is released. The hold usually ends
// before the session (Stripe's sessions last 30 minutes at least), so nothing is waited for;
// when the session ends with the hold, the sweeper waits the grace period for Stripe's own
// checkout.session.expired. Returns how many orders it expired.
func (co *Checkout) ExpireStale(ctx context.Context) (_ int, err error) {
	defer fault.Annotate(&err, "storefront.ExpireStale()")
	cutoff := co.now()
	if co.hold >= co.ttl {
		cutoff = cutoff.Add(-co.grace)
	}
	rows, err := co.db.Query(ctx, `SELECT id, coalesce(stripe_session_id, '') FROM orders
		WHERE status = 'pending' AND expires_at < $1 ORDER BY expires_at LIMIT 500`, cutoff)
	if err != nil {
		return 0, err
	}
	type stale struct {
		id      int64
		session string
	}
	var list []stale
	var s stale
	if _, err := pgx.ForEachRow(rows, []any{&s.id, &s.session}, func() error { list = append(list, s); return nil }); err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, s := range list {
		if s.session != "" {
			if err := co.pay.Expire(ctx, s.id, s.session); err != nil {
				// Completed meanwhile: its checkout.session.completed will mark it paid.
				if !fault.Is(err, fault.Conflict) {
					errs = append(errs, err)
				}
				continue
			}
		}
		err := postgres.Tx(ctx, co.db, func(tx pgx.Tx) error {
			return co.releaseOrder(ctx, tx, s.id, OrderExpired, "the payment was not completed in time")
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// ExpireCheckoutsArgs is the periodic job that runs ExpireStale.
type ExpireCheckoutsArgs struct{}

// Kind names the job in River's table.
func (ExpireCheckoutsArgs) Kind() string { return "storefront.expire_checkouts" }

// ExpireCheckoutsWorker works ExpireCheckoutsArgs.
type ExpireCheckoutsWorker struct {
	river.WorkerDefaults[ExpireCheckoutsArgs]
	Checkout *Checkout
}

// Work expires what is stale.
func (w *ExpireCheckoutsWorker) Work(ctx context.Context, _ *river.Job[ExpireCheckoutsArgs]) error {
	n, err := w.Checkout.ExpireStale(ctx)
	if n > 0 {
		w.Checkout.log.Info("expired stale checkouts", "orders", n)
	}
	return err
}

// RegisterCheckoutJobs adds the checkout's worker and its schedule (every minute).
func RegisterCheckoutJobs(workers *river.Workers, co *Checkout) []*river.PeriodicJob {
	river.AddWorker(workers, &ExpireCheckoutsWorker{Checkout: co})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return ExpireCheckoutsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})}
}
