package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"marketplace/catalog"
	"marketplace/catalog/demo"
	"marketplace/detection"
	"marketplace/detection/review"
	"marketplace/internal/auth"
	"marketplace/internal/blob"
	"marketplace/internal/postgres"
	"marketplace/internal/web"
	"marketplace/licensing"
	"marketplace/storefront"
)

// Main is the whole program, wired: the database, every slice's service, the web server and the
// job workers. Tests start it on :0 with Run and stop it with Close, as a person would use it.
type Main struct {
	Config Config
	Log    *slog.Logger

	DB   *pgxpool.Pool
	Web  *web.Server
	Jobs *river.Client[pgx.Tx] // inserts jobs, and works them when the process runs workers

	Auth      *auth.Service
	Licensing *licensing.Service
	Catalog   *catalog.Service
	Detection *detection.Service
	Review    *review.Service
	Rules     *detection.RuleStore // the screening rules' configuration (/analyst/rules)
	Store     *storefront.Store
	Blobs     *blob.Bucket // image originals and renditions, at BLOB_URL
	Checkout  *storefront.Checkout

	// Demo is the size of the demo catalogue Seed loads (zero: demo.Small, for the tests).
	Demo demo.Options

	// Addr is where the server listens once Run has returned (useful with HTTP_ADDR=…:0).
	Addr string
	// MetricsAddr is where /metrics is served to operators once Run has returned, when
	// METRICS_ADDR is set.
	MetricsAddr string

	http        *http.Server
	metricsHTTP *http.Server
	working     bool
	workers     *river.Workers
}

// Schemas is every slice's migrations, in dependency order.
func Schemas() []postgres.Schema {
	return postgres.Schemas(licensing.Schemas(), []postgres.Schema{web.IdempotencySchema}, catalog.Schemas(), detection.Schemas(), review.Schemas(), storefront.Schemas(), storefront.CheckoutSchemas())
}

// RunOptions say which parts of the program this process runs.
type RunOptions struct {
	Migrate bool // apply pending migrations first; without it, pending migrations stop the start
	Serve   bool // the web server
	Work    bool // job workers (serve runs them in-process unless WORKERS=0)
}

// Open connects to the database (starting the private cluster when DATABASE_URL is unset) and
// builds every service. It starts nothing.
func (m *Main) Open(ctx context.Context) error {
	if m.Config.DatabaseURL == "" {
		dir := filepath.Join(m.Config.DataDir, "pg")
		url, err := postgres.EnsureCluster(ctx, dir, postgres.ClusterOptions{Log: func(f string, a ...any) { m.Log.Info(fmt.Sprintf(f, a...)) }})
		if err != nil {
			return err
		}
		m.Config.DatabaseURL = url
	}
	db, err := postgres.Open(ctx, m.Config.DatabaseURL, m.Config.DBMaxConns)
	if err != nil {
		return err
	}
	m.DB = db
	// One River client for the whole process: every service inserts its jobs through it, in
	// its own transactions, and it works them when this process runs workers (Run). Workers
	// join its bundle below, once the services they call exist.
	m.workers = river.NewWorkers()
	if m.Jobs, err = river.NewClient(riverpgxv5.New(db), m.jobsConfig()); err != nil {
		return err
	}
	m.Auth = auth.NewService(db, auth.DefaultLimits)
	m.Licensing = licensing.NewService(db, licensing.WithLogger(m.Log.With("slice", "licensing")))
	if m.Blobs, err = blob.Open(ctx, m.Config.BlobURL); err != nil {
		return err
	}
	if m.Catalog, err = catalog.NewService(db, m.Licensing, catalog.WithLogger(m.Log.With("slice", "catalog")), catalog.WithBlobs(m.Blobs),
		catalog.WithJobs(m.Jobs)); err != nil {
		return err
	}
	m.Rules = detection.NewRuleStore(db, m.Licensing, detection.WithRulesLogger(m.Log.With("slice", "detection")))
	if m.Detection, err = detection.NewService(db, m.Catalog, detection.WithLogger(m.Log.With("slice", "detection")),
		detection.WithRuleStore(m.Rules), detection.WithJobs(m.Jobs)); err != nil {
		return err
	}
	// The one cycle of the graph: the catalogue's listing API shows detection's verdicts, and
	// detection is built on the catalogue. Detection implements catalog.ScreeningSource.
	m.Catalog.SetScreeningSource(m.Detection)
	m.Store = storefront.NewStore(db, m.Catalog, m.storeOptions())
	m.Store.SetPhotoChecker(m.photoChecker())

	if m.Checkout, err = storefront.NewCheckout(db, m.Catalog, storefront.CheckoutConfig{Store: m.Store, BaseURL: m.Config.BaseURL,
		StripeSecretKey: m.stripeKey(), StripeAPIURL: m.Config.StripeAPIURL, WebhookSecret: m.Config.StripeWebhookSecret,
		HoldTTL: m.Config.CheckoutHold, Logger: m.Log.With("slice", "checkout")}); err != nil {
		return err
	}
	// A counterfeit decision flags the listing's paid orders for refund; the review registers
	// itself with the pipeline, which opens its cases.
	m.Review = review.NewService(db, m.Catalog, m.Detection, review.WithOrders(m.Checkout),
		review.WithLogger(m.Log.With("slice", "review")))
	if m.Checkout.Mode() == storefront.PaymentTest {
		m.Log.Warn("payments: PAYMENTS=test, orders are paid on the labelled test-payment page and no money moves")
	}

	m.Jobs.PeriodicJobs().AddMany(slices.Concat(
		auth.RegisterJobs(m.workers, m.Auth),
		detection.RegisterJobs(m.workers, m.Detection),
		storefront.RegisterCheckoutJobs(m.workers, m.Checkout)))
	return nil
}

