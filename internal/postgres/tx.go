package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// txAttempts is how many times a transaction is run in all when it keeps failing to serialize
// or deadlocking. A few suffice: each failure means another transaction committed.
const txAttempts = 5

// txFirstBackoff is the mean wait before the second attempt; it doubles at each further one
// (about 10, 20, 40, 80 ms), and each wait is jittered so that two transactions that failed
// against each other do not meet again.
const txFirstBackoff = 10 * time.Millisecond

// Tx runs fn in one read-committed transaction, committing when fn returns nil and rolling back
// otherwise. A transaction that fails with a serialization failure (SQLSTATE 40001) or a
// deadlock (40P01), in fn or at commit, is rolled back and run again after a short jittered
// wait, up to a few times in all (like pkgsite's database.Transact).
//
// fn may therefore run more than once. It must do all its reads and writes through the tx it is
// given, and have no other side effects: no e-mail, no call to Stripe, no change to memory
// that a second run would repeat (appending to a slice declared outside fn, say). Assigning
// results to variables outside fn is fine when every run assigns them afresh. Work that must
// happen once belongs after Tx returns, or in a River job inserted through tx.
//
// Tx returns fn's error, or the commit's, as it is (errors.Is, errors.As and fault codes see
// through it); after the last attempt a serialization failure or deadlock is wrapped with the
// number of attempts.
func Tx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return TxWithOptions(ctx, pool, pgx.TxOptions{}, fn)
}

// TxWithOptions is Tx with the transaction's isolation level and access mode, e.g. a
// repeatable-read, read-only snapshot of several tables. It retries like Tx, and fn has the
// same duties.
func TxWithOptions(ctx context.Context, pool *pgxpool.Pool, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	backoff := txFirstBackoff
	for attempt := 1; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, pool, opts, fn)
		if err == nil || !retryable(err) {
			return err
		}
		if attempt == txAttempts {
			return fmt.Errorf("transaction failed %d times: %w", attempt, err)
		}
		t := time.NewTimer(jitter(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff *= 2
	}
}

// retryable reports whether err says that the transaction lost a serialization conflict or a
// deadlock, so that running it again may succeed.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return true
	}
	return false
}

// TxOnce runs fn in one read-committed transaction like Tx, but never runs it again: for a
// transaction that cannot be repeated, because fn consumes something it cannot get back (a
// file streamed into COPY) or has effects outside the transaction that a second run would
// double. A serialization failure or deadlock is returned to the caller like any other error.
func TxOnce(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, fn)
}
