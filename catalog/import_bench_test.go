package catalog

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/textlist"
)

// writeBenchCSV writes n catalogue lines: products of four sizes each, with an English and a
// French text, prices in EUR and JPY, in the licensee A of newImportWorld's licences.
func writeBenchCSV(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprint(bw, "sku,product,title_en,description_en,title_fr,property,category,currency,price_amount,price_JPY,territories,stock,gtin,size,colour\n")
	sizes := []string{"S", "M", "L", "XL"}
	colours := []string{"blue", "white", "red", "black", "green"}
	for i := range n {
		p := i / 4
		fmt.Fprintf(bw, "BENCH-%07d-%s,P%07d,Paris 2024 tee %d,\"Organic cotton, printed in France, design %d\",T-shirt Paris 2024 n°%d,PARIS2024,apparel,EUR,%d,%d,FR;BE,%d,,%s,%s\n",
			p, sizes[i%4], p, p, p, p, 2000+p%3000, 3000+p%4000, i%50, sizes[i%4], colours[p%5])
	}
	return bw.Flush()
}

// BenchmarkImport100k imports 100,000 generated lines (no images) into an empty catalogue,
// then loads the same lines with a bare pgx.CopyFrom into a table of the CSV's shape, and
// reports both times and their ratio. scripts/bench.sh runs it once (-benchtime 1x).
func BenchmarkImport100k(b *testing.B) {
	lines := 100_000
	if s := os.Getenv("IMPORT_BENCH_LINES"); s != "" {
		var err error
		if lines, err = strconv.Atoi(s); err != nil {
			b.Fatalf("IMPORT_BENCH_LINES: %v", err)
		}
	}
	f, err := os.CreateTemp(b.TempDir(), "bench-*.csv")
	if err != nil {
		b.Fatal(err)
	}
	if err := writeBenchCSV(f, lines); err != nil {
		b.Fatal(err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
		b.StopTimer()
		w := newImportWorldTB(b)
		ctx := context.Background()
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		res, err := w.svc.Import(ctx, ImportRequest{LicenseeID: w.a, CSV: f, Size: size, Filename: "bench.csv"})
		importTime := time.Since(start)
		b.StopTimer()
		if err != nil || res.Status != ImportSucceeded || res.Accepted != lines {
			b.Fatalf("import: %v %+v", err, res.Errors)
		}
		copyTime := bareCopy(b, w, f)
		w2 := newImportWorldTB(b)
		tablesTime := bareCopyTables(b, w2, f)
		b.ReportMetric(importTime.Seconds(), "import-s")
		b.ReportMetric(copyTime.Seconds(), "copy-s")
		b.ReportMetric(importTime.Seconds()/copyTime.Seconds(), "ratio")
		b.ReportMetric(tablesTime.Seconds(), "copy-tables-s")
		b.ReportMetric(importTime.Seconds()/tablesTime.Seconds(), "ratio-tables")
		b.ReportMetric(float64(lines)/importTime.Seconds(), "lines/s")
		b.Logf("%d lines (%d MiB): import %v; bare CopyFrom into one flat table %v (ratio %.2f); bare CopyFrom of the same products, texts, variants, prices and listings into the catalogue's tables %v (ratio %.2f)",
			lines, size>>20, importTime.Round(time.Millisecond), copyTime.Round(time.Millisecond), importTime.Seconds()/copyTime.Seconds(),
			tablesTime.Round(time.Millisecond), importTime.Seconds()/tablesTime.Seconds())
		b.StartTimer()
	}
}

// bareCopy parses the file with encoding/csv and COPYs its lines, typed, into a plain table:
// the least any import of this file must do.
func bareCopy(b *testing.B, w *importWorld, f *os.File) time.Duration {
	ctx := context.Background()
	if _, err := w.pool.Exec(ctx, `CREATE TABLE bench_copy (sku text, product text, title_en text, description_en text, title_fr text,
		property text, category text, currency text, price_amount bigint, price_jpy bigint, territories text[], stock int,
		gtin text, size text, colour text)`); err != nil {
		b.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	r := csv.NewReader(bufio.NewReader(f))
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		b.Fatal(err)
	}
	var rerr error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		rec, err := r.Read()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			rerr = err
			return nil, err
		}
		price, err := strconv.ParseInt(rec[8], 10, 64)
		if err != nil {
			rerr = err
			return nil, err
		}
		jpy, err := strconv.ParseInt(rec[9], 10, 64)
		if err != nil {
			rerr = err
			return nil, err
		}
		stock, err := strconv.Atoi(rec[11])
		if err != nil {
			rerr = err
			return nil, err
		}
		return []any{rec[0], rec[1], rec[2], rec[3], rec[4], rec[5], rec[6], rec[7], price, jpy, textlist.Split(rec[10], ";"), stock,
			rec[12], rec[13], rec[14]}, nil
	})
	if _, err := w.pool.CopyFrom(ctx, pgx.Identifier{"bench_copy"}, []string{"sku", "product", "title_en", "description_en", "title_fr",
		"property", "category", "currency", "price_amount", "price_jpy", "territories", "stock", "gtin", "size", "colour"}, src); err != nil || rerr != nil {
		b.Fatal(err, rerr)
	}
	return time.Since(start)
}

