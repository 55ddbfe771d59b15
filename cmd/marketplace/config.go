package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"marketplace/internal/web"
)

// Config is everything the program reads from its environment, with the defaults that make
// `make run` work on one machine. README.md lists each variable.
type Config struct {
	DatabaseURL         string        // DATABASE_URL; empty: a private cluster under DataDir/pg
	DataDir             string        // DATA_DIR
	HTTPAddr            string        // HTTP_ADDR
	BaseURL             string        // BASE_URL: how people reach us (links in e-mails, Stripe return URLs)
	SecureCookies       bool          // SECURE_COOKIES: behind HTTPS
	TrustedProxies      []*net.IPNet  // TRUSTED_PROXIES: peers whose X-Forwarded-For is believed; none by default
	DBMaxConns          int32         // DB_MAX_CONNS
	Workers             int           // WORKERS: in-process job workers in serve; 0 leaves jobs to `worker` processes
	StripeSecretKey     string        // STRIPE_SECRET_KEY
	StripeWebhookSecret string        // STRIPE_WEBHOOK_SECRET
	StripeAPIURL        string        // STRIPE_API_URL: a stripe-mock, for tests
	Payments            string        // PAYMENTS: "stripe" (the default: serve needs both Stripe keys) or "test" (the labelled test-payment page)
	MeilisearchURL      string        // MEILISEARCH_URL; empty: PostgreSQL search
	MeilisearchKey      string        // MEILISEARCH_KEY
	BlobURL             string        // BLOB_URL: where images live (file:// or s3://)
	LogLevel            string        // LOG_LEVEL: debug, info, warn, error
	LogFormat           string        // LOG_FORMAT: text or json
	ShutdownTimeout     time.Duration // SHUTDOWN_TIMEOUT
	JobTimeout          time.Duration // JOB_TIMEOUT: a job whose kind sets no timeout of its own
	RescueStuckJobs     time.Duration // RESCUE_STUCK_JOBS_AFTER: a job running this long belongs to a dead process
	MetricsAddr         string        // METRICS_ADDR: a second listener for /metrics; empty: admins only, on HTTP_ADDR
	StorefrontCacheTTL  time.Duration // STOREFRONT_CACHE_TTL: search answers and pages reused (0: the store's default, negative: off)
	CheckoutHold        time.Duration // CHECKOUT_HOLD: how long an unpaid order holds its items (0: the checkout's default)
}

