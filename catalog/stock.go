package catalog

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/fault"
	"marketplace/internal/postgres"
)

// Stock lives in two places: a listing without variants (another seller's offer) has its own
// count in listings.stock; a licensee's own listing sells its product's variants, each with its
// count in variants.stock. Reserve and Release take the quantity from, and give it back to, the
// right one with a single conditional UPDATE, so concurrent buyers of the last items queue on
// the row lock and never take more than there is: the CHECK (stock >= 0) is the last guard.

// Reserve takes qty items of a listing (variantID 0) or of one of its variants out of stock,
// inside tx (the caller's order transaction). Returns Invalid for a quantity below 1, NotFound
// for an unknown listing or a variant that is not the listing's, and Conflict when fewer than
// qty are left.
func (s *Service) Reserve(ctx context.Context, tx pgx.Tx, listingID, variantID int64, qty int) (err error) {
	defer fault.Annotate(&err, "catalog.Reserve(%d, %d, %d)", listingID, variantID, qty)
	if qty < 1 {
		return fault.Validation("the quantity is not valid", fault.Field("quantity", "must be at least 1"))
	}
	var left int
	if variantID == 0 {
		err = tx.QueryRow(ctx, `UPDATE listings SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING stock`,
			listingID, qty).Scan(&left)
	} else {
		err = tx.QueryRow(ctx, `UPDATE variants v SET stock = v.stock - $3 FROM listings l
			WHERE l.id = $1 AND v.id = $2 AND v.product_id = l.product_id AND l.claimed_sku = '' AND v.stock >= $3
			RETURNING v.stock`, listingID, variantID, qty).Scan(&left)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		have, err := s.stockIn(ctx, tx, listingID, variantID)
		if err != nil {
			return err
		}
		if have == 0 {
			return fault.New(fault.Conflict, "sold out: none left")
		}
		return fault.New(fault.Conflict, "only %d left", have)
	}
	return err
}

// Release puts qty items back into the stock Reserve took them from (an order that expired or
// was cancelled). Returns Invalid for a quantity below 1 and NotFound as Reserve does.
func (s *Service) Release(ctx context.Context, tx pgx.Tx, listingID, variantID int64, qty int) (err error) {
	defer fault.Annotate(&err, "catalog.Release(%d, %d, %d)", listingID, variantID, qty)
	if qty < 1 {
		return fault.Validation("the quantity is not valid", fault.Field("quantity", "must be at least 1"))
	}
	var tag interface{ RowsAffected() int64 }
	if variantID == 0 {
		tag, err = tx.Exec(ctx, `UPDATE listings SET stock = stock + $2 WHERE id = $1`, listingID, qty)
	} else {
		tag, err = tx.Exec(ctx, `UPDATE variants v SET stock = v.stock + $3 FROM listings l
			WHERE l.id = $1 AND v.id = $2 AND v.product_id = l.product_id AND l.claimed_sku = ''`, listingID, variantID, qty)
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return notFoundItem(variantID)
	}
	return nil
}

// stockIn reads what is left of a listing or of one of its variants.
func (s *Service) stockIn(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, listingID, variantID int64) (int, error) {
	var have int
	var err error
	if variantID == 0 {
		err = q.QueryRow(ctx, `SELECT stock FROM listings WHERE id = $1`, listingID).Scan(&have)
	} else {
		err = q.QueryRow(ctx, `SELECT v.stock FROM variants v JOIN listings l ON v.product_id = l.product_id
			WHERE l.id = $1 AND v.id = $2 AND l.claimed_sku = ''`, listingID, variantID).Scan(&have)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, notFoundItem(variantID)
	}
	return have, err
}

func notFoundItem(variantID int64) error {
	if variantID == 0 {
		return fault.New(fault.NotFound, "listing not found")
	}
	return fault.New(fault.NotFound, "this listing has no such variant")
}

// Sellable is one thing a fan can put in a cart: a listing without variants, or one variant of
// a licensee's own listing, with what is left in stock and its price in each currency it is
// sold in (a listing without variants has one).
type Sellable struct {
	Listing   Listing
	VariantID int64 // 0 for a listing without variants
	SKU       string
	Size      string
	Colour    string
	Stock     int
	Prices    map[string]int64 // currency -> amount in its minor unit
}

// Sellable returns the listing (variantID 0) or one variant of it, whatever the listing's
// status (the caller decides whether it may be sold). Returns NotFound for an unknown listing
// or a variant that is not the listing's, and Invalid naming "variant" when the listing sells
// variants and none was chosen, or a listing without variants is given one.
func (s *Service) Sellable(ctx context.Context, listingID, variantID int64) (_ Sellable, err error) {
	defer fault.Annotate(&err, "catalog.Sellable(%d, %d)", listingID, variantID)
	l, err := scanListing(s.db.QueryRow(ctx, `SELECT `+listingColumns+listingFrom+` WHERE l.id = $1`, listingID))
	if err != nil {
		return Sellable{}, postgres.Err(err, "listing")
	}
	out := Sellable{Listing: l, VariantID: variantID}
	if !l.Official {
		if variantID != 0 {
			return Sellable{}, fault.Validation("this listing has no variants", fault.Field("variant", "this listing has no sizes or colours to choose"))
		}
		out.Stock = l.Stock
		out.Prices = map[string]int64{l.Price.Currency: l.Price.Amount}
		return out, nil
	}
	if variantID == 0 {
		var n int
		if err := s.db.QueryRow(ctx, `SELECT count(*) FROM variants WHERE product_id = $1`, l.ProductID).Scan(&n); err != nil {
			return Sellable{}, err
		}
		if n > 0 {
			return Sellable{}, fault.Validation("choose a variant", fault.Field("variant", "choose a size or colour"))
		}
		out.Stock = l.Stock
		out.Prices = map[string]int64{l.Price.Currency: l.Price.Amount}
		return out, nil
	}
	err = s.db.QueryRow(ctx, `SELECT v.sku, v.size, v.colour, v.stock FROM variants v WHERE v.id = $1 AND v.product_id = $2`,
		variantID, l.ProductID).Scan(&out.SKU, &out.Size, &out.Colour, &out.Stock)
	if errors.Is(err, pgx.ErrNoRows) {
		return Sellable{}, notFoundItem(variantID)
	}
	if err != nil {
		return Sellable{}, err
	}
	rows, err := s.db.Query(ctx, `SELECT currency, amount FROM variant_prices WHERE variant_id = $1`, variantID)
	if err != nil {
		return Sellable{}, err
	}
	out.Prices = map[string]int64{}
	var cur string
	var amount int64
	_, err = pgx.ForEachRow(rows, []any{&cur, &amount}, func() error { out.Prices[cur] = amount; return nil })
	return out, err
}
