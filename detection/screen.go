package detection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"marketplace/catalog"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
)

// The verdicts of a screening, and the listing status each one sets.
const (
	VerdictAllow  = "allow"  // live
	VerdictReview = "review" // held for an analyst
	VerdictBlock  = "block"  // blocked, and a case for an analyst
)

// statusFor is the listing status a verdict sets.
func statusFor(verdict string) catalog.ListingStatus {
	switch verdict {
	case VerdictAllow:
		return catalog.StatusLive
	case VerdictReview:
		return catalog.StatusHeld
	default:
		return catalog.StatusBlocked
	}
}

// Reason is one rule that contributed to a score, with its explanation for people.
type Reason struct {
	Rule   string `json:"rule"`
	Weight int    `json:"weight"`
	Detail string `json:"detail"`
}

// ScreeningMatch is a reference picture one of the listing's photos matched.
type ScreeningMatch struct {
	ImageID     int64   `json:"image_id"`     // the listing's photo
	RefImageID  int64   `json:"ref_image_id"` // the reference picture
	Kind        string  `json:"kind"`
	ProductID   int64   `json:"product_id,omitempty"`
	LicenseeID  int64   `json:"licensee_id,omitempty"`
	SellerID    int64   `json:"seller_id,omitempty"`
	CaseID      int64   `json:"case_id,omitempty"`
	Distance    int     `json:"distance"`
	Correlation float64 `json:"correlation"`
	HashKind    string  `json:"hash_kind"`
}

// Screening is one recorded screening of a listing, or a failed attempt (Error set, no
// verdict).
type Screening struct {
	ID           int64                 `json:"id"`
	ListingID    int64                 `json:"listing_id"`
	Attempt      int                   `json:"attempt"`
	Score        int                   `json:"score"`
	Verdict      string                `json:"verdict,omitempty"`
	Status       catalog.ListingStatus `json:"status,omitempty"`
	Reasons      []Reason              `json:"reasons"`
	Matches      []ScreeningMatch      `json:"matches"`
	RulesVersion int64                 `json:"rules_version"`
	Error        string                `json:"error,omitempty"`
	Duration     time.Duration         `json:"duration"`
	CreatedAt    time.Time             `json:"created_at"`
}

// Evidence is everything the pipeline gathered about a listing before judging it.
type Evidence struct {
	Listing catalog.Listing
	Seller  catalog.Seller
	Photos  []PhotoEvidence
}

// PhotoEvidence is one of the listing's photos: the references it matches (its seller's
// own authentic clearances and references from this very listing left out), or why it
// could not be fingerprinted.
type PhotoEvidence struct {
	ImageID int64
	Matches []RefMatch
	Error   string
}

// Judgement is the verdict on a listing.
type Judgement struct {
	Score        int
	Verdict      string
	Reasons      []Reason
	RulesVersion int64
}

// gather collects the evidence about listing l: its seller, the seller's authorisations,
// and each photo's fingerprint and matches. An error is a failure to be retried; a photo
// that cannot be fingerprinted is evidence, not an error.
func (s *Service) gather(ctx context.Context, l catalog.Listing) (*Evidence, error) {
	seller, err := s.catalog.Seller(ctx, l.SellerID)
	if err != nil {
		return nil, err
	}
	ev := &Evidence{Listing: l, Seller: seller}
	if err := s.ensureCurrent(ctx); err != nil {
		return nil, err
	}
	ids := make([]int64, len(l.Images))
	for i, img := range l.Images {
		ids[i] = img.ID
	}
	cleared, err := s.clearedImages(ctx, l.SellerID, ids)
	if err != nil {
		return nil, err
	}
	for _, img := range l.Images {
		p := PhotoEvidence{ImageID: img.ID}
		fp, err := s.Fingerprint(ctx, img.ID)
		switch {
		case err == nil:
			for _, m := range s.refs.matchFP(fp) {
				if m.ListingID == l.ID && m.Kind != RefOfficial {
					continue // this listing's own pictures, taken down earlier
				}
				if m.Kind == RefOfficial && cleared[img.ID] {
					continue // an analyst judged this photo authentic for this seller
				}
				p.Matches = append(p.Matches, m)
			}
		case fault.CodeOf(err) == fault.Unprocessable:
			p.Error = strings.TrimPrefix(err.Error(), "unprocessable: ")
		default:
			return nil, err
		}
		ev.Photos = append(ev.Photos, p)
	}
	return ev, nil
}

