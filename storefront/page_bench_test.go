package storefront

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"marketplace/internal/web"
)

// BenchmarkProductPage renders a product page through the whole server (middleware, offer
// from the cache, licence question, template, gzip), without the network.
func BenchmarkProductPage(b *testing.B) {
	w := newWorld(b, Options{CacheTTL: time.Minute})
	w.standard()
	s := newSite(b, w)
	path := "/products/" + w.listings["tee"].Slug
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept-Language", "fr-FR")
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("Cookie", web.MarketCookie+"=FR.EUR")
		rec := httptest.NewRecorder()
		s.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkSearchPageCached is the search page answered from the cache.
func BenchmarkSearchPageCached(b *testing.B) {
	w := newWorld(b, Options{CacheTTL: time.Minute})
	w.standard()
	s := newSite(b, w)
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/search?q=paris", nil)
		req.Header.Set("Accept-Language", "fr-FR")
		req.Header.Set("Accept-Encoding", "gzip")
		req.Header.Set("Cookie", web.MarketCookie+"=FR.EUR")
		rec := httptest.NewRecorder()
		s.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
