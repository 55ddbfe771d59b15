package detection

import (
	"context"
	"math/bits"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"marketplace/catalog"
	"marketplace/detection/imagematch"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/licensing"
)

// RescreenMatchesArgs re-screens the listings whose pictures match image ImageID, a
// reference just added (a known counterfeit, a removed listing's photo).
type RescreenMatchesArgs struct {
	ImageID int64 `json:"image_id"`
}

// Kind names the job in River's table.
func (RescreenMatchesArgs) Kind() string { return "detection.rescreen_matches" }

// RescreenSellerArgs re-screens every listing of a seller that is not removed (after a
// strike, a suspension lifted, an authorisation granted or revoked).
type RescreenSellerArgs struct {
	SellerID int64 `json:"seller_id"`
}

// Kind names the job in River's table.
func (RescreenSellerArgs) Kind() string { return "detection.rescreen_seller" }

// RescreenLicenseeArgs re-screens the listings a licence change may judge differently:
// those showing the licensee's official photos, and those of its authorised resellers.
type RescreenLicenseeArgs struct {
	LicenseeID int64 `json:"licensee_id"`
}

// Kind names the job in River's table.
func (RescreenLicenseeArgs) Kind() string { return "detection.rescreen_licensee" }

// RescreenAllArgs re-screens every listing that is not removed (after the rules changed).
type RescreenAllArgs struct{}

// Kind names the job in River's table.
func (RescreenAllArgs) Kind() string { return "detection.rescreen_all" }

// RegisterJobs adds the pipeline's workers: screen_listing and product_references (the
// catalogue's jobs) and the re-screening jobs. It returns no periodic jobs.
func RegisterJobs(workers *river.Workers, svc *Service) []*river.PeriodicJob {
	river.AddWorker(workers, &screenWorker{svc: svc})
	river.AddWorker(workers, &productRefsWorker{svc: svc})
	river.AddWorker(workers, &rescreenMatchesWorker{svc: svc})
	river.AddWorker(workers, &rescreenSellerWorker{svc: svc})
	river.AddWorker(workers, &rescreenLicenseeWorker{svc: svc})
	river.AddWorker(workers, &rescreenAllWorker{svc: svc})
	return nil
}

// screenWorker screens one listing. A failed attempt is recorded and retried with River's
// backoff; the listing stays as it was (pending for a new one) until an attempt succeeds.
// It runs under the client's JobTimeout (JOB_TIMEOUT), not a longer one of its own: River
// rescues a job whose process died only after its timeout, and a screening must resume within
// a minute of a crash.
type screenWorker struct {
	river.WorkerDefaults[catalog.ScreenListingArgs]
	svc *Service
}

func (w *screenWorker) Work(ctx context.Context, job *river.Job[catalog.ScreenListingArgs]) error {
	start := time.Now()
	_, err := w.svc.ScreenListing(ctx, job.Args.ListingID, job.ID)
	if err == nil {
		return nil
	}
	if fault.CodeOf(err) == fault.NotFound && isListingNotFound(ctx, w.svc, job.Args.ListingID) {
		return river.JobCancel(err) // no such listing: nothing will ever screen it
	}
	if rerr := w.svc.recordFailure(context.WithoutCancel(ctx), job.Args.ListingID, job.ID, job.Attempt, err, time.Since(start)); rerr != nil {
		w.svc.log.Warn("detection: recording a failed screening", "listing_id", job.Args.ListingID, "err", rerr)
	}
	w.svc.log.Warn("detection: screening failed; the listing stays as it was", "listing_id", job.Args.ListingID,
		"attempt", job.Attempt, "err", err)
	return err
}

func isListingNotFound(ctx context.Context, s *Service, id int64) bool {
	_, err := s.catalog.Listing(ctx, id)
	return fault.CodeOf(err) == fault.NotFound
}

// productRefsWorker fingerprints an approved product's images and makes them its official
// references (withdrawing images it no longer shows). A product that is not approved has
// none.
type productRefsWorker struct {
	river.WorkerDefaults[catalog.ProductReferencesArgs]
	svc *Service
}

func (w *productRefsWorker) Timeout(*river.Job[catalog.ProductReferencesArgs]) time.Duration {
	return 5 * time.Minute
}

func (w *productRefsWorker) Work(ctx context.Context, job *river.Job[catalog.ProductReferencesArgs]) error {
	_, err := w.svc.UpdateProductReferences(ctx, job.Args.ProductID)
	if fault.CodeOf(err) == fault.NotFound {
		return river.JobCancel(err)
	}
	return err
}

