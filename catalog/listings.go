package catalog

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"marketplace/internal/audit"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/licensing"
)

// NewListing is a seller's offer as it arrives. ImageIDs are pictures already stored with
// PutImage, first the main one.
type NewListing struct {
	Title       string
	Description string
	Price       money.Money
	Stock       int
	Territories []string
	ShipsFrom   string // defaults to the seller's
	ProductSKU  string // the official SKU the seller claims to sell, optional
	Property    string // the property it claims, optional (taken from the product when a SKU is given)
	Category    string
	ImageIDs    []int64
}

// listingColumns reads a listing joined with its claimed product (alias p).
const listingColumns = `l.id, l.seller_id, coalesce(l.product_id, 0), coalesce(p.licensee_id, 0), l.claimed_sku,
	(l.product_id IS NOT NULL AND l.claimed_sku = '' AND s.kind = 'licensee'), l.slug, l.title, l.description,
	coalesce(l.property, ''), l.category, l.price_amount, l.currency, l.stock, l.territories, l.ships_from,
	l.status, l.status_reason, l.created_at, l.updated_at`

const listingFrom = ` FROM listings l JOIN sellers s ON s.id = l.seller_id LEFT JOIN products p ON p.id = l.product_id`

func scanListing(row pgx.Row) (Listing, error) {
	var l Listing
	err := row.Scan(&l.ID, &l.SellerID, &l.ProductID, &l.LicenseeID, &l.ClaimedSKU, &l.Official, &l.Slug, &l.Title,
		&l.Description, &l.Property, &l.Category, &l.Price.Amount, &l.Price.Currency, &l.Stock, &l.Territories,
		&l.ShipsFrom, &l.Status, &l.StatusReason, &l.CreatedAt, &l.UpdatedAt)
	return l, err
}

// Listing returns one listing, whatever its status, with its images.
func (s *Service) Listing(ctx context.Context, id int64) (_ Listing, err error) {
	defer fault.Annotate(&err, "catalog.Listing(%d)", id)
	return s.listing(ctx, s.db, id)
}

// ListingTx is Listing read inside tx (the caller's transaction, such as an analyst's
// decision), so that it sees what tx sees. Returns NotFound when there is none.
func (s *Service) ListingTx(ctx context.Context, tx pgx.Tx, id int64) (_ Listing, err error) {
	defer fault.Annotate(&err, "catalog.ListingTx(%d)", id)
	return s.listing(ctx, tx, id)
}

func (s *Service) listing(ctx context.Context, q querier, id int64) (Listing, error) {
	l, err := scanListing(q.QueryRow(ctx, `SELECT `+listingColumns+listingFrom+` WHERE l.id = $1`, id))
	if err != nil {
		return Listing{}, postgres.Err(err, "listing")
	}
	l.Images, err = s.listingImages(ctx, q, l.ID)
	return l, err
}

// ListingBySlug returns one listing by its slug, whatever its status, with its images.
func (s *Service) ListingBySlug(ctx context.Context, slug string) (_ Listing, err error) {
	defer fault.Annotate(&err, "catalog.ListingBySlug(%q)", slug)
	l, err := scanListing(s.db.QueryRow(ctx, `SELECT `+listingColumns+listingFrom+` WHERE l.slug = $1`, slug))
	if err != nil {
		return Listing{}, postgres.Err(err, "listing")
	}
	l.Images, err = s.listingImages(ctx, s.db, l.ID)
	return l, err
}

// ListingFilter narrows Listings. Zero fields do not filter.
type ListingFilter struct {
	SellerID   int64
	ProductID  int64
	Status     ListingStatus
	AfterID    int64 // keyset paging: listings with a greater id
	Limit      int   // default 100, at most 1000
	WithImages bool
}

// Listings lists listings by id.
func (s *Service) Listings(ctx context.Context, f ListingFilter) (_ []Listing, err error) {
	defer fault.Annotate(&err, "catalog.Listings()")
	return s.listings(ctx, s.db, f)
}

