package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/text/language"

	"marketplace/catalog"
	"marketplace/detection/review"
	"marketplace/internal/browsertest"
	"marketplace/internal/web"
	"marketplace/licensing"
	"marketplace/storefront"
)

// liveOfficialListing waits for screening to set one of the licensee's official listings live
// (with a variant in stock and a EUR price) and returns it with that variant.
func liveOfficialListing(t *testing.T, m *Main, licensee string) (catalog.Listing, catalog.Variant) {
	t.Helper()
	ctx := context.Background()
	lic, err := m.Licensing.Licensees(ctx, licensing.LicenseeFilter{Query: licensee})
	if err != nil || len(lic) != 1 {
		t.Fatalf("licensee %q: %v, %v", licensee, lic, err)
	}
	seller, err := m.Catalog.LicenseeSeller(ctx, lic[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		ls, err := m.Catalog.Listings(ctx, catalog.ListingFilter{SellerID: seller.ID, Status: catalog.StatusLive})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if !l.Official || !containsAll(l.Territories, "FR") {
				continue
			}
			p, err := m.Catalog.Product(ctx, l.ProductID)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range p.Variants {
				if _, ok := v.Prices["EUR"]; ok && v.Stock >= 2 {
					return l, v
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live official listing of %s shipped to FR after 90 s (%d live)", licensee, len(ls))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, x := range list {
			found = found || x == w || x == "WORLD"
		}
		if !found {
			return false
		}
	}
	return true
}

// TestBrowserCheckoutJourney is issue 7's checkout on a phone, in French: a fan logs in, searches,
// filters by Games, opens an official product and adds it to the cart from its page, checks out, pays on the labelled test-payment
// page (which sends a signed checkout.session.completed to the webhook), and sees the paid
// order and their order history. Stock is taken when the session opens, and kept once paid.
func TestBrowserCheckoutJourney(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	ctx := context.Background()
	listing, variant := liveOfficialListing(t, m, "Maison Bleue Textiles")

	fan := browsertest.New(t, m.url(""), browsertest.Options{Phone: true, Language: "fr-FR,fr"})
	fan.Open("/login")
	fan.Submit(map[string]string{"#email": "fan@demo.olympics.test", "#password": DemoPassword}, "main button[type=submit]")

	// The fan finds the product as a fan would: a search by a word of its title, then the
	// facet of its Games, then its result. The index follows the outbox, so wait for it.
	word := strings.Fields(listing.Title)[0]
	link := fmt.Sprintf(`.hits a[href="/products/%s"]`, listing.Slug)
	for deadline := time.Now().Add(30 * time.Second); ; {
		fan.Open("/search")
		fan.Submit(map[string]string{"#q": word}, "form[role=search] button[type=submit]")
		var found bool
		fan.Run(chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q) !== null`, link), &found))
		if found {
			break
		}
		if time.Now().After(deadline) {
			fan.Screenshot("not-found")
			t.Fatalf("searching %q never showed %s", word, listing.Slug)
		}
		time.Sleep(300 * time.Millisecond)
	}
	fan.Screenshot("search")
	// Every result's picture must load (a rendition size the image route does not make once
	// left every result without its picture).
	var srcs []string
	fan.Run(chromedp.Evaluate(`Array.from(document.querySelectorAll('.hits img')).map(i => i.getAttribute('src'))`, &srcs))
	if len(srcs) == 0 {
		t.Fatal("the search results show no pictures")
	}
	for _, src := range srcs {
		resp, err := http.Get(m.url(src))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
			t.Fatalf("result picture %s: %s %s", src, resp.Status, resp.Header.Get("Content-Type"))
		}
	}
	facet := fmt.Sprintf(`#facet-property a[href*="property=%s"]`, listing.Property)
	fan.ClickAndWait(facet)
	if loc := fan.Location(); !strings.Contains(loc, "property="+listing.Property) {
		t.Fatalf("after choosing the %s facet: at %s", listing.Property, loc)
	}
	fan.Screenshot("search-filtered")
	fan.ClickAndWait(link)
	if loc := fan.Location(); loc != "/products/"+listing.Slug {
		t.Fatalf("after choosing the result: at %s", loc)
	}
	if fan.Text("#proof-number") == "" {
		t.Fatal("the product page shows no licence number")
	}
	fan.Run(chromedp.SetValue("#variant", fmt.Sprint(variant.ID), chromedp.ByQuery))
	fan.Screenshot("product")
	fan.ClickAndWait("#add-to-cart")
	if loc := fan.Location(); loc != "/cart" {
		t.Fatalf("after adding to the cart: at %s", loc)
	}
	total := fan.Text("#cart-total")
	if !strings.Contains(total, "€") {
		t.Fatalf("cart total %q is not in euros", total)
	}
	fan.Screenshot("cart")

	fan.ClickAndWait("#checkout")
	if loc := fan.Location(); !strings.HasPrefix(loc, "/testpay/cs_test_local_") {
		t.Fatalf("after checking out: at %s", loc)
	}
	if got := fan.Text("#testpay-label"); !strings.Contains(got, "TEST") {
		t.Fatalf("the test-payment page is not labelled: %q", got)
	}
	if got := fan.Text("#testpay-total"); got != total {
		t.Fatalf("test payment of %q for a cart of %q", got, total)
	}
	fan.Screenshot("test-payment")
	p, err := m.Catalog.Product(ctx, listing.ProductID)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := p.Variant(variant.SKU); v.Stock != variant.Stock-1 {
		t.Fatalf("stock %d after the session opened; want %d", v.Stock, variant.Stock-1)
	}

	fan.ClickAndWait("#testpay-pay")
	loc := fan.Location()
	if !strings.HasPrefix(loc, "/orders/") || !strings.HasSuffix(loc, "?paid=1") {
		t.Fatalf("after paying: at %s", loc)
	}
	if got := fan.Text("#order-status"); got != "payée" {
		t.Fatalf("order status %q", got)
	}
	if fan.Text("#order-paid") == "" || fan.Text("#order-total") != total {
		t.Fatal("the confirmation does not show the payment and its total")
	}
	fan.Screenshot("order-paid")

	fan.Open("/orders")
	orderPath := strings.TrimSuffix(loc, "?paid=1")
	var href string
	fan.Run(chromedp.AttributeValue("#orders tbody tr a", "href", &href, nil, chromedp.ByQuery))
	if href != orderPath {
		t.Fatalf("order history links %q; want %q", href, orderPath)
	}
	fan.Screenshot("order-history")
	if v, _ := mustProduct(t, m, listing.ProductID).Variant(variant.SKU); v.Stock != variant.Stock-1 {
		t.Fatalf("stock %d after payment; want %d", v.Stock, variant.Stock-1)
	}

	// Another fan (here: nobody logged in, another browser) cannot see the order.
	other := newClient(t, m)
	resp, _ := other.get(orderPath)
	if resp.StatusCode != 404 {
		t.Fatalf("another browser reads %s: %s", orderPath, resp.Status)
	}
}

func mustProduct(t *testing.T, m *Main, id int64) catalog.Product {
	t.Helper()
	p, err := m.Catalog.Product(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCounterfeitDecisionRefundsPaidOrders follows the wiring from review to checkout: a fan
// pays for a listing, a fan's report opens a case, an analyst decides it is counterfeit, and
// the paid order is flagged for refund, which its page tells the fan.
func TestCounterfeitDecisionRefundsPaidOrders(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	ctx := context.Background()
	listing, variant := liveOfficialListing(t, m, "Maison Bleue Textiles")
	fanUser, err := m.Auth.UserByEmail(ctx, "fan@demo.olympics.test")
	if err != nil {
		t.Fatal(err)
	}
	fan := storefront.Buyer{TokenHash: make([]byte, 32), UserID: fanUser.ID}
	france := web.Market{Country: "FR", Language: language.French, Currency: "EUR"}
	if err := m.Checkout.AddToCart(ctx, fan, france, listing.ID, variant.ID, 1); err != nil {
		t.Fatal(err)
	}
	placed, err := m.Checkout.PlaceOrder(ctx, fan, france, storefront.CheckoutRequest{Currency: "EUR", SeenTotal: fmt.Sprint(variant.Prices["EUR"])})
	if err != nil {
		t.Fatal(err)
	}
	o, err := m.Checkout.Order(ctx, placed.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	payload, sig := storefront.SignedEvent(m.Checkout.WebhookSecret(), "evt_journey_paid", "checkout.session.completed",
		storefront.SessionObject(o.SessionID, o.ID, o.Total.Amount, "EUR", "paid"), time.Now())
	if _, err := m.Checkout.HandleStripeEvent(ctx, payload, sig); err != nil {
		t.Fatal(err)
	}

	reported, err := m.Review.Report(ctx, &web.Identity{UserID: fanUser.ID, Email: fanUser.Email, Role: web.RoleFan}, "127.0.0.1",
		review.ReportInput{ListingID: listing.ID, Reason: "the seams are wrong and the label is misspelt"})
	if err != nil {
		t.Fatal(err)
	}
	analystUser, err := m.Auth.UserByEmail(ctx, "analyst@demo.olympics.test")
	if err != nil {
		t.Fatal(err)
	}
	analyst := &web.Identity{UserID: analystUser.ID, Email: analystUser.Email, Role: web.RoleAnalyst}
	if _, err := m.Review.Claim(ctx, analyst, reported.CaseID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Review.Decide(ctx, analyst, reported.CaseID, review.DecisionInput{Decision: review.DecisionCounterfeit, Note: "confirmed fake"}); err != nil {
		t.Fatal(err)
	}
	if o, err = m.Checkout.Order(ctx, placed.OrderID); err != nil {
		t.Fatal(err)
	}
	if o.Status != storefront.OrderPaid || o.RefundDue.Amount != o.Total.Amount || o.RefundReason != "counterfeit" || !o.Lines[0].Counterfeit {
		t.Fatalf("order after the decision: %+v", o)
	}
}
