package licensing

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExpiredLicenceIsShownExpired: a licence whose term ended is "expired" in the API, the
// admin list and page, and on /verify (in the fan's language), though its row stays active.
func TestExpiredLicenceIsShownExpired(t *testing.T) {
	w := newHTTPWorld(t)
	in := goodLicence("OLD-1")
	in.Property = "LA28"
	in.ValidFrom, in.ValidTo = day(-400), day(-1)
	mustLicence(t, w.svc, w.a.ID, in)

	var l LicenceJSON
	r := w.do("GET", "/api/v1/licences/OLD-1", w.admin, nil)
	wantStatus(t, r, http.StatusOK)
	if err := json.Unmarshal([]byte(r.body), &l); err != nil || l.Status != StatusExpired {
		t.Errorf("API licence status = %q (%v), want expired", l.Status, err)
	}
	var v VerifyLicenceJSON
	r = w.do("GET", "/api/v1/verify/licences/OLD-1", "", nil)
	wantStatus(t, r, http.StatusOK)
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || v.Status != StatusExpired || v.Valid {
		t.Errorf("verify = %+v (%v), want expired and not valid", v, err)
	}
	var ls []LicenceJSON
	r = w.do("GET", "/api/v1/licensees/"+itoa(w.a.ID)+"/licences", w.admin, nil)
	if err := json.Unmarshal([]byte(r.body), &ls); err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, l := range ls {
		got[l.Number] = l.Status
	}
	if d := cmp.Diff(map[string]Status{"A-1": StatusActive, "OLD-1": StatusExpired}, got); d != "" {
		t.Errorf("licensee's licences (-want +got):\n%s", d)
	}
	for _, path := range []string{"/admin/licences", "/admin/licences?status=expired", "/admin/licences/OLD-1", "/admin/licensees/" + itoa(w.a.ID)} {
		r = w.do("GET", path, w.admin, nil)
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, `<span class="badge expired"`) {
			t.Errorf("%s does not show OLD-1 expired: %.3000s", path, r.body)
		}
	}
	r = w.do("GET", "/admin/licences?status=active", w.admin, nil)
	if strings.Contains(r.body, "OLD-1") {
		t.Errorf("the active licences include the expired OLD-1")
	}
	for _, c := range []struct{ lang, want string }{{"en", ">expired<"}, {"fr", ">expirée<"}, {"zh", ">已过期<"}} {
		r = w.doLang("GET", "/verify?q=OLD-1", "", c.lang)
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.body, c.want) || strings.Contains(r.body, ">active<") {
			t.Errorf("/verify in %s lacks %s: %.4000s", c.lang, c.want, r.body)
		}
	}
}

// TestLicenceFormNamesEveryField: an empty form names each missing field, and no page prints
// a formatting error.
func TestLicenceFormNamesEveryField(t *testing.T) {
	w := newHTTPWorld(t)
	a := itoa(w.a.ID)
	r := w.do("GET", "/admin/licensees/"+a+"/licences/new", w.admin, nil)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, "%!") {
		t.Errorf("the form prints a formatting error: %.3000s", r.body)
	}
	r = w.do("POST", "/admin/licensees/"+a+"/licences", w.admin, url.Values{"number": {""}, "property": {""},
		"territories": {""}, "valid_from": {""}, "valid_to": {""}, "royalty_bps": {""}})
	wantStatus(t, r, http.StatusBadRequest)
	for _, f := range []string{"number", "property", "categories", "territories", "valid_from", "valid_to", "royalty_bps"} {
		if !strings.Contains(r.body, `id="`+f+`-error"`) {
			t.Errorf("the empty form does not name %s", f)
		}
	}
	if strings.Contains(r.body, "%!") {
		t.Errorf("the refused form prints a formatting error")
	}
	r = w.do("POST", "/api/v1/licensees/"+a+"/licences", w.admin, `{}`)
	wantStatus(t, r, http.StatusBadRequest)
	if d := cmp.Diff([]string{"number", "property", "categories", "territories", "valid_from", "valid_to", "royalty_bps"}, r.fields(t)); d != "" {
		t.Errorf("API fields (-want +got):\n%s", d)
	}
	r = w.do("POST", "/admin/licensees/"+a+"/licences", w.admin, url.Values{"number": {"A-9"}, "property": {"PARIS2024"},
		"categories": {"toys"}, "territories": {"FR"}, "valid_from": {"soon"}, "valid_to": {"2026-12-31"}, "royalty_bps": {"12%"}})
	wantStatus(t, r, http.StatusBadRequest)
	for _, want := range []string{`id="valid_from-error"`, `id="royalty_bps-error"`, "1200 is 12%)"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("form lacks %s", want)
		}
	}
}
