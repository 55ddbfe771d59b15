package review

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/catalog"
	"marketplace/detection"
	"marketplace/detection/imagematch/imagetest"
	"marketplace/internal/auth"
	"marketplace/internal/blob"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// reviewWorld is a fresh database with the catalogue, the review, two properties and a few
// accounts: three analysts, a fan and a seller user.
type reviewWorld struct {
	t        *testing.T
	ctx      context.Context
	pool     *pgxpool.Pool
	reg      *licensing.Service
	cat      *catalog.Service
	rv       *Service
	accounts *auth.Service
	a1, a2   *web.Identity // analysts
	a3       *web.Identity
	imgSeq   atomic.Int64
}

var reviewAdmin = &web.Identity{UserID: 0, Email: "admin@example.com", Role: web.RoleAdmin}

func newReviewWorld(t *testing.T, opts ...Option) *reviewWorld {
	t.Helper()
	pool := pgtest.New(t, Schemas()...)
	ctx := context.Background()
	reg := licensing.NewService(pool)
	for _, p := range []licensing.Property{
		{Code: "PARIS2024", Name: "Paris 2024", Marks: []licensing.Mark{{Text: "Paris 2024"}}},
		{Code: "LA28", Name: "Los Angeles 2028", Marks: []licensing.Mark{{Text: "LA28"}}},
	} {
		if _, err := reg.CreateProperty(ctx, reviewAdmin, p); err != nil {
			t.Fatal(err)
		}
	}
	blobs, err := blob.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	cat, err := catalog.NewService(pool, reg, catalog.WithBlobs(blobs))
	if err != nil {
		t.Fatal(err)
	}
	w := &reviewWorld{t: t, ctx: ctx, pool: pool, reg: reg, cat: cat, accounts: auth.NewService(pool, auth.DefaultLimits)}
	pipeline, err := detection.NewService(pool, cat)
	if err != nil {
		t.Fatal(err)
	}
	w.rv = NewService(pool, cat, pipeline, opts...)
	w.a1 = w.user("ana@example.com", web.RoleAnalyst, 0)
	w.a2 = w.user("bob@example.com", web.RoleAnalyst, 0)
	w.a3 = w.user("cleo@example.com", web.RoleAnalyst, 0)
	return w
}

// user makes an account and returns the identity a request from it would carry.
func (w *reviewWorld) user(email string, role web.Role, sellerID int64) *web.Identity {
	w.t.Helper()
	u, err := w.accounts.CreateUser(w.ctx, auth.NewUser{Email: email, Role: role, SellerID: sellerID})
	if err != nil {
		w.t.Fatal(err)
	}
	return &web.Identity{UserID: u.ID, Email: email, Role: role, SellerID: sellerID}
}

