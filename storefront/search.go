package storefront

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// Engine is a search engine over the storefront's documents. The follower feeds it with
// Apply; Search answers a fan's query among the documents of the allowed sale groups.
type Engine interface {
	// Name is "postgres" or "meilisearch", for logs and the page footer.
	Name() string
	// Apply writes docs (replacing documents with the same listing) and removes the
	// documents of the listings in gone. Applying the same batch twice changes nothing.
	Apply(ctx context.Context, docs []Document, gone []int64) error
	// Reset removes every document (before a reindex).
	Reset(ctx context.Context) error
	// Search runs q among documents whose group is in groups (sorted ascending).
	Search(ctx context.Context, q SearchQuery, groups []int32) (SearchResult, error)
}

// Document is one listing as search knows it.
type Document struct {
	ListingID    int64             `json:"id"`
	Slug         string            `json:"slug"`
	Title        string            `json:"title"`
	Titles       map[string]string `json:"titles,omitempty"`
	Summary      string            `json:"summary"`
	Property     string            `json:"property"`
	Category     string            `json:"category"`
	LicenseeID   int64             `json:"licensee_id"`
	LicenseeName string            `json:"licensee_name"`
	SellerID     int64             `json:"seller_id"`
	SellerName   string            `json:"seller_name"`
	Official     bool              `json:"official"`
	GroupID      int32             `json:"group_id"`
	Territories  []string          `json:"territories"`
	SKUs         []string          `json:"skus"`
	GTINs        []string          `json:"gtins"`
	Price        money.Money       `json:"price"`
	// Prices is, per market currency, the price shown there: the listing's own price in that
	// currency when it has one, else its price in its own currency.
	Prices    map[string]money.Money `json:"prices"`
	Bands     map[string]int         `json:"bands"` // per market currency, the price band of Prices
	ImageID   int64                  `json:"image_id"`
	Stock     int                    `json:"stock"`
	CreatedAt time.Time              `json:"created_at"`
	// Text is the folded searchable text by weight: title (A), names (B), description (C).
	Text [3]string `json:"-"`
}

// Sort orders.
const (
	SortRelevance = "relevance"
	SortPriceAsc  = "price_asc"
	SortPriceDesc = "price_desc"
	SortNewest    = "newest"
)

// Sorts lists the sort orders a page offers.
var Sorts = []string{SortRelevance, SortPriceAsc, SortPriceDesc, SortNewest}

// MaxQueryRunes bounds a query; longer ones are refused, naming the field.
const MaxQueryRunes = 200

// maxTerms bounds the words of a query that are searched (the rest are ignored).
const maxTerms = 12

// SearchQuery is a checked search request.
type SearchQuery struct {
	Text       string // as typed, trimmed
	Property   string
	Category   string
	LicenseeID int64
	Band       int // price band, -1 for any
	Sort       string
	Country    string
	Currency   string
	Page       int // from 1
	PerPage    int
	// Clauses is Text split into words and "quoted phrases", folded.
	Clauses []Clause
	// SKU is Text when it looks like a SKU or GTIN (one token with a digit), upper case.
	SKU string
}

// Clause is a word or a quoted phrase of a query, folded into terms.
type Clause struct {
	Terms  []string
	Phrase bool
}

// Empty reports whether the query has no text (browsing).
func (q *SearchQuery) Empty() bool { return q.Text == "" }

// Nothing reports whether the query has text but nothing in it can be searched ("%", "!!").
func (q *SearchQuery) Nothing() bool { return q.Text != "" && len(q.Clauses) == 0 && q.SKU == "" }

// key identifies the query for the cache.
func (q *SearchQuery) key() string {
	return fmt.Sprintf("%q|%s|%s|%d|%d|%s|%s|%s|%d|%d", q.Text, q.Property, q.Category, q.LicenseeID, q.Band, q.Sort,
		q.Country, q.Currency, q.Page, q.PerPage)
}

// Hit is one search result.
type Hit struct {
	ListingID    int64
	Slug         string
	Title        string
	Titles       map[string]string
	Property     string
	Category     string
	LicenseeName string
	Official     bool
	Price        money.Money
	ImageID      int64
	Stock        int
}

// TitleIn is the hit's title in lang when the product has one, else its own.
func (h Hit) TitleIn(lang string) string {
	base, _, _ := strings.Cut(lang, "-")
	if t := h.Titles[base]; t != "" {
		return t
	}
	return h.Title
}

// FacetCount is one value of a facet with how many results have it.
type FacetCount struct {
	Value string
	Label string
	Count int
}

// Facets are the counts of the results by property, category, licensee and price band.
type Facets struct {
	Property []FacetCount
	Category []FacetCount
	Licensee []FacetCount
	Band     []FacetCount
}

