package detection

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"marketplace/catalog"
	"marketplace/detection/imagematch"
	"marketplace/internal/fault"
	"marketplace/internal/postgres"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Schema is the detection slice's tables (fingerprints, references, screenings, rule
// configuration); it needs the catalogue's schemas first.
var Schema = func() postgres.Schema {
	sub, _ := fs.Sub(migrations, "migrations")
	return postgres.Schema{Name: "detection", FS: sub}
}()

// Schemas is this slice's schema after the ones it depends on.
func Schemas() []postgres.Schema {
	return append(catalog.Schemas(), Schema)
}

// ImageSource gives the stored bytes of a catalogue image. (*catalog.Service).ImageBytes
// is one; NewService uses it when the catalogue has it, and WithImageSource overrides it.
type ImageSource interface {
	ImageBytes(ctx context.Context, id int64) ([]byte, string, error)
}

// CaseOpener puts a held or blocked listing in the analysts' queue, inside the transaction
// that records its screening and sets its status. detection/review implements it and
// registers itself with SetCaseOpener.
type CaseOpener interface {
	OpenCase(ctx context.Context, tx pgx.Tx, in CaseInput) error
}

// CaseInput is what a screening tells the analysts' queue about a listing it held or blocked.
type CaseInput struct {
	ListingID   int64
	ScreeningID int64
	Score       int
	Verdict     string // "review" or "block"
	Reason      string // the heaviest rule's explanation
}

// Service is the screening pipeline: it fingerprints catalogue images once, keeps the
// reference pictures (official product images, known counterfeits, pictures of removed
// listings) in an in-memory Matcher that every process keeps current, screens listings in
// River jobs and sets their status through the catalogue.
type Service struct {
	db      *pgxpool.Pool
	catalog *catalog.Service
	images  ImageSource
	rules   RulesSource
	hasher  *imagematch.Hasher
	// photoHasher fingerprints the photos anyone may send to CheckPhoto, with a lower pixel
	// limit (PhotoCheckMaxPixels) than the sellers' listings have.
	photoHasher *imagematch.Hasher
	jobs        *river.Client[pgx.Tx] // the process's client (WithJobs), or an insert-only one
	log         *slog.Logger
	now         func() time.Time
	poll        time.Duration
	match       imagematch.MatchConfig

	caseMu sync.RWMutex
	cases  CaseOpener

	refs *refSet

	// The refresher (Start/Close), as in licensing's coverage snapshot.
	running   atomic.Bool
	checkedAt atomic.Int64
	follower  *postgres.Follower // made by Start; nil before
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithPollInterval sets how often the reference set checks the version counter when no
// NOTIFY arrives (the safety net for a lost listening connection). Default 2 s.
func WithPollInterval(d time.Duration) Option { return func(s *Service) { s.poll = d } }

// WithJobs sets the River client that jobs are inserted through (the process's one client);
// without it the pipeline makes an insert-only client of its own.
func WithJobs(jobs *river.Client[pgx.Tx]) Option { return func(s *Service) { s.jobs = jobs } }

// WithImageSource sets where image bytes come from (by default the catalogue).
func WithImageSource(src ImageSource) Option { return func(s *Service) { s.images = src } }

// WithMatchConfig replaces DefaultMatchConfig.
func WithMatchConfig(c imagematch.MatchConfig) Option { return func(s *Service) { s.match = c } }

// NewService returns the pipeline over db and the catalogue. Call Start before screening
// so that the references are loaded; RegisterJobs adds its workers.
func NewService(db *pgxpool.Pool, cat *catalog.Service, opts ...Option) (*Service, error) {
	s := &Service{db: db, catalog: cat, log: slog.Default(), now: time.Now, poll: 2 * time.Second, match: imagematch.DefaultMatchConfig()}
	if src, ok := any(cat).(ImageSource); ok {
		s.images = src
	}
	for _, o := range opts {
		o(s)
	}
	if s.rules == nil {
		d := &defaultRules{reg: cat.Licensing()}
		s.rules = d.current
	}
	var err error
	if s.hasher, err = imagematch.NewHasher(imagematch.DefaultHashConfig()); err != nil {
		return nil, err
	}
	photoCfg := imagematch.DefaultHashConfig()
	photoCfg.MaxPixels = PhotoCheckMaxPixels
	if s.photoHasher, err = imagematch.NewHasher(photoCfg); err != nil {
		return nil, err
	}
	if s.refs, err = newRefSet(s.match); err != nil {
		return nil, err
	}
	if s.jobs == nil {
		if s.jobs, err = postgres.InsertOnlyJobs(db, s.log); err != nil {
			return nil, err
		}
	}
	// A licence or an authorisation that changes re-screens the listings it may judge
	// differently.
	cat.Licensing().OnLicenceChange(s.onLicenceChange)
	cat.Licensing().OnResellerChange(s.onResellerChange)
	return s, nil
}

// SetCaseOpener sets who opens cases for held and blocked listings: review.NewService registers
// itself here, the way this pipeline registers with licensing's changes. Without one, such
// listings are still held or blocked, and the analysts find them by status.
func (s *Service) SetCaseOpener(c CaseOpener) {
	s.caseMu.Lock()
	defer s.caseMu.Unlock()
	s.cases = c
}

func (s *Service) caseOpener() CaseOpener {
	s.caseMu.RLock()
	defer s.caseMu.RUnlock()
	return s.cases
}

// Start loads every reference into the in-memory matcher and keeps it current until ctx
// ends or Close: a follower listens for the NOTIFY each reference change sends and polls
// the version counter every poll interval in case a notification is lost
// (postgres.Follower). Returns the error of the first load.
func (s *Service) Start(ctx context.Context) (err error) {
	defer fault.Annotate(&err, "detection.Start()")
	if s.running.Load() {
		return errors.New("detection: already started")
	}
	if err := s.refresh(ctx); err != nil {
		return err
	}
	s.running.Store(true)
	s.follower = &postgres.Follower{
		Pool:    s.db,
		Channel: refsNotifyChannel,
		Poll:    s.poll,
		Handle:  func(ctx context.Context, _ *pgconn.Notification) { s.refreshLogged(ctx) },
		Name:    "detection: references",
		Log:     s.log,
	}
	// The refresher outlives ctx's cancellation (only Close stops it) but keeps its values.
	s.follower.Start(context.WithoutCancel(ctx))
	return nil
}

// Close stops the refresher. Screening still works afterwards: each screening checks the
// version counter and catches up first.
func (s *Service) Close() {
	if s.follower == nil {
		return
	}
	s.running.Store(false)
	s.follower.Close()
	s.follower = nil
}
