package catalog

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/web"
	"marketplace/licensing"
)

//go:embed templates/imports/*.html
var importTemplates embed.FS

// maxUploadBytes bounds one import request: the CSV and the images zip together.
const maxUploadBytes = 1 << 30

// importTimeout bounds one import once its upload has arrived; it goes on if the uploader
// disconnects, so that its record always ends as succeeded or failed.
const importTimeout = 15 * time.Minute

// importHandler serves the catalogue import (API and licensee pages) and the licensee's
// product list.
type importHandler struct {
	svc *Service
	srv *web.Server
}

// ImportRoutes adds the catalogue import's API and pages, and the products API and page.
// Imports are for licensee users (their own licensee) and admins (naming licensee_id).
func ImportRoutes(srv *web.Server, svc *Service) error {
	if err := srv.Pages.Add("catalog", importTemplates, "templates/imports/*.html"); err != nil {
		return err
	}
	h := &importHandler{svc: svc, srv: srv}
	e := srv.Echo
	importer := web.RequireRole(web.RoleLicensee, web.RoleAdmin)
	reader := web.RequireRole(web.RoleLicensee, web.RoleAdmin, web.RoleAnalyst)
	srv.AllowBody(http.MethodPost, "/api/v1/catalog/imports", maxUploadBytes)
	srv.AllowBody(http.MethodPost, "/portal/imports", maxUploadBytes)

	e.GET("/api/v1/catalog/imports/template", h.template)
	e.POST("/api/v1/catalog/imports", h.apiImport, importer, srv.Idempotent())
	e.GET("/api/v1/catalog/imports", h.apiImports, importer)
	e.GET("/api/v1/catalog/imports/:id", h.apiImportStatus, importer)
	e.GET("/api/v1/products", h.apiProducts, reader)
	e.GET("/api/v1/products/:id", h.apiProduct, reader)

	e.GET("/portal/imports", h.importsPage, importer)
	e.POST("/portal/imports", h.importForm, importer)
	e.GET("/portal/imports/:id", h.importPage, importer)
	e.GET("/portal/products", h.productsPage, reader)
	return mountStatic(srv)
}

// licenseeOf is the licensee the caller acts for: a licensee user's own, or the one an admin
// names in licensee_id (form or query).
func licenseeOf(c echo.Context) (int64, error) {
	caller := web.Caller(c)
	if caller.Role == web.RoleLicensee {
		return caller.LicenseeID, nil
	}
	v := c.FormValue("licensee_id")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.Validation("the licensee is not valid", fault.Field("licensee_id", "%q is not a licensee id", v))
	}
	return id, nil
}

// requireLicensee is licenseeOf for routes that act for one licensee.
func requireLicensee(c echo.Context) (int64, error) {
	id, err := licenseeOf(c)
	if err == nil && id == 0 {
		err = fault.Validation("which licensee?", fault.Field("licensee_id", "an admin names the licensee"))
	}
	return id, err
}

// ImportJSON is an import in the API: its record, its progress from 0 to 1, and its page.
type ImportJSON struct {
	Import
	Progress float64 `json:"progress"`
	URL      string  `json:"url"`
}

func importJSON(i Import) ImportJSON {
	return ImportJSON{Import: i, Progress: i.Progress(), URL: "/portal/imports/" + itoa(i.ID)}
}

// runUpload reads the multipart upload (file, images, dry_run, client_ref) and runs the
// import. The parts are spooled to temporary files by the multipart reader (1 MiB in memory
// at most) and read from there as streams.
func (h *importHandler) runUpload(c echo.Context) (Import, error) {
	req := c.Request()
	// Parsed first, with 1 MiB in memory at most: any later FormValue would parse it with
	// 32 MiB.
	if err := req.ParseMultipartForm(1 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Import{}, fault.Wrap(fault.TooLarge, err, "the upload is larger than %d MiB", maxUploadBytes>>20)
		}
		return Import{}, fault.Wrap(fault.Invalid, err, "send the file as multipart/form-data")
	}
	defer req.MultipartForm.RemoveAll() //nolint:errcheck
	licensee, err := requireLicensee(c)
	if err != nil {
		return Import{}, err
	}
	file, fh, err := req.FormFile("file")
	if err != nil {
		return Import{}, fault.Validation("no catalogue file", fault.Field("file", "choose the CSV file to import"))
	}
	defer file.Close()
	ir := ImportRequest{LicenseeID: licensee, UserID: web.Caller(c).UserID, CSV: file, Filename: fh.Filename, Size: fh.Size,
		DryRun: formBool(c.FormValue("dry_run")), ClientRef: c.FormValue("client_ref")}
	var images multipart.File
	if zf, zh, err := req.FormFile("images"); err == nil && zh.Size > 0 {
		images = zf
		defer images.Close()
		ir.Images, ir.ImagesSize, ir.ImagesFilename = zf, zh.Size, zh.Filename
	} else if err == nil {
		zf.Close()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), importTimeout)
	defer cancel()
	return h.svc.Import(ctx, ir)
}

func formBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

// apiImport is POST /api/v1/catalog/imports: 200 with the import when it was applied (or,
// for a dry run, would be), 422 with the same body and its errors when a line is bad.
func (h *importHandler) apiImport(c echo.Context) error {
	imp, err := h.runUpload(c)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if imp.Status == ImportFailed {
		status = http.StatusUnprocessableEntity
	}
	return c.JSON(status, importJSON(imp))
}

// apiImports is GET /api/v1/catalog/imports: the latest imports, or with ?ref= the one the
// caller tagged (404 until it has started).
func (h *importHandler) apiImports(c echo.Context) error {
	licensee, err := requireLicensee(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if ref := c.QueryParam("ref"); ref != "" {
		imp, err := h.svc.ImportByRef(ctx, licensee, ref)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, importJSON(imp))
	}
	list, err := h.svc.Imports(ctx, licensee, 50)
	if err != nil {
		return err
	}
	out := make([]ImportJSON, len(list))
	for i, imp := range list {
		out[i] = importJSON(imp)
	}
	return c.JSON(http.StatusOK, out)
}

// apiImportStatus is GET /api/v1/catalog/imports/{id}.
func (h *importHandler) apiImportStatus(c echo.Context) error {
	imp, err := h.ownImport(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, importJSON(imp))
}

func (h *importHandler) ownImport(c echo.Context) (Import, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return Import{}, fault.New(fault.NotFound, "import %q not found", c.Param("id"))
	}
	licensee, err := licenseeOf(c) // an admin without licensee_id sees any import
	if err != nil {
		return Import{}, err
	}
	return h.svc.ImportByID(c.Request().Context(), licensee, id)
}

