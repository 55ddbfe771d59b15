package licensing

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"marketplace/internal/auth"
	"marketplace/internal/web"
)

// httpWorld is a server with the accounts' and the registry's routes, two licensees (A with a
// licence, B with one) and an API key per kind of caller.
type httpWorld struct {
	srv                               *web.Server
	svc                               *Service
	a, b                              Licensee
	admin, analyst, fan, userA, userB string // API keys
}

func newHTTPWorld(t *testing.T) *httpWorld {
	t.Helper()
	svc, pool := newTestService(t)
	ctx := context.Background()
	accounts := auth.NewService(pool, auth.DefaultLimits)
	srv, err := web.NewServer(web.Config{Auth: accounts})
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Routes(srv, accounts); err != nil {
		t.Fatal(err)
	}
	if err := Routes(srv, svc); err != nil {
		t.Fatal(err)
	}
	w := &httpWorld{srv: srv, svc: svc, a: mustLicensee(t, svc, "Alpha"), b: mustLicensee(t, svc, "Bravo")}
	mustLicence(t, svc, w.a.ID, goodLicence("A-1"))
	mustLicence(t, svc, w.b.ID, goodLicence("B-1"))
	key := func(email string, role web.Role, licenseeID int64) string {
		u, err := accounts.CreateUser(ctx, auth.NewUser{Email: email, Role: role, LicenseeID: licenseeID})
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := accounts.CreateAPIKey(ctx, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	w.admin = key("admin@example.com", web.RoleAdmin, 0)
	w.analyst = key("analyst@example.com", web.RoleAnalyst, 0)
	w.fan = key("fan@example.com", web.RoleFan, 0)
	w.userA = key("a@example.com", web.RoleLicensee, w.a.ID)
	w.userB = key("b@example.com", web.RoleLicensee, w.b.ID)
	return w
}

type response struct {
	status int
	body   string
	header http.Header
}

func (r response) problem(t *testing.T) web.Problem {
	t.Helper()
	var p web.Problem
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatalf("not a problem document (%v): %s", err, r.body)
	}
	return p
}

func (r response) fields(t *testing.T) []string {
	t.Helper()
	p := r.problem(t)
	var names []string
	for _, f := range p.Errors {
		names = append(names, f.Field)
	}
	return names
}

// do sends a request with key as Bearer (none when empty); body is JSON unless it is url.Values.
func (w *httpWorld) do(method, path, key string, body any, cookies ...*http.Cookie) response {
	var rd *bytes.Reader
	ctype := echoJSON
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case url.Values:
		rd, ctype = bytes.NewReader([]byte(b.Encode())), "application/x-www-form-urlencoded"
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		js, err := json.Marshal(b)
		if err != nil {
			panic(err) // a test's own body: no t here, and a panic fails the test as well
		}
		rd = bytes.NewReader(js)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	w.srv.Handler().ServeHTTP(rec, req)
	return response{status: rec.Code, body: rec.Body.String(), header: rec.Header()}
}

const echoJSON = "application/json"

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %.600s", r.status, status, r.body)
	}
}

