package catalog

import (
	"archive/zip"
	"bytes"
	"context"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/blob"
	"marketplace/internal/fault"
	"marketplace/internal/postgres/pgtest"
	"marketplace/licensing"
)

// importWorld is a catalogue with two licensees: A holds a Paris 2024 licence for apparel and
// headwear in FR and BE, a worldwide one for pins, and an expired LA28 licence; B holds a
// Paris 2024 apparel licence and already has a product with SKU B-TEE-1.
type importWorld struct {
	svc  *Service
	pool *pgxpool.Pool
	a, b int64
}

func newImportWorld(t *testing.T) *importWorld { return newImportWorldTB(t) }

func newImportWorldTB(t testing.TB) *importWorld {
	t.Helper()
	pool := pgtest.New(t, Schemas()...)
	store, err := blob.Open(context.Background(), "file://"+filepath.ToSlash(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	opts := []Option{WithBlobs(store)}
	if os.Getenv("IMPORT_DEBUG") != "" {
		opts = append(opts, WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	svc, err := NewService(pool, licensing.NewService(pool), opts...)
	if err != nil {
		t.Fatal(err)
	}
	testProperties(t, svc)
	w := &importWorld{svc: svc, pool: pool}
	w.a = testLicensee(t, svc, "Maison Bleue")
	w.b = testLicensee(t, svc, "Other Co")
	now := time.Now().UTC().Truncate(24 * time.Hour)
	grant := func(licensee int64, number, property string, cats, terr []string, from, to time.Time) {
		t.Helper()
		_, err := svc.Licensing().CreateLicence(context.Background(), nil, licensee, licensing.LicenceInput{Number: number,
			Property: property, Categories: cats, Territories: terr, ValidFrom: from, ValidTo: to, RoyaltyBPS: 1000})
		if err != nil {
			t.Fatal(err)
		}
	}
	grant(w.a, "A-PAR-1", "PARIS2024", []string{"apparel", "headwear"}, []string{"FR", "BE"}, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	grant(w.a, "A-PAR-2", "PARIS2024", []string{"pins"}, []string{"WORLD"}, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	grant(w.a, "A-LA-1", "LA28", []string{"apparel"}, []string{"US"}, now.AddDate(-3, 0, 0), now.AddDate(0, 0, -2))
	grant(w.b, "B-PAR-1", "PARIS2024", []string{"apparel"}, []string{"FR"}, now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	res := w.importCSV(t, w.b, "sku,title_en,property,category,territories,currency,price_amount\nB-TEE-1,Other tee,PARIS2024,apparel,FR,EUR,1000\n", nil, false)
	if res.Status != ImportSucceeded {
		t.Fatalf("licensee B's import: %+v", res)
	}
	return w
}

func (w *importWorld) importCSV(t testing.TB, licensee int64, csv string, images []byte, dryRun bool) Import {
	t.Helper()
	req := ImportRequest{LicenseeID: licensee, CSV: strings.NewReader(csv), Filename: "catalogue.csv", Size: int64(len(csv)),
		DryRun: dryRun}
	if images != nil {
		req.Images, req.ImagesSize, req.ImagesFilename = bytes.NewReader(images), int64(len(images)), "images.zip"
	}
	res, err := w.svc.Import(context.Background(), req)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

// counts is how many rows the import may write, over all licensees.
func (w *importWorld) counts(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"products", "variants", "variant_prices", "product_texts", "product_images", "listings", "catalog_changes", "river_job"} {
		var n int
		if err := w.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func testJPEG(t testing.TB, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{shade, uint8(x * 4), uint8(y * 5), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testZip builds a zip of name → bytes, in order.
func testZip(t testing.TB, entries ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(entries); i += 2 {
		f, err := zw.Create(entries[i].(string))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(entries[i+1].([]byte)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const goodHeader = "sku,product,title_en,description_en,title_fr,property,category,currency,price_amount,price_JPY,territories,stock,gtin,size,colour,images\n"

func TestImportAppliesAndReimportUpdates(t *testing.T) {
	t.Parallel()
	w := newImportWorld(t)
	ctx := context.Background()
	zipData := testZip(t, "tee-front.jpg", testJPEG(t, 10), "photos/tee-back.jpg", testJPEG(t, 200), "cap.jpg", testJPEG(t, 90))
	csv := goodHeader +
		"TEE-M,TEE,Paris tee,\"Cotton, organic\",T-shirt Paris,PARIS2024,apparel,EUR,2500,4000,FR;BE,10,4006381333931,M,blue,tee-front.jpg;tee-back.jpg\n" +
		"TEE-L,TEE,Paris tee,\"Cotton, organic\",T-shirt Paris,PARIS2024,apparel,EUR,2700,4200,FR;BE,5,,L,blue,\n" +
		"CAP-1,,Paris cap,,,paris2024,headwear,EUR,1500,,fr,3,,,,cap.jpg\n" +
		"PIN-1,,Paris pin,,,PARIS2024,pins,JPY,1200,,WORLD,100,,,,\n"
	before := w.counts(t)

	t.Run("DryRunWritesNothing", func(t *testing.T) {
		res := w.importCSV(t, w.a, csv, zipData, true)
		if res.Status != ImportSucceeded || res.Accepted != 4 || res.Rejected != 0 || !res.DryRun {
			t.Fatalf("dry run = %+v", res)
		}
		if diff := cmp.Diff(before, w.counts(t)); diff != "" {
			t.Fatalf("a dry run wrote (-before +after):\n%s", diff)
		}
	})

	res := w.importCSV(t, w.a, csv, zipData, false)
	if res.Status != ImportSucceeded || res.Accepted != 4 || res.Lines != 4 || res.Phase != PhaseDone || res.ReadBytes != int64(len(csv)) {
		t.Fatalf("import = %+v", res)
	}
	ps, err := w.svc.Products(ctx, ProductFilter{LicenseeID: w.a})
	if err != nil || len(ps) != 3 {
		t.Fatalf("products = %d, %v", len(ps), err)
	}
	tee, err := w.svc.ProductBySKU(ctx, w.a, "TEE-L")
	if err != nil {
		t.Fatal(err)
	}
	if tee.Ref != "TEE" || len(tee.Variants) != 2 || tee.Variants[0].SKU != "TEE-M" || tee.Variants[0].GTIN != "4006381333931" ||
		tee.Variants[1].Prices["JPY"] != 4200 || tee.Variants[0].Prices["EUR"] != 2500 || tee.Currency != "EUR" {
		t.Fatalf("tee = %+v", tee)
	}
	if tee.Text("fr").Title != "T-shirt Paris" || tee.Text("en").Description != "Cotton, organic" || len(tee.Images) != 2 {
		t.Fatalf("tee texts/images = %+v %+v", tee.Texts, tee.Images)
	}
	pin, err := w.svc.ProductBySKU(ctx, w.a, "PIN-1")
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := pin.MainPrice(); !ok || m.Amount != 1200 || m.Currency != "JPY" || pin.Territories[0] != "WORLD" {
		t.Fatalf("pin = %+v", pin)
	}
	seller, err := w.svc.LicenseeSeller(ctx, w.a)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := w.svc.Listings(ctx, ListingFilter{SellerID: seller.ID, WithImages: true})
	if err != nil || len(ls) != 3 {
		t.Fatalf("listings = %d, %v", len(ls), err)
	}
	for _, l := range ls {
		if l.Status != StatusPending || !l.Official || l.ClaimedSKU != "" {
			t.Fatalf("listing = %+v", l)
		}
		if l.ProductID == tee.ID && (l.Price.Amount != 2500 || l.Stock != 15 || len(l.Images) != 2 || l.Title != "Paris tee") {
			t.Fatalf("tee listing = %+v", l)
		}
	}
	jobs := func(t *testing.T, kind string) int {
		t.Helper()
		var n int
		if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1`, kind).Scan(&n); err != nil {
			t.Fatalf("jobs of kind %s: %v", kind, err)
		}
		return n
	}
	// B's import before screened its one listing.
	if jobs(t, "screen_listing") != 4 || jobs(t, "product_references") != 2 {
		t.Fatalf("jobs: %d screenings, %d references", jobs(t, "screen_listing"), jobs(t, "product_references"))
	}

	t.Run("ReimportUnchangedWritesNoJob", func(t *testing.T) {
		before := w.counts(t)
		res := w.importCSV(t, w.a, csv, zipData, false)
		if res.Status != ImportSucceeded {
			t.Fatalf("re-import = %+v", res)
		}
		if diff := cmp.Diff(before, w.counts(t)); diff != "" {
			t.Fatalf("an unchanged re-import wrote (-before +after):\n%s", diff)
		}
	})

	t.Run("ReimportUpdatesBySKU", func(t *testing.T) {
		changed := goodHeader +
			"TEE-M,TEE,Paris tee,Cotton,,PARIS2024,apparel,EUR,2400,,FR;BE,8,,M,navy,tee-front.jpg\n" +
			"TEE-XL,TEE,Paris tee,Cotton,,PARIS2024,apparel,EUR,2900,,FR;BE,1,,XL,navy,\n"
		res := w.importCSV(t, w.a, changed, zipData, false)
		if res.Status != ImportSucceeded {
			t.Fatalf("re-import = %+v", res)
		}
		p, err := w.svc.Product(ctx, tee.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Variants) != 3 || p.Text("fr").Title != "Paris tee" || len(p.Images) != 1 || p.Variants[0].Colour != "navy" {
			t.Fatalf("updated tee = %+v", p)
		}
		if v, _ := p.Variant("TEE-M"); v.Stock != 8 || v.Prices["EUR"] != 2400 || len(v.Prices) != 1 {
			t.Fatalf("TEE-M = %+v", v)
		}
		if n, err := w.svc.CountProducts(ctx, ProductFilter{LicenseeID: w.a}); err != nil || n != 3 {
			t.Fatalf("products after re-import = %d, %v", n, err)
		}
		l, err := w.svc.Listings(ctx, ListingFilter{ProductID: tee.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(l) != 1 || l[0].Price.Amount != 2400 || l[0].Stock != 14 {
			t.Fatalf("tee listing = %+v", l)
		}
		if jobs(t, "screen_listing") != 5 || jobs(t, "product_references") != 3 {
			t.Fatalf("jobs: %d screenings, %d references", jobs(t, "screen_listing"), jobs(t, "product_references"))
		}
	})

	t.Run("ProgressIsRecorded", func(t *testing.T) {
		got, err := w.svc.ImportByID(ctx, w.a, res.ID)
		if err != nil || got.Status != ImportSucceeded || got.Progress() != 1 || got.FinishedAt == nil {
			t.Fatalf("import record = %+v, %v", got, err)
		}
		if _, err := w.svc.ImportByID(ctx, w.b, res.ID); !fault.Is(err, fault.NotFound) {
			t.Fatalf("another licensee's import: %v", err)
		}
		list, err := w.svc.Imports(ctx, w.a, 10)
		if err != nil || len(list) != 4 {
			t.Fatalf("imports = %d, %v", len(list), err)
		}
	})
}

// TestImportRefusesBadInput: every bad line is reported with its line and field, and nothing
// is written.
func TestImportRefusesBadInput(t *testing.T) {
	t.Parallel()
	w := newImportWorld(t)
	const h = "sku,title_en,property,category,currency,price_amount,territories,images\n"
	good := "OK-1,Good tee,PARIS2024,apparel,EUR,2500,FR,\n"
	jpg := testJPEG(t, 50)
	bomb := testZip(t, "zeros.jpg", make([]byte, 10<<20))
	cases := []struct {
		name   string
		csv    string
		zip    []byte
		line   int
		field  string
		detail string
	}{
		{"WrongColumnCount", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500\n", nil, 3, "columns", "fields"},
		{"BrokenQuoting", h + good + "X-1,Te\"e,PARIS2024,apparel,EUR,2500,FR,\n", nil, 3, "columns", "quote"},
		{"UnclosedQuote", h + good + "X-1,\"Tee,PARIS2024,apparel,EUR,2500,FR,\n", nil, 3, "columns", "quote"},
		{"InvalidUTF8", h + good + "X-1,T\xffe,PARIS2024,apparel,EUR,2500,FR,\n", nil, 3, "title_en", "UTF-8"},
		{"EmptyRequiredField", h + good + "X-1,,PARIS2024,apparel,EUR,2500,FR,\n", nil, 3, "title_en", "required"},
		{"EmptySKU", h + good + ",Tee,PARIS2024,apparel,EUR,2500,FR,\n", nil, 3, "sku", "required"},
		{"UnknownProperty", h + good + "X-1,Tee,ATLANTIS,apparel,EUR,2500,FR,\n", nil, 3, "property", "ATLANTIS"},
		{"UnknownCategory", h + good + "X-1,Tee,PARIS2024,spaceships,EUR,2500,FR,\n", nil, 3, "category", "spaceships"},
		{"CategoryNotLicensed", h + good + "X-1,Mug,PARIS2024,homeware,EUR,2500,FR,\n", nil, 3, "category", "homeware"},
		{"TerritoryNotLicensed", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500,FR;DE,\n", nil, 3, "territories", "Germany"},
		{"WorldWithoutWorldLicence", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500,WORLD,\n", nil, 3, "territories", "WORLD"},
		{"ExpiredLicence", h + good + "X-1,Tee,LA28,apparel,USD,2500,US,\n", nil, 3, "property", "expired"},
		{"LicenceCheckedOnALineWithAnotherError", h + good + "X-1,Mug,PARIS2024,homeware,EUR,-5,FR,\n", nil, 3, "category", "homeware"},
		{"NegativePrice", h + good + "X-1,Tee,PARIS2024,apparel,EUR,-5,FR,\n", nil, 3, "price_amount", "more than zero"},
		{"FractionalYen", h + good + "X-1,Tee,PARIS2024,apparel,JPY,12.5,FR,\n", nil, 3, "price_amount", "JPY has no minor unit"},
		{"FractionalYenInMajorUnits", "sku,title_en,property,category,price_JPY,territories\n" + "OK-1,Good,PARIS2024,apparel,1200,FR\n" +
			"X-1,Tee,PARIS2024,apparel,12.5,FR\n", nil, 3, "price_JPY", "JPY has no minor unit"},
		{"UnknownCurrency", h + good + "X-1,Tee,PARIS2024,apparel,EUX,2500,FR,\n", nil, 3, "currency", "ISO 4217"},
		{"BadGTIN", "sku,title_en,property,category,currency,price_amount,territories,gtin\n" + "X-1,Tee,PARIS2024,apparel,EUR,2500,FR,4006381333932\n",
			nil, 2, "gtin", "check digit"},
		{"SKUTwice", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500,FR,\n" + "OK-1,Tee again,PARIS2024,apparel,EUR,2500,FR,\n", nil, 4, "sku", "also on line 2"},
		{"AnotherLicenseesSKU", h + good + "B-TEE-1,Tee,PARIS2024,apparel,EUR,2500,FR,\n", nil, 3, "sku", "another licensee"},
		{"ProductLinesDisagree", "sku,product,title_en,property,category,currency,price_amount,territories\n" +
			"T-M,T,Tee,PARIS2024,apparel,EUR,2500,FR\nT-L,T,Tee,PARIS2024,headwear,EUR,2500,FR\n", nil, 3, "category", "differs from line 2"},
		{"ImagesWithoutZip", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500,FR,tee.jpg\n", nil, 3, "images", "no images zip"},
		{"ImageMissingFromZip", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500,FR,tee.jpg;nope.jpg\n", testZip(t, "tee.jpg", jpg), 3, "images", "nope.jpg"},
		{"TruncatedJPEG", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500,FR,tee.jpg\n", testZip(t, "tee.jpg", jpg[:len(jpg)*9/10]), 3, "images", "cut short"},
		{"NotAPicture", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500,FR,tee.jpg\n", testZip(t, "tee.jpg", []byte("GIF89a not really")), 3, "images", "JPEG, PNG or WebP"},
		{"DecompressionBombPicture", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500,FR,big.png\n", testZip(t, "big.png", hugePNGHeader()), 3, "images", "megapixels"},
		{"ZipBomb", h + good, bomb, 0, "images", "zip bomb"},
		{"ZipSlip", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500,FR,passwd\n", testZip(t, "../../etc/passwd", jpg), 0, "images", "outside the archive"},
		{"ImageNameClimbsOut", h + good + "X-1,Tee,PARIS2024,apparel,EUR,2500,FR,../x.jpg\n", testZip(t, "x.jpg", jpg), 3, "images", "not a file name"},
		{"UnknownColumn", "sku,title_en,property,category,currency,price_amount,territories,flavour\n", nil, 1, "flavour", "unknown column"},
		{"MissingColumn", "sku,title_en,category,currency,price_amount,territories\n", nil, 1, "property", "missing"},
		{"NoPrice", "sku,title_en,property,category,territories\n", nil, 1, "price_amount", "prices"},
		{"HeaderOnly", h, nil, 2, "file", "no product line"},
		{"EmptyFile", "", nil, 1, "file", "no header"},
	}
	before := w.counts(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := w.importCSV(t, w.a, c.csv, c.zip, false)
			if res.Status != ImportFailed || res.Rejected == 0 && c.line > 1 {
				t.Fatalf("import = %+v", res)
			}
			found := false
			for _, e := range res.Errors {
				if e.Line == c.line && e.Field == c.field && strings.Contains(e.Message, c.detail) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no error on line %d, field %s, saying %q: %+v", c.line, c.field, c.detail, res.Errors)
			}
			for _, e := range res.Errors {
				if e.Line == 2 && c.line > 2 {
					t.Errorf("the good line 2 was reported: %+v", e)
				}
			}
			if diff := cmp.Diff(before, w.counts(t)); diff != "" {
				t.Fatalf("a refused import wrote (-before +after):\n%s", diff)
			}
		})
	}
}

// hugePNGHeader is the start of a PNG that claims 100000×100000 pixels.
func hugePNGHeader() []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0}
	buf.Write([]byte{0, 0, 0, 13})
	chunk := append([]byte("IHDR"), ihdr...)
	buf.Write(chunk)
	crc := crc32IEEE(chunk)
	buf.Write([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	return buf.Bytes()
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// TestImportProgressIsVisibleWhileItRuns reads the import's record from another connection
// while a file of a few thousand lines is imported, as the page's progress bar does.
func TestImportProgressIsVisibleWhileItRuns(t *testing.T) {
	t.Parallel()
	w := newImportWorld(t)
	ctx := context.Background()
	var csv bytes.Buffer
	if err := writeBenchCSV(&csv, 4000); err != nil {
		t.Fatal(err)
	}
	var calls []Import
	done := make(chan Import)
	go func() {
		res, err := w.svc.Import(ctx, ImportRequest{LicenseeID: w.a, CSV: bytes.NewReader(csv.Bytes()), Size: int64(csv.Len()),
			ClientRef: "progress-test", Progress: func(i Import) { calls = append(calls, i) }})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	var seen []Import
	for {
		select {
		case res := <-done:
			if res.Status != ImportSucceeded || res.Accepted != 4000 {
				t.Fatalf("import = %+v", res.Errors)
			}
			running := 0
			for _, i := range seen {
				if i.Status == ImportRunning {
					running++
					if i.TotalBytes != int64(csv.Len()) || i.Progress() < 0 || i.Progress() > 1 {
						t.Fatalf("running record = %+v", i)
					}
				}
			}
			if running == 0 {
				t.Fatalf("the import was never seen running: %d reads", len(seen))
			}
			if len(calls) == 0 || calls[len(calls)-1].Status != ImportSucceeded {
				t.Fatalf("progress callback: %d calls", len(calls))
			}
			return
		case <-time.After(20 * time.Millisecond):
			if i, err := w.svc.ImportByRef(ctx, w.a, "progress-test"); err == nil {
				seen = append(seen, i)
			}
		}
	}
}
