package storefront

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/licensing"
)

// PostgresEngine searches the search_documents table with PostgreSQL full text search. Typo
// tolerance comes from pg_trgm: each query word that is not in the lexicon of indexed words
// (search_words) is widened with its nearest words there, so the main query stays a plain
// GIN-indexed full-text match.
type PostgresEngine struct {
	db *pgxpool.Pool
}

// NewPostgresEngine returns the engine over db.
func NewPostgresEngine(db *pgxpool.Pool) *PostgresEngine { return &PostgresEngine{db: db} }

// Name is "postgres".
func (e *PostgresEngine) Name() string { return "postgres" }

// Reset removes every document.
func (e *PostgresEngine) Reset(ctx context.Context) error {
	_, err := e.db.Exec(ctx, `TRUNCATE search_documents`)
	return err
}

// Apply writes docs and removes gone in one transaction.
func (e *PostgresEngine) Apply(ctx context.Context, docs []Document, gone []int64) error {
	return postgres.Tx(ctx, e.db, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		if len(gone) > 0 {
			b.Queue(`DELETE FROM search_documents WHERE listing_id = ANY($1)`, gone)
		}
		words := map[string]bool{}
		for _, d := range docs {
			titles, _ := json.Marshal(d.Titles)
			prices, _ := json.Marshal(d.Prices)
			bands, _ := json.Marshal(d.Bands)
			// A slug belongs to one listing for ever, but clear it first in case a document
			// of a deleted listing kept it.
			b.Queue(`DELETE FROM search_documents WHERE slug = $1 AND listing_id <> $2`, d.Slug, d.ListingID)
			b.Queue(`INSERT INTO search_documents (listing_id, slug, title, titles, summary, property, category, licensee_id,
				licensee_name, seller_id, seller_name, official, group_id, territories, skus, gtins, price_amount, currency,
				prices, bands, image_id, stock, created_at, tsv, indexed_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
					setweight(to_tsvector('simple', $24), 'A') || setweight(to_tsvector('simple', $25), 'B') ||
					setweight(to_tsvector('simple', $26), 'C'), now())
				ON CONFLICT (listing_id) DO UPDATE SET slug = excluded.slug, title = excluded.title, titles = excluded.titles,
					summary = excluded.summary, property = excluded.property, category = excluded.category,
					licensee_id = excluded.licensee_id, licensee_name = excluded.licensee_name, seller_id = excluded.seller_id,
					seller_name = excluded.seller_name, official = excluded.official, group_id = excluded.group_id,
					territories = excluded.territories, skus = excluded.skus, gtins = excluded.gtins,
					price_amount = excluded.price_amount, currency = excluded.currency, prices = excluded.prices,
					bands = excluded.bands, image_id = excluded.image_id, stock = excluded.stock,
					created_at = excluded.created_at, tsv = excluded.tsv, indexed_at = now()`,
				d.ListingID, d.Slug, d.Title, titles, d.Summary, d.Property, d.Category, d.LicenseeID, d.LicenseeName,
				d.SellerID, d.SellerName, d.Official, d.GroupID, d.Territories, d.SKUs, d.GTINs, d.Price.Amount,
				d.Price.Currency, prices, bands, d.ImageID, d.Stock, d.CreatedAt, d.Text[0], d.Text[1], d.Text[2])
			for _, part := range []string{d.Text[0], d.Text[2]} {
				for _, w := range strings.Fields(part) {
					if lexiconWord(w) {
						words[w] = true
					}
				}
			}
		}
		if len(words) > 0 {
			list := make([]string, 0, len(words))
			for w := range words {
				list = append(list, w)
			}
			sort.Strings(list) // the same order in every transaction, so concurrent ones never deadlock
			b.Queue(`INSERT INTO search_words (word) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, list)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// lexiconWord reports whether w is worth correcting a misspelling towards: three or more
// letters, not a number, not CJK (whose pairs are matched exactly).
func lexiconWord(w string) bool {
	n := 0
	for _, r := range w {
		if !unicode.IsLetter(r) || isCJK(r) {
			return false
		}
		n++
	}
	return n >= 3 && n <= 40
}

// alternatives finds, for each query word not in the lexicon, its nearest lexicon words.
func (e *PostgresEngine) alternatives(ctx context.Context, q SearchQuery) (map[string][]string, error) {
	out := map[string][]string{}
	b := &pgx.Batch{}
	for _, c := range q.Clauses {
		if c.Phrase {
			continue
		}
		for _, t := range c.Terms {
			if !lexiconWord(t) {
				continue
			}
			b.Queue(`SELECT word FROM search_words WHERE word % $1 ORDER BY similarity(word, $1) DESC, word LIMIT 3`, t).
				Query(func(rows pgx.Rows) error {
					words, err := pgx.CollectRows(rows, pgx.RowTo[string])
					out[t] = words
					return err
				})
		}
	}
	if b.Len() == 0 {
		return out, nil
	}
	return out, e.db.SendBatch(ctx, b).Close()
}

// tsQuery writes the query's clauses as a to_tsquery text: words match as prefixes or as
// their nearest lexicon words, phrases word after word. Terms hold only letters and digits, so
// quoting each one is enough to keep the text well formed.
func tsQuery(q SearchQuery, alts map[string][]string) string {
	var parts []string
	for _, c := range q.Clauses {
		if c.Phrase {
			quoted := make([]string, len(c.Terms))
			for i, t := range c.Terms {
				quoted[i] = "'" + t + "'"
			}
			parts = append(parts, "("+strings.Join(quoted, " <-> ")+")")
			continue
		}
		for _, t := range c.Terms {
			opts := []string{"'" + t + "'"}
			if len([]rune(t)) >= 3 {
				opts[0] += ":*"
			}
			for _, a := range alts[t] {
				if a != t {
					opts = append(opts, "'"+a+"'")
				}
			}
			parts = append(parts, "("+strings.Join(opts, " | ")+")")
		}
	}
	return strings.Join(parts, " & ")
}

// Search runs q among the documents of groups.
func (e *PostgresEngine) Search(ctx context.Context, q SearchQuery, groups []int32) (SearchResult, error) {
	var res SearchResult
	alts, err := e.alternatives(ctx, q)
	if err != nil {
		return res, err
	}
	args := []any{groups, []string{q.Country, licensing.World}, q.Currency}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	where := []string{"d.group_id = ANY($1)", "d.territories && $2"}
	if q.Property != "" {
		where = append(where, "d.property = "+arg(q.Property))
	}
	if q.Category != "" {
		where = append(where, "d.category = "+arg(q.Category))
	}
	if q.LicenseeID != 0 {
		where = append(where, "d.licensee_id = "+arg(q.LicenseeID))
	}
	if q.Band >= 0 {
		where = append(where, "(d.bands->>$3)::int = "+arg(q.Band))
	}
	from := "search_documents d"
	rank := "0::real"
	if !q.Empty() {
		var match []string
		if tq := tsQuery(q, alts); tq != "" {
			from += ", to_tsquery('simple', " + arg(tq) + ") query"
			match = append(match, "d.tsv @@ query")
			rank = "ts_rank_cd(d.tsv, query)"
		}
		if q.SKU != "" {
			sku := arg([]string{q.SKU})
			match = append(match, "d.skus @> "+sku, "d.gtins @> "+sku)
			// An exact SKU or GTIN outranks any text match.
			rank = "(CASE WHEN d.skus @> " + sku + " OR d.gtins @> " + sku + " THEN 10 ELSE 0 END + " + rank + ")"
		}
		where = append(where, "("+strings.Join(match, " OR ")+")")
	}
	order := "d.created_at DESC, d.listing_id DESC"
	switch q.Sort {
	case SortRelevance:
		order = "rank DESC, " + order
	case SortPriceAsc:
		order = "(d.prices->$3->>'amount')::bigint ASC, d.listing_id DESC"
	case SortPriceDesc:
		order = "(d.prices->$3->>'amount')::bigint DESC, d.listing_id DESC"
	}
	cond := strings.Join(where, " AND ")
	limit, offset := arg(q.PerPage), arg((q.Page-1)*q.PerPage)
	b := &pgx.Batch{}
	b.Queue(`SELECT d.listing_id, d.slug, d.title, d.titles, d.property, d.category, d.licensee_name, d.official,
		d.prices->$3, d.image_id, d.stock, `+rank+` AS rank
		FROM `+from+` WHERE `+cond+` ORDER BY `+order+` LIMIT `+limit+` OFFSET `+offset, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var h Hit
			var titles, price []byte
			var r float32
			if err := rows.Scan(&h.ListingID, &h.Slug, &h.Title, &titles, &h.Property, &h.Category, &h.LicenseeName,
				&h.Official, &price, &h.ImageID, &h.Stock, &r); err != nil {
				return err
			}
			_ = json.Unmarshal(titles, &h.Titles)
			var m money.Money
			if err := json.Unmarshal(price, &m); err == nil {
				h.Price = m
			}
			res.Hits = append(res.Hits, h)
		}
		return rows.Err()
	})
	// The facets count every match; the page's own limit and offset are not used here, but
	// their placeholders are, so the statement takes the same arguments.
	b.Queue(`SELECT CASE WHEN GROUPING(m.property) = 0 THEN 'p' WHEN GROUPING(m.category) = 0 THEN 'c'
			WHEN GROUPING(m.licensee_id) = 0 THEN 'l' WHEN GROUPING(m.band) = 0 THEN 'b' ELSE 't' END,
		coalesce(m.property, m.category, m.licensee_id::text, m.band::text, ''), coalesce(max(m.licensee_name), ''), count(*)
		FROM (SELECT d.property, d.category, d.licensee_id, d.licensee_name, (d.bands->>$3)::int AS band
			FROM `+from+` WHERE `+cond+` AND `+limit+`::int > 0 AND `+offset+`::int >= 0) m
		GROUP BY GROUPING SETS ((m.property), (m.category), (m.licensee_id), (m.band), ())`, args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var kind, value, name string
			var n int
			if err := rows.Scan(&kind, &value, &name, &n); err != nil {
				return err
			}
			switch kind {
			case "p":
				res.Facets.Property = append(res.Facets.Property, FacetCount{Value: value, Label: value, Count: n})
			case "c":
				res.Facets.Category = append(res.Facets.Category, FacetCount{Value: value, Label: value, Count: n})
			case "l":
				if value != "0" {
					res.Facets.Licensee = append(res.Facets.Licensee, FacetCount{Value: value, Label: name, Count: n})
				}
			case "b":
				res.Facets.Band = append(res.Facets.Band, FacetCount{Value: value, Count: n})
			case "t":
				res.Total = n
			}
		}
		return rows.Err()
	})
	if err := e.db.SendBatch(ctx, b).Close(); err != nil {
		return SearchResult{}, fmt.Errorf("search: %w", err)
	}
	sortFacets(&res.Facets)
	return res, nil
}

// sortFacets orders facet values by count, then label; price bands by band.
func sortFacets(f *Facets) {
	byCount := func(list []FacetCount) {
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].Count != list[j].Count {
				return list[i].Count > list[j].Count
			}
			return list[i].Label < list[j].Label
		})
	}
	byCount(f.Property)
	byCount(f.Category)
	byCount(f.Licensee)
	sort.SliceStable(f.Band, func(i, j int) bool { return f.Band[i].Value < f.Band[j].Value })
}
