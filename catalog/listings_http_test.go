package catalog

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/postgres"
)

// goodListing is a valid listing form with one photo.
func goodListing(t *testing.T) (map[string]string, []file) {
	return map[string]string{"title": "Mascot plush, 30 cm", "description": "Bought at the Games, never used.",
			"price_amount": "2500", "currency": "eur", "territories": "FR, BE;DE", "stock": "2"},
		[]file{{"images", "plush.jpg", encodeJPEG(t, twoTone(640, 480))}}
}

func (w *httpWorld) postListing(t *testing.T, key string, fields map[string]string, files ...file) response {
	t.Helper()
	body, ctype := multipartBody(t, fields, files...)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/listings", body)
	req.Header.Set("Content-Type", ctype)
	return w.do(req, key)
}

// counts returns how many listings and images are stored.
func (w *httpWorld) counts(t *testing.T) (listings, images int) {
	t.Helper()
	if err := w.svc.DB().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM listings), (SELECT count(*) FROM images)`).
		Scan(&listings, &images); err != nil {
		t.Fatal(err)
	}
	return listings, images
}

// screeningSource answers with one fixed screening, standing in for detection (which the
// catalogue may not import) to check how the API shows what the source says.
type screeningSource map[int64]*Screening

func (s screeningSource) Screening(_ context.Context, id int64) (*Screening, error) {
	return s[id], nil
}

func TestCreateListingAPI(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t)
	ctx := context.Background()
	fields, files := goodListing(t)
	fields["seller_id"] = itoa(w.sellerB.ID) // a field the API does not take: the seller is the caller's
	second := file{"images[]", "back.png", encodePNG(t, twoTone(300, 400))}
	r := w.postListing(t, w.keyA, fields, append(files, second)...)
	if r.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	var created CreatedJSON
	r.json(t, &created)
	if created.ID == 0 || created.Status != StatusPending {
		t.Fatalf("created = %+v", created)
	}
	l, err := w.svc.Listing(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if l.SellerID != w.sellerA.ID || l.Price.Amount != 2500 || l.Price.Currency != "EUR" || l.Stock != 2 ||
		!slices.Equal(l.Territories, []string{"FR", "BE", "DE"}) || len(l.Images) != 2 || l.Images[1].ContentType != "image/png" {
		t.Fatalf("listing = %+v", l)
	}
	var jobs int
	if err := w.svc.DB().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'screen_listing' AND args->>'listing_id' = $1`,
		itoa(l.ID)).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("screening jobs = %d, %v", jobs, err)
	}

	path := "/api/v1/listings/" + itoa(l.ID)
	t.Run("its seller sees it pending with a null screening", func(t *testing.T) {
		r := w.get(path, w.keyA)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"screening":null`) {
			t.Fatalf("GET: %d %s", r.status, r.body)
		}
		var got ListingJSON
		r.json(t, &got)
		if got.ID != l.ID || got.Status != StatusPending || got.Screening != nil || len(got.Images) != 2 {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("another seller, a licensee and a fan do not", func(t *testing.T) {
		for name, key := range map[string]string{"seller B": w.keyB, "licensee": w.keyLicensee} {
			if r := w.get(path, key); r.status != http.StatusNotFound {
				t.Errorf("%s: %d %s", name, r.status, r.body)
			}
		}
		if r := w.get(path, w.keyFan); r.status != http.StatusForbidden {
			t.Errorf("fan: %d", r.status)
		}
		if r := w.get(path, ""); r.status != http.StatusUnauthorized {
			t.Errorf("anonymous: %d", r.status)
		}
		if r := w.get("/api/v1/listings/99999", w.keyA); r.status != http.StatusNotFound {
			t.Errorf("missing id: %d", r.status)
		}
	})
	t.Run("an admin does", func(t *testing.T) {
		if r := w.get(path, w.keyAdmin); r.status != http.StatusOK {
			t.Errorf("admin: %d", r.status)
		}
	})
	t.Run("once screened, the screening shows", func(t *testing.T) {
		w.svc.SetScreeningSource(screeningSource{l.ID: {Score: 70, Verdict: "hold",
			Reasons: []ScreeningReason{{Rule: "official_image_match", Weight: 60, Detail: "photo 1 is the official picture of SKU X"}},
			Matches: []ScreeningMatch{{ImageID: l.Images[0].ID, Kind: "official", Distance: 3}}}})
		err := postgres.Tx(ctx, w.svc.DB(), func(tx pgx.Tx) error { return w.svc.SetListingStatus(ctx, tx, l.ID, StatusHeld, "looks official") })
		if err != nil {
			t.Fatal(err)
		}
		var got ListingJSON
		w.get(path, w.keyA).json(t, &got)
		if got.Status != StatusHeld || got.Screening == nil || got.Screening.Score != 70 || got.Screening.Reasons[0].Rule != "official_image_match" ||
			got.Screening.Matches[0].Distance != 3 {
			t.Fatalf("got %+v screening %+v", got, got.Screening)
		}
	})
	t.Run("the list has the caller's own only", func(t *testing.T) {
		var a, b ListingsJSON
		w.get("/api/v1/listings", w.keyA).json(t, &a)
		w.get("/api/v1/listings", w.keyB).json(t, &b)
		if len(a.Listings) != 1 || a.Listings[0].ID != l.ID || len(b.Listings) != 0 {
			t.Fatalf("A sees %d, B sees %d", len(a.Listings), len(b.Listings))
		}
	})
	t.Run("a licensee lists as its licensee", func(t *testing.T) {
		fields, files := goodListing(t)
		r := w.postListing(t, w.keyLicensee, fields, files...)
		if r.status != http.StatusCreated {
			t.Fatalf("POST: %d %s", r.status, r.body)
		}
		var created CreatedJSON
		r.json(t, &created)
		own, err := w.svc.LicenseeSeller(ctx, w.licensee.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := w.svc.Listing(ctx, created.ID); err != nil || got.SellerID != own.ID {
			t.Fatalf("seller %d, want the licensee's %d (%v)", got.SellerID, own.ID, err)
		}
	})
}

func TestCreateListingAPIRefusesAndWritesNothing(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t)
	good := encodeJPEG(t, twoTone(640, 480))
	cases := []struct {
		name   string
		key    string
		change map[string]string
		files  []file
		status int
		fields []string
	}{
		{"wrong currency", w.keyA, map[string]string{"currency": "EURO"}, nil, 400, []string{"currency"}},
		{"bad territory", w.keyA, map[string]string{"territories": "FR;ZZ"}, nil, 400, []string{"territories"}},
		{"price not a number", w.keyA, map[string]string{"price_amount": "12.50"}, nil, 400, []string{"price_amount"}},
		{"no title, no price", w.keyA, map[string]string{"title": " ", "price_amount": ""}, nil, 400, []string{"title", "price_amount"}},
		{"unknown SKU", w.keyA, map[string]string{"product_sku": "NOPE-1"}, nil, 400, []string{"product_sku"}},
		{"no photo", w.keyA, nil, []file{}, 400, []string{"images"}},
		{"a truncated photo after a good one", w.keyA, nil, []file{{"images", "a.jpg", good}, {"images", "b.jpg", good[:len(good)/2]}}, 400, []string{"images"}},
		{"a decompression bomb", w.keyA, nil, []file{{"images", "bomb.png", pngBomb(100000, 100000)}}, 400, []string{"images"}},
		{"a text file", w.keyA, nil, []file{{"images", "notes.txt", []byte("hello")}}, 400, []string{"images"}},
		{"a fan", w.keyFan, nil, nil, 403, nil},
		{"an analyst", w.keyAdmin, nil, nil, 403, nil},
		// Without a key a request is a browser's: without a session's CSRF token it is refused.
		{"anonymous", "", nil, nil, 401, nil}, // no identity: the API speaks 401 (CSRF guards cookie sessions only)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fields, files := goodListing(t)
			for k, v := range c.change {
				fields[k] = v
			}
			if c.files != nil {
				files = c.files
			}
			r := w.postListing(t, c.key, fields, files...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if c.fields != nil {
				var names []string
				for _, f := range r.problem(t).Errors {
					names = append(names, f.Field)
				}
				for _, want := range c.fields {
					if !slices.Contains(names, want) {
						t.Errorf("fields %v do not name %s: %s", names, want, r.body)
					}
				}
			}
			if l, i := w.counts(t); l != 0 || i != 0 {
				t.Errorf("stored %d listings and %d images", l, i)
			}
		})
	}
	t.Run("the bad photo is named", func(t *testing.T) {
		r := w.postListing(t, w.keyA, map[string]string{"title": "x", "price_amount": "100", "currency": "EUR", "territories": "FR"},
			file{"images", "bomb.png", pngBomb(100000, 100000)})
		if p := r.problem(t); len(p.Errors) != 1 || !strings.Contains(p.Errors[0].Message, "bomb.png") || !strings.Contains(p.Errors[0].Message, "100000×100000") {
			t.Errorf("errors = %+v", p.Errors)
		}
	})
	t.Run("not multipart", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/listings", strings.NewReader(`{"title":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		if r := w.do(req, w.keyA); r.status != http.StatusBadRequest {
			t.Errorf("JSON body: %d %s", r.status, r.body)
		}
	})
}

