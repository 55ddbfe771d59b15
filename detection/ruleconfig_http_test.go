package detection

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"marketplace/internal/auth"
	"marketplace/internal/web"
)

type rulesHTTPWorld struct {
	srv                 *web.Server
	store               *RuleStore
	analyst, admin, fan string
}

func newRulesHTTPWorld(t *testing.T) *rulesHTTPWorld {
	t.Helper()
	store, _ := newRuleStoreWorld(t)
	accounts := auth.NewService(store.db, auth.DefaultLimits)
	srv, err := web.NewServer(web.Config{Auth: accounts})
	if err != nil {
		t.Fatal(err)
	}
	if err := RulesRoutes(srv, store); err != nil {
		t.Fatal(err)
	}
	key := func(email string, role web.Role) string {
		u, err := accounts.CreateUser(context.Background(), auth.NewUser{Email: email, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := accounts.CreateAPIKey(context.Background(), u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	return &rulesHTTPWorld{srv: srv, store: store, analyst: key("analyst@example.com", web.RoleAnalyst),
		admin: key("admin@example.com", web.RoleAdmin), fan: key("fan@example.com", web.RoleFan)}
}

func (w *rulesHTTPWorld) do(method, path, key string, body any) (int, string) {
	var rd *bytes.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case url.Values:
		rd, ctype = bytes.NewReader([]byte(b.Encode())), "application/x-www-form-urlencoded"
	default:
		js, err := json.Marshal(b)
		if err != nil {
			panic(err) // a test's own body: no t here, and a panic fails the test as well
		}
		rd = bytes.NewReader(js)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", ctype)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	w.srv.Handler().ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// formValues is the rules form as the page fills it for cfg.
func formValues(cfg RuleConfig) url.Values {
	v := url.Values{"version": {"0"}, "review_at": {"30"}, "block_at": {"70"}, "hash_radius": {"10"},
		"counterfeit_words": {strings.Join(cfg.CounterfeitWords, "\r\n")}}
	v.Set("version", strconv.FormatInt(cfg.Version, 10))
	for _, d := range RuleDefs {
		s := cfg.Rule(d.ID)
		if s.Enabled {
			v.Set("rules."+d.ID+".enabled", "on")
		}
		v.Set("rules."+d.ID+".weight", strconv.Itoa(s.Weight))
		for _, p := range d.Params {
			v.Set("rules."+d.ID+".params."+p.Name, strconv.Itoa(s.Param(p.Name)))
		}
	}
	return v
}

func TestRulesPage(t *testing.T) {
	t.Parallel()
	w := newRulesHTTPWorld(t)
	ctx := context.Background()

	t.Run("AnalystSeesEveryRule", func(t *testing.T) {
		code, body := w.do("GET", "/analyst/rules", w.analyst, nil)
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		for _, d := range RuleDefs {
			if !strings.Contains(body, `name="rules.`+d.ID+`.weight"`) {
				t.Fatalf("rule %s missing from the page", d.ID)
			}
		}
		if !strings.Contains(body, "réplique") || !strings.Contains(body, `name="_csrf"`) {
			t.Fatal("words or CSRF field missing")
		}
	})

	t.Run("TryAText", func(t *testing.T) {
		code, body := w.do("GET", "/analyst/rules?try="+url.QueryEscape("P4ris 2O24 tee, 1:1 REPL1CA"), w.analyst, nil)
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		for _, want := range []string{"<strong>PARIS2024</strong>: “P4ris 2O24”", "“1:1” (1:1)", "“REPL1CA” (replica)"} {
			if !strings.Contains(body, want) {
				t.Fatalf("the try box does not show %q", want)
			}
		}
		_, body = w.do("GET", "/analyst/rules?try=Paris+Hilton", w.analyst, nil)
		if !strings.Contains(body, "No mark found.") {
			t.Fatal("Paris Hilton found a mark")
		}
	})

	t.Run("ErrForbiddenForFans", func(t *testing.T) {
		if code, _ := w.do("GET", "/analyst/rules", w.fan, nil); code != http.StatusForbidden {
			t.Fatalf("fan: %d", code)
		}
		if code, _ := w.do("GET", "/api/v1/detection/rules", "", nil); code != http.StatusUnauthorized {
			t.Fatalf("anonymous: %d", code)
		}
	})

	t.Run("BadFormChangesNothing", func(t *testing.T) {
		for field, value := range map[string]string{
			"rules.price_too_low.weight":                   "101",
			"rules.seller_strikes.weight":                  "ten",
			"block_at":                                     "20",
			"rules.price_too_low.params.max_share_percent": "0",
		} {
			v := formValues(DefaultRuleConfig())
			v.Set(field, value)
			code, body := w.do("POST", "/analyst/rules", w.analyst, v)
			if code != http.StatusBadRequest {
				t.Fatalf("%s=%s: status %d", field, value, code)
			}
			id := strings.ReplaceAll(field, ".", "-") + "-error"
			if !strings.Contains(body, `id="`+id+`"`) || !strings.Contains(body, `value="`+value+`"`) {
				t.Fatalf("%s=%s: the error or the typed value is not shown", field, value)
			}
		}
		if cfg, err := w.store.Config(ctx); err != nil || cfg.Version != 0 {
			t.Fatalf("a refused form saved version %d (%v)", cfg.Version, err)
		}
	})

	t.Run("SaveFromTheForm", func(t *testing.T) {
		v := formValues(DefaultRuleConfig())
		v.Set("rules.counterfeit_words.weight", "55")
		v.Del("rules.seller_strikes.enabled")
		v.Set("counterfeit_words", "replica\r\nbootleg\r\n\r\n")
		v.Set("note", "bootlegs seen at the fan zone")
		code, body := w.do("POST", "/analyst/rules", w.analyst, v)
		if code != http.StatusSeeOther {
			t.Fatalf("status %d: %s", code, body)
		}
		cfg, err := w.store.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Version != 1 || cfg.Rule(RuleCounterfeitWords).Weight != 55 || cfg.Rule(RuleSellerStrikes).Enabled ||
			strings.Join(cfg.CounterfeitWords, ",") != "replica,bootleg" {
			t.Fatalf("saved %+v", cfg)
		}
		// The same form again is stale now.
		if code, body := w.do("POST", "/analyst/rules", w.analyst, v); code != http.StatusConflict || !strings.Contains(body, "reload") {
			t.Fatalf("stale form: %d", code)
		}
		_, page := w.do("GET", "/analyst/rules", w.analyst, nil)
		if !strings.Contains(page, "bootlegs seen at the fan zone") || !strings.Contains(page, `name="version" value="1"`) {
			t.Fatal("the history or the new version is not shown")
		}
	})

	t.Run("API", func(t *testing.T) {
		code, body := w.do("GET", "/api/v1/detection/rules", w.admin, nil)
		if code != http.StatusOK {
			t.Fatalf("GET: %d", code)
		}
		var cfg RuleConfig
		if err := json.Unmarshal([]byte(body), &cfg); err != nil || cfg.Version != 1 {
			t.Fatalf("GET: %v %s", err, body)
		}
		cfg.HashRadius = 99
		code, body = w.do("PUT", "/api/v1/detection/rules", w.admin, RulesRequest{RuleConfig: cfg})
		if code != http.StatusBadRequest || !strings.Contains(body, "hash_radius") {
			t.Fatalf("PUT bad radius: %d %s", code, body)
		}
		cfg.HashRadius = 8
		code, body = w.do("PUT", "/api/v1/detection/rules", w.admin, RulesRequest{RuleConfig: cfg, Note: "tighter"})
		if code != http.StatusOK || !strings.Contains(body, `"version":2`) {
			t.Fatalf("PUT: %d %s", code, body)
		}
		code, body = w.do("GET", "/api/v1/detection/rules/versions", w.analyst, nil)
		if code != http.StatusOK || !strings.Contains(body, `"note":"tighter"`) {
			t.Fatalf("versions: %d %s", code, body)
		}
	})
}
