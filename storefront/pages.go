package storefront

import (
	"bytes"
	"embed"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
	"marketplace/internal/web"
	"marketplace/licensing"
)

//go:embed templates/*.html templates/partials.tmpl
var templates embed.FS

// MaxPhotoBytes bounds a photo uploaded to /verify/photo.
const MaxPhotoBytes = 8 << 20

// PhotoChecksPerMinute and PhotoCheckBurst are how many photos one address may send to
// /verify/photo: a burst at once, then so many a minute; the rest are a 429.
const (
	PhotoChecksPerMinute = 6
	PhotoCheckBurst      = 6
)

// handler serves the storefront's pages.
type handler struct {
	store *Store
	srv   *web.Server

	propsMu sync.Mutex
	props   []licensing.Property
	propsAt time.Time
}

// Routes adds the storefront's pages, and its messages in every page language, to the server.
// "/" becomes the storefront's home.
func Routes(srv *web.Server, store *Store) error {
	if err := srv.Pages.AddPartials(templates, "templates/partials.tmpl"); err != nil {
		return err
	}
	if err := srv.Pages.Add("storefront", templates, "templates/*.html"); err != nil {
		return err
	}
	if err := addMessages(srv.Pages.Messages); err != nil {
		return err
	}
	h := &handler{store: store, srv: srv}
	e := srv.Echo
	e.GET("/", h.home)
	e.GET("/search", h.search)
	e.GET("/products/:slug", h.product)
	e.GET("/verify/photo", h.verifyPhotoPage)
	// Anyone may send a photo, and each costs a decode: a few a minute from one address.
	e.POST("/verify/photo", h.verifyPhoto, web.RateLimit(PhotoChecksPerMinute, time.Minute, PhotoCheckBurst))
	srv.AllowBody(http.MethodPost, "/verify/photo", MaxPhotoBytes+64<<10)
	return nil
}

// properties are the registry's properties, read at most once a minute.
func (h *handler) properties(c echo.Context) ([]licensing.Property, error) {
	h.propsMu.Lock()
	defer h.propsMu.Unlock()
	if h.props != nil && time.Since(h.propsAt) < time.Minute {
		return h.props, nil
	}
	props, err := h.store.reg.Properties(c.Request().Context())
	if err != nil {
		return nil, err
	}
	h.props, h.propsAt = props, time.Now()
	return props, nil
}

// shopPage is what the storefront's pages share: names of properties and categories in the
// page's language.
type shopPage struct {
	web.Page
	props []licensing.Property
}

// CategoryName is a category's name in the page's language.
func (p *shopPage) CategoryName(code string) string {
	if n, ok := categoryNames[code]; ok {
		switch {
		case strings.HasPrefix(p.Lang, "fr"):
			return n.fr
		case strings.HasPrefix(p.Lang, "zh"):
			return n.zh
		}
		return n.en
	}
	return code
}

// PropertyName is a property's full name.
func (p *shopPage) PropertyName(code string) string {
	for _, pr := range p.props {
		if pr.Code == code {
			return pr.Name
		}
	}
	return code
}

// CountryName is the fan's country as the market selector names it.
func (p *shopPage) CountryName() string {
	for _, mc := range MarketCountries {
		if mc.Code == p.Market.Country {
			return mc.Name
		}
	}
	return licensing.CountryName(p.Market.Country)
}

// --- home ---

// HomeSection is one property's featured listings.
type HomeSection struct {
	Property licensing.Property
	Hits     []Hit
	Total    int
}

// HomePage is the storefront's home: featured listings per property.
type HomePage struct {
	shopPage
	Sections   []HomeSection
	Categories []licensing.Category
}

// HitsOf gives the hits partial what it needs for one section.
func (p *HomePage) HitsOf(s HomeSection) *hitsView {
	return &hitsView{shopPage: &p.shopPage, Hits: s.Hits}
}

// hitsView is the data of the hits partial outside the search page.
type hitsView struct {
	*shopPage
	Hits []Hit
}

