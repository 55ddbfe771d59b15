package catalog

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// listingForm encodes a listing's fields in a fixed order with the given multipart boundary,
// as a client that retries resends it (a new boundary is the same request).
func listingForm(t *testing.T, boundary, title string, photo []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.SetBoundary(boundary); err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{{"title", title}, {"price_amount", "2500"}, {"currency", "EUR"}, {"territories", "FR"}, {"stock", "1"}} {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("images", "plush.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(photo); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// TestCreateListingIdempotencyKey: a listing POSTed again with the same Idempotency-Key and
// body (a client retrying after a cut connection) answers the first result and makes no second
// listing; the key with another body is a 422; concurrent identical requests make one listing;
// the key is the caller's own.
func TestCreateListingIdempotencyKey(t *testing.T) {
	t.Parallel()
	w := newHTTPWorld(t)
	photo := encodeJPEG(t, twoTone(640, 480))
	post := func(key, idem string, body []byte, ctype string) response {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/listings", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if idem != "" {
			req.Header.Set("Idempotency-Key", idem)
		}
		return w.do(req, key)
	}
	body, ctype := listingForm(t, "first-boundary", "Mascot plush", photo)
	first := post(w.keyA, "retry-1", body, ctype)
	if first.status != http.StatusCreated {
		t.Fatalf("first POST: %d %s", first.status, first.body)
	}
	again, actype := listingForm(t, "another-boundary", "Mascot plush", photo)
	second := post(w.keyA, "retry-1", again, actype)
	if second.status != first.status || !bytes.Equal(second.body, first.body) || second.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retried POST: %d %s %v, want the first answer replayed (%d %s)", second.status, second.body, second.header, first.status, first.body)
	}
	if n, _ := w.counts(t); n != 1 {
		t.Errorf("listings after a retried POST = %d, want 1", n)
	}

	other, otype := listingForm(t, "first-boundary", "Another plush", photo)
	if r := post(w.keyA, "retry-1", other, otype); r.status != http.StatusUnprocessableEntity {
		t.Errorf("the key with another body: %d %s, want 422", r.status, r.body)
	}
	if r := post(w.keyB, "retry-1", body, ctype); r.status != http.StatusCreated || bytes.Equal(r.body, first.body) {
		t.Errorf("another caller's same key: %d %s, want a listing of its own", r.status, r.body)
	}
	if n, _ := w.counts(t); n != 2 {
		t.Errorf("listings = %d, want 2", n)
	}

	const concurrent = 6
	body, ctype = listingForm(t, "b", "Concurrent plush", photo)
	answers := make([]response, concurrent)
	var wg sync.WaitGroup
	for i := range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = post(w.keyA, "concurrent", body, ctype)
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.status != http.StatusCreated || !bytes.Equal(a.body, answers[0].body) {
			t.Errorf("concurrent POST %d: %d %s, want the one listing's %s", i, a.status, a.body, answers[0].body)
		}
	}
	if n, _ := w.counts(t); n != 3 {
		t.Errorf("listings after %d concurrent identical POSTs = %d, want 3", concurrent, n)
	}
	if r := post(w.keyA, "", body, ctype); r.status != http.StatusCreated {
		t.Errorf("without a key: %d %s", r.status, r.body)
	}
}
