package storefront

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/corona10/goimagehash"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"marketplace/catalog"
	"marketplace/internal/web"
)

// site is the world served over HTTP, as a browser reaches it.
type site struct {
	*world
	srv *web.Server
	ts  *httptest.Server
}

func newSite(t testing.TB, w *world) *site {
	t.Helper()
	srv, err := web.NewServer(web.Config{Markets: Markets()})
	if err != nil {
		t.Fatal(err)
	}
	if err := Routes(srv, w.store); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &site{world: w, srv: srv, ts: ts}
}

// get fetches path with headers (name, value pairs) and returns the status and body.
func (s *site) get(path string, headers ...string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.ts.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestPagesFollowTheMarket renders the pages in English, French and Chinese, with prices in the
// market's currency formatted for the language.
func TestPagesFollowTheMarket(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	w.standard()
	s := newSite(t, w)
	tee := w.listings["tee"]

	t.Run("FrenchHome", func(t *testing.T) {
		status, body := s.get("/", "Accept-Language", "fr-FR,fr;q=0.9")
		for _, want := range []string{`lang="fr"`, "Boutique olympique officielle", "25,00\u00a0€", "FR · EUR · fr", "Vêtements"} {
			if !strings.Contains(body, want) {
				t.Errorf("want %q on the French home page (status %d)", want, status)
			}
		}
	})
	t.Run("FrenchSearch", func(t *testing.T) {
		_, body := s.get("/search?q=jacket", "Accept-Language", "fr-FR")
		for _, want := range []string{"1 résultat", "180,00\u00a0€", "Milano Cortina ski jacket", "Trier par"} {
			if !strings.Contains(body, want) {
				t.Errorf("want %q on the French search page", want)
			}
		}
		_, body = s.get("/search", "Accept-Language", "fr-FR")
		if !strings.Contains(body, "6 résultats") {
			t.Errorf("want 6 résultats")
		}
	})
	t.Run("ChineseSearch", func(t *testing.T) {
		_, body := s.get("/search?q=奥运", "Accept-Language", "zh-CN")
		for _, want := range []string{`lang="zh-Hans"`, "奥林匹克官方商店", "CN · CNY · zh-Hans", "在中国没有匹配的商品"} {
			if !strings.Contains(body, want) {
				t.Errorf("want %q on the Chinese search page in China", want)
			}
		}
		// The same fan shipping to France sees what is licensed there.
		_, body = s.get("/search?q=奥运", "Accept-Language", "zh-CN", "Cookie", web.MarketCookie+"=FR.EUR")
		for _, want := range []string{"1 件商品", "巴黎奥运会T恤", "€29.00", "FR · EUR · zh-Hans"} {
			if !strings.Contains(body, want) {
				t.Errorf("want %q on the Chinese search page", want)
			}
		}
	})
	t.Run("EnglishProductWithLicenceProof", func(t *testing.T) {
		status, body := s.get("/products/"+tee.Slug, "Accept-Language", "fr-FR")
		if status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
		for _, want := range []string{"Paris 2024 T-shirt Phryge mascot", "25,00\u00a0€", "PAR24-APP-0001", "Maison Bleue Textiles",
			`href="/verify?q=PAR24-APP-0001"`, "Preuve de licence", `name="listing_id" value="` + itoa(tee.ID) + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("want %q on the product page", want)
			}
		}
	})
	t.Run("NotSoldInYourCountryInsteadOf404", func(t *testing.T) {
		status, body := s.get("/products/"+tee.Slug, "Accept-Language", "ja-JP", "Cookie", web.MarketCookie+"=JP.JPY")
		if status != http.StatusOK || !strings.Contains(body, "Not sold in your country") || strings.Contains(body, `id="add-to-cart"`) {
			t.Fatalf("status %d; want the not-sold notice and no cart button", status)
		}
		status, body = s.get("/products/"+w.listings["hoodie"].Slug, "Accept-Language", "fr-FR")
		if status != http.StatusOK || !strings.Contains(body, "Non vendu dans votre pays") {
			t.Fatalf("hoodie in France: status %d", status)
		}
	})
	t.Run("PendingIs404RemovedIs410UnknownIs404", func(t *testing.T) {
		if status, _ := s.get("/products/" + w.listings["pending"].Slug); status != http.StatusNotFound {
			t.Errorf("pending: %d", status)
		}
		w.setStatus(w.listings["fake"].ID, catalog.StatusRemoved)
		if status, body := s.get("/products/" + w.listings["fake"].Slug); status != http.StatusGone || !strings.Contains(body, "No longer for sale") {
			t.Errorf("removed: %d", status)
		}
		if status, _ := s.get("/products/no-such-thing-000000"); status != http.StatusNotFound {
			t.Errorf("unknown: %d", status)
		}
	})
	t.Run("BadSearchIs400NamingTheField", func(t *testing.T) {
		status, body := s.get("/search?property=ATLANTIS1896&q=pin", "Accept-Language", "en")
		if status != http.StatusBadRequest || !strings.Contains(body, "property: unknown property") {
			t.Fatalf("status %d", status)
		}
		status, body = s.get("/search?q=%ff", "Accept", "application/json")
		var p web.Problem
		if err := json.Unmarshal([]byte(body), &p); err != nil || status != http.StatusBadRequest || len(p.Errors) != 1 || p.Errors[0].Field != "q" {
			t.Fatalf("status %d %s", status, body)
		}
		status, body = s.get("/search?q="+url.QueryEscape(strings.Repeat("x", 5000)), "Accept-Language", "en")
		if status != http.StatusBadRequest || !strings.Contains(body, "longer than 200") || strings.Contains(body, `value="xxx`) {
			t.Fatalf("a very long query: status %d", status)
		}
	})
	t.Run("FacetLinksKeepTheQuery", func(t *testing.T) {
		_, body := s.get("/search?q=paris", "Accept-Language", "en", "Cookie", web.MarketCookie+"=FR.EUR")
		if !strings.Contains(body, `href="/search?category=apparel&amp;q=paris"`) {
			t.Fatalf("facet link missing: %s", regexp.MustCompile(`href="/search\?[^"]*"`).FindAllString(body, -1))
		}
	})
}

