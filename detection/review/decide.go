package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"marketplace/catalog"
	"marketplace/internal/audit"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
)

// Decision is what an analyst decided about a case.
type Decision string

// The decisions.
const (
	// DecisionCounterfeit removes the listing, strikes the seller, adds the listing's images to
	// the known-counterfeit library, re-screens the seller's other live listings and flags paid
	// orders for refund.
	DecisionCounterfeit Decision = "counterfeit"
	// DecisionUnauthorised removes the listing and strikes the seller: the goods may be genuine
	// but the seller may not sell them here.
	DecisionUnauthorised Decision = "unauthorised_seller"
	// DecisionAuthentic puts the listing live and remembers that this seller may use its images.
	DecisionAuthentic Decision = "authentic"
	// DecisionMoreInfo asks the seller a question (the note); the case waits for the answer.
	DecisionMoreInfo Decision = "more_info"
)

// Decisions lists the decisions, in the order of the keyboard shortcuts.
var Decisions = []Decision{DecisionCounterfeit, DecisionUnauthorised, DecisionAuthentic, DecisionMoreInfo}

// Valid reports whether d is one of Decisions.
func (d Decision) Valid() bool {
	for _, x := range Decisions {
		if d == x {
			return true
		}
	}
	return false
}

// Strikes reports whether the decision gives the seller a strike.
func (d Decision) Strikes() bool { return d == DecisionCounterfeit || d == DecisionUnauthorised }

// NoteMaxLen is the longest note a decision, an answer or an appeal may carry.
const NoteMaxLen = 2000

// DecisionInput is an analyst's decision as it arrives.
type DecisionInput struct {
	Decision Decision `json:"decision"`
	Note     string   `json:"note"`
}

func (in *DecisionInput) check() error {
	var bad fault.Fields
	in.Note = strings.TrimSpace(in.Note)
	if !in.Decision.Valid() {
		bad.Add("decision", "%q is not a decision: use counterfeit, unauthorised_seller, authentic or more_info", in.Decision)
	}
	switch {
	case in.Note == "" && in.Decision == DecisionMoreInfo:
		bad.Add("note", "write the question the seller must answer")
	case in.Note == "":
		bad.Add("note", "say why: the note goes into the audit log")
	case utf8.RuneCountInString(in.Note) > NoteMaxLen:
		bad.Add("note", "at most %d characters", NoteMaxLen)
	}
	return bad.Err("the decision is not valid")
}

// DecisionRecord is a decision as stored: never edited, only superseded by a later one.
type DecisionRecord struct {
	ID           int64           `json:"id"`
	CaseID       int64           `json:"case_id"`
	ListingID    int64           `json:"listing_id"`
	SellerID     int64           `json:"seller_id"`
	Decision     Decision        `json:"decision"`
	Note         string          `json:"note"`
	AnalystID    int64           `json:"analyst_id"`
	AnalystEmail string          `json:"analyst"`
	DecidedAt    time.Time       `json:"decided_at"`
	Evidence     json.RawMessage `json:"evidence"`
	Supersedes   int64           `json:"supersedes,omitempty"`
	StrikesAfter int             `json:"strikes_after,omitempty"`
	Appealed     bool            `json:"appealed"`
	SupersededBy int64           `json:"superseded_by,omitempty"`
}

const decisionColumns = `d.id, d.case_id, d.listing_id, d.seller_id, d.decision, d.note, d.analyst_id, d.analyst_email,
	d.decided_at, d.evidence, coalesce(d.supersedes, 0), coalesce(d.strikes_after, 0),
	EXISTS (SELECT 1 FROM appeals a WHERE a.decision_id = d.id),
	coalesce((SELECT n.id FROM decisions n WHERE n.supersedes = d.id ORDER BY n.id LIMIT 1), 0)`

func scanDecision(row pgx.Row) (DecisionRecord, error) {
	var d DecisionRecord
	err := row.Scan(&d.ID, &d.CaseID, &d.ListingID, &d.SellerID, &d.Decision, &d.Note, &d.AnalystID, &d.AnalystEmail,
		&d.DecidedAt, &d.Evidence, &d.Supersedes, &d.StrikesAfter, &d.Appealed, &d.SupersededBy)
	return d, err
}

