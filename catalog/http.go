package catalog

import (
	"embed"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/textlist"
	"marketplace/internal/web"
)

//go:embed templates/listings/*.html
var listingTemplates embed.FS

//go:embed static/*.js
var staticFiles embed.FS

// maxListingBody bounds a listing upload: the fields and up to MaxListingImages photos.
const maxListingBody = 100 << 20

// Handler serves the catalogue's pictures, the listing API and the sellers' portal pages.
type Handler struct {
	svc *Service
	srv *web.Server
}

// Routes adds the catalogue's pictures, listing API and seller portal pages to the server, and
// makes /portal the home of sellers and licensees. Listings are written by seller and
// licensee users (each for its own seller account) and read by them (their own only: another
// seller's listing is a 404) and by analysts and admins.
func Routes(srv *web.Server, svc *Service) error {
	if err := srv.Pages.Add("catalog", listingTemplates, "templates/listings/*.html"); err != nil {
		return err
	}
	if err := addPortalMessages(srv.Pages.Messages); err != nil {
		return err
	}
	if err := mountStatic(srv); err != nil {
		return err
	}
	h := &Handler{svc: svc, srv: srv}
	e := srv.Echo
	sellers := web.RequireRole(web.RoleSeller, web.RoleLicensee)
	readers := web.RequireRole(web.RoleSeller, web.RoleLicensee, web.RoleAnalyst, web.RoleAdmin)
	srv.SetHome(web.RoleSeller, "/portal")
	srv.SetHome(web.RoleLicensee, "/portal")
	srv.AllowBody(http.MethodPost, "/api/v1/listings", maxListingBody)
	srv.AllowBody(http.MethodPost, "/portal/listings", maxListingBody)

	e.GET("/images/:id", h.image)

	e.POST("/api/v1/listings", h.apiCreateListing, sellers, srv.Idempotent())
	e.GET("/api/v1/listings", h.apiListings, readers)
	e.GET("/api/v1/listings/:id", h.apiListing, readers)

	e.GET("/portal", h.listingsPage, sellers)
	e.GET("/portal/listings", h.listingsPage, sellers)
	e.GET("/portal/listings/new", h.newListingPage, sellers)
	e.POST("/portal/listings", h.createListingForm, sellers)
	e.GET("/portal/listings/:id", h.listingPage, sellers)
	return nil
}

// mountStatic serves the catalogue's scripts (listing.js, import.js) under /catalog/static.
// Routes and ImportRoutes both need them and either may be mounted alone; mounting twice
// replaces the route with the same one.
func mountStatic(srv *web.Server) error {
	files, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return err
	}
	srv.Static("/catalog/static", files)
	return nil
}

// --- pictures ---

// image serves a picture's rendition: ?size= one of ImageSizes, the largest by default. The
// original upload (with its EXIF, GPS position included) is never served. Anyone sees the
// picture of a live listing or an approved product; the photos of a pending, held, blocked or
// removed listing (counterfeit evidence) are shown only to its seller and to analysts and
// admins, and are a 404 to everyone else, as is a picture on nothing.
func (h *Handler) image(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return fault.New(fault.NotFound, "image %q not found", c.Param("id"))
	}
	var viewer ImageViewer
	if who := web.Caller(c); who != nil {
		viewer = ImageViewer{SellerID: who.SellerID, LicenseeID: who.LicenseeID,
			Evidence: who.Role == web.RoleAnalyst || who.Role == web.RoleAdmin}
	}
	public, err := h.svc.ImageVisible(c.Request().Context(), id, viewer)
	if err != nil {
		return err
	}
	size := ImageSizes[len(ImageSizes)-1]
	if s := c.QueryParam("size"); s != "" {
		if size, err = strconv.Atoi(s); err != nil {
			return fault.Validation("the size is not valid", fault.Field("size", "must be one of %v", ImageSizes))
		}
	}
	data, sum, err := h.svc.thumbnail(c.Request().Context(), id, size)
	if err != nil {
		return err
	}
	etag := `"` + hex.EncodeToString(sum[:12]) + "-" + strconv.Itoa(size) + `"`
	hdr := c.Response().Header()
	hdr.Set("ETag", etag)
	if public {
		hdr.Set("Cache-Control", publicImageCache)
	} else {
		hdr.Set("Cache-Control", privateImageCache)
	}
	if match := c.Request().Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "image/jpeg", data)
}

// The caching of a picture. A public one (a live listing's, an approved product's) can be
// withheld by a takedown at any time, so shared caches keep it for minutes, not a year, and
// revalidate it by its ETag; one shown only to its owner and to analysts stays in their browser.
const (
	publicImageCache  = "public, max-age=300, must-revalidate"
	privateImageCache = "private, max-age=300"
)