// LockListing locks listing id's row for the rest of tx and returns its status: a screening
// that judged the listing is then ordered after any takedown already under way, which stands.
// Returns NotFound when there is none.
func (s *Service) LockListing(ctx context.Context, tx pgx.Tx, id int64) (_ ListingStatus, err error) {
	defer fault.Annotate(&err, "catalog.LockListing(%d)", id)
	var status ListingStatus
	err = tx.QueryRow(ctx, `SELECT status FROM listings WHERE id = $1 FOR UPDATE`, id).Scan(&status)
	return status, postgres.Err(err, "listing")
}

// ListingTitles returns the titles of the listings ids, by id; an unknown id is left out.
func (s *Service) ListingTitles(ctx context.Context, ids []int64) (_ map[int64]string, err error) {
	defer fault.Annotate(&err, "catalog.ListingTitles()")
	rows, err := s.db.Query(ctx, `SELECT id, title FROM listings WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	titles := make(map[int64]string, len(ids))
	var id int64
	var title string
	_, err = pgx.ForEachRow(rows, []any{&id, &title}, func() error {
		titles[id] = title
		return nil
	})
	return titles, err
}

// ListingsTx is Listings read inside tx (the caller's transaction, such as a seller's
// suspension), so that it sees what tx sees.
func (s *Service) ListingsTx(ctx context.Context, tx pgx.Tx, f ListingFilter) (_ []Listing, err error) {
	defer fault.Annotate(&err, "catalog.ListingsTx()")
	return s.listings(ctx, tx, f)
}

func (s *Service) listings(ctx context.Context, q querier, f ListingFilter) ([]Listing, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := q.Query(ctx, `SELECT `+listingColumns+listingFrom+`
		WHERE ($1 = 0 OR l.seller_id = $1) AND ($2 = 0 OR l.product_id = $2) AND ($3 = '' OR l.status = $3) AND l.id > $4
		ORDER BY l.id LIMIT $5`, f.SellerID, f.ProductID, string(f.Status), f.AfterID, f.Limit)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Listing, error) { return scanListing(r) })
	if err != nil || !f.WithImages {
		return out, err
	}
	for i := range out {
		if out[i].Images, err = s.listingImages(ctx, q, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// listingImages returns a listing's pictures, the main one first. A licensee's own listing
// shows its product's pictures.
func (s *Service) listingImages(ctx context.Context, q querier, id int64) ([]Image, error) {
	rows, err := q.Query(ctx, `SELECT i.id, i.content_type, i.width, i.height, i.bytes FROM listing_images li
		JOIN images i ON i.id = li.image_id WHERE li.listing_id = $1
		UNION ALL
		SELECT i.id, i.content_type, i.width, i.height, i.bytes FROM listings l
		JOIN product_images pi ON pi.product_id = l.product_id JOIN images i ON i.id = pi.image_id
		WHERE l.id = $1 AND l.claimed_sku = '' AND NOT EXISTS (SELECT 1 FROM listing_images WHERE listing_id = $1)
		ORDER BY 1`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Image])
}

// SetListingStatus moves a listing to status inside tx (the caller's transaction: a
// screening result, an analyst's decision), records the takedown or release in the audit log,
// and tells the outbox. Setting the status it already has changes nothing.
func (s *Service) SetListingStatus(ctx context.Context, tx pgx.Tx, id int64, status ListingStatus, reason string) (err error) {
	defer fault.Annotate(&err, "catalog.SetListingStatus(%d, %q)", id, reason)
	if !status.Valid() || status == StatusPending {
		return fault.Validation("the status is not valid", fault.Field("status", "must be live, held, blocked or removed"))
	}
	var before ListingStatus
	err = tx.QueryRow(ctx, `SELECT status FROM listings WHERE id = $1 FOR UPDATE`, id).Scan(&before)
	if err != nil {
		return postgres.Err(err, "listing")
	}
	if before == status {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE listings SET status = $2, status_reason = $3, updated_at = now() WHERE id = $1`,
		id, status, reason); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, nil, "listing."+string(status), "listing", itoa(id),
		map[string]string{"status": string(before)}, map[string]string{"status": string(status)}, reason); err != nil {
		return err
	}
	return s.changed(ctx, tx, id)
}

// changed writes the outbox row for listing id and wakes its readers at commit.
func (s *Service) changed(ctx context.Context, tx pgx.Tx, id int64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO catalog_changes (listing_id) VALUES ($1)`, id); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify('catalog_changes', $1)`, itoa(id))
	return err
}