func (h *handler) home(c echo.Context) error {
	return h.render(c, "storefront/home", "", "", func() (int, web.PageData, error) {
		props, err := h.properties(c)
		if err != nil {
			return 0, nil, err
		}
		m := h.srv.MarketOf(c)
		p := &HomePage{shopPage: shopPage{Page: web.Page{Title: "Official Olympic Store"}, props: props}, Categories: licensing.Categories}
		for _, pr := range props {
			q := SearchQuery{Property: pr.Code, Band: -1, Sort: SortNewest, Country: m.Country, Currency: m.Currency, Page: 1, PerPage: 4}
			res, err := h.store.Search(c.Request().Context(), q)
			if err != nil {
				return 0, nil, err
			}
			if res.Total > 0 {
				p.Sections = append(p.Sections, HomeSection{Property: pr, Hits: res.Hits, Total: res.Total})
			}
		}
		return http.StatusOK, p, nil
	})
}

// --- search ---

// SearchPage is /search: results, facets, sort and pages.
type SearchPage struct {
	shopPage
	Query  SearchQuery
	Result SearchResult
	Hits   []Hit
	Errors []fault.FieldError
	Sorts  []string
	Prev   string
	Next   string
	values url.Values
}

// Nothing reports whether the query had nothing searchable in it.
func (p *SearchPage) Nothing() bool { return p.Query.Nothing() }

// Toggle is the URL of these results with key set to value, or without it when it is set.
func (p *SearchPage) Toggle(key, value string) string {
	v := cloneValues(p.values)
	v.Del("page")
	if v.Get(key) == value {
		v.Del(key)
	} else {
		v.Set(key, value)
	}
	return "/search?" + v.Encode()
}

// hiddenField is a query parameter a form carries along.
type hiddenField struct{ Name, Value string }

// Hidden lists the current parameters but except, for the sort form.
func (p *SearchPage) Hidden(except string) []hiddenField {
	var out []hiddenField
	for _, k := range []string{"q", "property", "category", "licensee", "price"} {
		if k != except && p.values.Get(k) != "" {
			out = append(out, hiddenField{k, p.values.Get(k)})
		}
	}
	return out
}

// IsLicensee reports whether the licensee facet value is the one chosen.
func (p *SearchPage) IsLicensee(v string) bool {
	return p.Query.LicenseeID != 0 && v == strconv.FormatInt(p.Query.LicenseeID, 10)
}

// IsBand reports whether the price band facet value is the one chosen.
func (p *SearchPage) IsBand(v string) bool {
	return p.Query.Band >= 0 && v == strconv.Itoa(p.Query.Band)
}

// BandText names a price band in the market's currency.
func (p *SearchPage) BandText(v string) string {
	b, _ := strconv.Atoi(v)
	return BandLabel(b, p.Market.Currency, &p.Page, p.Money)
}

// SortName names a sort order in the page's language.
func (p *SearchPage) SortName(s string) string {
	switch s {
	case SortPriceAsc:
		return p.T("Price, low to high")
	case SortPriceDesc:
		return p.T("Price, high to low")
	case SortNewest:
		return p.T("Newest")
	}
	return p.T("Relevance")
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if k == "q" || k == "property" || k == "category" || k == "licensee" || k == "price" || k == "sort" || k == "page" {
			out[k] = slices.Clone(vs)
		}
	}
	return out
}

