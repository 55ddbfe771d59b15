package detection

import (
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
	"marketplace/internal/web"
)

//go:embed templates/rules.html
var rulesTemplates embed.FS

// rulesHandler serves the rules page and API.
type rulesHandler struct {
	store *RuleStore
	srv   *web.Server
}

// RulesRoutes adds the screening rules' page (/analyst/rules) and API
// (GET and PUT /api/v1/detection/rules, GET /api/v1/detection/rules/versions) for analysts
// and admins.
func RulesRoutes(srv *web.Server, store *RuleStore) error {
	if err := srv.Pages.Add("detection", rulesTemplates, "templates/rules.html"); err != nil {
		return err
	}
	h := &rulesHandler{store: store, srv: srv}
	staff := web.RequireRole(web.RoleAnalyst, web.RoleAdmin)
	e := srv.Echo
	e.GET("/analyst/rules", h.page, staff)
	e.POST("/analyst/rules", h.save, staff)
	e.GET("/api/v1/detection/rules", h.apiGet, staff)
	e.PUT("/api/v1/detection/rules", h.apiPut, staff)
	e.GET("/api/v1/detection/rules/versions", h.apiVersions, staff)
	return nil
}

// RulesPage is the rules page's data.
type RulesPage struct {
	web.Page
	Form     RulesForm
	Errors   map[string]string
	Versions []RuleVersion
	Try      *TryResult // the "try a text" box's answer, nil when nothing was tried
}

// TryResult is what the saved rules find in a text an analyst types: the marks and the
// counterfeit words, and the text as folding sees it.
type TryResult struct {
	Text   string
	Folded string
	Marks  []MarkHit
	Words  []PhraseHit
}

// RulesForm is the configuration as typed into the form, so a refused form is shown again
// as it was.
type RulesForm struct {
	Version    string
	ReviewAt   string
	BlockAt    string
	HashRadius string
	Words      string // one per line
	Note       string
	Rules      []RuleFormRow
}

// RuleFormRow is one rule in the form.
type RuleFormRow struct {
	Def     RuleDef
	Enabled bool
	Weight  string
	Params  []ParamFormRow
}

// ParamFormRow is one rule parameter in the form.
type ParamFormRow struct {
	Def   ParamDef
	Value string
}

// BreakableID is the rule's id with a line-break opportunity after each underscore, so a
// long id does not widen its card on a phone.
func (r RuleFormRow) BreakableID() template.HTML {
	return template.HTML(strings.ReplaceAll(template.HTMLEscapeString(r.Def.ID), "_", "_<wbr>")) //nolint:gosec // escaped above
}

// Field is the form field (and problem field) name of a rule's weight.
func (r RuleFormRow) Field() string { return "rules." + r.Def.ID + ".weight" }

// Field is the form field name of the parameter of rule id.
func (p ParamFormRow) Field(id string) string { return "rules." + id + ".params." + p.Def.Name }

// MaxRadius is the largest hash radius the configuration accepts.
func (p *RulesPage) MaxRadius() int { return maxHashRadius }

// Error is the message for a field, "" if none.
func (p *RulesPage) Error(field string) string { return p.Errors[field] }

// ID turns a field name into an element id ("rules.x.weight" → "rules-x-weight").
func (p *RulesPage) ID(field string) string { return strings.ReplaceAll(field, ".", "-") }

func formOfConfig(c RuleConfig) RulesForm {
	f := RulesForm{Version: strconv.FormatInt(c.Version, 10), ReviewAt: strconv.Itoa(c.ReviewAt), BlockAt: strconv.Itoa(c.BlockAt),
		HashRadius: strconv.Itoa(c.HashRadius), Words: strings.Join(c.CounterfeitWords, "\n")}
	for _, d := range RuleDefs {
		s := c.Rule(d.ID)
		row := RuleFormRow{Def: d, Enabled: s.Enabled, Weight: strconv.Itoa(s.Weight)}
		for _, p := range d.Params {
			row.Params = append(row.Params, ParamFormRow{Def: p, Value: strconv.Itoa(s.Param(p.Name))})
		}
		f.Rules = append(f.Rules, row)
	}
	return f
}

