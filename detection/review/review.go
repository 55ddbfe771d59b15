// Package review is the analysts' side of detection: the cases the screening pipeline and fans
// open, the queue analysts work, their decisions and what each one does (takedown, strike, the
// counterfeit library, seller suspension, refunds), sellers' answers and appeals, and the
// lead's metrics.
//
// It owns the tables of the "review" schema. It is a package of its own, above the pipeline
// (detection) and the catalogue, because it changes with the analysts' work, not with how
// pictures are matched or rules scored; it reaches them only through their exported services
// (*detection.Service, *catalog.Service), and the storefront's orders through OrderFlagger.
package review

import (
	"context"
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/catalog"
	"marketplace/detection"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
)

//go:embed migrations/*.sql
var reviewMigrations embed.FS

// ReviewSchema is the review tables: cases, decisions, appeals, reports.
var Schema = func() postgres.Schema {
	sub, _ := fs.Sub(reviewMigrations, "migrations")
	return postgres.Schema{Name: "review", FS: sub}
}()

// ReviewSchemas is the review schema after the ones it depends on (the screenings it reads).
func Schemas() []postgres.Schema {
	return append(detection.Schemas(), Schema)
}

// OrderFlagger flags the paid orders of a listing found counterfeit for refund and tells their
// fans, inside the decision's transaction. The storefront's checkout implements it; cmd sets
// it with SetOrders.
type OrderFlagger interface {
	FlagCounterfeit(ctx context.Context, tx pgx.Tx, listingID int64) error
}

// StrikeLimit is the number of strikes that suspends a seller.
const StrikeLimit = 3

// Review is the analysts' side of detection.
type Service struct {
	db       *pgxpool.Pool
	catalog  *catalog.Service
	pipeline *detection.Service // screenings, and the counterfeit library decisions teach
	orders   OrderFlagger
	log      *slog.Logger
	now      func() time.Time
	limits   ReportLimits
}

// ReportLimits bound fans' reports: per reporter (an account, or an address for anonymous
// fans) within Window.
type ReportLimits struct {
	Window       time.Duration
	PerAccount   int
	PerAddress   int
	ReasonMaxLen int
}

// DefaultReportLimits: 20 reports an hour from an account, 5 from an anonymous address.
var DefaultReportLimits = ReportLimits{Window: time.Hour, PerAccount: 20, PerAddress: 5, ReasonMaxLen: 1000}

// ReviewOption configures a Review.
type Option func(*Service)

// WithOrders sets who flags paid orders of counterfeit listings.
func WithOrders(o OrderFlagger) Option { return func(r *Service) { r.orders = o } }

// WithReviewLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(r *Service) { r.log = l } }

// WithReviewClock replaces time.Now for ages shown on pages, for tests.
func WithClock(now func() time.Time) Option { return func(r *Service) { r.now = now } }

// WithReportLimits replaces DefaultReportLimits.
func WithReportLimits(l ReportLimits) Option { return func(r *Service) { r.limits = l } }

// NewService returns the review over db, the catalogue and the screening pipeline, whose
// screenings cases show and whose counterfeit library decisions teach.
func NewService(db *pgxpool.Pool, cat *catalog.Service, pipeline *detection.Service, opts ...Option) *Service {
	r := &Service{db: db, catalog: cat, pipeline: pipeline, log: slog.Default(), now: time.Now, limits: DefaultReportLimits}
	for _, o := range opts {
		o(r)
	}
	pipeline.SetCaseOpener(r)
	return r
}

// CaseStatus is where a case stands: open (in the queue), waiting (for the seller's answer to
// an analyst's question), closed (decided).
type CaseStatus string

// The statuses of a case.
const (
	CaseOpen    CaseStatus = "open"
	CaseWaiting CaseStatus = "waiting"
	CaseClosed  CaseStatus = "closed"
)

// CaseSource says what opened a case.
type CaseSource string

// The sources of a case.
const (
	SourceScreening CaseSource = "screening"
	SourceReport    CaseSource = "report"
	SourceAppeal    CaseSource = "appeal"
)