// Change is one outbox row: listing ListingID changed (read it again with Listing).
type Change struct {
	ID        int64
	ListingID int64
}

// ChangesNotifyChannel is the channel a NOTIFY is sent on with each change.
const ChangesNotifyChannel = "catalog_changes"

// ChangesSince returns up to limit outbox rows after id, oldest first, without consuming them
// (for looking; a reader that follows the outbox consumes it with ConsumeChanges, since
// following by the last id read skips a change that commits late).
func (s *Service) ChangesSince(ctx context.Context, after int64, limit int) (_ []Change, err error) {
	defer fault.Annotate(&err, "catalog.ChangesSince(%d, %d)", after, limit)
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.db.Query(ctx, `SELECT id, listing_id FROM catalog_changes WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Change])
}

// ConsumeChanges deletes and returns up to limit outbox rows, oldest first, in the reader's
// transaction tx: they are gone once tx commits, and back if it rolls back. A reader that
// consumes cannot skip a change, whatever order the writers commit in: a row of a transaction
// still open is simply not there yet, and is consumed by a later call. (A reader that keeps
// the last id it read can: ids are taken in insertion order but become visible in commit
// order.) The outbox has one consumer, the search index; a second reader would need its own
// outbox. Rows another consumer holds are waited for, so consumers take turns.
func (s *Service) ConsumeChanges(ctx context.Context, tx pgx.Tx, limit int) (_ []Change, err error) {
	defer fault.Annotate(&err, "catalog.ConsumeChanges(%d)", limit)
	if limit <= 0 {
		limit = 1000
	}
	rows, err := tx.Query(ctx, `WITH next AS (
			SELECT id FROM catalog_changes ORDER BY id LIMIT $1 FOR UPDATE
		)
		DELETE FROM catalog_changes c USING next WHERE c.id = next.id
		RETURNING c.id, c.listing_id`, limit)
	if err != nil {
		return nil, err
	}
	changes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Change])
	if err != nil {
		return nil, err
	}
	slices.SortFunc(changes, func(a, b Change) int { return cmp.Compare(a.ID, b.ID) })
	return changes, nil
}

// OldestPendingChange is when the oldest committed change no reader has consumed was made
// (its transaction's start); ok is false when the outbox is empty.
func (s *Service) OldestPendingChange(ctx context.Context) (_ time.Time, ok bool, err error) {
	defer fault.Annotate(&err, "catalog.OldestPendingChange()")
	var at *time.Time
	if err := s.db.QueryRow(ctx, `SELECT min(changed_at) FROM catalog_changes`).Scan(&at); err != nil || at == nil {
		return time.Time{}, false, err
	}
	return *at, true, nil
}

// CreateListing validates and inserts a seller's listing as pending, together with its
// screening job, in one transaction.
func (s *Service) CreateListing(ctx context.Context, sellerID int64, n NewListing) (_ Listing, err error) {
	defer fault.Annotate(&err, "catalog.CreateListing(%d)", sellerID)
	seller, err := s.Seller(ctx, sellerID)
	if err != nil {
		return Listing{}, err
	}
	if seller.Status != SellerActive {
		return Listing{}, fault.New(fault.Forbidden, "this seller account is suspended: %s", seller.StatusReason)
	}
	var id int64
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		id, err = s.insertListing(ctx, tx, seller, n)
		return err
	})
	if err != nil {
		return Listing{}, err
	}
	return s.Listing(ctx, id)
}

// Photo is one picture file sent with a listing, under the name it was uploaded with.
type Photo struct {
	Name string
	Data []byte
}

// ListingSubmission is a listing as a seller sends it, with its photos (the portal's form and
// POST /api/v1/listings). Unreadable names the fields the caller could not even read (a price
// that is not a number), so that one answer names every problem.
type ListingSubmission struct {
	Listing    NewListing // without ImageIDs: the photos are stored by SubmitListing
	Photos     []Photo
	Unreadable fault.Fields
}

// SubmitListing is the whole of listing an item with its photos. It checks every field and
// every photo before storing anything (with a bad field, the photos' headers only, without
// decoding them); then it stores the photos and creates the listing as CreateListing does:
// pending, with its screening job, in one transaction.
//
// Returns fault.Invalid naming every bad field and photo (a photo over MaxImageBytes among
// them), and nothing is stored then; fault.Forbidden for a suspended seller; fault.NotFound
// when there is no such seller.
func (s *Service) SubmitListing(ctx context.Context, sellerID int64, sub ListingSubmission) (_ Listing, err error) {
	defer fault.Annotate(&err, "catalog.SubmitListing(%d)", sellerID)
	n, bad := sub.Listing, append(fault.Fields(nil), sub.Unreadable...)
	n.ImageIDs = nil
	if err := s.CheckListing(ctx, sellerID, n); err != nil {
		e, ok := fault.As(err)
		if !ok || e.Code != fault.Invalid {
			return Listing{}, err
		}
		bad = append(bad, e.Fields...)
	}
	switch {
	case len(sub.Photos) == 0:
		bad.Add("images", "add at least one photo")
	case len(sub.Photos) > MaxListingImages:
		bad.Add("images", "at most %d photos", MaxListingImages)
	}
	var prepared []preparedImage
	if len(sub.Photos) <= MaxListingImages {
		// With a bad field the listing is refused anyway: check the photos' headers only,
		// without decoding them.
		headersOnly := len(bad) > 0
		for _, ph := range sub.Photos {
			var p preparedImage
			var err error
			if headersOnly {
				_, err = inspectImage(ph.Data, defaultImageLimits)
			} else {
				p, err = s.prepareImage(ctx, ph.Data)
			}
			if e, ok := fault.As(err); ok && (e.Code == fault.Invalid || e.Code == fault.TooLarge) {
				for _, f := range e.Fields {
					bad.Add("images", "%s: %s", ph.Name, f.Message)
				}
				continue
			} else if err != nil {
				return Listing{}, err
			}
			prepared = append(prepared, p)
		}
	}
	if err := bad.Err("the listing is not valid"); err != nil {
		return Listing{}, err
	}
	for _, p := range prepared {
		img, err := s.storeImage(ctx, p)
		if err != nil {
			return Listing{}, err
		}
		n.ImageIDs = append(n.ImageIDs, img.ID)
	}
	return s.CreateListing(ctx, sellerID, n)
}

// CheckListing validates a seller's listing as CreateListing would, without writing anything,
// leaving out the photos (n.ImageIDs): a form that uploads photos with the listing checks the
// rest first, so a bad field stores no photo. Returns fault.Invalid naming every bad field,
// and what CreateListing returns for the seller.
func (s *Service) CheckListing(ctx context.Context, sellerID int64, n NewListing) (err error) {
	defer fault.Annotate(&err, "catalog.CheckListing(%d)", sellerID)
	seller, err := s.Seller(ctx, sellerID)
	if err != nil {
		return err
	}
	if seller.Status != SellerActive {
		return fault.New(fault.Forbidden, "this seller account is suspended: %s", seller.StatusReason)
	}
	_, err = s.checkListing(ctx, s.db, seller, n, false)
	return err
}

// checkedListing is a NewListing that passed checkListing, with what the checks looked up.
type checkedListing struct {
	NewListing
	Territories []string
	ProductID   *int64
	Property    *string
}

// checkListing validates n for seller (the photos too when withImages).
func (s *Service) checkListing(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, seller Seller, n NewListing, withImages bool) (checkedListing, error) {
	var bad fault.Fields
	n.Title = strings.TrimSpace(n.Title)
	n.Description = strings.TrimSpace(n.Description)
	if n.Title == "" || len(n.Title) > 300 {
		bad.Add("title", "give a title of 1 to 300 characters")
	}
	if len(n.Description) > 20000 {
		bad.Add("description", "at most 20000 characters")
	}
	cur, err := money.ParseCurrency(n.Price.Currency)
	if err != nil {
		bad.Add("currency", "%s", err.Error())
	}
	n.Price.Currency = cur
	if n.Price.Amount <= 0 {
		bad.Add("price_amount", "must be a positive amount in the currency's minor unit")
	}
	if n.Stock < 0 || n.Stock > 1_000_000 {
		bad.Add("stock", "must be between 0 and 1000000")
	}
	territories := make([]string, 0, len(n.Territories))
	for _, t := range n.Territories {
		if t = strings.ToUpper(strings.TrimSpace(t)); t != "" {
			territories = append(territories, t)
		}
	}
	if err := licensing.ValidateTerritories(territories); err != nil {
		bad.Add("territories", "name ISO 3166-1 alpha-2 country codes such as FR, or WORLD")
	}
	n.ShipsFrom = strings.ToUpper(strings.TrimSpace(n.ShipsFrom))
	if n.ShipsFrom == "" {
		n.ShipsFrom = seller.ShipsFrom
	}
	if !licensing.IsCountry(n.ShipsFrom) {
		bad.Add("ships_from", "%q is not an ISO 3166-1 alpha-2 country code", n.ShipsFrom)
	}
	if withImages && len(n.ImageIDs) == 0 {
		bad.Add("images", "add at least one photo")
	}
	if len(n.ImageIDs) > MaxListingImages {
		bad.Add("images", "at most %d photos", MaxListingImages)
	}
	if n.Category != "" && !licensing.IsCategory(n.Category) {
		bad.Add("category", "%q is not a product category", n.Category)
	}
	var productID *int64
	n.ProductSKU = strings.TrimSpace(n.ProductSKU)
	if n.ProductSKU != "" {
		// A claimed SKU names an official product; the claim is what screening checks.
		var pid int64
		var property, category string
		err := q.QueryRow(ctx, `SELECT p.id, p.property, p.category FROM variants v JOIN products p ON p.id = v.product_id
			WHERE v.sku = $1 ORDER BY p.id LIMIT 1`, n.ProductSKU).Scan(&pid, &property, &category)
		switch {
		case err == nil:
			productID = &pid
			n.Property, n.Category = property, category
		case errors.Is(err, pgx.ErrNoRows):
			bad.Add("product_sku", "no official product has SKU %q", n.ProductSKU)
		default:
			return checkedListing{}, err
		}
	}
	var property *string
	if n.Property != "" {
		property = &n.Property
	}
	if err := bad.Err("the listing is not valid"); err != nil {
		return checkedListing{}, err
	}
	return checkedListing{NewListing: n, Territories: territories, ProductID: productID, Property: property}, nil
}

// MaxListingImages is how many photos a listing may have.
const MaxListingImages = 12

// insertListing checks n and writes it, its images, its outbox row and its screening job in tx.
func (s *Service) insertListing(ctx context.Context, tx pgx.Tx, seller Seller, n NewListing) (int64, error) {
	checked, err := s.checkListing(ctx, tx, seller, n, true)
	if err != nil {
		return 0, err
	}
	n, territories, productID, property := checked.NewListing, checked.Territories, checked.ProductID, checked.Property
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO listings (seller_id, product_id, claimed_sku, slug, title, description, property,
		category, price_amount, currency, stock, territories, ships_from)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		seller.ID, productID, n.ProductSKU, Slug(n.Title), n.Title, n.Description, property, n.Category,
		n.Price.Amount, n.Price.Currency, n.Stock, territories, n.ShipsFrom).Scan(&id)
	if err != nil {
		return 0, postgres.Err(err, "listing")
	}
	for i, img := range n.ImageIDs {
		if _, err := tx.Exec(ctx, `INSERT INTO listing_images (listing_id, position, image_id) VALUES ($1, $2, $3)`, id, i, img); err != nil {
			return 0, postgres.Err(err, "listing image")
		}
	}
	if err := s.changed(ctx, tx, id); err != nil {
		return 0, err
	}
	return id, s.InsertScreening(ctx, tx, id)
}

// Slug makes a URL name from a title: lower-case ASCII words joined by hyphens, then a random
// suffix so that two listings with one title never collide.
func Slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(title)) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case unicode.Is(unicode.Mn, r):
			// accents fall away: é → e
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	base := strings.Trim(b.String(), "-")
	var suffix [3]byte
	_, _ = rand.Read(suffix[:])
	if base == "" {
		return "item-" + hex.EncodeToString(suffix[:])
	}
	return base + "-" + hex.EncodeToString(suffix[:])
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