// ConfigFromEnv reads the environment, filling in defaults.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:         getenv("DATABASE_URL"),
		DataDir:             or(getenv("DATA_DIR"), ".data"),
		HTTPAddr:            or(getenv("HTTP_ADDR"), "localhost:8080"),
		BaseURL:             getenv("BASE_URL"),
		StripeSecretKey:     getenv("STRIPE_SECRET_KEY"),
		StripeWebhookSecret: getenv("STRIPE_WEBHOOK_SECRET"),
		StripeAPIURL:        getenv("STRIPE_API_URL"),
		Payments:            or(getenv("PAYMENTS"), PaymentsStripe),
		MeilisearchURL:      getenv("MEILISEARCH_URL"),
		MeilisearchKey:      getenv("MEILISEARCH_KEY"),
		BlobURL:             getenv("BLOB_URL"),
		LogLevel:            or(getenv("LOG_LEVEL"), "info"),
		LogFormat:           or(getenv("LOG_FORMAT"), "text"),
		MetricsAddr:         getenv("METRICS_ADDR"),
		// A screening takes milliseconds; River's own default (an hour) left a crashed
		// process's listings pending that long. River rescues a job once both this and the
		// job's own timeout have passed since it started; its rescuer looks every 30 s, and a
		// new leader takes over within ~15 s of the old one's death, so 25 s here puts a
		// stuck screening (which runs under JOB_TIMEOUT) back to work within a minute of a
		// restart. Jobs with longer timeouts of their own (rescreening a whole seller) are left
		// alone until theirs has passed, so none is run twice while it is still working.
		JobTimeout:      20 * time.Second,
		RescueStuckJobs: 25 * time.Second,
	}
	if c.Payments != PaymentsStripe && c.Payments != PaymentsTest {
		return c, fmt.Errorf("PAYMENTS=%q: want %s or %s", c.Payments, PaymentsStripe, PaymentsTest)
	}
	var err error
	if c.SecureCookies, err = boolEnv(getenv, "SECURE_COOKIES", false); err != nil {
		return c, err
	}
	if c.TrustedProxies, err = web.ParseTrustedProxies(getenv("TRUSTED_PROXIES")); err != nil {
		return c, err
	}
	maxConns, err := intEnv(getenv, "DB_MAX_CONNS", 20)
	if err != nil {
		return c, err
	}
	c.DBMaxConns = int32(maxConns)
	if c.Workers, err = intEnv(getenv, "WORKERS", 4); err != nil {
		return c, err
	}
	timeout, err := intEnv(getenv, "SHUTDOWN_TIMEOUT_SECONDS", 20)
	if err != nil {
		return c, err
	}
	c.ShutdownTimeout = time.Duration(timeout) * time.Second
	if v := getenv("STOREFRONT_CACHE_TTL"); v != "" {
		if c.StorefrontCacheTTL, err = time.ParseDuration(v); err != nil {
			return c, fmt.Errorf("STOREFRONT_CACHE_TTL must be a duration like 5s or -1s (off): %w", err)
		}
	}
	for name, d := range map[string]*time.Duration{"JOB_TIMEOUT": &c.JobTimeout, "RESCUE_STUCK_JOBS_AFTER": &c.RescueStuckJobs,
		"CHECKOUT_HOLD": &c.CheckoutHold} {
		if v := getenv(name); v != "" {
			if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
				return c, fmt.Errorf("%s=%q: want a positive duration like 20s", name, v)
			}
		}
	}
	if c.RescueStuckJobs < c.JobTimeout {
		return c, fmt.Errorf("RESCUE_STUCK_JOBS_AFTER=%s must be at least JOB_TIMEOUT=%s (a job still within its time would be run twice)", c.RescueStuckJobs, c.JobTimeout)
	}
	if c.BlobURL == "" {
		abs, err := filepath.Abs(filepath.Join(c.DataDir, "blobs"))
		if err != nil {
			return c, err
		}
		c.BlobURL = "file://" + abs
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.HTTPAddr
	}
	return c, nil
}

// The values of PAYMENTS.
const (
	PaymentsStripe = "stripe" // orders are paid through Stripe Checkout
	PaymentsTest   = "test"   // orders are paid on the labelled test-payment page; every page says so
)

// TestPayments reports whether orders are paid on the test-payment page.
func (c Config) TestPayments() bool { return c.Payments == PaymentsTest }

// checkPayments fails closed: a server that takes orders needs Stripe's secret key and the
// webhook secret, unless test payments were asked for by name. Without this, a missing key
// would silently mount the test-payment page, where anyone completes an order unpaid.
func (c Config) checkPayments() error {
	if c.TestPayments() {
		return nil
	}
	var missing []string
	if c.StripeSecretKey == "" {
		missing = append(missing, "STRIPE_SECRET_KEY")
	}
	if c.StripeWebhookSecret == "" {
		missing = append(missing, "STRIPE_WEBHOOK_SECRET")
	}
	if len(missing) > 0 {
		return fmt.Errorf("payments: %s not set: serve takes payments only through Stripe with both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, "+
			"or set PAYMENTS=test for the labelled test-payment page (no money moves)", strings.Join(missing, " and "))
	}
	return nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func intEnv(getenv func(string) string, name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a whole number ≥ 0", name, v)
	}
	return n, nil
}

func boolEnv(getenv func(string) string, name string, def bool) (bool, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b, nil
}
