package catalog

import (
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCSVReader feeds arbitrary files to the catalogue CSV reader: it must never panic, must
// end, must report every bad line with a line number within the file, and every row it
// accepts must hold the invariants the database relies on. `make test` runs the seed corpus
// (testdata/fuzz/FuzzCSVReader); `go test -fuzz FuzzCSVReader ./catalog` explores further.
func FuzzCSVReader(f *testing.F) {
	f.Add(goodHeader + "TEE-M,TEE,Paris tee,\"Cotton, organic\",T-shirt,PARIS2024,apparel,EUR,2500,4000,FR;BE,10,4006381333931,M,blue,a.jpg\n")
	f.Add("sku,title_en,property,category,price_JPY,territories\nX,Tee,PARIS2024,apparel,12.5,FR\n")
	f.Add("sku,title_en,property,category,currency,price_amount,territories\nX,\"Te\"\"e\nsecond line\",P,apparel,EUR,1,FR\nY,T\xffe,P,pins,JPY,-1,WORLD;FR\n")
	f.Add("\ufeffSKU, Title_EN ,property,category,currency,price_amount,territories,colour\nA,B,C,D,E,F,G\n")
	f.Add("sku,title_en,property,category,currency,price_amount,territories\n\"unclosed,x,y\n")
	f.Fuzz(func(t *testing.T, data string) {
		cr, err := newCSVReader(strings.NewReader(data))
		if err != nil {
			return
		}
		lines := strings.Count(data, "\n") + 1
		for range 100000 {
			row, line, bad, err := cr.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				return
			}
			if line < 2 || line > lines {
				t.Fatalf("line %d outside the file's %d lines", line, lines)
			}
			for _, e := range bad {
				if e.Line != line || e.Field == "" || e.Message == "" {
					t.Fatalf("bad error %+v on line %d", e, line)
				}
			}
			if len(bad) > 0 {
				continue
			}
			if row == nil {
				t.Fatal("neither a row nor an error")
			}
			if !skuPattern.MatchString(row.SKU) || row.Product == "" || len(row.Langs) == 0 || len(row.Langs) != len(row.Titles) ||
				len(row.Currencies) != len(row.Amounts) || row.Currency == "" || len(row.Territories) == 0 {
				t.Fatalf("accepted row breaks an invariant: %+v", row)
			}
			for _, a := range row.Amounts {
				if a <= 0 {
					t.Fatalf("accepted a price of %d", a)
				}
			}
			for _, s := range append(append([]string{row.Size, row.Colour, row.Property}, row.Titles...), row.Descs...) {
				if !utf8.ValidString(s) {
					t.Fatalf("accepted invalid UTF-8 %q", s)
				}
			}
		}
		t.Fatal("the reader does not end")
	})
}
