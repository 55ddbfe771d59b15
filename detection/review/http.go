package review

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"

	"marketplace/catalog"
	"marketplace/internal/audit"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/web"
	"marketplace/licensing"
)

//go:embed templates/review_*.html
var reviewTemplates embed.FS

//go:embed static/review.js static/review.css
var reviewFiles embed.FS

// reviewStatic is the review's script and style sheet, at the root.
var reviewStatic, _ = fs.Sub(reviewFiles, "static")

// reviewHandler serves the analysts' pages and API, fans' reports and sellers' answers and
// appeals.
type reviewHandler struct {
	rv  *Service
	srv *web.Server
}

// ReviewRoutes adds the review's pages and API to the server and makes the queue the analysts'
// home. Analyst routes are for analysts and admins; reports are for anyone; answers and
// appeals for the listing's seller.
func Routes(srv *web.Server, rv *Service) error {
	if err := srv.Pages.Add("review", reviewTemplates, "templates/review_*.html"); err != nil {
		return err
	}
	for key, t := range reportMessages {
		if err := srv.Pages.Messages.SetString(language.French, key, t[0]); err != nil {
			return err
		}
		if err := srv.Pages.Messages.SetString(language.SimplifiedChinese, key, t[1]); err != nil {
			return err
		}
	}
	h := &reviewHandler{rv: rv, srv: srv}
	e := srv.Echo
	analyst := web.RequireRole(web.RoleAnalyst, web.RoleAdmin)
	seller := web.RequireRole(web.RoleSeller, web.RoleLicensee)
	srv.SetHome(web.RoleAnalyst, "/analyst/cases")

	e.GET("/review", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/analyst/cases") }, analyst)
	e.GET("/analyst", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/analyst/cases") }, analyst)
	e.GET("/analyst/cases", h.queuePage, analyst)
	e.POST("/analyst/cases/bulk", h.bulkForm, analyst)
	e.GET("/analyst/cases/:id", h.casePage, analyst)
	e.POST("/analyst/cases/:id/claim", h.claimForm, analyst)
	e.POST("/analyst/cases/:id/release", h.releaseForm, analyst)
	e.POST("/analyst/cases/:id/decision", h.decisionForm, analyst)
	e.GET("/analyst/metrics", h.metricsPage, analyst)
	e.GET("/analyst/metrics.csv", h.metricsCSV, analyst)
	srv.Static("/analyst/static", reviewStatic)
	e.GET("/report", h.reportPage)
	e.POST("/reports", h.reportForm)
	e.GET("/seller/cases", h.sellerPage, seller)
	e.POST("/seller/cases/:id/answer", h.answerForm, seller)
	e.POST("/seller/decisions/:id/appeal", h.appealForm, seller)

	api := e.Group("/api/v1")
	api.GET("/cases", h.apiCases, analyst)
	api.POST("/cases/decisions", h.apiBulk, analyst)
	api.GET("/cases/:id", h.apiCase, analyst)
	api.POST("/cases/:id/claim", h.apiClaim, analyst)
	api.POST("/cases/:id/release", h.apiRelease, analyst)
	api.POST("/cases/:id/decision", h.apiDecide, analyst, srv.Idempotent())
	api.GET("/review/metrics", h.apiMetrics, analyst)
	api.POST("/reports", h.apiReport)
	api.GET("/seller/cases", h.apiSellerCases, seller)
	api.POST("/cases/:id/answer", h.apiAnswer, seller)
	api.POST("/decisions/:id/appeal", h.apiAppeal, seller)
	return nil
}

// reportMessages are the fans' report page in French and Chinese (the analysts' pages are in
// English).
var reportMessages = map[string][2]string{
	"Report a suspected fake": {"Signaler une contrefaçon présumée", "举报疑似假货"},
	"Listing":                 {"Annonce", "商品"},
	"Tell us what makes you think it is not genuine. Our brand-protection analysts review every report; the seller is not told who reported it.": {
		"Dites-nous pourquoi vous pensez que ce n'est pas authentique. Nos analystes examinent chaque signalement ; le vendeur ne sait pas qui l'a envoyé.",
		"请告诉我们您认为它不是正品的原因。我们的品牌保护分析师会审核每一条举报；卖家不会知道举报人是谁。"},
	"What looks wrong?": {"Qu'est-ce qui ne va pas ?", "哪里看起来不对？"},
	"For example: the logo is misshapen, the price is far too low, the seller calls it a replica.": {
		"Par exemple : le logo est déformé, le prix est bien trop bas, le vendeur parle de réplique.",
		"例如：标志变形、价格过低、卖家称其为复刻品。"},
	"Send the report": {"Envoyer le signalement", "提交举报"},
}

// --- shared helpers ---

func idParam(c echo.Context, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "%s %q not found", what, c.Param("id"))
	}
	return id, nil
}

