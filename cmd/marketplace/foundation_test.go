package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"marketplace/internal/browsertest"
	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/web"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	c := newClient(t, m)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} { // /metrics: TestMetricsForOperatorsOnly
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			resp, body := c.get(path)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
				t.Fatalf("%s = %d %q", path, resp.StatusCode, body)
			}
		})
	}
	t.Run("SecurityHeaders", func(t *testing.T) {
		resp, _ := c.get("/login")
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "X-Request-Id"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("missing %s", h)
			}
		}
	})
}

func TestServeRefusesUnappliedMigrations(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t) // River's tables only
	cfg, err := ConfigFromEnv(func(k string) string {
		return map[string]string{"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "PAYMENTS": "test"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Log: discardLogger()}
	defer m.Close()
	err = m.Run(context.Background(), RunOptions{Serve: true})
	if err == nil || !strings.Contains(err.Error(), "unapplied migrations") {
		t.Fatalf("serve on an unmigrated database: %v", err)
	}
	if err := m.Run(context.Background(), RunOptions{Serve: true, Migrate: true}); err != nil {
		t.Fatalf("serve --migrate: %v", err)
	}
	if pending, err := postgres.Pending(context.Background(), m.DB, Schemas()); err != nil || len(pending) != 0 {
		t.Fatalf("still pending: %v, %v", pending, err)
	}
}

func TestAccountsOverHTTP(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	ctx := context.Background()

	t.Run("ErrWrongPassword", func(t *testing.T) {
		c := newClient(t, m)
		if resp := c.login("fan@demo.olympics.test", "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if resp, _ := c.get("/account"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a failed login left a session: %d", resp.StatusCode)
		}
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		c := newClient(t, m)
		if resp := c.login("nobody@demo.olympics.test", DemoPassword); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("LoginLandsOnTheRolesHome", func(t *testing.T) {
		c := newClient(t, m)
		resp := c.login("analyst@demo.olympics.test", DemoPassword)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != m.Web.Home(web.RoleAnalyst) {
			t.Fatalf("login = %d → %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("ErrMissingCSRFToken", func(t *testing.T) {
		c := newClient(t, m)
		c.get("/register")
		resp, body := c.postForm("/register", url.Values{"email": {"csrf@example.com"}, "password": {"long enough pw"}, "password_again": {"long enough pw"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "security token") {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if _, err := m.Auth.UserByEmail(ctx, "csrf@example.com"); err == nil {
			t.Fatal("the account was created without a CSRF token")
		}
	})
	t.Run("ErrForgedCSRFToken", func(t *testing.T) {
		c := newClient(t, m)
		c.csrf("/register")
		resp, _ := c.postForm("/register", url.Values{"_csrf": {"forged"}, "email": {"forged@example.com"}, "password": {"long enough pw"}, "password_again": {"long enough pw"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if _, err := m.Auth.UserByEmail(ctx, "forged@example.com"); err == nil {
			t.Fatal("the account was created with a forged CSRF token")
		}
	})
	t.Run("ErrCrossSiteFormPost", func(t *testing.T) {
		c := newClient(t, m)
		token := c.csrf("/login")
		resp, _ := c.postForm("/login", url.Values{"_csrf": {token}, "email": {"fan@demo.olympics.test"}, "password": {DemoPassword}},
			"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site login post: status %d", resp.StatusCode)
		}
	})
	t.Run("ErrExpiredSession", func(t *testing.T) {
		c := newClient(t, m)
		if resp := c.login("fan@demo.olympics.test", DemoPassword); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %d", resp.StatusCode)
		}
		if _, err := m.DB.Exec(ctx, "UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE user_id = (SELECT id FROM users WHERE email = 'fan@demo.olympics.test')"); err != nil {
			t.Fatal(err)
		}
		resp, _ := c.get("/account")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Fatalf("expired session: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := c.get("/api/v1/me")
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("API with an expired session: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("APIKeyThenRevoked", func(t *testing.T) {
		u, err := m.Auth.UserByEmail(ctx, "analyst@demo.olympics.test")
		if err != nil {
			t.Fatal(err)
		}
		key, k, err := m.Auth.CreateAPIKey(ctx, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		c := newClient(t, m)
		resp, body := c.get("/api/v1/me", "Authorization", "Bearer "+key)
		var me struct{ Email, Role string }
		if err := json.Unmarshal([]byte(body), &me); err != nil {
			t.Fatalf("me = %d %s: %v", resp.StatusCode, body, err)
		}
		if resp.StatusCode != http.StatusOK || me.Email != "analyst@demo.olympics.test" || me.Role != "analyst" {
			t.Fatalf("me = %d %s", resp.StatusCode, body)
		}
		if err := m.Auth.RevokeAPIKey(ctx, u.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		resp, body = c.get("/api/v1/me", "Authorization", "Bearer "+key)
		var p web.Problem
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("revoked key: %d %s: %v", resp.StatusCode, body, err)
		}
		if resp.StatusCode != http.StatusUnauthorized || p.Status != 401 || p.Detail == "" {
			t.Fatalf("revoked key: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("ErrNoIdentity", func(t *testing.T) {
		resp, body := newClient(t, m).get("/api/v1/me")
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"status":401`) {
			t.Fatalf("me without identity: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		c := newClient(t, m)
		token := c.csrf("/login")
		resp, _ := c.postForm("/login", url.Values{"_csrf": {token}, "email": {strings.Repeat("a", 2<<20)}})
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("OpenRedirectRefused", func(t *testing.T) {
		c := newClient(t, m)
		token := c.csrf("/login")
		resp, _ := c.postForm("/login", url.Values{"_csrf": {token}, "email": {"fan@demo.olympics.test"}, "password": {DemoPassword}, "next": {"//evil.example/x"}})
		if loc := resp.Header.Get("Location"); strings.Contains(loc, "evil") {
			t.Fatalf("redirected to %s", loc)
		}
	})
}

// TestBrowserRegisterLogoutLogin is the first journey: a fan registers, logs out, logs back in
// and lands on their home page; then the same pages on a phone.
func TestBrowserRegisterLogoutLogin(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	b := browsertest.New(t, m.url(""), browsertest.Options{})

	b.Open("/register")
	b.Screenshot("register")
	b.Submit(map[string]string{"#email": "new.fan@example.com", "#password": "a long password", "#password_again": "a long password"}, "main button[type=submit]")
	if loc := b.Location(); !strings.HasPrefix(loc, m.Web.Home(web.RoleFan)) {
		t.Fatalf("after registering: at %s", loc)
	}
	b.Screenshot("registered")

	b.ClickAndWait("header button.link")
	if got := b.Text(".flash"); !strings.Contains(got, "logged out") {
		t.Fatalf("after logout the page says %q", got)
	}
	b.Screenshot("logged-out")

	b.Open("/login")
	b.Submit(map[string]string{"#email": "new.fan@example.com", "#password": "wrong password"}, "main button[type=submit]")
	if got := b.Text("#login-error"); !strings.Contains(got, "wrong e-mail address or password") {
		t.Fatalf("wrong password says %q", got)
	}
	b.Screenshot("wrong-password")
	b.Submit(map[string]string{"#email": "new.fan@example.com", "#password": "a long password"}, "main button[type=submit]")
	b.Open("/account")
	if got := b.Text("#account-email"); got != "new.fan@example.com" {
		t.Fatalf("account page shows %q", got)
	}
	b.Screenshot("account")

	phone := browsertest.New(t, m.url(""), browsertest.Options{Phone: true})
	phone.Open("/login")
	phone.Screenshot("phone-login")
}

// TestRolesAndTenants proves the role and tenant walls on the API: an analyst cannot do an
// admin's work, and a licensee cannot see another licensee's records (404: not yours).
func TestRolesAndTenants(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	ctx := context.Background()
	keyOf := func(email string) string {
		u, err := m.Auth.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := m.Auth.CreateAPIKey(ctx, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + key
	}
	c := newClient(t, m)
	post := func(path, auth, body string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodPost, m.url(path), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth)
		return c.do(req)
	}

	t.Run("ErrAnalystCallingAdminRoute", func(t *testing.T) {
		resp, body := post("/api/v1/licensees", keyOf("analyst@demo.olympics.test"), `{"name":"Sneaky Ltd","country":"FR","contact_email":"a@b.example"}`)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") {
			t.Fatalf("status %d %s", resp.StatusCode, body)
		}
		_, list := c.get("/api/v1/licensees?q=Sneaky", "Authorization", keyOf("admin@demo.olympics.test"))
		if strings.Contains(list, "Sneaky") {
			t.Fatal("the refused call created a licensee")
		}
	})
	t.Run("ErrLicenseeReadingAnotherLicensee", func(t *testing.T) {
		key := keyOf("licensee@demo.olympics.test")
		var me struct {
			LicenseeID int64 `json:"licensee_id"`
		}
		_, body := c.get("/api/v1/me", "Authorization", key)
		if err := json.Unmarshal([]byte(body), &me); err != nil || me.LicenseeID == 0 {
			t.Fatalf("me: %s", body)
		}
		if resp, body := c.get("/api/v1/licensees/"+itoa(me.LicenseeID), "Authorization", key); resp.StatusCode != http.StatusOK {
			t.Fatalf("own licensee: %d %s", resp.StatusCode, body)
		}
		other := m.otherLicensee(t, me.LicenseeID)
		for _, path := range []string{"/api/v1/licensees/" + itoa(other), "/api/v1/licensees/" + itoa(other) + "/licences"} {
			if resp, body := c.get(path, "Authorization", key); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// otherLicensee returns a licensee of the demo that is not id.
func (m *Main) otherLicensee(t *testing.T, id int64) int64 {
	t.Helper()
	var other int64
	if err := m.DB.QueryRow(context.Background(), "SELECT id FROM licensees WHERE id <> $1 ORDER BY id LIMIT 1", id).Scan(&other); err != nil {
		t.Fatal(err)
	}
	return other
}
