package storefront

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"marketplace/internal/auth"
	"marketplace/internal/web"
)

// browser is a fan's browser without the browser: a cookie jar, no redirects followed, the
// market cookie of France and French pages.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
}

func (f *fixture) browser(t *testing.T) *browser {
	t.Helper()
	ts := f.testServer(t)
	jar, _ := cookiejar.New(nil)
	u, err := url.Parse(ts)
	if err != nil {
		t.Fatal(err)
	}
	jar.SetCookies(u, []*http.Cookie{{Name: web.MarketCookie, Value: "FR.EUR", Path: "/"}, {Name: web.LangCookie, Value: "fr", Path: "/"}})
	return &browser{t: t, base: ts, http: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (f *fixture) testServer(t *testing.T) string {
	t.Helper()
	if f.ts == nil {
		f.ts = httptest.NewServer(f.server(t).Echo)
		t.Cleanup(f.ts.Close)
	}
	return f.ts.URL
}

// logIn gives the browser a fan's session.
func (b *browser) logIn(f *fixture, email string) int64 {
	b.t.Helper()
	ctx := context.Background()
	u, err := f.auth.CreateUser(ctx, auth.NewUser{Email: email, Password: "olympic-demo-2028", Role: web.RoleFan})
	if err != nil {
		b.t.Fatal(err)
	}
	token, _, _, err := f.auth.Login(ctx, email, "olympic-demo-2028", "127.0.0.1", "test")
	if err != nil {
		b.t.Fatal(err)
	}
	base, err := url.Parse(b.base)
	if err != nil {
		b.t.Fatal(err)
	}
	b.http.Jar.SetCookies(base, []*http.Cookie{{Name: web.SessionCookie, Value: token, Path: "/"}})
	return u.ID
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.http.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// post sends a form with the CSRF token a page of the site hands out.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	_, page := b.get("/cart")
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatal("no CSRF token on /cart")
	}
	form.Set("_csrf", m[1])
	resp, err := b.http.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp, string(body)
}

var seenTotal = regexp.MustCompile(`name="seen_total" value="(\d+)"`)

// TestCheckoutPages drives the pages as a fan's browser does: bad quantities and an item not
// sold in France are refused on the cart page, a stale total is refused at checkout, the
// test-payment page pays through the signed webhook, and another fan's order is not found.
func TestCheckoutPages(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	fan := f.browser(t)
	fanID := fan.logIn(f, "fan@example.com")

	if resp, body := fan.get("/cart"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="cart-empty"`) || !strings.Contains(body, "Votre panier est vide.") {
		t.Fatalf("empty cart: %s\n%s", resp.Status, body)
	}
	for _, q := range []string{"0", "-1", "1000000000", "abc"} {
		resp, body := fan.post("/cart", url.Values{"listing_id": {fmt.Sprint(f.tee.ID)}, "quantity": {q}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="cart-error"`) || !strings.Contains(body, "<strong>quantity</strong>") {
			t.Fatalf("quantity %s: %s\n%s", q, resp.Status, body)
		}
	}
	resp, body := fan.post("/cart", url.Values{"listing_id": {fmt.Sprint(f.usOnly.ID)}, "quantity": {"1"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "does not ship this item to France") {
		t.Fatalf("an item not sold in France: %s\n%s", resp.Status, body)
	}
	resp, _ = fan.post("/cart", url.Values{"listing_id": {fmt.Sprint(f.tee.ID)}, "quantity": {"2"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cart" {
		t.Fatalf("add: %s", resp.Status)
	}
	_, body = fan.get("/cart")
	m := seenTotal.FindStringSubmatch(body)
	if m == nil || m[1] != "7000" || !strings.Contains(body, "70,00\u00a0€") {
		t.Fatalf("cart page: %s", body)
	}

	// The price goes up between the cart page and the click on "pay".
	if _, err := f.db.Exec(context.Background(), `UPDATE listings SET price_amount = 3600 WHERE id = $1`, f.tee.ID); err != nil {
		t.Fatal(err)
	}
	resp, body = fan.post("/checkout", url.Values{"currency": {"EUR"}, "seen_total": {"7000"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "72,00") || !strings.Contains(body, "Prix modifié") {
		t.Fatalf("stale total: %s\n%s", resp.Status, body)
	}
	resp, body = fan.post("/checkout", url.Values{"currency": {"XYZ"}, "seen_total": {"7200"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "<strong>currency</strong>") {
		t.Fatalf("unknown currency: %s\n%s", resp.Status, body)
	}
	resp, _ = fan.post("/checkout", url.Values{"currency": {"EUR"}, "seen_total": {"7200"}})
	pay := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(pay, "/testpay/cs_test_local_") {
		t.Fatalf("checkout: %s → %s", resp.Status, pay)
	}
	if resp, body := fan.get(pay); resp.StatusCode != http.StatusOK || !strings.Contains(body, "MODE TEST") || !strings.Contains(body, "72,00") {
		t.Fatalf("test-payment page: %s\n%s", resp.Status, body)
	}
	// Someone else's browser cannot pay or see it.
	stranger := f.browser(t)
	if resp, _ := stranger.get(pay); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a stranger opens the test payment: %s", resp.Status)
	}
	resp, _ = fan.post(pay, url.Values{"action": {"pay"}})
	confirmation := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(confirmation, "?paid=1") {
		t.Fatalf("pay: %s → %s", resp.Status, confirmation)
	}
	if resp, body := fan.get(confirmation); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="order-paid"`) || !strings.Contains(body, "PAR24-APP-0001") {
		t.Fatalf("confirmation: %s\n%s", resp.Status, body)
	}
	orders, err := f.co.OrdersOf(context.Background(), fanID)
	if err != nil || len(orders) != 1 || orders[0].Status != OrderPaid {
		t.Fatalf("orders = %+v, %v", orders, err)
	}
	orderPath := strings.TrimSuffix(confirmation, "?paid=1")
	if _, body := fan.get("/orders"); !strings.Contains(body, `href="`+orderPath+`"`) {
		t.Fatalf("history: %s", body)
	}
	// Paying twice is a redelivery of the same event: nothing changes.
	if resp, _ := fan.post(pay, url.Values{"action": {"pay"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("second click: %s", resp.Status)
	}

	// A fan who moves to Germany sees, in French, why the tee in the cart cannot be bought there.
	if resp, _ := fan.post("/cart", url.Values{"listing_id": {fmt.Sprint(f.tee.ID)}, "quantity": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add again: %s", resp.Status)
	}
	base, err := url.Parse(fan.base)
	if err != nil {
		t.Fatal(err)
	}
	fan.http.Jar.SetCookies(base, []*http.Cookie{{Name: web.MarketCookie, Value: "DE.EUR", Path: "/"}})
	if _, body := fan.get("/cart"); !strings.Contains(body, "Le vendeur ne livre pas cet article vers : Germany.") || strings.Contains(body, `id="checkout"`) {
		t.Fatalf("cart in Germany: %s", body)
	}

	other := f.browser(t)
	other.logIn(f, "other@example.com")
	if resp, _ := other.get(orderPath); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another fan reads the order: %s", resp.Status)
	}
	if resp, _ := stranger.get(orderPath); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an anonymous browser reads the order: %s", resp.Status)
	}
	if resp, _ := stranger.get("/orders"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("history without logging in: %s", resp.Status)
	}
}

// TestEveryCheckoutPageRenders renders each page with data that reaches its branches.
func TestEveryCheckoutPageRenders(t *testing.T) {
	srv, err := web.NewServer(web.Config{Markets: Markets()})
	if err != nil {
		t.Fatal(err)
	}
	co := &Checkout{pay: &testGateway{}}
	if err := CheckoutRoutes(srv, co); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	o := Order{ID: 7, Status: OrderPaid, PaidAt: &now, PaymentMode: PaymentTest, SessionID: "cs_test_local_7_x", CheckoutURL: "/testpay/cs_test_local_7_x",
		Lines: []OrderLine{{Title: "Tee", SKU: "T-1", Quantity: 1, LicenceNumber: "PAR24-APP-0001", Counterfeit: true}}}
	o.RefundDue.Amount, o.RefundReason = 3500, "counterfeit"
	pending := o
	pending.Status, pending.PaidAt = OrderPending, nil
	pages := map[string]web.PageData{
		"storefront/cart": &CartPage{Cart: Cart{Lines: []CartLine{{Title: "Tee", Available: true, PriceChanged: true, Licence: &licenceRef{Number: "N"}},
			{Title: "Cap", Problem: "sold out"}}}},
		"storefront/order":   &OrderPage{Order: o},
		"storefront/orders":  &OrdersPage{Orders: []Order{o, pending}},
		"storefront/testpay": &TestPayPage{Order: pending},
	}
	pages["storefront/order"] = &OrderPage{Order: pending, JustPaid: true}
	for name, data := range pages {
		if _, err := srv.Pages.Execute(name, data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := srv.Pages.Execute("storefront/order", &OrderPage{Order: o}); err != nil {
		t.Error(err)
	}
}

func TestStripeAccountAPI(t *testing.T) {
	f := newFixture(t, CheckoutConfig{})
	ctx := context.Background()
	key := func(email string, role web.Role, licensee int64) string {
		u, err := f.auth.CreateUser(ctx, auth.NewUser{Email: email, Role: role, LicenseeID: licensee})
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := f.auth.CreateAPIKey(ctx, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	admin := key("admin@example.com", web.RoleAdmin, 0)
	own := key("mb@example.com", web.RoleLicensee, f.licensee)
	other := key("other@example.com", web.RoleLicensee, f.licensee+1)
	base := f.testServer(t) + fmt.Sprintf("/api/v1/licensees/%d/stripe-account", f.licensee)
	call := func(method, key, body string) (int, string) {
		req, err := http.NewRequest(method, base, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	if status, body := call(http.MethodPut, admin, `{"account_id": "acct 1"}`); status != http.StatusBadRequest || !strings.Contains(body, `"field":"account_id"`) {
		t.Fatalf("bad id: %d %s", status, body)
	}
	if status, _ := call(http.MethodPut, own, `{"account_id": "acct_1Own"}`); status != http.StatusForbidden {
		t.Fatalf("a licensee sets its own account: %d", status)
	}
	if status, body := call(http.MethodPut, admin, `{"account_id": "acct_1MaisonBleue"}`); status != http.StatusOK || !strings.Contains(body, "acct_1MaisonBleue") {
		t.Fatalf("set: %d %s", status, body)
	}
	if status, body := call(http.MethodGet, own, ""); status != http.StatusOK || !strings.Contains(body, "acct_1MaisonBleue") {
		t.Fatalf("read by its licensee: %d %s", status, body)
	}
	if status, _ := call(http.MethodGet, other, ""); status != http.StatusNotFound {
		t.Fatalf("read by another licensee: %d", status)
	}
}
