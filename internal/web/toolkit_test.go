package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
)

// newTestServer is a server without authentication, for the toolkit's tests.
func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func serve(srv *Server, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return rec
}

// problem reads a problem document, failing the test when the answer is not one.
func problem(t *testing.T, rec *httptest.ResponseRecorder) Problem {
	t.Helper()
	if ct := rec.Header().Get(echo.HeaderContentType); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body: %s", ct, rec.Body)
	}
	var p Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem document: %v; body: %s", err, rec.Body)
	}
	return p
}

type decodeTarget struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
}

func TestDecodeJSON(t *testing.T) {
	srv := newTestServer(t, Config{BodyLimit: 64})
	var got decodeTarget
	srv.Echo.POST("/api/v1/things", func(c echo.Context) error {
		got = decodeTarget{}
		if err := DecodeJSON(c, &got); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	post := func(ctype, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/things", strings.NewReader(body))
		if ctype != "" {
			req.Header.Set(echo.HeaderContentType, ctype)
		}
		// An API caller: the key is what spares it the form's CSRF token (no Authenticator here).
		req.Header.Set(echo.HeaderAuthorization, "Bearer test-key")
		return serve(srv, req)
	}

	for _, tc := range []struct {
		name, ctype, body string
		want              decodeTarget
	}{
		{"Object", "application/json", `{"name":"a","count":2,"tags":["x"]}`, decodeTarget{Name: "a", Count: 2, Tags: []string{"x"}}},
		{"WithCharset", "application/json; charset=utf-8", `{"name":"b"}`, decodeTarget{Name: "b"}},
		{"StructuredSuffix", "application/merge-patch+json", `{"count":3}`, decodeTarget{Count: 3}},
		{"TrailingWhiteSpace", "application/json", "{\"name\":\"c\"}\n\t ", decodeTarget{Name: "c"}},
	} {
		t.Run("Accepts"+tc.name, func(t *testing.T) {
			rec := post(tc.ctype, tc.body)
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status = %d, want 204; body: %s", rec.Code, rec.Body)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}

	for _, tc := range []struct {
		name, ctype, body string
		status            int
		detail, field     string // what the problem must say, and the field it must name
	}{
		{"ErrUnsupportedTextPlain", "text/plain", `{"name":"a"}`, http.StatusUnsupportedMediaType, "text/plain", ""},
		{"ErrUnsupportedForm", "application/x-www-form-urlencoded", "name=a", http.StatusUnsupportedMediaType, "application/json", ""},
		{"ErrUnsupportedNoContentType", "", `{"name":"a"}`, http.StatusUnsupportedMediaType, "no Content-Type", ""},
		{"ErrUnknownField", "application/json", `{"name":"a","colour":"red"}`, http.StatusBadRequest, "not valid", "colour"},
		{"ErrWrongType", "application/json", `{"count":"two"}`, http.StatusBadRequest, "not valid", "count"},
		{"ErrNotAnObject", "application/json", `[1,2]`, http.StatusBadRequest, "must be a JSON object", ""},
		{"ErrEmpty", "application/json", ``, http.StatusBadRequest, "empty", ""},
		{"ErrSyntax", "application/json", `{"name":}`, http.StatusBadRequest, "not valid JSON", ""},
		{"ErrCutShort", "application/json", `{"name":"a"`, http.StatusBadRequest, "ends in the middle", ""},
		{"ErrTwoValues", "application/json", `{"name":"a"}{"name":"b"}`, http.StatusBadRequest, "more than one JSON value", ""},
		{"ErrTrailingGarbage", "application/json", `{"name":"a"} x`, http.StatusBadRequest, "after its JSON value", ""},
		{"ErrTooLarge", "application/json", `{"name":"` + strings.Repeat("a", 100) + `"}`, http.StatusRequestEntityTooLarge, "larger than", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := post(tc.ctype, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d; body: %s", rec.Code, tc.status, rec.Body)
			}
			p := problem(t, rec)
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail = %q, want it to say %q", p.Detail, tc.detail)
			}
			if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
				t.Errorf("errors = %+v, want one naming %q", p.Errors, tc.field)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fault.New(fault.Invalid, "x"), http.StatusBadRequest},
		{fmt.Errorf("wrapped: %w", fault.New(fault.Conflict, "x")), http.StatusConflict},
		{fault.New(fault.Unsupported, "x"), http.StatusUnsupportedMediaType},
		{echo.NewHTTPError(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed},
		{&http.MaxBytesError{Limit: 1}, http.StatusRequestEntityTooLarge},
		{errors.New("anything else"), http.StatusInternalServerError},
	} {
		if got := StatusOf(tc.err); got != tc.want {
			t.Errorf("StatusOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	// Every code has its status in the one table.
	for _, code := range []fault.Code{fault.Invalid, fault.Unauthorized, fault.Forbidden, fault.NotFound, fault.Conflict,
		fault.TooLarge, fault.Unsupported, fault.Unprocessable, fault.RateLimited, fault.Unavailable, fault.Internal} {
		if statusByCode[code] == 0 {
			t.Errorf("the table has no status for %s", code)
		}
	}
}

func TestFormErrors(t *testing.T) {
	err := fault.Validation("the listing is not valid", fault.Field("title", "give a title"),
		fault.Field("images", "a.jpg: too small"), fault.Field("images", "b.jpg: not a picture"))
	t.Run("MessagesPerField", func(t *testing.T) {
		msgs, status, ok := FormErrors(fmt.Errorf("create: %w", err), fault.Invalid, fault.Conflict)
		if !ok || status != http.StatusBadRequest {
			t.Fatalf("FormErrors = %v, %d, %v; want the form's messages with 400", msgs, status, ok)
		}
		want := map[string]string{"": "the listing is not valid", "title": "give a title", "images": "a.jpg: too small; b.jpg: not a picture"}
		if !maps.Equal(msgs, want) {
			t.Errorf("messages = %q, want %q", msgs, want)
		}
	})
	t.Run("StatusFromTheTable", func(t *testing.T) {
		if _, status, ok := FormErrors(fault.New(fault.Conflict, "taken"), fault.Invalid, fault.Conflict); !ok || status != http.StatusConflict {
			t.Errorf("status = %d, %v; want 409", status, ok)
		}
	})
	t.Run("CodeTheFormDoesNotExplain", func(t *testing.T) {
		if _, _, ok := FormErrors(fault.New(fault.Forbidden, "no"), fault.Invalid); ok {
			t.Error("a Forbidden error went to a form that explains only Invalid")
		}
		if _, _, ok := FormErrors(errors.New("database down"), fault.Invalid); ok {
			t.Error("an uncoded error went to the form")
		}
	})
}

func TestStatic(t *testing.T) {
	srv := newTestServer(t, Config{})
	srv.Static("/slice/static/", fstest.MapFS{
		"thing.js":      {Data: []byte("console.log(1)")},
		"css/thing.css": {Data: []byte("body{}")},
	})
	get := func(method, path string) *httptest.ResponseRecorder {
		return serve(srv, httptest.NewRequest(method, path, nil))
	}
	for _, tc := range []struct{ path, ctype, body string }{
		{"/slice/static/thing.js", "text/javascript; charset=utf-8", "console.log(1)"},
		{"/slice/static/css/thing.css", "text/css; charset=utf-8", "body{}"},
		{"/static/app.css", "text/css; charset=utf-8", ""}, // the server's own
	} {
		t.Run("Serves"+tc.path, func(t *testing.T) {
			rec := get(http.MethodGet, tc.path)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d; body: %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tc.ctype)
			}
			if got := rec.Header().Get("Cache-Control"); got != "public, max-age=3600" {
				t.Errorf("Cache-Control = %q", got)
			}
			if tc.body != "" && rec.Body.String() != tc.body {
				t.Errorf("body = %q, want %q", rec.Body, tc.body)
			}
		})
	}
	t.Run("Head", func(t *testing.T) {
		if rec := get(http.MethodHead, "/slice/static/thing.js"); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
			t.Errorf("HEAD: status %d, %d bytes", rec.Code, rec.Body.Len())
		}
	})
	for _, path := range []string{"/slice/static/missing.js", "/slice/static/css", "/slice/static/", "/slice/static/../web.go", "/slice/static/%2e%2e/web.go"} {
		t.Run("NotFound"+path, func(t *testing.T) {
			if rec := get(http.MethodGet, path); rec.Code != http.StatusNotFound {
				t.Errorf("status = %d, want 404; body: %.200s", rec.Code, rec.Body)
			}
		})
	}
}

// partialPage is the data of the partials' test pages.
type partialPage struct {
	Page
	Items []string
}

func TestPartials(t *testing.T) {
	pages := fstest.MapFS{
		"early.html":         {Data: []byte(`{{define "main"}}<ol>{{template "items" .Items}}</ol>{{end}}`)},
		"late.html":          {Data: []byte(`{{define "main"}}<ul>{{template "items" .Items}}</ul>{{end}}`)},
		"partials.tmpl":      {Data: []byte(`{{define "items"}}{{range .}}<li>{{.}}</li>{{end}}{{end}}`)},
		"again.tmpl":         {Data: []byte(`{{define "items"}}twice{{end}}`)},
		"redefines.html":     {Data: []byte(`{{define "items"}}mine{{end}}{{define "main"}}{{end}}`)},
		"layoutblock.tmpl":   {Data: []byte(`{{define "main"}}not a partial{{end}}`)},
		"otherpartials.tmpl": {Data: []byte(`{{define "badge"}}<b>{{.}}</b>{{end}}`)},
	}
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	// A page added before the partial it calls gets it too.
	if err := r.Add("t", pages, "early.html"); err != nil {
		t.Fatal(err)
	}
	if err := r.AddPartials(pages, "partials.tmpl", "otherpartials.tmpl"); err != nil {
		t.Fatal(err)
	}
	if err := r.Add("t", pages, "late.html"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"t/early": "<ol><li>a</li><li>b</li></ol>", "t/late": "<ul><li>a</li><li>b</li></ul>"} {
		html, err := r.Execute(name, &partialPage{Items: []string{"a", "b"}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(string(html), want) {
			t.Errorf("%s does not contain %s:\n%s", name, want, html)
		}
	}
	t.Run("ErrPartialDefinedTwice", func(t *testing.T) {
		if err := r.AddPartials(pages, "again.tmpl"); err == nil || !strings.Contains(err.Error(), `"items"`) {
			t.Errorf("err = %v, want one naming the partial", err)
		}
	})
	t.Run("ErrPageRedefinesPartial", func(t *testing.T) {
		if err := r.Add("t", pages, "redefines.html"); err == nil || !strings.Contains(err.Error(), `"items"`) {
			t.Errorf("err = %v, want one naming the partial", err)
		}
	})
	t.Run("ErrPartialRedefinesLayoutBlock", func(t *testing.T) {
		if err := r.AddPartials(pages, "layoutblock.tmpl"); err == nil || !strings.Contains(err.Error(), `"main"`) {
			t.Errorf("err = %v, want one naming the block", err)
		}
	})
}

func TestMarketsAreConfiguration(t *testing.T) {
	markets := Markets{
		Countries:  []MarketCountry{{Code: "FR", Name: "France", Currency: "EUR"}, {Code: "JP", Name: "日本", Currency: "JPY"}},
		Currencies: []string{"EUR", "JPY", "USD"},
		Default:    "JP",
	}
	srv := newTestServer(t, Config{Markets: markets})
	srv.Echo.GET("/where", func(c echo.Context) error {
		m := srv.MarketOf(c)
		return c.String(http.StatusOK, m.Country+"."+m.Currency+"."+m.Language.String())
	})
	for _, tc := range []struct{ name, cookie, accept, want string }{
		{"CookieWins", "FR.USD", "ja-JP", "FR.USD.en"},
		{"CookieWithUnknownCurrencyKeepsTheCountrys", "FR.XXX", "", "FR.EUR.en"},
		{"AcceptLanguageRegion", "", "fr-FR,fr;q=0.9", "FR.EUR.fr"},
		{"DefaultFromTheConfiguration", "", "de-DE", "JP.JPY.en"},
		{"CookieOfACountryNotConfigured", "US.USD", "", "JP.JPY.en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/where", nil)
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: MarketCookie, Value: tc.cookie})
			}
			if tc.accept != "" {
				req.Header.Set("Accept-Language", tc.accept)
			}
			if got := serve(srv, req).Body.String(); got != tc.want {
				t.Errorf("market = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("ErrInconsistentMarkets", func(t *testing.T) {
		bad := markets
		bad.Default = "DE"
		if _, err := NewServer(Config{Markets: bad}); err == nil {
			t.Error("a default market outside the countries was accepted")
		}
		bad = markets
		bad.Currencies = []string{"EUR"}
		if _, err := NewServer(Config{Markets: bad}); err == nil {
			t.Error("a country paying in a currency outside the list was accepted")
		}
	})
	t.Run("TheLayoutOffersTheConfiguredMarkets", func(t *testing.T) {
		srv.Echo.GET("/page", func(c echo.Context) error {
			return srv.Render(c, http.StatusOK, "web/error", &ErrorPage{Problem: Problem{Title: "x"}})
		})
		body := serve(srv, httptest.NewRequest(http.MethodGet, "/page", nil)).Body.String()
		for _, want := range []string{`<option value="FR"`, `<option value="JP" selected>`, `<option>USD</option>`} {
			if !strings.Contains(body, want) {
				t.Errorf("the page does not offer %s", want)
			}
		}
		if strings.Contains(body, `value="US"`) {
			t.Error("the page offers a market that is not configured")
		}
	})
	t.Run("NoMarketsNoSelector", func(t *testing.T) {
		bare := newTestServer(t, Config{})
		bare.Echo.GET("/page", func(c echo.Context) error {
			return bare.Render(c, http.StatusOK, "web/error", &ErrorPage{Problem: Problem{Title: "x"}})
		})
		if body := serve(bare, httptest.NewRequest(http.MethodGet, "/page", nil)).Body.String(); strings.Contains(body, `action="/market"`) {
			t.Error("a server without markets shows the market selector")
		}
	})
}
