package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/licensing"
)

// A catalogue import reads a licensee's CSV (and optional zip of pictures) line by line,
// checks every line (its fields, and the licensee's licences through the coverage question),
// and applies the whole file in one transaction, or nothing when any line is bad. The lines
// stream through the parser into a temporary table with COPY, so memory does not grow with the
// file; checks that span lines (a SKU twice, the lines of one product disagreeing, another
// licensee's SKU) and the writes themselves are set-based SQL over that table. Re-importing
// updates products by SKU instead of duplicating them.

// ImportStatus is where an import stands.
type ImportStatus string

// The statuses of an import. A failed import wrote nothing; a dry run that succeeded would
// have applied, and wrote nothing either.
const (
	ImportRunning   ImportStatus = "running"
	ImportSucceeded ImportStatus = "succeeded"
	ImportFailed    ImportStatus = "failed"
)

// The phases of a running import, for its progress bar.
const (
	PhaseReading  = "reading"  // parsing and checking lines
	PhaseChecking = "checking" // the checks across lines
	PhaseImages   = "images"   // storing the pictures
	PhaseWriting  = "writing"  // applying
	PhaseDone     = "done"
)

// importLockSpace is the first key of the advisory lock that serialises one licensee's imports.
const importLockSpace = 7_432_004

// maxStoredErrors bounds the errors kept with an import; Rejected still counts every bad line.
const maxStoredErrors = 1000

// Import is one catalogue upload: its progress while it runs and its outcome.
type Import struct {
	ID             int64              `json:"id"`
	LicenseeID     int64              `json:"licensee_id"`
	Filename       string             `json:"filename"`
	ImagesFilename string             `json:"images_filename,omitempty"`
	DryRun         bool               `json:"dry_run"`
	Status         ImportStatus       `json:"status"`
	Phase          string             `json:"phase"`
	Lines          int                `json:"lines"` // data lines read so far
	TotalBytes     int64              `json:"total_bytes"`
	ReadBytes      int64              `json:"read_bytes"`
	Accepted       int                `json:"accepted"`
	Rejected       int                `json:"rejected"`
	Errors         []fault.FieldError `json:"errors"`
	ClientRef      string             `json:"client_ref,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	FinishedAt     *time.Time         `json:"finished_at,omitempty"`
}

// Progress is the share of the work done, from 0 to 1: reading the file counts for 80%.
func (i Import) Progress() float64 {
	switch {
	case i.Status != ImportRunning || i.Phase == PhaseDone:
		return 1
	case i.Phase == PhaseReading && i.TotalBytes > 0:
		return 0.8 * min(float64(i.ReadBytes)/float64(i.TotalBytes), 1)
	case i.Phase == PhaseReading:
		return 0
	case i.Phase == PhaseChecking:
		return 0.82
	case i.Phase == PhaseImages:
		return 0.85
	default:
		return 0.9
	}
}

// ImportRequest is one upload to import.
type ImportRequest struct {
	LicenseeID int64
	UserID     int64     // who uploaded it (0 for the command line)
	CSV        io.Reader // read once, front to back
	Filename   string
	Size       int64 // the CSV's size in bytes when known, for progress
	// Images is the zip of pictures the lines name, if any.
	Images         io.ReaderAt
	ImagesSize     int64
	ImagesFilename string
	DryRun         bool
	ClientRef      string       // a caller's reference to find the running import by (the page's progress bar)
	Store          ImageStore   // where pictures go; defaults to the catalogue itself
	Progress       func(Import) // called a few times a second while it runs, and at the end
}

const importColumns = `id, licensee_id, filename, images_filename, dry_run, status, phase, lines, total_bytes, read_bytes,
	accepted, rejected, errors, client_ref, created_at, finished_at`

func scanImport(row pgx.Row) (Import, error) {
	var i Import
	err := row.Scan(&i.ID, &i.LicenseeID, &i.Filename, &i.ImagesFilename, &i.DryRun, &i.Status, &i.Phase, &i.Lines,
		&i.TotalBytes, &i.ReadBytes, &i.Accepted, &i.Rejected, &i.Errors, &i.ClientRef, &i.CreatedAt, &i.FinishedAt)
	if i.Errors == nil {
		i.Errors = []fault.FieldError{}
	}
	return i, err
}

// ImportByID returns one import. licenseeID, when not 0, must own it. Returns NotFound
// otherwise.
func (s *Service) ImportByID(ctx context.Context, licenseeID, id int64) (_ Import, err error) {
	defer fault.Annotate(&err, "catalog.ImportByID(%d, %d)", licenseeID, id)
	i, err := scanImport(s.db.QueryRow(ctx, `SELECT `+importColumns+` FROM imports WHERE id = $1 AND ($2 = 0 OR licensee_id = $2)`, id, licenseeID))
	return i, postgres.Err(err, "import")
}

// ImportByRef returns a licensee's latest import with the caller's reference. Returns
// NotFound when there is none (yet).
func (s *Service) ImportByRef(ctx context.Context, licenseeID int64, ref string) (_ Import, err error) {
	defer fault.Annotate(&err, "catalog.ImportByRef(%d, %q)", licenseeID, ref)
	i, err := scanImport(s.db.QueryRow(ctx, `SELECT `+importColumns+` FROM imports WHERE licensee_id = $1 AND client_ref = $2
		AND client_ref <> '' ORDER BY id DESC LIMIT 1`, licenseeID, ref))
	return i, postgres.Err(err, "import")
}

// Imports lists a licensee's latest imports, newest first.
func (s *Service) Imports(ctx context.Context, licenseeID int64, limit int) (_ []Import, err error) {
	defer fault.Annotate(&err, "catalog.Imports(%d, %d)", licenseeID, limit)
	if limit <= 0 || limit > 200 {
		limit = 20
	}
	rows, err := s.db.Query(ctx, `SELECT `+importColumns+` FROM imports WHERE licensee_id = $1 ORDER BY id DESC LIMIT $2`, licenseeID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Import, error) { return scanImport(r) })
}

// Import reads, checks and (unless it is a dry run, or a line is bad) applies a catalogue
// upload. Its record in the imports table shows its progress while it runs and every bad line
// (number, field, reason) afterwards. A file with a bad line is not an error here: the
// returned Import has status failed, and nothing was written. Returns NotFound for an unknown
// licensee, and other errors when the database fails (the import is then marked failed).
func (s *Service) Import(ctx context.Context, req ImportRequest) (_ Import, err error) {
	defer fault.Annotate(&err, "catalog.Import()")
	if req.CSV == nil {
		return Import{}, fault.Validation("no file", fault.Field("file", "choose a CSV file"))
	}
	seller, err := s.LicenseeSeller(ctx, req.LicenseeID)
	if err != nil {
		return Import{}, err
	}
	// An import whose process died mid-way stays running: past its time limit it failed.
	if _, err := s.db.Exec(ctx, `UPDATE imports SET status = 'failed', phase = 'done', finished_at = now(),
		errors = errors || '[{"field": "file", "message": "the import stopped without finishing; nothing was written"}]'
		WHERE licensee_id = $1 AND status = 'running' AND created_at < now() - make_interval(secs => $2)`,
		req.LicenseeID, (importTimeout + 5*time.Minute).Seconds()); err != nil {
		return Import{}, err
	}
	var user *int64
	if req.UserID != 0 {
		user = &req.UserID
	}
	imp, err := scanImport(s.db.QueryRow(ctx, `INSERT INTO imports (licensee_id, created_by, filename, images_filename, dry_run,
		total_bytes, client_ref) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+importColumns,
		req.LicenseeID, user, truncateRunes(req.Filename, 200), truncateRunes(req.ImagesFilename, 200), req.DryRun, max(req.Size, 0),
		truncateRunes(req.ClientRef, 64)))
	if err != nil {
		return Import{}, postgres.Err(err, "import")
	}
	run := &importRun{s: s, imp: imp, seller: seller, dryRun: req.DryRun, store: req.Store, progressFn: req.Progress}
	if run.store == nil {
		run.store = s
	}
	stop := run.startProgress(ctx)
	err = func() error {
		if req.Images != nil {
			z, err := openZipImages(req.Images, req.ImagesSize)
			if err != nil {
				return err
			}
			run.zip = z
		}
		cr, err := newCSVReader(req.CSV)
		if err != nil {
			return err
		}
		return run.apply(ctx, cr)
	}()
	stop()
	return run.finish(ctx, err)
}

