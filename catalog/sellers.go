package catalog

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/audit"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/licensing"
)

// NewSeller is what it takes to open a seller account.
type NewSeller struct {
	Kind          SellerKind
	Name          string
	LicenseeID    int64 // for SellerLicensee only
	Country       string
	ShipsFrom     string // defaults to Country
	ContactEmail  string
	ContactPhone  string
	PayoutAccount string
}

const sellerColumns = `id, kind, name, coalesce(licensee_id, 0), country, ships_from, contact_email,
	contact_phone, payout_account, status, status_reason, strikes, created_at`

func scanSeller(row pgx.Row) (Seller, error) {
	var s Seller
	err := row.Scan(&s.ID, &s.Kind, &s.Name, &s.LicenseeID, &s.Country, &s.ShipsFrom, &s.ContactEmail,
		&s.ContactPhone, &s.PayoutAccount, &s.Status, &s.StatusReason, &s.Strikes, &s.CreatedAt)
	return s, err
}

// CreateSeller opens a seller account.
func (s *Service) CreateSeller(ctx context.Context, n NewSeller) (_ Seller, err error) {
	defer fault.Annotate(&err, "catalog.CreateSeller()")
	var bad fault.Fields
	n.Name = strings.TrimSpace(n.Name)
	n.Country = strings.ToUpper(strings.TrimSpace(n.Country))
	n.ShipsFrom = strings.ToUpper(strings.TrimSpace(n.ShipsFrom))
	if n.ShipsFrom == "" {
		n.ShipsFrom = n.Country
	}
	switch n.Kind {
	case SellerLicensee:
		if n.LicenseeID == 0 {
			bad.Add("licensee_id", "a licensee seller names its licensee")
		}
	case SellerReseller, SellerIndependent:
		n.LicenseeID = 0
	default:
		bad.Add("kind", "must be licensee, reseller or independent")
	}
	if n.Name == "" || len(n.Name) > 200 {
		bad.Add("name", "give a name of 1 to 200 characters")
	}
	if !licensing.IsCountry(n.Country) {
		bad.Add("country", "%q is not an ISO 3166-1 alpha-2 country code", n.Country)
	}
	if !licensing.IsCountry(n.ShipsFrom) {
		bad.Add("ships_from", "%q is not an ISO 3166-1 alpha-2 country code", n.ShipsFrom)
	}
	if err := bad.Err("the seller is not valid"); err != nil {
		return Seller{}, err
	}
	var licensee *int64
	if n.LicenseeID != 0 {
		licensee = &n.LicenseeID
	}
	seller, err := scanSeller(s.db.QueryRow(ctx, `INSERT INTO sellers (kind, name, licensee_id, country, ships_from,
		contact_email, contact_phone, payout_account) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+sellerColumns,
		n.Kind, n.Name, licensee, n.Country, n.ShipsFrom, n.ContactEmail, n.ContactPhone, n.PayoutAccount))
	return seller, postgres.Err(err, "seller")
}

// Seller returns one seller.
func (s *Service) Seller(ctx context.Context, id int64) (_ Seller, err error) {
	defer fault.Annotate(&err, "catalog.Seller(%d)", id)
	return seller(ctx, s.db, id)
}

// SellerTx is Seller read inside tx (the caller's transaction, such as an analyst's decision).
func (s *Service) SellerTx(ctx context.Context, tx pgx.Tx, id int64) (_ Seller, err error) {
	defer fault.Annotate(&err, "catalog.SellerTx(%d)", id)
	return seller(ctx, tx, id)
}

func seller(ctx context.Context, q querier, id int64) (Seller, error) {
	seller, err := scanSeller(q.QueryRow(ctx, `SELECT `+sellerColumns+` FROM sellers WHERE id = $1`, id))
	return seller, postgres.Err(err, "seller")
}

// LicenseeSeller returns the seller account through which a licensee sells its own products,
// opening it on first use.
func (s *Service) LicenseeSeller(ctx context.Context, licenseeID int64) (_ Seller, err error) {
	defer fault.Annotate(&err, "catalog.LicenseeSeller(%d)", licenseeID)
	seller, err := scanSeller(s.db.QueryRow(ctx, `SELECT `+sellerColumns+` FROM sellers
		WHERE kind = 'licensee' AND licensee_id = $1`, licenseeID))
	if !errors.Is(err, pgx.ErrNoRows) {
		return seller, postgres.Err(err, "seller")
	}
	l, err := s.licensing.Licensee(ctx, licenseeID)
	if err != nil {
		return Seller{}, err
	}
	seller, err = scanSeller(s.db.QueryRow(ctx, `INSERT INTO sellers (kind, name, licensee_id, country, ships_from, contact_email)
		VALUES ('licensee', $1, $2, $3, $3, $4) ON CONFLICT (licensee_id) WHERE kind = 'licensee' DO UPDATE SET updated_at = sellers.updated_at
		RETURNING `+sellerColumns, l.Name, l.ID, l.Country, l.ContactEmail))
	return seller, postgres.Err(err, "seller")
}

// SetSellerStatus suspends or reinstates a seller inside tx, with its audit entry. Suspending
// does not touch listings: the caller (an analyst's decision) takes them down with
// SetListingStatus in the same transaction.
func (s *Service) SetSellerStatus(ctx context.Context, tx pgx.Tx, id int64, status SellerStatus, reason string) (err error) {
	defer fault.Annotate(&err, "catalog.SetSellerStatus(%d, %q)", id, reason)
	if status != SellerActive && status != SellerSuspended {
		return fault.Validation("the status is not valid", fault.Field("status", "must be active or suspended"))
	}
	if status == SellerSuspended && strings.TrimSpace(reason) == "" {
		return fault.Validation("a suspension needs a reason", fault.Field("reason", "say why"))
	}
	tag, err := tx.Exec(ctx, `UPDATE sellers SET status = $2, status_reason = $3, updated_at = now() WHERE id = $1`, id, status, reason)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fault.New(fault.NotFound, "seller %d not found", id)
	}
	return audit.Record(ctx, tx, nil, "seller."+string(status), "seller", itoa(id), nil, map[string]string{"status": string(status)}, reason)
}

// AddStrike gives a seller one more strike inside tx and returns how many it now has.
func (s *Service) AddStrike(ctx context.Context, tx pgx.Tx, id int64, reason string) (_ int, err error) {
	defer fault.Annotate(&err, "catalog.AddStrike(%d, %q)", id, reason)
	var strikes int
	err = tx.QueryRow(ctx, `UPDATE sellers SET strikes = strikes + 1, updated_at = now() WHERE id = $1 RETURNING strikes`, id).Scan(&strikes)
	if err != nil {
		return 0, postgres.Err(err, "seller")
	}
	return strikes, audit.Record(ctx, tx, nil, "seller.strike", "seller", itoa(id), nil, map[string]int{"strikes": strikes}, reason)
}