// template is GET /api/v1/catalog/imports/template: the documented CSV to fill in.
func (h *importHandler) template(c echo.Context) error {
	c.Response().Header().Set("Content-Disposition", `attachment; filename="catalogue-template.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", []byte(ImportTemplate))
}

// productFilter reads ?property=&category=&q=&after= for the caller: a licensee sees its own
// products, admins and analysts anyone's (or one licensee's with licensee_id).
func productFilter(c echo.Context) (ProductFilter, error) {
	f := ProductFilter{Property: c.QueryParam("property"), Category: c.QueryParam("category"), Query: c.QueryParam("q"),
		Status: ProductStatus(c.QueryParam("status"))}
	var bad fault.Fields
	if f.Category != "" && !licensing.IsCategory(f.Category) {
		bad.Add("category", "unknown category %q", f.Category)
	}
	if v := c.QueryParam("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			bad.Add("after", "must be a product id")
		}
		f.AfterID = n
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			bad.Add("limit", "must be from 1 to 1000")
		}
		f.Limit = n
	}
	id, err := licenseeOf(c)
	if err != nil {
		return f, err
	}
	f.LicenseeID = id
	return f, bad.Err("the filter is not valid")
}

// apiProducts is GET /api/v1/products?property=&category=: the caller's products.
func (h *importHandler) apiProducts(c echo.Context) error {
	f, err := productFilter(c)
	if err != nil {
		return err
	}
	ps, err := h.svc.Products(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ps)
}

// apiProduct is GET /api/v1/products/{id}; a licensee sees only its own (404 otherwise).
func (h *importHandler) apiProduct(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return fault.New(fault.NotFound, "product %q not found", c.Param("id"))
	}
	p, err := h.svc.Product(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if caller := web.Caller(c); caller.Role == web.RoleLicensee && caller.LicenseeID != p.LicenseeID {
		return fault.New(fault.NotFound, "product %d not found", id)
	}
	return c.JSON(http.StatusOK, p)
}

// --- pages ---

// ImportsPage is the licensee's upload form and list of imports.
type ImportsPage struct {
	web.Page
	Imports   []Import
	ClientRef string
	Error     string
	Fields    []fault.FieldError
}

// ImportPage is one import: its progress while it runs, its outcome and every bad line.
type ImportPage struct {
	web.Page
	Import  Import
	Percent int
}

// ProductsPage is the licensee's products.
type ProductsPage struct {
	web.Page
	Products   []ProductRow
	Filter     ProductFilter
	Total      int
	Properties []licensing.Property
	Categories []licensing.Category
	NextAfter  int64
}

// ProductRow is a product as the list shows it.
type ProductRow struct {
	Product
	Price    money.Money
	HasPrice bool
	SKUs     string
	Image    int64
}

func newClientRef() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (h *importHandler) importsPage(c echo.Context) error {
	return h.renderImports(c, http.StatusOK, "", nil)
}

func (h *importHandler) renderImports(c echo.Context, status int, msg string, fields []fault.FieldError) error {
	licensee, err := requireLicensee(c)
	if err != nil {
		return err
	}
	list, err := h.svc.Imports(c.Request().Context(), licensee, 20)
	if err != nil {
		return err
	}
	p := &ImportsPage{Imports: list, ClientRef: newClientRef(), Error: msg, Fields: fields}
	p.Title = "Catalogue imports"
	return h.srv.Render(c, status, "catalog/import_list", p)
}

// importForm is the upload form's POST. The page's script sends it with
// Accept: application/json and follows the import's progress; without the script the
// browser waits and lands on the import's page.
func (h *importHandler) importForm(c echo.Context) error {
	imp, err := h.runUpload(c)
	wantsJSON := web.WantsJSON(c)
	if err != nil {
		// A bad form or a file over the limit is the licensee's to fix on the page; the status
		// is the table's (413 for a file over the limit).
		if e, ok := fault.As(err); ok && !wantsJSON && (e.Code == fault.Invalid || e.Code == fault.TooLarge) {
			return h.renderImports(c, web.StatusOf(err), e.Message, e.Fields)
		}
		return err
	}
	if wantsJSON {
		return c.JSON(http.StatusOK, importJSON(imp))
	}
	return c.Redirect(http.StatusSeeOther, "/portal/imports/"+itoa(imp.ID))
}

func (h *importHandler) importPage(c echo.Context) error {
	imp, err := h.ownImport(c)
	if err != nil {
		return err
	}
	p := &ImportPage{Import: imp, Percent: int(imp.Progress() * 100)}
	p.Title = "Import of " + imp.Filename
	return h.srv.Render(c, http.StatusOK, "catalog/import_show", p)
}

func (h *importHandler) productsPage(c echo.Context) error {
	f, err := productFilter(c)
	if err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	ctx := c.Request().Context()
	ps, err := h.svc.Products(ctx, f)
	if err != nil {
		return err
	}
	total, err := h.svc.CountProducts(ctx, f)
	if err != nil {
		return err
	}
	props, err := h.svc.licensing.Properties(ctx)
	if err != nil {
		return err
	}
	p := &ProductsPage{Filter: f, Total: total, Properties: props, Categories: licensing.Categories}
	for _, pr := range ps {
		row := ProductRow{Product: pr}
		row.Price, row.HasPrice = pr.MainPrice()
		skus := make([]string, 0, len(pr.Variants))
		for _, v := range pr.Variants {
			skus = append(skus, v.SKU)
		}
		row.SKUs = strings.Join(skus, ", ")
		if len(pr.Images) > 0 {
			row.Image = pr.Images[0].ID
		}
		p.Products = append(p.Products, row)
	}
	if len(ps) == f.Limit {
		p.NextAfter = ps[len(ps)-1].ID
	}
	p.Title = "Products"
	return h.srv.Render(c, http.StatusOK, "catalog/product_list", p)
}