// SearchResult is a page of hits with the total and the facets of every match.
type SearchResult struct {
	Total  int
	Hits   []Hit
	Facets Facets
	Engine string
	Took   time.Duration
}

// skuPattern is what a SKU looks like (as the catalogue checks it); GTINs match it too.
var skuPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ParseSearch checks a search request's parameters (q, property, category, licensee, price,
// sort, page) for the fan's market. Returns Invalid naming each bad field: a query that is
// not UTF-8 or longer than MaxQueryRunes, an unknown property, category, sort or band.
func ParseSearch(v url.Values, m web.Market, properties []string) (SearchQuery, error) {
	q := SearchQuery{Band: -1, Sort: SortRelevance, Country: m.Country, Currency: m.Currency, Page: 1, PerPage: 24}
	var bad fault.Fields
	text := v.Get("q")
	switch {
	case !utf8.ValidString(text):
		bad.Add("q", "the search text is not valid UTF-8")
	case utf8.RuneCountInString(text) > MaxQueryRunes:
		bad.Add("q", "the search text is longer than %d characters", MaxQueryRunes)
	default:
		q.Text = strings.TrimSpace(norm.NFC.String(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, text)))
	}
	if p := strings.ToUpper(strings.TrimSpace(v.Get("property"))); p != "" {
		if !slices.Contains(properties, p) {
			bad.Add("property", "unknown property %q", truncate(p, 40))
		}
		q.Property = p
	}
	if c := strings.ToLower(strings.TrimSpace(v.Get("category"))); c != "" {
		if !licensing.IsCategory(c) {
			bad.Add("category", "unknown category %q", truncate(c, 40))
		}
		q.Category = c
	}
	if l := strings.TrimSpace(v.Get("licensee")); l != "" {
		id, err := strconv.ParseInt(l, 10, 64)
		if err != nil || id <= 0 {
			bad.Add("licensee", "must be a licensee id")
		}
		q.LicenseeID = id
	}
	if b := strings.TrimSpace(v.Get("price")); b != "" {
		n, err := strconv.Atoi(b)
		if err != nil || n < 0 || n >= len(bandEdges(m.Currency))+1 {
			bad.Add("price", "must be a price band from 0 to %d", len(bandEdges(m.Currency)))
		}
		q.Band = n
	}
	if s := strings.TrimSpace(v.Get("sort")); s != "" {
		if !slices.Contains(Sorts, s) {
			bad.Add("sort", "must be one of %s", strings.Join(Sorts, ", "))
		}
		q.Sort = s
	}
	if p := strings.TrimSpace(v.Get("page")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 400 {
			bad.Add("page", "must be a page number from 1 to 400")
		}
		q.Page = n
	}
	if err := bad.Err("the search is not valid"); err != nil {
		return q, err
	}
	q.Clauses = parseClauses(q.Text)
	if !strings.ContainsAny(q.Text, " \t") && skuPattern.MatchString(q.Text) && strings.ContainsAny(q.Text, "0123456789") {
		q.SKU = strings.ToUpper(q.Text)
	}
	if q.Sort == SortRelevance && q.Empty() {
		q.Sort = SortNewest
	}
	return q, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// parseClauses splits text into words and "quoted phrases" (an unclosed quote runs to the
// end), each folded into terms; words that fold to nothing ("%", "-") fall away.
func parseClauses(text string) []Clause {
	var out []Clause
	terms := 0
	add := func(s string, phrase bool) {
		ts := foldTerms(s)
		if len(ts) == 0 || terms >= maxTerms {
			return
		}
		if len(ts) > maxTerms-terms {
			ts = ts[:maxTerms-terms]
		}
		terms += len(ts)
		if !phrase && len(ts) > 1 && !strings.ContainsFunc(s, isCJK) {
			// "t-shirt" is one word the folding split: its parts must follow each other, as in
			// a phrase. A CJK run's pairs need only all be there.
			phrase = true
		}
		out = append(out, Clause{Terms: ts, Phrase: phrase})
	}
	for text != "" {
		text = strings.TrimLeft(text, " \t\n")
		if text == "" {
			break
		}
		if text[0] == '"' {
			inner, rest, _ := strings.Cut(text[1:], `"`)
			add(inner, true)
			text = rest
			continue
		}
		end := strings.IndexAny(text, " \t\n\"")
		if end < 0 {
			end = len(text)
		}
		add(text[:end], false)
		text = text[end:]
	}
	return out
}

// isCJK reports whether r is written without spaces between words (Han, kana, Hangul), so
// that it is indexed in single characters and pairs.
func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		unicode.Is(unicode.Hangul, r)
}

