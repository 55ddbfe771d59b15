package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestServeRefusesWithoutStripeKeys: payments fail closed. Without Stripe's keys and without
// PAYMENTS=test, serve stops before it opens anything, naming what to set.
func TestServeRefusesWithoutStripeKeys(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"NoKeys":          {},
		"NoWebhookSecret": {"STRIPE_SECRET_KEY": "sk_test_123"},
		"NoSecretKey":     {"STRIPE_WEBHOOK_SECRET": "whsec_x"},
	} {
		t.Run(name, func(t *testing.T) {
			env["DATABASE_URL"] = "postgres:///nowhere?host=/nonexistent"
			env["HTTP_ADDR"] = "127.0.0.1:0"
			err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("serve started without Stripe keys and without PAYMENTS=test")
			}
			for _, want := range []string{"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "PAYMENTS=test"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
		})
	}
	t.Run("ErrBadPaymentsValue", func(t *testing.T) {
		_, err := ConfigFromEnv(func(k string) string { return map[string]string{"PAYMENTS": "free"}[k] })
		if err == nil || !strings.Contains(err.Error(), "PAYMENTS") {
			t.Fatalf("PAYMENTS=free: %v", err)
		}
	})
}

// TestTestPaymentsBanner: with PAYMENTS=test every page says so, in the page's language.
func TestTestPaymentsBanner(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	for lang, want := range map[string]string{"en": "Test payments are on.", "fr": "Paiements de test activés.", "zh": "测试支付已开启。"} {
		for _, path := range []string{"/", "/login", "/verify"} {
			c := newClient(t, m)
			resp, body := c.get(path, "Accept-Language", lang)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d", lang, path, resp.StatusCode)
			}
			banner := findClass(t, body, "test-payments")
			if !strings.Contains(banner, want) {
				t.Errorf("%s %s: banner %q, want it to contain %q", lang, path, banner, want)
			}
		}
	}
}

// findClass returns the text of the first element whose class list holds class.
func findClass(t *testing.T, page, class string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var text func(*html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	var find func(*html.Node) *html.Node
	find = func(n *html.Node) *html.Node {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "class" && strings.Contains(" "+a.Val+" ", " "+class+" ") {
					return n
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if f := find(c); f != nil {
				return f
			}
		}
		return nil
	}
	if n := find(doc); n != nil {
		return strings.Join(strings.Fields(text(n)), " ")
	}
	return ""
}