// Snapshot is the evidence a decision was taken on, kept with it and in the audit log.
type Snapshot struct {
	CaseID        int64         `json:"case_id"`
	Source        CaseSource    `json:"source"`
	Score         int           `json:"score"`
	Verdict       string        `json:"verdict,omitempty"`
	Rules         []string      `json:"rules"`
	Reason        string        `json:"reason,omitempty"`
	Evidence      CaseEvidence  `json:"evidence"`
	Reports       int           `json:"reports"`
	Question      string        `json:"question,omitempty"`
	Answer        string        `json:"answer,omitempty"`
	ListingStatus string        `json:"listing_status"`
	Title         string        `json:"title"`
	Price         string        `json:"price"`
	ImageIDs      []int64       `json:"image_ids"`
	SellerStrikes int           `json:"seller_strikes"`
	SellerStatus  string        `json:"seller_status"`
	SellerAge     time.Duration `json:"seller_age_ns"`
	AppealOf      int64         `json:"appeal_of,omitempty"`
}

// Decide records an analyst's decision on a case the analyst holds, and does what it means,
// in one transaction. Returns Invalid for an unknown decision or a missing note, NotFound for
// no such case, Conflict for a closed or unclaimed case, and Forbidden for a case another
// analyst holds; in every such case nothing changes.
func (r *Service) Decide(ctx context.Context, analyst *web.Identity, caseID int64, in DecisionInput) (_ DecisionRecord, err error) {
	defer fault.Annotate(&err, "review.Decide(%d)", caseID)
	out, err := r.DecideMany(ctx, analyst, []int64{caseID}, in)
	if err != nil {
		return DecisionRecord{}, err
	}
	return out[0], nil
}

// MaxBulk is the largest number of cases one bulk decision may cover.
const MaxBulk = 200

