package web

import (
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

// MarketCountries are the countries the selector offers. A licence can cover any ISO country;
// this is the list of markets the store runs, kept short so the selector stays usable.
var MarketCountries = []MarketCountry{
	{"AT", "Österreich", "EUR"}, {"AU", "Australia", "AUD"}, {"BE", "Belgique / België", "EUR"},
	{"CA", "Canada", "CAD"}, {"CH", "Schweiz / Suisse", "CHF"}, {"CN", "中国", "CNY"},
	{"DE", "Deutschland", "EUR"}, {"ES", "España", "EUR"}, {"FR", "France", "EUR"},
	{"GB", "United Kingdom", "GBP"}, {"IE", "Ireland", "EUR"}, {"IT", "Italia", "EUR"},
	{"JP", "日本", "JPY"}, {"KR", "대한민국", "KRW"}, {"LU", "Luxembourg", "EUR"},
	{"MC", "Monaco", "EUR"}, {"MX", "México", "MXN"}, {"NL", "Nederland", "EUR"},
	{"SM", "San Marino", "EUR"}, {"TW", "臺灣", "TWD"}, {"US", "United States", "USD"},
	{"VA", "Città del Vaticano", "EUR"},
}

// MarketCurrencies are the currencies prices can be shown and charged in.
var MarketCurrencies = []string{"AUD", "CAD", "CHF", "CNY", "EUR", "GBP", "JPY", "KRW", "MXN", "TWD", "USD"}

// DefaultMarket is the market of a fan who has chosen nothing and whose browser says nothing
// we can use.
var DefaultMarket = Market{Country: "US", Language: language.English, Currency: "USD"}

func marketCountry(code string) (MarketCountry, bool) {
	i := slices.IndexFunc(MarketCountries, func(m MarketCountry) bool { return m.Code == code })
	if i < 0 {
		return MarketCountry{}, false
	}
	return MarketCountries[i], true
}

// MarketOf is the request's market: the fan's choice from the cookie, else guessed from
// Accept-Language (fr-CA → Canada, CAD, French; zh-Hans → China, CNY, Simplified Chinese).
func MarketOf(c echo.Context) Market {
	if m, ok := c.Get(marketKey).(Market); ok {
		return m
	}
	m := marketOf(c)
	c.Set(marketKey, m)
	return m
}

const marketKey = "web.market"

func marketOf(c echo.Context) Market {
	m := Market{Language: RequestLanguage(c)}
	if ck, err := c.Cookie(MarketCookie); err == nil {
		country, currency, _ := strings.Cut(ck.Value, ".")
		if mc, ok := marketCountry(country); ok {
			m.Country = mc.Code
			m.Currency = mc.Currency
			if slices.Contains(MarketCurrencies, currency) {
				m.Currency = currency
			}
			return m
		}
	}
	m.Country, m.Currency = DefaultMarket.Country, DefaultMarket.Currency
	accept, _, _ := language.ParseAcceptLanguage(c.Request().Header.Get("Accept-Language"))
	for _, t := range accept {
		region, conf := t.Region()
		if conf == language.No {
			continue
		}
		if mc, ok := marketCountry(region.String()); ok {
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
	mc, ok := marketCountry(country)
	if !ok {
		errs.Add("country", "choose one of the countries in the list")
	}
	if currency == "" {
		currency = mc.Currency
	} else if !slices.Contains(MarketCurrencies, currency) {
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
