package storefront

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"marketplace/catalog"
	"marketplace/internal/money"
)

// meiliDouble is a small stand-in for the Meilisearch endpoints the adapter calls: settings,
// add and delete documents, delete all, search. Its search understands the filters the
// adapter writes (`field IN [...]`, `field = value`, joined by AND), matches each query word
// as a prefix of a word of the searchable fields, counts facets and sorts, so that a test
// can check what comes back through the adapter, not only what it sent.
type meiliDouble struct {
	t        *testing.T
	mu       sync.Mutex
	docs     map[string]map[string]any
	settings map[string]any
	auth     []string
	task     int
	srv      *httptest.Server
}

func newMeiliDouble(t *testing.T) *meiliDouble {
	d := &meiliDouble{t: t, docs: map[string]map[string]any{}}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *meiliDouble) serve(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.auth = append(d.auth, r.Header.Get("Authorization"))
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	accepted := func(kind string) {
		d.task++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"taskUid":%d,"indexUid":"storefront","status":"enqueued","type":%q,"enqueuedAt":"2026-11-26T10:00:00Z"}`, d.task, kind)
	}
	switch {
	case r.Method == http.MethodPatch && r.URL.Path == "/indexes/storefront/settings":
		if err := json.Unmarshal(body, &d.settings); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		accepted("settingsUpdate")
	case r.Method == http.MethodPost && r.URL.Path == "/indexes/storefront/documents":
		if r.URL.Query().Get("primaryKey") != "id" {
			http.Error(w, `{"message":"primaryKey must be id"}`, http.StatusBadRequest)
			return
		}
		var docs []map[string]any
		if err := json.Unmarshal(body, &docs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, doc := range docs {
			d.docs[fmt.Sprint(doc["id"])] = doc
		}
		accepted("documentAdditionOrUpdate")
	case r.Method == http.MethodPost && r.URL.Path == "/indexes/storefront/documents/delete-batch":
		var ids []string
		if err := json.Unmarshal(body, &ids); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, id := range ids {
			delete(d.docs, id)
		}
		accepted("documentDeletion")
	case r.Method == http.MethodDelete && r.URL.Path == "/indexes/storefront/documents":
		clear(d.docs)
		accepted("documentDeletion")
	case r.Method == http.MethodPost && r.URL.Path == "/indexes/storefront/search":
		d.search(w, body)
	default:
		http.Error(w, `{"message":"not in the double"}`, http.StatusNotFound)
	}
}

func (d *meiliDouble) search(w http.ResponseWriter, body []byte) {
	var req struct {
		Q           string   `json:"q"`
		Filter      string   `json:"filter"`
		Facets      []string `json:"facets"`
		Sort        []string `json:"sort"`
		Page        int      `json:"page"`
		HitsPerPage int      `json:"hitsPerPage"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var hits []map[string]any
	for _, doc := range d.docs {
		if d.matchFilter(doc, req.Filter) && matchQuery(doc, req.Q) {
			hits = append(hits, doc)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i]["id"].(float64) > hits[j]["id"].(float64) })
	for _, s := range req.Sort {
		field, dir, _ := strings.Cut(s, ":")
		sort.SliceStable(hits, func(i, j int) bool {
			a, b := hits[i][field].(float64), hits[j][field].(float64)
			if dir == "desc" {
				return a > b
			}
			return a < b
		})
	}
	facets := map[string]map[string]int{}
	for _, f := range req.Facets {
		facets[f] = map[string]int{}
		for _, h := range hits {
			if v, ok := h[f]; ok {
				facets[f][fmt.Sprint(v)]++
			}
		}
	}
	total := len(hits)
	from := min((req.Page-1)*req.HitsPerPage, total)
	to := min(from+req.HitsPerPage, total)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"hits": hits[from:to], "totalHits": total, "page": req.Page,
		"hitsPerPage": req.HitsPerPage, "totalPages": (total + req.HitsPerPage - 1) / req.HitsPerPage,
		"facetDistribution": facets, "processingTimeMs": 1, "query": req.Q})
}

// matchFilter evaluates the filter grammar the adapter writes.
func (d *meiliDouble) matchFilter(doc map[string]any, filter string) bool {
	for _, clause := range strings.Split(filter, " AND ") {
		if field, list, ok := strings.Cut(clause, " IN ["); ok {
			var want []string
			for _, v := range strings.Split(strings.TrimSuffix(list, "]"), ",") {
				want = append(want, strings.Trim(strings.TrimSpace(v), `"`))
			}
			var have []string
			switch v := doc[field].(type) {
			case []any:
				for _, x := range v {
					have = append(have, fmt.Sprint(x))
				}
			default:
				have = []string{fmt.Sprint(v)}
			}
			if !slices.ContainsFunc(have, func(h string) bool { return slices.Contains(want, h) }) {
				return false
			}
			continue
		}
		field, value, ok := strings.Cut(clause, " = ")
		if !ok {
			d.t.Errorf("meilisearch double: cannot read filter clause %q", clause)
			return false
		}
		if fmt.Sprint(doc[field]) != strings.Trim(value, `"`) {
			return false
		}
	}
	return true
}

func matchQuery(doc map[string]any, q string) bool {
	text := strings.ToLower(fmt.Sprint(doc["title"], " ", doc["skus"], " ", doc["category_words"], " ", doc["summary"]))
	words := strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == '[' || r == ']' || r == ',' })
	for _, qw := range strings.Fields(strings.ToLower(strings.Trim(q, `"`))) {
		if !slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, qw) }) {
			return false
		}
	}
	return true
}

