package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
)

var serializable = pgx.TxOptions{IsoLevel: pgx.Serializable}

// sqlstate returns err's SQLSTATE, or "" when it has none.
func sqlstate(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func countWidgets(t *testing.T, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, name string) int {
	t.Helper()
	var n int
	if err := q.QueryRow(context.Background(), "SELECT count(*) FROM widgets WHERE name = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Write skew: A and B each count the widgets and then add one. Whichever of two
	// serializable transactions commits second cannot be serialized after the first, so A,
	// which waits for B to commit before it writes, fails with 40001 on its first run.
	t.Run("RetriesASerializationFailureAndCommitsOnce", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t, widgets)
		aRead, bDone := make(chan struct{}), make(chan struct{})
		var bErr error
		go func() {
			defer close(bDone)
			<-aRead
			bErr = pgx.BeginTxFunc(ctx, pool, serializable, func(tx pgx.Tx) error {
				var n int
				if err := tx.QueryRow(ctx, "SELECT count(*) FROM widgets").Scan(&n); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "INSERT INTO widgets (name) VALUES ('b')")
				return err
			})
		}()
		var attempts int
		var firstErr error
		err := postgres.TxWithOptions(ctx, pool, serializable, func(tx pgx.Tx) error {
			attempts++
			var n int
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM widgets").Scan(&n); err != nil {
				return err
			}
			if attempts == 1 {
				close(aRead)
				<-bDone
			}
			_, err := tx.Exec(ctx, "INSERT INTO widgets (name) VALUES ('a')")
			if attempts == 1 {
				firstErr = err
			}
			return err
		})
		if bErr != nil {
			t.Fatalf("B: %v", bErr)
		}
		if err != nil {
			t.Fatalf("A: %v", err)
		}
		if got := sqlstate(firstErr); got != "40001" {
			t.Fatalf("A's first insert: %v (SQLSTATE %q), want a serialization failure", firstErr, got)
		}
		if attempts != 2 {
			t.Fatalf("fn ran %d times, want 2", attempts)
		}
		if n := countWidgets(t, pool, "a"); n != 1 {
			t.Fatalf("%d widgets 'a', want 1", n)
		}
	})

	// A and B lock the same two rows in opposite orders; the deadlock detector (after
	// deadlock_timeout, 1 s by default) aborts one of them with 40P01, and that one runs again.
	t.Run("RetriesADeadlock", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t, widgets)
		if _, err := pool.Exec(ctx, "INSERT INTO widgets (name) VALUES ('x'), ('y')"); err != nil {
			t.Fatal(err)
		}
		var attempts [2]atomic.Int32
		var deadlocks atomic.Int32
		var bothLocked sync.WaitGroup
		bothLocked.Add(2)
		lockInOrder := func(i int, first, second string) error {
			return postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
				run := attempts[i].Add(1)
				if _, err := tx.Exec(ctx, "UPDATE widgets SET name = name WHERE name = $1", first); err != nil {
					return err
				}
				if run == 1 {
					bothLocked.Done()
					bothLocked.Wait()
				}
				_, err := tx.Exec(ctx, "UPDATE widgets SET name = name WHERE name = $1", second)
				if sqlstate(err) == "40P01" {
					deadlocks.Add(1)
				}
				return err
			})
		}
		errs := make(chan error, 2)
		go func() { errs <- lockInOrder(0, "x", "y") }()
		go func() { errs <- lockInOrder(1, "y", "x") }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if got := deadlocks.Load(); got != 1 {
			t.Fatalf("%d deadlocks, want 1", got)
		}
		if total := attempts[0].Load() + attempts[1].Load(); total != 3 {
			t.Fatalf("fn ran %d times in all, want 3 (one retry)", total)
		}
	})

	t.Run("DoesNotRetryOtherErrors", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t, widgets)
		var attempts int
		err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
			attempts++
			if _, err := tx.Exec(ctx, "INSERT INTO widgets (name) VALUES ('dup')"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO widgets (name) VALUES ('dup')")
			return postgres.Err(err, "widget")
		})
		if got := fault.CodeOf(err); got != fault.Conflict {
			t.Fatalf("code = %v (err %v), want conflict", got, err)
		}
		if attempts != 1 {
			t.Fatalf("fn ran %d times, want 1", attempts)
		}
		if n := countWidgets(t, pool, "dup"); n != 0 {
			t.Fatalf("%d widgets 'dup' after the rollback, want 0", n)
		}
	})

	t.Run("GivesUpAfterAFewAttempts", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t, widgets)
		var attempts int
		start := time.Now()
		err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
			attempts++
			return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
		})
		if sqlstate(err) != "40001" {
			t.Fatalf("err = %v, want the serialization failure", err)
		}
		if attempts < 2 || attempts > 10 {
			t.Fatalf("fn ran %d times, want a few", attempts)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("gave up after %v, want well under a second of backoff", d)
		}
	})

	t.Run("StopsWaitingWhenTheContextEnds", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t, widgets)
		ctx, cancel := context.WithCancel(ctx)
		var attempts int
		err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
			attempts++
			cancel()
			return &pgconn.PgError{Code: "40P01"}
		})
		if sqlstate(err) != "40P01" || attempts != 1 {
			t.Fatalf("err = %v after %d runs, want the deadlock after 1", err, attempts)
		}
	})
}
