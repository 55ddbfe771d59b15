package storefront

import "marketplace/internal/web"

// MarketCountries are the countries the store runs a market in, each with the currency most of
// its fans pay in. A licence can cover any ISO country; this is the list of markets the store
// runs, kept short so the header's selector stays usable.
var MarketCountries = []web.MarketCountry{
	{Code: "AT", Name: "Österreich", Currency: "EUR"}, {Code: "AU", Name: "Australia", Currency: "AUD"},
	{Code: "BE", Name: "Belgique / België", Currency: "EUR"}, {Code: "CA", Name: "Canada", Currency: "CAD"},
	{Code: "CH", Name: "Schweiz / Suisse", Currency: "CHF"}, {Code: "CN", Name: "中国", Currency: "CNY"},
	{Code: "DE", Name: "Deutschland", Currency: "EUR"}, {Code: "ES", Name: "España", Currency: "EUR"},
	{Code: "FR", Name: "France", Currency: "EUR"}, {Code: "GB", Name: "United Kingdom", Currency: "GBP"},
	{Code: "IE", Name: "Ireland", Currency: "EUR"}, {Code: "IT", Name: "Italia", Currency: "EUR"},
	{Code: "JP", Name: "日本", Currency: "JPY"}, {Code: "KR", Name: "대한민국", Currency: "KRW"},
	{Code: "LU", Name: "Luxembourg", Currency: "EUR"}, {Code: "MC", Name: "Monaco", Currency: "EUR"},
	{Code: "MX", Name: "México", Currency: "MXN"}, {Code: "NL", Name: "Nederland", Currency: "EUR"},
	{Code: "SM", Name: "San Marino", Currency: "EUR"}, {Code: "TW", Name: "臺灣", Currency: "TWD"},
	{Code: "US", Name: "United States", Currency: "USD"}, {Code: "VA", Name: "Città del Vaticano", Currency: "EUR"},
}

// Currencies are the currencies prices are shown and charged in: the search index keeps a
// price band per currency, and checkout charges in no other.
var Currencies = []string{"AUD", "CAD", "CHF", "CNY", "EUR", "GBP", "JPY", "KRW", "MXN", "TWD", "USD"}

// DefaultCountry is the market of a fan who has chosen nothing and whose browser names no
// country the store runs a market in.
const DefaultCountry = "US"

// Markets is the store's markets as the web server takes them (web.Config.Markets), for the
// header's selector and the market cookie.
func Markets() web.Markets {
	return web.Markets{Countries: MarketCountries, Currencies: Currencies, Default: DefaultCountry}
}
