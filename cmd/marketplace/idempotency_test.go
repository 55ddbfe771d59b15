package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestServeHonoursIdempotencyKey: through the whole server, an admin's licence POSTed again
// with the same Idempotency-Key (a retry after a cut connection) answers the first 201 again
// instead of a 409 for the number taken, and another body with the key is a 422.
func TestServeHonoursIdempotencyKey(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	ctx := context.Background()
	u, err := m.Auth.UserByEmail(ctx, "admin@demo.olympics.test")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := m.Auth.CreateAPIKey(ctx, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	licensee := m.otherLicensee(t, 0)
	c := newClient(t, m)
	post := func(body string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodPost, m.url("/api/v1/licensees/"+itoa(licensee)+"/licences"), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Idempotency-Key", "licence-retry-1")
		return c.do(req)
	}
	body := `{"number":"IDEM-2026-1","property":"LA28","categories":["headwear"],"territories":["IS"],` +
		`"valid_from":"2026-01-01","valid_to":"2027-12-31","royalty_bps":1200}`
	first, firstBody := post(body)
	if first.StatusCode != http.StatusCreated {
		t.Fatalf("first POST: %d %s", first.StatusCode, firstBody)
	}
	again, againBody := post(body)
	if again.StatusCode != http.StatusCreated || againBody != firstBody || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retried POST: %d %s, want the first answer replayed", again.StatusCode, againBody)
	}
	var n int
	if err := m.DB.QueryRow(ctx, `SELECT count(*) FROM licences WHERE number = 'IDEM-2026-1'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("licences = %d, %v; want 1", n, err)
	}
	if other, otherBody := post(strings.Replace(body, "1200", "1300", 1)); other.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("the key with another body: %d %s, want 422", other.StatusCode, otherBody)
	}
}
