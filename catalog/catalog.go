// Package catalog is everything that can be offered to a fan: sellers, licensees' official
// products (variants, prices per currency, texts per language, images), listings, and the
// catalogue imports that bring products in.
//
// A listing is inserted together with its screening job (ScreenListingArgs, in the same
// transaction) and stays pending until detection sets its status; only live listings are
// shown to fans. The catalogue does not import detection: detection registers the workers
// for ScreenListingArgs and ProductReferencesArgs, and calls back through this Service.
// Readers that keep their own copy of listings (the storefront's search index) follow the
// catalog_changes outbox with ConsumeChanges.
package catalog

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"marketplace/internal/blob"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
	"marketplace/licensing"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the catalogue's tables; it needs licensing's schemas first.
var Schema = func() postgres.Schema {
	sub, _ := fs.Sub(migrations, "migrations")
	return postgres.Schema{Name: "catalog", FS: sub}
}()

// Schemas is this slice's schema after the ones it depends on.
func Schemas() []postgres.Schema {
	return append(licensing.Schemas(), web.IdempotencySchema, Schema)
}

// SellerKind says why a seller may (or may not) sell official goods.
type SellerKind string

// The kinds of seller.
const (
	SellerLicensee    SellerKind = "licensee"    // a licensee selling its own products
	SellerReseller    SellerKind = "reseller"    // a seller some licensee may authorise
	SellerIndependent SellerKind = "independent" // anyone else
)

// SellerStatus is whether a seller may list.
type SellerStatus string

// The statuses of a seller.
const (
	SellerActive    SellerStatus = "active"
	SellerSuspended SellerStatus = "suspended"
)

// Seller is an account that lists items.
type Seller struct {
	ID            int64        `json:"id"`
	Kind          SellerKind   `json:"kind"`
	Name          string       `json:"name"`
	LicenseeID    int64        `json:"licensee_id,omitempty"`
	Country       string       `json:"country"`
	ShipsFrom     string       `json:"ships_from"`
	ContactEmail  string       `json:"contact_email,omitempty"`
	ContactPhone  string       `json:"contact_phone,omitempty"`
	PayoutAccount string       `json:"-"`
	Status        SellerStatus `json:"status"`
	StatusReason  string       `json:"status_reason,omitempty"`
	Strikes       int          `json:"strikes"`
	CreatedAt     time.Time    `json:"created_at"`
}

// ListingStatus is where a listing stands. Only StatusLive is shown to fans.
type ListingStatus string

// The statuses of a listing: pending until screening decides, then live, held (for an
// analyst), blocked, or removed (taken down by an analyst or with its seller).
const (
	StatusPending ListingStatus = "pending"
	StatusLive    ListingStatus = "live"
	StatusHeld    ListingStatus = "held"
	StatusBlocked ListingStatus = "blocked"
	StatusRemoved ListingStatus = "removed"
)

// Valid reports whether s is one of the statuses.
func (s ListingStatus) Valid() bool {
	switch s {
	case StatusPending, StatusLive, StatusHeld, StatusBlocked, StatusRemoved:
		return true
	}
	return false
}

