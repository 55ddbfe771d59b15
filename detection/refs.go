package detection

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"marketplace/detection/imagematch"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
)

// The kinds of reference picture (Reference.Kind, ImageMatch.Kind).
const (
	// RefOfficial is an official product image: a copy by anyone but its licensee or an
	// authorised reseller is suspect.
	RefOfficial = "official"
	// RefCounterfeit is a picture an analyst judged counterfeit.
	RefCounterfeit = "counterfeit"
	// RefRemovedListing is a picture of a listing an analyst took down for another reason
	// (an unauthorised seller): the same photo from another seller is suspect.
	RefRemovedListing = "removed_listing"
)

// Reference is one reference picture. Several references may share one image (one photo
// for two products); the matcher holds each image once.
type Reference struct {
	ID         int64     `json:"id"`
	ImageID    int64     `json:"image_id"`
	Kind       string    `json:"kind"`
	ProductID  int64     `json:"product_id,omitempty"`
	LicenseeID int64     `json:"licensee_id,omitempty"`
	CaseID     int64     `json:"case_id,omitempty"`
	ListingID  int64     `json:"listing_id,omitempty"`
	SellerID   int64     `json:"seller_id,omitempty"`
	AddedAt    time.Time `json:"added_at"`
}

// refsNotifyChannel carries the new reference version at each commit of a change.
const refsNotifyChannel = "detection_references"

// refSet is the process's copy of the references: a Matcher over their images and the
// references of each image. Images are never taken out of the matcher; a withdrawn
// reference leaves its image without references, and such matches are ignored.
type refSet struct {
	refreshMu sync.Mutex // one refresh at a time

	mu      sync.RWMutex
	version int64
	byImage map[int64][]Reference
	indexed map[int64]bool // images in the matcher
	matcher *imagematch.Matcher
}

func newRefSet(cfg imagematch.MatchConfig) (*refSet, error) {
	m, err := imagematch.NewMatcher(cfg)
	if err != nil {
		return nil, err
	}
	return &refSet{version: -1, byImage: map[int64][]Reference{}, indexed: map[int64]bool{}, matcher: m}, nil
}

func (r *refSet) currentVersion() int64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.version
}

// RefMatch is a reference a picture matched.
type RefMatch struct {
	Reference
	Distance    int     `json:"distance"`
	Correlation float64 `json:"correlation"`
	HashKind    string  `json:"hash_kind"` // which reference hash matched: phash, phash_mirror, region:85:tl…
}

// matchFP returns the references fp matches, nearest first.
func (r *refSet) matchFP(fp *imagematch.Fingerprint) []RefMatch {
	var out []RefMatch
	for _, m := range r.matcher.Match(fp) {
		r.mu.RLock()
		refs := r.byImage[m.RefID]
		r.mu.RUnlock()
		for _, ref := range refs {
			out = append(out, RefMatch{Reference: ref, Distance: m.Distance, Correlation: m.Correlation, HashKind: m.Kind.String()})
		}
	}
	return out
}

// ReferenceCount returns the number of active references and of images in the matcher.
func (s *Service) ReferenceCount() (refs, images int) {
	s.refs.mu.RLock()
	defer s.refs.mu.RUnlock()
	for _, rs := range s.refs.byImage {
		refs += len(rs)
	}
	return refs, len(s.refs.indexed)
}

const referenceColumns = `id, image_id, kind, coalesce(product_id, 0), coalesce(licensee_id, 0), coalesce(case_id, 0),
	coalesce(listing_id, 0), coalesce(seller_id, 0), added_at, withdrawn_at IS NOT NULL`

