package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
)

// statusByCode is the one table from error codes to HTTP statuses.
var statusByCode = map[fault.Code]int{
	fault.Invalid:       http.StatusBadRequest,
	fault.Unauthorized:  http.StatusUnauthorized,
	fault.Forbidden:     http.StatusForbidden,
	fault.NotFound:      http.StatusNotFound,
	fault.Conflict:      http.StatusConflict,
	fault.TooLarge:      http.StatusRequestEntityTooLarge,
	fault.Unsupported:   http.StatusUnsupportedMediaType,
	fault.Unprocessable: http.StatusUnprocessableEntity,
	fault.RateLimited:   http.StatusTooManyRequests,
	fault.Unavailable:   http.StatusServiceUnavailable,
	fault.Internal:      http.StatusInternalServerError,
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	Instance  string             `json:"instance,omitempty"`
	Errors    []fault.FieldError `json:"errors,omitempty"`
	RequestID string             `json:"request_id,omitempty"`
}

// StatusOf is the HTTP status for any error a handler returns: a coded error's through the
// table above, an echo.HTTPError's own, 413 for a body over its limit, 503 for a request that
// ran out of time, 500 for everything else. A handler that answers an error itself (a form
// shown again with its messages) takes the status from here, so every status comes from one
// table.
func StatusOf(err error) int {
	if e, ok := fault.As(err); ok {
		return statusByCode[e.Code]
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// problemOf turns any error into the problem document the caller may see: coded errors keep
// their message, everything else is an internal error whose detail stays in the log.
func (s *Server) problemOf(c echo.Context, err error) Problem {
	status := StatusOf(err)
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status,
		Instance: c.Request().URL.Path, RequestID: requestID(c)}
	if e, ok := fault.As(err); ok {
		p.Detail, p.Errors = e.Message, e.Fields
		return p
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if msg, ok := he.Message.(string); ok {
			p.Detail = msg
		}
		return p
	}
	switch status {
	case http.StatusRequestEntityTooLarge:
		p.Detail = "the request body is too large"
	case http.StatusServiceUnavailable:
		p.Detail = "the request took too long; try again"
	default:
		p.Detail = "something went wrong on our side; the request id helps us find it"
	}
	return p
}

// WantsJSON tells API callers from people: /api/ paths, webhooks and JSON-accepting clients
// get problem documents; browsers get a page.
func WantsJSON(c echo.Context) bool {
	p := c.Request().URL.Path
	if strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/webhooks/") {
		return true
	}
	accept := c.Request().Header.Get(echo.HeaderAccept)
	return strings.Contains(accept, "json") && !strings.Contains(accept, "text/html")
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := s.problemOf(c, err)
	level := slog.LevelInfo
	if p.Status >= 500 {
		level = slog.LevelError
	}
	s.log.Log(c.Request().Context(), level, "request failed", "status", p.Status, "err", err.Error(),
		"path", c.Request().URL.Path, "request_id", p.RequestID)

	if WantsJSON(c) {
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
		if c.Request().Method == http.MethodHead {
			c.NoContent(p.Status) //nolint:errcheck
			return
		}
		if err := c.JSON(p.Status, p); err != nil {
			s.log.Error("write problem", "err", err)
		}
		return
	}
	// A person without a session is sent to log in and brought back.
	if p.Status == http.StatusUnauthorized && c.Request().Method == http.MethodGet {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI())) //nolint:errcheck
		return
	}
	page := &ErrorPage{Problem: p}
	page.Title = p.Title
	if err := s.Render(c, p.Status, "web/error", page); err != nil {
		s.log.Error("render error page", "err", err)
		c.String(p.Status, p.Title+": "+p.Detail) //nolint:errcheck
	}
}

// ErrorPage is the friendly page a person sees when something fails.
type ErrorPage struct {
	Page
	Problem Problem
}

// FormErrors turns err into what a form shows when it is sent back to the person who filled it
// in: a message per field (under "" the message for the form as a whole; two messages for one
// field are joined with "; ") and the status to answer with, from the one table. A form
// explains only the codes it names in shown (the ones the person can fix there); ok is false
// for any other error, which goes to the error page.
func FormErrors(err error, shown ...fault.Code) (msgs map[string]string, status int, ok bool) {
	e, isCoded := fault.As(err)
	if !isCoded || !slices.Contains(shown, e.Code) {
		return nil, 0, false
	}
	msgs = map[string]string{"": e.Message}
	for _, f := range e.Fields {
		if msgs[f.Field] == "" {
			msgs[f.Field] = f.Message
		} else {
			msgs[f.Field] += "; " + f.Message
		}
	}
	return msgs, StatusOf(err), true
}
