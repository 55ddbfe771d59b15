package storefront

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meilisearch/meilisearch-go"

	"marketplace/internal/money"
	"marketplace/licensing"
)

// MeiliEngine searches a Meilisearch index (MEILISEARCH_URL). Meilisearch does its own typo
// tolerance, phrase matching and facet counts; the storefront still decides which sale groups
// a fan may buy from, and passes them as a filter. Documents carry, per market currency, the
// price shown (price_EUR, …) and its band (band_EUR, …), so sorting and the price facet need
// no arithmetic at query time.
type MeiliEngine struct {
	client meilisearch.ServiceManager
	index  string

	settingsMu sync.Mutex
	settingsOK bool
}

// NewMeiliEngine returns the engine on the server at url (with key, which may be empty) and
// the index uid (default "storefront").
func NewMeiliEngine(url, key, index string) *MeiliEngine {
	if index == "" {
		index = "storefront"
	}
	opts := []meilisearch.Option{meilisearch.WithCustomClient(&http.Client{Timeout: 10 * time.Second})}
	if key != "" {
		opts = append(opts, meilisearch.WithAPIKey(key))
	}
	return &MeiliEngine{client: meilisearch.New(url, opts...), index: index}
}

// Name is "meilisearch".
func (e *MeiliEngine) Name() string { return "meilisearch" }

// meiliPriceField and meiliBandField are the per-currency fields of a document.
func meiliPriceField(cur string) string { return "price_" + cur }
func meiliBandField(cur string) string  { return "band_" + cur }

// ensureSettings tells the index which fields are searched, filtered and sorted, once per
// process (again after a failure).
func (e *MeiliEngine) ensureSettings(ctx context.Context) error {
	e.settingsMu.Lock()
	defer e.settingsMu.Unlock()
	if e.settingsOK {
		return nil
	}
	filterable := []string{"group_id", "territories", "property", "category", "licensee_id"}
	sortable := []string{"created_at"}
	for _, cur := range Currencies {
		filterable = append(filterable, meiliBandField(cur))
		sortable = append(sortable, meiliPriceField(cur))
	}
	_, err := e.client.Index(e.index).UpdateSettings(ctx, &meilisearch.Settings{
		SearchableAttributes: []string{"title", "titles", "skus", "gtins", "property", "category_words", "licensee_name", "seller_name", "summary"},
		FilterableAttributes: filterable,
		SortableAttributes:   sortable,
		Pagination:           &meilisearch.Pagination{MaxTotalHits: 10000},
		Faceting:             &meilisearch.Faceting{MaxValuesPerFacet: 200},
	})
	if err != nil {
		return fmt.Errorf("meilisearch settings: %w", err)
	}
	e.settingsOK = true
	return nil
}

// meiliDoc is a Document as the index stores it.
func meiliDoc(d Document) map[string]any {
	m := map[string]any{
		"id": d.ListingID, "slug": d.Slug, "title": d.Title, "titles": d.Titles, "summary": d.Summary,
		"property": d.Property, "category": d.Category, "category_words": strings.Join(categoryWords(d.Category), " "),
		"licensee_id": d.LicenseeID, "licensee": strconv.FormatInt(d.LicenseeID, 10) + ":" + d.LicenseeName,
		"licensee_name": d.LicenseeName, "seller_name": d.SellerName, "official": d.Official, "group_id": d.GroupID,
		"territories": d.Territories, "skus": d.SKUs, "gtins": d.GTINs, "prices": d.Prices, "image_id": d.ImageID,
		"stock": d.Stock, "created_at": d.CreatedAt.Unix(),
	}
	for cur, p := range d.Prices {
		m[meiliPriceField(cur)] = p.Amount
	}
	for cur, b := range d.Bands {
		m[meiliBandField(cur)] = b
	}
	return m
}

// Apply adds (or replaces) docs and deletes gone. Meilisearch queues both as tasks it keeps
// on disk; the follower saves its place only after both were accepted.
func (e *MeiliEngine) Apply(ctx context.Context, docs []Document, gone []int64) error {
	if err := e.ensureSettings(ctx); err != nil {
		return err
	}
	idx := e.client.Index(e.index)
	if len(docs) > 0 {
		list := make([]map[string]any, len(docs))
		for i, d := range docs {
			list[i] = meiliDoc(d)
		}
		pk := "id"
		if _, err := idx.AddDocuments(ctx, &list, &meilisearch.DocumentOptions{PrimaryKey: &pk}); err != nil {
			return fmt.Errorf("meilisearch add documents: %w", err)
		}
	}
	if len(gone) > 0 {
		ids := make([]string, len(gone))
		for i, id := range gone {
			ids[i] = strconv.FormatInt(id, 10)
		}
		if _, err := idx.DeleteDocuments(ctx, ids, nil); err != nil {
			return fmt.Errorf("meilisearch delete documents: %w", err)
		}
	}
	return nil
}

