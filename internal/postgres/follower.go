package postgres

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Follower keeps a process in step with changes that any process announces with NOTIFY on one
// channel: it holds a connection of its own (not one of the pool's), LISTENs on Channel, and
// calls Handle
//
//   - on every notification, with it;
//   - after every (re)connection, with nil, to catch up on what was announced while it was
//     not listening;
//   - every Poll without a notification, with nil, in case one was lost; this goes on while
//     it cannot connect, so a process whose listening connection is down still catches up.
//
// A connection that cannot be made, or is lost, is made again after a jittered backoff that
// doubles from MinBackoff to MaxBackoff. Start runs it on a goroutine of its own and Close
// stops it and waits; a caller that wants to own the goroutine calls Run instead, which
// returns when its context ends.
//
// Handle runs on Run's goroutine, so calls never overlap, and a slow Handle delays the next
// one. It reads through the pool (or whatever it likes), never the follower's connection.
// Notifications arriving while it runs are queued by PostgreSQL and delivered after.
//
// It does not build on github.com/jackc/pgxlisten, though the shape is the same (Listener.
// Listen, a BacklogHandler for the catch-up): pgxlisten waits for a notification with no
// deadline, so a poll would need a second goroutine and a lock around every handler; and it
// reconnects after a fixed delay (a minute by default) without backoff or jitter, and calls no
// handler while disconnected. What remains (a wait with a deadline in a loop) is shorter than
// the adaptation.
type Follower struct {
	// Pool gives the connection settings.
	Pool *pgxpool.Pool
	// Channel is the NOTIFY channel; it is quoted as an identifier.
	Channel string
	// Handle is called as the type's comment says; n is nil for a catch-up or a poll.
	Handle func(ctx context.Context, n *pgconn.Notification)
	// Poll is how often Handle is called when no notification comes; 0 means never (only
	// notifications and reconnections call it).
	Poll time.Duration
	// MinBackoff and MaxBackoff bound the wait before connecting again (default 500 ms, 30 s).
	MinBackoff, MaxBackoff time.Duration
	// OnListen, if set, is called after each attempt to listen: with nil once LISTEN is in
	// place and the catch-up Handle has returned, or with the error that stopped it.
	OnListen func(err error)
	// Name starts the follower's log messages (e.g. "licensing: coverage snapshot").
	Name string
	// Log receives connection trouble; nil means slog.Default().
	Log *slog.Logger

	// The goroutine Start runs and Close stops: mu guards stop and done, which are nil until
	// the first Start; done is closed once that Run has returned.
	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
}

// Start runs Run on a goroutine of its own until ctx ends or Close is called, so that each
// user of a Follower need not keep its own cancel func, channel and goroutine. It returns at
// once; use OnListen to learn when listening has begun.
//
// Start panics if the follower is already running (a previous Start whose Run has not
// returned): two Runs would hold two connections and call Handle twice for every change,
// overlapping, against what Handle is promised; and ignoring the second call instead would
// silently drop its context. A follower may be started again once its previous Run has
// returned: after Close, or after that Run's context ended and Handle finished.
func (f *Follower) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done != nil {
		select {
		case <-f.done:
			f.stop() // already ended; releases the old context's resources
		default:
			panic("postgres: Follower.Start while already running (" + f.Name + ")")
		}
	}
	ctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	f.stop, f.done = stop, done
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
}

// Close stops the Run that Start began and waits for it to return, so that once Close
// returns Handle is not running and will not be called again: the caller may then release
// what Handle uses. It returns at once if the follower was never started, and is safe to
// call again (or from several goroutines: each waits for the same Run). It does not stop a
// Run that the caller called directly; that one ends with its own context.
func (f *Follower) Close() {
	f.mu.Lock()
	stop, done := f.stop, f.done
	f.mu.Unlock()
	if done == nil {
		return
	}
	stop()
	<-done
}

// Run follows the channel until ctx ends.
func (f *Follower) Run(ctx context.Context) {
	log := f.Log
	if log == nil {
		log = slog.Default()
	}
	minB, maxB := f.MinBackoff, f.MaxBackoff
	if minB <= 0 {
		minB = 500 * time.Millisecond
	}
	if maxB < minB {
		maxB = max(30*time.Second, minB)
	}
	backoff := minB
	for ctx.Err() == nil {
		conn, err := f.listen(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if f.OnListen != nil {
				f.OnListen(err)
			}
			wait := jitter(backoff)
			log.Warn(f.Name+": cannot listen for changes", "channel", f.Channel, "retry_in", wait.Round(time.Millisecond), "err", err)
			f.waitPolling(ctx, wait)
			backoff = min(2*backoff, maxB)
			continue
		}
		connected := time.Now()
		err = f.follow(ctx, conn)
		conn.Close(context.WithoutCancel(ctx)) //nolint:errcheck // it is being dropped
		if ctx.Err() != nil {
			return
		}
		// A connection that held a good while was healthy: start the backoff afresh. One that
		// keeps failing soon after LISTEN keeps backing off.
		if time.Since(connected) > maxB {
			backoff = minB
		}
		wait := jitter(backoff)
		log.Warn(f.Name+": lost the listening connection", "channel", f.Channel, "retry_in", wait.Round(time.Millisecond), "err", err)
		f.waitPolling(ctx, wait)
		backoff = min(2*backoff, maxB)
	}
}

// listen opens the follower's connection and LISTENs on it.
func (f *Follower) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, f.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{f.Channel}.Sanitize()); err != nil {
		conn.Close(context.WithoutCancel(ctx)) //nolint:errcheck // it is being dropped
		return nil, err
	}
	return conn, nil
}

// follow catches up, then handles notifications and polls until ctx ends (nil) or the
// connection fails (its error).
func (f *Follower) follow(ctx context.Context, conn *pgx.Conn) error {
	f.Handle(ctx, nil)
	if f.OnListen != nil {
		f.OnListen(nil)
	}
	for {
		wait, cancel := ctx, context.CancelFunc(func() {})
		if f.Poll > 0 {
			wait, cancel = context.WithTimeout(ctx, f.Poll)
		}
		n, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			f.Handle(ctx, n)
		case f.Poll > 0 && (pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded)):
			// The poll: a wait that timed out leaves the connection usable.
			f.Handle(ctx, nil)
		default:
			return err
		}
	}
}

// waitPolling waits d, or until ctx ends, calling Handle every Poll meanwhile.
func (f *Follower) waitPolling(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		poll := f.Poll > 0 && f.Poll < left
		if poll {
			left = f.Poll
		}
		t := time.NewTimer(left)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !poll {
			return
		}
		f.Handle(ctx, nil)
	}
}

// jitter spreads d over [d/2, 3d/2), so that many processes that lost the server together
// do not all come back at once.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d)
}