// CaseReason is one rule that counted towards a screening's score.
type CaseReason struct {
	Rule   string `json:"rule"`
	Weight int    `json:"weight"`
	Detail string `json:"detail"`
}

// CaseMatch is a listing photo found near a reference picture.
type CaseMatch struct {
	ImageID    int64  `json:"image_id"`     // the listing's photo
	RefImageID int64  `json:"ref_image_id"` // the reference picture
	Kind       string `json:"kind"`         // official, counterfeit or removed_listing
	Distance   int    `json:"distance"`     // Hamming distance, of 64 bits
	ProductID  int64  `json:"product_id,omitempty"`
	LicenseeID int64  `json:"licensee_id,omitempty"`
	SellerID   int64  `json:"seller_id,omitempty"` // counterfeit, removed_listing: who listed it
	CaseID     int64  `json:"case_id,omitempty"`   // counterfeit, removed_listing: the case that decided it
}

// CaseEvidence is the screening a case is about: every rule hit and every matched reference.
type CaseEvidence struct {
	Reasons []CaseReason `json:"reasons"`
	Matches []CaseMatch  `json:"matches"`
}

// Case is one listing in (or once in) the analysts' queue.
type Case struct {
	ID           int64        `json:"id"`
	ListingID    int64        `json:"listing_id"`
	SellerID     int64        `json:"seller_id"`
	Property     string       `json:"property,omitempty"`
	LicenseeID   int64        `json:"licensee_id,omitempty"`
	Source       CaseSource   `json:"source"`
	ScreeningID  int64        `json:"screening_id,omitempty"`
	Score        int          `json:"score"`
	Verdict      string       `json:"verdict,omitempty"`
	Rules        []string     `json:"rules"`
	Reason       string       `json:"reason,omitempty"`
	Evidence     CaseEvidence `json:"evidence"`
	Reports      int          `json:"reports"`
	Priority     int          `json:"priority"`
	Status       CaseStatus   `json:"status"`
	ClaimedBy    int64        `json:"claimed_by,omitempty"`
	ClaimedEmail string       `json:"claimed_email,omitempty"`
	ClaimedAt    *time.Time   `json:"claimed_at,omitempty"`
	AppealOf     int64        `json:"appeal_of,omitempty"`
	Excluded     int64        `json:"-"`
	Question     string       `json:"question,omitempty"`
	Answer       string       `json:"answer,omitempty"`
	AnsweredAt   *time.Time   `json:"answered_at,omitempty"`
	OpenedAt     time.Time    `json:"opened_at"`
	ClosedAt     *time.Time   `json:"closed_at,omitempty"`
	// Filled by the queue: the listing's title.
	ListingTitle string `json:"listing_title,omitempty"`
}

const caseColumns = `c.id, c.listing_id, c.seller_id, c.property, coalesce(c.licensee_id, 0), c.source,
	coalesce(c.screening_id, 0), c.score, c.verdict, c.reason, c.rules, c.evidence, c.reports, c.priority, c.status,
	coalesce(c.claimed_by, 0), c.claimed_email, c.claimed_at, coalesce(c.appeal_of, 0), coalesce(c.excluded_analyst, 0),
	c.question, c.answer, c.answered_at, c.opened_at, c.closed_at`

func scanCase(row pgx.Row) (Case, error) {
	var c Case
	var ev []byte
	if err := row.Scan(&c.ID, &c.ListingID, &c.SellerID, &c.Property, &c.LicenseeID, &c.Source, &c.ScreeningID,
		&c.Score, &c.Verdict, &c.Reason, &c.Rules, &ev, &c.Reports, &c.Priority, &c.Status, &c.ClaimedBy, &c.ClaimedEmail,
		&c.ClaimedAt, &c.AppealOf, &c.Excluded, &c.Question, &c.Answer, &c.AnsweredAt, &c.OpenedAt, &c.ClosedAt); err != nil {
		return Case{}, err
	}
	if len(ev) > 0 {
		if err := json.Unmarshal(ev, &c.Evidence); err != nil {
			return Case{}, err
		}
	}
	if c.Rules == nil {
		c.Rules = []string{}
	}
	return c, nil
}

