package storefront

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/labstack/echo/v4"

	"marketplace/internal/web"
)

// pageCache keeps the rendered HTML of the storefront's public pages (home, search, product)
// for anonymous visitors, for the store's TTL. A page is rendered with a placeholder where
// the visitor's CSRF token goes, and the placeholder is swapped for each visitor's own token,
// so one rendering serves everyone who sees the same page in the same language and market.
// A product page is dropped as soon as its listing changes; a licence change shows after at
// most the TTL (checkout asks Offer afresh, so nothing is sold on a stale page).
// The least recently used page goes first when it is full: a crawler walking every product
// only pushes out pages nobody else asked for lately.
type pageCache struct {
	mu          sync.Mutex
	ttl         time.Duration
	pages       *simplelru.LRU[string, pageEntry]
	bySlug      map[string][]string
	placeholder []byte
}

type pageEntry struct {
	// parts are the page split where the visitor's CSRF token goes; the token is written
	// between them, so a hit copies nothing.
	parts  [][]byte
	size   int // of the parts together
	status int
	slug   string // of a product page
	at     time.Time
	ttl    time.Duration
}

func newPageCache(max int) *pageCache {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	pc := &pageCache{bySlug: map[string][]string{}, placeholder: []byte("csrf-" + hex.EncodeToString(b))}
	// Called with pc.mu held (every use of pages is), when a page is evicted or removed.
	pc.pages, _ = simplelru.NewLRU(max, func(key string, e pageEntry) {
		if e.slug == "" {
			return
		}
		keys := slices.DeleteFunc(pc.bySlug[e.slug], func(k string) bool { return k == key })
		if len(keys) == 0 {
			delete(pc.bySlug, e.slug)
		} else {
			pc.bySlug[e.slug] = keys
		}
	})
	return pc
}

func (pc *pageCache) setTTL(d time.Duration) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.ttl = d
	pc.pages.Purge()
	clear(pc.bySlug)
}

func (pc *pageCache) get(key string) (pageEntry, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.pages.Get(key)
	if !ok || time.Since(e.at) > e.ttl {
		return pageEntry{}, false
	}
	return e, true
}

func (pc *pageCache) put(key, slug string, e pageEntry) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.ttl <= 0 {
		return
	}
	e.at = time.Now()
	e.ttl = pc.ttl
	e.slug = slug
	if slug != "" {
		// A product page's key holds the offer's verdict, licence and price, and the page
		// leaves the cache when its listing changes: it may stay longer than a search page.
		e.ttl = productTTL(pc.ttl)
	}
	known := pc.pages.Contains(key)
	pc.pages.Add(key, e)
	if slug != "" && !known {
		pc.bySlug[slug] = append(pc.bySlug[slug], key)
	}
}

// drop forgets every rendering of the product page at slug.
func (pc *pageCache) drop(slug string) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for _, k := range slices.Clone(pc.bySlug[slug]) { // Remove's callback edits bySlug
		pc.pages.Remove(k)
	}
	delete(pc.bySlug, slug)
}

// cacheable reports whether the request's page may come from, and go to, the page cache:
// an anonymous GET without a one-time message.
func cacheable(c echo.Context) bool {
	if c.Request().Method != http.MethodGet || web.Caller(c) != nil {
		return false
	}
	if _, err := c.Cookie("flash"); err == nil {
		return false
	}
	return true
}

// pageKey names a rendering: the page, its address, the language and the market.
func (h *handler) pageKey(c echo.Context) string {
	m := h.srv.MarketOf(c)
	return c.Request().URL.RequestURI() + "|" + web.RequestLanguage(c).String() + "|" + m.Country + "|" + m.Currency
}

// render writes page name with data, through the page cache when the request allows it;
// slug ties a product page to its listing. build is only called on a miss.
func (h *handler) render(c echo.Context, name, slug, extraKey string, build func() (int, web.PageData, error)) error {
	pc := h.store.pages
	token, _ := c.Get("csrf").(string)
	if !cacheable(c) {
		status, data, err := build()
		if err != nil {
			return err
		}
		return h.srv.Render(c, status, name, data)
	}
	key := name + "|" + h.pageKey(c) + "|" + extraKey
	if e, ok := pc.get(key); ok {
		return writePage(c, e, token)
	}
	v, err := h.store.flight.do(c.Request().Context(), "page|"+key, func(ctx context.Context) (any, error) {
		// build reads through the request's context: for the fill it is the fill's, which
		// does not end when this fan leaves (others may be waiting for the page).
		req := c.Request()
		c.SetRequest(req.WithContext(ctx))
		defer c.SetRequest(req)
		status, data, err := build()
		if err != nil {
			return nil, err
		}
		h.srv.FillPage(c, data)
		setCSRF(data, string(pc.placeholder))
		html, err := h.srv.Pages.Execute(name, data)
		if err != nil {
			return nil, err
		}
		e := pageEntry{parts: bytes.Split(html, pc.placeholder), size: len(html) - bytes.Count(html, pc.placeholder)*len(pc.placeholder), status: status}
		pc.put(key, slug, e)
		return e, nil
	})
	if err != nil {
		return err
	}
	return writePage(c, v.(pageEntry), token)
}

// writePage sends a cached page with the visitor's token in each place the placeholder held.
func writePage(c echo.Context, e pageEntry, token string) error {
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	w.Header().Set(echo.HeaderContentLength, strconv.Itoa(e.size+(len(e.parts)-1)*len(token)))
	w.WriteHeader(e.status)
	for i, part := range e.parts {
		if i > 0 {
			if _, err := io.WriteString(w, token); err != nil {
				return err
			}
		}
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// csrfSetter is every storefront page (they embed web.Page through shopPage).
type csrfSetter interface{ setCSRF(string) }

func (p *shopPage) setCSRF(token string) { p.CSRF = token }

func setCSRF(data web.PageData, token string) {
	if s, ok := data.(csrfSetter); ok {
		s.setCSRF(token)
	}
}

// productTTL is how long a product page or its listing is kept: twelve times the search TTL,
// since every change to the listing drops it at once and the licence verdict is in its key.
func productTTL(ttl time.Duration) time.Duration { return 12 * ttl }
