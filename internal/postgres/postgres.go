// Package postgres holds the plumbing every slice shares to reach PostgreSQL: the pool, the
// embedded migrations of each slice applied under an advisory lock, the mapping of database
// errors to coded errors, transactions that retry serialization failures and deadlocks (tx.go),
// a follower that keeps a process in step with NOTIFY (follower.go), and a private cluster for
// one machine (cluster.go).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"marketplace/internal/fault"
)

// Open connects a pool and checks that the database answers.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return pool, nil
}

// Err turns a database error into a coded one: no rows becomes NotFound (of what), a unique
// violation becomes Conflict, a foreign-key or check violation becomes Unprocessable. Other
// errors pass through unchanged, and nil stays nil.
func Err(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fault.Wrap(fault.NotFound, err, "%s not found", what)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return fault.Wrap(fault.Conflict, err, "%s already exists", what)
		case "23503":
			return fault.Wrap(fault.Unprocessable, err, "%s refers to something that does not exist", what)
		case "23514", "23P01":
			return fault.Wrap(fault.Unprocessable, err, "%s breaks a rule: %s", what, pgErr.ConstraintName)
		case "22P02", "22001", "22003":
			return fault.Wrap(fault.Invalid, err, "%s: %s", what, pgErr.Message)
		}
	}
	return err
}

// InsertOnlyJobs returns a River client with no queues and no workers: it only writes jobs into
// River's table, in the caller's transaction, for a process whose jobs another client works. A
// service given no client (a test, an offline tool) makes one.
func InsertOnlyJobs(pool *pgxpool.Pool, log *slog.Logger) (*river.Client[pgx.Tx], error) {
	return river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: log})
}
