package storefront

import (
	"embed"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/message"

	"marketplace/internal/fault"
	"marketplace/internal/web"
)

//go:embed templates/cart*.html templates/order*.html templates/testpay*.html
var checkoutTemplates embed.FS

// CheckoutRoutes adds the cart, checkout, order and webhook routes, and the test-payment page
// when no Stripe key is configured.
func CheckoutRoutes(srv *web.Server, co *Checkout) error {
	if err := srv.Pages.Add("storefront", checkoutTemplates, "templates/cart*.html", "templates/order*.html", "templates/testpay*.html"); err != nil {
		return err
	}
	// The pages' translations; Routes adds the same table, and adding it twice changes nothing.
	if err := addMessages(srv.Pages.Messages); err != nil {
		return err
	}
	co.srv = srv
	e := srv.Echo
	e.GET("/cart", co.cartPage)
	e.POST("/cart", co.addItem) // the product page's form
	e.POST("/cart/items", co.addItem)
	e.POST("/cart/items/quantity", co.updateItem)
	e.POST("/cart/items/remove", co.removeItem)
	e.POST("/checkout", co.checkout)
	e.GET("/orders", co.ordersPage, web.RequireRole(web.Roles...))
	e.GET("/orders/:id", co.orderPage)
	e.POST("/orders/:id/cancel", co.cancelOrder)
	e.POST("/webhooks/stripe", co.stripeWebhook)
	admin := web.RequireRole(web.RoleAdmin)
	e.GET("/api/v1/licensees/:id/stripe-account", co.apiStripeAccount, web.RequireRole(web.RoleAdmin, web.RoleLicensee))
	e.PUT("/api/v1/licensees/:id/stripe-account", co.apiSetStripeAccount, admin)
	srv.AllowBody(http.MethodPost, "/webhooks/stripe", maxWebhookBody+1)
	if co.Mode() == PaymentTest {
		e.GET("/testpay/:session", co.testPayPage)
		e.POST("/testpay/:session", co.testPay)
	}
	return nil
}

// CartPage is /cart.
type CartPage struct {
	web.Page
	Cart  Cart
	Error *fault.Error
}

// Problem is why line cannot be bought, in the page's language.
func (p *CartPage) Problem(line CartLine) string {
	if line.problem.key == "" {
		return line.Problem
	}
	return p.T(line.problem.key, line.problem.args...)
}

// OrderPage is /orders/{id}.
type OrderPage struct {
	web.Page
	Order    Order
	JustPaid bool
}

// OrdersPage is /orders, a fan's order history.
type OrdersPage struct {
	web.Page
	Orders []Order
}

// TestPayPage is the labelled stand-in for Stripe's payment page.
type TestPayPage struct {
	web.Page
	Order Order
}

func (co *Checkout) cartPage(c echo.Context) error {
	return co.renderCart(c, http.StatusOK, nil)
}

// renderCart shows the cart, with err (a refused change or checkout) above it.
func (co *Checkout) renderCart(c echo.Context, status int, ferr *fault.Error) error {
	ctx := c.Request().Context()
	cart, err := co.loadCart(ctx, co.buyerOf(c, false), co.srv.MarketOf(c))
	if err != nil {
		return err
	}
	page := &CartPage{Cart: cart, Error: ferr}
	page.Title = "Your cart"
	return co.srv.Render(c, status, "storefront/cart", page)
}

// refused answers a refused cart change: a problem document for API callers, the cart page
// with the reason for people.
func (co *Checkout) refused(c echo.Context, err error) error {
	fe, ok := fault.As(err)
	if !ok || web.WantsJSON(c) || !slices.Contains(cartRefusals, fe.Code) {
		return err
	}
	return co.renderCart(c, web.StatusOf(err), fe)
}

// cartRefusals are the refusals the cart page explains itself (with the status of
// internal/web's table); other errors go to the error page.
var cartRefusals = []fault.Code{fault.Invalid, fault.NotFound, fault.Conflict, fault.Unprocessable, fault.Unavailable}

// itemForm reads listing_id and variant_id. Returns Invalid naming the bad field.
func itemForm(c echo.Context) (int64, int64, error) {
	var bad fault.Fields
	listing, err := strconv.ParseInt(strings.TrimSpace(c.FormValue("listing_id")), 10, 64)
	if err != nil || listing <= 0 {
		bad.Add("listing_id", "name a listing by its number")
	}
	var variant int64
	if v := strings.TrimSpace(c.FormValue("variant_id")); v != "" {
		variant, err = strconv.ParseInt(v, 10, 64)
		if err != nil || variant < 0 {
			bad.Add("variant_id", "name a variant by its number")
		}
	}
	return listing, variant, bad.Err("the item is not valid")
}

func (co *Checkout) addItem(c echo.Context) error {
	listing, variant, err := itemForm(c)
	if err != nil {
		return co.refused(c, err)
	}
	qty, err := ParseQuantity(c.FormValue("quantity"))
	if err != nil {
		return co.refused(c, err)
	}
	b := co.buyerOf(c, true)
	if err := co.AddToCart(c.Request().Context(), b, co.srv.MarketOf(c), listing, variant, qty); err != nil {
		return co.refused(c, err)
	}
	web.Flash(c, co.translate(c, "Added to your cart."))
	return c.Redirect(http.StatusSeeOther, "/cart")
}