func (h *handler) search(c echo.Context) error {
	props, err := h.properties(c)
	if err != nil {
		return err
	}
	codes := make([]string, len(props))
	for i, pr := range props {
		codes[i] = pr.Code
	}
	values := c.QueryParams()
	p := &SearchPage{shopPage: shopPage{Page: web.Page{Title: "Shop"}, props: props}, Sorts: Sorts, values: values}
	q, err := ParseSearch(values, h.srv.MarketOf(c), codes)
	p.Query = q
	if err != nil {
		e, ok := fault.As(err)
		if !ok {
			return err
		}
		if web.WantsJSON(c) {
			return err
		}
		p.Errors = e.Fields
		// Keep the page safe to show: the text box shows nothing that was refused.
		if !strings.Contains(fieldsOf(e.Fields), "q") {
			p.Query.Text = q.Text
		} else {
			p.Query.Text = ""
		}
		return h.srv.Render(c, web.StatusOf(err), "storefront/search", p)
	}
	return h.render(c, "storefront/search", "", "", func() (int, web.PageData, error) {
		res, err := h.store.Search(c.Request().Context(), q)
		if err != nil {
			return 0, nil, err
		}
		p.Result, p.Hits = res, res.Hits
		if q.Page > 1 {
			v := cloneValues(values)
			v.Set("page", strconv.Itoa(q.Page-1))
			p.Prev = "/search?" + v.Encode()
		}
		if q.Page*q.PerPage < res.Total && q.Page < 400 {
			v := cloneValues(values)
			v.Set("page", strconv.Itoa(q.Page+1))
			p.Next = "/search?" + v.Encode()
		}
		return http.StatusOK, p, nil
	})
}

func fieldsOf(fs []fault.FieldError) string {
	var names []string
	for _, f := range fs {
		names = append(names, f.Field)
	}
	return "," + strings.Join(names, ",") + ","
}

// --- product ---

// ProductPage is /products/{slug}: photos, price, stock and the licence proof, or why the fan
// cannot buy it.
type ProductPage struct {
	shopPage
	Offer Offer
}

// MaxQty is the most a fan may put in the cart at once.
func (p *ProductPage) MaxQty() int { return min(max(p.Stock(), 1), 10) }

// Stock is how many are left: of every variant together, or of the listing.
func (p *ProductPage) Stock() int {
	if p.Offer.Product != nil && len(p.Offer.Variants) > 0 {
		n := 0
		for _, v := range p.Offer.Variants {
			n += v.Stock
		}
		return n
	}
	return p.Offer.Listing.Stock
}

// Description is the description in the page's language.
func (p *ProductPage) Description() string { return p.Offer.Description(p.Lang) }

// ReasonTitle says in a few words why the fan cannot buy the item.
func (p *ProductPage) ReasonTitle() string {
	if p.Offer.Reason == ReasonNotAvailable {
		return p.T("No longer for sale")
	}
	return p.T("Not sold in your country")
}

// ReasonText explains it.
func (p *ProductPage) ReasonText() string {
	switch p.Offer.Reason {
	case ReasonNotAvailable:
		return p.T("This item is not for sale at the moment.")
	case ReasonNotShippedHere:
		return p.T("The seller does not ship this item to %s.", p.CountryName())
	}
	return p.T("No licence covers this item in %s today, so it cannot be sold there.", p.CountryName())
}

func (h *handler) product(c echo.Context) error {
	slug := c.Param("slug")
	if len(slug) > 200 {
		return fault.New(fault.NotFound, "no product at this address")
	}
	c.Response().Header().Set("Cache-Control", "private, no-cache")
	o, err := h.store.OfferBySlug(c.Request().Context(), slug, h.srv.MarketOf(c))
	if fault.Is(err, fault.NotFound) {
		return fault.Wrap(fault.NotFound, err, "no product at this address")
	}
	if err != nil {
		return err
	}
	// The verdict, licence, price and stock are in the key: a licence change or a sale shows
	// on the next request, whatever the cache holds.
	verdict := strings.Join([]string{strconv.FormatBool(o.Buyable), o.Reason, strconv.FormatInt(o.Price.Amount, 10),
		o.Price.Currency, strconv.FormatBool(o.InStock), string(o.Listing.Status)}, " ")
	if o.Licence != nil {
		verdict += " " + o.Licence.Number + " " + string(o.Licence.Status)
	}
	return h.render(c, "storefront/product", slug, verdict, func() (int, web.PageData, error) {
		props, err := h.properties(c)
		if err != nil {
			return 0, nil, err
		}
		title := o.Title(web.RequestLanguage(c).String())
		p := &ProductPage{shopPage: shopPage{Page: web.Page{Title: title}, props: props}, Offer: o}
		status := http.StatusOK
		if o.Reason == ReasonNotAvailable {
			// Removed or not yet screened: say so, and let search engines forget it.
			status = http.StatusGone
			if o.Listing.Status == "pending" {
				status = http.StatusNotFound
			}
		}
		return status, p, nil
	})
}

