package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/auth"
	"marketplace/internal/blob"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// httpWorld is a server with the accounts' and the catalogue's routes, two independent
// sellers (A and B), a licensee, and an API key per kind of caller.
type httpWorld struct {
	srv                                       *web.Server
	svc                                       *Service
	reg                                       *licensing.Service
	sellerA, sellerB                          Seller
	licensee                                  licensing.Licensee
	keyA, keyB, keyLicensee, keyFan, keyAdmin string
}

func newHTTPWorld(t *testing.T) *httpWorld {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t, Schemas()...)
	store, err := blob.Open(ctx, "file://"+filepath.ToSlash(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	reg := licensing.NewService(pool)
	svc, err := NewService(pool, reg, WithBlobs(store))
	if err != nil {
		t.Fatal(err)
	}
	accounts := auth.NewService(pool, auth.DefaultLimits)
	srv, err := web.NewServer(web.Config{Auth: accounts})
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Routes(srv, accounts); err != nil {
		t.Fatal(err)
	}
	srv.UseIdempotency(web.NewIdempotencyStore(pool))
	if err := Routes(srv, svc); err != nil {
		t.Fatal(err)
	}
	w := &httpWorld{srv: srv, svc: svc, reg: reg}
	seller := func(name string) Seller {
		s, err := svc.CreateSeller(ctx, NewSeller{Kind: SellerIndependent, Name: name, Country: "FR"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	w.sellerA, w.sellerB = seller("Alpha Shop"), seller("Bravo Shop")
	if w.licensee, err = reg.CreateLicensee(ctx, nil, licensing.LicenseeInput{Name: "Maison Test", Country: "FR", ContactEmail: "m@example.com"}); err != nil {
		t.Fatal(err)
	}
	key := func(nu auth.NewUser) string {
		u, err := accounts.CreateUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := accounts.CreateAPIKey(ctx, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	w.keyA = key(auth.NewUser{Email: "a@example.com", Role: web.RoleSeller, SellerID: w.sellerA.ID})
	w.keyB = key(auth.NewUser{Email: "b@example.com", Role: web.RoleSeller, SellerID: w.sellerB.ID})
	w.keyLicensee = key(auth.NewUser{Email: "l@example.com", Role: web.RoleLicensee, LicenseeID: w.licensee.ID})
	w.keyFan = key(auth.NewUser{Email: "fan@example.com", Role: web.RoleFan})
	w.keyAdmin = key(auth.NewUser{Email: "admin@example.com", Role: web.RoleAdmin})
	return w
}

type response struct {
	status int
	body   []byte
	header http.Header
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("not JSON (%v): %s", err, r.body)
	}
}

func (r response) problem(t *testing.T) web.Problem {
	t.Helper()
	var p web.Problem
	r.json(t, &p)
	return p
}

// do sends a request with key as Bearer (none when empty).
func (w *httpWorld) do(req *http.Request, key string) response {
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	w.srv.Handler().ServeHTTP(rec, req)
	return response{status: rec.Code, body: rec.Body.Bytes(), header: rec.Header()}
}

func (w *httpWorld) get(path, key string) response {
	return w.do(httptest.NewRequest(http.MethodGet, path, nil), key)
}

// file is one uploaded file of a multipart form.
type file struct {
	field, name string
	data        []byte
}

// multipartBody encodes fields and files as multipart/form-data.
func multipartBody(t *testing.T, fields map[string]string, files ...file) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		fw, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

func TestImageRoute(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t)
	img, err := w.svc.PutImage(context.Background(), withEXIFOrientation(encodeJPEG(t, twoTone(1000, 500)), 6))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := w.svc.CreateListing(ctx, w.sellerA.ID, NewListing{Title: "Mascot plush", Price: money.New(1500, "EUR"),
		Stock: 1, Territories: []string{"FR"}, ImageIDs: []int64{img.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Tx(ctx, w.svc.DB(), func(tx pgx.Tx) error { return w.svc.SetListingStatus(ctx, tx, l.ID, StatusLive, "screened") }); err != nil {
		t.Fatal(err)
	}
	path := "/images/" + itoa(img.ID)
	r := w.get(path+"?size=320", "")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/jpeg" ||
		r.header.Get("Cache-Control") != publicImageCache || r.header.Get("ETag") == "" {
		t.Fatalf("GET %s?size=320: %d %v", path, r.status, r.header)
	}
	if b := decodeJPEGSize(t, r.body).Bounds(); b.Dx() != 160 || b.Dy() != 320 {
		t.Errorf("rendition is %v, want 160×320 (turned by its EXIF orientation)", b.Size())
	}
	if r.header.Get("Content-Encoding") != "" {
		t.Errorf("a JPEG was compressed again: %s", r.header.Get("Content-Encoding"))
	}
	full := w.get(path, "")
	if b := decodeJPEGSize(t, full.body).Bounds(); full.status != http.StatusOK || b.Dx() != 500 || b.Dy() != 1000 {
		t.Errorf("GET %s: %d, %v", path, full.status, b.Size())
	}
	if bytes.Contains(full.body, []byte("Exif")) {
		t.Error("the served picture still carries EXIF data")
	}
	if full.header.Get("ETag") == r.header.Get("ETag") {
		t.Error("two sizes share an ETag")
	}

	req := httptest.NewRequest(http.MethodGet, path+"?size=320", nil)
	req.Header.Set("If-None-Match", r.header.Get("ETag"))
	if nm := w.do(req, ""); nm.status != http.StatusNotModified || len(nm.body) != 0 {
		t.Errorf("If-None-Match: %d, %d bytes", nm.status, len(nm.body))
	}
	req = httptest.NewRequest(http.MethodGet, path+"?size=500", nil)
	req.Header.Set("Accept", "application/json")
	if bad := w.do(req, ""); bad.status != http.StatusBadRequest || bad.problem(t).Errors[0].Field != "size" {
		t.Errorf("size=500: %d %s", bad.status, bad.body)
	}
	for _, p := range []string{"/images/99999", "/images/abc", "/images/-1"} {
		if nf := w.get(p, ""); nf.status != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, nf.status)
		}
	}
}

// TestImageRouteWithholdsPicturesNotForThePublic: a photo is public only while its listing is
// live (or its product official and approved); a blocked, pending or unattached picture is a
// 404 to a fan and to another seller, and is still shown to its seller and to analysts and
// admins (it is the evidence). A picture that may be withheld is never cached for a year.
func TestImageRouteWithholdsPicturesNotForThePublic(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t)
	ctx := context.Background()
	img, err := w.svc.PutImage(ctx, encodeJPEG(t, twoTone(400, 300)))
	if err != nil {
		t.Fatal(err)
	}
	loose, err := w.svc.PutImage(ctx, encodeJPEG(t, twoTone(300, 400)))
	if err != nil {
		t.Fatal(err)
	}
	l, err := w.svc.CreateListing(ctx, w.sellerA.ID, NewListing{Title: "Mascot plush", Price: money.New(1500, "EUR"),
		Stock: 1, Territories: []string{"FR"}, ImageIDs: []int64{img.ID}})
	if err != nil {
		t.Fatal(err)
	}
	setStatus := func(st ListingStatus) {
		t.Helper()
		if err := postgres.Tx(ctx, w.svc.DB(), func(tx pgx.Tx) error { return w.svc.SetListingStatus(ctx, tx, l.ID, st, "test") }); err != nil {
			t.Fatal(err)
		}
	}
	path := "/images/" + itoa(img.ID)
	check := func(state, key, who string, want int, cache string) {
		t.Helper()
		r := w.get(path, key)
		if r.status != want {
			t.Errorf("%s listing, %s: GET %s = %d, want %d", state, who, path, r.status, want)
			return
		}
		if want == http.StatusOK && r.header.Get("Cache-Control") != cache {
			t.Errorf("%s listing, %s: Cache-Control %q, want %q", state, who, r.header.Get("Cache-Control"), cache)
		}
	}
	for _, state := range []string{"pending", "blocked", "removed"} {
		if state != "pending" {
			setStatus(ListingStatus(state))
		}
		check(state, "", "anonymous fan", http.StatusNotFound, "")
		check(state, w.keyFan, "signed-in fan", http.StatusNotFound, "")
		check(state, w.keyB, "another seller", http.StatusNotFound, "")
		check(state, w.keyA, "its seller", http.StatusOK, privateImageCache)
		check(state, w.keyAdmin, "an admin", http.StatusOK, privateImageCache)
	}
	setStatus(StatusLive)
	check("live", "", "anonymous fan", http.StatusOK, publicImageCache)
	check("live", w.keyA, "its seller", http.StatusOK, publicImageCache)
	if r := w.get("/images/"+itoa(loose.ID), ""); r.status != http.StatusNotFound {
		t.Errorf("a picture on nothing: GET = %d, want 404", r.status)
	}
	if r := w.get("/images/"+itoa(loose.ID), w.keyAdmin); r.status != http.StatusOK {
		t.Errorf("a picture on nothing, admin: GET = %d, want 200", r.status)
	}
	if publicImageCache == "public, max-age=31536000, immutable" {
		t.Error("a live listing's photo, which a takedown withholds, is cached publicly for a year")
	}
}