// seller opens an independent seller account.
func (w *reviewWorld) seller(name string, n catalog.NewSeller) catalog.Seller {
	w.t.Helper()
	n.Kind, n.Name = catalog.SellerIndependent, name
	if n.Country == "" {
		n.Country = "FR"
	}
	s, err := w.cat.CreateSeller(w.ctx, n)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

// image stores a distinct picture through the catalogue: decisions fingerprint it for the
// counterfeit library.
func (w *reviewWorld) image() int64 {
	w.t.Helper()
	seed := uint64(w.imgSeq.Add(1))
	img, err := w.cat.PutImage(w.ctx, imagetest.EncodeJPEG(w.t, imagetest.SynthPhoto(seed*7919, 320, 240), 85))
	if err != nil {
		w.t.Fatal(err)
	}
	return img.ID
}

// listing creates a listing and sets its status as screening would.
func (w *reviewWorld) listing(sellerID int64, title, property string, status catalog.ListingStatus, images ...int64) catalog.Listing {
	w.t.Helper()
	if len(images) == 0 {
		images = []int64{w.image()}
	}
	l, err := w.cat.CreateListing(w.ctx, sellerID, catalog.NewListing{Title: title, Price: money.New(1999, "EUR"), Stock: 5,
		Territories: []string{"FR", "BE"}, Property: property, Category: "apparel", ImageIDs: images})
	if err != nil {
		w.t.Fatal(err)
	}
	if status != catalog.StatusPending {
		w.tx(func(tx pgx.Tx) error { return w.cat.SetListingStatus(w.ctx, tx, l.ID, status, "screened") })
		l.Status = status
	}
	return l
}

func (w *reviewWorld) tx(fn func(pgx.Tx) error) {
	w.t.Helper()
	if err := postgres.Tx(w.ctx, w.pool, fn); err != nil {
		w.t.Fatal(err)
	}
}

// flagged makes a held listing and opens its case as the pipeline does, returning the case.
func (w *reviewWorld) flagged(sellerID int64, title, property string, score int, rules ...string) (catalog.Listing, Case) {
	w.t.Helper()
	status := catalog.StatusHeld
	if score >= 70 {
		status = catalog.StatusBlocked
	}
	l := w.listing(sellerID, title, property, status)
	w.screen(l.ID, score, rules...)
	cs, err := w.rv.Cases(w.ctx, CaseFilter{SellerID: sellerID, Limit: 500})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, c := range cs {
		if c.ListingID == l.ID {
			return l, c
		}
	}
	w.t.Fatalf("no case for listing %d", l.ID)
	return l, Case{}
}

// screen records a screening of the listing with these rule hits and opens its case in the
// same transaction, as the pipeline does for a held or blocked listing.
func (w *reviewWorld) screen(listingID int64, score int, rules ...string) {
	w.t.Helper()
	verdict := "review"
	if score >= 70 {
		verdict = "block"
	}
	reasons := []detection.Reason{}
	for _, r := range rules {
		reasons = append(reasons, detection.Reason{Rule: r, Weight: 30, Detail: "hit " + r})
	}
	w.tx(func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(w.ctx, `INSERT INTO screenings (listing_id, score, verdict, status, reasons, matches)
			VALUES ($1, $2, $3, 'held', $4, '[]') RETURNING id`, listingID, score, verdict, reasons).Scan(&id); err != nil {
			return err
		}
		return w.rv.OpenCase(w.ctx, tx, detection.CaseInput{ListingID: listingID, ScreeningID: id, Score: score, Verdict: verdict, Reason: "test"})
	})
}

