package storefront

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"marketplace/catalog"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// Why an Offer cannot be bought. An empty reason means it can.
const (
	// ReasonNotAvailable: the listing is not live (pending screening, held, blocked, removed).
	ReasonNotAvailable = "not_available"
	// ReasonNotShippedHere: the listing's territories do not include the fan's country.
	ReasonNotShippedHere = "not_shipped_here"
	// ReasonNotLicensedHere: no licence covers the property, category and country today.
	ReasonNotLicensedHere = "not_licensed_here"
)

// Offer is whether a fan in a market can buy a listing today, at what price, and under which
// licence.
type Offer struct {
	Listing catalog.Listing
	Seller  catalog.Seller
	// Buyable is true when the listing is live, ships to the fan's country and a licence
	// covers it there today. Stock is separate: a buyable offer may be sold out.
	Buyable bool
	Reason  string // one of the Reason constants when not buyable
	Detail  string // a sentence for people (in English; pages translate the reason)
	// Price is what the fan pays: in the market's currency when the listing is priced in it,
	// else in the listing's own currency (InMarketCurrency false). The storefront converts no
	// currencies.
	Price            money.Money
	InMarketCurrency bool
	InStock          bool
	// Licence is the licence the sale is made under (when buyable), or the nearest miss.
	Licence      *licensing.Licence
	LicenseeName string // the licensee whose licence covers the sale (or the product's)
	Country      string
	CheckedAt    time.Time
	// Product is the official product a licensee's own listing offers (nil otherwise); its
	// variants are what the fan chooses from, each priced like the offer.
	Product  *catalog.Product
	Variants []OfferVariant
}

// OfferVariant is one size or colour of an official product, priced for the fan's market.
type OfferVariant struct {
	ID     int64
	SKU    string
	GTIN   string
	Size   string
	Colour string
	Stock  int
	Price  money.Money
}

// Title is the offer's title in lang (the product's text in that language when it has one).
func (o Offer) Title(lang string) string {
	if o.Product != nil {
		if t := o.Product.Text(lang).Title; t != "" {
			return t
		}
	}
	return o.Listing.Title
}

// Description is the offer's description in lang.
func (o Offer) Description(lang string) string {
	if o.Product != nil {
		if t := o.Product.Text(lang); t.Title != "" {
			return t.Description
		}
	}
	return o.Listing.Description
}

// Offer answers for listing id and the fan's market, reading the catalogue afresh (checkout
// calls it before reserving stock). Returns NotFound when there is no such listing.
func (s *Store) Offer(ctx context.Context, listingID int64, m web.Market) (_ Offer, err error) {
	defer fault.Annotate(&err, "storefront.Offer(%d)", listingID)
	l, err := s.cat.Listing(ctx, listingID)
	if err != nil {
		return Offer{}, err
	}
	e, err := s.withSellerAndProduct(ctx, l)
	if err != nil {
		return Offer{}, err
	}
	return s.judge(ctx, e.listing, e.seller, e.product, m)
}

// withSellerAndProduct reads what an offer needs besides the listing.
func (s *Store) withSellerAndProduct(ctx context.Context, l catalog.Listing) (listingEntry, error) {
	seller, err := s.cat.Seller(ctx, l.SellerID)
	if err != nil {
		return listingEntry{}, err
	}
	product, err := s.productOf(ctx, l)
	if err != nil {
		return listingEntry{}, err
	}
	return listingEntry{listing: l, seller: seller, product: product}, nil
}