// DecideMany records one decision, with one note, on several cases the analyst holds: all of
// them or, when any one cannot be decided, none (the error names it as case_ids[i]).
func (r *Service) DecideMany(ctx context.Context, analyst *web.Identity, caseIDs []int64, in DecisionInput) (_ []DecisionRecord, err error) {
	defer fault.Annotate(&err, "review.DecideMany()")
	if analyst == nil || (analyst.Role != web.RoleAnalyst && analyst.Role != web.RoleAdmin) {
		return nil, fault.New(fault.Forbidden, "only analysts decide cases")
	}
	var bad fault.Fields
	switch {
	case len(caseIDs) == 0:
		bad.Add("case_ids", "name at least one case")
	case len(caseIDs) > MaxBulk:
		bad.Add("case_ids", "at most %d cases at once", MaxBulk)
	}
	seen := map[int64]bool{}
	for i, id := range caseIDs {
		if seen[id] {
			bad.Add(fmt.Sprintf("case_ids[%d]", i), "case %d is named twice", id)
		}
		seen[id] = true
	}
	if err := in.check(); err != nil {
		e, _ := fault.As(err)
		bad = append(bad, e.Fields...)
	}
	if err := bad.Err("the decision is not valid"); err != nil {
		return nil, err
	}
	var out []DecisionRecord
	err = postgres.Tx(ctx, r.db, func(tx pgx.Tx) error {
		out = nil
		// Sellers suspended by an earlier case of this bulk decision: the catalogue read
		// outside the transaction does not see it yet.
		suspended := map[int64]bool{}
		for i, id := range caseIDs {
			d, err := r.decide(ctx, tx, analyst, id, in, suspended)
			if err != nil {
				if len(caseIDs) > 1 {
					return withField(err, fmt.Sprintf("case_ids[%d]", i))
				}
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// withField names the case an error is about in a bulk decision, keeping its code.
func withField(err error, field string) error {
	e, ok := fault.As(err)
	if !ok {
		return err
	}
	fields := []fault.FieldError{{Field: field, Message: e.Message}}
	for _, f := range e.Fields {
		fields = append(fields, fault.FieldError{Field: field + "." + f.Field, Line: f.Line, Message: f.Message})
	}
	return &fault.Error{Code: e.Code, Message: "nothing was decided: " + e.Message, Fields: fields, Err: e.Err}
}

// decide checks and applies one decision inside tx.
func (r *Service) decide(ctx context.Context, tx pgx.Tx, analyst *web.Identity, caseID int64, in DecisionInput, suspended map[int64]bool) (DecisionRecord, error) {
	c, err := scanCase(tx.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1 FOR UPDATE`, caseID))
	if err != nil {
		return DecisionRecord{}, postgres.Err(err, "case "+reviewID(caseID))
	}
	switch {
	case c.Status == CaseClosed:
		return DecisionRecord{}, fault.New(fault.Conflict, "case %d is closed: its decision stands (a seller's appeal opens a new case)", c.ID)
	case c.ClaimedBy == 0:
		return DecisionRecord{}, fault.New(fault.Conflict, "case %d is not claimed: claim it before deciding", c.ID)
	case c.ClaimedBy != analyst.UserID:
		return DecisionRecord{}, fault.New(fault.Forbidden, "case %d is claimed by %s, not by you", c.ID, c.ClaimedEmail)
	}
	l, err := r.catalog.ListingTx(ctx, tx, c.ListingID)
	if err != nil {
		return DecisionRecord{}, err
	}
	seller, err := r.catalog.SellerTx(ctx, tx, c.SellerID)
	if err != nil {
		return DecisionRecord{}, err
	}
	if suspended[seller.ID] {
		seller.Status = catalog.SellerSuspended
	}
	snap := Snapshot{CaseID: c.ID, Source: c.Source, Score: c.Score, Verdict: c.Verdict, Reason: c.Reason, Rules: c.Rules, Evidence: c.Evidence,
		Reports: c.Reports, Question: c.Question, Answer: c.Answer, ListingStatus: string(l.Status), Title: l.Title,
		Price: l.Price.String(), ImageIDs: imageIDs(l), SellerStrikes: seller.Strikes, SellerStatus: string(seller.Status),
		SellerAge: r.now().Sub(seller.CreatedAt), AppealOf: c.AppealOf}
	evidence, err := json.Marshal(snap)
	if err != nil {
		return DecisionRecord{}, err
	}

	reason := fmt.Sprintf("case %d: %s (%s)", c.ID, in.Decision, analyst.Email)
	var strikes *int
	switch in.Decision {
	case DecisionCounterfeit, DecisionUnauthorised:
		if err := r.catalog.SetListingStatus(ctx, tx, l.ID, catalog.StatusRemoved, reason); err != nil {
			return DecisionRecord{}, err
		}
		n, err := r.catalog.AddStrike(ctx, tx, seller.ID, reason)
		if err != nil {
			return DecisionRecord{}, err
		}
		strikes = &n
		if in.Decision == DecisionCounterfeit {
			if err := r.learnCounterfeit(ctx, tx, c, l); err != nil {
				return DecisionRecord{}, err
			}
		} else {
			if err := r.pipeline.AddRemovedListingReferences(ctx, tx, l.ID, c.ID); err != nil {
				return DecisionRecord{}, fmt.Errorf("record listing %d's pictures as removed: %w", l.ID, err)
			}
		}
		if n >= StrikeLimit && seller.Status != catalog.SellerSuspended {
			if err := r.suspend(ctx, tx, seller.ID, n, c.ID); err != nil {
				return DecisionRecord{}, err
			}
			suspended[seller.ID] = true
		}
	case DecisionAuthentic:
		// A suspended seller's listings stay down whatever one case decides.
		if seller.Status == catalog.SellerActive {
			if err := r.catalog.SetListingStatus(ctx, tx, l.ID, catalog.StatusLive, reason); err != nil {
				return DecisionRecord{}, err
			}
		}
		if err := r.pipeline.AllowImages(ctx, tx, l.ID, c.ID); err != nil {
			return DecisionRecord{}, fmt.Errorf("remember listing %d's images as authentic: %w", l.ID, err)
		}
	}

	var supersedes *int64
	var prev int64
	err = tx.QueryRow(ctx, `SELECT id FROM decisions WHERE listing_id = $1 ORDER BY decided_at DESC, id DESC LIMIT 1`, l.ID).Scan(&prev)
	switch {
	case err == nil:
		supersedes = &prev
	case !errors.Is(err, pgx.ErrNoRows):
		return DecisionRecord{}, err
	}
	d, err := scanDecision(tx.QueryRow(ctx, `WITH d AS (INSERT INTO decisions (case_id, listing_id, seller_id, decision, note,
			analyst_id, analyst_email, evidence, supersedes, strikes_after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *)
		SELECT d.id, d.case_id, d.listing_id, d.seller_id, d.decision, d.note, d.analyst_id, d.analyst_email,
			d.decided_at, d.evidence, coalesce(d.supersedes, 0), coalesce(d.strikes_after, 0), false, 0::bigint FROM d`,
		c.ID, l.ID, seller.ID, in.Decision, in.Note, analyst.UserID, analyst.Email, evidence, supersedes, strikes))
	if err != nil {
		return DecisionRecord{}, postgres.Err(err, "decision")
	}
	if in.Decision == DecisionMoreInfo {
		_, err = tx.Exec(ctx, `UPDATE cases SET status = 'waiting', question = $2, answer = '', answered_at = NULL WHERE id = $1`, c.ID, in.Note)
	} else {
		_, err = tx.Exec(ctx, `UPDATE cases SET status = 'closed', closed_at = now(), decision = $2, decided_at = $3 WHERE id = $1`,
			c.ID, in.Decision, d.DecidedAt)
	}
	if err != nil {
		return DecisionRecord{}, err
	}
	after := map[string]any{"decision": in.Decision, "decision_id": d.ID, "listing_id": l.ID, "seller_id": seller.ID, "evidence": snap}
	if strikes != nil {
		after["strikes"] = *strikes
	}
	before := map[string]any{"status": c.Status, "listing_status": l.Status}
	if supersedes != nil {
		before["superseded_decision_id"] = *supersedes
	}
	if err := audit.Record(ctx, tx, analyst, "case.decide", "case", reviewID(c.ID), before, after, in.Note); err != nil {
		return DecisionRecord{}, err
	}
	return d, nil
}

// learnCounterfeit teaches the detector a counterfeit: the listing's images join the library,
// the seller's other live listings are screened again, and paid orders are flagged.
func (r *Service) learnCounterfeit(ctx context.Context, tx pgx.Tx, c Case, l catalog.Listing) error {
	for _, img := range l.Images {
		if err := r.pipeline.AddCounterfeitReference(ctx, tx, img.ID, c.ID); err != nil {
			return fmt.Errorf("add image %d to the counterfeit library: %w", img.ID, err)
		}
	}
	if err := r.forEachListing(ctx, tx, l.SellerID, catalog.StatusLive, func(other catalog.Listing) error {
		if other.ID == l.ID {
			return nil
		}
		return r.catalog.InsertScreening(ctx, tx, other.ID)
	}); err != nil {
		return err
	}
	if r.orders != nil {
		if err := r.orders.FlagCounterfeit(ctx, tx, l.ID); err != nil {
			return fmt.Errorf("flag the orders of listing %d: %w", l.ID, err)
		}
	}
	return nil
}

// suspend suspends a seller that reached the strike limit and takes all its listings down.
func (r *Service) suspend(ctx context.Context, tx pgx.Tx, sellerID int64, strikes int, caseID int64) error {
	reason := fmt.Sprintf("%d strikes (the last from case %d)", strikes, caseID)
	if err := r.catalog.SetSellerStatus(ctx, tx, sellerID, catalog.SellerSuspended, reason); err != nil {
		return err
	}
	return r.forEachListing(ctx, tx, sellerID, "", func(l catalog.Listing) error {
		if l.Status == catalog.StatusRemoved {
			return nil
		}
		return r.catalog.SetListingStatus(ctx, tx, l.ID, catalog.StatusRemoved, "seller suspended: "+reason)
	})
}

// forEachListing calls fn for each of a seller's listings with status ("" for all).
func (r *Service) forEachListing(ctx context.Context, tx pgx.Tx, sellerID int64, status catalog.ListingStatus, fn func(catalog.Listing) error) error {
	var after int64
	for {
		page, err := r.catalog.ListingsTx(ctx, tx, catalog.ListingFilter{SellerID: sellerID, Status: status, AfterID: after, Limit: 1000})
		if err != nil {
			return err
		}
		for _, l := range page {
			if err := fn(l); err != nil {
				return err
			}
			after = l.ID
		}
		if len(page) < 1000 {
			return nil
		}
	}
}

func imageIDs(l catalog.Listing) []int64 {
	ids := make([]int64, len(l.Images))
	for i, img := range l.Images {
		ids[i] = img.ID
	}
	return ids
}

// DecisionsOfCase lists a case's decisions, oldest first.
func (r *Service) DecisionsOfCase(ctx context.Context, caseID int64) (_ []DecisionRecord, err error) {
	defer fault.Annotate(&err, "review.DecisionsOfCase(%d)", caseID)
	rows, err := r.db.Query(ctx, `SELECT `+decisionColumns+` FROM decisions d WHERE d.case_id = $1 ORDER BY d.decided_at, d.id`, caseID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DecisionRecord, error) { return scanDecision(row) })
}

// DecisionsOfListing lists every decision ever taken on a listing, newest first.
func (r *Service) DecisionsOfListing(ctx context.Context, listingID int64) (_ []DecisionRecord, err error) {
	defer fault.Annotate(&err, "review.DecisionsOfListing(%d)", listingID)
	rows, err := r.db.Query(ctx, `SELECT `+decisionColumns+` FROM decisions d WHERE d.listing_id = $1 ORDER BY d.decided_at DESC, d.id DESC`, listingID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DecisionRecord, error) { return scanDecision(row) })
}

// DecisionsOfSeller lists the decisions about a seller's listings, newest first.
func (r *Service) DecisionsOfSeller(ctx context.Context, sellerID int64) (_ []DecisionRecord, err error) {
	defer fault.Annotate(&err, "review.DecisionsOfSeller(%d)", sellerID)
	rows, err := r.db.Query(ctx, `SELECT `+decisionColumns+` FROM decisions d WHERE d.seller_id = $1 ORDER BY d.decided_at DESC, d.id DESC LIMIT 200`, sellerID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DecisionRecord, error) { return scanDecision(row) })
}

// sellerOf is the seller account a caller acts for; NotFound for anyone else, so that ids of
// other sellers' cases cannot be probed.
func sellerOf(caller *web.Identity) (int64, error) {
	if caller == nil {
		return 0, fault.New(fault.Unauthorized, "log in first")
	}
	if (caller.Role != web.RoleSeller && caller.Role != web.RoleLicensee) || caller.SellerID == 0 {
		return 0, fault.New(fault.Forbidden, "only the listing's seller may do this")
	}
	return caller.SellerID, nil
}

// Appeal lets a seller contest a counterfeit or unauthorised_seller decision, once, with a
// note; it opens a new case that the deciding analyst may not claim. Returns NotFound for a
// decision that is not about the caller's listings, Unprocessable for a decision that cannot
// be appealed, Conflict when it was appealed already, is superseded, or the listing has an
// open case, and Invalid for a missing note.
func (r *Service) Appeal(ctx context.Context, caller *web.Identity, decisionID int64, note string) (_ Case, err error) {
	defer fault.Annotate(&err, "review.Appeal(%d, %q)", decisionID, note)
	sellerID, err := sellerOf(caller)
	if err != nil {
		return Case{}, err
	}
	note = strings.TrimSpace(note)
	switch {
	case note == "":
		return Case{}, fault.Validation("the appeal is not valid", fault.Field("note", "say why the decision is wrong"))
	case utf8.RuneCountInString(note) > NoteMaxLen:
		return Case{}, fault.Validation("the appeal is not valid", fault.Field("note", "at most %d characters", NoteMaxLen))
	}
	var opened Case
	err = postgres.Tx(ctx, r.db, func(tx pgx.Tx) error {
		d, err := scanDecision(tx.QueryRow(ctx, `SELECT `+decisionColumns+` FROM decisions d WHERE d.id = $1 AND d.seller_id = $2`, decisionID, sellerID))
		if err != nil {
			return postgres.Err(err, "decision "+reviewID(decisionID))
		}
		switch {
		case !d.Decision.Strikes():
			return fault.New(fault.Unprocessable, "a %s decision cannot be appealed", d.Decision)
		case d.Appealed:
			return fault.New(fault.Conflict, "decision %d was appealed already: a decision is appealed once", d.ID)
		case d.SupersededBy != 0:
			return fault.New(fault.Conflict, "decision %d is superseded by decision %d", d.ID, d.SupersededBy)
		}
		var orig Case
		if orig, err = scanCase(tx.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1`, d.CaseID)); err != nil {
			return err
		}
		ev, err := json.Marshal(orig.Evidence)
		if err != nil {
			return err
		}
		var licensee *int64
		if orig.LicenseeID != 0 {
			licensee = &orig.LicenseeID
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO cases (listing_id, seller_id, property, licensee_id, source, screening_id, score,
				verdict, rules, evidence, appeal_of, excluded_analyst)
			VALUES ($1, $2, $3, $4, 'appeal', nullif($5, 0), $6, $7, $8, $9, $10, $11) RETURNING id`,
			d.ListingID, d.SellerID, orig.Property, licensee, orig.ScreeningID, orig.Score, orig.Verdict, orig.Rules, ev,
			d.ID, d.AnalystID).Scan(&id)
		if e, ok := fault.As(postgres.Err(err, "case")); ok && e.Code == fault.Conflict {
			return fault.New(fault.Conflict, "listing %d already has an open case: the appeal will be heard there", d.ListingID)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO appeals (decision_id, case_id, seller_id, user_id, note) VALUES ($1, $2, $3, $4, $5)`,
			d.ID, id, sellerID, caller.UserID, note); err != nil {
			if e, ok := fault.As(postgres.Err(err, "appeal")); ok && e.Code == fault.Conflict {
				return fault.New(fault.Conflict, "decision %d was appealed already: a decision is appealed once", d.ID)
			}
			return err
		}
		if err := audit.Record(ctx, tx, caller, "case.appeal", "case", reviewID(id), nil,
			map[string]any{"decision_id": d.ID, "appealed_case_id": d.CaseID, "listing_id": d.ListingID}, note); err != nil {
			return err
		}
		opened, err = scanCase(tx.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1`, id))
		return err
	})
	return opened, err
}

// AppealOf returns the appeal of a decision, if any.
func (r *Service) AppealOf(ctx context.Context, decisionID int64) (note string, at time.Time, ok bool, err error) {
	defer fault.Annotate(&err, "review.AppealOf(%d)", decisionID)
	err = r.db.QueryRow(ctx, `SELECT note, created_at FROM appeals WHERE decision_id = $1`, decisionID).Scan(&note, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, false, nil
	}
	return note, at, err == nil, err
}

// Answer is the seller's reply to an analyst's question (a more_info decision); the case goes
// back to the queue, still held by the analyst who asked. Returns NotFound for a case that is
// not the caller's, Conflict for a case that waits for no answer, Invalid for an empty answer.
func (r *Service) Answer(ctx context.Context, caller *web.Identity, caseID int64, answer string) (_ Case, err error) {
	defer fault.Annotate(&err, "review.Answer(%d, %q)", caseID, answer)
	sellerID, err := sellerOf(caller)
	if err != nil {
		return Case{}, err
	}
	answer = strings.TrimSpace(answer)
	switch {
	case answer == "":
		return Case{}, fault.Validation("the answer is not valid", fault.Field("answer", "write your answer to the question"))
	case utf8.RuneCountInString(answer) > NoteMaxLen:
		return Case{}, fault.Validation("the answer is not valid", fault.Field("answer", "at most %d characters", NoteMaxLen))
	}
	var out Case
	err = postgres.Tx(ctx, r.db, func(tx pgx.Tx) error {
		c, err := scanCase(tx.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1 AND c.seller_id = $2 FOR UPDATE`, caseID, sellerID))
		if err != nil {
			return postgres.Err(err, "case "+reviewID(caseID))
		}
		if c.Status != CaseWaiting {
			return fault.New(fault.Conflict, "case %d is not waiting for an answer", c.ID)
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET status = 'open', answer = $2, answered_at = now() WHERE id = $1`, c.ID, answer); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, caller, "case.answer", "case", reviewID(c.ID), map[string]string{"question": c.Question},
			map[string]string{"answer": answer}, ""); err != nil {
			return err
		}
		out, err = scanCase(tx.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1`, c.ID))
		return err
	})
	return out, err
}
