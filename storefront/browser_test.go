package storefront

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/labstack/echo/v4"

	"marketplace/internal/browsertest"
	"marketplace/licensing"
)

// newBrowserSite serves the storefront with licensing's verify page, and pictures for every
// image id (the catalogue's image route is another slice's; the browser only needs pixels).
func newBrowserSite(t *testing.T, w *world) *site {
	t.Helper()
	s := newSite(t, w)
	if err := licensing.Routes(s.srv, w.reg); err != nil {
		t.Fatal(err)
	}
	pic := testPicture(t, 4, 400)
	s.srv.Echo.GET("/images/:id", func(c echo.Context) error { return c.Blob(http.StatusOK, "image/jpeg", pic) })
	return s
}

// TestBrowserMarketSwitching: a browser that asks for French gets the French store with prices
// in euros written the French way; the selector switches to Chinese, then to the United
// States in English, and the page follows.
func TestBrowserMarketSwitching(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	w.standard()
	s := newBrowserSite(t, w)
	b := browsertest.New(t, s.ts.URL, browsertest.Options{Language: "fr-FR,fr"})

	b.Open("/")
	if got := b.Text("h1"); got != "Produits olympiques officiels, sous licence là où vous vivez" {
		t.Fatalf("French home heading %q", got)
	}
	if got := b.Text(".market summary"); got != "FR · EUR · fr" {
		t.Fatalf("market %q", got)
	}
	if got := b.Text(".hit-price"); !strings.HasSuffix(got, "\u00a0€") || !strings.Contains(got, ",") {
		t.Fatalf("price %q is not written the French way", got)
	}
	b.Screenshot("home-fr")

	b.Open("/search?q=veste")
	b.Open("/search?q=jacket")
	if got := b.Text("#result-count"); got != "1 résultat" {
		t.Fatalf("result count %q", got)
	}
	if got := b.Text(".hit-price"); got != "180,00\u00a0€" {
		t.Fatalf("price %q", got)
	}
	b.Screenshot("search-fr")

	chooseMarket := func(country, currency, lang string) {
		t.Helper()
		b.Run(chromedp.Click(".market summary", chromedp.ByQuery))
		b.Submit(map[string]string{"#market-country": country, "#market-currency": currency, "#market-lang": lang}, ".market-form button[type=submit]")
	}
	chooseMarket("FR", "EUR", "zh-Hans")
	if got := b.Text("#result-count"); got != "1 件商品" {
		t.Fatalf("after choosing Chinese: %q", got)
	}
	if got := b.Text(".hit-price"); got != "€180.00" {
		t.Fatalf("Chinese price %q", got)
	}
	b.Screenshot("search-zh")

	chooseMarket("US", "USD", "en")
	b.Open("/")
	if got := b.Text(".market summary"); got != "US · USD · en" {
		t.Fatalf("market %q", got)
	}
	if got := b.Text("main"); !strings.Contains(got, "LA28 hoodie") || !strings.Contains(got, "$60.00") || strings.Contains(got, "ski jacket") {
		t.Fatalf("the US home page shows the wrong things: %q", got)
	}
	b.Screenshot("home-us")
}

// TestBrowserProductOnAPhone opens a product on a phone, in French: photo, price, the licence
// proof, the link to the verify page, and no sideways scrolling.
func TestBrowserProductOnAPhone(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	w.standard()
	s := newBrowserSite(t, w)
	b := browsertest.New(t, s.ts.URL, browsertest.Options{Phone: true, Language: "fr-FR,fr"})

	noSidewaysScroll := func(page string) {
		t.Helper()
		var fits bool
		b.Run(chromedp.Evaluate(`document.documentElement.scrollWidth <= window.innerWidth`, &fits))
		if !fits {
			t.Errorf("%s scrolls sideways on a phone", page)
		}
	}
	b.Open("/search?category=apparel")
	noSidewaysScroll("search")
	b.Screenshot("phone-search")

	b.Open("/products/" + w.listings["tee"].Slug)
	if got := b.Text("#price"); got != "25,00\u00a0€" {
		t.Fatalf("price %q", got)
	}
	if got := b.Text("#proof-number"); got != "PAR24-APP-0001" {
		t.Fatalf("licence number %q", got)
	}
	if got := b.Text("#proof-licensee"); got != "Maison Bleue Textiles" {
		t.Fatalf("licensee %q", got)
	}
	var alt string
	b.Run(chromedp.AttributeValue(".gallery img", "alt", &alt, nil, chromedp.ByQuery))
	if alt != "Paris 2024 T-shirt Phryge mascot" {
		t.Fatalf("photo alt %q", alt)
	}
	noSidewaysScroll("product")
	b.Screenshot("phone-product")

	b.ClickAndWait("#verify-link")
	if got := b.Text("#verdict"); got != "valide" {
		t.Fatalf("verify verdict %q", got)
	}
	b.Screenshot("phone-verify")

	b.Open("/products/" + w.listings["hoodie"].Slug)
	if got := b.Text("#not-sold h2"); got != "Non vendu dans votre pays" {
		t.Fatalf("hoodie in France: %q", got)
	}
	noSidewaysScroll("not sold")
	b.Screenshot("phone-not-sold")
}