// productOf is the official product a licensee's own listing offers, or nil.
func (s *Store) productOf(ctx context.Context, l catalog.Listing) (*catalog.Product, error) {
	if !l.Official || l.ProductID == 0 {
		return nil, nil
	}
	p, err := s.cat.Product(ctx, l.ProductID)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// OfferBySlug answers like Offer for the listing at /products/{slug}. The listing may come
// from a cache that any change to it clears; the licence question is always asked afresh. A
// cached listing past its TTL is still used once more while one refresh reads it behind the
// request, so no fan waits for the database on a page others are viewing.
func (s *Store) OfferBySlug(ctx context.Context, slug string, m web.Market) (_ Offer, err error) {
	defer fault.Annotate(&err, "storefront.OfferBySlug(%q)", slug)
	e, fresh, found := s.cache.listing(slug)
	if found {
		if !fresh {
			s.refreshBehind(ctx, "listing|"+slug, func(ctx context.Context) (any, error) { return s.readListing(ctx, slug) })
		}
		return s.judge(ctx, e.listing, e.seller, e.product, m)
	}
	v, err := s.flight.do(ctx, "listing|"+slug, func(ctx context.Context) (any, error) { return s.readListing(ctx, slug) })
	if err != nil {
		return Offer{}, err
	}
	e = v.(listingEntry)
	return s.judge(ctx, e.listing, e.seller, e.product, m)
}

// readListing reads the listing at slug, its seller and product, and keeps them.
func (s *Store) readListing(ctx context.Context, slug string) (listingEntry, error) {
	gen := s.cache.generation()
	l, err := s.cat.ListingBySlug(ctx, slug)
	if err != nil {
		return listingEntry{}, err
	}
	e, err := s.withSellerAndProduct(ctx, l)
	if err != nil {
		return listingEntry{}, err
	}
	s.cache.putListing(gen, slug, e)
	return e, nil
}

// refreshBehind runs fetch once for key (joining a run under way) behind the request that
// asked: the caller serves what it had meanwhile.
func (s *Store) refreshBehind(ctx context.Context, key string, fetch func(context.Context) (any, error)) {
	go func() { _, _ = s.flight.do(context.WithoutCancel(ctx), key, fetch) }()
}

// marketPrice is a product's price for the market: in its currency when the product has one,
// else in the product's main currency, else the listing's own price.
func marketPrice(l catalog.Listing, p *catalog.Product, cur string) (money.Money, bool) {
	if p != nil {
		if m, ok := p.Price(cur); ok {
			return m, true
		}
		if m, ok := p.MainPrice(); ok {
			return m, m.Currency == cur
		}
	}
	return l.Price, l.Price.Currency == cur
}

func (s *Store) judge(ctx context.Context, l catalog.Listing, seller catalog.Seller, product *catalog.Product, m web.Market) (Offer, error) {
	o := Offer{Listing: l, Seller: seller, Country: m.Country, CheckedAt: s.now(), Product: product}
	o.Price, o.InMarketCurrency = marketPrice(l, product, m.Currency)
	o.InStock = l.Stock > 0
	if product != nil && len(product.Variants) > 0 {
		o.InStock = false
		for _, v := range product.Variants {
			price, ok := v.Price(m.Currency)
			if !ok {
				if price, ok = v.Price(product.Currency); !ok {
					price = o.Price
				}
			}
			o.Variants = append(o.Variants, OfferVariant{ID: v.ID, SKU: v.SKU, GTIN: v.GTIN, Size: v.Size, Colour: v.Colour,
				Stock: v.Stock, Price: price})
			o.InStock = o.InStock || v.Stock > 0
		}
	}
	licensee := l.LicenseeID
	if licensee == 0 {
		licensee = seller.LicenseeID
	}
	var err error
	if o.LicenseeName, err = s.licenseeName(ctx, licensee); err != nil && !fault.Is(err, fault.NotFound) {
		return Offer{}, err
	}
	switch {
	case l.Status != catalog.StatusLive || (product != nil && product.Status != catalog.ProductApproved):
		o.Reason, o.Detail = ReasonNotAvailable, "This listing is not for sale."
		return o, nil
	case !ships(l.Territories, m.Country):
		o.Reason, o.Detail = ReasonNotShippedHere, "The seller does not ship this item to "+licensing.CountryName(m.Country)+"."
		return o, nil
	case l.Property == "" || l.Category == "":
		o.Reason, o.Detail = ReasonNotLicensedHere, "This item names no licensed property and category."
		return o, nil
	}
	ans, err := s.reg.Coverage(ctx, licensing.CoverageQuery{SellerID: seller.ID, LicenseeID: seller.LicenseeID,
		Property: l.Property, Category: l.Category, Country: m.Country, On: o.CheckedAt})
	if fault.Is(err, fault.Invalid) {
		// A property or category the registry no longer knows cannot be licensed.
		o.Reason, o.Detail = ReasonNotLicensedHere, "No licence covers this item in "+licensing.CountryName(m.Country)+"."
		return o, nil
	}
	if err != nil {
		return Offer{}, err
	}
	o.Licence = ans.Licence
	if ans.Licence != nil {
		o.LicenseeName = ans.Licence.LicenseeName
	}
	if !ans.Allowed {
		o.Reason, o.Detail = ReasonNotLicensedHere, ans.Detail
		return o, nil
	}
	o.Buyable = true
	return o, nil
}

// ships reports whether territories include country (or the whole world).
func ships(territories []string, country string) bool {
	return slices.Contains(territories, country) || slices.Contains(territories, licensing.World)
}

// listingEntry is a cached product page's listing and seller.
type listingEntry struct {
	listing catalog.Listing
	seller  catalog.Seller
	product *catalog.Product
	at      time.Time
}

// resultCache keeps search answers and product-page listings for a short while. A product
// page's listing is dropped as soon as this process hears that the listing changed (NOTIFY
// catalog_changes, or the follower applying its change), so a price or status change shows
// at once; search answers live for the TTL, which bounds how stale a list of results can be
// (the index itself follows the catalogue a moment behind). Any miss made before a drop does
// not store its answer (the generation moved on).
type resultCache struct {
	mu       sync.Mutex
	ttl      time.Duration
	gen      uint64 // moves on with every change (product-page listings)
	epoch    uint64 // moves on when everything is dropped (search answers)
	searches *simplelru.LRU[string, searchEntry]
	listings *simplelru.LRU[string, listingEntry] // least recently used first out when full
	slugOf   map[int64]string
}

type searchEntry struct {
	res SearchResult
	at  time.Time
}

func newResultCache(ttl time.Duration, max int) *resultCache {
	c := &resultCache{ttl: ttl, slugOf: map[int64]string{}}
	c.searches, _ = simplelru.NewLRU[string, searchEntry](max, nil)
	// Called with c.mu held, when a listing is evicted or removed.
	c.listings, _ = simplelru.NewLRU(max, func(slug string, e listingEntry) {
		if c.slugOf[e.listing.ID] == slug {
			delete(c.slugOf, e.listing.ID)
		}
	})
	return c
}

func (c *resultCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// invalidate empties the cache (after a reindex).
func (c *resultCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.epoch++
	c.searches.Purge()
	c.listings.Purge()
	clear(c.slugOf)
}

func (c *resultCache) searchEpoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// changed drops what the cache holds of listing id and returns its slug when it knew it.
func (c *resultCache) changed(id int64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	slug, ok := c.slugOf[id]
	if ok {
		c.listings.Remove(slug)
		delete(c.slugOf, id)
	}
	return slug
}

// listingChanged forgets the cached listing and product pages of listing id.
func (s *Store) listingChanged(id int64) {
	if slug := s.cache.changed(id); slug != "" {
		s.pages.drop(slug)
	}
}

// listing returns the listing kept for slug: fresh when younger than productTTL, else stale
// (up to twice that), which OfferBySlug serves while it refreshes it.
func (c *resultCache) listing(slug string) (e listingEntry, fresh, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.listings.Get(slug)
	if !ok || c.ttl <= 0 {
		return listingEntry{}, false, false
	}
	age := time.Since(e.at)
	if age > 2*productTTL(c.ttl) {
		return listingEntry{}, false, false
	}
	return e, age <= productTTL(c.ttl), true
}

// putListing stores e unless a change arrived since gen was read (the entry may predate it).
func (c *resultCache) putListing(gen uint64, slug string, e listingEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || c.ttl <= 0 {
		return
	}
	e.at = time.Now()
	c.listings.Add(slug, e)
	c.slugOf[e.listing.ID] = slug
}

// search returns the answer kept for key: fresh when younger than the TTL, else stale (up to
// productTTL old: twelve TTLs, a minute by default), which Search serves while one refresh runs
// behind it. A list of results a minute old is harmless (the product page and checkout ask
// afresh), and no fan waits for the recount of a search asked at least once a minute.
func (c *resultCache) search(key string) (r SearchResult, fresh, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.searches.Get(key)
	if !ok || c.ttl <= 0 {
		return SearchResult{}, false, false
	}
	age := time.Since(e.at)
	if age > productTTL(c.ttl) {
		return SearchResult{}, false, false
	}
	return e.res, age <= c.ttl, true
}

func (c *resultCache) putSearch(epoch uint64, key string, r SearchResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch || c.ttl <= 0 {
		return
	}
	c.searches.Add(key, searchEntry{res: r, at: time.Now()})
}

// SetCacheTTL changes how long search answers and product-page listings are reused (negative:
// not at all); the benchmark measures the database path with it off.
func (s *Store) SetCacheTTL(d time.Duration) {
	s.cache.mu.Lock()
	s.cache.ttl = d
	s.cache.mu.Unlock()
	s.cache.invalidate()
	s.pages.setTTL(d)
	s.groups.mu.Lock()
	s.ttl = d
	s.groups.mu.Unlock()
}

func (s *Store) pagesTTL() time.Duration {
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	return s.ttl
}