func TestPortalPages(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t)
	fields, files := goodListing(t)
	r := w.postListing(t, w.keyA, fields, files...)
	var created CreatedJSON
	r.json(t, &created)

	for _, c := range []struct{ path, key, want string }{
		{"/portal", w.keyA, "Mascot plush, 30 cm"},
		{"/portal?status=pending", w.keyA, "/portal/listings/" + itoa(created.ID)},
		{"/portal/listings", w.keyLicensee, "No listing yet."},
		{"/portal/listings/new", w.keyA, `enctype="multipart/form-data"`},
		{"/portal/listings/" + itoa(created.ID), w.keyA, "We are checking this listing."},
	} {
		r := w.get(c.path, c.key)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), c.want) {
			t.Errorf("GET %s: %d, %q not in the page", c.path, r.status, c.want)
		}
	}
	fr := httptest.NewRequest(http.MethodGet, "/portal/listings/new", nil)
	fr.Header.Set("Accept-Language", "fr-FR,fr")
	if r := w.do(fr, w.keyA); !strings.Contains(string(r.body), "Nouvelle annonce") || !strings.Contains(string(r.body), "Envoyer pour vérification") {
		t.Errorf("the form in French: %d %s", r.status, r.body)
	}
	if r := w.get("/portal/listings/"+itoa(created.ID), w.keyB); r.status != http.StatusNotFound {
		t.Errorf("another seller's listing page: %d", r.status)
	}
	if r := w.get("/portal", w.keyFan); r.status != http.StatusForbidden {
		t.Errorf("a fan's portal: %d", r.status)
	}

	t.Run("the form shows each bad field beside it and keeps what was typed", func(t *testing.T) {
		body, ctype := multipartBody(t, map[string]string{"title": "Scarf", "price": "12.5", "currency": "JPY", "territories": "FR, ZZ"},
			file{"images", "scarf.jpg", encodeJPEG(t, twoTone(100, 100))})
		req := httptest.NewRequest(http.MethodPost, "/portal/listings", body)
		req.Header.Set("Content-Type", ctype)
		r := w.do(req, w.keyA)
		page := string(r.body)
		if r.status != http.StatusBadRequest || !strings.Contains(page, `id="price-error"`) || !strings.Contains(page, "JPY has no minor unit") ||
			!strings.Contains(page, `id="territories-error"`) || !strings.Contains(page, `value="Scarf"`) {
			t.Fatalf("%d %s", r.status, page)
		}
	})
	t.Run("a good form creates the listing and shows it", func(t *testing.T) {
		body, ctype := multipartBody(t, map[string]string{"title": "Scarf", "price": "1200", "currency": "JPY", "territories": "JP"},
			file{"images", "scarf.jpg", encodeJPEG(t, twoTone(100, 100))})
		req := httptest.NewRequest(http.MethodPost, "/portal/listings", body)
		req.Header.Set("Content-Type", ctype)
		r := w.do(req, w.keyA)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/portal/listings/") {
			t.Fatalf("%d %v", r.status, r.header)
		}
		var l ListingsJSON
		w.get("/api/v1/listings", w.keyA).json(t, &l)
		if n := len(l.Listings); n != 2 || l.Listings[1].Price.Amount != 1200 || l.Listings[1].Price.Currency != "JPY" {
			t.Fatalf("listings = %+v", l.Listings)
		}
	})
}

// TestPortalMessagesTranslated checks that every message of the portal's templates has its
// French and Chinese translation.
func TestPortalMessagesTranslated(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(listingTemplates, "templates/listings/*.html")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	re := regexp.MustCompile(`\.T "([^"]*)"`)
	for _, f := range files {
		data, err := fs.ReadFile(listingTemplates, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			if tr, ok := portalMessages[m[1]]; !ok || tr.fr == "" || tr.zh == "" {
				t.Errorf("%s: %q has no translation", f, m[1])
			}
		}
	}
}
