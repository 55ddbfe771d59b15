package postgres_test

import (
	"context"
	"os"
	"testing"

	"marketplace/internal/fault"
	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
)

var widgets = postgres.Schema{Name: "widgets", FS: os.DirFS("testdata/migrations")}

func TestMigrateAndErrors(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t, widgets)
	ctx := context.Background()

	t.Run("NothingPendingAfterMigrate", func(t *testing.T) {
		pending, err := postgres.Pending(ctx, pool, []postgres.Schema{widgets})
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending = %v, %v; want none", pending, err)
		}
	})
	t.Run("MigrateTwiceIsANoOp", func(t *testing.T) {
		if err := postgres.Migrate(ctx, pool, []postgres.Schema{widgets}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("UniqueViolationIsConflict", func(t *testing.T) {
		_, err := pool.Exec(ctx, "INSERT INTO widgets (name) VALUES ('a'), ('a')")
		if got := fault.CodeOf(postgres.Err(err, "widget")); got != fault.Conflict {
			t.Fatalf("code = %v, want conflict (err %v)", got, err)
		}
	})
	t.Run("NoRowsIsNotFound", func(t *testing.T) {
		var id int64
		err := pool.QueryRow(ctx, "SELECT id FROM widgets WHERE name = 'missing'").Scan(&id)
		if got := fault.CodeOf(postgres.Err(err, "widget")); got != fault.NotFound {
			t.Fatalf("code = %v, want not_found", got)
		}
	})
	t.Run("CheckViolationIsUnprocessable", func(t *testing.T) {
		_, err := pool.Exec(ctx, "INSERT INTO widgets (name) VALUES ('')")
		if got := fault.CodeOf(postgres.Err(err, "widget")); got != fault.Unprocessable {
			t.Fatalf("code = %v, want unprocessable", got)
		}
	})
}

func TestEachTestGetsItsOwnDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := pgtest.New(t, widgets), pgtest.New(t, widgets)
	if _, err := a.Exec(ctx, "INSERT INTO widgets (name) VALUES ('only-in-a')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(ctx, "SELECT count(*) FROM widgets").Scan(&n); err != nil || n != 0 {
		t.Fatalf("b sees %d widgets (%v), want 0", n, err)
	}
}

func TestPendingBeforeMigrate(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t) // River only
	pending, err := postgres.Pending(context.Background(), pool, []postgres.Schema{widgets})
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending = %v, %v; want widgets", pending, err)
	}
}