// UpdateProductReferences fingerprints product productID's images and makes them its
// official references; a product not approved loses its references. Images that cannot be
// fingerprinted are skipped (and logged). It reports whether the references changed.
func (s *Service) UpdateProductReferences(ctx context.Context, productID int64) (_ bool, err error) {
	defer fault.Annotate(&err, "detection.UpdateProductReferences(%d)", productID)
	p, err := s.catalog.Product(ctx, productID)
	if err != nil {
		return false, err
	}
	var ids []int64
	if p.Status == catalog.ProductApproved {
		for _, img := range p.Images {
			id := img.ID
			if _, err := s.Fingerprint(ctx, id); err != nil {
				if fault.CodeOf(err) == fault.Unprocessable {
					s.log.Warn("detection: official image cannot be a reference", "product_id", productID, "image_id", id, "err", err)
					continue
				}
				return false, err
			}
			ids = append(ids, id)
		}
	}
	var changed bool
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		changed, err = s.SetProductReferences(ctx, tx, productID, p.LicenseeID, ids)
		return err
	})
	return changed, err
}

// rescreenMatchesWorker finds the screened listings whose pictures match a new reference.
type rescreenMatchesWorker struct {
	river.WorkerDefaults[RescreenMatchesArgs]
	svc *Service
}

func (w *rescreenMatchesWorker) Timeout(*river.Job[RescreenMatchesArgs]) time.Duration {
	return 10 * time.Minute
}

func (w *rescreenMatchesWorker) Work(ctx context.Context, job *river.Job[RescreenMatchesArgs]) error {
	ids, err := w.svc.ListingsMatching(ctx, job.Args.ImageID)
	if err != nil {
		return err
	}
	return w.svc.insertScreenings(ctx, ids)
}