// etagMatches reports whether an If-None-Match header names etag (or is "*").
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// --- who sells ---

// sellerOf returns the seller account the caller lists as: a seller user's own, or its
// licensee's (opened on first use). Other roles have none: fault.Forbidden.
func (h *Handler) sellerOf(c echo.Context) (Seller, error) {
	caller := web.Caller(c)
	ctx := c.Request().Context()
	switch {
	case caller.Role == web.RoleSeller && caller.SellerID != 0:
		return h.svc.Seller(ctx, caller.SellerID)
	case caller.Role == web.RoleLicensee && caller.LicenseeID != 0:
		return h.svc.LicenseeSeller(ctx, caller.LicenseeID)
	}
	return Seller{}, fault.New(fault.Forbidden, "this account has no seller account")
}

// readableListing returns the :id listing if the caller may see it: analysts and admins see
// every listing, sellers and licensees their own. Another seller's listing is not found, so
// ids cannot be probed.
func (h *Handler) readableListing(c echo.Context) (Listing, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return Listing{}, fault.New(fault.NotFound, "listing %q not found", c.Param("id"))
	}
	l, err := h.svc.Listing(c.Request().Context(), id)
	if err != nil {
		return Listing{}, err
	}
	switch web.Caller(c).Role {
	case web.RoleAnalyst, web.RoleAdmin:
		return l, nil
	}
	seller, err := h.sellerOf(c)
	if err != nil {
		return Listing{}, err
	}
	if l.SellerID != seller.ID {
		return Listing{}, fault.New(fault.NotFound, "listing %d not found", id)
	}
	return l, nil
}

// --- creating a listing (API and form) ---

// ListingForm is a listing as typed into the form or sent to the API, before checking.
// The API sends price_amount in minor units; the form sends price in major units ("25.00").
type ListingForm struct {
	Title       string
	Description string
	Price       string
	PriceAmount string
	Currency    string
	Territories string
	ProductSKU  string
	Stock       string
}

// readListing reads the multipart request: the form fields as typed, and the submission
// (the unreadable fields named in its Unreadable) with its photo files.
func readListing(c echo.Context) (ListingForm, ListingSubmission, error) {
	var bad fault.Fields
	req := c.Request()
	if err := req.ParseMultipartForm(16 << 20); err != nil {
		var maxErr *http.MaxBytesError
		switch {
		case errors.As(err, &maxErr):
			return ListingForm{}, ListingSubmission{}, fault.Wrap(fault.TooLarge, err, "the upload is larger than %d MB", maxListingBody>>20)
		case errors.Is(err, http.ErrNotMultipart):
			return ListingForm{}, ListingSubmission{}, fault.Validation("send the listing as multipart/form-data",
				fault.Field("images", "photos are uploaded as files of a multipart form"))
		}
		return ListingForm{}, ListingSubmission{}, fault.Wrap(fault.Invalid, err, "the form cannot be read")
	}
	f := ListingForm{Title: c.FormValue("title"), Description: c.FormValue("description"), Price: c.FormValue("price"),
		PriceAmount: c.FormValue("price_amount"), Currency: strings.ToUpper(strings.TrimSpace(c.FormValue("currency"))),
		Territories: c.FormValue("territories"), ProductSKU: c.FormValue("product_sku"), Stock: c.FormValue("stock")}
	n := NewListing{Title: f.Title, Description: f.Description, ProductSKU: f.ProductSKU, Stock: 1,
		Price: money.New(0, f.Currency), Territories: textlist.Split(f.Territories, textlist.Typed)}
	switch {
	case strings.TrimSpace(f.PriceAmount) != "":
		v, err := strconv.ParseInt(strings.TrimSpace(f.PriceAmount), 10, 64)
		if err != nil || v <= 0 {
			bad.Add("price_amount", "%q is not a positive whole number of the currency's minor unit (2500 for €25.00)", f.PriceAmount)
			v = 1 // said once, here
		}
		n.Price.Amount = v
	case strings.TrimSpace(f.Price) != "":
		if _, err := money.ParseCurrency(f.Currency); err == nil {
			v, err := money.ParseDecimal(f.Price, f.Currency)
			switch {
			case err != nil:
				bad.Add("price", "%s", err.Error())
				v = 1 // said once, here
			case v <= 0:
				bad.Add("price", "must be more than zero")
				v = 1
			}
			n.Price.Amount = v
		} else {
			n.Price.Amount = 1 // the currency is refused with its own message
		}
	default:
		bad.Add("price_amount", "give a price")
		n.Price.Amount = 1 // said once, here
	}
	if s := strings.TrimSpace(f.Stock); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			bad.Add("stock", "%q is not a whole number", f.Stock)
			v = 1 // said once, here
		}
		n.Stock = v
	}
	var files []*multipart.FileHeader
	if req.MultipartForm != nil {
		files = append(req.MultipartForm.File["images"], req.MultipartForm.File["images[]"]...)
	}
	sub := ListingSubmission{Listing: n, Unreadable: bad}
	for _, fh := range files {
		if fh.Size == 0 && fh.Filename == "" {
			continue // an empty file input
		}
		file, err := fh.Open()
		if err != nil {
			return f, sub, err
		}
		// One byte over the limit is enough for the check to refuse it.
		data, err := io.ReadAll(io.LimitReader(file, MaxImageBytes+1))
		file.Close()
		if err != nil {
			return f, sub, err
		}
		sub.Photos = append(sub.Photos, Photo{Name: fh.Filename, Data: data})
	}
	return f, sub, nil
}