// formMessages is what a review form shows for err: the codes an analyst, a seller or a fan
// can fix on the form, from the one table (web.FormErrors).
func formMessages(err error) (map[string]string, int, bool) {
	return web.FormErrors(err, fault.Invalid, fault.Conflict, fault.Forbidden, fault.Unprocessable, fault.RateLimited)
}

// parseAge reads an age filter: "36h", "90m", "7d" or a number of days.
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && n >= 0 {
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fault.Validation("the filter is not valid", fault.Field("age", "%q is not an age such as 7d or 36h", s))
	}
	return d, nil
}

// QueueForm is the queue's filter as typed.
type QueueForm struct {
	Status, Property, Rule, Seller, Licensee, Age string
}

func (f QueueForm) filter() (CaseFilter, error) {
	var bad fault.Fields
	cf := CaseFilter{Status: CaseStatus(f.Status), Property: strings.TrimSpace(f.Property), Rule: strings.TrimSpace(f.Rule)}
	switch cf.Status {
	case "", CaseOpen, CaseWaiting, CaseClosed:
	default:
		bad.Add("status", "must be open, waiting or closed")
	}
	for _, p := range []struct {
		name, v string
		dst     *int64
	}{{"seller", f.Seller, &cf.SellerID}, {"licensee", f.Licensee, &cf.LicenseeID}} {
		if v := strings.TrimSpace(p.v); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				bad.Add(p.name, "must be a %s number", p.name)
			}
			*p.dst = n
		}
	}
	age, err := parseAge(f.Age)
	if err != nil {
		bad.Add("age", "%q is not an age such as 7d or 36h", f.Age)
	}
	cf.OlderThan = age
	return cf, bad.Err("the filter is not valid")
}

func queueForm(c echo.Context) QueueForm {
	return QueueForm{Status: c.QueryParam("status"), Property: c.QueryParam("property"), Rule: c.QueryParam("rule"),
		Seller: c.QueryParam("seller"), Licensee: c.QueryParam("licensee"), Age: c.QueryParam("age")}
}

// --- pages ---

// ReviewPage is the part of every review page with the helpers its templates use.
type Page struct {
	web.Page
	now time.Time
}

// Age says how long ago t was, shortly: "3 d", "5 h", "12 min".
func (p *Page) Age(t time.Time) string { return shortDuration(p.now.Sub(t)) }

// Dur formats a duration shortly.
func (p *Page) Dur(d time.Duration) string { return shortDuration(d) }

// Pct formats a share as a percentage, "–" when there is none.
func (p *Page) Pct(f float64) string {
	if math.IsNaN(f) {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

// Has reports whether list has s.
func (p *Page) Has(list []string, s string) bool { return slices.Contains(list, s) }

func shortDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 min"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	default:
		return fmt.Sprintf("%d d", int(d.Hours()/24))
	}
}

func (h *reviewHandler) page(title string) Page {
	return Page{Page: web.Page{Title: title}, now: h.rv.now()}
}

// QueuePage is the analysts' queue.
type QueuePage struct {
	Page
	Form       QueueForm
	Cases      []Case
	Mine       []Case
	Backlog    Backlog
	Properties []licensing.Property
	Rules      []string
	Decisions  []Decision
	Errors     map[string]string
	BulkNote   string
}

