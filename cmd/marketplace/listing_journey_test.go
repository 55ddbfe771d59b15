package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"marketplace/internal/browsertest"
)

// phonePhoto is what a phone camera writes: a landscape JPEG of the sensor's pixels with an
// EXIF orientation (6) that says "show me turned 90° clockwise".
func phonePhoto(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1200, 900))
	for y := range 900 {
		for x := range 1200 {
			// A knitted scarf of sorts: stripes and a diagonal weave.
			c := color.RGBA{uint8(120 + 80*((x/60)%2)), uint8(110 + (x+y)%40), 60, 255}
			if (y/45)%3 == 0 {
				c = color.RGBA{235, 225, 200, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 88}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	ifd := []byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00")
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(ifd)+2))
	return append(append(append([]byte{}, data[:2]...), append(seg, ifd...)...), data[2:]...)
}

// TestBrowserSellerCreatesListing is a seller on a phone: logs in and lands on its listings,
// opens the new-listing form, first gets a price wrong (12.5 yen) and sees the error beside
// the field with what it typed kept, then lists a scarf with a phone photo, sees it pending,
// and, once screening has decided, sees the verdict and its reasons.
func TestBrowserSellerCreatesListing(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	photo := filepath.Join(t.TempDir(), "IMG_0042.jpg")
	if err := os.WriteFile(photo, phonePhoto(t), 0o644); err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t, m.url(""), browsertest.Options{Phone: true})
	b.Open("/login")
	b.Submit(map[string]string{"#email": "seller@demo.olympics.test", "#password": DemoPassword}, "main button[type=submit]")
	if loc := b.Location(); loc != "/portal" {
		t.Fatalf("after login the seller is at %s, want /portal", loc)
	}
	b.Screenshot("my-listings")

	b.ClickAndWait("#new-listing")
	b.Screenshot("new-listing-form")
	fill := func(price, currency string) {
		t.Helper()
		b.Run(chromedp.SetValue("#title", "Hand-knitted supporter scarf", chromedp.ByQuery),
			chromedp.SetValue("#description", "Knitted at home in team colours. 160 × 20 cm.", chromedp.ByQuery),
			chromedp.SetValue("#price", price, chromedp.ByQuery),
			chromedp.SetValue("#currency", currency, chromedp.ByQuery),
			chromedp.SetValue("#territories", "FR, BE", chromedp.ByQuery),
			chromedp.SetUploadFiles("#images", []string{photo}, chromedp.ByQuery))
	}
	fill("12.5", "JPY")
	b.ClickAndWait("#save-listing")
	if got := b.Text("#price-error"); !strings.Contains(got, "JPY has no minor unit") {
		t.Fatalf("price error: %q", got)
	}
	var kept string
	b.Run(chromedp.Value("#title", &kept, chromedp.ByQuery))
	if kept != "Hand-knitted supporter scarf" {
		t.Fatalf("the title typed was lost: %q", kept)
	}
	b.Screenshot("price-refused")

	// The form's script refuses a photo over 15 MB at once, before uploading it.
	big := filepath.Join(t.TempDir(), "huge.jpg")
	if err := os.WriteFile(big, append(phonePhoto(t), make([]byte, 16<<20)...), 0o644); err != nil {
		t.Fatal(err)
	}
	var warning string
	b.Run(chromedp.SetUploadFiles("#images", []string{big}, chromedp.ByQuery),
		chromedp.Poll(`document.getElementById("images").validationMessage`, &warning))
	if !strings.Contains(warning, "huge.jpg: larger than 15 MB") {
		t.Fatalf("warning for a 16 MB photo: %q", warning)
	}

	fill("24.50", "EUR")
	b.ClickAndWait("#save-listing")
	if !strings.HasPrefix(b.Location(), "/portal/listings/") {
		t.Fatalf("after saving: at %s (%s)", b.Location(), b.Text("main"))
	}
	if got := b.Text("#listing-status"); got != "pending" && got != "live" && got != "held" {
		t.Fatalf("status %q", got)
	}
	if got := b.Text("#listing-price"); got != "€24.50" {
		t.Fatalf("price shown %q", got)
	}
	// The photo is shown the right way up: portrait, as the phone meant it.
	var w, h int
	b.Run(chromedp.WaitVisible("#listing-photos img", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector("#listing-photos img").complete && document.querySelector("#listing-photos img").naturalWidth > 0`, nil),
		chromedp.Evaluate(`document.querySelector("#listing-photos img").naturalWidth`, &w),
		chromedp.Evaluate(`document.querySelector("#listing-photos img").naturalHeight`, &h))
	if w != 600 || h != 800 {
		t.Errorf("photo shown %d×%d, want 600×800 (portrait)", w, h)
	}
	b.Screenshot("listing-pending")

	// Screening runs in the process's workers; the page shows its verdict once it is done.
	here := b.Location()
	deadline := time.Now().Add(60 * time.Second)
	for b.Text("#listing-status") == "pending" {
		if time.Now().After(deadline) {
			t.Fatal("the listing is still pending after 60 s")
		}
		time.Sleep(500 * time.Millisecond)
		b.Open(here)
	}
	if b.Text("#screening-score") == "" {
		t.Fatal("no screening score shown")
	}
	b.Screenshot("listing-screened")

	b.Open("/portal")
	if got := b.Text("#listings"); !strings.Contains(got, "Hand-knitted supporter scarf") {
		t.Fatalf("my listings: %s", got)
	}
	b.Screenshot("my-listings-after")
}

// TestBrowserLicenseePortal is a licensee's home: its official listings (from its imported
// catalogue) with their statuses, and the way to its imports and products.
func TestBrowserLicenseePortal(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	b := browsertest.New(t, m.url(""), browsertest.Options{})
	b.Open("/login")
	b.Submit(map[string]string{"#email": "licensee@demo.olympics.test", "#password": DemoPassword}, "main button[type=submit]")
	if loc := b.Location(); loc != "/portal" {
		t.Fatalf("after login the licensee is at %s, want /portal", loc)
	}
	var rows int
	b.Run(chromedp.Evaluate(`document.querySelectorAll("#listings tbody tr").length`, &rows))
	if rows == 0 {
		t.Fatalf("no official listing on the licensee's portal: %s", b.Text("main"))
	}
	if got := b.Text("main"); !strings.Contains(got, "Import a catalogue") || !strings.Contains(got, "Maison Bleue") {
		t.Fatalf("portal: %s", got)
	}
	b.Screenshot("licensee-portal")
	b.ClickAndWait("#listings tbody tr a")
	if !strings.HasPrefix(b.Location(), "/portal/listings/") || b.Text("#listing-status") == "" {
		t.Fatalf("listing page: %s", b.Location())
	}
	b.Screenshot("licensee-listing")
}