// TestMeiliEngineAgainstADouble runs the storefront on the Meilisearch adapter against the
// double: documents go in through the follower, searches come back filtered by country and
// licence, with facets, sorted, and removed listings leave the index.
func TestMeiliEngineAgainstADouble(t *testing.T) {
	t.Parallel()
	double := newMeiliDouble(t)
	w := newWorld(t, Options{Engine: NewMeiliEngine(double.srv.URL, "test-key", "storefront")})
	w.standard()

	double.mu.Lock()
	settings, auth, docs := double.settings, slices.Clone(double.auth), len(double.docs)
	double.mu.Unlock()
	if docs != 10 {
		t.Errorf("%d documents in the index, want every live listing with a property (10)", docs)
	}
	if !slices.Contains(auth, "Bearer test-key") {
		t.Errorf("the API key was not sent: %v", auth)
	}
	filterable, err := json.Marshal(settings["filterableAttributes"])
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"group_id", "territories", "band_EUR"} {
		if !strings.Contains(string(filterable), f) {
			t.Errorf("%s is not filterable: %s", f, filterable)
		}
	}

	r, err := w.search(marketFR, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := w.keys(r); !sameSet(got, []string{"tee", "cap", "tee-zh", "claimed", "jacket", "ringpin"}) || r.Total != 6 {
		t.Fatalf("France: %v (%d)", got, r.Total)
	}
	var paris int
	for _, f := range r.Facets.Property {
		if f.Value == "PARIS2024" {
			paris = f.Count
		}
	}
	if paris != 4 || len(r.Facets.Licensee) != 3 || r.Facets.Licensee[0].Label != "Maison Bleue Textiles" {
		t.Fatalf("facets %+v", r.Facets)
	}
	r, err = w.search(marketFR, "sort=price_asc&property=PARIS2024")
	if err != nil || !slices.Equal(w.keys(r), []string{"tee", "tee-zh", "cap", "claimed"}) {
		t.Fatalf("price ascending: %v, %v", w.keys(r), err)
	}
	if r.Hits[0].Price.Amount != 2500 || r.Hits[0].Price.Currency != "EUR" {
		t.Fatalf("price %+v", r.Hits[0].Price)
	}
	r, err = w.search(marketFR, "q=jacket&price=3")
	if err != nil || !slices.Equal(w.keys(r), []string{"jacket"}) {
		t.Fatalf("jacket in band 3: %v, %v", w.keys(r), err)
	}
	if r := w.mustSearch(t, marketUS, ""); !sameSet(w.keys(r), []string{"hoodie", "ringpin"}) {
		t.Fatalf("United States: %v", w.keys(r))
	}
	w.setStatus(w.listings["jacket"].ID, catalog.StatusRemoved)
	w.sync()
	if r := w.mustSearch(t, marketFR, "q=jacket"); r.Total != 0 {
		t.Fatal("a removed listing is still in the index")
	}
	n, err := w.store.Reindex(context.Background())
	double.mu.Lock()
	docs = len(double.docs)
	double.mu.Unlock()
	if err != nil || n != 9 || docs != 9 {
		t.Fatalf("reindex wrote %d (index holds %d), %v", n, docs, err)
	}
}

// TestMeiliEngineUnreachableLeavesTheFollowerWhereItWas proves a Meilisearch outage loses
// nothing: the follower does not move on, and applies the changes once the index answers.
func TestMeiliEngineUnreachableLeavesTheFollowerWhereItWas(t *testing.T) {
	t.Parallel()
	double := newMeiliDouble(t)
	url := double.srv.URL
	double.srv.Close()
	w := newWorld(t, Options{Engine: NewMeiliEngine(url, "", "storefront")})
	mb := w.licenseeSeller("Maison Bleue Textiles")
	w.list("tee", mb.ID, catalog.NewListing{Title: "Tee", Price: moneyEUR(2500), Territories: []string{"FR"},
		Property: "PARIS2024", Category: "apparel"}, catalog.StatusLive)
	if _, err := w.store.SyncOnce(context.Background()); err == nil {
		t.Fatal("the follower reported success with Meilisearch down")
	}
	if pos, err := w.store.FollowerPosition(context.Background()); err != nil || pos != 0 {
		t.Fatalf("the follower moved to %d with Meilisearch down (%v)", pos, err)
	}
	if caught, err := w.store.CaughtUp(context.Background()); err != nil || caught {
		t.Fatalf("the outbox was consumed with Meilisearch down (caught up %v, %v)", caught, err)
	}
}

// TestMeilisearchLive runs the adapter against a real Meilisearch when MEILISEARCH_URL names
// one (none can be installed on the build machines).
func TestMeilisearchLive(t *testing.T) {
	url := os.Getenv("MEILISEARCH_URL")
	if url == "" {
		t.Skip("MEILISEARCH_URL is not set")
	}
	index := "storefront_test_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	w := newWorld(t, Options{Engine: NewMeiliEngine(url, os.Getenv("MEILISEARCH_KEY"), index)})
	w.standard()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := w.search(marketFR, "q=jacket")
		if err == nil && len(r.Hits) == 1 && w.keys(r)[0] == "jacket" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Meilisearch did not find the jacket within 30 s: %v, %v", w.keys(r), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	r, err := w.search(marketFR, "")
	if err != nil || !sameSet(w.keys(r), []string{"tee", "cap", "tee-zh", "claimed", "jacket", "ringpin"}) {
		t.Fatalf("France: %v, %v", w.keys(r), err)
	}
	r, err = w.search(marketFR, "q=jakcet") // Meilisearch's own typo tolerance
	if err != nil || r.Total != 1 {
		t.Fatalf("typo: %v, %v", w.keys(r), err)
	}
}

func moneyEUR(amount int64) money.Money { return money.New(amount, "EUR") }