func TestAPIWritesNeedAdmin(t *testing.T) {
	w := newHTTPWorld(t)
	licensee := map[string]any{"name": "Charlie", "country": "FR", "contact_email": "c@example.com"}
	for _, c := range []struct {
		name, key string
		status    int
	}{
		{"ErrFanIs403", w.fan, http.StatusForbidden},
		{"ErrAnalystIs403", w.analyst, http.StatusForbidden},
		{"ErrLicenseeUserIs403", w.userA, http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantStatus(t, w.do("POST", "/api/v1/licensees", c.key, licensee), c.status)
			wantStatus(t, w.do("PATCH", "/api/v1/licences/A-1", c.key, map[string]any{"status": "suspended", "reason": "x"}), c.status)
			wantStatus(t, w.do("POST", "/api/v1/licensees/"+itoa(w.a.ID)+"/licences", c.key, map[string]any{"number": "A-9"}), c.status)
			wantStatus(t, w.do("POST", "/api/v1/licensees/"+itoa(w.a.ID)+"/resellers", c.key, map[string]any{"seller_id": 5, "territories": []string{"FR"}}), c.status)
			wantStatus(t, w.do("POST", "/api/v1/licensees/"+itoa(w.a.ID)+"/serials", c.key, map[string]any{"product_sku": "X", "prefix": "A-", "first": 1, "last": 2}), c.status)
			r := w.do("POST", "/admin/licensees", c.key, url.Values{"name": {"Charlie"}, "country": {"FR"}, "contact_email": {"c@example.com"}})
			wantStatus(t, r, http.StatusForbidden)
		})
	}
	t.Run("ErrAnonymousIsRefused", func(t *testing.T) {
		wantStatus(t, w.do("GET", "/api/v1/licensees", "", nil), http.StatusUnauthorized)
		// A cookie-less POST meets the CSRF check before the role check: 403, not 401.
		if r := w.do("POST", "/api/v1/licensees", "", licensee); r.status != http.StatusUnauthorized && r.status != http.StatusForbidden {
			t.Fatalf("status = %d, want 401 or 403", r.status)
		}
	})
	ls, err := w.svc.Licensees(context.Background(), LicenseeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := w.svc.LicenceByNumber(context.Background(), "A-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || l.Status != StatusActive {
		t.Fatalf("refused writes changed something: %d licensees, A-1 %s", len(ls), l.Status)
	}
}

func TestAPILicenseeReadsOnlyItsOwn(t *testing.T) {
	w := newHTTPWorld(t)
	a, b := itoa(w.a.ID), itoa(w.b.ID)
	for _, path := range []string{"/api/v1/licensees/" + b, "/api/v1/licensees/" + b + "/licences", "/api/v1/licences/B-1",
		"/api/v1/licensees/" + b + "/resellers", "/api/v1/licensees/" + b + "/serials"} {
		t.Run("ErrAnotherLicenseeIs404"+strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			r := w.do("GET", path, w.userA, nil)
			wantStatus(t, r, http.StatusNotFound)
			if r.header.Get("Content-Type") != "application/problem+json" || strings.Contains(r.body, "Bravo") {
				t.Fatalf("the 404 leaks or is not a problem document: %s %s", r.header.Get("Content-Type"), r.body)
			}
		})
	}
	t.Run("OwnDataIsReadable", func(t *testing.T) {
		for _, path := range []string{"/api/v1/licensees/" + a, "/api/v1/licensees/" + a + "/licences", "/api/v1/licences/A-1",
			"/api/v1/licensees/" + a + "/resellers", "/api/v1/licensees/" + a + "/serials"} {
			wantStatus(t, w.do("GET", path, w.userA, nil), http.StatusOK)
		}
	})
	t.Run("ListShowsOnlyItsOwnLicensee", func(t *testing.T) {
		r := w.do("GET", "/api/v1/licensees", w.userA, nil)
		wantStatus(t, r, http.StatusOK)
		var ls []Licensee
		if err := json.Unmarshal([]byte(r.body), &ls); err != nil || len(ls) != 1 || ls[0].ID != w.a.ID {
			t.Fatalf("licensees = %+v, %v", ls, err)
		}
	})
	t.Run("AnalystReadsEveryLicensee", func(t *testing.T) {
		wantStatus(t, w.do("GET", "/api/v1/licensees/"+b+"/licences", w.analyst, nil), http.StatusOK)
	})
}

