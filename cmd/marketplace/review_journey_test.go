package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"marketplace/catalog"
	"marketplace/catalog/demo"
	"marketplace/detection"
	"marketplace/detection/review"
	"marketplace/internal/browsertest"
	"marketplace/internal/money"
)

// TestBrowserReviewLoop is issue 6's "done when" on the demo: a fake listing is flagged, an
// analyst claims it in the queue, sees the evidence, decides counterfeit with the keyboard; a
// second seller's copy of the same photo is then blocked on submission as a known counterfeit;
// the metrics page shows the decision.
func TestBrowserReviewLoop(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	ctx := context.Background()
	store := m.Catalog

	// A replica medal photographed by the counterfeiter: no official picture, only its words
	// give it away.
	photo, err := demo.NewPhoto("review-journey-replica", demo.KindMedal).JPEG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := store.PutImage(ctx, photo)
	if err != nil {
		t.Fatal(err)
	}
	fakes, err := m.Catalog.CreateSeller(ctx, catalog.NewSeller{Kind: catalog.SellerIndependent, Name: "Gold Rush Replicas", Country: "FR",
		PayoutAccount: "FR76-REPLICA-1"})
	if err != nil {
		t.Fatal(err)
	}
	fake, err := m.Catalog.CreateListing(ctx, fakes.ID, catalog.NewListing{Title: "Replica Olympic gold medal 1:1 AAA quality",
		Description: "Replica, same weight as the real one.", Price: money.New(1500, "EUR"), Stock: 40, Territories: []string{"FR"},
		Property: "OLYMPIC", Category: "collectibles", ImageIDs: []int64{img.ID}})
	if err != nil {
		t.Fatal(err)
	}
	fake = waitScreened(t, m, fake.ID)
	if fake.Status != catalog.StatusHeld && fake.Status != catalog.StatusBlocked {
		t.Fatalf("the replica listing is %s (%s), not flagged", fake.Status, fake.StatusReason)
	}
	cases, err := m.Review.Cases(ctx, review.CaseFilter{SellerID: fakes.ID})
	if err != nil || len(cases) != 1 {
		t.Fatalf("cases of the replica seller: %+v, %v", cases, err)
	}
	c := cases[0]
	caseID := fmt.Sprint(c.ID)

	analyst := browsertest.New(t, m.url(""), browsertest.Options{})
	analyst.Open("/login")
	analyst.Submit(map[string]string{"#email": "analyst@demo.olympics.test", "#password": DemoPassword}, "main button[type=submit]")
	if loc := analyst.Location(); loc != "/analyst/cases" {
		t.Fatalf("the analyst lands on %s", loc)
	}
	if got := analyst.Text("#case-row-" + caseID); !strings.Contains(got, "Replica Olympic gold medal") {
		t.Fatalf("the queue row reads %q", got)
	}
	analyst.Screenshot("queue")

	analyst.ClickAndWait("#claim-" + caseID)
	if loc := analyst.Location(); loc != "/analyst/cases/"+caseID {
		t.Fatalf("after claiming: at %s", loc)
	}
	if got := analyst.Text("#rule-hits"); !strings.Contains(got, detection.RuleCounterfeitWords) {
		t.Fatalf("rule hits: %q", got)
	}
	if got := analyst.Text("#claimed-by"); got != "analyst@demo.olympics.test" {
		t.Fatalf("claimed by %q", got)
	}
	analyst.Screenshot("case-evidence")

	// The keyboard: C chooses counterfeit and moves to the note; Enter records.
	var checked bool
	var focused string
	analyst.Run(chromedp.KeyEvent("c"),
		chromedp.Poll(`document.activeElement && document.activeElement.id === "note"`, nil, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.Evaluate(`document.getElementById("d-counterfeit").checked`, &checked),
		chromedp.Evaluate(`document.activeElement.id`, &focused))
	if !checked || focused != "note" {
		t.Fatalf("after pressing C: counterfeit checked %v, focus on %q", checked, focused)
	}
	analyst.Run(chromedp.KeyEvent("Replica words and a medal no licensee makes"))
	analyst.Screenshot("deciding")
	analyst.Run(chromedp.Evaluate(`window.__browsertestOld = true`, nil), chromedp.KeyEvent("\r"))
	waitNewPage(t, analyst)
	if got := analyst.Text(".flash"); !strings.Contains(got, "decided: counterfeit") {
		t.Fatalf("flash after deciding: %q", got)
	}
	analyst.Screenshot("decided")

	if l, err := m.Catalog.Listing(ctx, fake.ID); err != nil || l.Status != catalog.StatusRemoved {
		t.Fatalf("the fake listing is %s after the decision (%v)", l.Status, err)
	}
	if s, err := m.Catalog.Seller(ctx, fakes.ID); err != nil || s.Strikes != 1 {
		t.Fatalf("the counterfeiter has %d strikes (%v)", s.Strikes, err)
	}
	ds, err := m.Review.DecisionsOfListing(ctx, fake.ID)
	if err != nil || len(ds) != 1 || ds[0].Note != "Replica words and a medal no licensee makes" || ds[0].AnalystEmail != "analyst@demo.olympics.test" {
		t.Fatalf("decisions recorded: %+v, %v", ds, err)
	}

	// Another seller lists the same photo, saved and re-compressed: blocked on submission as a
	// known counterfeit, whatever its title says.
	decoded, err := jpeg.Decode(bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}
	var copyJPEG bytes.Buffer
	if err := jpeg.Encode(&copyJPEG, decoded.(interface {
		SubImage(image.Rectangle) image.Image
	}).SubImage(decoded.Bounds().Inset(8)), &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	copyImg, err := store.PutImage(ctx, copyJPEG.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if copyImg.ID == img.ID {
		t.Fatal("the copy is the same stored file")
	}
	other, err := m.Catalog.CreateSeller(ctx, catalog.NewSeller{Kind: catalog.SellerIndependent, Name: "Medal Corner", Country: "BE"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := m.Catalog.CreateListing(ctx, other.ID, catalog.NewListing{Title: "Gold medal, display piece", Price: money.New(2500, "EUR"),
		Stock: 3, Territories: []string{"BE"}, ImageIDs: []int64{copyImg.ID}})
	if err != nil {
		t.Fatal(err)
	}
	second = waitListing(t, m, second.ID, catalog.StatusBlocked)
	sc, err := m.Catalog.Screening(ctx, second.ID)
	if err != nil || sc == nil || !slices.ContainsFunc(sc.Reasons, func(r catalog.ScreeningReason) bool { return r.Rule == detection.RuleKnownCounterfeitPhoto }) {
		t.Fatalf("the copy's screening: %+v, %v", sc, err)
	}
	t.Logf("the copy is blocked: %s", second.StatusReason)

	analyst.Open("/analyst/metrics")
	if got := analyst.Text("#m-decided"); got != "1" {
		t.Fatalf("metrics show %s decided cases", got)
	}
	if got := analyst.Text("#analysts-table"); !strings.Contains(got, "analyst@demo.olympics.test") {
		t.Fatalf("decisions per analyst: %q", got)
	}
	if got := analyst.Text("#rules-table"); !strings.Contains(got, detection.RuleCounterfeitWords) {
		t.Fatalf("rules table: %q", got)
	}
	analyst.Screenshot("metrics")

	// The lead reads the queue on a phone too.
	phone := browsertest.New(t, m.url(""), browsertest.Options{Phone: true})
	phone.Open("/login")
	phone.Submit(map[string]string{"#email": "analyst@demo.olympics.test", "#password": DemoPassword}, "main button[type=submit]")
	phone.Open("/analyst/cases/" + caseID)
	phone.Screenshot("case-on-phone")
}

// waitNewPage waits for the page a key press led to (the old page's marker gone, the new one
// loaded); errors while the old page's context goes away are expected.
func waitNewPage(t *testing.T, b *browsertest.Browser) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var loaded bool
		err := chromedp.Run(b.Ctx, chromedp.Evaluate(`window.__browsertestOld === undefined && document.readyState === "complete"`, &loaded))
		if err == nil && loaded {
			return
		}
		if time.Now().After(deadline) {
			b.Screenshot("failure")
			t.Fatal("the key press led to no new page")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitScreened waits for a listing to leave pending.
func waitScreened(t *testing.T, m *Main, id int64) catalog.Listing {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		l, err := m.Catalog.Listing(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if l.Status != catalog.StatusPending {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("listing %d is still pending", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
