package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"marketplace/internal/auth"
	"marketplace/internal/fault"
	"marketplace/internal/web"
)

// importHTTP is the import world behind a server with the accounts' and import routes, and an
// API key for a user of each licensee, an analyst and a fan.
type importHTTP struct {
	*importWorld
	srv                      *web.Server
	keyA, keyB, analyst, fan string
}

func newImportHTTP(t *testing.T) *importHTTP {
	t.Helper()
	w := newImportWorld(t)
	accounts := auth.NewService(w.pool, auth.DefaultLimits)
	srv, err := web.NewServer(web.Config{Auth: accounts, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.Routes(srv, accounts); err != nil {
		t.Fatal(err)
	}
	if err := ImportRoutes(srv, w.svc); err != nil {
		t.Fatal(err)
	}
	key := func(email string, role web.Role, licensee int64) string {
		u, err := accounts.CreateUser(context.Background(), auth.NewUser{Email: email, Role: role, LicenseeID: licensee})
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := accounts.CreateAPIKey(context.Background(), u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	return &importHTTP{importWorld: w, srv: srv, keyA: key("a@example.com", web.RoleLicensee, w.a),
		keyB: key("b@example.com", web.RoleLicensee, w.b), analyst: key("an@example.com", web.RoleAnalyst, 0),
		fan: key("fan@example.com", web.RoleFan, 0)}
}

func (h *importHTTP) do(t *testing.T, method, path, key string, body *bytes.Buffer, ctype string) *httptest.ResponseRecorder {
	t.Helper()
	if body == nil {
		body = &bytes.Buffer{}
	}
	req := httptest.NewRequest(method, path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	h.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// upload posts a multipart import.
func (h *importHTTP) upload(t *testing.T, key, csv string, zipData []byte, fields map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csv != "" {
		writeFormFile(t, mw, "file", "catalogue.csv", []byte(csv))
	}
	if zipData != nil {
		writeFormFile(t, mw, "images", "pictures.zip", zipData)
	}
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return h.do(t, http.MethodPost, "/api/v1/catalog/imports", key, &body, mw.FormDataContentType())
}

// writeFormFile adds a file part to a multipart body.
func writeFormFile(t *testing.T, mw *multipart.Writer, field, name string, data []byte) {
	t.Helper()
	fw, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
}

func decodeImport(t *testing.T, rec *httptest.ResponseRecorder) ImportJSON {
	t.Helper()
	var out ImportJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("not an import (%v): %s", err, rec.Body.String())
	}
	return out
}

func TestImportAPI(t *testing.T) {
	t.Parallel()
	h := newImportHTTP(t)
	good := "sku,title_en,title_fr,property,category,currency,price_amount,territories,stock\n" +
		"API-1,API tee,T-shirt API,PARIS2024,apparel,EUR,2500,FR,3\nAPI-2,API cap,,PARIS2024,headwear,JPY,1200,BE,1\n"

	t.Run("TemplateIsPublicAndImportsAsDocumented", func(t *testing.T) {
		rec := h.do(t, http.MethodGet, "/api/v1/catalog/imports/template", "", nil, "")
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
			t.Fatalf("template: %d %s", rec.Code, rec.Header())
		}
		zipData := testZip(t, "tee-blue-front.jpg", testJPEG(t, 1), "tee-blue-back.jpg", testJPEG(t, 2))
		res := decodeImport(t, h.upload(t, h.keyA, rec.Body.String(), zipData, map[string]string{"dry_run": "true"}))
		if res.Status != ImportSucceeded || res.Accepted != 2 || !res.DryRun {
			t.Fatalf("the template does not import: %+v", res)
		}
	})

	t.Run("DryRun", func(t *testing.T) {
		rec := h.upload(t, h.keyA, good, nil, map[string]string{"dry_run": "1"})
		res := decodeImport(t, rec)
		if rec.Code != http.StatusOK || res.Status != ImportSucceeded || res.Accepted != 2 || !res.DryRun || res.Progress != 1 {
			t.Fatalf("dry run: %d %+v", rec.Code, res)
		}
		if n, err := h.svc.CountProducts(context.Background(), ProductFilter{LicenseeID: h.a}); err != nil || n != 0 {
			t.Fatalf("a dry run wrote %d products (%v)", n, err)
		}
	})

	var id int64
	t.Run("Applies", func(t *testing.T) {
		rec := h.upload(t, h.keyA, good, nil, map[string]string{"client_ref": "ref-1"})
		res := decodeImport(t, rec)
		if rec.Code != http.StatusOK || res.Status != ImportSucceeded || res.Accepted != 2 || res.Rejected != 0 || len(res.Errors) != 0 {
			t.Fatalf("import: %d %s", rec.Code, rec.Body)
		}
		id = res.ID
		status := decodeImport(t, h.do(t, http.MethodGet, "/api/v1/catalog/imports/"+itoa(id), h.keyA, nil, ""))
		if status.ID != id || status.Status != ImportSucceeded || status.Lines != 2 {
			t.Fatalf("status: %+v", status)
		}
		byRef := decodeImport(t, h.do(t, http.MethodGet, "/api/v1/catalog/imports?ref=ref-1", h.keyA, nil, ""))
		if byRef.ID != id {
			t.Fatalf("by ref: %+v", byRef)
		}
	})

	t.Run("BadLinesAre422WithLineAndField", func(t *testing.T) {
		bad := "sku,title_en,property,category,currency,price_amount,territories\nOK-9,Tee,PARIS2024,apparel,EUR,100,FR\nX-1,Tee,PARIS2024,apparel,JPY,12.5,FR\n"
		rec := h.upload(t, h.keyA, bad, nil, nil)
		res := decodeImport(t, rec)
		if rec.Code != http.StatusUnprocessableEntity || res.Status != ImportFailed || res.Accepted != 1 || res.Rejected != 1 ||
			len(res.Errors) != 1 || res.Errors[0].Line != 3 || res.Errors[0].Field != "price_amount" {
			t.Fatalf("bad import: %d %s", rec.Code, rec.Body)
		}
	})

	t.Run("ErrNoFileIs400", func(t *testing.T) {
		rec := h.upload(t, h.keyA, "", nil, map[string]string{"dry_run": "1"})
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field":"file"`) {
			t.Fatalf("no file: %d %s", rec.Code, rec.Body)
		}
	})

	t.Run("ErrOtherRolesRefused", func(t *testing.T) {
		for _, key := range []string{h.fan, h.analyst} {
			if rec := h.upload(t, key, good, nil, nil); rec.Code != http.StatusForbidden {
				t.Fatalf("upload by another role: %d", rec.Code)
			}
		}
		// Without a key the CSRF check refuses the form post before anything else.
		if rec := h.upload(t, "", good, nil, nil); rec.Code != http.StatusUnauthorized && rec.Code != http.StatusForbidden {
			t.Fatalf("anonymous upload: %d", rec.Code)
		}
	})

	t.Run("ErrAnotherLicenseesImportIs404", func(t *testing.T) {
		if rec := h.do(t, http.MethodGet, "/api/v1/catalog/imports/"+itoa(id), h.keyB, nil, ""); rec.Code != http.StatusNotFound {
			t.Fatalf("B reads A's import: %d", rec.Code)
		}
	})

	t.Run("ProductsAreTheCallers", func(t *testing.T) {
		var ps []Product
		rec := h.do(t, http.MethodGet, "/api/v1/products?property=PARIS2024&category=apparel", h.keyA, nil, "")
		if err := json.Unmarshal(rec.Body.Bytes(), &ps); err != nil || len(ps) != 1 || ps[0].Variants[0].SKU != "API-1" {
			t.Fatalf("A's apparel: %s", rec.Body)
		}
		rec = h.do(t, http.MethodGet, "/api/v1/products", h.keyB, nil, "")
		if err := json.Unmarshal(rec.Body.Bytes(), &ps); err != nil || len(ps) != 1 || ps[0].Variants[0].SKU != "B-TEE-1" {
			t.Fatalf("B's products: %s", rec.Body)
		}
		a, err := h.svc.ProductBySKU(context.Background(), h.a, "API-1")
		if err != nil {
			t.Fatal(err)
		}
		if rec := h.do(t, http.MethodGet, "/api/v1/products/"+itoa(a.ID), h.keyB, nil, ""); rec.Code != http.StatusNotFound {
			t.Fatalf("B reads A's product: %d", rec.Code)
		}
		if rec := h.do(t, http.MethodGet, "/api/v1/products?category=rockets", h.keyA, nil, ""); rec.Code != http.StatusBadRequest {
			t.Fatalf("bad category: %d", rec.Code)
		}
		if rec := h.do(t, http.MethodGet, "/api/v1/products", h.fan, nil, ""); rec.Code != http.StatusForbidden {
			t.Fatalf("fan: %d", rec.Code)
		}
	})

	t.Run("FormPostWithoutScriptRedirectsToTheImport", func(t *testing.T) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		writeFormFile(t, mw, "file", "form.csv", []byte(good))
		if err := mw.WriteField("dry_run", "on"); err != nil {
			t.Fatal(err)
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		rec := h.do(t, http.MethodPost, "/portal/imports", h.keyA, &body, mw.FormDataContentType())
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/portal/imports/") {
			t.Fatalf("form post: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		page := h.do(t, http.MethodGet, rec.Header().Get("Location"), h.keyA, nil, "")
		if !strings.Contains(page.Body.String(), "dry run") || !strings.Contains(page.Body.String(), `id="import-outcome"`) {
			t.Fatalf("import page: %.500s", page.Body)
		}
		var empty bytes.Buffer
		mw = multipart.NewWriter(&empty)
		if err := mw.WriteField("dry_run", "on"); err != nil {
			t.Fatal(err)
		}
		if err := mw.Close(); err != nil {
			t.Fatal(err)
		}
		rec = h.do(t, http.MethodPost, "/portal/imports", h.keyA, &empty, mw.FormDataContentType())
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `id="form-error"`) {
			t.Fatalf("form without a file: %d %.300s", rec.Code, rec.Body)
		}
	})

	t.Run("PagesRender", func(t *testing.T) {
		for _, path := range []string{"/portal/imports", "/portal/imports/" + itoa(id), "/portal/products", "/portal/products?category=apparel"} {
			rec := h.do(t, http.MethodGet, path, h.keyA, nil, "")
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<main") {
				t.Fatalf("%s: %d %.300s", path, rec.Code, rec.Body)
			}
		}
		rec := h.do(t, http.MethodGet, "/catalog/static/import.js", "", nil, "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), "javascript") {
			t.Fatalf("script: %d", rec.Code)
		}
	})
}

// TestImportAPIRefusesUnreadableCSV: a CSV the parser cannot read on (a quote never closed, a
// single line of 50 MB) is the uploader's mistake: a 4xx naming the line, never a 500.
func TestImportAPIRefusesUnreadableCSV(t *testing.T) {
	t.Parallel()
	h := newImportHTTP(t)
	header := "sku,title_en,property,category,currency,price_amount,territories,stock\n"
	good := "Q-1,Quote tee,PARIS2024,apparel,EUR,2500,FR,3\n"
	for _, tc := range []struct {
		name, csv string
		line      int
	}{
		{"UnclosedQuote", header + good + "Q-2,\"Open quote tee,PARIS2024,apparel,EUR,2500,FR,3\n" + good, 3},
		{"UnclosedQuoteInALongFile", header + good + "Q-2,\"Open quote tee,PARIS2024,apparel,EUR,2500,FR,3\n" + strings.Repeat(good, 20000), 3},
		{"FiftyMegabyteLine", header + good + "Q-3," + strings.Repeat("x", 50<<20) + ",PARIS2024,apparel,EUR,2500,FR,3\n", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := h.upload(t, h.keyA, tc.csv, nil, nil)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422 (a failed import): %.500s", rec.Code, rec.Body.String())
			}
			// A problem+json or a failed import: both list their errors with the line.
			var p struct {
				Errors []fault.FieldError `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatalf("not JSON (%v): %.500s", err, rec.Body.String())
			}
			named := false
			for _, e := range p.Errors {
				named = named || e.Line == tc.line
			}
			if !named {
				t.Errorf("the problem does not name line %d: %+v", tc.line, p)
			}
			n, err := h.svc.CountProducts(context.Background(), ProductFilter{LicenseeID: h.a})
			if err != nil || n != 0 {
				t.Errorf("products after a refused import = %d, %v", n, err)
			}
		})
	}
}
