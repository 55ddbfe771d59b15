package review

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"marketplace/catalog"
	"marketplace/internal/web"
)

// reviewHTTP is a server with the accounts' and the review's routes over a reviewWorld, and an
// API key per caller.
type reviewHTTP struct {
	*reviewWorld
	srv                       *web.Server
	k1, k2, fanKey, sellerKey string
	seller                    catalog.Seller
}

func newReviewHTTP(t *testing.T) *reviewHTTP {
	t.Helper()
	w := &reviewHTTP{reviewWorld: newReviewWorld(t)}
	srv, err := web.NewServer(web.Config{Auth: w.accounts})
	if err != nil {
		t.Fatal(err)
	}
	if err := Routes(srv, w.rv); err != nil {
		t.Fatal(err)
	}
	w.srv = srv
	w.seller = w.reviewWorld.seller("Seine Bargains", catalog.NewSeller{ContactEmail: "deals@seine.example", PayoutAccount: "FR76-1"})
	key := func(id *web.Identity) string {
		k, _, err := w.accounts.CreateAPIKey(w.ctx, id.UserID, "test")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	w.k1, w.k2 = key(w.a1), key(w.a2)
	w.fanKey = key(w.user("fan@example.com", web.RoleFan, 0))
	w.sellerKey = key(w.user("seller@example.com", web.RoleSeller, w.seller.ID))
	return w
}

type reviewResponse struct {
	status int
	body   string
	header http.Header
}

func (r reviewResponse) problem(t *testing.T) web.Problem {
	t.Helper()
	var p web.Problem
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatalf("not a problem document (%v): %s", err, r.body)
	}
	return p
}

func (w *reviewHTTP) do(method, path, key string, body any) reviewResponse {
	w.t.Helper()
	var rd *bytes.Reader
	ctype := "application/json"
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
			w.t.Fatal(err)
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
	rec := httptest.NewRecorder()
	w.srv.Handler().ServeHTTP(rec, req)
	return reviewResponse{status: rec.Code, body: rec.Body.String(), header: rec.Header()}
}

func wantHTTP(t *testing.T, r reviewResponse, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %.1500s", r.status, status, r.body)
	}
}