func TestAPIBadInput(t *testing.T) {
	w := newHTTPWorld(t)
	path := "/api/v1/licensees/" + itoa(w.a.ID) + "/licences"
	good := func() map[string]any {
		return map[string]any{"number": "A-2", "property": "LA28", "categories": []string{"apparel"}, "territories": []string{"FR"},
			"valid_from": "2026-01-01", "valid_to": "2026-12-31", "royalty_bps": 1000}
	}
	for _, c := range []struct {
		name  string
		edit  func(map[string]any)
		field string
	}{
		{"ErrUnknownProperty", func(m map[string]any) { m["property"] = "SYDNEY2000" }, "property"},
		{"ErrUnknownCategory", func(m map[string]any) { m["categories"] = []string{"fireworks"} }, "categories"},
		{"ErrBadISOCode", func(m map[string]any) { m["territories"] = []string{"ZZ"} }, "territories"},
		{"ErrValidToBeforeValidFrom", func(m map[string]any) { m["valid_to"] = "2025-12-31" }, "valid_to"},
		{"ErrNotADate", func(m map[string]any) { m["valid_from"] = "01/01/2026" }, "valid_from"},
		{"ErrNegativeRoyalty", func(m map[string]any) { m["royalty_bps"] = -5 }, "royalty_bps"},
		{"ErrRoyaltyOver10000", func(m map[string]any) { m["royalty_bps"] = 10001 }, "royalty_bps"},
		{"ErrRoyaltyNotANumber", func(m map[string]any) { m["royalty_bps"] = "ten" }, "royalty_bps"},
		{"ErrMissingRoyalty", func(m map[string]any) { delete(m, "royalty_bps") }, "royalty_bps"},
		{"ErrUnknownField", func(m map[string]any) { m["colour"] = "blue" }, "colour"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := good()
			c.edit(body)
			r := w.do("POST", path, w.admin, body)
			wantStatus(t, r, http.StatusBadRequest)
			if p := r.problem(t); p.Status != 400 || !slices.Contains(r.fields(t), c.field) {
				t.Fatalf("problem %+v does not name %s", p, c.field)
			}
		})
	}
	t.Run("ErrEveryBadFieldNamedAtOnce", func(t *testing.T) {
		body := good()
		body["property"], body["territories"], body["royalty_bps"] = "X1", []string{"UK"}, 20000
		r := w.do("POST", path, w.admin, body)
		wantStatus(t, r, http.StatusBadRequest)
		if f := r.fields(t); !slices.Contains(f, "property") || !slices.Contains(f, "territories") || !slices.Contains(f, "royalty_bps") {
			t.Fatalf("fields = %v", f)
		}
	})
	t.Run("ErrOverlappingLicenceIs409", func(t *testing.T) {
		body := good()
		body["property"], body["valid_from"] = "PARIS2024", "2025-06-01"
		r := w.do("POST", path, w.admin, body)
		wantStatus(t, r, http.StatusConflict)
		if !slices.Contains(r.fields(t), "territories") {
			t.Fatalf("fields = %v", r.fields(t))
		}
	})
	t.Run("ErrOverlappingSerialsIs409", func(t *testing.T) {
		serials := "/api/v1/licensees/" + itoa(w.a.ID) + "/serials"
		wantStatus(t, w.do("POST", serials, w.admin, map[string]any{"product_sku": "TEE", "prefix": "AL-", "first": 1, "last": 100}), http.StatusCreated)
		r := w.do("POST", serials, w.admin, map[string]any{"product_sku": "CAP", "prefix": "AL-", "first": 100, "last": 200})
		wantStatus(t, r, http.StatusConflict)
		if !slices.Contains(r.fields(t), "first") {
			t.Fatalf("fields = %v", r.fields(t))
		}
	})
	t.Run("ErrUnknownStatus", func(t *testing.T) {
		r := w.do("PATCH", "/api/v1/licences/A-1", w.admin, map[string]any{"status": "paused"})
		wantStatus(t, r, http.StatusBadRequest)
	})
	t.Run("ErrNotJSON", func(t *testing.T) {
		wantStatus(t, w.do("POST", "/api/v1/licensees", w.admin, "{name:"), http.StatusBadRequest)
	})
	ls, err := w.svc.LicencesOf(context.Background(), w.a.ID)
	if err != nil || len(ls) != 1 {
		t.Fatalf("licensee A holds %d licences after bad input, want 1 (%v)", len(ls), err)
	}
}

