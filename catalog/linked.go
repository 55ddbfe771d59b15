package catalog

import (
	"context"
	"marketplace/internal/fault"

	"github.com/jackc/pgx/v5"
)

// LinkedSeller is another seller account that looks like the same people: it is paid to the
// same account, shares a contact e-mail address or phone number, or lists the same photos.
type LinkedSeller struct {
	Seller
	Because []string `json:"because"` // "payout_account", "contact_email", "contact_phone", "photos"
}

// LinkedSellers returns the sellers linked to seller id, at most 50, most links first. Photos
// are the same stored image (images are stored once by content, so a re-upload of the same
// file is the same image).
func (s *Service) LinkedSellers(ctx context.Context, id int64) (_ []LinkedSeller, err error) {
	defer fault.Annotate(&err, "catalog.LinkedSellers(%d)", id)
	rows, err := s.db.Query(ctx, `WITH me AS (SELECT * FROM sellers WHERE id = $1),
		links AS (
			SELECT o.id, 'payout_account' AS why FROM sellers o, me
				WHERE me.payout_account <> '' AND o.payout_account = me.payout_account AND o.id <> me.id
			UNION SELECT o.id, 'contact_email' FROM sellers o, me
				WHERE me.contact_email <> '' AND lower(o.contact_email) = lower(me.contact_email) AND o.id <> me.id
			UNION SELECT o.id, 'contact_phone' FROM sellers o, me
				WHERE regexp_replace(me.contact_phone, '[^0-9]', '', 'g') <> ''
				AND regexp_replace(o.contact_phone, '[^0-9]', '', 'g') = regexp_replace(me.contact_phone, '[^0-9]', '', 'g') AND o.id <> me.id
			UNION SELECT DISTINCT ol.seller_id, 'photos' FROM listings ml
				JOIN listing_images mi ON mi.listing_id = ml.id
				JOIN listing_images oi ON oi.image_id = mi.image_id AND oi.listing_id <> ml.id
				JOIN listings ol ON ol.id = oi.listing_id
				WHERE ml.seller_id = $1 AND ol.seller_id <> $1)
		SELECT `+sellerColumns+`, array_agg(links.why ORDER BY links.why) FROM sellers JOIN links USING (id)
		GROUP BY sellers.id ORDER BY count(*) DESC, sellers.id LIMIT 50`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (LinkedSeller, error) {
		var l LinkedSeller
		err := r.Scan(&l.ID, &l.Kind, &l.Name, &l.LicenseeID, &l.Country, &l.ShipsFrom, &l.ContactEmail,
			&l.ContactPhone, &l.PayoutAccount, &l.Status, &l.StatusReason, &l.Strikes, &l.CreatedAt, &l.Because)
		return l, err
	})
}

// ListingsSharingImages returns other listings (any status, any seller) that use one of the
// same stored images as listing id, at most 50, newest first.
func (s *Service) ListingsSharingImages(ctx context.Context, id int64) (_ []Listing, err error) {
	defer fault.Annotate(&err, "catalog.ListingsSharingImages(%d)", id)
	rows, err := s.db.Query(ctx, `SELECT `+listingColumns+listingFrom+` WHERE l.id IN (
			SELECT oi.listing_id FROM listing_images mi JOIN listing_images oi ON oi.image_id = mi.image_id
			WHERE mi.listing_id = $1 AND oi.listing_id <> $1)
		ORDER BY l.created_at DESC, l.id DESC LIMIT 50`, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Listing, error) { return scanListing(r) })
}
