package licensing

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func (w *httpWorld) properties(t *testing.T) []Property {
	t.Helper()
	r := w.do("GET", "/api/v1/properties", "", nil)
	wantStatus(t, r, http.StatusOK)
	var ps []Property
	if err := json.Unmarshal([]byte(r.body), &ps); err != nil {
		t.Fatalf("properties: %v: %s", err, r.body)
	}
	return ps
}

func TestPropertiesAPI(t *testing.T) {
	w := newHTTPWorld(t)
	ctx := context.Background()

	t.Run("CreateWithMarksAsObjectsAndStrings", func(t *testing.T) {
		r := w.do("POST", "/api/v1/properties", w.admin, `{"code": "brisbane2032", "name": "Brisbane 2032",
			"marks": [{"text": "Brisbane 2032", "lang": ""}, "BNE32", {"text": "Jeux de Brisbane", "lang": "fr"}, {"text": "布里斯班2032", "lang": "zh"}]}`)
		wantStatus(t, r, http.StatusCreated)
		var p Property
		if err := json.Unmarshal([]byte(r.body), &p); err != nil {
			t.Fatal(err)
		}
		want := Property{Code: "BRISBANE2032", Name: "Brisbane 2032", Marks: []Mark{
			{Property: "BRISBANE2032", Text: "Brisbane 2032"}, {Property: "BRISBANE2032", Text: "BNE32"},
			{Property: "BRISBANE2032", Text: "Jeux de Brisbane", Lang: "fr"}, {Property: "BRISBANE2032", Text: "布里斯班2032", Lang: "zh"}}}
		if d := cmp.Diff(want, p); d != "" {
			t.Fatalf("created property (-want +got):\n%s", d)
		}
		if i := slices.IndexFunc(w.properties(t), func(p Property) bool { return p.Code == "BRISBANE2032" }); i < 0 {
			t.Fatal("GET /api/v1/properties lacks BRISBANE2032")
		}
		entries, err := w.svc.AuditLog(ctx, "property", "BRISBANE2032", 10)
		if err != nil || len(entries) != 1 || entries[0].Action != "property.create" {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
	})

	t.Run("ScreeningAndCoverageSeeTheNewProperty", func(t *testing.T) {
		marks, err := w.svc.PropertyMarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(marks, func(m Mark) bool { return m.Text == "BNE32" && m.Property == "BRISBANE2032" }) {
			t.Fatalf("PropertyMarks lacks BNE32: %+v", marks)
		}
		in := goodLicence("BNE-1")
		in.Property = "BRISBANE2032"
		mustLicence(t, w.svc, w.a.ID, in)
	})

	t.Run("PatchRenamesAndReplacesMarks", func(t *testing.T) {
		r := w.do("PATCH", "/api/v1/properties/BRISBANE2032", w.admin, `{"name": "Brisbane 2032 Games", "marks": ["Brisbane 2032", {"text": "Brisbane Games", "lang": "en"}]}`)
		wantStatus(t, r, http.StatusOK)
		var p Property
		if err := json.Unmarshal([]byte(r.body), &p); err != nil {
			t.Fatal(err)
		}
		want := Property{Code: "BRISBANE2032", Name: "Brisbane 2032 Games", Marks: []Mark{
			{Property: "BRISBANE2032", Text: "Brisbane 2032"}, {Property: "BRISBANE2032", Text: "Brisbane Games", Lang: "en"}}}
		if d := cmp.Diff(want, p); d != "" {
			t.Fatalf("patched property (-want +got):\n%s", d)
		}
		r = w.do("PATCH", "/api/v1/properties/BRISBANE2032", w.admin, `{"name": "Brisbane 2032"}`)
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, "Brisbane Games") {
			t.Fatalf("a patch without marks dropped them: %s", r.body)
		}
		entries, err := w.svc.AuditLog(ctx, "property", "BRISBANE2032", 10)
		if err != nil || len(entries) != 3 || entries[0].Action != "property.update" {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
	})

	t.Run("BadInputNamesEveryFieldAndChangesNothing", func(t *testing.T) {
		before := w.properties(t)
		r := w.do("POST", "/api/v1/properties", w.admin, `{"code": "x", "name": " ", "marks": ["", {"text": "ok", "lang": "not a tag!"}]}`)
		wantStatus(t, r, http.StatusBadRequest)
		if d := cmp.Diff([]string{"code", "name", "marks[0].text", "marks[1].lang"}, r.fields(t)); d != "" {
			t.Errorf("fields (-want +got):\n%s", d)
		}
		r = w.do("POST", "/api/v1/properties", w.admin, `{"code": "LA28", "name": "Again", "marks": []}`)
		wantStatus(t, r, http.StatusConflict)
		r = w.do("PATCH", "/api/v1/properties/LA28", w.admin, `{"name": "", "marks": [{"text": " "}]}`)
		wantStatus(t, r, http.StatusBadRequest)
		if d := cmp.Diff([]string{"name", "marks[0].text"}, r.fields(t)); d != "" {
			t.Errorf("fields (-want +got):\n%s", d)
		}
		r = w.do("PATCH", "/api/v1/properties/LA28", w.admin, `{"marks": ["LA28", "la28"]}`)
		wantStatus(t, r, http.StatusBadRequest)
		wantStatus(t, w.do("PATCH", "/api/v1/properties/NOPE99", w.admin, `{"name": "x"}`), http.StatusNotFound)
		if d := cmp.Diff(before, w.properties(t)); d != "" {
			t.Fatalf("refused writes changed the properties (-before +after):\n%s", d)
		}
	})

	t.Run("OnlyAdminsWrite", func(t *testing.T) {
		wantStatus(t, w.do("POST", "/api/v1/properties", w.analyst, `{"code": "SAPPORO30", "name": "Sapporo"}`), http.StatusForbidden)
		wantStatus(t, w.do("PATCH", "/api/v1/properties/LA28", w.userA, `{"name": "x"}`), http.StatusForbidden)
	})
}

func TestPropertyPages(t *testing.T) {
	w := newHTTPWorld(t)
	r := w.do("POST", "/admin/properties", w.admin, url.Values{"code": {"MILANO2026"}, "name": {"Milano Cortina 2026"},
		"mark_text": {"Milano Cortina 2026", "Milan 2026", "米兰2026", ""}, "mark_lang": {"", "en", "zh", ""}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/admin/properties/MILANO2026/edit" {
		t.Fatalf("Location = %s", loc)
	}
	r = w.do("GET", "/admin/properties", w.admin, nil)
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{"MILANO2026", "Milan 2026", "米兰2026", "LA28"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("property list lacks %q", want)
		}
	}
	r = w.do("POST", "/admin/properties/MILANO2026", w.admin, url.Values{"name": {"Milano Cortina"},
		"mark_text": {"Milano Cortina 2026", "Milano 2026"}, "mark_lang": {"", "it"}})
	wantStatus(t, r, http.StatusSeeOther)
	ps, err := w.svc.Properties(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ps, func(p Property) bool { return p.Code == "MILANO2026" })
	if i < 0 || ps[i].Name != "Milano Cortina" || len(ps[i].Marks) != 2 || ps[i].Marks[1] != (Mark{Property: "MILANO2026", Text: "Milano 2026", Lang: "it"}) {
		t.Fatalf("after edit: %+v", ps)
	}
	r = w.do("POST", "/admin/properties", w.admin, url.Values{"code": {""}, "name": {""}, "mark_text": {"x"}, "mark_lang": {"??"}})
	wantStatus(t, r, http.StatusBadRequest)
	for _, want := range []string{`id="code-error"`, `id="name-error"`, `id="marks-error"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("form lacks %s: %.3000s", want, r.body)
		}
	}
	r = w.do("GET", "/admin/properties/MILANO2026", w.admin, nil) // the form's own address, opened
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "/admin/properties/MILANO2026/edit" {
		t.Fatalf("GET the property's address: Location = %s", loc)
	}
	r = w.do("GET", "/admin/properties/MILANO2026/edit", w.admin, nil)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, `value="Milano 2026"`) {
		t.Fatalf("edit form lacks the mark: %.3000s", r.body)
	}
	for _, lang := range []struct{ accept, want string }{{"fr", "Propriétés"}, {"zh", "奥运资产"}} {
		r := w.doLang("GET", "/admin/properties", w.admin, lang.accept)
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, lang.want) {
			t.Errorf("%s property list lacks %q", lang.accept, lang.want)
		}
	}
	wantStatus(t, w.do("GET", "/admin/properties", w.analyst, nil), http.StatusForbidden)
}

// doLang is a GET with an Accept-Language header.
func (w *httpWorld) doLang(method, path, key, lang string) response {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Accept-Language", lang)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	w.srv.Handler().ServeHTTP(rec, req)
	return response{status: rec.Code, body: rec.Body.String(), header: rec.Header()}
}