// Image is a stored picture; its bytes come from ImageBytes.
type Image struct {
	ID          int64  `json:"id"`
	ContentType string `json:"content_type"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Bytes       int64  `json:"bytes"`
}

// Listing is an offer by a seller. ProductID is the product it offers (a licensee's own
// listing) or claims (another seller's, by SKU); LicenseeID is that product's licensee.
type Listing struct {
	ID           int64         `json:"id"`
	SellerID     int64         `json:"seller_id"`
	ProductID    int64         `json:"product_id,omitempty"`
	LicenseeID   int64         `json:"licensee_id,omitempty"`
	ClaimedSKU   string        `json:"claimed_sku,omitempty"`
	Official     bool          `json:"official"` // the licensee's own listing of its product
	Slug         string        `json:"slug"`
	Title        string        `json:"title"`
	Description  string        `json:"description"`
	Property     string        `json:"property,omitempty"`
	Category     string        `json:"category,omitempty"`
	Price        money.Money   `json:"price"`
	Stock        int           `json:"stock"`
	Territories  []string      `json:"territories"`
	ShipsFrom    string        `json:"ships_from"`
	Status       ListingStatus `json:"status"`
	StatusReason string        `json:"status_reason,omitempty"`
	Images       []Image       `json:"images"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

// ScreenListingArgs is the job that screens a new or changed listing. The catalogue inserts
// it in the transaction that writes the listing; detection works it and sets the status.
type ScreenListingArgs struct {
	ListingID int64 `json:"listing_id"`
}

// Kind names the job in River's table.
func (ScreenListingArgs) Kind() string { return "screen_listing" }

// ProductReferencesArgs is the job that hands an approved product's images to detection as
// official references. The catalogue inserts it whenever a product's images change.
type ProductReferencesArgs struct {
	ProductID int64 `json:"product_id"`
}

// Kind names the job in River's table.
func (ProductReferencesArgs) Kind() string { return "product_references" }

// Service is the catalogue.
type Service struct {
	db        *pgxpool.Pool
	licensing *licensing.Service
	jobs      *river.Client[pgx.Tx] // the process's client (WithJobs), or an insert-only one
	log       *slog.Logger
	now       func() time.Time
	blobs     blob.Store      // image originals and renditions (WithBlobs)
	screening ScreeningSource // set by cmd once detection exists (SetScreeningSource)
	// decodeSlots bounds how many pictures are decoded at once, so peak memory stays
	// bounded however many uploads arrive together (images.go).
	decodeSlots chan struct{}
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithBlobs sets where images are stored; PutImage and ImageBytes need it.
func WithBlobs(b blob.Store) Option { return func(s *Service) { s.blobs = b } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithJobs sets the River client that jobs are inserted through (the process's one client);
// without it the catalogue makes an insert-only client of its own.
func WithJobs(jobs *river.Client[pgx.Tx]) Option { return func(s *Service) { s.jobs = jobs } }

// NewService returns the catalogue over db, asking reg the coverage question.
func NewService(db *pgxpool.Pool, reg *licensing.Service, opts ...Option) (*Service, error) {
	s := &Service{db: db, licensing: reg, log: slog.Default(), now: time.Now, decodeSlots: make(chan struct{}, decodeSlots)}
	for _, o := range opts {
		o(s)
	}
	if s.jobs == nil {
		var err error
		if s.jobs, err = postgres.InsertOnlyJobs(db, s.log); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Licensing is the registry the catalogue asks.
func (s *Service) Licensing() *licensing.Service { return s.licensing }

// DB is the pool, for slices that write their own rows in a transaction that also calls the
// catalogue (SetListingStatus takes that transaction).
func (s *Service) DB() *pgxpool.Pool { return s.db }

// InsertScreening enqueues a screening of listing id inside tx (a re-screen after a rule or
// reference change, or after an analyst's decision about the seller).
func (s *Service) InsertScreening(ctx context.Context, tx pgx.Tx, id int64) (err error) {
	defer fault.Annotate(&err, "catalog.InsertScreening(%d)", id)
	_, err = s.jobs.InsertTx(ctx, tx, ScreenListingArgs{ListingID: id}, nil)
	return err
}

// Screening is detection's verdict on a listing, as the listing API shows it.
type Screening struct {
	Score   int               `json:"score"`
	Verdict string            `json:"verdict"`
	Reasons []ScreeningReason `json:"reasons"`
	Matches []ScreeningMatch  `json:"matches"`
}

// ScreeningReason is one rule that added to a screening's score.
type ScreeningReason struct {
	Rule   string `json:"rule"`
	Weight int    `json:"weight"`
	Detail string `json:"detail"`
}

// ScreeningMatch is a reference picture one of the listing's photos resembles.
type ScreeningMatch struct {
	ImageID  int64  `json:"image_id"`
	Kind     string `json:"kind"` // official or counterfeit
	Distance int    `json:"distance"`
}

// ScreeningSource answers what screening decided about a listing: nil (and no error) while it
// has not been screened. Detection implements it; cmd wires it with SetScreeningSource, so the
// catalogue shows screenings without importing detection.
type ScreeningSource interface {
	Screening(ctx context.Context, listingID int64) (*Screening, error)
}

// SetScreeningSource sets where listing screenings come from. Call it before serving.
func (s *Service) SetScreeningSource(src ScreeningSource) { s.screening = src }

// Screening returns the latest screening of listing id, or nil when there is none yet (or no
// source is set).
func (s *Service) Screening(ctx context.Context, id int64) (_ *Screening, err error) {
	defer fault.Annotate(&err, "catalog.Screening(%d)", id)
	if s.screening == nil {
		return nil, nil
	}
	return s.screening.Screening(ctx, id)
}