// OpenCase opens a case for a listing the screening pipeline held or blocked, inside the
// pipeline's transaction. While the listing has a case that is not closed, it raises that case
// to this screening instead (the higher score stays), so calling it again changes nothing more.
// Returns NotFound when the listing does not exist and Invalid for a score outside 0-100.
func (r *Service) OpenCase(ctx context.Context, tx pgx.Tx, in detection.CaseInput) (err error) {
	defer fault.Annotate(&err, "review.OpenCase()")
	_, err = r.openCase(ctx, tx, in, SourceScreening)
	return err
}

func (r *Service) openCase(ctx context.Context, tx pgx.Tx, in detection.CaseInput, source CaseSource) (int64, error) {
	if in.Score < 0 || in.Score > 100 {
		return 0, fault.Validation("the case is not valid", fault.Field("score", "must be from 0 to 100"))
	}
	l, err := r.catalog.ListingTx(ctx, tx, in.ListingID)
	if err != nil {
		return 0, err
	}
	// The screening is read in the caller's transaction: the pipeline opens the case in the
	// transaction that records it. A report takes the listing's latest screening.
	ev := CaseEvidence{Reasons: []CaseReason{}, Matches: []CaseMatch{}}
	sc, err := r.pipeline.ScreeningTx(ctx, tx, l.ID, in.ScreeningID)
	switch {
	case err == nil:
		in.ScreeningID = sc.ID
		if source == SourceReport {
			in.Score, in.Verdict = sc.Score, sc.Verdict
		}
		for _, h := range sc.Reasons {
			ev.Reasons = append(ev.Reasons, CaseReason(h))
		}
		for _, m := range sc.Matches {
			ev.Matches = append(ev.Matches, CaseMatch{ImageID: m.ImageID, RefImageID: m.RefImageID, Kind: m.Kind, Distance: m.Distance,
				ProductID: m.ProductID, LicenseeID: m.LicenseeID, SellerID: m.SellerID, CaseID: m.CaseID})
		}
	case fault.Is(err, fault.NotFound):
		if in.ScreeningID != 0 {
			return 0, fault.New(fault.NotFound, "screening %d of listing %d not found", in.ScreeningID, l.ID)
		}
	default:
		return 0, err
	}
	js, err := json.Marshal(ev)
	if err != nil {
		return 0, err
	}
	var licensee *int64
	if l.LicenseeID != 0 {
		licensee = &l.LicenseeID
	}
	var screening *int64
	if in.ScreeningID != 0 {
		screening = &in.ScreeningID
	}
	// A screening of a listing with an open case brings the newer evidence (the higher score
	// stays, so a re-screen never lowers a case's place); a report changes only the count.
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO cases (listing_id, seller_id, property, licensee_id, source, screening_id,
			score, verdict, reason, rules, evidence)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (listing_id) WHERE status <> 'closed' DO UPDATE SET
			screening_id = CASE WHEN EXCLUDED.source = 'screening' THEN EXCLUDED.screening_id ELSE cases.screening_id END,
			score = CASE WHEN EXCLUDED.source = 'screening' THEN greatest(cases.score, EXCLUDED.score) ELSE cases.score END,
			verdict = CASE WHEN EXCLUDED.source = 'screening' THEN EXCLUDED.verdict ELSE cases.verdict END,
			reason = CASE WHEN EXCLUDED.source = 'screening' THEN EXCLUDED.reason ELSE cases.reason END,
			rules = CASE WHEN EXCLUDED.source = 'screening' THEN EXCLUDED.rules ELSE cases.rules END,
			evidence = CASE WHEN EXCLUDED.source = 'screening' THEN EXCLUDED.evidence ELSE cases.evidence END
		RETURNING id`,
		l.ID, l.SellerID, l.Property, licensee, source, screening, in.Score, in.Verdict, in.Reason, ruleIDs(ev.Reasons), js).Scan(&id)
	return id, postgres.Err(err, "case")
}

func ruleIDs(reasons []CaseReason) []string {
	rules := make([]string, 0, len(reasons))
	for _, h := range reasons {
		if h.Rule != "" && !slices.Contains(rules, h.Rule) {
			rules = append(rules, h.Rule)
		}
	}
	return rules
}

// CaseFilter narrows the queue. Zero fields do not filter.
type CaseFilter struct {
	Status     CaseStatus // "" is open
	Property   string
	Rule       string
	SellerID   int64
	LicenseeID int64
	OlderThan  time.Duration // opened at least this long ago
	ClaimedBy  int64
	Limit      int // default 100, at most 500
}

// Cases lists cases, highest priority (score raised by reports) then oldest first.
func (r *Service) Cases(ctx context.Context, f CaseFilter) (_ []Case, err error) {
	defer fault.Annotate(&err, "review.Cases()")
	if f.Status == "" {
		f.Status = CaseOpen
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	// The query is built from the filters given, so that each shape gets a plan that uses its
	// index (the open queue's partial index, the rules' GIN index).
	where := []string{"c.status = $1"}
	args := []any{f.Status}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Property != "" {
		add("c.property = ?", strings.ToUpper(strings.TrimSpace(f.Property)))
	}
	if f.Rule != "" {
		add("c.rules @> ARRAY[?::text]", f.Rule)
	}
	if f.SellerID != 0 {
		add("c.seller_id = ?", f.SellerID)
	}
	if f.LicenseeID != 0 {
		add("c.licensee_id = ?", f.LicenseeID)
	}
	if f.OlderThan > 0 {
		add("c.opened_at <= ?", r.now().Add(-f.OlderThan))
	}
	if f.ClaimedBy != 0 {
		add("c.claimed_by = ?", f.ClaimedBy)
	}
	args = append(args, f.Limit)
	rows, err := r.db.Query(ctx, `SELECT `+caseColumns+` FROM cases c
		WHERE `+strings.Join(where, " AND ")+` ORDER BY c.priority DESC, c.opened_at, c.id LIMIT $`+strconv.Itoa(len(args)), args...)
	return r.withTitles(ctx, rows, err)
}

// withTitles collects cases and names each one's listing, through the catalogue.
func (r *Service) withTitles(ctx context.Context, rows pgx.Rows, err error) ([]Case, error) {
	if err != nil {
		return nil, err
	}
	cases, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Case, error) { return scanCase(row) })
	if err != nil || len(cases) == 0 {
		return cases, err
	}
	ids := make([]int64, len(cases))
	for i, c := range cases {
		ids[i] = c.ListingID
	}
	titles, err := r.catalog.ListingTitles(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range cases {
		cases[i].ListingTitle = titles[cases[i].ListingID]
	}
	return cases, nil
}

// KnownRules lists the rules that have flagged any case, for the queue's filter.
func (r *Service) KnownRules(ctx context.Context) (_ []string, err error) {
	defer fault.Annotate(&err, "review.KnownRules()")
	rows, err := r.db.Query(ctx, `SELECT DISTINCT rule FROM cases, unnest(rules) AS rule ORDER BY 1 LIMIT 200`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Backlog is the size and age of the open queue.
type Backlog struct {
	Open      int           `json:"open"`
	Waiting   int           `json:"waiting"`
	Unclaimed int           `json:"unclaimed"`
	Oldest    time.Duration `json:"-"`
	Median    time.Duration `json:"-"`
	OldestAt  *time.Time    `json:"oldest_opened_at,omitempty"`
}

// Backlog counts open and waiting cases and gives the age of the oldest open one.
func (r *Service) Backlog(ctx context.Context) (_ Backlog, err error) {
	defer fault.Annotate(&err, "review.Backlog()")
	var b Backlog
	var median *time.Time
	err = r.db.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'waiting'),
		count(*) FILTER (WHERE status = 'open' AND claimed_by IS NULL),
		min(opened_at) FILTER (WHERE status = 'open'),
		percentile_disc(0.5) WITHIN GROUP (ORDER BY opened_at DESC) FILTER (WHERE status = 'open')
		FROM cases WHERE status <> 'closed'`).Scan(&b.Open, &b.Waiting, &b.Unclaimed, &b.OldestAt, &median)
	if err != nil {
		return b, err
	}
	now := r.now()
	if b.OldestAt != nil {
		b.Oldest = now.Sub(*b.OldestAt)
	}
	if median != nil {
		b.Median = now.Sub(*median)
	}
	return b, nil
}

