package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"

	"marketplace/internal/money"
)

//go:embed templates/*.html
var baseTemplates embed.FS

//go:embed static
var staticFiles embed.FS

// Languages the pages are written in; the first is the default.
var Languages = []language.Tag{language.English, language.French, language.SimplifiedChinese}

var languageMatcher = language.NewMatcher(Languages)

// Page is the part of every page's data that the layout uses. Each page has its own struct
// that embeds Page, so templates see typed fields, not a bag of values.
type Page struct {
	Title  string
	Caller *Identity
	CSRF   string
	Lang   string // BCP 47 tag of the page's language
	Path   string
	Here   string // path and query, for "come back here" links
	Flash  string
	// TestPayments shows the layout's banner: orders are paid on the test-payment page.
	TestPayments bool
	Market       Market
	Now          time.Time
	markets      Markets
	printer      *message.Printer
	tag          language.Tag
	homePath     string
}

// base returns the embedded Page, so Render can fill it whatever the page type.
func (p *Page) base() *Page { return p }

// T translates a message of the layout or a page into the page's language; messages without a
// translation are shown as written (in English).
func (p *Page) T(key string, args ...any) string {
	if p.printer == nil {
		return fmt.Sprintf(key, args...)
	}
	return p.printer.Sprintf(key, args...)
}

// Date writes a day the way the page's language does: "31 Dec 2027", "31 déc. 2027",
// "2027年12月31日". x/text formats numbers and currencies but not dates, hence the small table.
func (p *Page) Date(t time.Time) string { return localDate(p.tag, t) }

// DateTime is Date with the time of day, in UTC.
func (p *Page) DateTime(t time.Time) string {
	return localDate(p.tag, t.UTC()) + " " + t.UTC().Format("15:04") + " UTC"
}

var frenchMonths = [...]string{"janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."}

func localDate(tag language.Tag, t time.Time) string {
	switch base, _ := tag.Base(); base.String() {
	case "fr":
		return fmt.Sprintf("%d %s %d", t.Day(), frenchMonths[t.Month()-1], t.Year())
	case "zh", "ja":
		return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
	}
	return t.Format("2 Jan 2006")
}

// Money formats an amount for the page's language.
func (p *Page) Money(m money.Money) string { return m.Format(p.tag) }

// MarketCountries, MarketCurrencies and LanguageChoices feed the market selector in the layout.
func (p *Page) MarketCountries() []MarketCountry  { return p.markets.Countries }
func (p *Page) MarketCurrencies() []string        { return p.markets.Currencies }
func (p *Page) LanguageChoices() []LanguageChoice { return LanguageChoices }

// Home is the caller's landing page.
func (p *Page) Home() string { return p.homePath }

// Is reports whether the caller has one of the roles.
func (p *Page) Is(roles ...string) bool {
	if p.Caller == nil {
		return false
	}
	for _, r := range roles {
		if string(p.Caller.Role) == r {
			return true
		}
	}
	return false
}

// PageData is any page struct that embeds Page.
type PageData interface{ base() *Page }

// Renderer holds every page template, each parsed at start-up together with the base layout
// and the shared partials, so a broken template stops the start instead of a request.
type Renderer struct {
	layout   *template.Template
	pages    map[string]*template.Template
	defines  map[string][]string // page → the templates its file defines
	partials map[string]string   // partial → the file it came from
	Messages *catalog.Builder
}

