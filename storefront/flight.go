package storefront

import (
	"context"
	"errors"
	"sync"
	"time"
)

// fillTimeout bounds a shared fill: it no longer ends with the request that started it, so
// it needs an end of its own.
const fillTimeout = 30 * time.Second

// errFillPanicked is what the callers sharing a fill get when it panicked (the first caller
// gets the panic itself, which the server's recovery answers).
var errFillPanicked = errors.New("a shared cache fill failed")

// flight shares one fill among the concurrent callers asking for the same key, like
// golang.org/x/sync/singleflight, with two differences that let one fan leave without
// breaking the others: the fill runs under a context that does not end with the caller who
// started it (context.WithoutCancel plus fillTimeout), and every other caller stops waiting
// when its own context ends. The fill runs in the first caller's goroutine, which waits for
// it, so a fill may use that caller's request (the page cache renders with it).
type flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done chan struct{}
	val  any
	err  error
}

// do returns fill's answer for key, running fill unless a run for key is under way.
func (f *flight) do(ctx context.Context, key string, fill func(context.Context) (any, error)) (any, error) {
	f.mu.Lock()
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.val, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.calls == nil {
		f.calls = map[string]*flightCall{}
	}
	c := &flightCall{done: make(chan struct{}), err: errFillPanicked}
	f.calls[key] = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.calls, key)
		f.mu.Unlock()
		close(c.done)
	}()
	fillCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fillTimeout)
	defer cancel()
	c.val, c.err = fill(fillCtx)
	return c.val, c.err
}
