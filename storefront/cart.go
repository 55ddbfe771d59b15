package storefront

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
)

// CartCookie holds a browser's cart token. The database keeps only its SHA-256, and an order
// placed without logging in is shown to the browser that holds the token.
const CartCookie = "cart"

// Buyer is who a cart and its orders belong to: a browser (TokenHash) and, once logged in, a
// fan (UserID).
type Buyer struct {
	TokenHash []byte
	UserID    int64
	// Address is the client's address (web's real IP): what one buyer may hold unpaid is
	// capped by it too, since a new cookie costs nothing. Empty: not counted by address.
	Address string
}

// buyerOf reads the request's buyer; with create it gives a browser without a cart cookie a new
// token. Without create and without a cookie, TokenHash is nil.
func (co *Checkout) buyerOf(c echo.Context, create bool) Buyer {
	b := Buyer{Address: c.RealIP()}
	if id := web.Caller(c); id != nil {
		b.UserID = id.UserID
	}
	if ck, err := c.Cookie(CartCookie); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 64 {
		h := sha256.Sum256([]byte(ck.Value))
		b.TokenHash = h[:]
		return b
	}
	if create {
		var raw [32]byte
		_, _ = rand.Read(raw[:])
		token := base64.RawURLEncoding.EncodeToString(raw[:])
		secure := c.Request().TLS != nil || c.Scheme() == "https"
		c.SetCookie(&http.Cookie{Name: CartCookie, Value: token, Path: "/", MaxAge: 60 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: secure})
		h := sha256.Sum256([]byte(token))
		b.TokenHash = h[:]
	}
	return b
}

// randomHash is a token hash nobody holds: a logged-in fan's cart is found by the fan, not
// by a cookie, so the browser's token stays free for when they log out.
func randomHash() []byte {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return b[:]
}

// cartID finds the buyer's cart. A logged-in fan's cart absorbs the browser's anonymous cart
// (items added before logging in are kept). With create, a missing cart is made; without, a
// missing cart is 0.
func (co *Checkout) cartID(ctx context.Context, b Buyer, create bool) (int64, error) {
	var id int64
	err := postgres.Tx(ctx, co.db, func(tx pgx.Tx) error {
		var anon int64
		if b.TokenHash != nil {
			err := tx.QueryRow(ctx, `SELECT id FROM carts WHERE token_hash = $1 AND user_id IS NULL FOR UPDATE`, b.TokenHash).Scan(&anon)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		if b.UserID == 0 {
			if anon != 0 || !create {
				id = anon
				return nil
			}
			if b.TokenHash == nil {
				return fault.New(fault.Invalid, "the cart needs cookies: allow cookies for this site")
			}
			return tx.QueryRow(ctx, `INSERT INTO carts (token_hash) VALUES ($1)
				ON CONFLICT (token_hash) DO UPDATE SET updated_at = now() RETURNING id`, b.TokenHash).Scan(&id)
		}
		err := tx.QueryRow(ctx, `SELECT id FROM carts WHERE user_id = $1 FOR UPDATE`, b.UserID).Scan(&id)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		switch {
		case id == 0 && anon != 0:
			// The fan logged in: the browser's cart becomes theirs.
			id = anon
			_, err = tx.Exec(ctx, `UPDATE carts SET user_id = $2, token_hash = $3, updated_at = now() WHERE id = $1`, anon, b.UserID, randomHash())
			return err
		case id != 0 && anon != 0:
			if _, err := tx.Exec(ctx, `INSERT INTO cart_items (cart_id, listing_id, variant_id, quantity, seen_amount, seen_currency, added_at)
				SELECT $1, listing_id, variant_id, quantity, seen_amount, seen_currency, added_at FROM cart_items WHERE cart_id = $2
				ON CONFLICT (cart_id, listing_id, variant_id) DO UPDATE SET quantity = least(99, cart_items.quantity + excluded.quantity)`,
				id, anon); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `DELETE FROM carts WHERE id = $1`, anon)
			return err
		case id == 0 && create:
			return tx.QueryRow(ctx, `INSERT INTO carts (token_hash, user_id) VALUES ($1, $2)
				ON CONFLICT (user_id) WHERE user_id IS NOT NULL DO UPDATE SET updated_at = now() RETURNING id`, randomHash(), b.UserID).Scan(&id)
		}
		return nil
	})
	return id, err
}

