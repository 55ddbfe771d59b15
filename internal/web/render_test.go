package web

import (
	"testing"
	"time"

	"golang.org/x/text/language"
)

func TestPageDatesFollowTheLanguage(t *testing.T) {
	day := time.Date(2027, 12, 31, 18, 5, 0, 0, time.UTC)
	for _, tc := range []struct{ lang, date, datetime string }{
		{"en", "31 Dec 2027", "31 Dec 2027 18:05 UTC"},
		{"fr-FR", "31 déc. 2027", "31 déc. 2027 18:05 UTC"},
		{"zh-Hans", "2027年12月31日", "2027年12月31日 18:05 UTC"},
	} {
		p := &Page{tag: language.MustParse(tc.lang)}
		if got := p.Date(day); got != tc.date {
			t.Errorf("%s: Date = %q, want %q", tc.lang, got, tc.date)
		}
		if got := p.DateTime(day); got != tc.datetime {
			t.Errorf("%s: DateTime = %q, want %q", tc.lang, got, tc.datetime)
		}
	}
}