func TestAPIAnswersAsDocumented(t *testing.T) {
	w := newHTTPWorld(t)
	r := w.do("POST", "/api/v1/licensees", w.admin, map[string]any{"name": "Charlie", "country": "de", "contact_email": "c@example.com"})
	wantStatus(t, r, http.StatusCreated)
	var l Licensee
	if err := json.Unmarshal([]byte(r.body), &l); err != nil || l.ID == 0 || l.Country != "DE" {
		t.Fatalf("licensee = %+v, %v", l, err)
	}
	id := itoa(l.ID)
	r = w.do("POST", "/api/v1/licensees/"+id+"/licences", w.admin, map[string]any{"number": "C-1", "property": "PARIS2024",
		"categories": []string{"pins", "toys"}, "territories": []string{"DE", "AT"}, "valid_from": "2025-01-01", "valid_to": "2027-12-31", "royalty_bps": 1500})
	wantStatus(t, r, http.StatusCreated)
	var lic LicenceJSON
	if err := json.Unmarshal([]byte(r.body), &lic); err != nil {
		t.Fatalf("not a licence (%v): %s", err, r.body)
	}
	if lic.Number != "C-1" || lic.ValidTo != "2027-12-31" || lic.RoyaltyBPS != 1500 || lic.Status != StatusActive {
		t.Fatalf("licence = %+v", lic)
	}
	r = w.do("GET", "/api/v1/verify/licences/C-1", "", nil)
	wantStatus(t, r, http.StatusOK)
	var v map[string]any
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("not a verify answer (%v): %s", err, r.body)
	}
	for _, k := range []string{"valid", "status", "licensee", "property", "categories", "territories", "valid_from", "valid_to"} {
		if _, ok := v[k]; !ok {
			t.Fatalf("verify answer lacks %s: %s", k, r.body)
		}
	}
	if v["valid"] != true || v["licensee"] != "Charlie" {
		t.Fatalf("verify = %s", r.body)
	}
	r = w.do("PATCH", "/api/v1/licences/C-1", w.admin, map[string]any{"status": "suspended", "reason": "audit"})
	wantStatus(t, r, http.StatusOK)
	r = w.do("GET", "/api/v1/verify/licences/c-1", "", nil)
	if !strings.Contains(r.body, `"valid":false`) || !strings.Contains(r.body, `"status":"suspended"`) {
		t.Fatalf("verify after suspension = %s", r.body)
	}
	wantStatus(t, w.do("GET", "/api/v1/verify/licences/NOPE-1", "", nil), http.StatusNotFound)

	r = w.do("PATCH", "/api/v1/licences/C-1", w.admin, map[string]any{"territories": []string{"DE"}, "royalty_bps": 1600})
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, `"territories":["DE"]`) || !strings.Contains(r.body, `"royalty_bps":1600`) {
		t.Fatalf("edited licence = %s", r.body)
	}
	wantStatus(t, w.do("POST", "/api/v1/licensees/"+id+"/resellers", w.admin, map[string]any{"seller_id": 42, "territories": []string{"DE"}}), http.StatusCreated)
	wantStatus(t, w.do("POST", "/api/v1/licensees/"+id+"/serials", w.admin, map[string]any{"product_sku": "PIN-1", "prefix": "CH-", "first": 1, "last": 500}), http.StatusCreated)

	t.Run("SerialCountryFromTheCookie", func(t *testing.T) {
		r := w.do("GET", "/api/v1/verify/serials/CH-0007", "", nil, &http.Cookie{Name: "country", Value: "jp"})
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, `"result":"genuine"`) || !strings.Contains(r.body, `"product":"PIN-1"`) || !strings.Contains(r.body, `"licensee":"Charlie"`) {
			t.Fatalf("serial = %s", r.body)
		}
		var country string
		err := w.svc.db.QueryRow(context.Background(), "SELECT country FROM serial_checks ORDER BY id DESC LIMIT 1").Scan(&country)
		if err != nil || country != "JP" {
			t.Fatalf("check recorded from %q, want JP (%v)", country, err)
		}
	})
	t.Run("SerialUnknown", func(t *testing.T) {
		r := w.do("GET", "/api/v1/verify/serials/CH-9999?country=FR", "", nil)
		if !strings.Contains(r.body, `"result":"unknown"`) {
			t.Fatalf("serial = %s", r.body)
		}
	})
	t.Run("CoverageForAnalysts", func(t *testing.T) {
		r := w.do("GET", "/api/v1/coverage?seller_id=42&property=PARIS2024&category=pins&country=DE", w.analyst, nil)
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, `"reason":"licence_suspended"`) {
			t.Fatalf("coverage = %s", r.body)
		}
		wantStatus(t, w.do("GET", "/api/v1/coverage?seller_id=42&property=PARIS2024&category=pins&country=DE", w.userA, nil), http.StatusForbidden)
	})
	t.Run("AuditLogForAdmins", func(t *testing.T) {
		r := w.do("GET", "/api/v1/audit?entity=licence&entity_id=C-1", w.admin, nil)
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, "licence.suspend") || !strings.Contains(r.body, "licence.update") || !strings.Contains(r.body, "admin@example.com") {
			t.Fatalf("audit = %.400s", r.body)
		}
	})
}