// stripeKey is the key the checkout pays with: none under PAYMENTS=test, which is what makes it
// use the test-payment page.
func (m *Main) stripeKey() string {
	if m.Config.TestPayments() {
		return ""
	}
	return m.Config.StripeSecretKey
}

// Migrate applies every pending migration.
func (m *Main) Migrate(ctx context.Context) error {
	return postgres.Migrate(ctx, m.DB, Schemas())
}

// Run opens the program if needed, then starts what opts ask for and returns once it is
// serving; Close stops it.
func (m *Main) Run(ctx context.Context, opts RunOptions) error {
	if opts.Serve {
		if err := m.Config.checkPayments(); err != nil {
			return err
		}
	}
	if m.DB == nil {
		if err := m.Open(ctx); err != nil {
			return err
		}
	}
	if opts.Migrate {
		if err := m.Migrate(ctx); err != nil {
			return err
		}
	} else {
		pending, err := postgres.Pending(ctx, m.DB, Schemas())
		if err != nil {
			return err
		}
		if len(pending) > 0 {
			return fmt.Errorf("the database has unapplied migrations (%s): run `marketplace migrate` or start with --migrate", strings.Join(pending, ", "))
		}
	}
	// The coverage snapshot must be loaded before anything asks a coverage question.
	if err := m.Licensing.Start(ctx); err != nil {
		return err
	}
	// The reference pictures must be in memory before a screening or a photo check.
	if err := m.Detection.Start(ctx); err != nil {
		return err
	}
	if err := m.Rules.Start(ctx); err != nil { // other processes' rule changes, at their NOTIFY
		return err
	}
	if err := m.startJobs(ctx, opts.Work); err != nil {
		return err
	}
	if opts.Serve || opts.Work {
		if err := m.Store.Start(ctx); err != nil { // the search index follows the catalogue
			return err
		}
	}
	if opts.Serve {
		return m.serve()
	}
	return nil
}

// jobsConfig is the River client's configuration. Its queues and periodic jobs run only once
// startJobs starts the client; until then, and in a process that runs no workers, it only
// inserts.
func (m *Main) jobsConfig() *river.Config {
	return &river.Config{Logger: m.Log.With("component", "river"), Workers: m.workers,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(m.Config.Workers, 1)}},
		FetchPollInterval: 250 * time.Millisecond,
		// River fetches at most once per FetchCooldown (100 ms by default) and takes only as many
		// jobs as there are free slots, which caps a busy worker at ~10 jobs/s per slot; a
		// screening takes ~8 ms, so a shorter cooldown is what lets the workers keep up.
		FetchCooldown: 10 * time.Millisecond,
		// A job still "running" after RescueStuckJobsAfter belongs to a process that died
		// (SIGKILL, a lost machine): River's leader puts it back to work. See Config.
		JobTimeout:           m.Config.JobTimeout,
		RescueStuckJobsAfter: m.Config.RescueStuckJobs,
	}
}

