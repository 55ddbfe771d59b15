package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Schema is one slice's embedded, forward-only migrations (files named 001_what.sql, …).
// Each slice keeps its own version table, so slices add migrations without renumbering
// each other's; a slice lists the schemas it depends on before its own.
type Schema struct {
	Name string
	FS   fs.FS
}

// Schemas orders and de-duplicates the schemas of several slices, keeping first appearances.
func Schemas(lists ...[]Schema) []Schema {
	seen := map[string]bool{}
	var out []Schema
	for _, list := range lists {
		for _, s := range list {
			if !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, s)
			}
		}
	}
	return out
}

// migrationLock serialises migrations across processes (many web and worker processes may
// start at once against one database).
const migrationLock = 7_432_001

// Migrate applies River's migrations and then every schema's pending migrations, in order,
// under an advisory lock.
func Migrate(ctx context.Context, pool *pgxpool.Pool, schemas []Schema) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck

	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	for _, s := range schemas {
		m, err := newMigrator(ctx, conn.Conn(), s)
		if err != nil {
			return err
		}
		if err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("migrations of %s: %w", s.Name, err)
		}
	}
	return nil
}

// Pending lists the schemas (and River) with migrations not yet applied, so serve can refuse
// to start on a database that is behind its code.
func Pending(ctx context.Context, pool *pgxpool.Pool, schemas []Schema) ([]string, error) {
	var pending []string
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return nil, err
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return nil, err
	}
	if !res.OK {
		pending = append(pending, "river")
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	for _, s := range schemas {
		m, err := newMigrator(ctx, conn.Conn(), s)
		if err != nil {
			return nil, err
		}
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", versionTable(s)).Scan(&exists); err != nil {
			return nil, err
		}
		var current int32
		if exists {
			if current, err = m.GetCurrentVersion(ctx); err != nil {
				return nil, err
			}
		}
		if int(current) < len(m.Migrations) {
			pending = append(pending, fmt.Sprintf("%s (at %d of %d)", s.Name, current, len(m.Migrations)))
		}
	}
	return pending, nil
}

func versionTable(s Schema) string { return "schema_version_" + s.Name }

func newMigrator(ctx context.Context, conn *pgx.Conn, s Schema) (*migrate.Migrator, error) {
	m, err := migrate.NewMigratorEx(ctx, conn, versionTable(s), &migrate.MigratorOptions{})
	if err != nil {
		return nil, err
	}
	if err := m.LoadMigrations(s.FS); err != nil {
		return nil, fmt.Errorf("load migrations of %s: %w", s.Name, err)
	}
	return m, nil
}

// Fingerprint is a short digest of the schemas' names and files: test templates are keyed by
// it, so a changed migration gets a fresh template.
func Fingerprint(schemas []Schema) (string, error) {
	h := sha256.New()
	for _, s := range schemas {
		fmt.Fprintf(h, "schema %s\n", s.Name)
		var names []string
		err := fs.WalkDir(s.FS, ".", func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				names = append(names, path)
			}
			return err
		})
		if err != nil {
			return "", err
		}
		sort.Strings(names)
		for _, n := range names {
			b, err := fs.ReadFile(s.FS, n)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s %d\n", n, len(b))
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}
