package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"marketplace/detection/review"
)

// TestAnonymousAPIReport holds the contract's "anyone" on POST /api/v1/reports: a JSON call with
// no session needs no CSRF token, while a session cookie's call still does.
func TestAnonymousAPIReport(t *testing.T) {
	m := startMain(t)
	listing, _ := liveOfficialListing(t, m, "Maison Bleue Textiles")
	report := func(c *client, reason string, header ...string) (*http.Response, string) {
		t.Helper()
		body := fmt.Sprintf(`{"listing_id": %d, "reason": %q}`, listing.ID, reason)
		req, err := http.NewRequest(http.MethodPost, m.url("/api/v1/reports"), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return c.do(req)
	}
	reportsSoFar := func(body string) int {
		t.Helper()
		var res review.ReportResult
		if err := json.Unmarshal([]byte(body), &res); err != nil || res.ReportID == 0 {
			t.Fatalf("report answer %q: %v", body, err)
		}
		return res.Reports
	}

	anonymous := newClient(t, m)
	resp, body := report(anonymous, "the stitching is wrong")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("anonymous report: %d %s", resp.StatusCode, body)
	}
	first := reportsSoFar(body)

	fan := newClient(t, m)
	if resp := fan.login("fan@demo.olympics.test", DemoPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("fan login: %d", resp.StatusCode)
	}
	t.Run("ErrCrossSiteFormWithSession", func(t *testing.T) {
		form := url.Values{"listing_id": {fmt.Sprint(listing.ID)}, "reason": {"forged"}}
		for _, path := range []string{"/api/v1/reports", "/reports"} {
			if resp, body := fan.postForm(path, form, "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("cross-site form to %s with the fan's session: %d %s", path, resp.StatusCode, body)
			}
		}
	})
	t.Run("ErrSessionJSONWithoutToken", func(t *testing.T) {
		if resp, body := report(fan, "forged", "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("JSON with the fan's session and no token: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("SessionJSONWithTokenAndRefusedOnesChangedNothing", func(t *testing.T) {
		token := fan.csrf("/login")
		resp, body := report(fan, "the logo is blurred", "X-CSRF-Token", token)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("the fan's own report with the token: %d %s", resp.StatusCode, body)
		}
		if got := reportsSoFar(body); got != first+1 {
			t.Fatalf("reports on the case: %d after %d; a refused one was recorded", got, first)
		}
		all, err := m.Review.ReportsOfListing(context.Background(), listing.ID)
		if err != nil || len(all) != 2 {
			t.Fatalf("reports of listing %d: %+v, %v; want the anonymous one and the fan's", listing.ID, all, err)
		}
	})
}