// ListingsMatching returns the screened listings (any status but removed is re-screened
// by the caller) with a picture that matches image imageID, by the same Matcher and
// thresholds as a screening. It compares imageID's hashes with the query hashes of every
// screened picture (a scan of three integers per picture) and confirms the candidates
// with the finer check.
func (s *Service) ListingsMatching(ctx context.Context, imageID int64) (_ []int64, err error) {
	defer fault.Annotate(&err, "detection.ListingsMatching(%d)", imageID)
	ref, err := s.Fingerprint(ctx, imageID)
	if err != nil {
		return nil, err
	}
	var refHashes []uint64
	for _, h := range ref.Hashes {
		if h.Kind.IsPHash() {
			refHashes = append(refHashes, h.Value)
		}
	}
	near := func(q uint64) bool {
		for _, h := range refHashes {
			if bits.OnesCount64(q^h) <= s.match.Radius {
				return true
			}
		}
		return false
	}
	rows, err := s.db.Query(ctx, `SELECT image_id, phash, phash_raw, phash_fill FROM image_fingerprints
		WHERE fingerprint IS NOT NULL AND image_id IN (SELECT image_id FROM screened_images)`)
	if err != nil {
		return nil, err
	}
	var cands []int64
	for rows.Next() {
		var id int64
		var ph [3]*int64
		if err := rows.Scan(&id, &ph[0], &ph[1], &ph[2]); err != nil {
			rows.Close()
			return nil, err
		}
		for _, p := range ph {
			if p != nil && near(uint64(*p)) {
				cands = append(cands, id)
				break
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	m, err := imagematch.NewMatcher(s.match)
	if err != nil {
		return nil, err
	}
	if err := m.Add(imageID, ref); err != nil {
		return nil, err
	}
	var matched []int64
	for chunk := range slices.Chunk(cands, 500) {
		fps, err := loadFingerprints(ctx, s.db, chunk)
		if err != nil {
			return nil, err
		}
		for _, id := range chunk {
			if fp := fps[id]; fp != nil && len(m.Match(fp)) > 0 {
				matched = append(matched, id)
			}
		}
	}
	if len(matched) == 0 {
		return nil, nil
	}
	rows, err = s.db.Query(ctx, `SELECT DISTINCT listing_id FROM screened_images WHERE image_id = ANY ($1) ORDER BY 1`, matched)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// insertScreenings enqueues a screening of each listing, in batches of one transaction.
func (s *Service) insertScreenings(ctx context.Context, ids []int64) error {
	for chunk := range slices.Chunk(ids, 500) {
		err := postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
			for _, id := range chunk {
				if err := s.catalog.InsertScreening(ctx, tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// RescreenSeller enqueues, inside tx, a re-screening of every listing of seller sellerID
// that is not removed (after a strike or another decision about the seller).
func (s *Service) RescreenSeller(ctx context.Context, tx pgx.Tx, sellerID int64) (err error) {
	defer fault.Annotate(&err, "detection.RescreenSeller(%d)", sellerID)
	_, err = s.jobs.InsertTx(ctx, tx, RescreenSellerArgs{SellerID: sellerID}, nil)
	return err
}

// RescreenAll enqueues, inside tx, a re-screening of every listing that is not removed
// (after the rules changed).
func (s *Service) RescreenAll(ctx context.Context, tx pgx.Tx) (err error) {
	defer fault.Annotate(&err, "detection.RescreenAll()")
	_, err = s.jobs.InsertTx(ctx, tx, RescreenAllArgs{}, nil)
	return err
}

type rescreenSellerWorker struct {
	river.WorkerDefaults[RescreenSellerArgs]
	svc *Service
}

func (w *rescreenSellerWorker) Work(ctx context.Context, job *river.Job[RescreenSellerArgs]) error {
	return w.svc.rescreenListings(ctx, catalog.ListingFilter{SellerID: job.Args.SellerID})
}

type rescreenAllWorker struct {
	river.WorkerDefaults[RescreenAllArgs]
	svc *Service
}

func (w *rescreenAllWorker) Timeout(*river.Job[RescreenAllArgs]) time.Duration {
	return 30 * time.Minute
}

func (w *rescreenAllWorker) Work(ctx context.Context, _ *river.Job[RescreenAllArgs]) error {
	return w.svc.rescreenListings(ctx, catalog.ListingFilter{})
}

// rescreenListings enqueues a screening of every listing f selects that is not removed.
func (s *Service) rescreenListings(ctx context.Context, f catalog.ListingFilter) error {
	f.Limit = 1000
	for {
		page, err := s.catalog.Listings(ctx, f)
		if err != nil {
			return err
		}
		var ids []int64
		for _, l := range page {
			if l.Status != catalog.StatusRemoved {
				ids = append(ids, l.ID)
			}
		}
		if err := s.insertScreenings(ctx, ids); err != nil {
			return err
		}
		if len(page) < f.Limit {
			return nil
		}
		f.AfterID = page[len(page)-1].ID
	}
}

type rescreenLicenseeWorker struct {
	river.WorkerDefaults[RescreenLicenseeArgs]
	svc *Service
}

func (w *rescreenLicenseeWorker) Work(ctx context.Context, job *river.Job[RescreenLicenseeArgs]) error {
	return w.svc.rescreenLicensee(ctx, job.Args.LicenseeID)
}

// rescreenLicensee enqueues screenings of the listings showing licensee licenseeID's
// official photos (its own, and anyone else's that copy them) and of its resellers'.
func (s *Service) rescreenLicensee(ctx context.Context, licenseeID int64) error {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT si.listing_id FROM screened_images si
		JOIN image_references r ON r.image_id = si.image_id
		WHERE r.kind = 'official' AND r.licensee_id = $1 AND r.withdrawn_at IS NULL
		UNION
		SELECT DISTINCT s.listing_id FROM screenings s, jsonb_array_elements(s.matches) m
		WHERE (m->>'licensee_id')::bigint = $1 AND s.error = ''
		ORDER BY 1`, licenseeID)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	if err := s.insertScreenings(ctx, ids); err != nil {
		return err
	}
	auths, err := s.catalog.Licensing().Resellers(ctx, licenseeID)
	if err != nil {
		return err
	}
	for _, a := range auths {
		if err := s.rescreenListings(ctx, catalog.ListingFilter{SellerID: a.SellerID}); err != nil {
			return err
		}
	}
	return nil
}

// onLicenceChange re-screens, after a licence changes state, the listings it may judge
// differently.
func (s *Service) onLicenceChange(ctx context.Context, tx pgx.Tx, ch licensing.LicenceChange) error {
	if ch.Before != nil && ch.Before.Status == ch.After.Status && slices.Equal(ch.Before.Territories, ch.After.Territories) &&
		slices.Equal(ch.Before.Categories, ch.After.Categories) && ch.Before.ValidTo.Equal(ch.After.ValidTo) &&
		ch.Before.ValidFrom.Equal(ch.After.ValidFrom) {
		return nil
	}
	_, err := s.jobs.InsertTx(ctx, tx, RescreenLicenseeArgs{LicenseeID: ch.After.LicenseeID}, nil)
	return err
}

// onResellerChange re-screens a seller's listings when an authorisation is granted or revoked.
func (s *Service) onResellerChange(ctx context.Context, tx pgx.Tx, ch licensing.ResellerChange) error {
	return s.RescreenSeller(ctx, tx, ch.After.SellerID)
}