// Funcs available to every template.
var funcs = template.FuncMap{
	"date":     func(t time.Time) string { return t.Format("2 Jan 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"join":     strings.Join,
	"add":      func(a, b int) int { return a + b },
}

// NewRenderer parses the base layout and the web slice's own pages.
func NewRenderer() (*Renderer, error) {
	layout, err := template.New("layout").Funcs(funcs).ParseFS(baseTemplates, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	r := &Renderer{layout: layout, pages: map[string]*template.Template{}, defines: map[string][]string{},
		partials: map[string]string{}, Messages: catalog.NewBuilder(catalog.Fallback(language.English))}
	if err := r.Add("web", baseTemplates, "templates/error.html"); err != nil {
		return nil, err
	}
	return r, nil
}

// AddPartials parses the files matching patterns in fsys as partials: templates ({{define
// "audit-table"}}…{{end}}) that every page can call with {{template "audit-table" .}}, whichever
// slice it belongs to and whether it was added before or after them. A partial's name is
// taken once: a second partial, or a page, defining it again stops the start.
func (r *Renderer) AddPartials(fsys fs.FS, patterns ...string) error {
	for _, pattern := range patterns {
		files, err := fs.Glob(fsys, pattern)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return fmt.Errorf("templates: %s matches no file", pattern)
		}
		for _, f := range files {
			names, err := definedNames(fsys, f)
			if err != nil {
				return err
			}
			for _, n := range names {
				if r.layout.Lookup(n) != nil {
					if from, ok := r.partials[n]; ok {
						return fmt.Errorf("templates: %s defines %q, a partial of %s already", f, n, from)
					}
					return fmt.Errorf("templates: %s defines %q, a block of the layout", f, n)
				}
				for page, defs := range r.defines {
					if slices.Contains(defs, n) {
						return fmt.Errorf("templates: %s defines %q, which page %s defines too", f, n, page)
					}
				}
			}
			if _, err := r.layout.ParseFS(fsys, f); err != nil {
				return fmt.Errorf("templates: %w", err)
			}
			// Pages added before this partial get it too.
			for _, t := range r.pages {
				if _, err := t.ParseFS(fsys, f); err != nil {
					return fmt.Errorf("templates: %w", err)
				}
			}
			for _, n := range names {
				r.partials[n] = f
			}
		}
	}
	return nil
}

// definedNames lists the templates file f defines, parsed on its own.
func definedNames(fsys fs.FS, f string) ([]string, error) {
	t, err := template.New("").Funcs(funcs).ParseFS(fsys, f)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	var names []string
	for _, d := range t.Templates() {
		if n := d.Name(); n != "" && n != path.Base(f) {
			names = append(names, n)
		}
	}
	return names, nil
}

// Add parses the pages matching patterns in fsys; each becomes "slice/name" (the file name
// without .html). A page defines the blocks "title" and "main" of the layout, and may call the
// partials (AddPartials).
func (r *Renderer) Add(slice string, fsys fs.FS, patterns ...string) error {
	for _, pattern := range patterns {
		files, err := fs.Glob(fsys, pattern)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return fmt.Errorf("templates: %s matches no file", pattern)
		}
		for _, f := range files {
			name := slice + "/" + strings.TrimSuffix(path.Base(f), ".html")
			defs, err := definedNames(fsys, f)
			if err != nil {
				return err
			}
			for _, d := range defs {
				if from, ok := r.partials[d]; ok {
					return fmt.Errorf("templates: page %s defines %q, a partial of %s", name, d, from)
				}
			}
			t, err := r.layout.Clone()
			if err != nil {
				return err
			}
			if _, err := t.ParseFS(fsys, f); err != nil {
				return fmt.Errorf("templates: %w", err)
			}
			r.pages[name] = t
			r.defines[name] = defs
		}
	}
	return nil
}

// Names lists the pages, for the test that renders every one.
func (r *Renderer) Names() []string {
	names := make([]string, 0, len(r.pages))
	for n := range r.pages {
		names = append(names, n)
	}
	return names
}

// Execute renders page name with data into a buffer (for tests and e-mails).
func (r *Renderer) Execute(name string, data any) ([]byte, error) {
	t, ok := r.pages[name]
	if !ok {
		return nil, fmt.Errorf("templates: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Render fills the layout's part of data from the request and writes the page.
func (s *Server) Render(c echo.Context, status int, name string, data PageData) error {
	s.FillPage(c, data)
	html, err := s.Pages.Execute(name, data)
	if err != nil {
		return err
	}
	return c.HTMLBlob(status, html)
}

// FillPage sets the layout's fields of data for this request: caller, CSRF token, language.
func (s *Server) FillPage(c echo.Context, data PageData) {
	p := data.base()
	p.Caller = Caller(c)
	p.CSRF, _ = c.Get("csrf").(string)
	tag := RequestLanguage(c)
	p.Lang, p.tag = tag.String(), tag
	p.printer = message.NewPrinter(tag, message.Catalog(s.Pages.Messages))
	p.Path = c.Request().URL.Path
	p.Here = c.Request().URL.RequestURI()
	p.Market = s.MarketOf(c)
	p.markets = s.cfg.Markets
	p.TestPayments = s.cfg.TestPayments
	p.Now = time.Now()
	if p.Caller != nil {
		p.homePath = s.Home(p.Caller.Role)
	}
	if f, err := c.Cookie("flash"); err == nil && p.Flash == "" {
		p.Flash, _ = url.QueryUnescape(f.Value)
		c.SetCookie(&http.Cookie{Name: "flash", Path: "/", MaxAge: -1})
	}
}

// LangCookie holds the language a person chose.
const LangCookie = "lang"

// RequestLanguage is the chosen language (cookie), else the best match for Accept-Language.
// It is worked out once per request: every page asks it several times.
func RequestLanguage(c echo.Context) language.Tag {
	if t, ok := c.Get(languageKey).(language.Tag); ok {
		return t
	}
	lang := ""
	if ck, err := c.Cookie(LangCookie); err == nil {
		lang = ck.Value
	}
	t := languages.match(lang, c.Request().Header.Get("Accept-Language"))
	c.Set(languageKey, t)
	return t
}

const languageKey = "web.language"

// languages remembers the page language of each (cookie, Accept-Language) pair it has seen:
// browsers send few distinct headers, and parsing and matching one costs more than serving a
// cached page. Bounded, since the header is the client's to choose.
var languages = &languageMemo{seen: map[[2]string]language.Tag{}}

type languageMemo struct {
	mu   sync.Mutex
	seen map[[2]string]language.Tag
}

func (m *languageMemo) match(cookie, accept string) language.Tag {
	key := [2]string{cookie, accept}
	m.mu.Lock()
	t, ok := m.seen[key]
	m.mu.Unlock()
	if ok {
		return t
	}
	var prefs []language.Tag
	if cookie != "" {
		if t, err := language.Parse(cookie); err == nil {
			prefs = append(prefs, t)
		}
	}
	accepted, _, _ := language.ParseAcceptLanguage(accept)
	prefs = append(prefs, accepted...)
	_, i, _ := languageMatcher.Match(prefs...)
	t = Languages[i]
	if len(cookie)+len(accept) <= 256 {
		m.mu.Lock()
		if len(m.seen) >= 1024 {
			clear(m.seen)
		}
		m.seen[key] = t
		m.mu.Unlock()
	}
	return t
}

// Flash leaves a one-line message for the next page the person sees (after a redirect).
func Flash(c echo.Context, msg string) {
	c.SetCookie(&http.Cookie{Name: "flash", Value: url.QueryEscape(msg), Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}
