// Package pgtest gives each test a fresh PostgreSQL database cloned from a migrated template,
// so tests run in parallel without seeing each other's rows.
//
// The server is the one DATABASE_URL names (make test starts a throwaway cluster and sets it).
// Without DATABASE_URL, pgtest starts a private cluster in the temp dir and keeps it running
// for the next run. With PGTEST_REQUIRED=1 (CI), a database that cannot be had fails the test
// instead of skipping it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/postgres"
)

var (
	serverOnce sync.Once
	serverURL  string
	serverErr  error

	templatesMu sync.Mutex
	templates   = map[string]error{} // template name -> outcome of creating it
)

// New returns a pool on a fresh database migrated with schemas, dropped when the test ends.
func New(t testing.TB, schemas ...postgres.Schema) *pgxpool.Pool {
	t.Helper()
	dbURL := NewURL(t, schemas...)
	pool, err := postgres.Open(context.Background(), dbURL, 8)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close) // registered after NewURL's drop, so it runs first
	return pool
}

// NewURL creates a fresh migrated database like New, and returns its URL instead of a pool, for
// tests that start the whole program.
func NewURL(t testing.TB, schemas ...postgres.Schema) string {
	t.Helper()
	admin := adminURL(t)
	ctx := context.Background()
	tmpl, err := template(ctx, admin, schemas)
	if err != nil {
		t.Fatalf("pgtest: template: %v", err)
	}
	name := "t_" + randomHex(8)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(admin, name)
}

func adminURL(t testing.TB) string {
	t.Helper()
	serverOnce.Do(func() {
		if u := os.Getenv("DATABASE_URL"); u != "" {
			serverURL = u
			return
		}
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("marketplace-pgtest-%d", os.Getuid()))
		serverURL, serverErr = postgres.EnsureCluster(context.Background(), dir, postgres.ClusterOptions{Fast: true})
	})
	if serverErr != nil {
		if os.Getenv("PGTEST_REQUIRED") == "1" {
			t.Fatalf("pgtest: PostgreSQL is required (PGTEST_REQUIRED=1): %v", serverErr)
		}
		t.Skipf("pgtest: no PostgreSQL (set DATABASE_URL): %v", serverErr)
	}
	return serverURL
}

// template returns the name of a database migrated with schemas, creating it once per server:
// the name carries a digest of the migrations, and a parallel test binary waits on an advisory
// lock instead of migrating twice.
func template(ctx context.Context, admin string, schemas []postgres.Schema) (string, error) {
	fp, err := postgres.Fingerprint(schemas)
	if err != nil {
		return "", err
	}
	name := "tmpl_" + fp
	templatesMu.Lock()
	defer templatesMu.Unlock()
	if err, done := templates[name]; done {
		return name, err
	}
	err = createTemplate(ctx, admin, name, schemas)
	templates[name] = err
	return name, err
}

func createTemplate(ctx context.Context, admin, name string, schemas []postgres.Schema) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", name); err != nil {
		return err
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtext($1))", name) //nolint:errcheck
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return err
	}
	// Build under a temporary name and rename when complete, so a crash never leaves a
	// half-migrated template behind under the real name.
	building := name + "_building"
	if _, err := conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building)); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, withDatabase(admin, building), 2)
	if err != nil {
		return err
	}
	err = postgres.Migrate(ctx, pool, schemas)
	pool.Close()
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name))
	return err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(fmt.Sprintf("pgtest: DATABASE_URL must be a URL (postgres://…): %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
