// Package storefront is what a fan sees: the home page, browsing and search, product pages with
// their licence proof, and the photo check on /verify, in the fan's language, currency and
// country (internal/web's Market).
//
// A fan only ever sees and can buy a listing that is live, whose territories include the fan's
// country, and whose seller holds (or resells under) a licence that covers the property, the
// category and the country today. Offer answers that question for one listing from the
// catalogue itself; search answers it for many from the storefront's own search documents,
// which a follower keeps current from the catalogue's catalog_changes outbox. Licences are not
// copied into the documents: each document names its sale group (seller, licensee, property,
// category), and a search asks licensing's Coverage once per group for the fan's country, so a
// suspended licence hides its listings at once.
//
// Search runs on PostgreSQL full text with pg_trgm typo tolerance, or on Meilisearch when
// MEILISEARCH_URL is set; both sit behind Engine.
package storefront

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/catalog"
	"marketplace/internal/postgres"
	"marketplace/licensing"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the storefront's tables (search documents, sale groups, the follower's place).
var Schema = func() postgres.Schema {
	sub, _ := fs.Sub(migrations, "migrations")
	return postgres.Schema{Name: "storefront", FS: sub}
}()

// Schemas is this slice's schema after the ones it depends on.
func Schemas() []postgres.Schema {
	return append(catalog.Schemas(), Schema)
}

// PhotoResult is what the photo check on /verify found.
type PhotoResult struct {
	// Verdict is "official" (the photo matches an official product's picture), "counterfeit"
	// (it matches a known counterfeit) or "unknown" (nothing close enough).
	Verdict      string
	ProductTitle string
	ProductSKU   string
	LicenseeName string
	ListingSlug  string // a live listing of the product, for a link; may be empty
	Distance     int    // Hamming distance of the nearest reference, for the curious
	Detail       string // a sentence for people
}

// The verdicts of a PhotoResult.
const (
	PhotoOfficial    = "official"
	PhotoCounterfeit = "counterfeit"
	PhotoUnknown     = "unknown"
)

// PhotoChecker compares a photo a fan uploads with the official and counterfeit reference
// images. Detection implements it; cmd sets it with Store.SetPhotoChecker.
type PhotoChecker interface {
	CheckPhoto(ctx context.Context, data []byte) (PhotoResult, error)
}

// PhotoCheckerFunc adapts a function to PhotoChecker (cmd converts detection's answer with one).
type PhotoCheckerFunc func(ctx context.Context, data []byte) (PhotoResult, error)

// CheckPhoto calls f.
func (f PhotoCheckerFunc) CheckPhoto(ctx context.Context, data []byte) (PhotoResult, error) {
	return f(ctx, data)
}

// Options configure a Store; zero values take the defaults.
type Options struct {
	Logger *slog.Logger
	// Engine is the search engine; nil is PostgreSQL.
	Engine Engine
	// Now replaces time.Now, for tests of licence terms.
	Now func() time.Time
	// PollInterval is how often the follower looks at the outbox when no NOTIFY woke it.
	PollInterval time.Duration
	// CacheTTL bounds how long a search answer or a product page's listing is reused (default
	// 5 s); a change to a listing drops its product page at once. Negative disables caching.
	CacheTTL time.Duration
}

// Store is the storefront: offers, search and the follower that feeds it.
type Store struct {
	db     *pgxpool.Pool
	cat    *catalog.Service
	reg    *licensing.Service
	engine Engine
	log    *slog.Logger
	now    func() time.Time
	poll   time.Duration
	ttl    time.Duration

	photosMu sync.RWMutex
	photos   PhotoChecker

	groups   groupCache
	cache    *resultCache
	pages    *pageCache
	flight   flight
	names    nameCache
	follower *postgres.Follower // the search follower, made by Start; nil before
	syncMu   sync.Mutex
	caughtUp atomic.Bool // the index has held every committed change at least once (Ready)
}

// NewStore returns the storefront over db (the catalogue's database) and the catalogue.
func NewStore(db *pgxpool.Pool, cat *catalog.Service, opts Options) *Store {
	s := &Store{db: db, cat: cat, reg: cat.Licensing(), engine: opts.Engine, log: opts.Logger, now: opts.Now,
		poll: opts.PollInterval, ttl: opts.CacheTTL}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.poll <= 0 {
		s.poll = 2 * time.Second
	}
	if s.ttl == 0 {
		s.ttl = 5 * time.Second
	}
	if s.engine == nil {
		s.engine = NewPostgresEngine(db)
	}
	s.cache = newResultCache(s.ttl, 20000)
	s.pages = newPageCache(5000)
	s.pages.setTTL(s.ttl)
	s.names = nameCache{m: map[int64]string{}}
	return s
}

// Engine is the search engine in use.
func (s *Store) Engine() Engine { return s.engine }

// SetPhotoChecker sets the photo check behind /verify/photo (nil turns it off).
func (s *Store) SetPhotoChecker(pc PhotoChecker) {
	s.photosMu.Lock()
	defer s.photosMu.Unlock()
	s.photos = pc
}

func (s *Store) photoChecker() PhotoChecker {
	s.photosMu.RLock()
	defer s.photosMu.RUnlock()
	return s.photos
}

// Catalog is the catalogue the storefront reads.
func (s *Store) Catalog() *catalog.Service { return s.cat }

// nameCache keeps licensee names; they change rarely and are only shown.
type nameCache struct {
	mu sync.Mutex
	m  map[int64]string
}

func (s *Store) licenseeName(ctx context.Context, id int64) (string, error) {
	if id == 0 {
		return "", nil
	}
	s.names.mu.Lock()
	n, ok := s.names.m[id]
	s.names.mu.Unlock()
	if ok {
		return n, nil
	}
	l, err := s.reg.Licensee(ctx, id)
	if err != nil {
		return "", err
	}
	s.names.mu.Lock()
	s.names.m[id] = l.Name
	s.names.mu.Unlock()
	return l.Name, nil
}
