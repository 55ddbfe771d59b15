package auth

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/web"
)

// loginServer is the accounts' routes on a server that trusts the given proxies.
func loginServer(t *testing.T, trusted ...string) (*web.Server, *Service) {
	t.Helper()
	var proxies []*net.IPNet
	for _, cidr := range trusted {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		proxies = append(proxies, n)
	}
	svc := NewService(pgtest.New(t, Schema), DefaultLimits)
	srv, err := web.NewServer(web.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: svc, TrustedProxies: proxies})
	if err != nil {
		t.Fatal(err)
	}
	if err := Routes(srv, svc); err != nil {
		t.Fatal(err)
	}
	return srv, svc
}

// postLogin sends the login form from remote with the given X-Forwarded-For, carrying the CSRF
// token a browser would have from the login page.
func postLogin(t *testing.T, srv *web.Server, remote, forwardedFor, email, password string) int {
	t.Helper()
	page := httptest.NewRecorder()
	srv.Handler().ServeHTTP(page, httptest.NewRequest(http.MethodGet, "/login", nil))
	var csrf *http.Cookie
	for _, ck := range page.Result().Cookies() {
		if ck.Name == "_csrf" {
			csrf = ck
		}
	}
	if csrf == nil {
		t.Fatalf("GET /login set no _csrf cookie: %d", page.Code)
	}
	form := url.Values{"email": {email}, "password": {password}, "_csrf": {csrf.Value}}
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrf)
	req.RemoteAddr = remote
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return rec.Code
}

func TestLoginAddressBehindProxies(t *testing.T) {
	t.Parallel()
	// Each guess names another account, so only the per-address limit can stop them.
	guess := func(t *testing.T, srv *web.Server, i int) int {
		t.Helper()
		return postLogin(t, srv, "127.0.0.1:40000", fmt.Sprintf("203.0.113.%d", i+1), fmt.Sprintf("user%d@example.com", i), "guess")
	}
	t.Run("ErrRotatingForwardedForFromAnUntrustedPeer", func(t *testing.T) {
		t.Parallel()
		srv, svc := loginServer(t)
		for i := range DefaultLimits.MaxFailuresAddress {
			if code := guess(t, srv, i); code != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d, want 401", i+1, code)
			}
		}
		if code := guess(t, srv, DefaultLimits.MaxFailuresAddress); code != http.StatusTooManyRequests {
			t.Fatalf("guess %d with a fresh X-Forwarded-For from loopback: %d, want 429", DefaultLimits.MaxFailuresAddress+1, code)
		}
		var ips []string
		if err := svc.db.QueryRow(context.Background(), "SELECT array_agg(DISTINCT ip) FROM login_failures").Scan(&ips); err != nil {
			t.Fatal(err)
		}
		if len(ips) != 1 || ips[0] != "127.0.0.1" {
			t.Fatalf("failures were counted against %v, want the peer 127.0.0.1 only", ips)
		}
	})
	t.Run("TrustedProxyForwardsTheClientAddress", func(t *testing.T) {
		t.Parallel()
		srv, svc := loginServer(t, "127.0.0.1/32")
		for i := range DefaultLimits.MaxFailuresAddress + 1 {
			if code := guess(t, srv, i); code != http.StatusUnauthorized {
				t.Fatalf("guess %d from its own forwarded address: %d, want 401", i+1, code)
			}
		}
		var n int
		if err := svc.db.QueryRow(context.Background(), "SELECT count(DISTINCT ip) FROM login_failures WHERE ip LIKE '203.0.113.%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != DefaultLimits.MaxFailuresAddress+1 {
			t.Fatalf("%d forwarded addresses recorded, want %d", n, DefaultLimits.MaxFailuresAddress+1)
		}
		// A header from a peer that is not the proxy is still ignored.
		if code := postLogin(t, srv, "10.9.9.9:40000", "203.0.113.200", "x@example.com", "guess"); code != http.StatusUnauthorized {
			t.Fatalf("login from another peer: %d", code)
		}
		var ip string
		if err := svc.db.QueryRow(context.Background(), "SELECT ip FROM login_failures WHERE email = 'x@example.com'").Scan(&ip); err != nil || ip != "10.9.9.9" {
			t.Fatalf("failure from an untrusted peer counted against %q, %v; want 10.9.9.9", ip, err)
		}
	})
}

func TestCSRFProtectsCookieSessionsOnly(t *testing.T) {
	t.Parallel()
	srv, svc := loginServer(t)
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, NewUser{Email: "fan@example.com", Password: "correct horse", Role: web.RoleFan})
	if err != nil {
		t.Fatal(err)
	}
	session, _, _, err := svc.Login(ctx, "fan@example.com", "correct horse", "10.0.0.1", "t")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := svc.CreateAPIKey(ctx, u.ID, "t")
	if err != nil {
		t.Fatal(err)
	}
	// Stand-ins for an API route "anyone" may call and a page's form.
	ok := func(c echo.Context) error { return c.NoContent(http.StatusCreated) }
	srv.Echo.POST("/api/v1/probe", ok)
	srv.Echo.POST("/probe", ok)
	post := func(path, ctype string, header ...string) int {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(`{"reason": "fake"}`))
		req.Header.Set("Content-Type", ctype)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Add(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	const crossSite = "https://evil.example"
	for _, tc := range []struct {
		name, path, ctype string
		header            []string
		want              int
	}{
		{"AnonymousAPICallNeedsNoToken", "/api/v1/probe", "application/json", nil, http.StatusCreated},
		{"APIKeyCallNeedsNoToken", "/api/v1/probe", "application/json", []string{"Authorization", "Bearer " + key}, http.StatusCreated},
		{"ErrSessionAPICallWithoutToken", "/api/v1/probe", "application/json", []string{"Cookie", web.SessionCookie + "=" + session}, http.StatusForbidden},
		{"ErrCrossSiteFormWithSessionToAPI", "/api/v1/probe", "application/x-www-form-urlencoded", []string{"Cookie", web.SessionCookie + "=" + session, "Origin", crossSite}, http.StatusForbidden},
		{"ErrCrossSiteFormWithSessionToPage", "/probe", "application/x-www-form-urlencoded", []string{"Cookie", web.SessionCookie + "=" + session, "Origin", crossSite}, http.StatusForbidden},
		{"SessionAPICallWithToken", "/api/v1/probe", "application/json", []string{"Cookie", web.SessionCookie + "=" + session + "; _csrf=tok", "X-CSRF-Token", "tok"}, http.StatusCreated},
		// Pages keep their token even without a session: login and checkout forms are forgeable too.
		{"ErrAnonymousPageFormWithoutToken", "/probe", "application/x-www-form-urlencoded", nil, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(tc.path, tc.ctype, tc.header...); got != tc.want {
				t.Fatalf("POST %s: %d, want %d", tc.path, got, tc.want)
			}
		})
	}
}
