package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"marketplace/internal/browsertest"
)

// TestBrowserCatalogueImport is issue 4's journey: the licensee uploads a catalogue with good
// and bad lines on its imports page, sees each bad line with its column and reason (and
// nothing imported), fixes the file, uploads it again, and finds its products.
func TestBrowserCatalogueImport(t *testing.T) {
	t.Parallel()
	m := startMain(t)
	dir := t.TempDir()
	const header = "sku,product,title_en,title_fr,property,category,currency,price_amount,price_JPY,territories,stock,size\n"
	bad := header +
		"JOURNEY-TEE-M,JOURNEY-TEE,Journey tee,T-shirt voyage,PARIS2024,apparel,EUR,2900,4500,FR;BE,12,M\n" +
		"JOURNEY-MUG-1,,Journey mug,,PARIS2024,homeware,EUR,1500,,FR,4,\n" +
		"JOURNEY-CAP-1,,Journey cap,,PARIS2024,headwear,JPY,12.5,,FR,3,\n"
	good := header +
		"JOURNEY-TEE-M,JOURNEY-TEE,Journey tee,T-shirt voyage,PARIS2024,apparel,EUR,2900,4500,FR;BE,12,M\n" +
		"JOURNEY-TEE-L,JOURNEY-TEE,Journey tee,T-shirt voyage,PARIS2024,apparel,EUR,2900,4500,FR;BE,7,L\n" +
		"JOURNEY-CAP-1,,Journey cap,,PARIS2024,headwear,JPY,1250,,FR,3,\n"
	badPath, goodPath := filepath.Join(dir, "catalogue-bad.csv"), filepath.Join(dir, "catalogue.csv")
	if err := os.WriteFile(badPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goodPath, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t, m.url(""), browsertest.Options{})
	b.Open("/login")
	b.Submit(map[string]string{"#email": "licensee@demo.olympics.test", "#password": DemoPassword}, "main button[type=submit]")
	b.Open("/portal/imports")
	b.Screenshot("imports-page")

	upload := func(path string) {
		t.Helper()
		b.Run(chromedp.SetUploadFiles("#file", []string{path}, chromedp.ByQuery),
			chromedp.Click("#import-submit", chromedp.ByQuery),
			chromedp.WaitVisible("#import-outcome", chromedp.ByQuery))
		if !strings.HasPrefix(b.Location(), "/portal/imports/") {
			t.Fatalf("after the upload: at %s", b.Location())
		}
	}

	upload(badPath)
	if got := b.Text("#import-status"); got != "failed" {
		t.Fatalf("status of the bad file: %q", got)
	}
	errs := b.Text("#import-errors")
	for _, want := range []string{"3\tcategory", "homeware", "4\tprice_amount", "JPY has no minor unit"} {
		if !strings.Contains(errs, want) {
			t.Fatalf("the errors table lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, "\n2\t") {
		t.Fatalf("the good line 2 is reported:\n%s", errs)
	}
	b.Screenshot("bad-lines-reported")
	b.Open("/portal/products?q=JOURNEY")
	if got := b.Text("#product-count"); !strings.HasPrefix(got, "0 ") {
		t.Fatalf("the refused file imported something: %q", got)
	}

	b.Open("/portal/imports")
	upload(goodPath)
	if got := b.Text("#import-status"); got != "succeeded" {
		t.Fatalf("status of the fixed file: %q (%s)", got, b.Text("main"))
	}
	b.Screenshot("fixed-file-applied")

	b.Open("/portal/products?q=Journey")
	table := b.Text("#products")
	for _, want := range []string{"Journey tee", "T-shirt voyage", "JOURNEY-TEE-M, JOURNEY-TEE-L", "Journey cap", "¥1,250", "€29.00"} {
		if !strings.Contains(table, want) {
			t.Fatalf("the products table lacks %q:\n%s", want, table)
		}
	}
	b.Screenshot("products")

	// The import list shows both imports, newest first.
	b.Open("/portal/imports")
	var rows int
	b.Run(chromedp.Evaluate(`document.querySelectorAll("#imports tbody tr").length`, &rows))
	if rows < 2 {
		t.Fatalf("imports listed: %d rows", rows)
	}
}