// clearedImages returns which of ids an analyst judged authentic for seller sellerID.
func (s *Service) clearedImages(ctx context.Context, sellerID int64, ids []int64) (map[int64]bool, error) {
	rows, err := s.db.Query(ctx, `SELECT image_id FROM authentic_images WHERE seller_id = $1 AND image_id = ANY ($2)`, sellerID, ids)
	if err != nil {
		return nil, err
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	out := make(map[int64]bool, len(got))
	for _, id := range got {
		out[id] = true
	}
	return out, err
}

// ScreenListing screens listing id now: it gathers the evidence, judges it, and in one
// transaction records the screening, sets the listing's status (live, held or blocked)
// and opens a case for a held or blocked listing. jobID (0 outside a job) makes a retried
// job's second run a no-op. A removed listing is left alone. Any error leaves the listing
// as it was (a new listing stays pending: fail closed).
func (s *Service) ScreenListing(ctx context.Context, id, jobID int64) (_ Screening, err error) {
	defer fault.Annotate(&err, "detection.ScreenListing(%d, %d)", id, jobID)
	start := time.Now()
	l, err := s.catalog.Listing(ctx, id)
	if err != nil {
		return Screening{}, err
	}
	if l.Status == catalog.StatusRemoved {
		return Screening{}, nil
	}
	ev, err := s.gather(ctx, l)
	if err != nil {
		return Screening{}, err
	}
	j, err := s.judge(ctx, ev)
	if err != nil {
		return Screening{}, err
	}
	sc := Screening{ListingID: id, Score: j.Score, Verdict: j.Verdict, Status: statusFor(j.Verdict), Reasons: j.Reasons,
		RulesVersion: j.RulesVersion, Matches: []ScreeningMatch{}}
	if sc.Reasons == nil {
		sc.Reasons = []Reason{}
	}
	for _, p := range ev.Photos {
		for _, m := range p.Matches {
			sc.Matches = append(sc.Matches, ScreeningMatch{ImageID: p.ImageID, RefImageID: m.ImageID, Kind: m.Kind,
				ProductID: m.ProductID, LicenseeID: m.LicenseeID, SellerID: m.SellerID, CaseID: m.CaseID,
				Distance: m.Distance, Correlation: m.Correlation, HashKind: m.HashKind})
		}
	}
	reason := fmt.Sprintf("screening: score %d, %s", sc.Score, sc.Verdict)
	if len(sc.Reasons) > 0 {
		reason = sc.Reasons[0].Detail
	}
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		sc.Status = statusFor(sc.Verdict) // a first run that failed may have set it to removed
		reasons, _ := json.Marshal(sc.Reasons)
		matches, _ := json.Marshal(sc.Matches)
		sc.Duration = time.Since(start)
		var job *int64
		if jobID != 0 {
			job = &jobID
		}
		err := tx.QueryRow(ctx, `INSERT INTO screenings (listing_id, job_id, score, verdict, status, reasons, matches,
			rules_version, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (job_id) WHERE job_id IS NOT NULL AND error = '' DO NOTHING RETURNING id, created_at`,
			id, job, sc.Score, sc.Verdict, sc.Status, reasons, matches, sc.RulesVersion, sc.Duration.Milliseconds()).Scan(&sc.ID, &sc.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return errAlreadyScreened
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM screened_images WHERE listing_id = $1`, id); err != nil {
			return err
		}
		for _, p := range ev.Photos {
			if _, err := tx.Exec(ctx, `INSERT INTO screened_images (listing_id, image_id, seller_id) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, id, p.ImageID, l.SellerID); err != nil {
				return err
			}
		}
		// The listing may have been removed while we judged it: the row lock taken by
		// SetListingStatus orders us after that decision, which stands.
		current, err := s.catalog.LockListing(ctx, tx, id)
		if err != nil {
			return err
		}
		if current == catalog.StatusRemoved {
			sc.Status = current
			_, err := tx.Exec(ctx, `UPDATE screenings SET status = $2 WHERE id = $1`, sc.ID, current)
			return err
		}
		if err := s.catalog.SetListingStatus(ctx, tx, id, sc.Status, reason); err != nil {
			return err
		}
		if sc.Verdict != VerdictAllow {
			if c := s.caseOpener(); c != nil {
				return c.OpenCase(ctx, tx, CaseInput{ListingID: id, ScreeningID: sc.ID, Score: sc.Score, Verdict: sc.Verdict, Reason: reason})
			}
		}
		return nil
	})
	if errors.Is(err, errAlreadyScreened) {
		return s.LatestScreening(ctx, id)
	}
	if err != nil {
		return Screening{}, err
	}
	return sc, nil
}

