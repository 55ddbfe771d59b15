package review

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"marketplace/catalog"
	"marketplace/detection"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
)

// ReportInput is a fan's report of a suspected fake.
type ReportInput struct {
	ListingID int64  `json:"listing_id"`
	Reason    string `json:"reason"`
}

// ReportResult says which case the report opened or raised.
type ReportResult struct {
	ReportID int64 `json:"report_id"`
	CaseID   int64 `json:"case_id"`
	Reports  int   `json:"reports"` // reports on the case so far
}

// Report records a fan's report (anyone may report, logged in or not) and opens a case for the
// listing, or raises its open case: each report adds 10 to the case's priority. One reporter
// (an account, or an address when anonymous) reports a listing once, and only so many
// listings within ReportLimits.Window. Returns Invalid for a missing listing id or reason,
// NotFound for a listing fans cannot see, Unprocessable for one already taken down, Conflict
// for a second report of one listing, and RateLimited past the limit.
func (r *Service) Report(ctx context.Context, caller *web.Identity, addr string, in ReportInput) (_ ReportResult, err error) {
	defer fault.Annotate(&err, "review.Report(%q)", addr)
	var bad fault.Fields
	in.Reason = strings.TrimSpace(in.Reason)
	if in.ListingID <= 0 {
		bad.Add("listing_id", "name the listing you are reporting")
	}
	switch {
	case in.Reason == "":
		bad.Add("reason", "say what makes you think it is fake")
	case utf8.RuneCountInString(in.Reason) > r.limits.ReasonMaxLen:
		bad.Add("reason", "at most %d characters", r.limits.ReasonMaxLen)
	}
	if err := bad.Err("the report is not valid"); err != nil {
		return ReportResult{}, err
	}
	l, err := r.catalog.Listing(ctx, in.ListingID)
	if err != nil {
		return ReportResult{}, err
	}
	switch l.Status {
	case catalog.StatusPending:
		// Not shown to fans yet, so nobody can have seen it: the same answer as no listing.
		return ReportResult{}, fault.New(fault.NotFound, "listing %d not found", l.ID)
	case catalog.StatusRemoved:
		return ReportResult{}, fault.New(fault.Unprocessable, "listing %d has been taken down already: thank you", l.ID)
	}
	reporter, limit := "ip:"+addr, r.limits.PerAddress
	var userID *int64
	if caller != nil {
		reporter, limit, userID = "user:"+reviewID(caller.UserID), r.limits.PerAccount, &caller.UserID
	}
	var res ReportResult
	err = postgres.Tx(ctx, r.db, func(tx pgx.Tx) error {
		// One reporter's reports are counted and written one at a time, so the limit holds
		// against a burst of parallel requests.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('review.report'), hashtext($1))`, reporter); err != nil {
			return err
		}
		var recent int
		var already bool
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE created_at > $2), count(*) FILTER (WHERE listing_id = $3) > 0
			FROM reports WHERE reporter = $1`, reporter, r.now().Add(-r.limits.Window), l.ID).Scan(&recent, &already); err != nil {
			return err
		}
		if already {
			return fault.New(fault.Conflict, "you have already reported listing %d: analysts are on it", l.ID)
		}
		if recent >= limit {
			return fault.New(fault.RateLimited, "you have sent %d reports in the last %s: please wait before sending more", recent, r.limits.Window)
		}
		caseID, err := r.openCase(ctx, tx, detection.CaseInput{ListingID: l.ID}, SourceReport)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE cases SET reports = reports + 1 WHERE id = $1 RETURNING reports`, caseID).Scan(&res.Reports); err != nil {
			return err
		}
		res.CaseID = caseID
		return tx.QueryRow(ctx, `INSERT INTO reports (listing_id, case_id, reporter, user_id, reason) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			l.ID, caseID, reporter, userID, in.Reason).Scan(&res.ReportID)
	})
	return res, err
}

// FanReport is one report as analysts see it.
type FanReport struct {
	ID        int64     `json:"id"`
	Reason    string    `json:"reason"`
	Anonymous bool      `json:"anonymous"`
	CreatedAt time.Time `json:"created_at"`
}

// ReportsOfListing lists the reports on a listing, newest first.
func (r *Service) ReportsOfListing(ctx context.Context, listingID int64) (_ []FanReport, err error) {
	defer fault.Annotate(&err, "review.ReportsOfListing(%d)", listingID)
	rows, err := r.db.Query(ctx, `SELECT id, reason, user_id IS NULL, created_at FROM reports WHERE listing_id = $1
		ORDER BY created_at DESC, id DESC LIMIT 100`, listingID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[FanReport])
}