// foldTerms turns text into search terms: lower case, accents removed (é → e), split on
// anything that is not a letter or digit; runs of CJK characters become their characters and
// each pair of neighbours, since those scripts put no spaces between words.
func foldTerms(text string) []string {
	var out []string
	var word []rune
	var cjk []rune
	flushWord := func() {
		if len(word) > 0 {
			out = append(out, string(word))
			word = word[:0]
		}
	}
	flushCJK := func() {
		if len(cjk) == 1 {
			out = append(out, string(cjk))
		}
		for i := 0; i+1 < len(cjk); i++ {
			out = append(out, string(cjk[i:i+2]))
		}
		cjk = cjk[:0]
	}
	for _, r := range norm.NFKD.String(text) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// accents fall away
		case isCJK(r):
			flushWord()
			cjk = append(cjk, r)
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			flushCJK()
			if len(word) < 40 {
				word = append(word, unicode.ToLower(r))
			}
		default:
			flushWord()
			flushCJK()
		}
	}
	flushWord()
	flushCJK()
	return out
}

// foldText is the folded text of s as the index stores it: its terms in order (so phrases
// match), then the single characters of CJK runs, so that a one-character query finds them.
func foldText(s string) string {
	terms := foldTerms(s)
	var singles []string
	for _, t := range terms {
		if r := []rune(t); len(r) == 2 && isCJK(r[0]) {
			singles = append(singles, string(r[0]), string(r[1]))
		}
	}
	return strings.Join(append(terms, singles...), " ")
}

// Price bands are, per currency, the upper edges (in minor units) of bands 0..len-1; the last
// band is everything above. The edges are about 25, 50 and 100 euros in each currency.
var priceBandEdges = map[string][]int64{
	"EUR": {2500, 5000, 10000}, "USD": {2500, 5000, 10000}, "GBP": {2000, 4000, 8000},
	"CHF": {2500, 5000, 10000}, "CAD": {3500, 7000, 14000}, "AUD": {4000, 8000, 16000},
	"CNY": {20000, 40000, 80000}, "JPY": {4000, 8000, 16000}, "KRW": {35000, 70000, 140000},
	"MXN": {50000, 100000, 200000}, "TWD": {80000, 160000, 320000},
}

func bandEdges(cur string) []int64 {
	if e, ok := priceBandEdges[cur]; ok {
		return e
	}
	return priceBandEdges["EUR"]
}

// PriceBand is the band of m among its currency's edges.
func PriceBand(m money.Money) int {
	edges := bandEdges(m.Currency)
	for i, e := range edges {
		if m.Amount < e {
			return i
		}
	}
	return len(edges)
}

// BandLabel describes band b of currency cur for people reading lang ("Under €25.00").
func BandLabel(b int, cur string, p interface{ T(string, ...any) string }, format func(money.Money) string) string {
	edges := bandEdges(cur)
	switch {
	case b <= 0:
		return p.T("Under %s", format(money.New(edges[0], cur)))
	case b >= len(edges):
		return p.T("%s and more", format(money.New(edges[len(edges)-1], cur)))
	default:
		return format(money.New(edges[b-1], cur)) + " – " + format(money.New(edges[b], cur))
	}
}

// groupCache holds the sale groups and, per country, which are allowed today.
type groupCache struct {
	mu      sync.Mutex
	list    []saleGroup
	ids     map[saleGroup]int32
	loaded  time.Time
	allowed map[string]allowedGroups // by country
}

type saleGroup struct {
	ID         int32
	SellerID   int64
	LicenseeID int64
	Property   string
	Category   string
}

type allowedGroups struct {
	ids  []int32
	hash uint64
	at   time.Time
	day  string
}

// allowedGroups returns the sale groups a fan in country may buy from today, with a hash of
// the set for cache keys. Coverage is asked once per group; the answer is kept a second.
func (s *Store) allowedGroups(ctx context.Context, country string) (allowedGroups, error) {
	now := s.now()
	day := now.UTC().Format(time.DateOnly)
	s.groups.mu.Lock()
	if a, ok := s.groups.allowed[country]; ok && s.ttl > 0 && time.Since(a.at) < min(time.Second, s.ttl) && a.day == day {
		s.groups.mu.Unlock()
		return a, nil
	}
	stale := time.Since(s.groups.loaded) > 5*time.Second
	s.groups.mu.Unlock()
	if stale {
		if err := s.loadGroups(ctx); err != nil {
			return allowedGroups{}, err
		}
	}
	s.groups.mu.Lock()
	list := s.groups.list
	s.groups.mu.Unlock()
	a := allowedGroups{at: time.Now(), day: day}
	h := fnv.New64a()
	for _, g := range list {
		ans, err := s.reg.Coverage(ctx, licensing.CoverageQuery{SellerID: g.SellerID, LicenseeID: g.LicenseeID,
			Property: g.Property, Category: g.Category, Country: country, On: now})
		if err != nil {
			if fault.Is(err, fault.Invalid) {
				continue // a property or category the registry does not know: never allowed
			}
			return allowedGroups{}, err
		}
		if ans.Allowed {
			a.ids = append(a.ids, g.ID)
			fmt.Fprintf(h, "%d,", g.ID)
		}
	}
	a.hash = h.Sum64()
	s.groups.mu.Lock()
	if s.groups.allowed == nil {
		s.groups.allowed = map[string]allowedGroups{}
	}
	s.groups.allowed[country] = a
	s.groups.mu.Unlock()
	return a, nil
}

