package postgres_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
)

// recorder collects what a Follower hands over: payloads of notifications, "" for nil.
type recorder struct {
	mu     sync.Mutex
	calls  []string
	listen []error
	ch     chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1000)} }

func (r *recorder) handle(_ context.Context, n *pgconn.Notification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n == nil {
		r.calls = append(r.calls, "")
	} else {
		r.calls = append(r.calls, n.Payload)
	}
	r.ch <- struct{}{}
}

func (r *recorder) onListen(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.listen = append(r.listen, err)
}

// waitFor waits until cond holds on the recorded state.
func (r *recorder) waitFor(t *testing.T, what string, cond func(calls []string, listen []error) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond(r.calls, r.listen)
		calls, listens := len(r.calls), len(r.listen)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.ch:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: not within 10 s (%d calls, %d listens)", what, calls, listens)
		}
	}
}

// run starts f and returns a func that stops it and waits for Run to return.
func run(t *testing.T, f *postgres.Follower) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return within 5 s of its context ending")
		}
	}
	t.Cleanup(stop)
	return stop
}

func countOf(calls []string, s string) int {
	n := 0
	for _, c := range calls {
		if c == s {
			n++
		}
	}
	return n
}

func TestFollower(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CatchesUpThenHandlesEachNotification", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t)
		r := newRecorder()
		run(t, &postgres.Follower{Pool: pool, Channel: "Widget Changes", Handle: r.handle, OnListen: r.onListen, Poll: time.Hour})
		r.waitFor(t, "listening", func(calls []string, listen []error) bool { return len(listen) == 1 })
		for _, p := range []string{"1", "2"} {
			if _, err := pool.Exec(ctx, `SELECT pg_notify('Widget Changes', $1)`, p); err != nil {
				t.Fatal(err)
			}
		}
		r.waitFor(t, "both notifications", func(calls []string, _ []error) bool { return len(calls) == 3 })
		r.mu.Lock()
		defer r.mu.Unlock()
		if want := []string{"", "1", "2"}; !slices.Equal(r.calls, want) || r.listen[0] != nil {
			t.Fatalf("calls %q, listen %v; want %q after a nil listen", r.calls, r.listen, want)
		}
	})

	t.Run("Polls", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t)
		r := newRecorder()
		run(t, &postgres.Follower{Pool: pool, Channel: "quiet", Handle: r.handle, Poll: 20 * time.Millisecond})
		r.waitFor(t, "a catch-up and three polls", func(calls []string, _ []error) bool { return countOf(calls, "") >= 4 })
	})

	// The follower's backend is killed; it connects again and catches up on what was
	// announced meanwhile (here: a notification sent while nobody listened).
	t.Run("ReconnectsAndCatchesUp", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t)
		r := newRecorder()
		run(t, &postgres.Follower{Pool: pool, Channel: "refs", Handle: r.handle, OnListen: r.onListen,
			MinBackoff: 10 * time.Millisecond, Name: "test"})
		r.waitFor(t, "listening", func(_ []string, listen []error) bool { return len(listen) == 1 })
		var killed bool
		if err := pool.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'`).Scan(&killed); err != nil || !killed {
			t.Fatalf("terminate the listening backend: %v, %v", killed, err)
		}
		if _, err := pool.Exec(ctx, `SELECT pg_notify('refs', 'while away')`); err != nil {
			t.Fatal(err)
		}
		r.waitFor(t, "listening again", func(_ []string, listen []error) bool { return len(listen) == 2 && listen[1] == nil })
		r.mu.Lock()
		catchUps := countOf(r.calls, "")
		r.mu.Unlock()
		if catchUps != 2 {
			t.Fatalf("%d catch-ups, want 2 (one per connection)", catchUps)
		}
		if _, err := pool.Exec(ctx, `SELECT pg_notify('refs', 'after')`); err != nil {
			t.Fatal(err)
		}
		r.waitFor(t, "the notification after reconnecting", func(calls []string, _ []error) bool { return countOf(calls, "after") == 1 })
	})

	// Without a server to listen on, it still polls, keeps trying with backoff, and stops
	// when told.
	t.Run("PollsWhileItCannotConnect", func(t *testing.T) {
		t.Parallel()
		cfg, err := pgxpool.ParseConfig("postgres:///nowhere?host=/nonexistent&user=nobody&connect_timeout=1")
		if err != nil {
			t.Fatal(err)
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg) // connects lazily
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		r := newRecorder()
		stop := run(t, &postgres.Follower{Pool: pool, Channel: "c", Handle: r.handle, OnListen: r.onListen,
			Poll: 10 * time.Millisecond, MinBackoff: 20 * time.Millisecond, MaxBackoff: 40 * time.Millisecond})
		r.waitFor(t, "three failed attempts and polls", func(calls []string, listen []error) bool {
			return len(listen) >= 3 && len(calls) >= 3
		})
		stop()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, err := range r.listen {
			if err == nil {
				t.Fatal("OnListen(nil) without a server")
			}
		}
	})
}

// Start runs the follower on its own goroutine; Close cancels it and returns only once Run
// has, so that a caller may release what Handle uses as soon as Close returns.
func TestFollowerStartClose(t *testing.T) {
	t.Parallel()

	t.Run("CloseWaitsForRun", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t)
		entered := make(chan struct{})
		var finished atomic.Bool
		f := &postgres.Follower{Pool: pool, Channel: "slow", Handle: func(ctx context.Context, _ *pgconn.Notification) {
			if finished.Load() {
				t.Error("Handle called after Close returned")
			}
			close(entered)
			// A handler still busy when Close cancels: Close must wait for it, and for Run.
			<-ctx.Done()
			time.Sleep(50 * time.Millisecond)
			finished.Store(true)
		}}
		f.Start(context.Background())
		select {
		case <-entered:
		case <-time.After(10 * time.Second):
			t.Fatal("no catch-up Handle within 10 s of Start")
		}
		f.Close()
		if !finished.Load() {
			t.Fatal("Close returned while Handle was still running")
		}
		f.Close() // a second Close returns at once
	})

	t.Run("StartTwicePanicsAndRestartsAfterClose", func(t *testing.T) {
		t.Parallel()
		pool := pgtest.New(t)
		r := newRecorder()
		f := &postgres.Follower{Pool: pool, Channel: "again", Handle: r.handle, OnListen: r.onListen}
		f.Start(context.Background())
		t.Cleanup(f.Close)
		func() {
			defer func() {
				if recover() == nil {
					t.Error("a second Start while running did not panic")
				}
			}()
			f.Start(context.Background())
		}()
		r.waitFor(t, "listening", func(_ []string, listen []error) bool { return len(listen) == 1 })
		f.Close()
		f.Start(context.Background())
		r.waitFor(t, "listening after a restart", func(_ []string, listen []error) bool { return len(listen) == 2 && listen[1] == nil })
	})

	t.Run("CloseWithoutStartReturnsAtOnce", func(t *testing.T) {
		t.Parallel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			(&postgres.Follower{}).Close()
		}()
		select {
		case <-done:
		case <-time.After(time.Second):
			t.Fatal("Close without Start did not return")
		}
	})
}