// CartLine is one line of a cart as it can be bought now.
type CartLine struct {
	ListingID        int64
	VariantID        int64
	Slug             string
	Title            string
	Variant          string // size and colour, for people
	SKU              string
	Quantity         int
	Stock            int
	Unit             money.Money // the price now, in the market's currency
	Amount           money.Money
	Seen             money.Money // the price the fan was shown when adding it
	PriceChanged     bool
	Available        bool
	SoldOut          bool
	Problem          string // why it cannot be bought, in English
	problem          pageText
	SellerID         int64
	SellerLicenseeID int64
	Licence          *licenceRef
}

// licenceRef is the licence that covers a line, as the order records it.
type licenceRef struct {
	Number       string
	LicenseeID   int64
	LicenseeName string
	RoyaltyBPS   int
}

// Cart is a buyer's cart priced for a market.
type Cart struct {
	ID          int64
	Lines       []CartLine
	Total       money.Money // of the lines that can be bought
	CanCheckout bool
}

// loadCart prices the buyer's cart for market m.
func (co *Checkout) loadCart(ctx context.Context, b Buyer, m web.Market) (Cart, error) {
	cart := Cart{Total: money.New(0, m.Currency)}
	id, err := co.cartID(ctx, b, false)
	if err != nil || id == 0 {
		return cart, err
	}
	cart.ID = id
	rows, err := co.db.Query(ctx, `SELECT listing_id, variant_id, quantity, seen_amount, seen_currency FROM cart_items
		WHERE cart_id = $1 ORDER BY added_at, listing_id, variant_id`, id)
	if err != nil {
		return cart, err
	}
	type item struct {
		listing, variant int64
		qty              int
		seen             money.Money
	}
	var items []item
	var it item
	if _, err := pgx.ForEachRow(rows, []any{&it.listing, &it.variant, &it.qty, &it.seen.Amount, &it.seen.Currency}, func() error {
		items = append(items, it)
		return nil
	}); err != nil {
		return cart, err
	}
	cart.CanCheckout = len(items) > 0
	for _, it := range items {
		line := CartLine{ListingID: it.listing, VariantID: it.variant, Quantity: it.qty, Seen: it.seen}
		p, err := co.price(ctx, it.listing, it.variant, m)
		switch {
		case fault.Is(err, fault.NotFound) || fault.Is(err, fault.Invalid):
			line.Title, line.Problem, line.problem = "An item", "no longer exists", pageText{key: "This item no longer exists."}
		case err != nil:
			return cart, err
		default:
			l := p.Item.Listing
			line.Slug, line.Title, line.SKU, line.Stock = l.Slug, l.Title, p.Item.SKU, p.Item.Stock
			line.Variant = joinNonEmpty(p.Item.Size, p.Item.Colour)
			line.SellerID, line.SellerLicenseeID = l.SellerID, p.Seller.LicenseeID
			line.Available, line.SoldOut, line.Problem, line.problem = p.Available, p.SoldOut, p.Problem, p.problem
			if p.Available {
				line.Unit = p.Unit
				line.Amount = money.New(p.Unit.Amount*int64(it.qty), m.Currency)
				line.PriceChanged = it.seen != p.Unit
				lic := p.Licence
				line.Licence = &licenceRef{Number: lic.Number, LicenseeID: lic.LicenseeID, LicenseeName: lic.LicenseeName, RoyaltyBPS: lic.RoyaltyBPS}
				if it.qty > p.Item.Stock {
					line.Problem = fmt.Sprintf("only %d left: lower the quantity", p.Item.Stock)
					line.problem = pageText{"Only %d left: lower the quantity.", []any{p.Item.Stock}}
				}
			}
		}
		if !line.Available || line.Quantity > line.Stock {
			cart.CanCheckout = false
		}
		if line.Available {
			cart.Total.Amount += line.Amount.Amount
		}
		cart.Lines = append(cart.Lines, line)
	}
	return cart, nil
}

func joinNonEmpty(parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += " · "
		}
		out += p
	}
	return out
}

