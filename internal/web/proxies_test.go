package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.0.0.0/8, 127.0.0.1 ::1")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, n := range got {
		s = append(s, n.String())
	}
	if strings.Join(s, " ") != "10.0.0.0/8 127.0.0.1/32 ::1/128" {
		t.Fatalf("parsed %v", s)
	}
	if got, err := ParseTrustedProxies(""); err != nil || len(got) != 0 {
		t.Fatalf("empty: %v, %v", got, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.com", "10.0.0.0/8,nope"} {
		if _, err := ParseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") {
			t.Fatalf("%q: err = %v, want one naming TRUSTED_PROXIES", bad, err)
		}
	}
}

func TestClientIP(t *testing.T) {
	ip := func(srv *Server, remote, xff string) string {
		var got string
		srv.Echo.GET("/ip", func(c echo.Context) error { got = ClientIP(c); return c.NoContent(http.StatusNoContent) })
		req := httptest.NewRequest(http.MethodGet, "/ip", nil)
		req.RemoteAddr = remote
		req.Header.Set(echo.HeaderXForwardedFor, xff)
		req.Header.Set(echo.HeaderXRealIP, xff)
		serve(srv, req)
		return got
	}
	t.Run("NoProxiesIgnoreTheHeaders", func(t *testing.T) {
		srv := newTestServer(t, Config{})
		for _, remote := range []string{"127.0.0.1:1", "10.1.2.3:1", "192.168.0.9:1"} {
			if got := ip(srv, remote, "203.0.113.7"); got != strings.TrimSuffix(remote, ":1") {
				t.Fatalf("from %s: %q", remote, got)
			}
		}
	})
	t.Run("ConfiguredProxyIsBelieved", func(t *testing.T) {
		trusted, err := ParseTrustedProxies("10.0.0.0/8")
		if err != nil {
			t.Fatal(err)
		}
		srv := newTestServer(t, Config{TrustedProxies: trusted})
		if got := ip(srv, "10.1.2.3:1", "203.0.113.7"); got != "203.0.113.7" {
			t.Fatalf("through the proxy: %q", got)
		}
		// Loopback is not the proxy, so it cannot speak for anyone.
		if got := ip(srv, "127.0.0.1:1", "203.0.113.7"); got != "127.0.0.1" {
			t.Fatalf("from loopback: %q", got)
		}
		// A client's own X-Forwarded-For ahead of the proxy's entry does not count.
		if got := ip(srv, "10.1.2.3:1", "198.51.100.1, 203.0.113.7"); got != "203.0.113.7" {
			t.Fatalf("spoofed chain: %q", got)
		}
	})
}