// createListing reads the request and hands it to the catalogue's SubmitListing, for the
// caller's seller account.
func (h *Handler) createListing(c echo.Context) (ListingForm, Listing, error) {
	seller, err := h.sellerOf(c)
	if err != nil {
		return ListingForm{}, Listing{}, err
	}
	form, sub, err := readListing(c)
	if err != nil {
		return form, Listing{}, err
	}
	l, err := h.svc.SubmitListing(c.Request().Context(), seller.ID, sub)
	return form, l, err
}

// --- API ---

// CreatedJSON is the answer of POST /api/v1/listings.
type CreatedJSON struct {
	ID     int64         `json:"id"`
	Status ListingStatus `json:"status"`
	Slug   string        `json:"slug"`
	URL    string        `json:"url"`
}

func (h *Handler) apiCreateListing(c echo.Context) error {
	_, l, err := h.createListing(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, CreatedJSON{ID: l.ID, Status: l.Status, Slug: l.Slug, URL: "/api/v1/listings/" + itoa(l.ID)})
}

// ListingJSON is a listing in the API with its screening: null while it is pending (or has
// not been screened).
type ListingJSON struct {
	Listing
	Screening *Screening `json:"screening"`
}

// withScreening adds the listing's screening unless it is pending.
func (h *Handler) withScreening(c echo.Context, l Listing) (ListingJSON, error) {
	out := ListingJSON{Listing: l}
	if l.Status == StatusPending {
		return out, nil
	}
	sc, err := h.svc.Screening(c.Request().Context(), l.ID)
	if err != nil && !fault.Is(err, fault.NotFound) {
		return out, err
	}
	out.Screening = sc
	return out, nil
}

func (h *Handler) apiListing(c echo.Context) error {
	l, err := h.readableListing(c)
	if err != nil {
		return err
	}
	out, err := h.withScreening(c, l)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// ListingsJSON is a page of listings; next_after is the after= of the next page (0: none).
type ListingsJSON struct {
	Listings  []Listing `json:"listings"`
	NextAfter int64     `json:"next_after,omitempty"`
}

// apiListings lists the caller's own listings (?status=, ?after=, ?limit=); analysts and
// admins list any seller's with ?seller_id=.
func (h *Handler) apiListings(c echo.Context) error {
	f, err := listingFilter(c)
	if err != nil {
		return err
	}
	switch web.Caller(c).Role {
	case web.RoleAnalyst, web.RoleAdmin:
		if s := c.QueryParam("seller_id"); s != "" {
			if f.SellerID, err = strconv.ParseInt(s, 10, 64); err != nil {
				return fault.Validation("the query is not valid", fault.Field("seller_id", "must be a number"))
			}
		}
	default:
		seller, err := h.sellerOf(c)
		if err != nil {
			return err
		}
		f.SellerID = seller.ID
	}
	ls, err := h.svc.Listings(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := ListingsJSON{Listings: ls}
	if len(ls) == f.Limit {
		out.NextAfter = ls[len(ls)-1].ID
	}
	if out.Listings == nil {
		out.Listings = []Listing{}
	}
	return c.JSON(http.StatusOK, out)
}

// listingFilter reads ?status=, ?after= and ?limit=.
func listingFilter(c echo.Context) (ListingFilter, error) {
	var bad fault.Fields
	f := ListingFilter{Status: ListingStatus(c.QueryParam("status")), Limit: 100, WithImages: true}
	if f.Status != "" && !f.Status.Valid() {
		bad.Add("status", "must be pending, live, held, blocked or removed")
	}
	if s := c.QueryParam("after"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			bad.Add("after", "must be a listing id")
		}
		f.AfterID = v
	}
	if s := c.QueryParam("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 1000 {
			bad.Add("limit", "must be 1 to 1000")
		}
		f.Limit = v
	}
	return f, bad.Err("the query is not valid")
}

