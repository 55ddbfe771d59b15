package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"

	"marketplace/internal/fault"
)

// Market is where and how a fan shops: the country goods ship to (which decides what is
// licensed for them), the language of the pages and the currency prices are shown and charged in.
type Market struct {
	Country  string // ISO 3166-1 alpha-2
	Language language.Tag
	Currency string // ISO 4217
}

// MarketCookie holds the country and currency a fan chose ("FR.EUR"); the language has its own
// cookie (LangCookie) because people who are not shopping choose one too.
const MarketCookie = "market"

// MarketCountry is a country fans can ship to, with the currency most of its fans pay in.
type MarketCountry struct {
	Code     string
	Name     string // in English; pages show it as written, with the code
	Currency string
}

// Markets are the markets the store runs, as the layout's selector and the market cookie need
// them. Which countries and currencies they are is the storefront's business
// (storefront.Markets); cmd passes them in Config, and without them the layout shows no
// selector and every request's market has only its language.
type Markets struct {
	Countries  []MarketCountry
	Currencies []string // the currencies prices can be shown and charged in
	// Default is the country of a fan who has chosen nothing and whose browser names no
	// country of Countries; one of Countries.
	Default string
}

// check reports a list the selector could not offer consistently.
func (ms Markets) check() error {
	if len(ms.Countries) == 0 {
		return nil
	}
	for _, mc := range ms.Countries {
		if !slices.Contains(ms.Currencies, mc.Currency) {
			return fmt.Errorf("web: market %s pays in %s, which is not one of the currencies %v", mc.Code, mc.Currency, ms.Currencies)
		}
	}
	if _, ok := ms.country(ms.Default); !ok {
		return fmt.Errorf("web: the default market %q is not one of the countries", ms.Default)
	}
	return nil
}

func (ms Markets) country(code string) (MarketCountry, bool) {
	i := slices.IndexFunc(ms.Countries, func(m MarketCountry) bool { return m.Code == code })
	if i < 0 {
		return MarketCountry{}, false
	}
	return ms.Countries[i], true
}

// Markets are the markets the server was configured with.
func (s *Server) Markets() Markets { return s.cfg.Markets }

// MarketOf is the request's market: the fan's choice from the cookie, else guessed from
// Accept-Language (fr-CA → Canada, CAD, French; zh-Hans → China, CNY, Simplified Chinese).
func (s *Server) MarketOf(c echo.Context) Market {
	if m, ok := c.Get(marketKey).(Market); ok {
		return m
	}
	m := s.cfg.Markets.of(c)
	c.Set(marketKey, m)
	return m
}

const marketKey = "web.market"

func (ms Markets) of(c echo.Context) Market {
	m := Market{Language: RequestLanguage(c)}
	if len(ms.Countries) == 0 {
		return m
	}
	if ck, err := c.Cookie(MarketCookie); err == nil {
		country, currency, _ := strings.Cut(ck.Value, ".")
		if mc, ok := ms.country(country); ok {
			m.Country = mc.Code
			m.Currency = mc.Currency
			if slices.Contains(ms.Currencies, currency) {
				m.Currency = currency
			}
			return m
		}
	}
	def, _ := ms.country(ms.Default)
	m.Country, m.Currency = def.Code, def.Currency
	accept, _, _ := language.ParseAcceptLanguage(c.Request().Header.Get("Accept-Language"))
	for _, t := range accept {
		region, conf := t.Region()
		if conf == language.No {
			continue
		}
		if mc, ok := ms.country(region.String()); ok {
			m.Country, m.Currency = mc.Code, mc.Currency
			break
		}
	}
	return m
}

// chooseMarket keeps the fan's choice of country, currency and language in cookies and sends
// them back where they were.
func (s *Server) chooseMarket(c echo.Context) error {
	country := strings.ToUpper(strings.TrimSpace(c.FormValue("country")))
	currency := strings.ToUpper(strings.TrimSpace(c.FormValue("currency")))
	lang := strings.TrimSpace(c.FormValue("lang"))
	var errs fault.Fields
	mc, ok := s.cfg.Markets.country(country)
	if !ok {
		errs.Add("country", "choose one of the countries in the list")
	}
	if currency == "" {
		currency = mc.Currency
	} else if !slices.Contains(s.cfg.Markets.Currencies, currency) {
		errs.Add("currency", "choose one of the currencies in the list")
	}
	var tag language.Tag
	if lang != "" {
		t, err := language.Parse(lang)
		if err != nil || !slices.Contains(Languages, t) {
			errs.Add("lang", "choose one of the languages in the list")
		}
		tag = t
	}
	if err := errs.Err("the market choice is not valid"); err != nil {
		return err
	}
	year := 365 * 24 * 3600
	c.SetCookie(&http.Cookie{Name: MarketCookie, Value: mc.Code + "." + currency, Path: "/", MaxAge: year,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	if lang != "" {
		c.SetCookie(&http.Cookie{Name: LangCookie, Value: tag.String(), Path: "/", MaxAge: year,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	}
	return c.Redirect(http.StatusSeeOther, LocalPath(c.FormValue("next"), "/"))
}

// LocalPath returns next when it is a path on this site, else fallback: redirects never leave
// the site (no "//evil.example" or "https://…").
func LocalPath(next, fallback string) string {
	u, err := url.Parse(next)
	if err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return fallback
	}
	return next
}

// LanguageChoice is a language the selector offers, named in itself.
type LanguageChoice struct {
	Tag  string
	Name string
}

// LanguageChoices are the page languages, each named in its own language.
var LanguageChoices = []LanguageChoice{{"en", "English"}, {"fr", "Français"}, {"zh-Hans", "简体中文"}}