var errAlreadyScreened = errors.New("detection: this job already screened the listing")

// recordFailure stores a failed screening attempt, so that operations see why a listing is
// still pending.
func (s *Service) recordFailure(ctx context.Context, listingID, jobID int64, attempt int, cause error, d time.Duration) error {
	msg := cause.Error()
	if msg == "" {
		msg = "unknown error"
	}
	_, err := s.db.Exec(ctx, `INSERT INTO screenings (listing_id, job_id, attempt, error, duration_ms)
		VALUES ($1, $2, $3, $4, $5)`, listingID, jobID, attempt, msg, d.Milliseconds())
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "23503" {
		return nil // the listing is gone (its foreign key): there is nothing to record it against
	}
	return err
}

const screeningColumns = `id, listing_id, attempt, coalesce(score, 0), coalesce(verdict, ''), coalesce(status, ''), reasons,
	matches, rules_version, error, duration_ms, created_at`

func scanScreening(row pgx.Row) (Screening, error) {
	var sc Screening
	var ms int64
	err := row.Scan(&sc.ID, &sc.ListingID, &sc.Attempt, &sc.Score, &sc.Verdict, &sc.Status, &sc.Reasons, &sc.Matches,
		&sc.RulesVersion, &sc.Error, &ms, &sc.CreatedAt)
	sc.Duration = time.Duration(ms) * time.Millisecond
	return sc, err
}

// LatestScreening returns the latest completed screening of a listing. Returns NotFound
// when the listing has none (yet).
func (s *Service) LatestScreening(ctx context.Context, listingID int64) (_ Screening, err error) {
	defer fault.Annotate(&err, "detection.LatestScreening(%d)", listingID)
	sc, err := scanScreening(s.db.QueryRow(ctx, `SELECT `+screeningColumns+` FROM screenings
		WHERE listing_id = $1 AND error = '' ORDER BY id DESC LIMIT 1`, listingID))
	return sc, postgres.Err(err, "screening")
}

// ScreeningTx reads, through tx, the completed screening screeningID of a listing, or its
// latest one when screeningID is 0: the review opens a case in the transaction that records
// the screening. Returns NotFound when there is none.
func (s *Service) ScreeningTx(ctx context.Context, tx pgx.Tx, listingID, screeningID int64) (_ Screening, err error) {
	defer fault.Annotate(&err, "detection.ScreeningTx(%d, %d)", listingID, screeningID)
	sc, err := scanScreening(tx.QueryRow(ctx, `SELECT `+screeningColumns+` FROM screenings
		WHERE listing_id = $1 AND error = '' AND ($2 = 0 OR id = $2) ORDER BY id DESC LIMIT 1`, listingID, screeningID))
	return sc, postgres.Err(err, "screening")
}

