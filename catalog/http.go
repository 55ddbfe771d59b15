package catalog

import (
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
	"marketplace/internal/web"
)

// Handler serves the catalogue's pages and API.
type Handler struct {
	svc *Service
	srv *web.Server
}

// Routes adds the catalogue's pictures, listing API and seller and licensee pages to the
// server.
func Routes(srv *web.Server, svc *Service) error {
	h := &Handler{svc: svc, srv: srv}
	e := srv.Echo
	e.GET("/images/:id", h.image)
	return nil
}

// image serves a picture's rendition: ?size= one of ImageSizes, the largest by default. The
// original upload (with its EXIF, GPS position included) is never served. A picture never
// changes under its id, so it may be cached for a year and revalidated by its ETag.
func (h *Handler) image(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return fault.New(fault.NotFound, "image %q not found", c.Param("id"))
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
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	if match := c.Request().Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "image/jpeg", data)
}

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