func (h *reviewHandler) renderQueue(c echo.Context, status int, p *QueuePage) error {
	ctx := c.Request().Context()
	f, err := p.Form.filter()
	if msgs, st, ok := formMessages(err); ok {
		p.Errors, status = msgs, st
		f = CaseFilter{}
	} else if err != nil {
		return err
	}
	if p.Cases, err = h.rv.Cases(ctx, f); err != nil {
		return err
	}
	if p.Mine, err = h.rv.Cases(ctx, CaseFilter{ClaimedBy: web.Caller(c).UserID}); err != nil {
		return err
	}
	if p.Backlog, err = h.rv.Backlog(ctx); err != nil {
		return err
	}
	if p.Properties, err = h.rv.catalog.Licensing().Properties(ctx); err != nil {
		return err
	}
	if p.Rules, err = h.rv.KnownRules(ctx); err != nil {
		return err
	}
	p.Decisions = Decisions
	return h.srv.Render(c, status, "review/review_queue", p)
}

func (h *reviewHandler) queuePage(c echo.Context) error {
	return h.renderQueue(c, http.StatusOK, &QueuePage{Page: h.page("Review queue"), Form: queueForm(c)})
}

func (h *reviewHandler) claimForm(c echo.Context) error {
	id, err := idParam(c, "case")
	if err != nil {
		return err
	}
	_, err = h.rv.Claim(c.Request().Context(), web.Caller(c), id)
	if e, ok := fault.As(err); ok && (e.Code == fault.Conflict || e.Code == fault.Forbidden) {
		web.Flash(c, e.Message)
		return c.Redirect(http.StatusSeeOther, "/analyst/cases")
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/analyst/cases/"+reviewID(id))
}

func (h *reviewHandler) releaseForm(c echo.Context) error {
	id, err := idParam(c, "case")
	if err != nil {
		return err
	}
	if err := h.rv.Release(c.Request().Context(), web.Caller(c), id); err != nil {
		if e, ok := fault.As(err); ok && e.Code == fault.Conflict {
			web.Flash(c, e.Message)
			return c.Redirect(http.StatusSeeOther, "/analyst/cases/"+reviewID(id))
		}
		return err
	}
	web.Flash(c, "Case "+reviewID(id)+" is back in the queue.")
	return c.Redirect(http.StatusSeeOther, "/analyst/cases")
}

func (h *reviewHandler) bulkForm(c echo.Context) error {
	params, err := c.FormParams()
	if err != nil {
		return fault.Wrap(fault.Invalid, err, "the form could not be read")
	}
	var ids []int64
	var bad fault.Fields
	for i, v := range params["case_id"] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			bad.Add(fmt.Sprintf("case_ids[%d]", i), "%q is not a case number", v)
		}
		ids = append(ids, n)
	}
	in := DecisionInput{Decision: Decision(c.FormValue("decision")), Note: c.FormValue("note")}
	err = bad.Err("the bulk decision is not valid")
	var ds []DecisionRecord
	if err == nil {
		ds, err = h.rv.DecideMany(c.Request().Context(), web.Caller(c), ids, in)
	}
	if msgs, status, ok := formMessages(err); ok {
		return h.renderQueue(c, status, &QueuePage{Page: h.page("Review queue"), Errors: msgs, BulkNote: in.Note})
	} else if err != nil {
		return err
	}
	web.Flash(c, fmt.Sprintf("%d cases decided %s.", len(ds), in.Decision))
	return c.Redirect(http.StatusSeeOther, "/analyst/cases")
}

// PhotoPair is one of the listing's photos with the reference pictures it matched.
type PhotoPair struct {
	ImageID int64
	Matches []CaseMatch
}

// CoverageRow is the registry's answer for one territory the listing ships to.
type CoverageRow struct {
	Country string
	Answer  licensing.CoverageAnswer
	Error   string
}

// PriceCheck is the listing's price against the official product's.
type PriceCheck struct {
	ProductID int64
	Title     string
	Official  money.Money
	Ratio     float64 // listing ÷ official
	Missing   string  // why there is no official price to compare with
}

// CasePage is one case with its evidence side by side.
type CasePage struct {
	Page
	Case      Case
	Listing   catalog.Listing
	Seller    catalog.Seller
	SellerAge time.Duration
	Others    []catalog.Listing
	Linked    []catalog.LinkedSeller
	Sharing   []catalog.Listing
	Photos    []PhotoPair
	Unpaired  []CaseMatch
	Coverage  []CoverageRow
	Price     *PriceCheck
	History   []DecisionRecord
	Reports   []FanReport
	Appeal    string
	Audit     []audit.Entry
	Decisions []Decision
	MayClaim  bool
	MayDecide bool
	Form      DecisionInput
	Errors    map[string]string
}

