// Package money is an amount in a currency's minor unit with the currency beside it, the
// currency rules (ISO 4217, how many decimals) and its formatting for a language.
package money

import (
	"fmt"
	"math"
	"strings"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// Money is an amount in the currency's minor unit (cents for EUR, yen for JPY).
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// New returns amount minor units of cur.
func New(amount int64, cur string) Money { return Money{Amount: amount, Currency: cur} }

// ParseCurrency checks an ISO 4217 code (case-insensitive) and returns it in capitals.
func ParseCurrency(code string) (string, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != 3 {
		return "", fmt.Errorf("%q is not an ISO 4217 currency code", code)
	}
	u, err := currency.ParseISO(code)
	if err != nil {
		return "", fmt.Errorf("%q is not an ISO 4217 currency code", code)
	}
	return u.String(), nil
}

// Digits is how many decimals the currency's minor unit has (2 for EUR, 0 for JPY and KRW).
// It follows Stripe and CLDR, which agree for the currencies we sell in.
func Digits(cur string) int {
	u, err := currency.ParseISO(cur)
	if err != nil {
		return 2
	}
	scale, _ := currency.Standard.Rounding(u)
	return scale
}

// ParseDecimal reads a price written in major units ("25.00", "1200") into minor units,
// refusing more decimals than the currency has ("12.5" JPY) and negative amounts.
func ParseDecimal(s, cur string) (int64, error) {
	s = strings.TrimSpace(s)
	digits := Digits(cur)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if s == "" || strings.HasPrefix(s, "-") || (hasFrac && frac == "") {
		return 0, fmt.Errorf("%q is not a positive amount", s)
	}
	if len(frac) > digits {
		if digits == 0 {
			return 0, fmt.Errorf("%s has no minor unit: %q must be a whole number", cur, s)
		}
		return 0, fmt.Errorf("%s has %d decimals: %q has more", cur, digits, s)
	}
	frac += strings.Repeat("0", digits-len(frac))
	var v int64
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		if v > (math.MaxInt64-9)/10 {
			return 0, fmt.Errorf("%q is too large", s)
		}
		v = v*10 + int64(r-'0')
	}
	return v, nil
}

// Format writes m for people reading lang: "€25.00" in English, "25,00 €" in French.
func (m Money) Format(lang language.Tag) string {
	u, err := currency.ParseISO(m.Currency)
	if err != nil {
		return fmt.Sprintf("%d %s", m.Amount, m.Currency)
	}
	digits := Digits(m.Currency)
	value := float64(m.Amount) / math.Pow10(digits)
	p := message.NewPrinter(lang)
	num := p.Sprint(number.Decimal(value, number.Scale(digits)))
	sym := p.Sprint(currency.NarrowSymbol(u))
	if base, _ := lang.Base(); base.String() == "fr" {
		return num + "\u00a0" + sym
	}
	return sym + num
}

// String is the amount with its code, for logs: "25.00 EUR".
func (m Money) String() string {
	digits := Digits(m.Currency)
	if digits == 0 {
		return fmt.Sprintf("%d %s", m.Amount, m.Currency)
	}
	pow := int64(math.Pow10(digits))
	sign := ""
	a := m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, a/pow, digits, a%pow, m.Currency)
}