func (co *Checkout) updateItem(c echo.Context) error {
	listing, variant, err := itemForm(c)
	if err != nil {
		return co.refused(c, err)
	}
	qty, err := ParseQuantity(c.FormValue("quantity"))
	if err != nil {
		return co.refused(c, err)
	}
	if err := co.SetQuantity(c.Request().Context(), co.buyerOf(c, false), co.srv.MarketOf(c), listing, variant, qty); err != nil {
		return co.refused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/cart")
}

func (co *Checkout) removeItem(c echo.Context) error {
	listing, variant, err := itemForm(c)
	if err != nil {
		return co.refused(c, err)
	}
	if err := co.RemoveFromCart(c.Request().Context(), co.buyerOf(c, false), listing, variant); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cart")
}

func (co *Checkout) checkout(c echo.Context) error {
	b := co.buyerOf(c, true)
	placed, err := co.PlaceOrder(c.Request().Context(), b, co.srv.MarketOf(c),
		CheckoutRequest{Currency: c.FormValue("currency"), SeenTotal: c.FormValue("seen_total")})
	if err != nil {
		return co.refused(c, err)
	}
	return c.Redirect(http.StatusSeeOther, placed.CheckoutURL)
}

// translate writes a message for the next page (a flash) in the fan's language.
func (co *Checkout) translate(c echo.Context, key string) string {
	return message.NewPrinter(web.RequestLanguage(c), message.Catalog(co.srv.Pages.Messages)).Sprintf(key)
}

func orderParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "order not found")
	}
	return id, nil
}

func (co *Checkout) orderPage(c echo.Context) error {
	id, err := orderParam(c)
	if err != nil {
		return err
	}
	o, err := co.OrderFor(c.Request().Context(), co.buyerOf(c, false), id)
	if err != nil {
		return err
	}
	page := &OrderPage{Order: o, JustPaid: c.QueryParam("paid") == "1"}
	page.Title = fmt.Sprintf("Order %d", o.ID)
	return co.srv.Render(c, http.StatusOK, "storefront/order", page)
}

func (co *Checkout) ordersPage(c echo.Context) error {
	orders, err := co.OrdersOf(c.Request().Context(), web.Caller(c).UserID)
	if err != nil {
		return err
	}
	page := &OrdersPage{Orders: orders}
	page.Title = "Your orders"
	return co.srv.Render(c, http.StatusOK, "storefront/orders", page)
}

func (co *Checkout) cancelOrder(c echo.Context) error {
	id, err := orderParam(c)
	if err != nil {
		return err
	}
	if err := co.CancelOrder(c.Request().Context(), co.buyerOf(c, true), id); err != nil {
		return err
	}
	web.Flash(c, co.translate(c, "The order is cancelled; its items are back in your cart."))
	return c.Redirect(http.StatusSeeOther, "/cart")
}

// StripeAccountBody is a licensee's connected Stripe account in the API.
type StripeAccountBody struct {
	LicenseeID int64  `json:"licensee_id"`
	AccountID  string `json:"account_id"`
}

func licenseeIDParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "licensee not found")
	}
	if caller := web.Caller(c); caller.Role == web.RoleLicensee && caller.LicenseeID != id {
		return 0, fault.New(fault.NotFound, "licensee %d not found", id)
	}
	return id, nil
}

// apiStripeAccount is GET /api/v1/licensees/{id}/stripe-account (admins, and the licensee's
// own users): the connected account its sales are paid to, "" when none.
func (co *Checkout) apiStripeAccount(c echo.Context) error {
	id, err := licenseeIDParam(c)
	if err != nil {
		return err
	}
	acct, err := co.StripeAccount(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, StripeAccountBody{LicenseeID: id, AccountID: acct})
}

// apiSetStripeAccount is PUT /api/v1/licensees/{id}/stripe-account {account_id} (admins).
func (co *Checkout) apiSetStripeAccount(c echo.Context) error {
	id, err := licenseeIDParam(c)
	if err != nil {
		return err
	}
	var body StripeAccountBody
	if err := web.DecodeJSON(c, &body); err != nil {
		return err
	}
	if err := co.SetStripeAccount(c.Request().Context(), id, body.AccountID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, StripeAccountBody{LicenseeID: id, AccountID: body.AccountID})
}

func (co *Checkout) testPayPage(c echo.Context) error {
	o, err := co.TestPayment(c.Request().Context(), co.buyerOf(c, false), c.Param("session"))
	if err != nil {
		return err
	}
	page := &TestPayPage{Order: o}
	page.Title = "Test payment"
	return co.srv.Render(c, http.StatusOK, "storefront/testpay", page)
}

// testPay completes (or abandons) a test payment through the checkout's payment-completion
// path, the one the Stripe webhook reaches.
func (co *Checkout) testPay(c echo.Context) error {
	paid := c.FormValue("action") != "abandon"
	o, err := co.CompleteTestPayment(c.Request().Context(), co.buyerOf(c, false), c.Param("session"), paid)
	if err != nil {
		return err
	}
	if paid {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/orders/%d?paid=1", o.ID))
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/orders/%d", o.ID))
}