// Case returns one case. Returns NotFound when there is none.
func (r *Service) Case(ctx context.Context, id int64) (_ Case, err error) {
	defer fault.Annotate(&err, "review.Case(%d)", id)
	c, err := scanCase(r.db.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1`, id))
	if err != nil {
		return Case{}, postgres.Err(err, "case "+reviewID(id))
	}
	return c, nil
}

// Claim gives an open case to the analyst. Of two analysts claiming one case at once exactly
// one wins: the claim is a single UPDATE that only matches an unclaimed case. Claiming a case
// one already holds changes nothing. Returns NotFound for no such case, Conflict when another
// analyst holds it or it is closed, and Forbidden for the analyst whose decision an appeal
// case is about.
func (r *Service) Claim(ctx context.Context, analyst *web.Identity, id int64) (_ Case, err error) {
	defer fault.Annotate(&err, "review.Claim(%d)", id)
	if analyst == nil || (analyst.Role != web.RoleAnalyst && analyst.Role != web.RoleAdmin) {
		return Case{}, fault.New(fault.Forbidden, "only analysts claim cases")
	}
	tag, err := r.db.Exec(ctx, `UPDATE cases SET claimed_by = $2, claimed_email = $3, claimed_at = now()
		WHERE id = $1 AND claimed_by IS NULL AND status <> 'closed' AND excluded_analyst IS DISTINCT FROM $2`,
		id, analyst.UserID, analyst.Email)
	if err != nil {
		return Case{}, err
	}
	c, err := r.Case(ctx, id)
	if err != nil {
		return Case{}, err
	}
	if tag.RowsAffected() == 1 || c.ClaimedBy == analyst.UserID && c.Status != CaseClosed {
		return c, nil
	}
	switch {
	case c.Status == CaseClosed:
		return Case{}, fault.New(fault.Conflict, "case %d is closed", id)
	case c.Excluded == analyst.UserID && c.ClaimedBy == 0:
		return Case{}, fault.New(fault.Forbidden, "case %d appeals your own decision: another analyst must review it", id)
	default:
		return Case{}, fault.New(fault.Conflict, "case %d is already claimed by %s", id, c.ClaimedEmail)
	}
}

// Release gives back a case the analyst holds, so another can claim it. Returns Conflict when
// the analyst does not hold it.
func (r *Service) Release(ctx context.Context, analyst *web.Identity, id int64) (err error) {
	defer fault.Annotate(&err, "review.Release(%d)", id)
	tag, err := r.db.Exec(ctx, `UPDATE cases SET claimed_by = NULL, claimed_email = '', claimed_at = NULL
		WHERE id = $1 AND claimed_by = $2 AND status <> 'closed'`, id, analyst.UserID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		if _, err := r.Case(ctx, id); err != nil {
			return err
		}
		return fault.New(fault.Conflict, "you do not hold case %d", id)
	}
	return nil
}

// CasesOfSeller lists a seller's cases, newest first, for the seller's own page.
func (r *Service) CasesOfSeller(ctx context.Context, sellerID int64) (_ []Case, err error) {
	defer fault.Annotate(&err, "review.CasesOfSeller(%d)", sellerID)
	rows, err := r.db.Query(ctx, `SELECT `+caseColumns+` FROM cases c
		WHERE c.seller_id = $1 ORDER BY c.opened_at DESC, c.id DESC LIMIT 200`, sellerID)
	return r.withTitles(ctx, rows, err)
}

// Question returns the analysts' open question about a listing (a more_info decision waiting
// for the seller's answer), for the listing's page; "" when there is none.
func (r *Service) Question(ctx context.Context, listingID int64) (_ string, err error) {
	defer fault.Annotate(&err, "review.Question(%d)", listingID)
	var q string
	err = r.db.QueryRow(ctx, `SELECT question FROM cases WHERE listing_id = $1 AND status = 'waiting'`, listingID).Scan(&q)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	return q, err
}

func reviewID(id int64) string { return strconv.FormatInt(id, 10) }