// TestEveryMessageIsTranslated keeps the templates and the catalogue in step: every message a
// storefront page, the layout or the verify page uses has a French and a Chinese text.
func TestEveryMessageIsTranslated(t *testing.T) {
	re := regexp.MustCompile(`\.T "([^"]+)"`)
	files := map[string][]byte{}
	err := fs.WalkDir(templates, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[path], err = fs.ReadFile(templates, path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, extra := range []string{"../internal/web/templates/layout.html", "../licensing/templates/verify.html"} {
		b, err := readFile(extra)
		if err != nil {
			t.Fatal(err)
		}
		files[extra] = b
	}
	// The catalogue the pages are rendered with: the layout's own strings and every slice's.
	srv, err := web.NewServer(web.Config{Markets: Markets()})
	if err != nil {
		t.Fatal(err)
	}
	if err := addMessages(srv.Pages.Messages); err != nil {
		t.Fatal(err)
	}
	zh := message.NewPrinter(language.SimplifiedChinese, message.Catalog(srv.Pages.Messages))
	for name, b := range files {
		for _, m := range re.FindAllSubmatch(b, -1) {
			key := string(m[1])
			if key == "%d results" {
				continue // a plural, set apart
			}
			// Every source of messages sets French and Chinese together. French may spell a word
			// as English does ("Total", "Photo"); Chinese never does, so a Chinese text equal to
			// the key means the message is missing from the catalogue.
			if zh.Sprintf(key) == key {
				t.Errorf("%s: %q has no French or Chinese translation", name, key)
			}
		}
	}
}

// TestPhotoCheck uploads photos to /verify/photo with a real, small checker: a difference hash
// compared with the official product's picture.
func TestPhotoCheck(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	s := newSite(t, w)
	official := testPicture(t, 1, 640)
	t.Run("UnavailableWithoutAChecker", func(t *testing.T) {
		status, body := s.get("/verify/photo", "Accept-Language", "fr")
		if status != http.StatusOK || !strings.Contains(body, "indisponible") {
			t.Fatalf("status %d", status)
		}
		status, _ = s.upload(official)
		if status != http.StatusServiceUnavailable {
			t.Fatalf("upload without a checker: %d", status)
		}
	})
	checker, err := newHashChecker(map[string][]byte{"Paris 2024 T-shirt Phryge mascot": official})
	if err != nil {
		t.Fatal(err)
	}
	w.store.SetPhotoChecker(checker)
	t.Run("OfficialPhotoTakenAgain", func(t *testing.T) {
		status, body := s.upload(testPicture(t, 1, 480)) // the same product, smaller and re-encoded
		if status != http.StatusOK || !strings.Contains(body, "matches an official product") || !strings.Contains(body, "Phryge") {
			t.Fatalf("status %d", status)
		}
	})
	t.Run("UnknownPhoto", func(t *testing.T) {
		status, body := s.upload(testPicture(t, 7, 640))
		if status != http.StatusOK || !strings.Contains(body, "no match") {
			t.Fatalf("status %d", status)
		}
	})
	t.Run("NotAPicture", func(t *testing.T) {
		status, body := s.upload([]byte("%PDF-1.7 not a photo"))
		if status != http.StatusBadRequest || !strings.Contains(body, "not a JPEG, PNG or WebP") {
			t.Fatalf("status %d", status)
		}
	})
	t.Run("TooLarge", func(t *testing.T) {
		big := append([]byte{0xFF, 0xD8, 0xFF}, bytes.Repeat([]byte{0}, MaxPhotoBytes+10)...)
		if status, _ := s.upload(big); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", status)
		}
	})
}

// upload posts a photo to /verify/photo with the CSRF token from the form page.
func (s *site) upload(data []byte) (int, string) {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(s.ts.URL + "/verify/photo")
	if err != nil {
		s.t.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		s.t.Fatal(err)
	}
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		s.t.Fatal("no CSRF token on /verify/photo")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("_csrf", string(m[1])); err != nil {
		s.t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("photo", "photo.jpg")
	if err != nil {
		s.t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		s.t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		s.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.ts.URL+"/verify/photo", &body)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err = client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// hashChecker is a small real PhotoChecker: the difference hash of each reference picture,
// and a match within 10 bits of 64.
type hashChecker struct {
	refs map[string]*goimagehash.ImageHash
}

func newHashChecker(refs map[string][]byte) (*hashChecker, error) {
	c := &hashChecker{refs: map[string]*goimagehash.ImageHash{}}
	for name, data := range refs {
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		h, err := goimagehash.DifferenceHash(img)
		if err != nil {
			return nil, err
		}
		c.refs[name] = h
	}
	return c, nil
}

func (c *hashChecker) CheckPhoto(ctx context.Context, data []byte) (PhotoResult, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return PhotoResult{}, fmt.Errorf("decode: %w", err)
	}
	h, err := goimagehash.DifferenceHash(img)
	if err != nil {
		return PhotoResult{}, err
	}
	best, bestName := 65, ""
	for name, ref := range c.refs {
		if d, err := h.Distance(ref); err == nil && d < best {
			best, bestName = d, name
		}
	}
	if best <= 10 {
		return PhotoResult{Verdict: PhotoOfficial, ProductTitle: bestName, LicenseeName: "Maison Bleue Textiles", Distance: best}, nil
	}
	return PhotoResult{Verdict: PhotoUnknown, Distance: best}, nil
}

// testPicture draws a deterministic picture (seed picks the pattern) of size×size as a JPEG.
func testPicture(t testing.TB, seed, size int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			fx, fy := float64(x)/float64(size), float64(y)/float64(size)
			v := uint8(255 * fx)
			if seed%2 == 0 {
				v = uint8(255 * fy)
			}
			if (int(fx*float64(seed+3))+int(fy*float64(seed+2)))%2 == 0 {
				v = 255 - v
			}
			img.Set(x, y, color.RGBA{v, uint8(255 * fy), uint8(seed * 30), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 70 + size%20}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// TestPageCacheKeepsTokensAndFollowsChanges proves a cached page carries each visitor's own
// CSRF token, and that a product page leaves the cache as soon as its listing changes.
func TestPageCacheKeepsTokensAndFollowsChanges(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{CacheTTL: time.Minute})
	w.standard()
	s := newSite(t, w)
	path := "/products/" + w.listings["tee"].Slug
	token := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	tokens := map[string]bool{}
	for range 3 {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		req, err := http.NewRequest(http.MethodGet, s.ts.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", web.MarketCookie+"=FR.EUR")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var cookie string
		for _, c := range resp.Cookies() {
			if c.Name == "_csrf" {
				cookie = c.Value
			}
		}
		m := token.FindSubmatch(body)
		if m == nil || string(m[1]) != cookie || strings.Contains(string(body), "csrf-") {
			t.Fatalf("the page's token %q is not the visitor's cookie %q", m, cookie)
		}
		tokens[cookie] = true
	}
	if len(tokens) != 3 {
		t.Fatalf("three visitors shared tokens: %v", tokens)
	}
	if _, body := s.get(path, "Cookie", web.MarketCookie+"=FR.EUR"); !strings.Contains(body, `id="add-to-cart"`) {
		t.Fatal("no cart button before the change")
	}
	// A suspended licence shows on the next request, cache or not.
	if _, err := w.reg.SetLicenceStatus(context.Background(), nil, "PAR24-APP-0001", "suspended", "audit"); err != nil {
		t.Fatal(err)
	}
	if _, body := s.get(path, "Cookie", web.MarketCookie+"=FR.EUR"); !strings.Contains(body, "Not sold in your country") {
		t.Fatal("the cached page still sells under a suspended licence")
	}
	if _, err := w.reg.SetLicenceStatus(context.Background(), nil, "PAR24-APP-0001", "active", ""); err != nil {
		t.Fatal(err)
	}
	w.setStatus(w.listings["tee"].ID, catalog.StatusRemoved)
	w.sync()
	if status, body := s.get(path, "Cookie", web.MarketCookie+"=FR.EUR"); status != http.StatusGone || strings.Contains(body, `id="add-to-cart"`) {
		t.Fatalf("after removal the cached page is still served: %d", status)
	}
}