func (h *reviewHandler) renderCase(c echo.Context, status int, id int64, p *CasePage) error {
	ctx := c.Request().Context()
	var err error
	if p.Case, err = h.rv.Case(ctx, id); err != nil {
		return err
	}
	if err := h.rv.fillCasePage(ctx, p); err != nil {
		return err
	}
	me := web.Caller(c).UserID
	p.MayClaim = p.Case.Status != CaseClosed && p.Case.ClaimedBy == 0 && p.Case.Excluded != me
	p.MayDecide = p.Case.Status != CaseClosed && p.Case.ClaimedBy == me
	p.Decisions = Decisions
	p.Title = fmt.Sprintf("Case %d: %s", p.Case.ID, p.Listing.Title)
	return h.srv.Render(c, status, "review/review_case", p)
}

// fillCasePage gathers the evidence of a case: photos beside their matches, the seller and
// its links, the coverage answers, the price against the official one, and the history.
func (r *Service) fillCasePage(ctx context.Context, p *CasePage) error {
	c := p.Case
	var err error
	if p.Listing, err = r.catalog.Listing(ctx, c.ListingID); err != nil {
		return err
	}
	if p.Seller, err = r.catalog.Seller(ctx, c.SellerID); err != nil {
		return err
	}
	p.SellerAge = r.now().Sub(p.Seller.CreatedAt)
	others, err := r.catalog.Listings(ctx, catalog.ListingFilter{SellerID: p.Seller.ID, Limit: 50})
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID != p.Listing.ID {
			p.Others = append(p.Others, o)
		}
	}
	if p.Linked, err = r.catalog.LinkedSellers(ctx, p.Seller.ID); err != nil {
		return err
	}
	if p.Sharing, err = r.catalog.ListingsSharingImages(ctx, p.Listing.ID); err != nil {
		return err
	}
	paired := map[int]bool{}
	for _, img := range p.Listing.Images {
		pair := PhotoPair{ImageID: img.ID}
		for i, m := range c.Evidence.Matches {
			if m.ImageID == img.ID {
				pair.Matches = append(pair.Matches, m)
				paired[i] = true
			}
		}
		p.Photos = append(p.Photos, pair)
	}
	for i, m := range c.Evidence.Matches {
		if !paired[i] {
			p.Unpaired = append(p.Unpaired, m)
		}
	}
	p.Coverage = r.coverage(ctx, p.Listing, p.Seller)
	p.Price = r.priceCheck(ctx, p.Listing, c.Evidence)
	if p.History, err = r.DecisionsOfListing(ctx, p.Listing.ID); err != nil {
		return err
	}
	if p.Reports, err = r.ReportsOfListing(ctx, p.Listing.ID); err != nil {
		return err
	}
	if c.AppealOf != 0 {
		if p.Appeal, _, _, err = r.AppealOf(ctx, c.AppealOf); err != nil {
			return err
		}
	}
	p.Audit, err = audit.List(ctx, r.db, audit.Filter{Entity: "case", EntityID: reviewID(c.ID), Limit: 50})
	return err
}

// coverage asks the registry, for each territory the listing ships to, whether its seller may
// sell its property and category there (WORLD is asked for the country it ships from).
func (r *Service) coverage(ctx context.Context, l catalog.Listing, s catalog.Seller) []CoverageRow {
	if l.Property == "" || l.Category == "" {
		return []CoverageRow{{Error: "The listing claims no property and category, so there is no licence to check."}}
	}
	var rows []CoverageRow
	for _, t := range l.Territories {
		country := t
		if t == "WORLD" {
			country = l.ShipsFrom
		}
		a, err := r.catalog.Licensing().Coverage(ctx, licensing.CoverageQuery{SellerID: s.ID, LicenseeID: s.LicenseeID,
			Property: l.Property, Category: l.Category, Country: country, On: r.now()})
		row := CoverageRow{Country: t, Answer: a}
		if err != nil {
			row.Error = err.Error()
		}
		rows = append(rows, row)
		if len(rows) == 12 {
			break
		}
	}
	return rows
}

