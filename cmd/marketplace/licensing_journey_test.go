package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"marketplace/internal/browsertest"
)

// TestBrowserLicenceJourney is issue 3's journey: an admin registers a licensee, grants it a
// licence and a range of hologram serials through the pages; a fan then checks the licence and
// a serial on /verify, and is told when a serial is not one of ours.
func TestBrowserLicenceJourney(t *testing.T) {
	t.Parallel()
	m := startMain(t)

	admin := browsertest.New(t, m.url(""), browsertest.Options{})
	admin.Open("/login")
	admin.Submit(map[string]string{"#email": "admin@demo.olympics.test", "#password": DemoPassword}, "main button[type=submit]")

	admin.Open("/admin/licensees/new")
	admin.Submit(map[string]string{"#name": "Seine Souvenirs SAS", "#country": "FR", "#contact_email": "licences@seine.example"}, "main button[type=submit]")
	licenseePage := admin.Location()
	if !strings.HasPrefix(licenseePage, "/admin/licensees/") {
		t.Fatalf("after registering the licensee: at %s", licenseePage)
	}
	admin.Screenshot("licensee-registered")

	admin.Open(licenseePage + "/licences/new")
	admin.Run(chromedp.Click(`input[name=categories][value=apparel]`, chromedp.ByQuery))
	admin.Submit(map[string]string{
		"#number": "PAR24-APP-0099", "#property": "PARIS2024", "#territories": "FR, BE",
		"#valid_from": "2026-01-01", "#valid_to": "2028-12-31", "#royalty_bps": "1150",
	}, "main button[type=submit]")
	if loc := admin.Location(); loc != "/admin/licences/PAR24-APP-0099" {
		t.Fatalf("after granting the licence: at %s", loc)
	}
	admin.Screenshot("licence-granted")

	admin.Open(licenseePage)
	admin.Submit(map[string]string{"#product_sku": "SEINE-TEE-01", "#prefix": "SEINE-", "#first": "1000", "#last": "1999"}, "#serials button[type=submit]")
	if got := admin.Text("#serials"); !strings.Contains(got, "SEINE-") {
		t.Fatalf("the serial range is not listed: %q", got)
	}

	fan := browsertest.New(t, m.url(""), browsertest.Options{Phone: true})
	fan.Open("/verify")
	fan.Submit(map[string]string{"#q": "PAR24-APP-0099"}, "main button[type=submit]")
	if got := fan.Text("#verdict"); got != "valid" {
		t.Fatalf("licence verdict %q", got)
	}
	if got := fan.Text("#result-licensee"); got != "Seine Souvenirs SAS" {
		t.Fatalf("licence belongs to %q", got)
	}
	fan.Screenshot("fan-verifies-licence")

	fan.Submit(map[string]string{"#q": "SEINE-1500", "#country": "FR"}, "main button[type=submit]")
	if got := fan.Text("#verdict"); got != "genuine" {
		t.Fatalf("serial verdict %q", got)
	}
	fan.Screenshot("fan-verifies-serial")

	fan.Submit(map[string]string{"#q": "SEINE-5000"}, "main button[type=submit]")
	if got := fan.Text("#verdict"); got != "unknown" {
		t.Fatalf("a serial outside every range: verdict %q", got)
	}
}
