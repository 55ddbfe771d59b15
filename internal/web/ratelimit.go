package web

import (
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"marketplace/internal/fault"
)

// RateLimit is the middleware of a public route that costs the server much (a photo to
// decode): each client address (ClientIP) may make burst requests at once and one more every
// per/perPeriod after that; the rest are a 429 with Retry-After. The counts are this process's
// own: behind a load balancer each process allows as much.
func RateLimit(requests int, per time.Duration, burst int) echo.MiddlewareFunc {
	l := &addressLimiter{every: rate.Every(per / time.Duration(requests)), burst: burst, seen: map[string]*addressEntry{}}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if wait, ok := l.allow(ClientIP(c), time.Now()); !ok {
				c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
				return fault.New(fault.RateLimited, "too many requests from your address: wait %d seconds and try again", int(wait/time.Second)+1)
			}
			return next(c)
		}
	}
}

type addressEntry struct {
	lim  *rate.Limiter
	last time.Time
}

// addressLimiter keeps a token bucket per address, forgetting addresses idle for ten minutes.
type addressLimiter struct {
	mu        sync.Mutex
	every     rate.Limit
	burst     int
	seen      map[string]*addressEntry
	lastSweep time.Time
}

func (l *addressLimiter) allow(addr string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > time.Minute {
		for a, e := range l.seen {
			if now.Sub(e.last) > 10*time.Minute {
				delete(l.seen, a)
			}
		}
		l.lastSweep = now
	}
	e := l.seen[addr]
	if e == nil {
		e = &addressEntry{lim: rate.NewLimiter(l.every, l.burst)}
		l.seen[addr] = e
	}
	e.last = now
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}
