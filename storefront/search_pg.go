package storefront

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/fault"
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
	_, err := e.db.Exec(ctx, `TRUNCATE search_documents, search_facet_counts`)
	return err
}

// facetKey is a row of search_facet_counts: the values a document is counted under.
type facetKey struct {
	group       int32
	territories string // comma separated, as PostgreSQL returned them
	property    string
	category    string
	licensee    int64
	bands       string // jsonb text, as PostgreSQL returned it
}

// facetColumns are what Apply reads back of each document it deletes or inserts.
const facetColumns = `group_id, array_to_string(territories, ','), property, category, licensee_id, bands::text, licensee_name`

// facetDelta is how each facet count moves in one Apply.
type facetDelta struct {
	n     map[facetKey]int
	names map[facetKey]string
}

func (fd *facetDelta) scan(rows pgx.Rows, sign int) error {
	defer rows.Close()
	for rows.Next() {
		var k facetKey
		var name string
		if err := rows.Scan(&k.group, &k.territories, &k.property, &k.category, &k.licensee, &k.bands, &name); err != nil {
			return err
		}
		fd.n[k] += sign
		if sign > 0 {
			fd.names[k] = name
		}
	}
	return rows.Err()
}

// Apply writes docs and removes gone in one transaction. Documents are deleted and inserted
// rather than updated, so the facet counts move by exactly what was removed and what was added
// (read back with RETURNING), whoever else is applying at the same time.
func (e *PostgresEngine) Apply(ctx context.Context, docs []Document, gone []int64) error {
	return postgres.Tx(ctx, e.db, func(tx pgx.Tx) error {
		delta := facetDelta{n: map[facetKey]int{}, names: map[facetKey]string{}}
		ids, slugs := slices.Clone(gone), make([]string, 0, len(docs))
		for _, d := range docs {
			ids, slugs = append(ids, d.ListingID), append(slugs, d.Slug)
		}
		// A slug belongs to one listing for ever, but a document of a deleted listing may
		// still hold it: it goes too.
		rows, err := tx.Query(ctx, `DELETE FROM search_documents WHERE listing_id = ANY($1) OR slug = ANY($2) RETURNING `+facetColumns, ids, slugs)
		if err != nil {
			return err
		}
		if err := delta.scan(rows, -1); err != nil {
			return err
		}
		b := &pgx.Batch{}
		words := map[string]bool{}
		for _, d := range docs {
			titles, _ := json.Marshal(d.Titles)
			prices, _ := json.Marshal(d.Prices)
			bands, _ := json.Marshal(d.Bands)
			// Nothing to conflict with unless another transaction applied the same listing
			// since the delete: its document, as fresh as this one, stays.
			b.Queue(`INSERT INTO search_documents (listing_id, slug, title, titles, summary, property, category, licensee_id,
				licensee_name, seller_id, seller_name, official, group_id, territories, skus, gtins, price_amount, currency,
				prices, bands, image_id, stock, created_at, tsv, indexed_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
					setweight(to_tsvector('simple', $24), 'A') || setweight(to_tsvector('simple', $25), 'B') ||
					setweight(to_tsvector('simple', $26), 'C'), now())
				ON CONFLICT DO NOTHING RETURNING `+facetColumns,
				d.ListingID, d.Slug, d.Title, titles, d.Summary, d.Property, d.Category, d.LicenseeID, d.LicenseeName,
				d.SellerID, d.SellerName, d.Official, d.GroupID, d.Territories, d.SKUs, d.GTINs, d.Price.Amount,
				d.Price.Currency, prices, bands, d.ImageID, d.Stock, d.CreatedAt, d.Text[0], d.Text[1], d.Text[2]).
				Query(func(rows pgx.Rows) error { return delta.scan(rows, +1) })
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
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		return delta.save(ctx, tx)
	})
}

// save adds the delta to search_facet_counts, in key order so that concurrent transactions
// take the rows' locks in the same order, and drops the counts that reached zero.
func (fd *facetDelta) save(ctx context.Context, tx pgx.Tx) error {
	var (
		groups                                 []int32
		territories, props, cats, bands, names []string
		licensees                              []int64
		ns                                     []int32
	)
	for k, n := range fd.n {
		if n == 0 {
			continue
		}
		groups, territories, props, cats = append(groups, k.group), append(territories, k.territories), append(props, k.property), append(cats, k.category)
		licensees, bands, names, ns = append(licensees, k.licensee), append(bands, k.bands), append(names, fd.names[k]), append(ns, int32(n))
	}
	if len(groups) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO search_facet_counts AS f (group_id, territories, property, category, licensee_id, bands, licensee_name, n)
		SELECT g, string_to_array(t, ','), p, c, l, b::jsonb, name, n
		FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::int[]) AS u(g, t, p, c, l, b, name, n)
		ORDER BY g, t, p, c, l, b
		ON CONFLICT (group_id, territories, property, category, licensee_id, bands) DO UPDATE
		SET n = f.n + excluded.n, licensee_name = CASE WHEN excluded.licensee_name <> '' THEN excluded.licensee_name ELSE f.licensee_name END`,
		groups, territories, props, cats, licensees, bands, names, ns)
	if err != nil {
		return fmt.Errorf("facet counts: %w", err)
	}
	_, err = tx.Exec(ctx, `DELETE FROM search_facet_counts WHERE n <= 0 AND group_id = ANY($1)`, groups)
	return err
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
	alts, err := e.alternatives(ctx, q)
	if err != nil {
		return SearchResult{}, err
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
			rank = "ts_rank(d.tsv, query)"
		}
		if q.SKU != "" {
			sku := arg([]string{q.SKU})
			match = append(match, "d.skus @> "+sku, "d.gtins @> "+sku)
			// An exact SKU or GTIN outranks any text match.
			rank = "(CASE WHEN d.skus @> " + sku + " OR d.gtins @> " + sku + " THEN 10 ELSE 0 END + " + rank + ")"
		}
		where = append(where, "("+strings.Join(match, " OR ")+")")
	}
	cond := strings.Join(where, " AND ")
	limit, offset := arg(q.PerPage), arg((q.Page-1)*q.PerPage)
	var res SearchResult
	if q.Empty() {
		res, err = e.browse(ctx, q, args, cond, limit, offset)
	} else {
		res, err = e.searchWords(ctx, q, args, from, cond, rank, limit, offset)
	}
	if err != nil {
		return SearchResult{}, fmt.Errorf("search: %w", err)
	}
	sortFacets(&res.Facets)
	return res, nil
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// hitColumns are what a result shows of a document d; $3 is the market's currency.
const hitColumns = `d.listing_id, d.slug, d.title, d.titles, d.property, d.category, d.licensee_name, d.official, d.prices->$3, d.image_id, d.stock`

// hitRow receives hitColumns.
type hitRow struct {
	h             Hit
	titles, price []byte
}

func (r *hitRow) dest() []any {
	return []any{&r.h.ListingID, &r.h.Slug, &r.h.Title, &r.titles, &r.h.Property, &r.h.Category, &r.h.LicenseeName,
		&r.h.Official, &r.price, &r.h.ImageID, &r.h.Stock}
}

func (r *hitRow) hit() Hit {
	h := r.h
	_ = json.Unmarshal(r.titles, &h.Titles)
	var m money.Money
	if err := json.Unmarshal(r.price, &m); err == nil {
		h.Price = m
	}
	return h
}

// facetSets groups rows m (property, category, licensee_id, licensee_name, band, n) into
// every facet's counts and the total, each row saying which it is.
const facetSets = `SELECT CASE WHEN GROUPING(m.property) = 0 THEN 'p' WHEN GROUPING(m.category) = 0 THEN 'c'
		WHEN GROUPING(m.licensee_id) = 0 THEN 'l' WHEN GROUPING(m.band) = 0 THEN 'b' ELSE 't' END AS kind,
	coalesce(m.property, m.category, m.licensee_id::text, m.band::text, '') AS value, coalesce(max(m.licensee_name), '') AS name,
	coalesce(sum(m.n), 0)::int AS n
	FROM m GROUP BY GROUPING SETS ((m.property), (m.category), (m.licensee_id), (m.band), ())`

// addFacet files one row of facetSets.
func (res *SearchResult) addFacet(kind, value, name string, n int) {
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

// browse answers a search without words: the page of hits walks the newest-first index (or
// sorts the matches by price), and the facets and total come from search_facet_counts, whose
// rows stand for every document alike under the same filters.
func (e *PostgresEngine) browse(ctx context.Context, q SearchQuery, args []any, cond, limit, offset string) (SearchResult, error) {
	var res SearchResult
	order := "d.created_at DESC, d.listing_id DESC"
	if q.Sort == SortPriceAsc || q.Sort == SortPriceDesc {
		// The currency is written into the statement, not passed as $3, so that the planner
		// sees the expression of that currency's price index (migration 002).
		if !currencyCode.MatchString(q.Currency) {
			return res, fault.New(fault.Invalid, "unknown currency %q", q.Currency)
		}
		price := "(d.prices->'" + q.Currency + "'->>'amount')::bigint"
		order = price + " ASC, d.listing_id DESC"
		if q.Sort == SortPriceDesc {
			order = price + " DESC, d.listing_id ASC" // the index walked backwards
		}
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT `+hitColumns+` FROM search_documents d WHERE `+cond+` ORDER BY `+order+` LIMIT `+limit+` OFFSET `+offset,
		args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var r hitRow
			if err := rows.Scan(r.dest()...); err != nil {
				return err
			}
			res.Hits = append(res.Hits, r.hit())
		}
		return rows.Err()
	})
	// The page's limit and offset are not used here, but their placeholders are, so the
	// statement takes the same arguments.
	b.Queue(`WITH m AS (SELECT d.property, d.category, d.licensee_id, d.licensee_name, (d.bands->>$3)::int AS band, d.n
			FROM search_facet_counts d WHERE `+cond+` AND `+limit+`::int > 0 AND `+offset+`::int >= 0) `+facetSets,
		args...).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var kind, value, name string
			var n int
			if err := rows.Scan(&kind, &value, &name, &n); err != nil {
				return err
			}
			res.addFacet(kind, value, name, n)
		}
		return rows.Err()
	})
	return res, e.db.SendBatch(ctx, b).Close()
}