// rowSource is where lines come from: the CSV reader, or UpsertProducts' slice.
type rowSource interface {
	next() (*importRow, int, []fault.FieldError, error)
	bytesRead() int64
}

// importRun is the state of one import while it runs.
type importRun struct {
	s          *Service
	imp        Import
	seller     Seller
	dryRun     bool
	zip        *zipImages
	store      ImageStore
	progressFn func(Import)

	// Counters the progress reporter reads while the import runs.
	lines    atomic.Int64
	read     atomic.Int64
	rejected atomic.Int64
	phase    atomic.Value // string

	errs      []fault.FieldError
	lastBad   int // the last line counted in rejected
	accepted  int
	coverage  map[coverageKey]coverageVerdict
	licences  []licensing.Licence // for WORLD, loaded on first need
	imageUsed map[string]bool     // pictures named by good lines
}

type coverageKey struct{ property, category, country string }

type coverageVerdict struct{ field, message string }

// addError records one bad field; lines count once in Rejected however many fields they have.
func (r *importRun) addError(e fault.FieldError) {
	if e.Line > 0 && e.Line != r.lastBad {
		r.rejected.Add(1)
		r.lastBad = e.Line
	}
	if len(r.errs) < maxStoredErrors {
		r.errs = append(r.errs, e)
	}
}

