package catalog

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/fault"
	"marketplace/licensing"
)

func TestValidGTIN(t *testing.T) {
	for _, good := range []string{"4006381333931", "73513537", "036000291452", "10614141000415", "5901234123457"} {
		if !ValidGTIN(good) {
			t.Errorf("ValidGTIN(%s) = false", good)
		}
	}
	for _, bad := range []string{"4006381333932", "73513538", "036000291453", "", "123", "400638133393X", "40063813339311", "abcdefgh"} {
		if ValidGTIN(bad) {
			t.Errorf("ValidGTIN(%q) = true", bad)
		}
	}
}

// insertProduct writes a product with two variants straight into the tables.
func insertProduct(t *testing.T, pool *pgxpool.Pool, licenseeID int64, slug, skuPrefix string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := pool.QueryRow(ctx, `INSERT INTO products (licensee_id, slug, property, category, territories, currency, ref)
		VALUES ($1, $2, 'PARIS2024', 'apparel', '{FR,BE}', 'EUR', $2) RETURNING id`, licenseeID, slug).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO product_texts (product_id, lang, title, description) VALUES
		($1, 'en', 'Paris tee', 'Cotton'), ($1, 'fr', 'T-shirt Paris', 'Coton')`, id)
	if err != nil {
		t.Fatal(err)
	}
	for i, size := range []string{"M", "L"} {
		var vid int64
		err := pool.QueryRow(ctx, `INSERT INTO variants (product_id, licensee_id, sku, size, stock, position)
			VALUES ($1, $2, $3, $4, 5, $5) RETURNING id`, id, licenseeID, skuPrefix+size, size, i).Scan(&vid)
		if err != nil {
			t.Fatal(err)
		}
		_, err = pool.Exec(ctx, `INSERT INTO variant_prices VALUES ($1, 'EUR', $2), ($1, 'JPY', 4000)`, vid, 2500+i*100)
		if err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func TestProductReads(t *testing.T) {
	t.Parallel()
	svc, pool, _, _ := newTestService(t)
	ctx := context.Background()
	testProperties(t, svc)
	l := testLicensee(t, svc, "Maison Test")
	id := insertProduct(t, pool, l, "paris-tee", "PT-")
	p, err := svc.Product(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title() != "Paris tee" || p.Text("fr-FR").Title != "T-shirt Paris" || p.Text("de").Title != "Paris tee" {
		t.Fatalf("texts = %v", p.Texts)
	}
	if len(p.Variants) != 2 || p.Variants[0].SKU != "PT-M" || p.Variants[1].Prices["EUR"] != 2600 {
		t.Fatalf("variants = %+v", p.Variants)
	}
	if m, ok := p.MainPrice(); !ok || m.Amount != 2500 || m.Currency != "EUR" {
		t.Fatalf("main price = %v %v", m, ok)
	}
	if m, ok := p.Price("JPY"); !ok || m.Amount != 4000 {
		t.Fatalf("JPY price = %v", m)
	}
	if p.Stock() != 10 {
		t.Fatalf("stock = %d", p.Stock())
	}
	if bySlug, err := svc.ProductBySlug(ctx, "paris-tee"); err != nil || bySlug.ID != id {
		t.Fatalf("by slug = %v, %v", bySlug.ID, err)
	}
	if bySKU, err := svc.ProductBySKU(ctx, l, "PT-L"); err != nil || bySKU.ID != id {
		t.Fatalf("by SKU = %v, %v", bySKU.ID, err)
	}
	if _, err := svc.ProductBySKU(ctx, l+1, "PT-L"); !fault.Is(err, fault.NotFound) {
		t.Fatalf("another licensee's SKU: %v", err)
	}
	other := testLicensee(t, svc, "Other Test")
	insertProduct(t, pool, other, "other-tee", "OT-")
	ps, err := svc.Products(ctx, ProductFilter{LicenseeID: l, Property: "paris2024", Category: "apparel"})
	if err != nil || len(ps) != 1 || ps[0].ID != id || len(ps[0].Variants) != 2 {
		t.Fatalf("products = %+v, %v", ps, err)
	}
	if ps, err := svc.Products(ctx, ProductFilter{Category: "pins"}); err != nil || len(ps) != 0 {
		t.Fatalf("category filter: %d products, %v", len(ps), err)
	}
	if ps, err := svc.Products(ctx, ProductFilter{Query: "OT-M"}); err != nil || len(ps) != 1 || ps[0].LicenseeID != other {
		t.Fatalf("SKU query: %+v, %v", ps, err)
	}
	if n, err := svc.CountProducts(ctx, ProductFilter{}); err != nil || n != 2 {
		t.Fatalf("count = %d, %v", n, err)
	}
	if n, err := svc.CountProducts(ctx, ProductFilter{Query: "OT-M"}); err != nil || n != 1 {
		t.Fatalf("count with a query = %d, %v, want what Products lists (1)", n, err)
	}
	if _, err := svc.Product(ctx, 999999); !fault.Is(err, fault.NotFound) {
		t.Fatalf("missing product: %v", err)
	}
}

// testLicensee registers a licensee and returns its id.
func testLicensee(t testing.TB, svc *Service, name string) int64 {
	t.Helper()
	l, err := svc.Licensing().CreateLicensee(context.Background(), nil, licensing.LicenseeInput{Name: name, Country: "FR", ContactEmail: "x@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return l.ID
}

// testProperties registers the properties the tests use.
func testProperties(t testing.TB, svc *Service) {
	t.Helper()
	for _, p := range []licensing.Property{
		{Code: "PARIS2024", Name: "Paris 2024", Marks: []licensing.Mark{{Text: "Paris 2024"}}},
		{Code: "LA28", Name: "Los Angeles 2028", Marks: []licensing.Mark{{Text: "LA28"}}},
	} {
		if _, err := svc.Licensing().CreateProperty(context.Background(), nil, p); err != nil {
			t.Fatal(err)
		}
	}
}
