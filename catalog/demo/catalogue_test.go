package demo

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"marketplace/catalog"
	"marketplace/internal/money"
	"marketplace/licensing"
)

func TestGenerateDeterministic(t *testing.T) {
	a := Generate(SeedLicences, Full)
	b := Generate(SeedLicences, Full)
	if diff := cmp.Diff(a.Products, b.Products); diff != "" {
		t.Fatalf("the same licences gave two catalogues (-first +second):\n%s", diff)
	}
	var ca, cb bytes.Buffer
	if err := WriteCSV(&ca, a.Products); err != nil {
		t.Fatal(err)
	}
	if err := WriteCSV(&cb, b.Products); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca.Bytes(), cb.Bytes()) {
		t.Fatal("the same catalogue wrote two CSVs")
	}
}

func TestGenerateCatalogue(t *testing.T) {
	c := Generate(SeedLicences, Full)
	skus, gtins, titles := map[string]bool{}, map[string]bool{}, map[string]bool{}
	props := map[string]int{}
	for _, p := range c.Products {
		props[p.Property]++
		if titles[p.TitleEN] {
			t.Errorf("title %q twice", p.TitleEN)
		}
		titles[p.TitleEN] = true
		if p.TitleFR == "" || p.DescEN == "" || p.DescFR == "" || p.TitleFR == p.TitleEN {
			t.Errorf("%s: texts %q / %q", p.Key, p.TitleEN, p.TitleFR)
		}
		if !licensing.IsCategory(p.Category) {
			t.Errorf("%s: category %q", p.Key, p.Category)
		}
		lic := licenceOf(p)
		if !contains(lic.Categories, p.Category) || !slices.Equal(p.Territories, lic.Territories) {
			t.Errorf("%s: %s in %v is not what licence %s grants", p.Key, p.Category, p.Territories, lic.Number)
		}
		if len(p.Variants) == 0 {
			t.Errorf("%s: no variants", p.Key)
		}
		for _, v := range p.Variants {
			if skus[v.SKU] {
				t.Errorf("SKU %s twice", v.SKU)
			}
			skus[v.SKU] = true
			if gtins[v.GTIN] || !catalog.ValidGTIN(v.GTIN) {
				t.Errorf("%s: GTIN %s repeated or with a wrong check digit", v.SKU, v.GTIN)
			}
			gtins[v.GTIN] = true
			for _, cur := range Currencies {
				if v.Prices[cur] <= 0 {
					t.Errorf("%s: no %s price", v.SKU, cur)
				}
			}
			if v.Prices["JPY"]%10 != 0 || v.Prices["EUR"]%100 != 90 {
				t.Errorf("%s: prices %v are not rounded as a shop would", v.SKU, v.Prices)
			}
			if v.Colour == "" {
				t.Errorf("%s: no colour", v.SKU)
			}
		}
	}
	for _, prop := range []string{"PARIS2024", "MILANOCORTINA2026", "LA28", "OLYMPIC"} {
		if props[prop] == 0 {
			t.Errorf("no %s products", prop)
		}
	}
	t.Logf("%d products, %d variants, %v", len(c.Products), len(skus), props)
	// US licensees use UPC-A (GTIN-12), the others EAN-13.
	for _, p := range c.Products {
		want := 13
		if strings.Contains(p.Licensee, "Inc.") || strings.Contains(p.Licensee, "LLC") {
			want = 12
		}
		if got := len(p.Variants[0].GTIN); got != want {
			t.Errorf("%s (%s): GTIN of %d digits, want %d", p.Key, p.Licensee, got, want)
		}
	}
}

func licenceOf(p Product) Licence {
	for _, l := range SeedLicences {
		if l.LicenseeID == p.LicenseeID && l.Property == p.Property && contains(l.Categories, p.Category) {
			return l
		}
	}
	return Licence{}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// readCSV reads a catalogue CSV into maps by column name.
func readCSV(t *testing.T, r io.Reader) []map[string]string {
	t.Helper()
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		for i, h := range header {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
}

func TestWriteCSVAndZip(t *testing.T) {
	c := Generate(SeedLicences[:2], Options{PerLicence: 3, PictureSize: 128})
	var buf bytes.Buffer
	if err := WriteCSV(&buf, c.Products); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, &buf)
	n := 0
	for _, p := range c.Products {
		n += len(p.Variants)
	}
	if len(rows) != n {
		t.Fatalf("%d lines, want one per variant (%d)", len(rows), n)
	}
	for _, row := range rows {
		cur := row["currency"]
		minor, err := strconv.ParseInt(row["price_amount"], 10, 64)
		if err != nil {
			t.Fatalf("price_amount %q", row["price_amount"])
		}
		major, err := money.ParseDecimal(row["price_"+cur], cur)
		if err != nil || major != minor {
			t.Errorf("%s: price_amount %d and price_%s %q disagree (%v)", row["sku"], minor, cur, row["price_"+cur], err)
		}
		if strings.Contains(row["price_JPY"], ".") {
			t.Errorf("%s: JPY has no minor unit, got %q", row["sku"], row["price_JPY"])
		}
		if _, err := money.ParseDecimal(row["price_EUR"], "EUR"); err != nil || !strings.Contains(row["price_EUR"], ".") {
			t.Errorf("%s: price_EUR %q", row["sku"], row["price_EUR"])
		}
	}
	pics, err := c.Pictures(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var zbuf bytes.Buffer
	if err := WriteZip(&zbuf, c.Products, pics); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zbuf.Bytes()), int64(zbuf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(c.Products) {
		t.Fatalf("%d files in the zip, want %d", len(zr.File), len(c.Products))
	}
	for i, f := range zr.File {
		if f.Name != c.Products[i].Image || rows[0]["images"] == "" {
			t.Errorf("zip entry %q, want %q", f.Name, c.Products[i].Image)
		}
	}
}

func TestGenerateCSVBig(t *testing.T) {
	const n = 5000
	var buf bytes.Buffer
	if err := GenerateCSV(&buf, n); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, bytes.NewReader(buf.Bytes()))
	if len(rows) != n {
		t.Fatalf("%d lines, want %d", len(rows), n)
	}
	skus := map[string]bool{}
	for _, row := range rows {
		if skus[row["sku"]] {
			t.Fatalf("SKU %s twice", row["sku"])
		}
		skus[row["sku"]] = true
		if !catalog.ValidGTIN(row["gtin"]) {
			t.Fatalf("%s: GTIN %q", row["sku"], row["gtin"])
		}
		if _, ok := row["images"]; ok {
			t.Fatal("the big file names pictures")
		}
		if row["property"] != "PARIS2024" || (row["category"] != "apparel" && row["category"] != "headwear") {
			t.Fatalf("%s: %s %s is outside the licence", row["sku"], row["property"], row["category"])
		}
	}
	// About 330 bytes a line: 100,000 lines make a file of about 33 MB.
	t.Logf("%d lines, %d bytes", n, buf.Len())
}

// BenchmarkGenerateCSV writes the import benchmark's 100,000 lines.
func BenchmarkGenerateCSV(b *testing.B) {
	for range b.N {
		if err := GenerateCSV(io.Discard, 100_000); err != nil {
			b.Fatal(err)
		}
	}
}

func TestColourCodesDistinct(t *testing.T) {
	for prop, pal := range palettes {
		seen := map[string]string{}
		for _, c := range pal {
			code := colourCode(c.EN)
			if other, ok := seen[code]; ok {
				t.Errorf("%s: %s and %s share the SKU code %s", prop, c.EN, other, code)
			}
			seen[code] = c.EN
		}
	}
}