// startProgress writes the counters to the import's row a few times a second, on a
// connection of its own (the import's transaction is not committed until the end), and
// returns the function that stops it.
func (r *importRun) startProgress(ctx context.Context) func() {
	r.phase.Store(PhaseReading)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				snap := r.snapshot()
				_, err := r.s.db.Exec(ctx, `UPDATE imports SET lines = $2, read_bytes = $3, rejected = $4, phase = $5 WHERE id = $1 AND status = 'running'`,
					snap.ID, snap.Lines, snap.ReadBytes, snap.Rejected, snap.Phase)
				if err != nil && ctx.Err() == nil {
					r.s.log.Warn("catalog: import progress", "import", snap.ID, "err", err)
				}
				if r.progressFn != nil {
					r.progressFn(snap)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (r *importRun) snapshot() Import {
	i := r.imp
	i.Lines = int(r.lines.Load())
	i.ReadBytes = r.read.Load()
	if i.TotalBytes > 0 {
		i.ReadBytes = min(i.ReadBytes, i.TotalBytes)
	}
	i.Rejected = int(r.rejected.Load())
	i.Phase, _ = r.phase.Load().(string)
	return i
}

// finish records the outcome. err is a coded validation error (the file or zip as a whole),
// or a failure of ours.
func (r *importRun) finish(ctx context.Context, err error) (Import, error) {
	var fatal error
	if err != nil {
		if e, ok := fault.As(err); ok && (e.Code == fault.Invalid || e.Code == fault.Unprocessable || e.Code == fault.TooLarge) {
			if len(e.Fields) == 0 {
				r.addError(fault.FieldError{Field: "file", Message: e.Message})
			}
			for _, f := range e.Fields {
				r.addError(f)
			}
		} else {
			fatal = err
			r.addError(fault.FieldError{Field: "file", Message: "the import stopped on an error of ours; nothing was written"})
		}
	}
	status := ImportSucceeded
	if len(r.errs) > 0 || r.rejected.Load() > 0 {
		status = ImportFailed
	}
	// Accepted counts the good lines, also when a bad one kept the file from being applied.
	r.accepted = max(int(r.lines.Load()-r.rejected.Load()), 0)
	if n := r.rejected.Load(); n > int64(len(r.errs)) && len(r.errs) == maxStoredErrors {
		r.errs = append(r.errs, fault.FieldError{Field: "file", Message: fmt.Sprintf("only the first %d errors are listed", maxStoredErrors)})
	}
	if r.errs == nil {
		r.errs = []fault.FieldError{}
	}
	snap := r.snapshot()
	// The record is written even when the caller's context has ended.
	imp, uerr := scanImport(r.s.db.QueryRow(context.WithoutCancel(ctx), `UPDATE imports SET status = $2, phase = 'done', lines = $3,
		read_bytes = CASE WHEN total_bytes > 0 THEN total_bytes ELSE $4 END, accepted = $5, rejected = $6, errors = $7, finished_at = now()
		WHERE id = $1 RETURNING `+importColumns,
		r.imp.ID, status, snap.Lines, snap.ReadBytes, r.accepted, snap.Rejected, r.errs))
	if r.progressFn != nil && uerr == nil {
		r.progressFn(imp)
	}
	if fatal != nil {
		r.s.log.Error("catalog: import failed", "import", r.imp.ID, "err", fatal)
		return imp, fatal
	}
	return imp, uerr
}

// check asks the coverage question for a row (each territory), remembering answers, and
// checks the pictures it names; fields already found bad (already) are not asked about.
func (r *importRun) check(ctx context.Context, row *importRow, already []fault.FieldError) ([]fault.FieldError, error) {
	var bad []fault.FieldError
	skip := map[string]bool{}
	for _, e := range already {
		skip[e.Field] = true
	}
	territories := row.Territories
	if skip["property"] || skip["category"] || skip["territories"] {
		territories = nil
	}
	for _, t := range territories {
		key := coverageKey{row.Property, row.Category, t}
		v, ok := r.coverage[key]
		if !ok {
			var err error
			if v, err = r.ask(ctx, key); err != nil {
				return nil, err
			}
			r.coverage[key] = v
		}
		if v.field != "" {
			bad = append(bad, fault.FieldError{Field: v.field, Line: row.Line, Message: v.message})
			if v.field != "territories" {
				break // the same answer for every territory
			}
		}
	}
	if skip["images"] {
		return bad, nil
	}
	if r.zip == nil && len(row.Images) > 0 {
		bad = append(bad, fault.FieldError{Field: "images", Line: row.Line, Message: "the line names images but no images zip was uploaded"})
	} else if r.zip != nil {
		for _, name := range row.Images {
			if msg := r.zip.check(name); msg != "" {
				bad = append(bad, fault.FieldError{Field: "images", Line: row.Line, Message: msg})
			}
		}
	}
	return bad, nil
}

// ask answers the coverage question for the licensee itself (not as a reseller).
func (r *importRun) ask(ctx context.Context, k coverageKey) (coverageVerdict, error) {
	if k.country == licensing.World {
		return r.askWorld(ctx, k)
	}
	ans, err := r.s.licensing.Coverage(ctx, licensing.CoverageQuery{LicenseeID: r.imp.LicenseeID, Property: k.property,
		Category: k.category, Country: k.country, On: r.s.now()})
	if err != nil {
		if e, ok := fault.As(err); ok && len(e.Fields) > 0 {
			return coverageVerdict{e.Fields[0].Field, e.Fields[0].Message}, nil
		}
		return coverageVerdict{}, err
	}
	if ans.Allowed {
		return coverageVerdict{}, nil
	}
	if ans.Reason == licensing.ReasonCategoryNotCovered {
		// The registry's nearest miss is a licence for another category in this country; when
		// a licence does cover the category elsewhere, the territory is what is wrong.
		ls, err := r.licencesOf(ctx)
		if err != nil {
			return coverageVerdict{}, err
		}
		for _, l := range ls {
			if l.Property == k.property && containsString(l.Categories, k.category) {
				return coverageVerdict{"territories", fmt.Sprintf("licence %s covers %s of %s only in %s, not in %s",
					l.Number, k.category, k.property, strings.Join(l.Territories, ", "), licensing.CountryName(k.country))}, nil
			}
		}
	}
	return coverageVerdict{coverageField(ans.Reason), ans.Detail}, nil
}

// coverageField names the column a refusal is about.
func coverageField(reason string) string {
	switch reason {
	case licensing.ReasonTerritoryNotCovered:
		return "territories"
	case licensing.ReasonCategoryNotCovered:
		return "category"
	default: // no licence for the property, or the licence is not in force
		return "property"
	}
}

// askWorld: a product offered in WORLD needs a licence in force for the whole world.
func (r *importRun) askWorld(ctx context.Context, k coverageKey) (coverageVerdict, error) {
	ls, err := r.licencesOf(ctx)
	if err != nil {
		return coverageVerdict{}, err
	}
	// The nearest miss wins: a worldwide licence out of force, then one for the category in
	// fewer territories, then one for another category.
	best, rank := coverageVerdict{"property", fmt.Sprintf("the licensee holds no licence for %s", k.property)}, 0
	offer := func(r int, v coverageVerdict) {
		if r > rank {
			best, rank = v, r
		}
	}
	for i := range ls {
		l := &ls[i]
		if l.Property != k.property {
			continue
		}
		switch {
		case !containsString(l.Categories, k.category):
			offer(1, coverageVerdict{"category", fmt.Sprintf("licence %s does not cover the category %s", l.Number, k.category)})
		case !containsString(l.Territories, licensing.World):
			offer(2, coverageVerdict{"territories", fmt.Sprintf("WORLD needs a worldwide licence; licence %s covers %s only in %s",
				l.Number, k.category, strings.Join(l.Territories, ", "))})
		case !l.InForce(r.s.now()):
			offer(3, coverageVerdict{"property", fmt.Sprintf("licence %s is not in force (%s, %s to %s)", l.Number, l.Status,
				l.ValidFrom.Format(time.DateOnly), l.ValidTo.Format(time.DateOnly))})
		default:
			return coverageVerdict{}, nil
		}
	}
	return best, nil
}

// licencesOf loads the licensee's licences once per import.
func (r *importRun) licencesOf(ctx context.Context) ([]licensing.Licence, error) {
	if r.licences == nil {
		ls, err := r.s.licensing.LicencesOf(ctx, r.imp.LicenseeID)
		if err != nil {
			return nil, err
		}
		r.licences = append(ls[:len(ls):len(ls)], licensing.Licence{}) // non-nil even when empty
	}
	return r.licences, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// copySource feeds good lines to COPY, checking each and keeping the bad ones' errors.
type copySource struct {
	ctx context.Context
	r   *importRun
	src rowSource
	row *importRow
	err error
	// The slugs of the last product: its lines usually follow each other, and only the first
	// line's slugs are used.
	lastProduct, slug, listingSlug string
}

func (c *copySource) Next() bool {
	for {
		row, line, bad, err := c.src.next()
		c.r.read.Store(c.src.bytesRead())
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			c.err = err
			return false
		}
		c.r.lines.Add(1)
		if row != nil {
			more, err := c.r.check(c.ctx, row, bad)
			if err != nil {
				c.err = err
				return false
			}
			bad = append(bad, more...)
		}
		if len(bad) > 0 {
			for _, e := range bad {
				if e.Line == 0 {
					e.Line = line
				}
				c.r.addError(e)
			}
			continue
		}
		for _, name := range row.Images {
			c.r.imageUsed[name] = true
		}
		c.row = row
		return true
	}
}

func (c *copySource) Values() ([]any, error) {
	r := c.row
	if r.Product != c.lastProduct || c.slug == "" {
		en := ""
		for i, l := range r.Langs {
			if l == "en" {
				en = r.Titles[i]
			}
		}
		c.lastProduct, c.slug, c.listingSlug = r.Product, Slug(en), Slug(en)
	}
	return []any{r.Line, r.Product, r.SKU, r.GTIN, r.Size, r.Colour, r.Stock, r.Property, r.Category, r.Territories,
		r.Langs, r.Titles, r.Descs, r.Currencies, r.Amounts, r.Currency, r.Images, r.ImageIDs, c.slug, c.listingSlug}, nil
}

func (c *copySource) Err() error { return c.err }

// apply runs the import inside one transaction; a bad line rolls everything back. The
// transaction is never run again (postgres.TxOnce rather than Tx): it streams src into COPY,
// which cannot be read twice, and stores pictures and reports progress outside it.
func (r *importRun) apply(ctx context.Context, src rowSource) error {
	started := time.Now()
	r.coverage = map[coverageKey]coverageVerdict{}
	r.imageUsed = map[string]bool{}
	err := postgres.TxOnce(ctx, r.s.db, func(tx pgx.Tx) error {
		// Sorts and hashes over the whole file stay in memory; one import of a licensee at a
		// time (two at once would race for the same SKUs).
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '64MB'`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2)`, importLockSpace, int32(r.imp.LicenseeID)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_rows (
			line int NOT NULL, product_key text NOT NULL, sku text NOT NULL, gtin text NOT NULL, size text NOT NULL,
			colour text NOT NULL, stock int NOT NULL, property text NOT NULL, category text NOT NULL, territories text[] NOT NULL,
			langs text[] NOT NULL, titles text[] NOT NULL, descs text[] NOT NULL, currencies text[] NOT NULL, amounts bigint[] NOT NULL,
			currency text NOT NULL, images text[], image_ids bigint[], slug text NOT NULL, listing_slug text NOT NULL
		) ON COMMIT DROP`); err != nil {
			return err
		}
		cs := &copySource{ctx: ctx, r: r, src: src}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, []string{"line", "product_key", "sku", "gtin", "size", "colour",
			"stock", "property", "category", "territories", "langs", "titles", "descs", "currencies", "amounts", "currency",
			"images", "image_ids", "slug", "listing_slug"}, cs)
		if cs.err != nil {
			// The file could not be read on (a line too long): pgx reports it as the server's
			// "COPY from stdin failed", which would hide its code and line.
			return cs.err
		}
		if err != nil {
			return err
		}
		r.s.log.Debug("catalog: import read", "import", r.imp.ID, "lines", r.lines.Load(), "ms", time.Since(started).Milliseconds())
		r.phase.Store(PhaseChecking)
		if err := r.checkAcross(ctx, tx); err != nil {
			return err
		}
		r.s.log.Debug("catalog: import checked", "import", r.imp.ID, "ms", time.Since(started).Milliseconds())
		if r.rejected.Load() > 0 || len(r.errs) > 0 {
			return errRollBack
		}
		if r.lines.Load() == 0 {
			return fault.Validation("the file has no product line", fault.FieldError{Field: "file", Line: 2, Message: "the file has a header but no product line"})
		}
		if r.dryRun {
			return errRollBack
		}
		r.phase.Store(PhaseImages)
		if err := r.storeImages(ctx, tx); err != nil {
			return err
		}
		r.phase.Store(PhaseWriting)
		return r.write(ctx, tx)
	})
	if errors.Is(err, errRollBack) {
		return nil
	}
	r.s.log.Debug("catalog: import committed", "import", r.imp.ID, "ms", time.Since(started).Milliseconds(), "err", err)
	return err
}

// errRollBack ends an import's transaction without writing: a bad line, or a dry run.
var errRollBack = errors.New("catalog: import rolled back")

// checkAcross runs the checks that need more than one line, and groups lines into products.
func (r *importRun) checkAcross(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `ANALYZE import_rows`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_products ON COMMIT DROP AS
		SELECT DISTINCT ON (product_key) product_key, line AS first_line, property, category, territories, langs, titles, descs,
			currency, slug, listing_slug, NULL::text[] AS images, NULL::bigint[] AS image_ids, NULL::bigint AS product_id, false AS created
		FROM import_rows ORDER BY product_key, line`); err != nil {
		return err
	}
	// A product's pictures are those of its first line that names any.
	if len(r.imageUsed) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE import_products g SET images = x.images, image_ids = x.image_ids
			FROM (SELECT DISTINCT ON (product_key) product_key, images, image_ids FROM import_rows
				WHERE cardinality(images) > 0 OR cardinality(image_ids) > 0 ORDER BY product_key, line) x
			WHERE x.product_key = g.product_key`); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `ANALYZE import_products`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `
		WITH dup AS (SELECT sku, min(line) AS first FROM import_rows GROUP BY sku HAVING count(*) > 1)
		SELECT r.line, 'sku', format('SKU %s is also on line %s', r.sku, d.first) FROM import_rows r JOIN dup d ON d.sku = r.sku
		WHERE r.line <> d.first
		UNION ALL
		SELECT r.line, 'sku', format('SKU %s belongs to another licensee', r.sku) FROM import_rows r
		WHERE EXISTS (SELECT 1 FROM variants v WHERE v.sku = r.sku AND v.licensee_id <> $1)
		UNION ALL
		SELECT d.line, f.field, format('differs from line %s, the first line of product %s: the lines of one product share their %s',
			d.first_line, d.product_key, f.what)
		FROM (SELECT r.line, r.product_key, g.first_line, r.property <> g.property AS property, r.category <> g.category AS category,
				r.territories <> g.territories AS territories,
				r.langs <> g.langs OR r.titles <> g.titles OR r.descs <> g.descs AS texts, r.currency <> g.currency AS currency,
				(cardinality(r.images) > 0 AND r.images <> g.images) OR (cardinality(r.image_ids) > 0 AND r.image_ids <> g.image_ids) AS images
			FROM import_rows r JOIN import_products g ON g.product_key = r.product_key AND r.line <> g.first_line) d
		CROSS JOIN LATERAL (VALUES ('property', 'property', d.property), ('category', 'category', d.category),
			('territories', 'territories', d.territories), ('title_en', 'titles and descriptions', d.texts),
			('currency', 'main currency', d.currency), ('images', 'images', d.images)) f(field, what, differs)
		WHERE f.differs AND (d.property OR d.category OR d.territories OR d.texts OR d.currency OR d.images)
		ORDER BY 1, 2 LIMIT $2`, r.imp.LicenseeID, maxStoredErrors+1)
	if err != nil {
		return err
	}
	var line int
	var field, msg string
	_, err = pgx.ForEachRow(rows, []any{&line, &field, &msg}, func() error {
		r.addOnce(fault.FieldError{Field: field, Line: line, Message: msg})
		return nil
	})
	return err
}

// addOnce is addError for errors sorted by line, which may repeat a line.
func (r *importRun) addOnce(e fault.FieldError) {
	if len(r.errs) > 0 && r.errs[len(r.errs)-1].Line == e.Line {
		if len(r.errs) < maxStoredErrors {
			r.errs = append(r.errs, e)
		}
		return
	}
	r.rejected.Add(1)
	if len(r.errs) < maxStoredErrors {
		r.errs = append(r.errs, e)
	}
}

// storeImages stores each picture the lines name, once, and records name → image id.
func (r *importRun) storeImages(ctx context.Context, tx pgx.Tx) error {
	if len(r.imageUsed) == 0 {
		return nil
	}
	names := make([][]any, 0, len(r.imageUsed))
	for name := range r.imageUsed {
		data, err := r.zip.read(name)
		if err != nil {
			return err
		}
		img, err := r.store.PutImage(ctx, data)
		if err != nil {
			if e, ok := fault.As(err); ok && e.Code == fault.Invalid {
				return fault.Validation("a picture was refused", fault.Field("images", "%q: %s", name, e.Message))
			}
			return err
		}
		names = append(names, []any{name, img.ID})
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE import_images (name text PRIMARY KEY, image_id bigint NOT NULL) ON COMMIT DROP`); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_images"}, []string{"name", "image_id"}, pgx.CopyFromRows(names)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE import_products g SET image_ids = (SELECT array_agg(m.image_id ORDER BY u.ord)
		FROM unnest(g.images) WITH ORDINALITY u(name, ord) JOIN import_images m ON m.name = u.name)
		WHERE cardinality(g.images) > 0`)
	return err
}

// write applies the checked lines: products, texts, variants, prices, pictures, and each
// product's official listing with its outbox row and screening job.
func (r *importRun) write(ctx context.Context, tx pgx.Tx) error {
	lic := r.imp.LicenseeID
	const (
		always   = false
		existing = true // only when a SKU of the file is already the licensee's
	)
	steps := []struct {
		what     string
		existing bool
		sql      string
		args     []any
	}{
		{"find products by SKU", always, `UPDATE import_products g SET product_id = x.product_id
			FROM (SELECT DISTINCT ON (r.product_key) r.product_key, v.product_id FROM import_rows r
				JOIN variants v ON v.licensee_id = $1 AND v.sku = r.sku ORDER BY r.product_key, r.line) x
			WHERE x.product_key = g.product_key`, []any{lic}},
		// Two products of the file whose SKUs were one product's: the first keeps it.
		{"split products", existing, `UPDATE import_products g SET product_id = NULL WHERE EXISTS (SELECT 1 FROM import_products o
			WHERE o.product_id = g.product_id AND o.first_line < g.first_line)`, nil},
		{"find products by key", always, `UPDATE import_products g SET product_id = p.id FROM products p
			WHERE g.product_id IS NULL AND p.licensee_id = $1 AND p.ref = g.product_key
			AND NOT EXISTS (SELECT 1 FROM import_products o WHERE o.product_id = p.id)`, []any{lic}},
		{"insert products", always, `WITH ins AS (
			INSERT INTO products (licensee_id, ref, slug, property, category, territories, currency)
			SELECT $1, CASE WHEN EXISTS (SELECT 1 FROM products p WHERE p.licensee_id = $1 AND p.ref = g.product_key) THEN '' ELSE g.product_key END,
				g.slug, g.property, g.category, g.territories, g.currency
			FROM import_products g WHERE g.product_id IS NULL ORDER BY g.first_line
			RETURNING id, slug)
			UPDATE import_products g SET product_id = ins.id, created = true FROM ins WHERE ins.slug = g.slug`, []any{lic}},
		{"update products", existing, `UPDATE products p SET property = g.property, category = g.category, territories = g.territories,
				currency = g.currency, updated_at = now(),
				ref = CASE WHEN EXISTS (SELECT 1 FROM products o WHERE o.licensee_id = p.licensee_id AND o.ref = g.product_key AND o.id <> p.id)
					THEN p.ref ELSE g.product_key END
			FROM import_products g WHERE p.id = g.product_id AND NOT g.created
			AND (p.property, p.category, p.territories, p.currency, p.ref) IS DISTINCT FROM (g.property, g.category, g.territories, g.currency, g.product_key)`, nil},
		{"drop texts", existing, `DELETE FROM product_texts t USING import_products g
			WHERE t.product_id = g.product_id AND NOT g.created AND t.lang <> ALL (g.langs)`, nil},
		{"write texts", always, `INSERT INTO product_texts (product_id, lang, title, description)
			SELECT g.product_id, u.lang, u.title, u.descr FROM import_products g, unnest(g.langs, g.titles, g.descs) u(lang, title, descr)
			ON CONFLICT (product_id, lang) DO UPDATE SET title = excluded.title, description = excluded.description
			WHERE (product_texts.title, product_texts.description) IS DISTINCT FROM (excluded.title, excluded.description)`, nil},
		{"update variants", existing, `UPDATE variants v SET product_id = x.product_id, gtin = x.gtin, size = x.size, colour = x.colour,
				stock = x.stock, position = x.position
			FROM (SELECT g.product_id, r.sku, r.gtin, r.size, r.colour, r.stock,
					row_number() OVER (PARTITION BY r.product_key ORDER BY r.line) - 1 AS position
				FROM import_rows r JOIN import_products g ON g.product_key = r.product_key) x
			WHERE v.licensee_id = $1 AND v.sku = x.sku
			AND (v.product_id, v.gtin, v.size, v.colour, v.stock, v.position) IS DISTINCT FROM (x.product_id, x.gtin, x.size, x.colour, x.stock, x.position)`, []any{lic}},
		{"drop prices", existing, `DELETE FROM variant_prices vp USING import_rows r, variants v
			WHERE v.licensee_id = $1 AND v.sku = r.sku AND vp.variant_id = v.id AND vp.currency <> ALL (r.currencies)`, []any{lic}},
		{"update prices", existing, `UPDATE variant_prices vp SET amount = u.amount
			FROM import_rows r JOIN variants v ON v.licensee_id = $1 AND v.sku = r.sku, unnest(r.currencies, r.amounts) u(cur, amount)
			WHERE vp.variant_id = v.id AND vp.currency = u.cur AND vp.amount <> u.amount`, []any{lic}},
		// New SKUs and prices are plain inserts: the lock above keeps other imports of this
		// licensee out, and another licensee's SKU was refused.
		{"insert variants", always, `CREATE TEMP TABLE import_new_variants ON COMMIT DROP AS
			WITH ins AS (INSERT INTO variants (product_id, licensee_id, sku, gtin, size, colour, stock, position)
				SELECT g.product_id, $1, r.sku, r.gtin, r.size, r.colour, r.stock,
					row_number() OVER (PARTITION BY r.product_key ORDER BY r.line) - 1
				FROM import_rows r JOIN import_products g ON g.product_key = r.product_key
				WHERE NOT EXISTS (SELECT 1 FROM variants v WHERE v.licensee_id = $1 AND v.sku = r.sku)
				RETURNING id, sku)
			SELECT id, sku FROM ins`, []any{lic}},
		{"insert prices", always, `INSERT INTO variant_prices (variant_id, currency, amount)
			SELECT n.id, u.cur, u.amount FROM import_rows r JOIN import_new_variants n ON n.sku = r.sku, unnest(r.currencies, r.amounts) u(cur, amount)
			UNION ALL
			SELECT v.id, u.cur, u.amount FROM import_rows r JOIN variants v ON v.licensee_id = $1 AND v.sku = r.sku,
				unnest(r.currencies, r.amounts) u(cur, amount)
			WHERE NOT EXISTS (SELECT 1 FROM import_new_variants n WHERE n.sku = r.sku)
			AND NOT EXISTS (SELECT 1 FROM variant_prices vp WHERE vp.variant_id = v.id AND vp.currency = u.cur)`, []any{lic}},
		{"find changed pictures", always, `CREATE TEMP TABLE import_image_changes ON COMMIT DROP AS
			SELECT g.product_id, g.image_ids FROM (SELECT * FROM import_products WHERE cardinality(image_ids) > 0 OFFSET 0) g
			WHERE g.image_ids IS DISTINCT FROM
				(SELECT array_agg(pi.image_id ORDER BY pi.position) FROM product_images pi WHERE pi.product_id = g.product_id)`, nil},
		{"drop pictures", always, `DELETE FROM product_images pi USING import_image_changes c WHERE pi.product_id = c.product_id`, nil},
		{"write pictures", always, `INSERT INTO product_images (product_id, position, image_id)
			SELECT c.product_id, u.ord - 1, u.image_id FROM import_image_changes c, unnest(c.image_ids) WITH ORDINALITY u(image_id, ord)`, nil},
		// The official listing shows the English text and the lowest variant price in the main
		// currency; it is written (and screened again) only when something it shows changed.
		{"write listings", always, `CREATE TEMP TABLE import_listing_changes ON COMMIT DROP AS
			WITH up AS (
				INSERT INTO listings (seller_id, product_id, claimed_sku, slug, title, description, property, category,
					price_amount, currency, stock, territories, ships_from)
				SELECT $1, g.product_id, '', g.listing_slug, g.titles[array_position(g.langs, 'en')], g.descs[array_position(g.langs, 'en')],
					g.property, g.category, x.price, g.currency, x.stock, g.territories, $2
				FROM import_products g JOIN (
					SELECT v.product_id, min(vp.amount) FILTER (WHERE vp.currency = p.currency) AS price, sum(v.stock)::int AS stock
					FROM import_products p JOIN variants v ON v.product_id = p.product_id
					LEFT JOIN variant_prices vp ON vp.variant_id = v.id AND vp.currency = p.currency
					GROUP BY v.product_id) x ON x.product_id = g.product_id
				ON CONFLICT (seller_id, product_id) WHERE product_id IS NOT NULL AND claimed_sku = ''
				DO UPDATE SET title = excluded.title, description = excluded.description, property = excluded.property,
					category = excluded.category, price_amount = excluded.price_amount, currency = excluded.currency,
					stock = excluded.stock, territories = excluded.territories, updated_at = now()
				WHERE (listings.title, listings.description, listings.property, listings.category, listings.price_amount,
					listings.currency, listings.stock, listings.territories)
					IS DISTINCT FROM (excluded.title, excluded.description, excluded.property, excluded.category,
					excluded.price_amount, excluded.currency, excluded.stock, excluded.territories)
				RETURNING id)
			SELECT id FROM up
			UNION SELECT l.id FROM listings l JOIN import_image_changes c ON c.product_id = l.product_id
				WHERE l.seller_id = $1 AND l.claimed_sku = ''`, []any{r.seller.ID, r.seller.ShipsFrom}},
		{"write outbox", always, `INSERT INTO catalog_changes (listing_id) SELECT id FROM import_listing_changes ORDER BY id`, nil},
		{"index changes", always, `CREATE INDEX ON import_listing_changes (id); CREATE INDEX ON import_image_changes (product_id)`, nil},
	}
	// A first import of new SKUs skips the steps that only change what exists.
	anyExisting := true
	for i, st := range steps {
		if st.existing && !anyExisting {
			continue
		}
		start := time.Now()
		tag, err := tx.Exec(ctx, st.sql, st.args...)
		if err != nil {
			return fmt.Errorf("import: %s: %w", st.what, postgres.Err(err, "product"))
		}
		if i == 0 {
			// Every existing SKU of the file gave its product to its group.
			anyExisting = tag.RowsAffected() > 0
		}
		r.s.log.Debug("catalog: import step", "import", r.imp.ID, "step", st.what, "ms", time.Since(start).Milliseconds())
	}
	// The jobs go in batches, so memory does not grow with the number of products.
	start := time.Now()
	lastListing, err := r.insertJobs(ctx, tx, `SELECT id FROM import_listing_changes WHERE id > $1 ORDER BY id LIMIT $2`,
		func(id int64) river.JobArgs { return ScreenListingArgs{ListingID: id} })
	if err != nil {
		return err
	}
	if _, err := r.insertJobs(ctx, tx, `SELECT product_id FROM import_image_changes WHERE product_id > $1 ORDER BY product_id LIMIT $2`,
		func(id int64) river.JobArgs { return ProductReferencesArgs{ProductID: id} }); err != nil {
		return err
	}
	r.s.log.Debug("catalog: import step", "import", r.imp.ID, "step", "insert jobs", "ms", time.Since(start).Milliseconds())
	if lastListing > 0 {
		// One wake-up for the whole import: readers page through ChangesSince.
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, ChangesNotifyChannel, itoa(lastListing)); err != nil {
			return err
		}
	}
	return nil
}

// jobBatch is how many jobs one InsertManyFastTx call writes.
const jobBatch = 5000

// insertJobs inserts a job for each id that query (keyset: after $1, limit $2) returns, in
// batches, and returns the last id.
func (r *importRun) insertJobs(ctx context.Context, tx pgx.Tx, query string, args func(int64) river.JobArgs) (int64, error) {
	var after int64
	jobs := make([]river.InsertManyParams, 0, jobBatch)
	for {
		rows, err := tx.Query(ctx, query, after, jobBatch)
		if err != nil {
			return 0, err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return 0, err
		}
		if len(ids) == 0 {
			return after, nil
		}
		jobs = jobs[:0]
		for _, id := range ids {
			jobs = append(jobs, river.InsertManyParams{Args: args(id)})
		}
		if _, err := r.s.jobs.InsertManyFastTx(ctx, tx, jobs); err != nil {
			return 0, err
		}
		after = ids[len(ids)-1]
		if len(ids) < jobBatch {
			return after, nil
		}
	}
}

func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}