// startJobs runs the workers in this process when work is asked for.
func (m *Main) startJobs(ctx context.Context, work bool) error {
	if !work {
		return nil
	}
	if err := m.Jobs.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	m.working = true
	return nil
}

func (m *Main) serve() error {
	srv, err := web.NewServer(web.Config{
		Logger:        m.Log,
		Auth:          m.Auth,
		SecureCookies: m.Config.SecureCookies,
		// Ready means the database answers and search has caught up with the catalogue (a
		// fresh seed is findable), not just that the process is up.
		Ready: func(ctx context.Context) error {
			if err := m.DB.Ping(ctx); err != nil {
				return err
			}
			return m.Store.Ready(ctx)
		},
		Markets:        storefront.Markets(),
		TestPayments:   m.Checkout.Mode() == storefront.PaymentTest,
		TrustedProxies: m.Config.TrustedProxies, // whose X-Forwarded-For names the client
	})
	if err != nil {
		return err
	}
	m.Web = srv
	srv.UseIdempotency(web.NewIdempotencyStore(m.DB))
	if err := auth.Routes(srv, m.Auth); err != nil {
		return err
	}
	if err := licensing.Routes(srv, m.Licensing); err != nil {
		return err
	}
	if err := storefront.Routes(srv, m.Store); err != nil {
		return err
	}
	if err := catalog.Routes(srv, m.Catalog); err != nil {
		return err
	}
	if err := detection.RulesRoutes(srv, m.Rules); err != nil {
		return err
	}
	if err := detection.ScreeningRoutes(srv, m.Detection); err != nil {
		return err
	}
	if err := review.Routes(srv, m.Review); err != nil {
		return err
	}
	if err := catalog.ImportRoutes(srv, m.Catalog); err != nil {
		return err
	}
	if err := storefront.CheckoutRoutes(srv, m.Checkout); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.Config.HTTPAddr)
	if err != nil {
		return err
	}
	m.Addr = ln.Addr().String()
	m.http = srv.HTTPServer(m.Addr)
	go func() {
		if err := m.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("http server stopped", "err", err)
		}
	}()
	if m.Config.MetricsAddr != "" {
		if err := m.serveMetrics(); err != nil {
			return err
		}
	}
	m.Log.Info("serving", "url", "http://"+m.Addr, "workers", m.working)
	return nil
}

// serveMetrics answers GET /metrics, and nothing else, on METRICS_ADDR: a second listener that
// operators keep private (loopback, a private network), where Prometheus scrapes without an
// account.
func (m *Main) serveMetrics() error {
	ln, err := net.Listen("tcp", m.Config.MetricsAddr)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR=%q: %w", m.Config.MetricsAddr, err)
	}
	m.MetricsAddr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Web.MetricsHandler())
	m.metricsHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.metricsHTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("metrics server stopped", "err", err)
		}
	}()
	m.Log.Info("serving metrics", "url", "http://"+m.MetricsAddr+"/metrics")
	return nil
}

// Close stops taking requests, lets those under way and running jobs finish (up to
// SHUTDOWN_TIMEOUT), and closes the database.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	var errs []error
	if m.http != nil {
		errs = append(errs, web.Shutdown(ctx, m.http))
	}
	if m.metricsHTTP != nil {
		errs = append(errs, m.metricsHTTP.Shutdown(ctx))
	}
	if m.Jobs != nil && m.working {
		errs = append(errs, m.Jobs.Stop(ctx))
	}
	if m.Detection != nil {
		m.Detection.Close()
	}
	if m.Rules != nil {
		m.Rules.Close()
	}
	if m.Store != nil {
		m.Store.Close()
	}
	if m.Licensing != nil {
		m.Licensing.Close()
	}
	if m.DB != nil {
		m.DB.Close()
	}
	if m.Blobs != nil {
		errs = append(errs, m.Blobs.Close())
	}
	return errors.Join(errs...)
}

// storeOptions picks the storefront's search engine: Meilisearch when MEILISEARCH_URL is set.
func (m *Main) storeOptions() storefront.Options {
	opts := storefront.Options{Logger: m.Log.With("slice", "storefront"), CacheTTL: m.Config.StorefrontCacheTTL}
	if m.Config.MeilisearchURL != "" {
		opts.Engine = storefront.NewMeiliEngine(m.Config.MeilisearchURL, m.Config.MeilisearchKey, "")
	}
	return opts
}