func TestReviewHTTPRefusesBadCallsAndChangesNothing(t *testing.T) {
	t.Parallel()
	w := newReviewHTTP(t)
	_, c1 := w.flagged(w.seller.ID, "Paris 2024 hoodie replica", "PARIS2024", 80, "official_photo")
	_, c2 := w.flagged(w.seller.ID, "Paris 2024 pin", "PARIS2024", 40, "counterfeit_words")
	wantHTTP(t, w.do("POST", fmt.Sprintf("/api/v1/cases/%d/claim", c1.ID), w.k1, nil), http.StatusOK)
	wantHTTP(t, w.do("POST", fmt.Sprintf("/api/v1/cases/%d/claim", c2.ID), w.k2, nil), http.StatusOK)
	before := w.state()
	id1, id2 := reviewID(c1.ID), reviewID(c2.ID)
	good := map[string]string{"decision": "counterfeit", "note": "official photo"}

	for _, tc := range []struct {
		name, method, path, key string
		body                    any
		status                  int
		field                   string
	}{
		{"FanListsCases", "GET", "/api/v1/cases?status=open", w.fanKey, nil, 403, ""},
		{"SellerListsCases", "GET", "/api/v1/cases", w.sellerKey, nil, 403, ""},
		{"AnonymousListsCases", "GET", "/api/v1/cases", "", nil, 401, ""},
		{"FanClaims", "POST", "/api/v1/cases/" + id1 + "/claim", w.fanKey, nil, 403, ""},
		{"SellerDecides", "POST", "/api/v1/cases/" + id1 + "/decision", w.sellerKey, good, 403, ""},
		{"SellerBulk", "POST", "/api/v1/cases/decisions", w.sellerKey, map[string]any{"case_ids": []int64{c1.ID}, "decision": "authentic", "note": "mine"}, 403, ""},
		{"FanMetrics", "GET", "/api/v1/review/metrics", w.fanKey, nil, 403, ""},
		{"SecondClaim", "POST", "/api/v1/cases/" + id1 + "/claim", w.k2, nil, 409, ""},
		{"NotYourClaim", "POST", "/api/v1/cases/" + id2 + "/decision", w.k1, good, 403, ""},
		{"UnknownDecision", "POST", "/api/v1/cases/" + id1 + "/decision", w.k1, map[string]string{"decision": "shred", "note": "x"}, 400, "decision"},
		{"UnknownField", "POST", "/api/v1/cases/" + id1 + "/decision", w.k1, map[string]string{"decision": "counterfeit", "note": "x", "score": "0"}, 400, "score"},
		{"NotJSON", "POST", "/api/v1/cases/" + id1 + "/decision", w.k1, "decision=counterfeit", 400, ""},
		{"NoSuchCase", "POST", "/api/v1/cases/424242/decision", w.k1, good, 404, ""},
		{"BadCaseID", "POST", "/api/v1/cases/abc/claim", w.k1, nil, 404, ""},
		{"BulkOverAnotherAnalystsClaim", "POST", "/api/v1/cases/decisions", w.k1, map[string]any{"case_ids": []int64{c1.ID, c2.ID}, "decision": "counterfeit", "note": "batch"}, 403, "case_ids[1]"},
		{"BulkEmpty", "POST", "/api/v1/cases/decisions", w.k1, map[string]any{"case_ids": []int64{}, "decision": "counterfeit", "note": "batch"}, 400, "case_ids"},
		{"BadFilter", "GET", "/api/v1/cases?age=soon", w.k1, nil, 400, "age"},
		{"UnknownFilter", "GET", "/api/v1/cases?colour=red", w.k1, nil, 400, "colour"},
		{"ReportWithoutReason", "POST", "/api/v1/reports", w.fanKey, map[string]any{"listing_id": c1.ListingID}, 400, "reason"},
		{"AnswerNotWaiting", "POST", "/api/v1/cases/" + id1 + "/answer", w.sellerKey, map[string]string{"answer": "hi"}, 409, ""},
		{"AnalystAnswers", "POST", "/api/v1/cases/" + id1 + "/answer", w.k1, map[string]string{"answer": "hi"}, 403, ""},
		{"FanPage", "GET", "/analyst/cases", w.fanKey, nil, 403, ""},
		{"SellerMetricsPage", "GET", "/analyst/metrics", w.sellerKey, nil, 403, ""},
		{"DecisionFormWithoutNote", "POST", "/analyst/cases/" + id1 + "/decision", w.k1, url.Values{"decision": {"counterfeit"}}, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(tc.method, tc.path, tc.key, tc.body)
			wantHTTP(t, r, tc.status)
			if strings.HasPrefix(tc.path, "/api/") {
				p := r.problem(t)
				if p.Detail == "" {
					t.Errorf("no detail: %s", r.body)
				}
				if tc.field != "" {
					found := false
					for _, f := range p.Errors {
						found = found || f.Field == tc.field
					}
					if !found {
						t.Errorf("no error for %s: %s", tc.field, r.body)
					}
				}
			}
		})
	}
	if after := w.state(); after != before {
		t.Fatalf("a refused request changed something:\n before %s\n after  %s", before, after)
	}
	t.Run("AnonymousPageGoesToLogin", func(t *testing.T) {
		r := w.do("GET", "/analyst/cases", "", nil)
		wantHTTP(t, r, http.StatusSeeOther)
		if !strings.HasPrefix(r.header.Get("Location"), "/login") {
			t.Fatalf("Location %s", r.header.Get("Location"))
		}
	})
	t.Run("DecideThenClosed", func(t *testing.T) {
		r := w.do("POST", "/api/v1/cases/"+id1+"/decision", w.k1, good)
		wantHTTP(t, r, http.StatusCreated)
		var d DecisionRecord
		if err := json.Unmarshal([]byte(r.body), &d); err != nil || d.Decision != DecisionCounterfeit || d.CaseID != c1.ID {
			t.Fatalf("decision %s (%v)", r.body, err)
		}
		wantHTTP(t, w.do("POST", "/api/v1/cases/"+id1+"/decision", w.k1, good), http.StatusConflict)
	})
}

