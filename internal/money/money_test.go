package money

import (
	"testing"

	"golang.org/x/text/language"
)

func TestDigits(t *testing.T) {
	for cur, want := range map[string]int{"EUR": 2, "USD": 2, "JPY": 0, "KRW": 0, "GBP": 2} {
		if got := Digits(cur); got != want {
			t.Errorf("Digits(%s) = %d, want %d", cur, got, want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	good := []struct {
		in, cur string
		want    int64
	}{{"25.00", "EUR", 2500}, {"25", "EUR", 2500}, {"25.5", "EUR", 2550}, {"1200", "JPY", 1200}, {"0", "KRW", 0}}
	for _, c := range good {
		if got, err := ParseDecimal(c.in, c.cur); err != nil || got != c.want {
			t.Errorf("ParseDecimal(%q, %s) = %d, %v; want %d", c.in, c.cur, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, cur string }{{"12.5", "JPY"}, {"1.234", "EUR"}, {"-1", "EUR"}, {"abc", "EUR"}, {"", "EUR"}, {"1.", "EUR"}, {"99999999999999999999", "EUR"}} {
		if _, err := ParseDecimal(c.in, c.cur); err == nil {
			t.Errorf("ParseDecimal(%q, %s) accepted", c.in, c.cur)
		}
	}
}

func TestParseCurrency(t *testing.T) {
	if c, err := ParseCurrency("eur"); err != nil || c != "EUR" {
		t.Errorf("ParseCurrency(eur) = %q, %v", c, err)
	}
	for _, bad := range []string{"", "EU", "EURO", "XYZ", "€"} {
		if _, err := ParseCurrency(bad); err == nil {
			t.Errorf("ParseCurrency(%q) accepted", bad)
		}
	}
}

func TestFormat(t *testing.T) {
	cases := []struct {
		m    Money
		lang language.Tag
		want string
	}{
		{New(2500, "EUR"), language.English, "€25.00"},
		{New(2500, "EUR"), language.French, "25,00\u00a0€"},
		{New(1200, "JPY"), language.English, "¥1,200"},
		{New(123456, "USD"), language.English, "$1,234.56"},
	}
	for _, c := range cases {
		if got := c.m.Format(c.lang); got != c.want {
			t.Errorf("%v in %v = %q, want %q", c.m, c.lang, got, c.want)
		}
	}
	if s := New(1200, "JPY").String(); s != "1200 JPY" {
		t.Errorf("String = %q", s)
	}
	if s := New(2505, "EUR").String(); s != "25.05 EUR" {
		t.Errorf("String = %q", s)
	}
}