// Screenings returns every screening and failed attempt of a listing, newest first.
func (s *Service) Screenings(ctx context.Context, listingID int64) (_ []Screening, err error) {
	defer fault.Annotate(&err, "detection.Screenings(%d)", listingID)
	rows, err := s.db.Query(ctx, `SELECT `+screeningColumns+` FROM screenings WHERE listing_id = $1 ORDER BY id DESC`, listingID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Screening, error) { return scanScreening(r) })
}

// StuckListing is a listing whose latest screening attempt failed and that has no
// completed screening since: it stays unsellable until a retry succeeds.
type StuckListing struct {
	ListingID int64     `json:"listing_id"`
	Attempts  int       `json:"attempts"`
	Error     string    `json:"error"`
	FailedAt  time.Time `json:"failed_at"`
}

// FailedScreenings lists the listings whose screening keeps failing, most recent first:
// the operations view of fail-closed listings.
func (s *Service) FailedScreenings(ctx context.Context, limit int) (_ []StuckListing, err error) {
	defer fault.Annotate(&err, "detection.FailedScreenings(%d)", limit)
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.Query(ctx, `SELECT DISTINCT ON (f.listing_id) f.listing_id, f.attempt, f.error, f.created_at
		FROM screenings f
		WHERE f.error <> '' AND NOT EXISTS (SELECT 1 FROM screenings ok WHERE ok.listing_id = f.listing_id AND ok.error = '' AND ok.id > f.id)
		ORDER BY f.listing_id, f.id DESC`)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[StuckListing])
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b StuckListing) int { return b.FailedAt.Compare(a.FailedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// RetryScreening queues a new screening of listing id (an operator's retry of a screening that
// keeps failing). Returns fault.NotFound when there is no such listing.
func (s *Service) RetryScreening(ctx context.Context, id int64) (err error) {
	defer fault.Annotate(&err, "detection.RetryScreening(%d)", id)
	if _, err := s.catalog.Listing(ctx, id); err != nil {
		return err
	}
	return postgres.Tx(ctx, s.db, func(tx pgx.Tx) error { return s.catalog.InsertScreening(ctx, tx, id) })
}

// AllowImages records, inside tx (an analyst's "authentic" decision in case caseID), that
// the photos of listing listingID are authentic for its seller: their matches with official
// references no longer count against that seller, in this listing or any later one.
func (s *Service) AllowImages(ctx context.Context, tx pgx.Tx, listingID, caseID int64) (err error) {
	defer fault.Annotate(&err, "detection.AllowImages(%d, %d)", listingID, caseID)
	l, err := s.catalog.ListingTx(ctx, tx, listingID)
	if err != nil {
		return err
	}
	for _, img := range l.Images {
		if _, err := tx.Exec(ctx, `INSERT INTO authentic_images (seller_id, image_id, case_id, listing_id)
			VALUES ($1, $2, nullif($3, 0), $4) ON CONFLICT (seller_id, image_id) DO UPDATE SET case_id = excluded.case_id,
			listing_id = excluded.listing_id, added_at = now()`, l.SellerID, img.ID, caseID, listingID); err != nil {
			return err
		}
	}
	return nil
}

// Screening is the latest completed screening of a listing as the catalogue's listing API
// shows it (catalog.ScreeningSource): nil while the listing has none. The matches name the
// reference pictures.
func (s *Service) Screening(ctx context.Context, listingID int64) (_ *catalog.Screening, err error) {
	defer fault.Annotate(&err, "detection.Screening(%d)", listingID)
	sc, err := s.LatestScreening(ctx, listingID)
	if fault.CodeOf(err) == fault.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := &catalog.Screening{Score: sc.Score, Verdict: sc.Verdict, Reasons: []catalog.ScreeningReason{}, Matches: []catalog.ScreeningMatch{}}
	for _, r := range sc.Reasons {
		out.Reasons = append(out.Reasons, catalog.ScreeningReason(r))
	}
	for _, m := range sc.Matches {
		out.Matches = append(out.Matches, catalog.ScreeningMatch{ImageID: m.RefImageID, Kind: m.Kind, Distance: m.Distance})
	}
	return out, nil
}
