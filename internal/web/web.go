// Package web is the HTTP plumbing every slice shares: the Echo server and its middleware,
// who is calling (sessions and API keys, through an Authenticator), CSRF protection, the one
// table that turns coded errors into statuses and problem documents, and the base page layout.
// It imports no domain package: slices bring their own routes and templates.
package web

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"marketplace/internal/fault"
)

// Role is what a user may do here.
type Role string

// The roles, from the public to the registry's keepers.
const (
	RoleFan      Role = "fan"
	RoleSeller   Role = "seller"
	RoleLicensee Role = "licensee"
	RoleAnalyst  Role = "analyst"
	RoleAdmin    Role = "admin"
)

// Roles lists every role, in order of the public first.
var Roles = []Role{RoleFan, RoleSeller, RoleLicensee, RoleAnalyst, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Identity is the caller of a request, as the Authenticator found it.
type Identity struct {
	UserID     int64
	Email      string
	Role       Role
	LicenseeID int64 // set for licensee users
	SellerID   int64 // set for seller and licensee users that sell
	SessionID  string
	ViaAPIKey  bool
}

// Authenticator resolves a session cookie or an API key into an identity. Both return an error
// with code fault.Unauthorized when the token is unknown, expired or revoked.
type Authenticator interface {
	SessionIdentity(ctx context.Context, token string) (*Identity, error)
	APIKeyIdentity(ctx context.Context, key string) (*Identity, error)
}

// SessionCookie is the name of the cookie that carries the session token.
const SessionCookie = "session"

// Config is what the server needs from cmd/.
type Config struct {
	Logger *slog.Logger
	Auth   Authenticator
	// SecureCookies marks cookies Secure and sends HSTS: on behind HTTPS.
	SecureCookies bool
	// RequestTimeout bounds a handler's context; BodyLimit bounds a request body unless a
	// route asked for more with AllowBody.
	RequestTimeout time.Duration
	BodyLimit      int64
	// Ready reports whether the dependencies answer (for /readyz).
	Ready func(ctx context.Context) error
	// Registry receives the HTTP metrics; nil makes a fresh one.
	Registry *prometheus.Registry
	// TrustedProxies are the peers whose X-Forwarded-For names the client (TRUSTED_PROXIES);
	// none: the socket's address is the client's, whatever the headers say.
	TrustedProxies []*net.IPNet
	// Markets are the countries and currencies the header's selector offers and the market
	// cookie may name (storefront.Markets); none hides the selector.
	Markets Markets
	// TestPayments says orders are paid on the test-payment page (PAYMENTS=test): every page
	// then carries a banner saying so, so nobody mistakes the store for a real one.
	TestPayments bool
}

// Server is the Echo instance with the house middleware, renderer and error handling.
type Server struct {
	Echo     *echo.Echo
	Pages    *Renderer
	cfg      Config
	log      *slog.Logger
	registry *prometheus.Registry
	bodies   map[string]int64 // "METHOD path" -> body limit for routes that take uploads
	homes    map[Role]string
	// idempotency keeps the answers of Idempotent routes (UseIdempotency); nil: not kept.
	idempotency *IdempotencyStore
}

// NewServer builds the server. Routes are added by the slices afterwards.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if err := cfg.Markets.check(); err != nil {
		return nil, err
	}
	pages, err := NewRenderer()
	if err != nil {
		return nil, err
	}
	if err := addLayoutMessages(pages.Messages); err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{Echo: e, Pages: pages, cfg: cfg, log: cfg.Logger, registry: cfg.Registry,
		bodies: map[string]int64{}, homes: map[Role]string{}}
	e.HTTPErrorHandler = s.handleError
	// Client addresses come from the socket unless a configured proxy forwards them; login
	// rate limiting keys on them.
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)

	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{
		Skipper: func(c echo.Context) bool { return c.Request().URL.Path == "/" },
	}))
	e.Use(middleware.RequestID())
	e.Use(s.logRequests())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "err", err, "request_id", requestID(c), "stack", string(stack))
			return err
		},
	}))
	e.Use(s.metrics())
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: cfg.RequestTimeout}))
	e.Use(s.limitBody)
	// /metrics compresses itself; images are compressed already.
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{Level: 5, Skipper: func(c echo.Context) bool {
		p := c.Request().URL.Path
		return p == "/metrics" || strings.HasPrefix(p, "/images/") || strings.HasSuffix(p, ".png") || strings.HasSuffix(p, ".jpg") || strings.HasSuffix(p, ".webp")
	}}))
	hsts := 0
	if cfg.SecureCookies {
		hsts = 31536000
	}
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		HSTSMaxAge:            hsts,
		ReferrerPolicy:        "strict-origin-when-cross-origin",
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; form-action 'self' https://checkout.stripe.com; frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
	}))
	e.Use(s.identify)
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "header:X-CSRF-Token,form:_csrf",
		CookieName:     "_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   cfg.SecureCookies,
		CookieSameSite: http.SameSiteLaxMode,
		ContextKey:     "csrf",
		Skipper:        skipCSRF,
		ErrorHandler: func(err error, c echo.Context) error {
			return fault.Wrap(fault.Forbidden, err, "the form's security token is missing or wrong: reload the page and try again")
		},
	}))

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", s.readyz)
	// /metrics tells routes, latencies and counts: operators read it on METRICS_ADDR
	// (MetricsHandler); on the public address only admins do. Anyone else gets the 404 of a
	// page that does not exist, so the public is not told there is something to try.
	metrics := s.MetricsHandler()
	e.GET("/metrics", func(c echo.Context) error {
		if id := Caller(c); id == nil || id.Role != RoleAdmin {
			return fault.New(fault.NotFound, "page not found")
		}
		metrics.ServeHTTP(c.Response(), c.Request())
		return nil
	})
	e.POST("/market", s.chooseMarket)
	files, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	s.Static("/static", files)
	return s, nil
}