// TestPagesRender renders every page of the slice, and the forms' error and success paths.
func TestPagesRender(t *testing.T) {
	w := newHTTPWorld(t)
	ctx := context.Background()
	a := itoa(w.a.ID)
	if _, err := w.svc.RegisterSerialRange(ctx, testAdmin, w.a.ID, SerialRangeInput{ProductSKU: "TEE-1", Prefix: "AL-", First: 1, Last: 99}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.AuthoriseReseller(ctx, testAdmin, w.a.ID, 7, []string{"FR"}); err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		path, page, key, want string
		status                int
	}{
		{"/admin", "licensing/admin", w.admin, "Licensing registry", 200},
		{"/admin/licensees?q=alp", "licensing/licensees", w.admin, "Alpha", 200},
		{"/admin/licensees/new", "licensing/licensee_form", w.admin, "New licensee", 200},
		{"/admin/licensees/" + a, "licensing/licensee", w.admin, "AL-99", 200},
		{"/admin/licensees/" + a + "/edit", "licensing/licensee_form", w.admin, "Edit Alpha", 200},
		{"/admin/licensees/" + a + "/licences/new", "licensing/licence_form", w.admin, "New licence for Alpha", 200},
		{"/admin/licences?status=active", "licensing/licences", w.admin, "A-1", 200},
		{"/admin/licences/A-1", "licensing/licence", w.admin, "Change the status", 200},
		{"/admin/licences/A-1/edit", "licensing/licence_form", w.admin, "Edit licence A-1", 200},
		{"/admin/audit?entity=licence", "licensing/audit", w.admin, "licence.create", 200},
		{"/admin/properties", "licensing/properties", w.admin, "JO Paris 2024", 200},
		{"/admin/properties/new", "licensing/property_form", w.admin, "New property", 200},
		{"/admin/properties/LA28/edit", "licensing/property_form", w.admin, `value="LA28"`, 200},
		{"/verify", "licensing/verify", "", "Licence number or hologram serial", 200},
		{"/verify?q=A-1", "licensing/verify", "", "Alpha", 200},
		{"/verify?q=al-0042&country=FR", "licensing/verify", "", "genuine", 200},
		{"/verify?q=what", "licensing/verify", "", "No licence has this number", 404},
		{"/admin/licensees/999999", "web/error", w.admin, "not found", 404},
	}
	rendered := map[string]bool{}
	for _, p := range pages {
		t.Run(strings.TrimPrefix(p.path, "/"), func(t *testing.T) {
			r := w.do("GET", p.path, p.key, nil)
			wantStatus(t, r, p.status)
			if !strings.Contains(r.body, p.want) {
				t.Fatalf("%s lacks %q: %.2000s", p.path, p.want, r.body)
			}
			rendered[p.page] = true
		})
	}
	for _, name := range w.srv.Pages.Names() {
		if strings.HasPrefix(name, "licensing/") && !rendered[name] {
			t.Errorf("page %s is not rendered by this test", name)
		}
	}
	t.Run("AnalystCannotOpenAdminPages", func(t *testing.T) {
		wantStatus(t, w.do("GET", "/admin", w.analyst, nil), http.StatusForbidden)
	})
	t.Run("AnonymousIsSentToLogIn", func(t *testing.T) {
		r := w.do("GET", "/admin/licences", "", nil)
		wantStatus(t, r, http.StatusSeeOther)
		if !strings.HasPrefix(r.header.Get("Location"), "/login") {
			t.Fatalf("Location = %s", r.header.Get("Location"))
		}
	})
	t.Run("LicenceFormShowsFieldErrors", func(t *testing.T) {
		r := w.do("POST", "/admin/licensees/"+a+"/licences", w.admin, url.Values{"number": {"A-3"}, "property": {"PARIS2024"},
			"categories": {"toys"}, "territories": {"FR, XX"}, "valid_from": {"2026-01-01"}, "valid_to": {"2025-01-01"}, "royalty_bps": {"20000"}})
		wantStatus(t, r, http.StatusBadRequest)
		for _, want := range []string{`id="territories-error"`, "XX: not an ISO 3166-1", `id="valid_to-error"`, `id="royalty_bps-error"`, `value="FR, XX"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("form lacks %s", want)
			}
		}
	})
	t.Run("FormsSucceedAndRedirect", func(t *testing.T) {
		r := w.do("POST", "/admin/licensees", w.admin, url.Values{"name": {"Delta"}, "country": {"ES"}, "contact_email": {"d@example.com"}})
		wantStatus(t, r, http.StatusSeeOther)
		delta := r.header.Get("Location")
		r = w.do("POST", delta+"/licences", w.admin, url.Values{"number": {"D-1"}, "property": {"LA28"},
			"categories": {"toys", "pins"}, "territories": {"ES PT"}, "valid_from": {"2026-01-01"}, "valid_to": {"2028-12-31"}, "royalty_bps": {"1100"}})
		wantStatus(t, r, http.StatusSeeOther)
		if r.header.Get("Location") != "/admin/licences/D-1" {
			t.Fatalf("Location = %s", r.header.Get("Location"))
		}
		wantStatus(t, w.do("POST", "/admin/licences/D-1/status", w.admin, url.Values{"status": {"suspended"}}), http.StatusBadRequest)
		wantStatus(t, w.do("POST", "/admin/licences/D-1/status", w.admin, url.Values{"status": {"suspended"}, "reason": {"late report"}}), http.StatusSeeOther)
		wantStatus(t, w.do("POST", delta+"/resellers", w.admin, url.Values{"seller_id": {"8"}, "territories": {"ES"}}), http.StatusSeeOther)
		wantStatus(t, w.do("POST", delta+"/resellers", w.admin, url.Values{"seller_id": {"8"}, "territories": {"FR"}}), http.StatusBadRequest)
		wantStatus(t, w.do("POST", delta+"/resellers/8/revoke", w.admin, url.Values{"reason": {"ended"}}), http.StatusSeeOther)
		wantStatus(t, w.do("POST", delta+"/serials", w.admin, url.Values{"product_sku": {"TOY-1"}, "prefix": {"DL-"}, "first": {"1"}, "last": {"10"}}), http.StatusSeeOther)
		r = w.do("POST", delta+"/serials", w.admin, url.Values{"product_sku": {"TOY-2"}, "prefix": {"DL-"}, "first": {"5"}, "last": {"x"}})
		wantStatus(t, r, http.StatusBadRequest)
		r = w.do("POST", delta+"/serials", w.admin, url.Values{"product_sku": {"TOY-2"}, "prefix": {"DL-"}, "first": {"5"}, "last": {"20"}})
		wantStatus(t, r, http.StatusConflict)
		if !strings.Contains(r.body, "overlaps the range DL-1 to DL-10") {
			t.Fatalf("serial form lacks the overlap: %.3000s", r.body)
		}
		wantStatus(t, w.do("POST", delta, w.admin, url.Values{"name": {"Delta SA"}, "country": {"ES"}, "contact_email": {"d@example.com"}}), http.StatusSeeOther)
		wantStatus(t, w.do("POST", "/admin/licences/A-1", w.admin, url.Values{"property": {"PARIS2024"}, "categories": {"apparel"},
			"territories": {"FR"}, "valid_from": {"2025-01-01"}, "valid_to": {"2026-12-31"}, "royalty_bps": {"1300"}}), http.StatusSeeOther)
		l, err := w.svc.LicenceByNumber(ctx, "A-1")
		if err != nil || l.RoyaltyBPS != 1300 || !slices.Equal(l.Territories, []string{"FR"}) {
			t.Fatalf("A-1 after edit = %+v, %v", l, err)
		}
	})
	t.Run("AdminHomeIsSet", func(t *testing.T) {
		if w.srv.Home(web.RoleAdmin) != "/admin" {
			t.Fatalf("admin home = %s", w.srv.Home(web.RoleAdmin))
		}
	})
}

func TestSeedIsIdempotent(t *testing.T) {
	svc, pool := newTestService(t, WithClock(time.Now))
	ctx := context.Background()
	res, err := Seed(ctx, svc)
	if err != nil {
		t.Fatal(err)
	}
	if err := SeedResellers(ctx, svc, []int64{11, 12, 13, 14, 15}); err != nil {
		t.Fatal(err)
	}
	counts := func() [4]int {
		return [4]int{count(t, pool, "SELECT count(*) FROM licensees"), count(t, pool, "SELECT count(*) FROM licences"),
			count(t, pool, "SELECT count(*) FROM reseller_authorisations"), count(t, pool, "SELECT count(*) FROM audit_log")}
	}
	before := counts()
	if _, err := Seed(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if err := SeedResellers(ctx, svc, []int64{11, 12, 13, 14}); err != nil {
		t.Fatal(err)
	}
	if after := counts(); after != before {
		t.Fatalf("seeding again changed the counts: %v → %v", before, after)
	}
	if before[0] != 8 || before[1] != 10 || before[2] != 4 {
		t.Fatalf("seeded %v", before)
	}
	exp, err := svc.LicenceByNumber(ctx, res.ExpiredLicence)
	if err != nil {
		t.Fatal(err)
	}
	sus, err := svc.LicenceByNumber(ctx, res.SuspendedLicence)
	if err != nil {
		t.Fatal(err)
	}
	if exp.InForce(time.Now()) || sus.Status != StatusSuspended {
		t.Fatalf("expired %+v, suspended %+v", exp, sus)
	}
	if v, err := svc.VerifySerial(ctx, res.GenuineSerial, "FR"); err != nil || v.Result != SerialGenuine {
		t.Fatalf("seeded serial: %+v, %v", v, err)
	}
	a, err := svc.Coverage(ctx, CoverageQuery{SellerID: 11, Property: "PARIS2024", Category: "apparel", Country: "BE"})
	if err != nil || !a.Allowed || a.Reason != ReasonAuthorisedReseller {
		t.Fatalf("seeded reseller: %+v, %v", a, err)
	}
}

// TestAPIBodiesAreStrictJSON checks that the registry's API reads its bodies with the shared
// strict decoder: another media type is a 415, an unknown field a 400 naming it.
func TestAPIBodiesAreStrictJSON(t *testing.T) {
	w := newHTTPWorld(t)
	send := func(ctype, body string) response {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/licensees", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+w.admin)
		rec := httptest.NewRecorder()
		w.srv.Handler().ServeHTTP(rec, req)
		return response{status: rec.Code, body: rec.Body.String(), header: rec.Header()}
	}
	t.Run("ErrTextPlainIs415", func(t *testing.T) {
		r := send("text/plain", `{"name": "Charlie", "country": "FR", "contact_email": "c@example.com"}`)
		wantStatus(t, r, http.StatusUnsupportedMediaType)
		if p := r.problem(t); !strings.Contains(p.Detail, "application/json") {
			t.Errorf("detail = %q, want it to name application/json", p.Detail)
		}
	})
	t.Run("ErrUnknownFieldIsNamed", func(t *testing.T) {
		r := send(echoJSON, `{"name": "Charlie", "country": "FR", "contact_email": "c@example.com", "colour": "blue"}`)
		wantStatus(t, r, http.StatusBadRequest)
		if f := r.fields(t); len(f) != 1 || f[0] != "colour" {
			t.Errorf("fields = %v, want [colour]", f)
		}
	})
	if ls, err := w.svc.Licensees(context.Background(), LicenseeFilter{}); err != nil || len(ls) != 2 {
		t.Fatalf("a refused body created a licensee: %d licensees, %v", len(ls), err)
	}
}