// refresh brings the reference set up to the database's version: everything on the first
// call, then the reference rows whose version is newer, and the fingerprints of images the
// matcher does not hold yet.
func (s *Service) refresh(ctx context.Context) error {
	r := s.refs
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	checked := time.Now()
	old := r.currentVersion()
	if old >= 0 {
		v, err := referenceVersion(ctx, s.db)
		if err != nil {
			return err
		}
		if v == old {
			s.checkedAt.Store(checked.UnixNano())
			return nil
		}
	}
	// One repeatable-read transaction sees the version and the rows as of one moment.
	type refRow struct {
		ref       Reference
		withdrawn bool
	}
	var (
		v       int64
		changed []refRow
		missing []int64
		fps     map[int64]*imagematch.Fingerprint
	)
	err := postgres.TxWithOptions(ctx, s.db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if v, err = referenceVersion(ctx, tx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+referenceColumns+` FROM image_references WHERE version > $1 ORDER BY version, id`, old)
		if err != nil {
			return err
		}
		changed, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (refRow, error) {
			var x refRow
			err := row.Scan(&x.ref.ID, &x.ref.ImageID, &x.ref.Kind, &x.ref.ProductID, &x.ref.LicenseeID, &x.ref.CaseID,
				&x.ref.ListingID, &x.ref.SellerID, &x.ref.AddedAt, &x.withdrawn)
			return x, err
		})
		if err != nil {
			return err
		}
		// Fingerprints of the images new to this process, before the references become visible.
		missing = nil
		r.mu.RLock()
		for _, c := range changed {
			if !c.withdrawn && !r.indexed[c.ref.ImageID] && !slices.Contains(missing, c.ref.ImageID) {
				missing = append(missing, c.ref.ImageID)
			}
		}
		r.mu.RUnlock()
		fps, err = loadFingerprints(ctx, tx, missing)
		return err
	})
	if err != nil {
		return err
	}
	added := map[int64]bool{}
	for _, id := range missing {
		fp := fps[id]
		if fp == nil {
			s.log.Warn("detection: reference image has no fingerprint; it cannot be matched", "image_id", id)
			continue
		}
		if err := r.matcher.Add(id, fp); err != nil {
			s.log.Warn("detection: reference image not indexed", "image_id", id, "err", err)
			continue
		}
		added[id] = true
	}
	r.mu.Lock()
	for id := range added {
		r.indexed[id] = true
	}
	for _, c := range changed {
		refs := slices.DeleteFunc(r.byImage[c.ref.ImageID], func(x Reference) bool { return x.ID == c.ref.ID })
		if !c.withdrawn {
			refs = append(refs, c.ref)
		}
		if len(refs) == 0 {
			delete(r.byImage, c.ref.ImageID)
		} else {
			r.byImage[c.ref.ImageID] = refs
		}
	}
	r.version = v
	r.mu.Unlock()
	s.checkedAt.Store(checked.UnixNano())
	return nil
}

// ensureCurrent catches the reference set up with the database before a screening, so a
// reference committed just before (by this process or another) always counts, whether or
// not its NOTIFY has arrived. It costs one indexed read.
func (s *Service) ensureCurrent(ctx context.Context) error {
	v, err := referenceVersion(ctx, s.db)
	if err != nil {
		return err
	}
	if v == s.refs.currentVersion() {
		return nil
	}
	return s.refresh(ctx)
}

func (s *Service) refreshLogged(ctx context.Context) {
	if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("detection: refresh references", "err", err)
	}
}

// bumpReferenceVersion advances the reference counter inside tx and announces it at
// commit. The row lock it takes is held to the commit, so versions become visible in order.
func bumpReferenceVersion(ctx context.Context, tx pgx.Tx) (int64, error) {
	var v int64
	if err := tx.QueryRow(ctx, `UPDATE reference_state SET version = version + 1 RETURNING version`).Scan(&v); err != nil {
		return 0, err
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, refsNotifyChannel, strconv.FormatInt(v, 10))
	return v, err
}

func referenceVersion(ctx context.Context, q querier) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, `SELECT version FROM reference_state`).Scan(&v)
	return v, err
}