// skipCSRF says which requests need no CSRF token. A token protects what a cookie session may
// do; where no cookie session speaks, a forged request can do nothing its sender could not do
// alone. So bearer-key callers, signed webhooks and JSON API calls without a session (an
// anonymous report, as the contract promises "anyone") go through. An API call that rides on a
// session cookie still needs the token (the X-CSRF-Token header), like every page form: a token
// is the one check that holds whatever the browser sends, where Origin and Sec-Fetch-Site are
// missing from older browsers and proxies strip them. Pages keep the token even when anonymous,
// as login and checkout forms are worth forging too.
func skipCSRF(c echo.Context) bool {
	req := c.Request()
	if strings.HasPrefix(req.Header.Get(echo.HeaderAuthorization), "Bearer ") || strings.HasPrefix(req.URL.Path, "/webhooks/") {
		return true
	}
	id := Caller(c) // identify ran first; a stale session cookie was dropped there
	return strings.HasPrefix(req.URL.Path, "/api/") && (id == nil || id.ViaAPIKey)
}

// MetricsHandler serves the Prometheus metrics to whoever reaches it: for a listener of its
// own (METRICS_ADDR) that only operators can reach.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
}

// Handler returns the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.Echo }

// HTTPServer wraps the handler with the timeouts a public server needs.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // catalogue uploads can be large
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// AllowBody raises the body limit of one route (catalogue imports, listing photos).
func (s *Server) AllowBody(method, path string, limit int64) {
	s.bodies[method+" "+path] = limit
}

// SetHome names the page a role lands on after logging in.
func (s *Server) SetHome(role Role, path string) { s.homes[role] = path }

// Home is the page a role lands on after logging in ("/" when none was set).
func (s *Server) Home(role Role) string {
	if p, ok := s.homes[role]; ok {
		return p
	}
	return "/"
}

// Logger is the server's structured logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Registry is where slices register their own metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

func (s *Server) readyz(c echo.Context) error {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			return c.String(http.StatusServiceUnavailable, "not ready\n")
		}
	}
	return c.String(http.StatusOK, "ready\n")
}

