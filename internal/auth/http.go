package auth

import (
	"embed"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
	"marketplace/internal/web"
)

//go:embed templates/*.html
var templates embed.FS

// Handler serves the login, registration and account pages and /api/v1/me.
type Handler struct {
	svc *Service
	srv *web.Server
}

// Routes adds the accounts' pages and API to the server.
func Routes(srv *web.Server, svc *Service) error {
	if err := srv.Pages.Add("auth", templates, "templates/*.html"); err != nil {
		return err
	}
	h := &Handler{svc: svc, srv: srv}
	e := srv.Echo
	e.GET("/login", h.loginPage)
	e.POST("/login", h.login)
	e.GET("/register", h.registerPage)
	e.POST("/register", h.register)
	e.POST("/logout", h.logout)
	signedIn := web.RequireRole(web.Roles...)
	e.GET("/account", h.account, signedIn)
	e.POST("/account/keys", h.createKey, signedIn)
	e.POST("/account/keys/:id/revoke", h.revokeKey, signedIn)
	e.GET("/api/v1/me", h.me, signedIn)
	return nil
}

// LoginPage is the login form.
type LoginPage struct {
	web.Page
	Email string
	Next  string
	Error string
}

// RegisterPage is the registration form.
type RegisterPage struct {
	web.Page
	Email  string
	Errors map[string]string
}

// AccountPage shows who is logged in and their API keys.
type AccountPage struct {
	web.Page
	User   User
	Keys   []APIKey
	NewKey string
}

func (h *Handler) loginPage(c echo.Context) error {
	return h.srv.Render(c, http.StatusOK, "auth/login", &LoginPage{Page: web.Page{Title: "Log in"}, Next: safeNext(c.QueryParam("next"))})
}

func (h *Handler) login(c echo.Context) error {
	email, next := c.FormValue("email"), safeNext(c.FormValue("next"))
	token, expires, u, err := h.svc.Login(c.Request().Context(), email, c.FormValue("password"), web.ClientIP(c), c.Request().UserAgent())
	if err != nil {
		// A wrong password and too many attempts are told on the login page, with the status
		// of internal/web's table; anything else is the error page's.
		ferr, ok := fault.As(err)
		if !ok || (ferr.Code != fault.Unauthorized && ferr.Code != fault.RateLimited) {
			return err
		}
		h.srv.Logger().Info("login refused", "email", strings.ToLower(email), "ip", web.ClientIP(c), "err", err)
		return h.srv.Render(c, web.StatusOf(err), "auth/login", &LoginPage{Page: web.Page{Title: "Log in"}, Email: email, Next: next, Error: ferr.Message})
	}
	h.srv.SetSessionCookie(c, token, expires)
	if next == "" {
		next = h.srv.Home(u.Role)
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (h *Handler) registerPage(c echo.Context) error {
	return h.srv.Render(c, http.StatusOK, "auth/register", &RegisterPage{Page: web.Page{Title: "Create your account"}})
}

func (h *Handler) register(c echo.Context) error {
	email := c.FormValue("email")
	u, err := h.registerUser(c, email)
	if err != nil {
		errs, status, ok := web.FormErrors(err, fault.Invalid)
		if !ok {
			return err
		}
		page := &RegisterPage{Page: web.Page{Title: "Create your account"}, Email: email, Errors: errs}
		return h.srv.Render(c, status, "auth/register", page)
	}
	web.Flash(c, "Welcome! Your account is ready.")
	return c.Redirect(http.StatusSeeOther, h.srv.Home(u.Role))
}

func (h *Handler) registerUser(c echo.Context, email string) (User, error) {
	if c.FormValue("password") != c.FormValue("password_again") {
		return User{}, fault.Validation("the account cannot be created", fault.Field("password_again", "the two passwords differ"))
	}
	token, expires, u, err := h.svc.Register(c.Request().Context(), email, c.FormValue("password"), web.ClientIP(c), c.Request().UserAgent())
	if err != nil {
		return User{}, err
	}
	h.srv.SetSessionCookie(c, token, expires)
	return u, nil
}

func (h *Handler) logout(c echo.Context) error {
	if ck, err := c.Cookie(web.SessionCookie); err == nil {
		if err := h.svc.Logout(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	h.srv.ClearSessionCookie(c)
	web.Flash(c, "You are logged out.")
	return c.Redirect(http.StatusSeeOther, "/")
}

func (h *Handler) account(c echo.Context) error {
	return h.renderAccount(c, "")
}

func (h *Handler) renderAccount(c echo.Context, newKey string) error {
	id := web.Caller(c)
	ctx := c.Request().Context()
	u, err := h.svc.UserByEmail(ctx, id.Email)
	if err != nil {
		return err
	}
	keys, err := h.svc.APIKeys(ctx, id.UserID)
	if err != nil {
		return err
	}
	return h.srv.Render(c, http.StatusOK, "auth/account", &AccountPage{Page: web.Page{Title: "Your account"}, User: u, Keys: keys, NewKey: newKey})
}

func (h *Handler) createKey(c echo.Context) error {
	key, _, err := h.svc.CreateAPIKey(c.Request().Context(), web.Caller(c).UserID, c.FormValue("name"))
	if err != nil {
		return err
	}
	// The key is shown on this response only; it is not stored anywhere we can read it back.
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.renderAccount(c, key)
}

func (h *Handler) revokeKey(c echo.Context) error {
	keyID, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return fault.New(fault.NotFound, "API key not found")
	}
	if err := h.svc.RevokeAPIKey(c.Request().Context(), web.Caller(c).UserID, keyID); err != nil {
		return err
	}
	web.Flash(c, "The API key is revoked.")
	return c.Redirect(http.StatusSeeOther, "/account")
}

// MeResponse is GET /api/v1/me.
type MeResponse struct {
	Email      string   `json:"email"`
	Role       web.Role `json:"role"`
	LicenseeID *int64   `json:"licensee_id,omitempty"`
	SellerID   *int64   `json:"seller_id,omitempty"`
}

func (h *Handler) me(c echo.Context) error {
	id := web.Caller(c)
	resp := MeResponse{Email: id.Email, Role: id.Role}
	if id.LicenseeID != 0 {
		resp.LicenseeID = &id.LicenseeID
	}
	if id.SellerID != 0 {
		resp.SellerID = &id.SellerID
	}
	return c.JSON(http.StatusOK, resp)
}

// safeNext keeps redirects after login on this site: only local paths are followed.
func safeNext(next string) string { return web.LocalPath(next, "") }