// --- photo check ---

// VerifyPhotoPage is /verify/photo: upload a photo, learn whether it matches an official
// product or a known counterfeit.
type VerifyPhotoPage struct {
	shopPage
	Available bool
	Result    *PhotoResult
	Error     string
}

func (h *handler) verifyPhotoPage(c echo.Context) error {
	p := &VerifyPhotoPage{shopPage: shopPage{Page: web.Page{Title: "Check a photo"}}, Available: h.store.photoChecker() != nil}
	return h.srv.Render(c, http.StatusOK, "storefront/verify_photo", p)
}

func (h *handler) verifyPhoto(c echo.Context) error {
	pc := h.store.photoChecker()
	p := &VerifyPhotoPage{shopPage: shopPage{Page: web.Page{Title: "Check a photo"}}, Available: pc != nil}
	fail := func(status int, err error) error {
		if web.WantsJSON(c) {
			return err
		}
		e, _ := fault.As(err)
		p.Error = e.Message
		if len(e.Fields) > 0 {
			p.Error = e.Fields[0].Message
		}
		h.srv.FillPage(c, p)
		p.Error = p.Msg(p.Error)
		return h.srv.Render(c, status, "storefront/verify_photo", p)
	}
	if pc == nil {
		return fail(http.StatusServiceUnavailable, fault.New(fault.Unavailable, "Photo checks are not available right now."))
	}
	fh, err := c.FormFile("photo")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(http.StatusRequestEntityTooLarge, fault.Validation("the photo is too large", fault.Field("photo", "The photo is larger than 8 MB.")))
		}
		return fail(http.StatusBadRequest, fault.Validation("no photo", fault.Field("photo", "Choose a photo to upload.")))
	}
	if fh.Size > MaxPhotoBytes {
		return fail(http.StatusRequestEntityTooLarge, fault.Validation("the photo is too large", fault.Field("photo", "The photo is larger than 8 MB.")))
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPhotoBytes+1))
	if err != nil {
		return err
	}
	if len(data) > MaxPhotoBytes {
		return fail(http.StatusRequestEntityTooLarge, fault.Validation("the photo is too large", fault.Field("photo", "The photo is larger than 8 MB.")))
	}
	if !isImage(data) {
		return fail(http.StatusBadRequest, fault.Validation("not a photo", fault.Field("photo", "This file is not a JPEG, PNG or WebP picture.")))
	}
	res, err := pc.CheckPhoto(c.Request().Context(), data)
	if err != nil {
		if fe, ok := fault.As(err); ok && fe.Code != fault.Internal {
			status := http.StatusBadRequest
			if fe.Code == fault.TooLarge {
				status = http.StatusRequestEntityTooLarge
			} else if fe.Code == fault.Unavailable {
				status = http.StatusServiceUnavailable
			}
			return fail(status, fe)
		}
		return err
	}
	if web.WantsJSON(c) {
		return c.JSON(http.StatusOK, map[string]any{"verdict": res.Verdict, "product": res.ProductTitle, "sku": res.ProductSKU,
			"licensee": res.LicenseeName, "distance": res.Distance})
	}
	p.Result = &res
	return h.srv.Render(c, http.StatusOK, "storefront/verify_photo", p)
}

// isImage checks the first bytes for a JPEG, PNG or WebP signature before anything decodes it.
func isImage(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) || bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) ||
		(len(b) > 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP")
}

// Msg translates a message held in a variable (an error's sentence) from the storefront's
// table; unknown ones stay as written.
func (p *shopPage) Msg(key string) string {
	t, ok := messages[key]
	switch {
	case !ok:
		return key
	case strings.HasPrefix(p.Lang, "fr"):
		return t.fr
	case strings.HasPrefix(p.Lang, "zh"):
		return t.zh
	}
	return key
}