// bareCopyTables loads the rows the import writes (products, English and French texts,
// variants, prices in two currencies, one listing per product) with nothing but CopyFrom and
// the id look-ups that generated keys need, into the catalogue's own tables with their indexes
// and foreign keys: the floor for any import that writes this schema.
func bareCopyTables(b *testing.B, w *importWorld, f *os.File) time.Duration {
	ctx := context.Background()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		b.Fatal(err)
	}
	seller, err := w.svc.LicenseeSeller(ctx, w.a)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	r := csv.NewReader(bufio.NewReader(f))
	if _, err := r.Read(); err != nil {
		b.Fatal(err)
	}
	recs, err := r.ReadAll()
	if err != nil {
		b.Fatal(err)
	}
	tx, err := w.pool.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	copyRows := func(table string, cols []string, rows [][]any) {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(table, err)
		}
	}
	ids := func(query string) map[string]int64 {
		rows, err := tx.Query(ctx, query)
		if err != nil {
			b.Fatal(err)
		}
		m := map[string]int64{}
		var k string
		var id int64
		if _, err := pgx.ForEachRow(rows, []any{&k, &id}, func() error { m[k] = id; return nil }); err != nil {
			b.Fatal(err)
		}
		return m
	}
	var products [][]any
	seen := map[string]bool{}
	for _, rec := range recs {
		if !seen[rec[1]] {
			seen[rec[1]] = true
			products = append(products, []any{w.a, rec[1], Slug(rec[2]), rec[5], rec[6], textlist.Split(rec[10], ";"), rec[7]})
		}
	}
	copyRows("products", []string{"licensee_id", "ref", "slug", "property", "category", "territories", "currency"}, products)
	pid := ids(`SELECT ref, id FROM products`)
	var texts, variants, listings [][]any
	seen = map[string]bool{}
	for i, rec := range recs {
		stock, err := strconv.Atoi(rec[11])
		if err != nil {
			b.Fatal(err)
		}
		variants = append(variants, []any{pid[rec[1]], w.a, rec[0], rec[12], rec[13], rec[14], stock, i % 4})
		if !seen[rec[1]] {
			seen[rec[1]] = true
			price, err := strconv.ParseInt(rec[8], 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			texts = append(texts, []any{pid[rec[1]], "en", rec[2], rec[3]}, []any{pid[rec[1]], "fr", rec[4], ""})
			listings = append(listings, []any{seller.ID, pid[rec[1]], Slug(rec[2]), rec[2], rec[3], rec[5], rec[6], price, rec[7], stock,
				textlist.Split(rec[10], ";"), seller.ShipsFrom})
		}
	}
	copyRows("product_texts", []string{"product_id", "lang", "title", "description"}, texts)
	copyRows("variants", []string{"product_id", "licensee_id", "sku", "gtin", "size", "colour", "stock", "position"}, variants)
	vid := ids(`SELECT sku, id FROM variants WHERE sku LIKE 'BENCH-%'`)
	prices := make([][]any, 0, 2*len(recs))
	for _, rec := range recs {
		eur, err := strconv.ParseInt(rec[8], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		jpy, err := strconv.ParseInt(rec[9], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		prices = append(prices, []any{vid[rec[0]], "EUR", eur}, []any{vid[rec[0]], "JPY", jpy})
	}
	copyRows("variant_prices", []string{"variant_id", "currency", "amount"}, prices)
	copyRows("listings", []string{"seller_id", "product_id", "slug", "title", "description", "property", "category", "price_amount",
		"currency", "stock", "territories", "ships_from"}, listings)
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