// --- pages ---

// ListingsPage is the portal's home: the caller's listings with their statuses.
type ListingsPage struct {
	web.Page
	Seller    Seller
	Status    string
	Statuses  []ListingStatus
	Listings  []Listing
	Counts    map[ListingStatus]int
	NextAfter int64
}

func (h *Handler) listingsPage(c echo.Context) error {
	seller, err := h.sellerOf(c)
	if err != nil {
		return err
	}
	f, err := listingFilter(c)
	if err != nil {
		return err
	}
	f.SellerID = seller.ID
	ctx := c.Request().Context()
	p := &ListingsPage{Page: web.Page{Title: "My listings"}, Seller: seller, Status: string(f.Status),
		Statuses: []ListingStatus{StatusPending, StatusLive, StatusHeld, StatusBlocked, StatusRemoved}}
	if p.Listings, err = h.svc.Listings(ctx, f); err != nil {
		return err
	}
	if len(p.Listings) == f.Limit {
		p.NextAfter = p.Listings[len(p.Listings)-1].ID
	}
	if p.Counts, err = h.svc.listingCounts(ctx, seller.ID); err != nil {
		return err
	}
	return h.srv.Render(c, http.StatusOK, "catalog/listing_list", p)
}

// ListingFormPage is the form for a new listing.
type ListingFormPage struct {
	web.Page
	Seller     Seller
	Form       ListingForm
	Errors     map[string]string
	Currencies []string
	// The limits the form's script checks before uploading (the server checks them again),
	// and the photo size in MB the form names.
	MaxImageBytes, MaxImages, MaxImageMB int
}

func (h *Handler) renderListingForm(c echo.Context, status int, p *ListingFormPage) error {
	seller, err := h.sellerOf(c)
	if err != nil {
		return err
	}
	p.Seller, p.Title, p.Currencies = seller, "New listing", h.srv.Markets().Currencies
	p.MaxImageBytes, p.MaxImages, p.MaxImageMB = MaxImageBytes, MaxListingImages, MaxImageBytes>>20
	if p.Form.Currency == "" {
		p.Form.Currency = h.srv.MarketOf(c).Currency
	}
	if p.Form.Territories == "" && status == http.StatusOK {
		p.Form.Territories = seller.Country
	}
	return h.srv.Render(c, status, "catalog/listing_form", p)
}

func (h *Handler) newListingPage(c echo.Context) error {
	return h.renderListingForm(c, http.StatusOK, &ListingFormPage{})
}

func (h *Handler) createListingForm(c echo.Context) error {
	form, l, err := h.createListing(c)
	if errs, status, ok := formErrors(err); ok {
		return h.renderListingForm(c, status, &ListingFormPage{Form: form, Errors: errs})
	} else if err != nil {
		return err
	}
	web.Flash(c, "Your listing is saved. It is checked before fans can see it.")
	return c.Redirect(http.StatusSeeOther, "/portal/listings/"+itoa(l.ID))
}

// ListingPage shows one of the caller's listings, its status and why.
type ListingPage struct {
	web.Page
	Listing   Listing
	Screening *Screening
}

func (h *Handler) listingPage(c echo.Context) error {
	l, err := h.readableListing(c)
	if err != nil {
		return err
	}
	js, err := h.withScreening(c, l)
	if err != nil {
		return err
	}
	return h.srv.Render(c, http.StatusOK, "catalog/listing_show", &ListingPage{Page: web.Page{Title: l.Title}, Listing: l, Screening: js.Screening})
}

// formErrors turns a service error into the messages the listing form shows beside its
// fields, with the status to answer (internal/web's table); ok is false for errors that are
// not the seller's to fix there. Besides bad fields, a photo over the size limit is theirs to fix.
func formErrors(err error) (map[string]string, int, bool) {
	msgs, status, ok := web.FormErrors(err, fault.Invalid, fault.Conflict, fault.Unprocessable, fault.TooLarge)
	if !ok {
		return nil, 0, false
	}
	// The form has one price field, in major units.
	if m, ok := msgs["price_amount"]; ok && msgs["price"] == "" {
		msgs["price"] = m
	}
	return msgs, status, true
}