// searchWords answers a search with words in one statement that reads the matching documents
// once: their narrow columns (rank, date, price, facet values) are kept aside, the page is
// cut from them and joined back for its hits, and the same rows are counted for the facets.
// (Two statements read every match twice: 40-60 ms instead of 25-30 at 5,000 matches.)
func (e *PostgresEngine) searchWords(ctx context.Context, q SearchQuery, args []any, from, cond, rank, limit, offset string) (SearchResult, error) {
	price, order := "NULL::bigint", "m.rank DESC, m.created_at DESC, m.listing_id DESC"
	switch q.Sort {
	case SortNewest:
		order = "m.created_at DESC, m.listing_id DESC"
	case SortPriceAsc:
		price, order = "(d.prices->$3->>'amount')::bigint", "m.price ASC, m.listing_id DESC"
	case SortPriceDesc:
		price, order = "(d.prices->$3->>'amount')::bigint", "m.price DESC, m.listing_id ASC"
	}
	rows, err := e.db.Query(ctx, `WITH m AS MATERIALIZED (
			SELECT d.listing_id, d.created_at, `+rank+` AS rank, `+price+` AS price, d.property, d.category, d.licensee_id,
				d.licensee_name, (d.bands->>$3)::int AS band, 1 AS n
			FROM `+from+` WHERE `+cond+`),
		page AS (SELECT m.listing_id, row_number() OVER (ORDER BY `+order+`) AS pos FROM m ORDER BY `+order+` LIMIT `+limit+` OFFSET `+offset+`),
		facets AS (`+facetSets+`)
		SELECT 'h', page.pos, `+hitColumns+`, '', 0 FROM page JOIN search_documents d ON d.listing_id = page.listing_id
		UNION ALL
		SELECT kind, 0, 0, '', '', NULL, '', '', name, false, NULL, 0, 0, value, n FROM facets`, args...)
	if err != nil {
		return SearchResult{}, err
	}
	defer rows.Close()
	var res SearchResult
	type placed struct {
		pos int64
		hit Hit
	}
	var hits []placed
	for rows.Next() {
		var kind, value string
		var pos int64
		var n int
		var r hitRow
		if err := rows.Scan(append(append([]any{&kind, &pos}, r.dest()...), &value, &n)...); err != nil {
			return SearchResult{}, err
		}
		if kind == "h" {
			hits = append(hits, placed{pos, r.hit()})
		} else {
			res.addFacet(kind, value, r.h.LicenseeName, n)
		}
	}
	if err := rows.Err(); err != nil {
		return SearchResult{}, err
	}
	slices.SortFunc(hits, func(a, b placed) int { return cmp.Compare(a.pos, b.pos) })
	for _, p := range hits {
		res.Hits = append(res.Hits, p.hit)
	}
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
