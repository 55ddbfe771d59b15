package detection

import (
	"embed"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
	"marketplace/internal/web"
)

//go:embed templates/screenings_failed.html
var screeningTemplates embed.FS

// ScreeningRoutes adds the operations view of failing screenings for analysts and admins:
// the page /analyst/screenings (with a retry button per listing) and
// GET /api/v1/detection/screenings/failed.
func ScreeningRoutes(srv *web.Server, svc *Service) error {
	if err := srv.Pages.Add("detection", screeningTemplates, "templates/screenings_failed.html"); err != nil {
		return err
	}
	h := &screeningHandler{svc: svc, srv: srv}
	staff := web.RequireRole(web.RoleAnalyst, web.RoleAdmin)
	srv.Echo.GET("/analyst/screenings", h.page, staff)
	srv.Echo.POST("/analyst/screenings/:id/retry", h.retry, staff)
	srv.Echo.GET("/api/v1/detection/screenings/failed", h.api, staff)
	return nil
}

type screeningHandler struct {
	svc *Service
	srv *web.Server
}

// FailedScreeningsPage is the operations page's data.
type FailedScreeningsPage struct {
	web.Page
	Stuck  []StuckListing
	Notice string
}

func (h *screeningHandler) page(c echo.Context) error {
	stuck, err := h.svc.FailedScreenings(c.Request().Context(), 200)
	if err != nil {
		return err
	}
	p := &FailedScreeningsPage{Stuck: stuck}
	p.Title = "Failing screenings"
	if id := c.QueryParam("retried"); id != "" {
		p.Notice = "A new screening of listing " + id + " is queued."
	}
	return h.srv.Render(c, http.StatusOK, "detection/screenings_failed", p)
}

func (h *screeningHandler) retry(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return fault.Validation("the listing is not valid", fault.Field("id", "must be a listing id"))
	}
	if err := h.svc.RetryScreening(c.Request().Context(), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/analyst/screenings?retried="+strconv.FormatInt(id, 10))
}

func (h *screeningHandler) api(c echo.Context) error {
	stuck, err := h.svc.FailedScreenings(c.Request().Context(), 1000)
	if err != nil {
		return err
	}
	if stuck == nil {
		stuck = []StuckListing{}
	}
	return c.JSON(http.StatusOK, map[string]any{"listings": stuck})
}