func TestReviewPagesRender(t *testing.T) {
	t.Parallel()
	w := newReviewHTTP(t)
	other := w.reviewWorld.seller("Seine Bargains Bis", catalog.NewSeller{PayoutAccount: "FR76-1"})
	shared := w.image()
	w.listing(other.ID, "Same photo elsewhere", "", catalog.StatusLive, shared)
	l, c := w.flagged(w.seller.ID, "Paris 2024 scarf", "PARIS2024", 75, "official_photo", "low_price")
	_ = l
	_, c2 := w.flagged(w.seller.ID, "LA28 cap", "LA28", 35, "young_seller")
	live := w.listing(w.seller.ID, "Plain mug", "", catalog.StatusLive, shared)
	wantHTTP(t, w.do("POST", "/analyst/cases/"+reviewID(c.ID)+"/claim", w.k1, url.Values{}), http.StatusSeeOther)
	wantHTTP(t, w.do("POST", "/api/v1/reports", w.fanKey, map[string]any{"listing_id": live.ID, "reason": "the mug is a knock-off"}), http.StatusCreated)

	pages := []struct {
		path, page, key, want string
		status                int
	}{
		{"/analyst/cases", "review/review_queue", w.k1, "Paris 2024 scarf", 200},
		{"/analyst/cases?rule=young_seller", "review/review_queue", w.k1, "LA28 cap", 200},
		{"/analyst/cases?age=forever", "review/review_queue", w.k1, "is not an age", 400},
		{"/analyst/cases/" + reviewID(c.ID), "review/review_case", w.k1, `id="decision-form"`, 200},
		{"/analyst/cases/" + reviewID(c2.ID), "review/review_case", w.k1, `id="claim"`, 200},
		{"/analyst/metrics", "review/review_metrics", w.k1, `id="rule-chart"`, 200},
		{"/report?listing_id=" + reviewID(live.ID), "review/review_report", w.fanKey, "Plain mug", 200},
		{"/report?listing_id=" + reviewID(live.ID), "review/review_report", "", "Send the report", 200},
		{"/seller/cases", "review/review_seller", w.sellerKey, "Questions waiting for you", 200},
	}
	rendered := map[string]bool{}
	for _, p := range pages {
		t.Run(strings.TrimPrefix(p.path, "/"), func(t *testing.T) {
			r := w.do("GET", p.path, p.key, nil)
			wantHTTP(t, r, p.status)
			if !strings.Contains(r.body, p.want) {
				t.Fatalf("%s lacks %q: %.3000s", p.path, p.want, r.body)
			}
			rendered[p.page] = true
		})
	}
	for _, name := range w.srv.Pages.Names() {
		if strings.HasPrefix(name, "review/") && !rendered[name] {
			t.Errorf("page %s is not rendered by this test", name)
		}
	}
	t.Run("CaseShowsLinksAndEvidence", func(t *testing.T) {
		body := w.do("GET", "/analyst/cases/"+reviewID(c.ID), w.k1, nil).body
		for _, want := range []string{"Seine Bargains Bis", "payout_account", "<code>official_photo</code>", "<code>low_price</code>",
			`id="seller-strikes">0<`, "Plain mug", "/analyst/static/review.js"} {
			if !strings.Contains(body, want) {
				t.Errorf("case page lacks %q", want)
			}
		}
	})
	t.Run("ReportPageInFrench", func(t *testing.T) {
		req := httptest.NewRequest("GET", "/report?listing_id="+reviewID(live.ID), nil)
		req.Header.Set("Accept-Language", "fr-FR,fr;q=0.9")
		rec := httptest.NewRecorder()
		w.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Signaler une contrefaçon présumée") || !strings.Contains(rec.Body.String(), "Envoyer le signalement") {
			t.Fatalf("French report page: %d %.1500s", rec.Code, rec.Body.String())
		}
	})
	t.Run("StaticFiles", func(t *testing.T) {
		r := w.do("GET", "/analyst/static/review.js", "", nil)
		wantHTTP(t, r, 200)
		if !strings.Contains(r.header.Get("Content-Type"), "javascript") || !strings.Contains(r.body, "keydown") {
			t.Fatalf("review.js: %s", r.header.Get("Content-Type"))
		}
		wantHTTP(t, w.do("GET", "/analyst/static/../review.go", "", nil), 404)
	})
	t.Run("DecisionFormThenMetricsAndCSV", func(t *testing.T) {
		r := w.do("POST", "/analyst/cases/"+reviewID(c.ID)+"/decision", w.k1, url.Values{"decision": {"counterfeit"}, "note": {"same photo as the official scarf"}})
		wantHTTP(t, r, http.StatusSeeOther)
		body := w.do("GET", "/analyst/metrics", w.k1, nil).body
		for _, want := range []string{"ana@example.com", `id="m-decided">1<`, "official_photo", "100%"} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics page lacks %q", want)
			}
		}
		r = w.do("GET", "/analyst/metrics.csv?days=7", w.k1, nil)
		wantHTTP(t, r, 200)
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("content type %s", r.header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, row := range rows {
			if row[0] == "rule" && row[1] == "official_photo" {
				found = row[2] == "1" && row[3] == "1" && row[4] == "1" && row[5] == "1.0000"
			}
		}
		if !found {
			t.Fatalf("no official_photo row with 1 flag, 1 decided, 1 confirmed: %v", rows)
		}
		wantHTTP(t, w.do("GET", "/analyst/metrics.csv?days=0", w.k1, nil), 400)
		r = w.do("GET", "/api/v1/review/metrics", w.k1, nil)
		wantHTTP(t, r, 200)
		var m struct {
			Rules []struct {
				Rule      string   `json:"rule"`
				Precision *float64 `json:"precision"`
			} `json:"rules"`
		}
		if err := json.Unmarshal([]byte(r.body), &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Rules) == 0 {
			t.Fatalf("metrics json %s", r.body)
		}
	})
	t.Run("QueueAPI", func(t *testing.T) {
		r := w.do("GET", "/api/v1/cases?status=open", w.k2, nil)
		wantHTTP(t, r, 200)
		var out CasesJSON
		if err := json.Unmarshal([]byte(r.body), &out); err != nil {
			t.Fatal(err)
		}
		if len(out.Cases) != 2 || out.Cases[0].ID != c2.ID || out.Backlog.Open != 2 {
			t.Fatalf("open cases %s", r.body)
		}
	})
}
