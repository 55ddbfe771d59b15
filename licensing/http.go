package licensing

import (
	"embed"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"marketplace/internal/audit"
	"marketplace/internal/fault"
	"marketplace/internal/textlist"
	"marketplace/internal/web"
)

//go:embed templates/*.html templates/partials.tmpl
var templates embed.FS

// Handler serves the registry's admin pages, its API and the public verification.
type Handler struct {
	svc *Service
	srv *web.Server
}

// Routes adds the registry's pages and API to the server and makes /admin the admins' home.
// Writes are for admins; reads for admins, analysts and (their own licensee only) licensee
// users; verification is public.
func Routes(srv *web.Server, svc *Service) error {
	if err := srv.Pages.AddPartials(templates, "templates/partials.tmpl"); err != nil {
		return err
	}
	if err := srv.Pages.Add("licensing", templates, "templates/*.html"); err != nil {
		return err
	}
	if err := addAdminMessages(srv); err != nil {
		return err
	}
	h := &Handler{svc: svc, srv: srv}
	e := srv.Echo
	admin := web.RequireRole(web.RoleAdmin)
	reader := web.RequireRole(web.RoleAdmin, web.RoleAnalyst, web.RoleLicensee)
	srv.SetHome(web.RoleAdmin, "/admin")

	e.GET("/admin", h.adminHome, admin)
	e.GET("/admin/licensees", h.licenseesPage, admin)
	e.GET("/admin/licensees/new", h.newLicenseePage, admin)
	e.POST("/admin/licensees", h.createLicenseeForm, admin)
	e.GET("/admin/licensees/:id", h.licenseePage, admin)
	e.GET("/admin/licensees/:id/edit", h.editLicenseePage, admin)
	e.POST("/admin/licensees/:id", h.updateLicenseeForm, admin)
	e.GET("/admin/licensees/:id/licences/new", h.newLicencePage, admin)
	e.POST("/admin/licensees/:id/licences", h.createLicenceForm, admin)
	e.POST("/admin/licensees/:id/resellers", h.authoriseForm, admin)
	e.POST("/admin/licensees/:id/resellers/:seller/revoke", h.revokeForm, admin)
	e.POST("/admin/licensees/:id/serials", h.serialsForm, admin)
	e.GET("/admin/licences", h.licencesPage, admin)
	e.GET("/admin/licences/:number", h.licencePage, admin)
	e.GET("/admin/licences/:number/edit", h.editLicencePage, admin)
	e.POST("/admin/licences/:number", h.updateLicenceForm, admin)
	e.POST("/admin/licences/:number/status", h.statusForm, admin)
	e.GET("/admin/audit", h.auditPage, admin)
	e.GET("/verify", h.verifyPage)

	api := e.Group("/api/v1")
	h.propertyRoutes(e, api, admin)
	api.GET("/categories", h.apiCategories)
	api.GET("/licensees", h.apiLicensees, reader)
	api.POST("/licensees", h.apiCreateLicensee, admin)
	api.GET("/licensees/:id", h.apiLicensee, reader)
	api.PATCH("/licensees/:id", h.apiUpdateLicensee, admin)
	api.GET("/licensees/:id/licences", h.apiLicencesOf, reader)
	api.POST("/licensees/:id/licences", h.apiCreateLicence, admin, srv.Idempotent())
	api.GET("/licences/:number", h.apiLicence, reader)
	api.PATCH("/licences/:number", h.apiPatchLicence, admin)
	api.GET("/licensees/:id/resellers", h.apiResellers, reader)
	api.POST("/licensees/:id/resellers", h.apiAuthorise, admin)
	api.DELETE("/licensees/:id/resellers/:seller", h.apiRevoke, admin)
	api.GET("/licensees/:id/serials", h.apiSerials, reader)
	api.POST("/licensees/:id/serials", h.apiRegisterSerials, admin)
	api.GET("/coverage", h.apiCoverage, web.RequireRole(web.RoleAdmin, web.RoleAnalyst))
	api.GET("/audit", h.apiAudit, admin)
	api.GET("/verify/licences/:number", h.apiVerifyLicence)
	api.GET("/verify/serials/:serial", h.apiVerifySerial)
	return nil
}

// shown sets the status of freshly read licences to the one pages show today (expired once the
// term has ended), for the lists of the admin pages.
func (h *Handler) shown(ls []Licence) {
	now := h.svc.now()
	for i := range ls {
		ls[i].Status = ls[i].StatusOn(now)
	}
}

// --- access ---

// mayRead checks that the caller may see licensee id's data. A licensee user asking about
// another licensee gets the same 404 as for a licensee that does not exist, so ids cannot be
// probed.
func mayRead(c echo.Context, id int64) error {
	caller := web.Caller(c)
	if caller.Role == web.RoleLicensee && caller.LicenseeID != id {
		return fault.New(fault.NotFound, "licensee %d not found", id)
	}
	return nil
}

func licenseeParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "licensee %q not found", c.Param("id"))
	}
	return id, nil
}

// readableLicensee parses the :id parameter and checks the caller may read it.
func (h *Handler) readableLicensee(c echo.Context) (Licensee, error) {
	id, err := licenseeParam(c)
	if err != nil {
		return Licensee{}, err
	}
	if err := mayRead(c, id); err != nil {
		return Licensee{}, err
	}
	return h.svc.Licensee(c.Request().Context(), id)
}

// --- JSON shapes ---

// LicenceJSON is a licence in the API.
type LicenceJSON struct {
	ID              int64      `json:"id"`
	Number          string     `json:"number"`
	LicenseeID      int64      `json:"licensee_id"`
	LicenseeName    string     `json:"licensee"`
	Property        string     `json:"property"`
	Categories      []string   `json:"categories"`
	Territories     []string   `json:"territories"`
	ValidFrom       string     `json:"valid_from"`
	ValidTo         string     `json:"valid_to"`
	RoyaltyBPS      int        `json:"royalty_bps"`
	Status          Status     `json:"status"`
	StatusReason    string     `json:"status_reason,omitempty"`
	StatusChangedAt *time.Time `json:"status_changed_at,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// licenceJSON is l as the API shows it on the day now: an active licence whose term has ended
// is "expired".
func licenceJSON(l Licence, now time.Time) LicenceJSON {
	return LicenceJSON{ID: l.ID, Number: l.Number, LicenseeID: l.LicenseeID, LicenseeName: l.LicenseeName, Property: l.Property,
		Categories: l.Categories, Territories: l.Territories, ValidFrom: l.ValidFrom.Format(time.DateOnly),
		ValidTo: l.ValidTo.Format(time.DateOnly), RoyaltyBPS: l.RoyaltyBPS, Status: l.StatusOn(now), StatusReason: l.StatusReason,
		StatusChangedAt: l.StatusChangedAt, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

func licencesJSON(ls []Licence, now time.Time) []LicenceJSON {
	out := make([]LicenceJSON, len(ls))
	for i, l := range ls {
		out[i] = licenceJSON(l, now)
	}
	return out
}

// LicenceRequest is the body of POST /licensees/{id}/licences and of PATCH /licences/{number}
// (where every field is optional and status, with reason, changes the status instead).
type LicenceRequest struct {
	Number      string   `json:"number"`
	Property    *string  `json:"property"`
	Categories  []string `json:"categories"`
	Territories []string `json:"territories"`
	ValidFrom   *string  `json:"valid_from"`
	ValidTo     *string  `json:"valid_to"`
	RoyaltyBPS  *int     `json:"royalty_bps"`
	Status      *Status  `json:"status"`
	Reason      string   `json:"reason"`
}

// input turns the request into a LicenceInput over base (the licence being edited, or the
// zero value), naming every unreadable field.
func (r LicenceRequest) input(base LicenceInput, requireAll bool) (LicenceInput, error) {
	var bad fault.Fields
	in := base
	in.Number = r.Number
	if r.Property != nil {
		in.Property = *r.Property
	}
	if r.Categories != nil {
		in.Categories = r.Categories
	}
	if r.Territories != nil {
		in.Territories = r.Territories
	}
	parse := func(field string, s *string, dst *time.Time) {
		if s == nil {
			if requireAll {
				bad.Add(field, "is required (a date such as 2026-01-31)")
			}
			return
		}
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(*s))
		if err != nil {
			bad.Add(field, "%q is not a date such as 2026-01-31", *s)
			return
		}
		*dst = t
	}
	parse("valid_from", r.ValidFrom, &in.ValidFrom)
	parse("valid_to", r.ValidTo, &in.ValidTo)
	if r.RoyaltyBPS != nil {
		in.RoyaltyBPS = *r.RoyaltyBPS
	} else if requireAll {
		bad.Add("royalty_bps", "is required: basis points from 0 to 10000")
	}
	return in, bad.Err("the licence is not valid")
}

// --- API handlers ---

// CategoryJSON is one entry of GET /api/v1/categories.
type CategoryJSON struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

func (h *Handler) apiCategories(c echo.Context) error {
	out := make([]CategoryJSON, len(Categories))
	for i, cat := range Categories {
		out[i] = CategoryJSON(cat)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) apiLicensees(c echo.Context) error {
	caller := web.Caller(c)
	if caller.Role == web.RoleLicensee {
		l, err := h.svc.Licensee(c.Request().Context(), caller.LicenseeID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, []Licensee{l})
	}
	ls, err := h.svc.Licensees(c.Request().Context(), LicenseeFilter{Query: c.QueryParam("q")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ls)
}

func (h *Handler) apiCreateLicensee(c echo.Context) error {
	var in LicenseeInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	l, err := h.svc.CreateLicensee(c.Request().Context(), web.Caller(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, l)
}

func (h *Handler) apiLicensee(c echo.Context) error {
	l, err := h.readableLicensee(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

// LicenseePatch is the body of PATCH /licensees/{id}: the fields to change.
type LicenseePatch struct {
	Name         *string `json:"name"`
	Country      *string `json:"country"`
	ContactEmail *string `json:"contact_email"`
}

func (h *Handler) apiUpdateLicensee(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	var p LicenseePatch
	if err := web.DecodeJSON(c, &p); err != nil {
		return err
	}
	cur, err := h.svc.Licensee(c.Request().Context(), id)
	if err != nil {
		return err
	}
	in := LicenseeInput{Name: cur.Name, Country: cur.Country, ContactEmail: cur.ContactEmail}
	for dst, src := range map[*string]*string{&in.Name: p.Name, &in.Country: p.Country, &in.ContactEmail: p.ContactEmail} {
		if src != nil {
			*dst = *src
		}
	}
	l, err := h.svc.UpdateLicensee(c.Request().Context(), web.Caller(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (h *Handler) apiLicencesOf(c echo.Context) error {
	l, err := h.readableLicensee(c)
	if err != nil {
		return err
	}
	ls, err := h.svc.LicencesOf(c.Request().Context(), l.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, licencesJSON(ls, h.svc.now()))
}

func (h *Handler) apiCreateLicence(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	var r LicenceRequest
	if err := web.DecodeJSON(c, &r); err != nil {
		return err
	}
	if r.Status != nil {
		return fault.Validation("the licence is not valid", fault.Field("status", "a new licence is active; change its status afterwards"))
	}
	in, err := r.input(LicenceInput{}, true)
	if err != nil {
		return h.svc.everyProblem(c.Request().Context(), in, true, err)
	}
	l, err := h.svc.CreateLicence(c.Request().Context(), web.Caller(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, licenceJSON(l, h.svc.now()))
}

// readableLicence finds the :number licence and checks the caller may read it.
func (h *Handler) readableLicence(c echo.Context) (Licence, error) {
	l, err := h.svc.LicenceByNumber(c.Request().Context(), c.Param("number"))
	if err != nil {
		return Licence{}, err
	}
	if err := mayRead(c, l.LicenseeID); err != nil {
		return Licence{}, fault.New(fault.NotFound, "licence %s not found", c.Param("number"))
	}
	return l, nil
}

func (h *Handler) apiLicence(c echo.Context) error {
	l, err := h.readableLicence(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, licenceJSON(l, h.svc.now()))
}

func (h *Handler) apiPatchLicence(c echo.Context) error {
	var r LicenceRequest
	if err := web.DecodeJSON(c, &r); err != nil {
		return err
	}
	ctx, actor := c.Request().Context(), web.Caller(c)
	terms := r.Property != nil || r.Categories != nil || r.Territories != nil || r.ValidFrom != nil || r.ValidTo != nil || r.RoyaltyBPS != nil
	switch {
	case r.Number != "":
		return fault.Validation("the licence is not valid", fault.Field("number", "a licence's number cannot change"))
	case r.Status != nil && terms:
		return fault.Validation("the licence is not valid", fault.Field("status", "change the status or the terms, not both in one request"))
	case r.Status != nil:
		l, err := h.svc.SetLicenceStatus(ctx, actor, c.Param("number"), *r.Status, r.Reason)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, licenceJSON(l, h.svc.now()))
	case !terms:
		return fault.Validation("the body changes nothing", fault.Field("status", "send a status, or the terms to change"))
	}
	cur, err := h.svc.LicenceByNumber(ctx, c.Param("number"))
	if err != nil {
		return err
	}
	in, err := r.input(inputOf(cur), false)
	if err != nil {
		return h.svc.everyProblem(ctx, in, false, err)
	}
	l, err := h.svc.UpdateLicence(ctx, actor, cur.Number, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, licenceJSON(l, h.svc.now()))
}

func inputOf(l Licence) LicenceInput {
	return LicenceInput{Number: l.Number, Property: l.Property, Categories: l.Categories, Territories: l.Territories,
		ValidFrom: l.ValidFrom, ValidTo: l.ValidTo, RoyaltyBPS: l.RoyaltyBPS}
}

func (h *Handler) apiResellers(c echo.Context) error {
	l, err := h.readableLicensee(c)
	if err != nil {
		return err
	}
	as, err := h.svc.Resellers(c.Request().Context(), l.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, as)
}

// ResellerRequest is the body of POST /licensees/{id}/resellers.
type ResellerRequest struct {
	SellerID    int64    `json:"seller_id"`
	Territories []string `json:"territories"`
}

func (h *Handler) apiAuthorise(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	var r ResellerRequest
	if err := web.DecodeJSON(c, &r); err != nil {
		return err
	}
	a, err := h.svc.AuthoriseReseller(c.Request().Context(), web.Caller(c), id, r.SellerID, r.Territories)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

func (h *Handler) apiRevoke(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	seller, err := strconv.ParseInt(c.Param("seller"), 10, 64)
	if err != nil {
		return fault.New(fault.NotFound, "authorisation not found")
	}
	a, err := h.svc.RevokeReseller(c.Request().Context(), web.Caller(c), id, seller, c.QueryParam("reason"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *Handler) apiSerials(c echo.Context) error {
	l, err := h.readableLicensee(c)
	if err != nil {
		return err
	}
	rs, err := h.svc.SerialRanges(c.Request().Context(), l.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rs)
}

func (h *Handler) apiRegisterSerials(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	var in SerialRangeInput
	if err := web.DecodeJSON(c, &in); err != nil {
		return err
	}
	r, err := h.svc.RegisterSerialRange(c.Request().Context(), web.Caller(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

// CoverageJSON is the answer of GET /api/v1/coverage.
type CoverageJSON struct {
	Allowed bool         `json:"allowed"`
	Reason  string       `json:"reason"`
	Detail  string       `json:"detail"`
	Licence *LicenceJSON `json:"licence,omitempty"`
}

func (h *Handler) apiCoverage(c echo.Context) error {
	var bad fault.Fields
	num := func(name string) int64 {
		s := c.QueryParam(name)
		if s == "" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			bad.Add(name, "must be a positive number")
		}
		return n
	}
	q := CoverageQuery{SellerID: num("seller_id"), LicenseeID: num("licensee_id"), Property: c.QueryParam("property"),
		Category: c.QueryParam("category"), Country: strings.ToUpper(c.QueryParam("country"))}
	if on := c.QueryParam("on"); on != "" {
		t, err := time.Parse(time.DateOnly, on)
		if err != nil {
			bad.Add("on", "must be a date such as 2026-01-31")
		}
		q.On = t
	}
	if err := bad.Err("the coverage question is not valid"); err != nil {
		return err
	}
	a, err := h.svc.Coverage(c.Request().Context(), q)
	if err != nil {
		return err
	}
	out := CoverageJSON{Allowed: a.Allowed, Reason: a.Reason, Detail: a.Detail}
	if a.Licence != nil {
		l := licenceJSON(*a.Licence, h.svc.now())
		out.Licence = &l
	}
	return c.JSON(http.StatusOK, out)
}

func (h *Handler) apiAudit(c echo.Context) error {
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	entries, err := h.svc.AuditLog(c.Request().Context(), c.QueryParam("entity"), c.QueryParam("entity_id"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, entries)
}

// VerifyLicenceJSON is the public answer about a licence.
type VerifyLicenceJSON struct {
	Number      string   `json:"number"`
	Valid       bool     `json:"valid"`
	Status      Status   `json:"status"`
	Licensee    string   `json:"licensee"`
	Property    string   `json:"property"`
	Categories  []string `json:"categories"`
	Territories []string `json:"territories"`
	ValidFrom   string   `json:"valid_from"`
	ValidTo     string   `json:"valid_to"`
	Reason      string   `json:"reason"`
}

func (h *Handler) apiVerifyLicence(c echo.Context) error {
	v, err := h.svc.VerifyLicence(c.Request().Context(), c.Param("number"))
	if err != nil {
		return err
	}
	l := v.Licence
	return c.JSON(http.StatusOK, VerifyLicenceJSON{Number: l.Number, Valid: v.Valid, Status: v.Status, Licensee: l.LicenseeName,
		Property: l.Property, Categories: l.Categories, Territories: l.Territories, ValidFrom: l.ValidFrom.Format(time.DateOnly),
		ValidTo: l.ValidTo.Format(time.DateOnly), Reason: v.Reason})
}

// VerifySerialJSON is the public answer about a hologram serial.
type VerifySerialJSON struct {
	Serial     string `json:"serial"`
	Result     string `json:"result"`
	Product    string `json:"product,omitempty"`
	Licensee   string `json:"licensee,omitempty"`
	LicenseeID int64  `json:"licensee_id,omitempty"`
	Reason     string `json:"reason"`
}

func (h *Handler) apiVerifySerial(c echo.Context) error {
	v, err := h.svc.VerifySerial(c.Request().Context(), c.Param("serial"), checkCountry(c))
	if err != nil {
		return err
	}
	out := VerifySerialJSON{Serial: v.Serial, Result: v.Result, Reason: v.Reason}
	if v.Range != nil {
		out.Product, out.Licensee, out.LicenseeID = v.Range.ProductSKU, v.Licensee.Name, v.Licensee.ID
	}
	return c.JSON(http.StatusOK, out)
}

// CountryCookie is the storefront's cookie holding the fan's chosen country.
const CountryCookie = "country"

// checkCountry is where a check comes from: the country field, else the fan's country
// cookie, else unknown ("").
func checkCountry(c echo.Context) string {
	country := strings.ToUpper(strings.TrimSpace(c.QueryParam("country")))
	if country == "" {
		country = strings.ToUpper(strings.TrimSpace(c.FormValue("country")))
	}
	if country == "" {
		if ck, err := c.Cookie(CountryCookie); err == nil {
			country = strings.ToUpper(strings.TrimSpace(ck.Value))
		}
	}
	if !IsCountry(country) {
		return ""
	}
	return country
}

// --- pages ---

// formCodes are the refusals the registry's forms explain beside their fields; any other
// error goes to the error page.
var formCodes = []fault.Code{fault.Invalid, fault.Conflict, fault.Unprocessable}

// CountryOption is a country in a select.
type CountryOption struct{ Code, Name string }

func countryOptions() []CountryOption {
	out := make([]CountryOption, 0, len(countryCodes))
	for _, code := range countryCodes {
		out = append(out, CountryOption{code, CountryName(code)})
	}
	return out
}

// AdminHomePage is /admin: the registry at a glance.
type AdminHomePage struct {
	web.Page
	Licensees  []Licensee
	Licences   []Licence
	Properties []Property
	Recent     []audit.Entry
}

func (h *Handler) adminHome(c echo.Context) error {
	ctx := c.Request().Context()
	p := &AdminHomePage{Page: web.Page{Title: "Licensing registry"}}
	var err error
	if p.Licensees, err = h.svc.Licensees(ctx, LicenseeFilter{Limit: 10}); err != nil {
		return err
	}
	if p.Licences, err = h.svc.SearchLicences(ctx, LicenceFilter{Limit: 10}); err != nil {
		return err
	}
	h.shown(p.Licences)
	if p.Properties, err = h.svc.Properties(ctx); err != nil {
		return err
	}
	if p.Recent, err = h.svc.AuditLog(ctx, "", "", 10); err != nil {
		return err
	}
	return h.srv.Render(c, http.StatusOK, "licensing/admin", p)
}

// LicenseesPage lists and searches licensees.
type LicenseesPage struct {
	web.Page
	Query     string
	Licensees []Licensee
}

func (h *Handler) licenseesPage(c echo.Context) error {
	q := c.QueryParam("q")
	ls, err := h.svc.Licensees(c.Request().Context(), LicenseeFilter{Query: q})
	if err != nil {
		return err
	}
	return h.srv.Render(c, http.StatusOK, "licensing/licensees", &LicenseesPage{Page: web.Page{Title: "Licensees"}, Query: q, Licensees: ls})
}

// LicenseeFormPage creates or edits a licensee.
type LicenseeFormPage struct {
	web.Page
	ID        int64 // 0 for a new licensee
	Form      LicenseeInput
	Errors    map[string]string
	Countries []CountryOption
}

func (h *Handler) renderLicenseeForm(c echo.Context, status int, id int64, in LicenseeInput, errs map[string]string) error {
	title := "New licensee"
	if id != 0 {
		title = "Edit " + in.Name
	}
	return h.srv.Render(c, status, "licensing/licensee_form", &LicenseeFormPage{Page: web.Page{Title: title}, ID: id, Form: in, Errors: errs, Countries: countryOptions()})
}

func (h *Handler) newLicenseePage(c echo.Context) error {
	return h.renderLicenseeForm(c, http.StatusOK, 0, LicenseeInput{Country: "FR"}, nil)
}

func licenseeForm(c echo.Context) LicenseeInput {
	return LicenseeInput{Name: c.FormValue("name"), Country: c.FormValue("country"), ContactEmail: c.FormValue("contact_email")}
}

func (h *Handler) createLicenseeForm(c echo.Context) error {
	in := licenseeForm(c)
	l, err := h.svc.CreateLicensee(c.Request().Context(), web.Caller(c), in)
	if errs, status, ok := web.FormErrors(err, formCodes...); ok {
		return h.renderLicenseeForm(c, status, 0, in, errs)
	} else if err != nil {
		return err
	}
	web.Flash(c, "Licensee "+l.Name+" is registered.")
	return c.Redirect(http.StatusSeeOther, "/admin/licensees/"+itoa(l.ID))
}

func (h *Handler) editLicenseePage(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	l, err := h.svc.Licensee(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.renderLicenseeForm(c, http.StatusOK, id, LicenseeInput{Name: l.Name, Country: l.Country, ContactEmail: l.ContactEmail}, nil)
}

func (h *Handler) updateLicenseeForm(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	in := licenseeForm(c)
	_, err = h.svc.UpdateLicensee(c.Request().Context(), web.Caller(c), id, in)
	if errs, status, ok := web.FormErrors(err, formCodes...); ok {
		return h.renderLicenseeForm(c, status, id, in, errs)
	} else if err != nil {
		return err
	}
	web.Flash(c, "The licensee is updated.")
	return c.Redirect(http.StatusSeeOther, "/admin/licensees/"+itoa(id))
}

// LicenseePage shows a licensee with its licences, resellers, serial ranges and history, and
// the forms to authorise a reseller and register serials.
type LicenseePage struct {
	web.Page
	Licensee     Licensee
	Licences     []Licence
	Resellers    []Authorisation
	Serials      []SerialRange
	Audit        []audit.Entry
	ResellerForm ResellerRequest
	SerialForm   SerialRangeInput
	Errors       map[string]string // for the reseller form, keys prefixed "reseller."; serials "serial."
}

// Expired reports whether l's term ended before today.
func (p *LicenseePage) Expired(l Licence) bool { return dayOf(p.Now) > dayOf(l.ValidTo) }

func (h *Handler) renderLicensee(c echo.Context, status int, id int64, p *LicenseePage) error {
	ctx := c.Request().Context()
	var err error
	if p.Licensee, err = h.svc.Licensee(ctx, id); err != nil {
		return err
	}
	if p.Licences, err = h.svc.LicencesOf(ctx, id); err != nil {
		return err
	}
	h.shown(p.Licences)
	if p.Resellers, err = h.svc.Resellers(ctx, id); err != nil {
		return err
	}
	if p.Serials, err = h.svc.SerialRanges(ctx, id); err != nil {
		return err
	}
	if p.Audit, err = h.svc.AuditLog(ctx, "licensee", itoa(id), 20); err != nil {
		return err
	}
	p.Title = p.Licensee.Name
	return h.srv.Render(c, status, "licensing/licensee", p)
}

func (h *Handler) licenseePage(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	return h.renderLicensee(c, http.StatusOK, id, &LicenseePage{})
}

func prefixed(prefix string, errs map[string]string) map[string]string {
	out := make(map[string]string, len(errs))
	for k, v := range errs {
		out[prefix+k] = v
	}
	return out
}

func (h *Handler) authoriseForm(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	form := ResellerRequest{Territories: textlist.Split(c.FormValue("territories"), textlist.Typed)}
	seller, perr := strconv.ParseInt(strings.TrimSpace(c.FormValue("seller_id")), 10, 64)
	if perr != nil {
		err = fault.Validation("the reseller cannot be authorised", fault.Field("seller_id", "must be a seller's number"))
	} else {
		form.SellerID = seller
		_, err = h.svc.AuthoriseReseller(c.Request().Context(), web.Caller(c), id, seller, form.Territories)
	}
	if errs, status, ok := web.FormErrors(err, formCodes...); ok {
		return h.renderLicensee(c, status, id, &LicenseePage{ResellerForm: form, Errors: prefixed("reseller.", errs)})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Seller "+itoa(seller)+" is authorised.")
	return c.Redirect(http.StatusSeeOther, "/admin/licensees/"+itoa(id))
}

func (h *Handler) revokeForm(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	seller, err := strconv.ParseInt(c.Param("seller"), 10, 64)
	if err != nil {
		return fault.New(fault.NotFound, "authorisation not found")
	}
	_, err = h.svc.RevokeReseller(c.Request().Context(), web.Caller(c), id, seller, c.FormValue("reason"))
	if errs, status, ok := web.FormErrors(err, formCodes...); ok {
		return h.renderLicensee(c, status, id, &LicenseePage{Errors: prefixed("revoke.", errs)})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Seller "+itoa(seller)+"'s authorisation is revoked.")
	return c.Redirect(http.StatusSeeOther, "/admin/licensees/"+itoa(id))
}

func (h *Handler) serialsForm(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	form := SerialRangeInput{ProductSKU: c.FormValue("product_sku"), Prefix: c.FormValue("prefix")}
	var bad fault.Fields
	for name, dst := range map[string]*int64{"first": &form.First, "last": &form.Last} {
		n, err := strconv.ParseInt(strings.TrimSpace(c.FormValue(name)), 10, 64)
		if err != nil {
			bad.Add(name, "must be a whole number")
		}
		*dst = n
	}
	err = bad.Err("the serial range is not valid")
	if err == nil {
		_, err = h.svc.RegisterSerialRange(c.Request().Context(), web.Caller(c), id, form)
	}
	if errs, status, ok := web.FormErrors(err, formCodes...); ok {
		return h.renderLicensee(c, status, id, &LicenseePage{SerialForm: form, Errors: prefixed("serial.", errs)})
	} else if err != nil {
		return err
	}
	web.Flash(c, "The serial range is registered.")
	return c.Redirect(http.StatusSeeOther, "/admin/licensees/"+itoa(id))
}

// LicenceForm is the licence form's fields as typed.
type LicenceForm struct {
	Number, Property, Territories, ValidFrom, ValidTo, RoyaltyBPS string
	Categories                                                    map[string]bool
}

// LicenceFormPage grants or edits a licence.
type LicenceFormPage struct {
	web.Page
	Licensee   Licensee
	Number     string // the licence being edited, "" for a new one
	Form       LicenceForm
	Errors     map[string]string
	Properties []Property
	Categories []Category
}

func (h *Handler) renderLicenceForm(c echo.Context, status int, p *LicenceFormPage) error {
	var err error
	if p.Properties, err = h.svc.Properties(c.Request().Context()); err != nil {
		return err
	}
	p.Categories = Categories
	p.Title = "New licence for " + p.Licensee.Name
	if p.Number != "" {
		p.Title = "Edit licence " + p.Number
	}
	return h.srv.Render(c, status, "licensing/licence_form", p)
}

func formOf(l Licence) LicenceForm {
	f := LicenceForm{Number: l.Number, Property: l.Property, Territories: strings.Join(l.Territories, ", "),
		ValidFrom: l.ValidFrom.Format(time.DateOnly), ValidTo: l.ValidTo.Format(time.DateOnly),
		RoyaltyBPS: strconv.Itoa(l.RoyaltyBPS), Categories: map[string]bool{}}
	for _, c := range l.Categories {
		f.Categories[c] = true
	}
	return f
}

// readLicenceForm reads the form into both its typed-in shape (to show again) and an input.
func readLicenceForm(c echo.Context) (LicenceForm, LicenceInput, error) {
	f := LicenceForm{Number: c.FormValue("number"), Property: c.FormValue("property"), Territories: c.FormValue("territories"),
		ValidFrom: c.FormValue("valid_from"), ValidTo: c.FormValue("valid_to"), RoyaltyBPS: c.FormValue("royalty_bps"), Categories: map[string]bool{}}
	params, _ := c.FormParams()
	cats := params["categories"]
	for _, cat := range cats {
		f.Categories[cat] = true
	}
	r := LicenceRequest{Number: f.Number, Property: &f.Property, Categories: cats, Territories: textlist.Split(f.Territories, textlist.Typed)}
	if r.Categories == nil {
		r.Categories = []string{}
	}
	if f.ValidFrom != "" {
		r.ValidFrom = &f.ValidFrom
	}
	if f.ValidTo != "" {
		r.ValidTo = &f.ValidTo
	}
	var royalty *fault.FieldError
	if f.RoyaltyBPS != "" {
		n, err := strconv.Atoi(strings.TrimSpace(f.RoyaltyBPS))
		if err != nil {
			fe := fault.Field("royalty_bps", "must be a whole number of basis points (1200 is 12%%)")
			royalty = &fe
		}
		r.RoyaltyBPS = &n
	}
	in, err := r.input(LicenceInput{}, true)
	if royalty != nil {
		var fields []fault.FieldError
		if e, ok := fault.As(err); ok {
			fields = e.Fields
		}
		err = fault.Validation("the licence is not valid", append(fields, *royalty)...)
	}
	return f, in, err
}

func (h *Handler) newLicencePage(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	l, err := h.svc.Licensee(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return h.renderLicenceForm(c, http.StatusOK, &LicenceFormPage{Licensee: l, Form: LicenceForm{RoyaltyBPS: "1000", Categories: map[string]bool{}}})
}

func (h *Handler) createLicenceForm(c echo.Context) error {
	id, err := licenseeParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	licensee, err := h.svc.Licensee(ctx, id)
	if err != nil {
		return err
	}
	form, in, err := readLicenceForm(c)
	if err != nil {
		err = h.svc.everyProblem(ctx, in, true, err)
	}
	var l Licence
	if err == nil {
		l, err = h.svc.CreateLicence(ctx, web.Caller(c), id, in)
	}
	if errs, status, ok := web.FormErrors(err, formCodes...); ok {
		return h.renderLicenceForm(c, status, &LicenceFormPage{Licensee: licensee, Form: form, Errors: errs})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Licence "+l.Number+" is granted.")
	return c.Redirect(http.StatusSeeOther, "/admin/licences/"+url.PathEscape(l.Number))
}

func (h *Handler) editLicencePage(c echo.Context) error {
	ctx := c.Request().Context()
	l, err := h.svc.LicenceByNumber(ctx, c.Param("number"))
	if err != nil {
		return err
	}
	licensee, err := h.svc.Licensee(ctx, l.LicenseeID)
	if err != nil {
		return err
	}
	return h.renderLicenceForm(c, http.StatusOK, &LicenceFormPage{Licensee: licensee, Number: l.Number, Form: formOf(l)})
}

func (h *Handler) updateLicenceForm(c echo.Context) error {
	ctx := c.Request().Context()
	cur, err := h.svc.LicenceByNumber(ctx, c.Param("number"))
	if err != nil {
		return err
	}
	licensee, err := h.svc.Licensee(ctx, cur.LicenseeID)
	if err != nil {
		return err
	}
	form, in, err := readLicenceForm(c)
	form.Number = cur.Number
	if err != nil {
		err = h.svc.everyProblem(ctx, in, false, err)
	}
	if err == nil {
		_, err = h.svc.UpdateLicence(ctx, web.Caller(c), cur.Number, in)
	}
	if errs, status, ok := web.FormErrors(err, formCodes...); ok {
		return h.renderLicenceForm(c, status, &LicenceFormPage{Licensee: licensee, Number: cur.Number, Form: form, Errors: errs})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Licence "+cur.Number+" is updated.")
	return c.Redirect(http.StatusSeeOther, "/admin/licences/"+url.PathEscape(cur.Number))
}

// LicencePage shows a licence, its history and the form to change its status.
type LicencePage struct {
	web.Page
	Licence Licence
	Shown   Status // the status today: expired once the term has ended
	Audit   []audit.Entry
	Reason  string
	Errors  map[string]string
}

func (h *Handler) renderLicence(c echo.Context, status int, p *LicencePage) error {
	ctx := c.Request().Context()
	var err error
	if p.Licence, err = h.svc.LicenceByNumber(ctx, c.Param("number")); err != nil {
		return err
	}
	if p.Audit, err = h.svc.AuditLog(ctx, "licence", p.Licence.Number, 50); err != nil {
		return err
	}
	p.Title = "Licence " + p.Licence.Number
	p.Shown = p.Licence.StatusOn(h.svc.now())
	return h.srv.Render(c, status, "licensing/licence", p)
}

func (h *Handler) licencePage(c echo.Context) error {
	return h.renderLicence(c, http.StatusOK, &LicencePage{})
}

func (h *Handler) statusForm(c echo.Context) error {
	reason := c.FormValue("reason")
	l, err := h.svc.SetLicenceStatus(c.Request().Context(), web.Caller(c), c.Param("number"), Status(c.FormValue("status")), reason)
	if errs, status, ok := web.FormErrors(err, formCodes...); ok {
		return h.renderLicence(c, status, &LicencePage{Reason: reason, Errors: errs})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Licence "+l.Number+" is "+string(l.Status)+".")
	return c.Redirect(http.StatusSeeOther, "/admin/licences/"+url.PathEscape(l.Number))
}

// LicencesPage searches licences.
type LicencesPage struct {
	web.Page
	Query, Property, Status string
	Licences                []Licence
	Properties              []Property
	Statuses                []Status
}

func (h *Handler) licencesPage(c echo.Context) error {
	ctx := c.Request().Context()
	p := &LicencesPage{Page: web.Page{Title: "Licences"}, Statuses: []Status{StatusActive, StatusExpired, StatusSuspended, StatusTerminated}, Query: c.QueryParam("q"), Property: c.QueryParam("property"), Status: c.QueryParam("status")}
	var err error
	if p.Licences, err = h.svc.SearchLicences(ctx, LicenceFilter{Query: p.Query, Property: p.Property, Status: Status(p.Status)}); err != nil {
		return err
	}
	h.shown(p.Licences)
	if p.Properties, err = h.svc.Properties(ctx); err != nil {
		return err
	}
	return h.srv.Render(c, http.StatusOK, "licensing/licences", p)
}

// AuditPage shows the registry's audit log.
type AuditPage struct {
	web.Page
	Entity   string
	Entities []string
	Entries  []audit.Entry
}

func (h *Handler) auditPage(c echo.Context) error {
	entity := c.QueryParam("entity")
	entries, err := h.svc.AuditLog(c.Request().Context(), entity, c.QueryParam("entity_id"), 200)
	if err != nil {
		return err
	}
	return h.srv.Render(c, http.StatusOK, "licensing/audit", &AuditPage{Page: web.Page{Title: "Audit log"}, Entity: entity, Entities: []string{"licensee", "licence", "reseller", "serial_range", "property"}, Entries: entries})
}

// VerifyPage is the public page where anyone checks a licence number or a hologram serial.
type VerifyPage struct {
	web.Page
	Query     string
	Country   string
	Countries []CountryOption
	Licence   *LicenceVerdict
	Serial    *SerialVerdict
	Error     string
}

func (h *Handler) verifyPage(c echo.Context) error {
	p := &VerifyPage{Page: web.Page{Title: "Verify a licence or hologram"}, Query: strings.TrimSpace(c.QueryParam("q")),
		Country: checkCountry(c), Countries: countryOptions()}
	status := http.StatusOK
	if p.Query != "" {
		ctx := c.Request().Context()
		kind := c.QueryParam("kind")
		if kind != "serial" {
			v, err := h.svc.VerifyLicence(ctx, p.Query)
			switch {
			case err == nil:
				p.Licence = &v
			case !fault.Is(err, fault.NotFound):
				return err
			}
		}
		if p.Licence == nil && kind != "licence" {
			v, err := h.svc.VerifySerial(ctx, p.Query, p.Country)
			switch {
			case err == nil:
				p.Serial = &v
			case !fault.Is(err, fault.Invalid):
				return err
			}
		}
		if p.Licence == nil && p.Serial == nil {
			status = http.StatusNotFound
			p.Error = "No licence has this number, and it is not a hologram serial either. Check what you typed."
		}
	}
	return h.srv.Render(c, status, "licensing/verify", p)
}
