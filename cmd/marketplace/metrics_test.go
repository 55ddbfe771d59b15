package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMetricsForOperatorsOnly: /metrics (routes, latencies, counts) is not public. On the main
// address an anonymous caller, and a signed-in fan, get 404: the same answer as a page that does
// not exist, so the public is not even told there is something to try (401 or 403 would say so).
// An admin gets it there, and METRICS_ADDR serves it to whoever reaches that address, which an
// operator keeps private.
func TestMetricsForOperatorsOnly(t *testing.T) {
	t.Parallel()
	m := startMain(t, "METRICS_ADDR", "127.0.0.1:0")

	t.Run("AnonymousIsNotFound", func(t *testing.T) {
		resp, body := newClient(t, m).get("/metrics")
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "http_request") {
			t.Fatalf("anonymous GET /metrics = %d:\n%.300s", resp.StatusCode, body)
		}
	})
	t.Run("FanIsNotFound", func(t *testing.T) {
		c := newClient(t, m)
		if resp := c.login("fan@demo.olympics.test", DemoPassword); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("fan login: %d", resp.StatusCode)
		}
		if resp, _ := c.get("/metrics"); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("fan GET /metrics = %d", resp.StatusCode)
		}
	})
	t.Run("AdminGetsThem", func(t *testing.T) {
		c := newClient(t, m)
		if resp := c.login("admin@demo.olympics.test", DemoPassword); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("admin login: %d", resp.StatusCode)
		}
		c.get("/healthz") // so the metrics have a request to count
		resp, body := c.get("/metrics")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "http_requests_total") {
			t.Fatalf("admin GET /metrics = %d:\n%.300s", resp.StatusCode, body)
		}
	})
	t.Run("MetricsAddrServesThem", func(t *testing.T) {
		if m.MetricsAddr == "" {
			t.Fatal("METRICS_ADDR is set but no metrics listener was started")
		}
		resp, err := http.Get("http://" + m.MetricsAddr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "# TYPE") {
			t.Fatalf("GET %s/metrics = %d:\n%.300s", m.MetricsAddr, resp.StatusCode, body)
		}
		// The metrics listener serves metrics and nothing else.
		other, err := http.Get("http://" + m.MetricsAddr + "/login")
		if err != nil {
			t.Fatal(err)
		}
		_ = other.Body.Close()
		if other.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s/login = %d, want 404", m.MetricsAddr, other.StatusCode)
		}
	})
}