// count runs a count query.
func (w *reviewWorld) count(sql string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.pool.QueryRow(w.ctx, sql, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// state is what a refused request must leave as it was.
func (w *reviewWorld) state() string {
	w.t.Helper()
	var s string
	if err := w.pool.QueryRow(w.ctx, `SELECT concat_ws('|',
		(SELECT string_agg(id || ':' || status || ':' || coalesce(claimed_by, 0) || ':' || question, ',' ORDER BY id) FROM cases),
		(SELECT count(*) FROM decisions), (SELECT count(*) FROM appeals), (SELECT count(*) FROM reports),
		(SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM listings),
		(SELECT string_agg(id || ':' || strikes || ':' || status, ',' ORDER BY id) FROM sellers),
		(SELECT count(*) FROM audit_log), (SELECT count(*) FROM river_job))`).Scan(&s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

func wantCode(t *testing.T, err error, code fault.Code) *fault.Error {
	t.Helper()
	e, ok := fault.As(err)
	if !ok || e.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
	return e
}

func hasField(e *fault.Error, field string) bool {
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestReviewRefusesBadDecisionsAndChangesNothing(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	fan := w.user("fan@example.com", web.RoleFan, 0)
	s := w.seller("Shady Shop", catalog.NewSeller{})
	sellerUser := w.user("shady@example.com", web.RoleSeller, s.ID)
	_, c1 := w.flagged(s.ID, "Paris 2024 mascot replica", "PARIS2024", 80, "official_photo")
	_, c2 := w.flagged(s.ID, "Paris 2024 pin AAA", "PARIS2024", 50, "counterfeit_words")
	_, c3 := w.flagged(s.ID, "LA28 cap", "LA28", 40, "young_seller")
	if _, err := w.rv.Claim(w.ctx, w.a1, c1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.rv.Claim(w.ctx, w.a2, c2.ID); err != nil {
		t.Fatal(err)
	}
	good := DecisionInput{Decision: DecisionCounterfeit, Note: "official photo, price a third"}
	before := w.state()

	t.Run("FanOrSellerCannotClaimOrDecide", func(t *testing.T) {
		for _, who := range []*web.Identity{fan, sellerUser, nil} {
			_, err := w.rv.Claim(w.ctx, who, c3.ID)
			wantCode(t, err, fault.Forbidden)
			_, err = w.rv.Decide(w.ctx, who, c1.ID, good)
			wantCode(t, err, fault.Forbidden)
		}
	})
	t.Run("NotClaimed", func(t *testing.T) {
		_, err := w.rv.Decide(w.ctx, w.a1, c3.ID, good)
		wantCode(t, err, fault.Conflict)
	})
	t.Run("ClaimedByAnother", func(t *testing.T) {
		_, err := w.rv.Decide(w.ctx, w.a1, c2.ID, good)
		e := wantCode(t, err, fault.Forbidden)
		if e.Message != fmt.Sprintf("case %d is claimed by bob@example.com, not by you", c2.ID) {
			t.Errorf("message %q", e.Message)
		}
	})
	t.Run("UnknownDecision", func(t *testing.T) {
		_, err := w.rv.Decide(w.ctx, w.a1, c1.ID, DecisionInput{Decision: "burn_it", Note: "x"})
		if e := wantCode(t, err, fault.Invalid); !hasField(e, "decision") {
			t.Errorf("fields %v", e.Fields)
		}
	})
	t.Run("NoNote", func(t *testing.T) {
		_, err := w.rv.Decide(w.ctx, w.a1, c1.ID, DecisionInput{Decision: DecisionCounterfeit, Note: "  "})
		if e := wantCode(t, err, fault.Invalid); !hasField(e, "note") {
			t.Errorf("fields %v", e.Fields)
		}
	})
	t.Run("NoSuchCase", func(t *testing.T) {
		_, err := w.rv.Decide(w.ctx, w.a1, 999999, good)
		wantCode(t, err, fault.NotFound)
		_, err = w.rv.Claim(w.ctx, w.a1, 999999)
		wantCode(t, err, fault.NotFound)
	})
	t.Run("BulkOverAnotherAnalystsClaim", func(t *testing.T) {
		_, err := w.rv.DecideMany(w.ctx, w.a1, []int64{c1.ID, c2.ID}, good)
		e := wantCode(t, err, fault.Forbidden)
		if !hasField(e, "case_ids[1]") || hasField(e, "case_ids[0]") {
			t.Errorf("fields %v", e.Fields)
		}
	})
	t.Run("BulkTwiceTheSameCase", func(t *testing.T) {
		_, err := w.rv.DecideMany(w.ctx, w.a1, []int64{c1.ID, c1.ID}, good)
		if e := wantCode(t, err, fault.Invalid); !hasField(e, "case_ids[1]") {
			t.Errorf("fields %v", e.Fields)
		}
	})
	if after := w.state(); after != before {
		t.Fatalf("a refused request changed something:\n before %s\n after  %s", before, after)
	}

	t.Run("ClosedCase", func(t *testing.T) {
		if _, err := w.rv.Decide(w.ctx, w.a1, c1.ID, good); err != nil {
			t.Fatal(err)
		}
		closed := w.state()
		_, err := w.rv.Decide(w.ctx, w.a1, c1.ID, DecisionInput{Decision: DecisionAuthentic, Note: "changed my mind"})
		wantCode(t, err, fault.Conflict)
		_, err = w.rv.Claim(w.ctx, w.a2, c1.ID)
		wantCode(t, err, fault.Conflict)
		if after := w.state(); after != closed {
			t.Fatalf("deciding a closed case changed something:\n before %s\n after  %s", closed, after)
		}
	})
	t.Run("DecisionsAreNeverEdited", func(t *testing.T) {
		_, err := w.pool.Exec(w.ctx, `UPDATE decisions SET note = 'edited'`)
		if err == nil {
			t.Fatal("a decision was edited")
		}
		_, err = w.pool.Exec(w.ctx, `DELETE FROM decisions`)
		if err == nil {
			t.Fatal("a decision was deleted")
		}
	})
}

func TestClaimRaceHasExactlyOneWinner(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	s := w.seller("Racer", catalog.NewSeller{})
	analysts := []*web.Identity{w.a1, w.a2, w.a3}
	for i := range 5 {
		analysts = append(analysts, w.user(fmt.Sprintf("extra%d@example.com", i), web.RoleAnalyst, 0))
	}
	for round := range 5 {
		_, c := w.flagged(s.ID, fmt.Sprintf("Race %d", round), "", 50)
		var wins, conflicts atomic.Int32
		var winner atomic.Int64
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, a := range analysts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got, err := w.rv.Claim(w.ctx, a, c.ID)
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(a.UserID)
					if got.ClaimedBy != a.UserID {
						t.Errorf("winner sees claimed_by %d", got.ClaimedBy)
					}
				case fault.Is(err, fault.Conflict):
					conflicts.Add(1)
				default:
					t.Errorf("claim: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || int(conflicts.Load()) != len(analysts)-1 {
			t.Fatalf("round %d: %d wins, %d conflicts", round, wins.Load(), conflicts.Load())
		}
		got, err := w.rv.Case(w.ctx, c.ID)
		if err != nil || got.ClaimedBy != winner.Load() {
			t.Fatalf("case claimed by %d, winner %d (%v)", got.ClaimedBy, winner.Load(), err)
		}
	}
}

func TestQueueOrderFiltersAndBacklog(t *testing.T) {
	t.Parallel()
	now := time.Now()
	w := newReviewWorld(t, WithClock(func() time.Time { return now }))
	s1 := w.seller("One", catalog.NewSeller{})
	s2 := w.seller("Two", catalog.NewSeller{})
	_, low := w.flagged(s1.ID, "Low", "LA28", 35, "young_seller")
	_, high := w.flagged(s2.ID, "High", "PARIS2024", 90, "official_photo", "counterfeit_words")
	_, mid := w.flagged(s1.ID, "Mid", "PARIS2024", 60, "counterfeit_words")
	_, midLater := w.flagged(s2.ID, "Mid later", "PARIS2024", 60, "low_price")
	// The first mid case is older: it comes before the second at the same score.
	if _, err := w.pool.Exec(w.ctx, `UPDATE cases SET opened_at = now() - interval '3 days' WHERE id = $1`, mid.ID); err != nil {
		t.Fatal(err)
	}
	ids := func(f CaseFilter) []int64 {
		t.Helper()
		cs, err := w.rv.Cases(w.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	eq := func(name string, got []int64, want ...int64) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	eq("queue", ids(CaseFilter{}), high.ID, mid.ID, midLater.ID, low.ID)
	eq("property", ids(CaseFilter{Property: "paris2024"}), high.ID, mid.ID, midLater.ID)
	eq("rule", ids(CaseFilter{Rule: "counterfeit_words"}), high.ID, mid.ID)
	eq("seller", ids(CaseFilter{SellerID: s1.ID}), mid.ID, low.ID)
	eq("age", ids(CaseFilter{OlderThan: 48 * time.Hour}), mid.ID)

	// A fan's report raises a case by 10.
	if _, err := w.rv.Report(w.ctx, nil, "192.0.2.1", ReportInput{ListingID: low.ListingID, Reason: "the logo is wrong"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.rv.Report(w.ctx, nil, "192.0.2.2", ReportInput{ListingID: low.ListingID, Reason: "fake stitching"}); err != nil {
		t.Fatal(err)
	}
	if got, err := w.rv.Case(w.ctx, low.ID); err != nil || got.Priority != 55 || got.Reports != 2 || got.Score != 35 {
		t.Fatalf("reported case: priority %d reports %d score %d (%v)", got.Priority, got.Reports, got.Score, err)
	}
	b, err := w.rv.Backlog(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.Open != 4 || b.Unclaimed != 4 || b.Oldest < 71*time.Hour {
		t.Fatalf("backlog %+v", b)
	}
}

func TestOpenCaseIsIdempotentWhileOpen(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	s := w.seller("Again", catalog.NewSeller{})
	l, c := w.flagged(s.ID, "Twice", "", 40, "low_price")
	w.screen(l.ID, 75, "known_counterfeit")
	w.screen(l.ID, 20, "young_seller")
	if n := w.count(`SELECT count(*) FROM cases WHERE listing_id = $1`, l.ID); n != 1 {
		t.Fatalf("%d cases for one listing", n)
	}
	got, err := w.rv.Case(w.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Score != 75 || fmt.Sprint(got.Rules) != "[young_seller]" {
		t.Fatalf("case after re-screens: score %d rules %v", got.Score, got.Rules)
	}
	err = postgres.Tx(w.ctx, w.pool, func(tx pgx.Tx) error {
		return w.rv.OpenCase(w.ctx, tx, detection.CaseInput{ListingID: l.ID, Score: 101})
	})
	wantCode(t, err, fault.Invalid)
	err = postgres.Tx(w.ctx, w.pool, func(tx pgx.Tx) error {
		return w.rv.OpenCase(w.ctx, tx, detection.CaseInput{ListingID: 987654, Score: 50})
	})
	wantCode(t, err, fault.NotFound)
	err = postgres.Tx(w.ctx, w.pool, func(tx pgx.Tx) error {
		return w.rv.OpenCase(w.ctx, tx, detection.CaseInput{ListingID: l.ID, ScreeningID: 987654, Score: 50})
	})
	wantCode(t, err, fault.NotFound)
}

func TestCounterfeitDecision(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	s := w.seller("Fakes R Us", catalog.NewSeller{})
	l, c := w.flagged(s.ID, "Paris 2024 jersey 1:1", "PARIS2024", 85, "official_photo")
	other := w.listing(s.ID, "Plain scarf", "", catalog.StatusLive)
	jobsBefore := w.count(`SELECT count(*) FROM river_job WHERE kind = 'screen_listing' AND args->>'listing_id' = $1`, reviewID(other.ID))
	if _, err := w.rv.Claim(w.ctx, w.a1, c.ID); err != nil {
		t.Fatal(err)
	}
	d, err := w.rv.Decide(w.ctx, w.a1, c.ID, DecisionInput{Decision: DecisionCounterfeit, Note: "same photo as the official jersey"})
	if err != nil {
		t.Fatal(err)
	}
	if d.StrikesAfter != 1 || d.AnalystEmail != "ana@example.com" || d.Supersedes != 0 {
		t.Fatalf("decision %+v", d)
	}
	if got, err := w.cat.Listing(w.ctx, l.ID); err != nil || got.Status != catalog.StatusRemoved {
		t.Fatalf("listing %s (%v)", got.Status, err)
	}
	if got, err := w.cat.Seller(w.ctx, s.ID); err != nil || got.Strikes != 1 || got.Status != catalog.SellerActive {
		t.Fatalf("seller %+v (%v)", got, err)
	}
	if got, err := w.rv.Case(w.ctx, c.ID); err != nil || got.Status != CaseClosed || got.ClosedAt == nil {
		t.Fatalf("case %+v (%v)", got, err)
	}
	if n := w.count(`SELECT count(*) FROM river_job WHERE kind = 'screen_listing' AND args->>'listing_id' = $1`, reviewID(other.ID)); n != jobsBefore+1 {
		t.Fatalf("the seller's other live listing was not re-screened: %d jobs", n)
	}
	var note, email string
	var evidenceScore int
	if err := w.pool.QueryRow(w.ctx, `SELECT note, actor_email, (after->'evidence'->>'score')::int FROM audit_log
		WHERE action = 'case.decide' AND entity = 'case' AND entity_id = $1`, reviewID(c.ID)).Scan(&note, &email, &evidenceScore); err != nil {
		t.Fatal(err)
	}
	if note != "same photo as the official jersey" || email != "ana@example.com" || evidenceScore != 85 {
		t.Fatalf("audit entry: %q %q %d", note, email, evidenceScore)
	}
}

func TestThreeStrikesSuspendTheSeller(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	s := w.seller("Three Strikes", catalog.NewSeller{})
	live := w.listing(s.ID, "Innocent mug", "", catalog.StatusLive)
	pending := w.listing(s.ID, "New mug", "", catalog.StatusPending)
	var cases []int64
	for i := range 4 {
		_, c := w.flagged(s.ID, fmt.Sprintf("Fake %d", i), "PARIS2024", 80, "official_photo")
		if _, err := w.rv.Claim(w.ctx, w.a2, c.ID); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c.ID)
	}
	if _, err := w.rv.Decide(w.ctx, w.a2, cases[0], DecisionInput{Decision: DecisionUnauthorised, Note: "not a reseller"}); err != nil {
		t.Fatal(err)
	}
	if got, err := w.cat.Seller(w.ctx, s.ID); err != nil || got.Status != catalog.SellerActive || got.Strikes != 1 {
		t.Fatalf("after one strike: %+v (%v)", got, err)
	}
	// The other three in one bulk decision: the third strike suspends, once.
	ds, err := w.rv.DecideMany(w.ctx, w.a2, cases[1:], DecisionInput{Decision: DecisionCounterfeit, Note: "same factory photos"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 || ds[1].StrikesAfter != 3 || ds[2].StrikesAfter != 4 {
		t.Fatalf("decisions %+v", ds)
	}
	if n := w.count(`SELECT count(*) FROM audit_log WHERE action = 'seller.suspended' AND entity_id = $1`, reviewID(s.ID)); n != 1 {
		t.Fatalf("%d suspensions recorded", n)
	}
	got, err := w.cat.Seller(w.ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != catalog.SellerSuspended || got.Strikes != 4 {
		t.Fatalf("after four strikes: %+v", got)
	}
	for _, id := range []int64{live.ID, pending.ID} {
		if l, err := w.cat.Listing(w.ctx, id); err != nil || l.Status != catalog.StatusRemoved {
			t.Errorf("listing %d is %s after the suspension (%v)", id, l.Status, err)
		}
	}
}

func TestAuthenticMoreInfoAnswerAndAppeal(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t)
	s := w.seller("Reseller", catalog.NewSeller{})
	owner := w.user("reseller@example.com", web.RoleSeller, s.ID)
	stranger := w.user("stranger@example.com", web.RoleSeller, w.seller("Stranger", catalog.NewSeller{}).ID)
	l, c := w.flagged(s.ID, "Paris 2024 tee", "PARIS2024", 45, "official_photo")
	if _, err := w.rv.Claim(w.ctx, w.a1, c.ID); err != nil {
		t.Fatal(err)
	}

	t.Run("MoreInfoWaitsForTheSeller", func(t *testing.T) {
		if _, err := w.rv.Decide(w.ctx, w.a1, c.ID, DecisionInput{Decision: DecisionMoreInfo, Note: "Send the invoice from the licensee."}); err != nil {
			t.Fatal(err)
		}
		if q, err := w.rv.Question(w.ctx, l.ID); err != nil || q != "Send the invoice from the licensee." {
			t.Fatalf("question %q (%v)", q, err)
		}
		if cs, err := w.rv.Cases(w.ctx, CaseFilter{}); err != nil || len(cs) != 0 {
			t.Fatalf("a waiting case is in the open queue: %v (%v)", cs, err)
		}
		_, err := w.rv.Answer(w.ctx, stranger, c.ID, "me too")
		wantCode(t, err, fault.NotFound)
		_, err = w.rv.Answer(w.ctx, owner, c.ID, " ")
		wantCode(t, err, fault.Invalid)
		got, err := w.rv.Answer(w.ctx, owner, c.ID, "Invoice 2024-118 from Maison Bleue attached.")
		if err != nil || got.Status != CaseOpen || got.ClaimedBy != w.a1.UserID {
			t.Fatalf("after the answer: %+v %v", got, err)
		}
		_, err = w.rv.Answer(w.ctx, owner, c.ID, "again")
		wantCode(t, err, fault.Conflict)
	})
	var first DecisionRecord
	t.Run("Unauthorised", func(t *testing.T) {
		var err error
		first, err = w.rv.Decide(w.ctx, w.a1, c.ID, DecisionInput{Decision: DecisionUnauthorised, Note: "the invoice is not for these goods"})
		if err != nil {
			t.Fatal(err)
		}
		if first.Supersedes == 0 {
			t.Fatal("the decision does not supersede the more_info one")
		}
	})
	var appeal Case
	t.Run("AppealOnce", func(t *testing.T) {
		_, err := w.rv.Appeal(w.ctx, stranger, first.ID, "not mine")
		wantCode(t, err, fault.NotFound)
		_, err = w.rv.Appeal(w.ctx, owner, first.ID, "")
		wantCode(t, err, fault.Invalid)
		appeal, err = w.rv.Appeal(w.ctx, owner, first.ID, "I am authorised since March: see licence PAR24-APP-0001")
		if err != nil {
			t.Fatal(err)
		}
		if appeal.Source != SourceAppeal || appeal.AppealOf != first.ID || appeal.Status != CaseOpen {
			t.Fatalf("appeal case %+v", appeal)
		}
		_, err = w.rv.Appeal(w.ctx, owner, first.ID, "again")
		wantCode(t, err, fault.Conflict)
	})
	t.Run("AnotherAnalystHearsIt", func(t *testing.T) {
		_, err := w.rv.Claim(w.ctx, w.a1, appeal.ID)
		wantCode(t, err, fault.Forbidden)
		if _, err := w.rv.Claim(w.ctx, w.a2, appeal.ID); err != nil {
			t.Fatal(err)
		}
		d, err := w.rv.Decide(w.ctx, w.a2, appeal.ID, DecisionInput{Decision: DecisionAuthentic, Note: "authorisation confirmed with the licensee"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Supersedes != first.ID {
			t.Fatalf("supersedes %d, want %d", d.Supersedes, first.ID)
		}
		if got, err := w.cat.Listing(w.ctx, l.ID); err != nil || got.Status != catalog.StatusLive {
			t.Fatalf("listing %s after the appeal (%v)", got.Status, err)
		}
		ds, err := w.rv.DecisionsOfListing(w.ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 3 || ds[1].SupersededBy != d.ID || !ds[1].Appealed {
			t.Fatalf("history %+v", ds)
		}
		_, err = w.rv.Appeal(w.ctx, owner, first.ID, "once more")
		wantCode(t, err, fault.Conflict)
		_, err = w.rv.Appeal(w.ctx, owner, d.ID, "appealing my own win")
		wantCode(t, err, fault.Unprocessable)
	})
}

func TestReports(t *testing.T) {
	t.Parallel()
	w := newReviewWorld(t, WithReportLimits(ReportLimits{Window: time.Hour, PerAccount: 3, PerAddress: 2, ReasonMaxLen: 100}))
	s := w.seller("Market Stall", catalog.NewSeller{})
	fan := w.user("fan@example.com", web.RoleFan, 0)
	var live []catalog.Listing
	for i := range 4 {
		live = append(live, w.listing(s.ID, fmt.Sprintf("Mug %d", i), "", catalog.StatusLive))
	}
	pending := w.listing(s.ID, "Pending mug", "", catalog.StatusPending)
	removed := w.listing(s.ID, "Gone mug", "", catalog.StatusRemoved)
	before := w.state()
	t.Run("BadInput", func(t *testing.T) {
		_, err := w.rv.Report(w.ctx, fan, "", ReportInput{})
		e := wantCode(t, err, fault.Invalid)
		if !hasField(e, "listing_id") || !hasField(e, "reason") {
			t.Errorf("fields %v", e.Fields)
		}
		_, err = w.rv.Report(w.ctx, fan, "", ReportInput{ListingID: live[0].ID, Reason: string(make([]byte, 101))})
		wantCode(t, err, fault.Invalid)
		_, err = w.rv.Report(w.ctx, fan, "", ReportInput{ListingID: pending.ID, Reason: "fake"})
		wantCode(t, err, fault.NotFound)
		_, err = w.rv.Report(w.ctx, fan, "", ReportInput{ListingID: removed.ID, Reason: "fake"})
		wantCode(t, err, fault.Unprocessable)
		if after := w.state(); after != before {
			t.Fatalf("a refused report changed something:\n before %s\n after  %s", before, after)
		}
	})
	t.Run("OpensThenRaises", func(t *testing.T) {
		r1, err := w.rv.Report(w.ctx, fan, "198.51.100.1", ReportInput{ListingID: live[0].ID, Reason: "the rings are the wrong colours"})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := w.rv.Report(w.ctx, nil, "198.51.100.1", ReportInput{ListingID: live[0].ID, Reason: "cheap print"})
		if err != nil {
			t.Fatal(err)
		}
		if r1.CaseID != r2.CaseID || r2.Reports != 2 {
			t.Fatalf("reports %+v %+v", r1, r2)
		}
		c, err := w.rv.Case(w.ctx, r1.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Source != SourceReport || c.Priority != 20 {
			t.Fatalf("case %+v", c)
		}
		if l, err := w.cat.Listing(w.ctx, live[0].ID); err != nil || l.Status != catalog.StatusLive {
			t.Fatalf("a report took the listing down: %s (%v)", l.Status, err)
		}
		_, err = w.rv.Report(w.ctx, fan, "", ReportInput{ListingID: live[0].ID, Reason: "again"})
		wantCode(t, err, fault.Conflict)
	})
	t.Run("RateLimited", func(t *testing.T) {
		if _, err := w.rv.Report(w.ctx, nil, "198.51.100.1", ReportInput{ListingID: live[1].ID, Reason: "fake"}); err != nil {
			t.Fatal(err)
		}
		_, err := w.rv.Report(w.ctx, nil, "198.51.100.1", ReportInput{ListingID: live[2].ID, Reason: "fake"})
		wantCode(t, err, fault.RateLimited)
		if _, err := w.rv.Report(w.ctx, nil, "198.51.100.9", ReportInput{ListingID: live[2].ID, Reason: "fake"}); err != nil {
			t.Fatalf("another address is limited too: %v", err)
		}
	})
}