// priceCheck compares the listing's price with its claimed product's, or the product of the
// official picture its photos match, in the listing's currency.
func (r *Service) priceCheck(ctx context.Context, l catalog.Listing, ev CaseEvidence) *PriceCheck {
	productID := l.ProductID
	if productID == 0 {
		for _, m := range ev.Matches {
			if m.ProductID != 0 {
				productID = m.ProductID
				break
			}
		}
	}
	if productID == 0 {
		return nil
	}
	pc := &PriceCheck{ProductID: productID}
	p, err := r.catalog.Product(ctx, productID)
	if err != nil {
		pc.Missing = "The official product could not be read: " + err.Error()
		return pc
	}
	pc.Title = p.Text("en").Title
	var best int64
	for _, v := range p.Variants {
		if m, ok := v.Price(l.Price.Currency); ok && (best == 0 || m.Amount < best) {
			best = m.Amount
		}
	}
	if best == 0 {
		pc.Missing = "The official product has no price in " + l.Price.Currency + "."
		return pc
	}
	pc.Official = money.New(best, l.Price.Currency)
	pc.Ratio = float64(l.Price.Amount) / float64(best)
	return pc
}

func (h *reviewHandler) casePage(c echo.Context) error {
	id, err := idParam(c, "case")
	if err != nil {
		return err
	}
	return h.renderCase(c, http.StatusOK, id, &CasePage{Page: h.page("Case")})
}

func (h *reviewHandler) decisionForm(c echo.Context) error {
	id, err := idParam(c, "case")
	if err != nil {
		return err
	}
	in := DecisionInput{Decision: Decision(c.FormValue("decision")), Note: c.FormValue("note")}
	d, err := h.rv.Decide(c.Request().Context(), web.Caller(c), id, in)
	if msgs, status, ok := formMessages(err); ok {
		return h.renderCase(c, status, id, &CasePage{Page: h.page("Case"), Form: in, Errors: msgs})
	} else if err != nil {
		return err
	}
	web.Flash(c, fmt.Sprintf("Case %d decided: %s.", id, d.Decision))
	if next := h.nextCase(c.Request().Context(), web.Caller(c)); next != 0 {
		return c.Redirect(http.StatusSeeOther, "/analyst/cases/"+reviewID(next))
	}
	return c.Redirect(http.StatusSeeOther, "/analyst/cases")
}

// nextCase is the analyst's next claimed open case, so decisions follow one another.
func (h *reviewHandler) nextCase(ctx context.Context, analyst *web.Identity) int64 {
	cs, err := h.rv.Cases(ctx, CaseFilter{ClaimedBy: analyst.UserID, Limit: 1})
	if err != nil || len(cs) == 0 {
		return 0
	}
	return cs[0].ID
}

// MetricsPage is the brand-protection lead's view.
type MetricsPage struct {
	Page
	M       Metrics
	Chart   BarChart
	Days    int
	Windows []int
}

