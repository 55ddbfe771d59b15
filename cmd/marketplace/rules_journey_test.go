package main

import (
	"context"
	"strings"
	"testing"

	"marketplace/detection"
	"marketplace/internal/browsertest"
)

// TestBrowserRulesPage: an analyst changes the screening rules on /analyst/rules without a
// release. Thresholds out of order are refused with the field named and nothing saved; a
// valid change is saved as a new version, shown in the history, and used by the next
// screening.
func TestBrowserRulesPage(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	ctx := context.Background()

	b := browsertest.New(t, m.url(""), browsertest.Options{})
	b.Open("/login")
	b.Submit(map[string]string{"#email": "analyst@demo.olympics.test", "#password": DemoPassword}, "main button[type=submit]")
	b.Open("/review")
	b.ClickAndWait(`header nav a[href="/analyst/rules"]`)
	if got := b.Text("h1"); got != "Screening rules" {
		t.Fatalf("heading %q", got)
	}
	b.Screenshot("rules-page")

	b.Submit(map[string]string{"#review_at": "40", "#block_at": "35"}, "#rules-form button[type=submit]")
	if got := b.Text("#block_at-error"); !strings.Contains(got, "above the review threshold") {
		t.Fatalf("block_at error %q", got)
	}
	b.Screenshot("rules-refused")
	if cfg, err := m.Rules.Config(ctx); err != nil || cfg.Version != 0 {
		t.Fatalf("a refused form saved: %+v %v", cfg, err)
	}

	b.Submit(map[string]string{"#review_at": "25", "#block_at": "65", "#rules-counterfeit_words-weight": "55",
		"#note": "more weight on counterfeit words"}, "#rules-form button[type=submit]")
	if got := b.Text(".flash"); !strings.Contains(got, "version 1") {
		t.Fatalf("flash %q", got)
	}
	if got := b.Text("#rules-history"); !strings.Contains(got, "more weight on counterfeit words") {
		t.Fatalf("history %q", got)
	}
	b.Screenshot("rules-saved")
	rs, err := m.Rules.Current(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Config.Version != 1 || rs.Config.BlockAt != 65 || rs.Config.Rule(detection.RuleCounterfeitWords).Weight != 55 {
		t.Fatalf("current rules %+v", rs.Config)
	}

	phone := browsertest.New(t, m.url(""), browsertest.Options{Phone: true})
	phone.Open("/login")
	phone.Submit(map[string]string{"#email": "analyst@demo.olympics.test", "#password": DemoPassword}, "main button[type=submit]")
	phone.Open("/analyst/rules")
	phone.Screenshot("rules-phone")
	phone.Submit(map[string]string{"#try": "ＰＡＲＩＳ２０２４ Оlympic tee — 高仿 1:1"}, "#try-form button[type=submit]")
	if got := phone.Text("#try-marks"); !strings.Contains(got, "PARIS2024") || !strings.Contains(got, "OLYMPIC") {
		t.Fatalf("try marks %q", got)
	}
	if got := phone.Text("#try-words"); !strings.Contains(got, "高仿") || !strings.Contains(got, "1:1") {
		t.Fatalf("try words %q", got)
	}
	phone.Screenshot("rules-try-phone")
}