// Reset deletes every document of the index.
func (e *MeiliEngine) Reset(ctx context.Context) error {
	if err := e.ensureSettings(ctx); err != nil {
		return err
	}
	if _, err := e.client.Index(e.index).DeleteAllDocuments(ctx, nil); err != nil {
		return fmt.Errorf("meilisearch delete all documents: %w", err)
	}
	return nil
}

// meiliFilter writes the query's conditions in Meilisearch's filter syntax. Every value is a
// number or a code the storefront checked (property, category, country, currency), and is
// quoted besides.
func meiliFilter(q SearchQuery, groups []int32) string {
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = strconv.Itoa(int(g))
	}
	parts := []string{
		"group_id IN [" + strings.Join(ids, ", ") + "]",
		"territories IN [" + strconv.Quote(q.Country) + ", " + strconv.Quote(licensing.World) + "]",
	}
	if q.Property != "" {
		parts = append(parts, "property = "+strconv.Quote(q.Property))
	}
	if q.Category != "" {
		parts = append(parts, "category = "+strconv.Quote(q.Category))
	}
	if q.LicenseeID != 0 {
		parts = append(parts, "licensee_id = "+strconv.FormatInt(q.LicenseeID, 10))
	}
	if q.Band >= 0 {
		parts = append(parts, meiliBandField(q.Currency)+" = "+strconv.Itoa(q.Band))
	}
	return strings.Join(parts, " AND ")
}

// meiliHit is the part of a stored document a result needs.
type meiliHit struct {
	ID           int64                  `json:"id"`
	Slug         string                 `json:"slug"`
	Title        string                 `json:"title"`
	Titles       map[string]string      `json:"titles"`
	Property     string                 `json:"property"`
	Category     string                 `json:"category"`
	LicenseeName string                 `json:"licensee_name"`
	Official     bool                   `json:"official"`
	Prices       map[string]money.Money `json:"prices"`
	ImageID      int64                  `json:"image_id"`
	Stock        int                    `json:"stock"`
}

// Search runs q on the index among the documents of groups.
func (e *MeiliEngine) Search(ctx context.Context, q SearchQuery, groups []int32) (SearchResult, error) {
	per := int64(q.PerPage)
	req := &meilisearch.SearchRequest{
		Filter:      meiliFilter(q, groups),
		Facets:      []string{"property", "category", "licensee", meiliBandField(q.Currency)},
		HitsPerPage: &per,
		Page:        int64(q.Page),
		AttributesToRetrieve: []string{"id", "slug", "title", "titles", "property", "category", "licensee_name", "official",
			"prices", "image_id", "stock"},
	}
	switch q.Sort {
	case SortPriceAsc:
		req.Sort = []string{meiliPriceField(q.Currency) + ":asc"}
	case SortPriceDesc:
		req.Sort = []string{meiliPriceField(q.Currency) + ":desc"}
	case SortNewest:
		req.Sort = []string{"created_at:desc"}
	}
	resp, err := e.client.Index(e.index).Search(ctx, q.Text, req)
	if err != nil {
		return SearchResult{}, fmt.Errorf("meilisearch search: %w", err)
	}
	var res SearchResult
	res.Total = int(resp.TotalHits)
	var hits []meiliHit
	if err := resp.Hits.DecodeInto(&hits); err != nil {
		return SearchResult{}, fmt.Errorf("meilisearch hits: %w", err)
	}
	for _, h := range hits {
		price := h.Prices[q.Currency]
		res.Hits = append(res.Hits, Hit{ListingID: h.ID, Slug: h.Slug, Title: h.Title, Titles: h.Titles, Property: h.Property,
			Category: h.Category, LicenseeName: h.LicenseeName, Official: h.Official, Price: price, ImageID: h.ImageID, Stock: h.Stock})
	}
	var dist map[string]map[string]int
	if len(resp.FacetDistribution) > 0 {
		if err := json.Unmarshal(resp.FacetDistribution, &dist); err != nil {
			return SearchResult{}, fmt.Errorf("meilisearch facets: %w", err)
		}
	}
	for v, n := range dist["property"] {
		res.Facets.Property = append(res.Facets.Property, FacetCount{Value: v, Label: v, Count: n})
	}
	for v, n := range dist["category"] {
		res.Facets.Category = append(res.Facets.Category, FacetCount{Value: v, Label: v, Count: n})
	}
	for v, n := range dist["licensee"] {
		id, name, _ := strings.Cut(v, ":")
		if id != "0" {
			res.Facets.Licensee = append(res.Facets.Licensee, FacetCount{Value: id, Label: name, Count: n})
		}
	}
	for v, n := range dist[meiliBandField(q.Currency)] {
		res.Facets.Band = append(res.Facets.Band, FacetCount{Value: v, Count: n})
	}
	sortFacets(&res.Facets)
	return res, nil
}