// AddToCart puts qty of a listing (or of one of its variants) in the buyer's cart at today's
// price in market m. Returns Invalid naming "quantity" (below 1, above 99 in all) or
// "variant"; NotFound for an unknown listing; Unprocessable when it cannot be bought in the
// fan's market (not sold in the country, not licensed there today, not priced in the currency,
// not live); Conflict when fewer are left.
func (co *Checkout) AddToCart(ctx context.Context, b Buyer, m web.Market, listingID, variantID int64, qty int) (err error) {
	defer fault.Annotate(&err, "storefront.AddToCart(%d, %d, %d)", listingID, variantID, qty)
	if qty < 1 || qty > maxQuantity {
		return fault.Validation("the quantity is not valid", fault.Field("quantity", "must be from 1 to %d", maxQuantity))
	}
	p, err := co.price(ctx, listingID, variantID, m)
	if err != nil {
		return err
	}
	if !p.Available {
		return &fault.Error{Code: fault.Unprocessable, Message: p.Item.Listing.Title + " cannot be added to your cart: " + p.Problem,
			Fields: []fault.FieldError{fault.Field("listing_id", "%s", p.Problem)}}
	}
	id, err := co.cartID(ctx, b, true)
	if err != nil {
		return err
	}
	return postgres.Tx(ctx, co.db, func(tx pgx.Tx) error {
		var have int
		err := tx.QueryRow(ctx, `SELECT quantity FROM cart_items WHERE cart_id = $1 AND listing_id = $2 AND variant_id = $3 FOR UPDATE`,
			id, listingID, variantID).Scan(&have)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if have+qty > maxQuantity {
			return fault.Validation("the quantity is not valid", fault.Field("quantity", "at most %d of one item per order; %d already in your cart", maxQuantity, have))
		}
		if have+qty > p.Item.Stock {
			return fault.New(fault.Conflict, "%s: only %d left", p.Item.Listing.Title, p.Item.Stock)
		}
		_, err = tx.Exec(ctx, `INSERT INTO cart_items (cart_id, listing_id, variant_id, quantity, seen_amount, seen_currency)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (cart_id, listing_id, variant_id) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity,
				seen_amount = excluded.seen_amount, seen_currency = excluded.seen_currency`,
			id, listingID, variantID, qty, p.Unit.Amount, p.Unit.Currency)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE carts SET updated_at = $2 WHERE id = $1`, id, time.Now())
		return err
	})
}

// SetQuantity changes how many of a cart line the buyer wants. Returns Invalid naming
// "quantity", NotFound when the line is not in the cart, Conflict when fewer are left.
func (co *Checkout) SetQuantity(ctx context.Context, b Buyer, m web.Market, listingID, variantID int64, qty int) (err error) {
	defer fault.Annotate(&err, "storefront.SetQuantity(%d, %d, %d)", listingID, variantID, qty)
	if qty < 1 || qty > maxQuantity {
		return fault.Validation("the quantity is not valid", fault.Field("quantity", "must be from 1 to %d", maxQuantity))
	}
	id, err := co.cartID(ctx, b, false)
	if err != nil {
		return err
	}
	if it, err := co.catalog.Sellable(ctx, listingID, variantID); err == nil && qty > it.Stock {
		return fault.New(fault.Conflict, "%s: only %d left", it.Listing.Title, it.Stock)
	}
	tag, err := co.db.Exec(ctx, `UPDATE cart_items SET quantity = $4 WHERE cart_id = $1 AND listing_id = $2 AND variant_id = $3`,
		id, listingID, variantID, qty)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fault.New(fault.NotFound, "this item is not in your cart")
	}
	return nil
}

// RemoveFromCart takes a line out of the buyer's cart; removing what is not there is not an
// error.
func (co *Checkout) RemoveFromCart(ctx context.Context, b Buyer, listingID, variantID int64) (err error) {
	defer fault.Annotate(&err, "storefront.RemoveFromCart(%d, %d)", listingID, variantID)
	id, err := co.cartID(ctx, b, false)
	if err != nil || id == 0 {
		return err
	}
	_, err = co.db.Exec(ctx, `DELETE FROM cart_items WHERE cart_id = $1 AND listing_id = $2 AND variant_id = $3`, id, listingID, variantID)
	return err
}
