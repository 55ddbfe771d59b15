package web

import (
	"bytes"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
)

// staticMaxAge is how long browsers keep a static file: they are embedded in the binary and
// change only with a release, and an hour bounds how long a release's old script lingers.
const staticMaxAge = "public, max-age=3600"

// Static serves the files of fsys (a slice's embedded scripts and styles) under prefix:
// Static("/catalog/static", files) answers GET /catalog/static/listing.js with listing.js from
// the root of files. Only regular files are served, with the type their extension names and
// the house caching headers; a directory, a missing file or a path that climbs out is a 404.
func (s *Server) Static(prefix string, fsys fs.FS) {
	prefix = "/" + strings.Trim(prefix, "/")
	s.Echo.Match([]string{http.MethodGet, http.MethodHead}, prefix+"/*", func(c echo.Context) error {
		name := c.Param("*")
		if !fs.ValidPath(name) || name == "." {
			return fault.New(fault.NotFound, "no file %q", name)
		}
		info, err := fs.Stat(fsys, name)
		if err != nil || !info.Mode().IsRegular() {
			return fault.New(fault.NotFound, "no file %q", name)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", staticMaxAge)
		// ServeContent sets the type from the extension, and answers Range and HEAD requests.
		http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(data))
		return nil
	})
}
