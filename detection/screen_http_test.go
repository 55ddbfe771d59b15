package detection

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"marketplace/detection/imagematch/imagetest"
	"marketplace/internal/auth"
	"marketplace/internal/web"
)

func TestFailedScreeningsView(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	accounts := auth.NewService(w.pool, auth.DefaultLimits)
	srv, err := web.NewServer(web.Config{Auth: accounts})
	if err != nil {
		t.Fatal(err)
	}
	if err := ScreeningRoutes(srv, w.svc); err != nil {
		t.Fatal(err)
	}
	key := func(email string, role web.Role) string {
		u, err := accounts.CreateUser(ctx, auth.NewUser{Email: email, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := accounts.CreateAPIKey(ctx, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	analyst, fan := key("analyst@example.com", web.RoleAnalyst), key("fan@example.com", web.RoleFan)
	get := func(path, key string) (int, string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}

	if code, body := get("/analyst/screenings", analyst); code != http.StatusOK || !strings.Contains(body, `id="none-failing"`) {
		t.Fatalf("empty page: %d %s", code, body)
	}
	img := w.images.put(t, jpegOf(t, imagetest.SynthPhoto(50, 300, 200)))
	w.images.breakImage(img)
	l := w.listing(w.seller("Unlucky").ID, "Mug", img)
	job := w.svc.db.QueryRow(ctx, `SELECT id FROM river_job WHERE kind = 'screen_listing'`)
	var jobID int64
	if err := job.Scan(&jobID); err != nil {
		t.Fatal(err)
	}
	// What the worker does with a failed attempt.
	_, serr := w.svc.ScreenListing(ctx, l.ID, jobID)
	if serr == nil {
		t.Fatal("screening an unfetchable picture succeeded")
	}
	if err := w.svc.recordFailure(ctx, l.ID, jobID, 1, serr, 0); err != nil {
		t.Fatal(err)
	}

	code, body := get("/analyst/screenings", analyst)
	if code != http.StatusOK || !strings.Contains(body, "connection refused") ||
		!strings.Contains(body, `action="/analyst/screenings/`+strconv.FormatInt(l.ID, 10)+`/retry"`) {
		t.Fatalf("page: %d %s", code, body)
	}
	code, body = get("/api/v1/detection/screenings/failed", analyst)
	var out struct{ Listings []StuckListing }
	if err := json.Unmarshal([]byte(body), &out); code != http.StatusOK || err != nil || len(out.Listings) != 1 ||
		out.Listings[0].ListingID != l.ID || out.Listings[0].Attempts != 1 {
		t.Fatalf("api: %d %s", code, body)
	}
	// Retry now: a new screening job for the listing.
	req := httptest.NewRequest(http.MethodPost, "/analyst/screenings/"+strconv.FormatInt(l.ID, 10)+"/retry", nil)
	req.Header.Set("Authorization", "Bearer "+analyst)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	var jobs int
	if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'screen_listing' AND args->>'listing_id' = $1`,
		strconv.FormatInt(l.ID, 10)).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusSeeOther || jobs != 2 {
		t.Fatalf("retry: %d %s; %d jobs", rec.Code, rec.Body.String(), jobs)
	}
	if code, _ := get("/api/v1/detection/screenings/failed", fan); code != http.StatusForbidden {
		t.Fatalf("a fan got %d", code)
	}
}
