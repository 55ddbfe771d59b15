package catalog

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
)

// ProductStatus is whether a product may be offered.
type ProductStatus string

// The statuses of a product. Imported products are approved; a withdrawn product is kept for
// the history of orders and references but no longer offered.
const (
	ProductDraft     ProductStatus = "draft"
	ProductApproved  ProductStatus = "approved"
	ProductWithdrawn ProductStatus = "withdrawn"
)

// Text is a product's title and description in one language.
type Text struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Variant is one SKU of a product: a size and colour, its stock and its price per currency
// (ISO 4217 code → amount in the currency's minor unit).
type Variant struct {
	ID     int64            `json:"id"`
	SKU    string           `json:"sku"`
	GTIN   string           `json:"gtin,omitempty"`
	Size   string           `json:"size,omitempty"`
	Colour string           `json:"colour,omitempty"`
	Stock  int              `json:"stock"`
	Prices map[string]int64 `json:"prices"`
}

// Price is the variant's price in currency, if it has one.
func (v Variant) Price(currency string) (money.Money, bool) {
	a, ok := v.Prices[currency]
	return money.New(a, currency), ok
}

// Product is a licensee's official product: texts per language (English always there),
// variants in their order, images with the main one first. Ref is the licensee's own key for
// it (the import's `product` column); Currency is its main currency, the one its official
// listing is priced in.
type Product struct {
	ID          int64           `json:"id"`
	LicenseeID  int64           `json:"licensee_id"`
	Ref         string          `json:"ref,omitempty"`
	Slug        string          `json:"slug"`
	Property    string          `json:"property"`
	Category    string          `json:"category"`
	Territories []string        `json:"territories"`
	Status      ProductStatus   `json:"status"`
	Currency    string          `json:"currency,omitempty"`
	Texts       map[string]Text `json:"texts"`
	Variants    []Variant       `json:"variants"`
	Images      []Image         `json:"images"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// Text is the product's text in lang, falling back to English.
func (p Product) Text(lang string) Text {
	if t, ok := p.Texts[lang]; ok {
		return t
	}
	if base, _, ok := strings.Cut(lang, "-"); ok {
		if t, ok := p.Texts[base]; ok {
			return t
		}
	}
	return p.Texts["en"]
}

// Title is the English title.
func (p Product) Title() string { return p.Texts["en"].Title }

// Price is the product's official price in currency: the lowest price among its variants
// that have one in that currency.
func (p Product) Price(currency string) (money.Money, bool) {
	var best money.Money
	found := false
	for _, v := range p.Variants {
		if m, ok := v.Price(currency); ok && (!found || m.Amount < best.Amount) {
			best, found = m, true
		}
	}
	return best, found
}

// MainPrice is the price in the product's main currency (see Price).
func (p Product) MainPrice() (money.Money, bool) { return p.Price(p.Currency) }

// Stock is the sum of the variants' stock.
func (p Product) Stock() int {
	n := 0
	for _, v := range p.Variants {
		n += v.Stock
	}
	return n
}

// Variant returns the variant with the SKU, if the product has it.
func (p Product) Variant(sku string) (Variant, bool) {
	for _, v := range p.Variants {
		if v.SKU == sku {
			return v, true
		}
	}
	return Variant{}, false
}

const productColumns = `p.id, p.licensee_id, p.ref, p.slug, p.property, p.category, p.territories, p.status,
	p.currency, p.created_at, p.updated_at`

func scanProduct(row pgx.Row) (Product, error) {
	var p Product
	err := row.Scan(&p.ID, &p.LicenseeID, &p.Ref, &p.Slug, &p.Property, &p.Category, &p.Territories, &p.Status,
		&p.Currency, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

type querier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
	QueryRow(context.Context, string, ...any) pgx.Row
}

// Product returns one product with its texts, variants, prices and images, whatever its
// status. Returns NotFound when there is none.
func (s *Service) Product(ctx context.Context, id int64) (_ Product, err error) {
	defer fault.Annotate(&err, "catalog.Product(%d)", id)
	return s.productWhere(ctx, `p.id = $1`, id)
}

// ProductBySlug returns one product by its slug. Returns NotFound when there is none.
func (s *Service) ProductBySlug(ctx context.Context, slug string) (_ Product, err error) {
	defer fault.Annotate(&err, "catalog.ProductBySlug(%q)", slug)
	return s.productWhere(ctx, `p.slug = $1`, slug)
}

// ProductBySKU returns the product one of whose variants has the SKU. A SKU belongs to one
// licensee (the import refuses another licensee's SKU); licenseeID 0 looks across licensees.
// Returns NotFound when no product has it.
func (s *Service) ProductBySKU(ctx context.Context, licenseeID int64, sku string) (_ Product, err error) {
	defer fault.Annotate(&err, "catalog.ProductBySKU(%d, %q)", licenseeID, sku)
	return s.productWhere(ctx, `p.id = (SELECT v.product_id FROM variants v WHERE v.sku = $1
		AND ($2 = 0 OR v.licensee_id = $2) ORDER BY v.licensee_id LIMIT 1)`, strings.TrimSpace(sku), licenseeID)
}

func (s *Service) productWhere(ctx context.Context, where string, args ...any) (Product, error) {
	p, err := scanProduct(s.db.QueryRow(ctx, `SELECT `+productColumns+` FROM products p WHERE `+where, args...))
	if err != nil {
		return Product{}, postgres.Err(err, "product")
	}
	ps := []Product{p}
	if err := s.fillProducts(ctx, s.db, ps); err != nil {
		return Product{}, err
	}
	return ps[0], nil
}

// ProductFilter narrows Products. Zero fields do not filter.
type ProductFilter struct {
	LicenseeID int64
	Property   string
	Category   string
	Status     ProductStatus
	Query      string // words of the English title, or a SKU
	AfterID    int64  // keyset paging: products with a greater id
	Limit      int    // default 100, at most 1000
}

// Products lists products by id, each with its texts, variants, prices and images.
func (s *Service) Products(ctx context.Context, f ProductFilter) (_ []Product, err error) {
	defer fault.Annotate(&err, "catalog.Products()")
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := strings.TrimSpace(f.Query)
	rows, err := s.db.Query(ctx, `SELECT `+productColumns+` FROM products p
		WHERE ($1 = 0 OR p.licensee_id = $1) AND ($2 = '' OR p.property = upper($2)) AND ($3 = '' OR p.category = $3)
		AND ($4 = '' OR p.status = $4) AND p.id > $5
		AND ($6 = '' OR EXISTS (SELECT 1 FROM product_texts t WHERE t.product_id = p.id AND t.lang = 'en'
				AND t.title ILIKE '%' || $6 || '%')
			OR EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.sku = $6))
		ORDER BY p.id LIMIT $7`, f.LicenseeID, strings.TrimSpace(f.Property), f.Category, string(f.Status), f.AfterID, q, f.Limit)
	if err != nil {
		return nil, err
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Product, error) { return scanProduct(r) })
	if err != nil {
		return nil, err
	}
	return ps, s.fillProducts(ctx, s.db, ps)
}

// CountProducts counts the products Products would list without paging.
func (s *Service) CountProducts(ctx context.Context, f ProductFilter) (_ int, err error) {
	defer fault.Annotate(&err, "catalog.CountProducts()")
	var n int
	q := strings.TrimSpace(f.Query)
	err = s.db.QueryRow(ctx, `SELECT count(*) FROM products p
		WHERE ($1 = 0 OR p.licensee_id = $1) AND ($2 = '' OR p.property = upper($2)) AND ($3 = '' OR p.category = $3)
		AND ($4 = '' OR p.status = $4)
		AND ($5 = '' OR EXISTS (SELECT 1 FROM product_texts t WHERE t.product_id = p.id AND t.lang = 'en'
				AND t.title ILIKE '%' || $5 || '%')
			OR EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.sku = $5))`,
		f.LicenseeID, strings.TrimSpace(f.Property), f.Category, string(f.Status), q).Scan(&n)
	return n, err
}

// fillProducts loads the texts, variants with prices, and images of ps in four queries.
func (s *Service) fillProducts(ctx context.Context, q querier, ps []Product) error {
	if len(ps) == 0 {
		return nil
	}
	ids := make([]int64, len(ps))
	byID := make(map[int64]*Product, len(ps))
	for i := range ps {
		ids[i] = ps[i].ID
		ps[i].Texts = map[string]Text{}
		ps[i].Variants = []Variant{}
		ps[i].Images = []Image{}
		byID[ps[i].ID] = &ps[i]
	}
	rows, err := q.Query(ctx, `SELECT product_id, lang, title, description FROM product_texts WHERE product_id = ANY($1)`, ids)
	if err != nil {
		return err
	}
	var pid int64
	var lang string
	var t Text
	_, err = pgx.ForEachRow(rows, []any{&pid, &lang, &t.Title, &t.Description}, func() error {
		byID[pid].Texts[lang] = t
		return nil
	})
	if err != nil {
		return err
	}
	rows, err = q.Query(ctx, `SELECT v.product_id, v.id, v.sku, v.gtin, v.size, v.colour, v.stock,
		coalesce((SELECT jsonb_object_agg(currency, amount) FROM variant_prices WHERE variant_id = v.id), '{}')
		FROM variants v WHERE v.product_id = ANY($1) ORDER BY v.product_id, v.position, v.id`, ids)
	if err != nil {
		return err
	}
	var v Variant
	_, err = pgx.ForEachRow(rows, []any{&pid, &v.ID, &v.SKU, &v.GTIN, &v.Size, &v.Colour, &v.Stock, &v.Prices}, func() error {
		p := byID[pid]
		p.Variants = append(p.Variants, v)
		v.Prices = nil
		return nil
	})
	if err != nil {
		return err
	}
	rows, err = q.Query(ctx, `SELECT pi.product_id, i.id, i.content_type, i.width, i.height, i.bytes
		FROM product_images pi JOIN images i ON i.id = pi.image_id WHERE pi.product_id = ANY($1)
		ORDER BY pi.product_id, pi.position`, ids)
	if err != nil {
		return err
	}
	var img Image
	_, err = pgx.ForEachRow(rows, []any{&pid, &img.ID, &img.ContentType, &img.Width, &img.Height, &img.Bytes}, func() error {
		p := byID[pid]
		p.Images = append(p.Images, img)
		return nil
	})
	return err
}

// ValidGTIN reports whether s is a GTIN-8, GTIN-12 (UPC-A), GTIN-13 (EAN) or GTIN-14 with a
// correct GS1 check digit.
func ValidGTIN(s string) bool {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return false
	}
	sum := 0
	// From the right, the check digit excluded, weights alternate 3, 1, 3, …
	for i := len(s) - 2; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if (len(s)-2-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	last := s[len(s)-1]
	if last < '0' || last > '9' {
		return false
	}
	return (10-sum%10)%10 == int(last-'0')
}
