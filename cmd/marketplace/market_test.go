package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestMarketSelector proves the fan's country, currency and language default from the browser
// and follow the selector, and that bad choices change nothing.
func TestMarketSelector(t *testing.T) {
	t.Parallel()
	m := startMain(t)

	t.Run("DefaultsFromAcceptLanguage", func(t *testing.T) {
		c := newClient(t, m)
		for accept, want := range map[string]string{
			"fr-CA,fr;q=0.9": "CA · CAD · fr",
			"fr":             "FR · EUR · fr",
			"zh-CN":          "CN · CNY · zh-Hans",
			"en-GB":          "GB · GBP · en",
			"":               "US · USD · en",
		} {
			_, body := c.get("/login", "Accept-Language", accept)
			if !strings.Contains(body, want) {
				t.Errorf("Accept-Language %q: want %q in the selector", accept, want)
			}
		}
	})
	t.Run("ChoiceIsKept", func(t *testing.T) {
		c := newClient(t, m)
		token := c.csrf("/login")
		resp, _ := c.postForm("/market", url.Values{"_csrf": {token}, "country": {"JP"}, "currency": {"JPY"}, "lang": {"fr"}, "next": {"/login?next=/account"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=/account" {
			t.Fatalf("status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, body := c.get("/login", "Accept-Language", "en-US")
		if !strings.Contains(body, "JP · JPY · fr") || !strings.Contains(body, `lang="fr"`) {
			t.Fatalf("the choice was not kept")
		}
	})
	t.Run("ErrUnknownCountryChangesNothing", func(t *testing.T) {
		c := newClient(t, m)
		token := c.csrf("/login")
		for _, form := range []url.Values{
			{"country": {"XX"}, "currency": {"EUR"}},
			{"country": {"FR"}, "currency": {"BTC"}},
			{"country": {"FR"}, "lang": {"tlh"}},
		} {
			form.Set("_csrf", token)
			resp, body := c.postForm("/market", form, "Accept", "application/json")
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"field"`) {
				t.Fatalf("%v: status %d %s", form, resp.StatusCode, body)
			}
		}
		if _, body := c.get("/login", "Accept-Language", "en-US"); !strings.Contains(body, "US · USD · en") {
			t.Fatalf("a refused choice changed the market")
		}
	})
	t.Run("RedirectStaysOnSite", func(t *testing.T) {
		c := newClient(t, m)
		token := c.csrf("/login")
		resp, _ := c.postForm("/market", url.Values{"_csrf": {token}, "country": {"FR"}, "next": {"//evil.example/x"}})
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Fatalf("redirected to %q", loc)
		}
	})
}