// loadGroups reads every sale group.
func (s *Store) loadGroups(ctx context.Context) error {
	rows, err := s.db.Query(ctx, `SELECT id, seller_id, licensee_id, property, category FROM search_groups ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var list []saleGroup
	ids := map[saleGroup]int32{}
	for rows.Next() {
		var g saleGroup
		if err := rows.Scan(&g.ID, &g.SellerID, &g.LicenseeID, &g.Property, &g.Category); err != nil {
			return err
		}
		list = append(list, g)
		ids[saleGroup{SellerID: g.SellerID, LicenseeID: g.LicenseeID, Property: g.Property, Category: g.Category}] = g.ID
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.groups.mu.Lock()
	s.groups.list, s.groups.ids, s.groups.loaded = list, ids, time.Now()
	clear(s.groups.allowed)
	s.groups.mu.Unlock()
	return nil
}

// groupID returns the id of a sale group, creating it on first use.
func (s *Store) groupID(ctx context.Context, g saleGroup) (int32, error) {
	s.groups.mu.Lock()
	id, ok := s.groups.ids[g]
	s.groups.mu.Unlock()
	if ok {
		return id, nil
	}
	err := s.db.QueryRow(ctx, `WITH ins AS (INSERT INTO search_groups (seller_id, licensee_id, property, category)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING id)
		SELECT id FROM ins UNION ALL SELECT id FROM search_groups WHERE seller_id = $1 AND licensee_id = $2 AND property = $3 AND category = $4
		LIMIT 1`, g.SellerID, g.LicenseeID, g.Property, g.Category).Scan(&id)
	if err != nil {
		return 0, err
	}
	s.groups.mu.Lock()
	if s.groups.ids == nil {
		s.groups.ids = map[saleGroup]int32{}
	}
	s.groups.ids[g] = id
	g.ID = id
	s.groups.list = append(s.groups.list, g)
	clear(s.groups.allowed)
	s.groups.mu.Unlock()
	return id, nil
}

// Search answers a checked query for the fan's country: only documents of sale groups that
// may sell there today, shipping there.
func (s *Store) Search(ctx context.Context, q SearchQuery) (_ SearchResult, err error) {
	defer fault.Annotate(&err, "storefront.Search()")
	if q.Nothing() {
		return SearchResult{Engine: s.engine.Name()}, nil
	}
	allowed, err := s.allowedGroups(ctx, q.Country)
	if err != nil {
		return SearchResult{}, err
	}
	key := q.key() + "|" + strconv.FormatUint(allowed.hash, 16)
	r, fresh, found := s.cache.search(key)
	if fresh {
		return r, nil
	}
	if len(allowed.ids) == 0 {
		return SearchResult{Engine: s.engine.Name()}, nil
	}
	if found {
		// Serve the answer a moment old while one refresh runs, so no fan waits for it.
		s.refreshBehind(ctx, "search|"+key, func(ctx context.Context) (any, error) { return s.searchEngine(ctx, q, allowed.ids, key) })
		return r, nil
	}
	// Fans asking the same thing at once share one query.
	v, err := s.flight.do(ctx, "search|"+key, func(ctx context.Context) (any, error) { return s.searchEngine(ctx, q, allowed.ids, key) })
	if err != nil {
		return SearchResult{}, err
	}
	return v.(SearchResult), nil
}

// searchEngine asks the engine and keeps the answer.
func (s *Store) searchEngine(ctx context.Context, q SearchQuery, groups []int32, key string) (SearchResult, error) {
	epoch := s.cache.searchEpoch()
	start := time.Now()
	r, err := s.engine.Search(ctx, q, groups)
	if err != nil {
		return SearchResult{}, err
	}
	r.Engine = s.engine.Name()
	r.Took = time.Since(start)
	s.cache.putSearch(epoch, key, r)
	return r, nil
}