func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit, ok := s.bodies[c.Request().Method+" "+c.Path()]
		if !ok {
			limit = s.cfg.BodyLimit
		}
		req := c.Request()
		if req.ContentLength > limit {
			return fault.New(fault.TooLarge, "the request body is larger than %d bytes", limit)
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		return next(c)
	}
}

// identify attaches the caller's identity: an API key (Authorization: Bearer) wins over a
// session cookie. A bad key is refused at once; a stale cookie is dropped and the request goes
// on anonymously, so an expired session sends a person to the login page, not an error.
func (s *Server) identify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Auth == nil {
			return next(c)
		}
		ctx := c.Request().Context()
		if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
			key, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				return fault.New(fault.Unauthorized, "the Authorization header must be \"Bearer <api key>\"")
			}
			id, err := s.cfg.Auth.APIKeyIdentity(ctx, strings.TrimSpace(key))
			if err != nil {
				return err
			}
			c.Set(identityKey, id)
			return next(c)
		}
		if ck, err := c.Cookie(SessionCookie); err == nil && ck.Value != "" {
			id, err := s.cfg.Auth.SessionIdentity(ctx, ck.Value)
			switch {
			case err == nil:
				c.Set(identityKey, id)
			case fault.Is(err, fault.Unauthorized):
				s.ClearSessionCookie(c)
			default:
				return err
			}
		}
		return next(c)
	}
}

const identityKey = "identity"

// Caller returns the request's identity, or nil when anonymous.
func Caller(c echo.Context) *Identity {
	id, _ := c.Get(identityKey).(*Identity)
	return id
}

// RequireRole lets a request through only for the given roles: 401 without an identity
// (pages are sent to the login page instead), 403 for another role.
func RequireRole(roles ...Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id := Caller(c)
			if id == nil {
				return fault.New(fault.Unauthorized, "log in first")
			}
			for _, r := range roles {
				if id.Role == r {
					return next(c)
				}
			}
			return fault.New(fault.Forbidden, "this needs the %s role; you are %s", joinRoles(roles), id.Role)
		}
	}
}

func joinRoles(roles []Role) string {
	parts := make([]string, len(roles))
	for i, r := range roles {
		parts[i] = string(r)
	}
	return strings.Join(parts, " or ")
}

// SetSessionCookie hands the browser its session token.
func (s *Server) SetSessionCookie(c echo.Context, token string, expires time.Time) {
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// ClearSessionCookie removes the session cookie from the browser.
func (s *Server) ClearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// ClientIP is the caller's address, for rate limits and audit.
func ClientIP(c echo.Context) string {
	ip := c.RealIP()
	if host, _, err := net.SplitHostPort(ip); err == nil {
		return host
	}
	return ip
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

func (s *Server) logRequests() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true,
		LogRemoteIP: true, LogError: true, HandleError: true,
		Skipper: func(c echo.Context) bool { p := c.Path(); return p == "/healthz" || p == "/metrics" },
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			attrs := []any{"method", v.Method, "uri", v.URI, "status", v.Status,
				"latency_ms", float64(v.Latency.Microseconds()) / 1000, "request_id", v.RequestID, "ip", v.RemoteIP}
			if id := Caller(c); id != nil {
				attrs = append(attrs, "user_id", id.UserID, "role", id.Role)
			}
			level := slog.LevelInfo
			if v.Error != nil {
				attrs = append(attrs, "err", v.Error.Error())
				if v.Status >= 500 {
					level = slog.LevelError
				}
			}
			s.log.Log(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

func (s *Server) metrics() echo.MiddlewareFunc {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route", "method"})
	s.registry.MustRegister(requests, latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			status := c.Response().Status
			if err != nil {
				status = StatusOf(err)
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Inc()
			latency.WithLabelValues(route, c.Request().Method).Observe(time.Since(start).Seconds())
			return err
		}
	}
}

// Shutdown stops accepting requests and waits for those under way.
func Shutdown(ctx context.Context, srv *http.Server) error {
	err := srv.Shutdown(ctx)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