func metricsDays(c echo.Context) (int, error) {
	s := c.QueryParam("days")
	if s == "" {
		return 30, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 3650 {
		return 0, fault.Validation("the window is not valid", fault.Field("days", "must be a number of days from 1 to 3650"))
	}
	return n, nil
}

func (h *reviewHandler) metricsPage(c echo.Context) error {
	days, err := metricsDays(c)
	if err != nil {
		return err
	}
	m, err := h.rv.Metrics(c.Request().Context(), days)
	if err != nil {
		return err
	}
	windows := []int{7, 30, 90, 365}
	if !slices.Contains(windows, days) {
		windows = append(windows, days)
		slices.Sort(windows)
	}
	return h.srv.Render(c, http.StatusOK, "review/review_metrics", &MetricsPage{Page: h.page("Review metrics"), M: m,
		Chart: m.RuleChart(), Days: days, Windows: windows})
}

func (h *reviewHandler) metricsCSV(c echo.Context) error {
	days, err := metricsDays(c)
	if err != nil {
		return err
	}
	m, err := h.rv.Metrics(c.Request().Context(), days)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := m.WriteCSV(&buf); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="review-metrics-%dd-%s.csv"`, days, h.rv.now().UTC().Format("2006-01-02")))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// ReportFormPage is the "report a suspected fake" form.
type ReportFormPage struct {
	Page
	Listing catalog.Listing
	Reason  string
	Errors  map[string]string
}

func (h *reviewHandler) reportListing(ctx context.Context, raw string) (catalog.Listing, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id <= 0 {
		return catalog.Listing{}, fault.Validation("the report is not valid", fault.Field("listing_id", "name the listing you are reporting"))
	}
	l, err := h.rv.catalog.Listing(ctx, id)
	if err != nil {
		return catalog.Listing{}, err
	}
	if l.Status == catalog.StatusPending {
		return catalog.Listing{}, fault.New(fault.NotFound, "listing %d not found", id)
	}
	return l, nil
}

func (h *reviewHandler) reportPage(c echo.Context) error {
	l, err := h.reportListing(c.Request().Context(), c.QueryParam("listing_id"))
	if err != nil {
		return err
	}
	return h.srv.Render(c, http.StatusOK, "review/review_report", &ReportFormPage{Page: h.page("Report a suspected fake"), Listing: l})
}

func (h *reviewHandler) reportForm(c echo.Context) error {
	ctx := c.Request().Context()
	l, err := h.reportListing(ctx, c.FormValue("listing_id"))
	if err != nil {
		return err
	}
	reason := c.FormValue("reason")
	_, err = h.rv.Report(ctx, web.Caller(c), web.ClientIP(c), ReportInput{ListingID: l.ID, Reason: reason})
	if e, ok := fault.As(err); ok && e.Code == fault.Conflict {
		web.Flash(c, "You have already reported this listing: thank you, analysts are on it.")
		return c.Redirect(http.StatusSeeOther, web.LocalPath(c.FormValue("next"), "/"))
	}
	if msgs, status, ok := formMessages(err); ok {
		return h.srv.Render(c, status, "review/review_report", &ReportFormPage{Page: h.page("Report a suspected fake"), Listing: l, Reason: reason, Errors: msgs})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Thank you: our brand-protection analysts will look at this listing.")
	return c.Redirect(http.StatusSeeOther, web.LocalPath(c.FormValue("next"), "/"))
}

// SellerCasesPage shows a seller its cases: questions to answer, decisions to appeal.
type SellerCasesPage struct {
	Page
	Cases     []Case
	Decisions []DecisionRecord
	Errors    map[string]string
	ErrorFor  string // "case-ID" or "decision-ID": the form the errors belong to
}

func (h *reviewHandler) renderSeller(c echo.Context, status int, p *SellerCasesPage) error {
	sellerID, err := sellerOf(web.Caller(c))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if p.Cases, err = h.rv.CasesOfSeller(ctx, sellerID); err != nil {
		return err
	}
	if p.Decisions, err = h.rv.DecisionsOfSeller(ctx, sellerID); err != nil {
		return err
	}
	return h.srv.Render(c, status, "review/review_seller", p)
}

func (h *reviewHandler) sellerPage(c echo.Context) error {
	return h.renderSeller(c, http.StatusOK, &SellerCasesPage{Page: h.page("Questions and decisions about your listings")})
}

func (h *reviewHandler) answerForm(c echo.Context) error {
	id, err := idParam(c, "case")
	if err != nil {
		return err
	}
	_, err = h.rv.Answer(c.Request().Context(), web.Caller(c), id, c.FormValue("answer"))
	if msgs, status, ok := formMessages(err); ok {
		return h.renderSeller(c, status, &SellerCasesPage{Page: h.page("Questions and decisions about your listings"), Errors: msgs, ErrorFor: "case-" + reviewID(id)})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Your answer is sent to the analyst.")
	return c.Redirect(http.StatusSeeOther, "/seller/cases")
}

func (h *reviewHandler) appealForm(c echo.Context) error {
	id, err := idParam(c, "decision")
	if err != nil {
		return err
	}
	_, err = h.rv.Appeal(c.Request().Context(), web.Caller(c), id, c.FormValue("note"))
	if msgs, status, ok := formMessages(err); ok {
		return h.renderSeller(c, status, &SellerCasesPage{Page: h.page("Questions and decisions about your listings"), Errors: msgs, ErrorFor: "decision-" + reviewID(id)})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Your appeal is filed: another analyst will review the decision.")
	return c.Redirect(http.StatusSeeOther, "/seller/cases")
}

// --- API ---

// CasesJSON is the answer of GET /api/v1/cases.
type CasesJSON struct {
	Backlog BacklogJSON `json:"backlog"`
	Cases   []Case      `json:"cases"`
}

// BacklogJSON is the backlog in the API, ages in seconds.
type BacklogJSON struct {
	Open          int   `json:"open"`
	Waiting       int   `json:"waiting"`
	Unclaimed     int   `json:"unclaimed"`
	OldestSeconds int64 `json:"oldest_age_seconds"`
	MedianSeconds int64 `json:"median_age_seconds"`
}

func (h *reviewHandler) apiCases(c echo.Context) error {
	for name := range c.QueryParams() {
		switch name {
		case "status", "property", "rule", "seller", "licensee", "age", "limit":
		default:
			return fault.Validation("the filter is not valid", fault.Field(name, "is not a filter: use status, property, rule, seller, licensee, age, limit"))
		}
	}
	f, err := queueForm(c).filter()
	if err != nil {
		return err
	}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			return fault.Validation("the filter is not valid", fault.Field("limit", "must be from 1 to 500"))
		}
		f.Limit = n
	}
	ctx := c.Request().Context()
	cs, err := h.rv.Cases(ctx, f)
	if err != nil {
		return err
	}
	b, err := h.rv.Backlog(ctx)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []Case{}
	}
	return c.JSON(http.StatusOK, CasesJSON{Cases: cs, Backlog: BacklogJSON{Open: b.Open, Waiting: b.Waiting, Unclaimed: b.Unclaimed,
		OldestSeconds: int64(b.Oldest.Seconds()), MedianSeconds: int64(b.Median.Seconds())}})
}

// CaseJSON is one case with its decisions.
type CaseJSON struct {
	Case
	Decisions []DecisionRecord `json:"decisions"`
}

func (h *reviewHandler) apiCase(c echo.Context) error {
	id, err := idParam(c, "case")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cs, err := h.rv.Case(ctx, id)
	if err != nil {
		return err
	}
	ds, err := h.rv.DecisionsOfCase(ctx, id)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []DecisionRecord{}
	}
	return c.JSON(http.StatusOK, CaseJSON{Case: cs, Decisions: ds})
}

func (h *reviewHandler) apiClaim(c echo.Context) error {
	id, err := idParam(c, "case")
	if err != nil {
		return err
	}
	cs, err := h.rv.Claim(c.Request().Context(), web.Caller(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cs)
}

func (h *reviewHandler) apiRelease(c echo.Context) error {
	id, err := idParam(c, "case")
	if err != nil {
		return err
	}
	if err := h.rv.Release(c.Request().Context(), web.Caller(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *reviewHandler) apiDecide(c echo.Context) error {
	id, err := idParam(c, "case")
	if err != nil {
		return err
	}
	var in DecisionInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	d, err := h.rv.Decide(c.Request().Context(), web.Caller(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

// BulkRequest is the body of POST /api/v1/cases/decisions.
type BulkRequest struct {
	CaseIDs  []int64  `json:"case_ids"`
	Decision Decision `json:"decision"`
	Note     string   `json:"note"`
}

func (h *reviewHandler) apiBulk(c echo.Context) error {
	var r BulkRequest
	if err := web.DecodeJSON(c, &r); err != nil {
		return err
	}
	ds, err := h.rv.DecideMany(c.Request().Context(), web.Caller(c), r.CaseIDs, DecisionInput{Decision: r.Decision, Note: r.Note})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, ds)
}

// MetricsJSON is the metrics in the API: durations in seconds, precision and shares as
// fractions (null while nothing is decided).
type MetricsJSON struct {
	Metrics
	MedianSeconds int64              `json:"median_seconds_flag_to_decision"`
	Backlog       BacklogJSON        `json:"backlog"`
	Rules         []RuleMetricJSON   `json:"rules"`
	Properties    []PropertyMetricJS `json:"properties"`
}

// RuleMetricJSON is a rule's figures with its precision.
type RuleMetricJSON struct {
	RuleMetric
	Precision *float64 `json:"precision"`
}

// PropertyMetricJS is a property's figures with its counterfeit share.
type PropertyMetricJS struct {
	PropertyMetric
	Share *float64 `json:"share"`
}

func nanNull(f float64) *float64 {
	if math.IsNaN(f) {
		return nil
	}
	return &f
}

func (h *reviewHandler) apiMetrics(c echo.Context) error {
	days, err := metricsDays(c)
	if err != nil {
		return err
	}
	m, err := h.rv.Metrics(c.Request().Context(), days)
	if err != nil {
		return err
	}
	out := MetricsJSON{Metrics: m, MedianSeconds: int64(m.MedianWait.Seconds()), Rules: []RuleMetricJSON{}, Properties: []PropertyMetricJS{},
		Backlog: BacklogJSON{Open: m.Backlog.Open, Waiting: m.Backlog.Waiting, Unclaimed: m.Backlog.Unclaimed,
			OldestSeconds: int64(m.Backlog.Oldest.Seconds()), MedianSeconds: int64(m.Backlog.Median.Seconds())}}
	for _, r := range m.Rules {
		out.Rules = append(out.Rules, RuleMetricJSON{RuleMetric: r, Precision: nanNull(r.Precision)})
	}
	for _, p := range m.Properties {
		out.Properties = append(out.Properties, PropertyMetricJS{PropertyMetric: p, Share: nanNull(p.Share)})
	}
	return c.JSON(http.StatusOK, out)
}

func (h *reviewHandler) apiReport(c echo.Context) error {
	var in ReportInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	res, err := h.rv.Report(c.Request().Context(), web.Caller(c), web.ClientIP(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, res)
}

// SellerCasesJSON is the answer of GET /api/v1/seller/cases.
type SellerCasesJSON struct {
	Cases     []Case           `json:"cases"`
	Decisions []DecisionRecord `json:"decisions"`
}

func (h *reviewHandler) apiSellerCases(c echo.Context) error {
	sellerID, err := sellerOf(web.Caller(c))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	out := SellerCasesJSON{}
	if out.Cases, err = h.rv.CasesOfSeller(ctx, sellerID); err != nil {
		return err
	}
	if out.Decisions, err = h.rv.DecisionsOfSeller(ctx, sellerID); err != nil {
		return err
	}
	// A seller sees the decision and its note, not the analysts' evidence snapshot.
	for i := range out.Cases {
		out.Cases[i].Evidence = CaseEvidence{Reasons: out.Cases[i].Evidence.Reasons, Matches: []CaseMatch{}}
		out.Cases[i].ClaimedBy, out.Cases[i].ClaimedEmail, out.Cases[i].ClaimedAt = 0, "", nil
	}
	for i := range out.Decisions {
		out.Decisions[i].Evidence, out.Decisions[i].AnalystID, out.Decisions[i].AnalystEmail = nil, 0, ""
	}
	return c.JSON(http.StatusOK, out)
}

// AnswerRequest is the body of POST /api/v1/cases/{id}/answer.
type AnswerRequest struct {
	Answer string `json:"answer"`
}

func (h *reviewHandler) apiAnswer(c echo.Context) error {
	id, err := idParam(c, "case")
	if err != nil {
		return err
	}
	var r AnswerRequest
	if err := web.DecodeJSON(c, &r); err != nil {
		return err
	}
	cs, err := h.rv.Answer(c.Request().Context(), web.Caller(c), id, r.Answer)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"case_id": cs.ID, "status": cs.Status})
}

// AppealRequest is the body of POST /api/v1/decisions/{id}/appeal.
type AppealRequest struct {
	Note string `json:"note"`
}

func (h *reviewHandler) apiAppeal(c echo.Context) error {
	id, err := idParam(c, "decision")
	if err != nil {
		return err
	}
	var r AppealRequest
	if err := web.DecodeJSON(c, &r); err != nil {
		return err
	}
	cs, err := h.rv.Appeal(c.Request().Context(), web.Caller(c), id, r.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"case_id": cs.ID, "status": cs.Status, "appeal_of": cs.AppealOf})
}

// ReportLink is the path of the "report a suspected fake" page for a listing, for the
// storefront's listing pages.
func ReportLink(listingID int64) string {
	return "/report?" + url.Values{"listing_id": {reviewID(listingID)}}.Encode()
}