// readRulesForm reads the posted form into its typed-in shape and a configuration; the
// error names every field that is not a whole number.
func readRulesForm(c echo.Context) (RulesForm, RuleConfig, error) {
	var bad fault.Fields
	num := func(field, v string) int {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			bad.Add(field, "must be a whole number, not %q", v)
		}
		return n
	}
	f := RulesForm{Version: c.FormValue("version"), ReviewAt: c.FormValue("review_at"), BlockAt: c.FormValue("block_at"),
		HashRadius: c.FormValue("hash_radius"), Words: c.FormValue("counterfeit_words"), Note: strings.TrimSpace(c.FormValue("note"))}
	cfg := RuleConfig{Rules: map[string]RuleSetting{}}
	version, err := strconv.ParseInt(f.Version, 10, 64)
	if err != nil {
		bad.Add("version", "the form lost its version: reload the page")
	}
	cfg.Version = version
	cfg.ReviewAt = num("review_at", f.ReviewAt)
	cfg.BlockAt = num("block_at", f.BlockAt)
	cfg.HashRadius = num("hash_radius", f.HashRadius)
	cfg.CounterfeitWords = strings.Split(strings.ReplaceAll(f.Words, "\r\n", "\n"), "\n")
	for _, d := range RuleDefs {
		row := RuleFormRow{Def: d, Enabled: c.FormValue("rules."+d.ID+".enabled") != "", Weight: c.FormValue("rules." + d.ID + ".weight")}
		s := RuleSetting{Enabled: row.Enabled, Weight: num(row.Field(), row.Weight), Params: map[string]int{}}
		for _, p := range d.Params {
			pr := ParamFormRow{Def: p, Value: c.FormValue("rules." + d.ID + ".params." + p.Name)}
			s.Params[p.Name] = num(pr.Field(d.ID), pr.Value)
			row.Params = append(row.Params, pr)
		}
		cfg.Rules[d.ID] = s
		f.Rules = append(f.Rules, row)
	}
	return f, cfg, bad.Err("the rule configuration is not valid")
}

func (h *rulesHandler) render(c echo.Context, status int, p *RulesPage) error {
	var err error
	if p.Versions, err = h.store.Versions(c.Request().Context(), 10); err != nil {
		return err
	}
	p.Title = "Screening rules"
	return h.srv.Render(c, status, "detection/rules", p)
}

func (h *rulesHandler) page(c echo.Context) error {
	ctx := c.Request().Context()
	cfg, err := h.store.Config(ctx)
	if err != nil {
		return err
	}
	p := &RulesPage{Form: formOfConfig(cfg)}
	if text := strings.TrimSpace(c.QueryParam("try")); text != "" {
		if len(text) > 20000 {
			text = text[:20000]
		}
		rs, err := h.store.Current(ctx)
		if err != nil {
			return err
		}
		f := FoldText(text)
		p.Try = &TryResult{Text: text, Folded: f.String(), Marks: rs.marks.Find(f), Words: rs.words.Find(f)}
	}
	return h.render(c, http.StatusOK, p)
}

func (h *rulesHandler) save(c echo.Context) error {
	form, cfg, err := readRulesForm(c)
	if err == nil {
		_, err = h.store.Save(c.Request().Context(), web.Caller(c), cfg, form.Note)
	}
	if err != nil {
		errs, status, ok := web.FormErrors(err, fault.Invalid, fault.Conflict)
		if !ok {
			return err
		}
		return h.render(c, status, &RulesPage{Form: form, Errors: errs})
	}
	web.Flash(c, "The rules are saved as version "+strconv.FormatInt(cfg.Version+1, 10)+"; listings are screened again under them.")
	return c.Redirect(http.StatusSeeOther, "/analyst/rules")
}

func (h *rulesHandler) apiGet(c echo.Context) error {
	cfg, err := h.store.Config(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cfg)
}

// RulesRequest is the body of PUT /api/v1/detection/rules: a whole configuration (Version
// the one it was edited from) and an optional note for the audit log.
type RulesRequest struct {
	RuleConfig
	Note string `json:"note"`
}

func (h *rulesHandler) apiPut(c echo.Context) error {
	var req RulesRequest
	if err := web.DecodeJSON(c, &req); err != nil {
		return err
	}
	cfg, err := h.store.Save(c.Request().Context(), web.Caller(c), req.RuleConfig, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cfg)
}

func (h *rulesHandler) apiVersions(c echo.Context) error {
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	vs, err := h.store.Versions(c.Request().Context(), limit)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []RuleVersion{}
	}
	return c.JSON(http.StatusOK, vs)
}