// SetProductReferences makes imageIDs the official references of product productID of
// licensee licenseeID, inside tx: new images are added, images no longer shown are
// withdrawn. Each image must have been fingerprinted (Fingerprint) before. It reports
// whether anything changed.
func (s *Service) SetProductReferences(ctx context.Context, tx pgx.Tx, productID, licenseeID int64, imageIDs []int64) (_ bool, err error) {
	defer fault.Annotate(&err, "detection.SetProductReferences(%d, %d)", productID, licenseeID)
	rows, err := tx.Query(ctx, `SELECT id, image_id FROM image_references
		WHERE kind = 'official' AND product_id = $1 AND withdrawn_at IS NULL FOR UPDATE`, productID)
	if err != nil {
		return false, err
	}
	type cur struct{ ID, Image int64 }
	current, err := pgx.CollectRows(rows, pgx.RowToStructByPos[cur])
	if err != nil {
		return false, err
	}
	var withdraw []int64
	have := map[int64]bool{}
	for _, c := range current {
		if slices.Contains(imageIDs, c.Image) {
			have[c.Image] = true
		} else {
			withdraw = append(withdraw, c.ID)
		}
	}
	var add []int64
	for _, id := range imageIDs {
		if !have[id] && !slices.Contains(add, id) {
			add = append(add, id)
		}
	}
	if len(add) == 0 && len(withdraw) == 0 {
		return false, nil
	}
	v, err := bumpReferenceVersion(ctx, tx)
	if err != nil {
		return false, err
	}
	if len(withdraw) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE image_references SET withdrawn_at = now(), version = $2 WHERE id = ANY ($1)`, withdraw, v); err != nil {
			return false, err
		}
	}
	for _, img := range add {
		if _, err := tx.Exec(ctx, `INSERT INTO image_references (image_id, kind, product_id, licensee_id, version)
			VALUES ($1, 'official', $2, $3, $4)`, img, productID, licenseeID, v); err != nil {
			return false, postgres.Err(err, "reference")
		}
	}
	return true, nil
}

// AddCounterfeitReference records, inside tx (the analyst's decision), that image imageID
// is a known counterfeit, judged in case caseID. Every process's matcher picks it up at
// commit, and the listings whose pictures match it are re-screened (a job inserted in tx).
// Adding it twice changes nothing. Returns NotFound for an unknown image.
func (s *Service) AddCounterfeitReference(ctx context.Context, tx pgx.Tx, imageID, caseID int64) (err error) {
	defer fault.Annotate(&err, "detection.AddCounterfeitReference(%d, %d)", imageID, caseID)
	return s.addListingReference(ctx, tx, RefCounterfeit, imageID, caseID, 0, 0)
}

// AddRemovedListingReferences records, inside tx, the pictures of listing listingID (by
// seller sellerID), which an analyst took down in case caseID for a reason other than a
// counterfeit: the same photos from another seller then count against that seller.
func (s *Service) AddRemovedListingReferences(ctx context.Context, tx pgx.Tx, listingID, caseID int64) (err error) {
	defer fault.Annotate(&err, "detection.AddRemovedListingReferences(%d, %d)", listingID, caseID)
	l, err := s.catalog.ListingTx(ctx, tx, listingID)
	if err != nil {
		return err
	}
	for _, img := range l.Images {
		if err := s.addListingReference(ctx, tx, RefRemovedListing, img.ID, caseID, listingID, l.SellerID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) addListingReference(ctx context.Context, tx pgx.Tx, kind string, imageID, caseID, listingID, sellerID int64) error {
	// The picture must have a fingerprint to be matched; a listing's pictures normally have
	// one since its screening.
	if _, err := s.fingerprint(ctx, tx, imageID); err != nil {
		if fault.CodeOf(err) == fault.Unprocessable {
			return fault.Wrap(fault.Unprocessable, err, "image %d cannot be a reference: it could not be fingerprinted", imageID)
		}
		return err
	}
	if listingID == 0 && sellerID == 0 {
		// A counterfeit: remember a listing it was seen in, for the analysts.
		err := tx.QueryRow(ctx, `SELECT listing_id, seller_id FROM screened_images WHERE image_id = $1 ORDER BY listing_id LIMIT 1`,
			imageID).Scan(&listingID, &sellerID)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM image_references WHERE image_id = $1 AND kind = $2
		AND coalesce(listing_id, 0) = $3 AND withdrawn_at IS NULL)`, imageID, kind, listingID).Scan(&exists); err != nil || exists {
		return err
	}
	v, err := bumpReferenceVersion(ctx, tx)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO image_references (image_id, kind, case_id, listing_id, seller_id, version)
		VALUES ($1, $2, nullif($3, 0), nullif($4, 0), nullif($5, 0), $6)`, imageID, kind, caseID, listingID, sellerID, v); err != nil {
		return postgres.Err(err, "reference")
	}
	_, err = s.jobs.InsertTx(ctx, tx, RescreenMatchesArgs{ImageID: imageID}, nil)
	return err
}

// References lists the active references of an image.
func (s *Service) References(ctx context.Context, imageID int64) (_ []Reference, err error) {
	defer fault.Annotate(&err, "detection.References(%d)", imageID)
	rows, err := s.db.Query(ctx, `SELECT `+referenceColumns+` FROM image_references
		WHERE image_id = $1 AND withdrawn_at IS NULL ORDER BY id`, imageID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Reference, error) {
		var r Reference
		var withdrawn bool
		err := row.Scan(&r.ID, &r.ImageID, &r.Kind, &r.ProductID, &r.LicenseeID, &r.CaseID, &r.ListingID, &r.SellerID, &r.AddedAt, &withdrawn)
		return r, err
	})
}

// PhotoCheck is what the storefront's /verify page tells a fan about a photo.
type PhotoCheck struct {
	// Official lists the official products whose images the photo shows, nearest first.
	Official []OfficialMatch `json:"official"`
	// Counterfeit is true when the photo matches a picture analysts judged counterfeit
	// (or a photo of a listing they took down).
	Counterfeit bool `json:"counterfeit"`
	// Distance is the Hamming distance of the nearest counterfeit match, when there is one.
	CounterfeitDistance int `json:"counterfeit_distance,omitempty"`
}

// OfficialMatch is an official product a photo shows.
type OfficialMatch struct {
	ProductID  int64 `json:"product_id"`
	LicenseeID int64 `json:"licensee_id"`
	ImageID    int64 `json:"image_id"`
	Distance   int   `json:"distance"`
}

// PhotoCheckMaxPixels is the most pixels a photo sent to CheckPhoto may have: anyone may send
// one, without an account, so it is a quarter of what a seller's listing photo may have (a
// phone's photo has 12 megapixels).
const PhotoCheckMaxPixels = 16_000_000

// CheckPhoto fingerprints a photo a fan uploads and says which official products it shows
// and whether it matches a known counterfeit. Nothing is stored. Decoding waits for the
// process's pixel budget (imageio.AcquirePixels). Returns Unprocessable (naming the field
// "photo") for bytes that are not a usable picture or that have more than
// PhotoCheckMaxPixels pixels, and ctx's error when it ends while the photo waits.
func (s *Service) CheckPhoto(ctx context.Context, data []byte) (_ PhotoCheck, err error) {
	defer fault.Annotate(&err, "detection.CheckPhoto()")
	fp, err := s.photoHasher.FingerprintContext(ctx, data)
	if err != nil {
		if ctx.Err() != nil {
			return PhotoCheck{}, ctx.Err()
		}
		if errors.Is(err, imagematch.ErrTooManyPixels) {
			e := fault.Wrap(fault.Unprocessable, err, "the photo has too many pixels")
			e.Fields = []fault.FieldError{fault.Field("photo", "the photo has more than %d megapixels: send a smaller copy", PhotoCheckMaxPixels/1_000_000)}
			return PhotoCheck{}, e
		}
		return PhotoCheck{}, imageFault(err)
	}
	if err := s.ensureCurrent(ctx); err != nil {
		return PhotoCheck{}, err
	}
	var pc PhotoCheck
	pc.Official = []OfficialMatch{}
	seen := map[int64]bool{}
	for _, m := range s.refs.matchFP(fp) {
		switch m.Kind {
		case RefOfficial:
			if !seen[m.ProductID] {
				seen[m.ProductID] = true
				pc.Official = append(pc.Official, OfficialMatch{ProductID: m.ProductID, LicenseeID: m.LicenseeID, ImageID: m.ImageID, Distance: m.Distance})
			}
		case RefCounterfeit, RefRemovedListing:
			if !pc.Counterfeit || m.Distance < pc.CounterfeitDistance {
				pc.CounterfeitDistance = m.Distance
			}
			pc.Counterfeit = true
		}
	}
	return pc, nil
}

// imageFault turns a Hasher error into an Unprocessable error naming the photo field.
func imageFault(err error) error {
	msg := "the photo could not be read as a picture"
	switch {
	case errors.Is(err, imagematch.ErrTooLarge):
		msg = "the photo file is too large"
	case errors.Is(err, imagematch.ErrTooManyPixels):
		msg = "the photo has too many pixels"
	case errors.Is(err, imagematch.ErrTooSmall):
		msg = "the photo is too small to be checked"
	case errors.Is(err, imagematch.ErrNoDetail):
		msg = "the photo is a single flat colour"
	}
	e := fault.Wrap(fault.Unprocessable, err, "%s", msg)
	e.Fields = []fault.FieldError{fault.Field("photo", "%s", msg)}
	return e
}
