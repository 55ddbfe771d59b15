package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"

	"marketplace/internal/fault"
	"marketplace/internal/postgres"
)

//go:embed migrations/*.sql
var migrations embed.FS

// IdempotencySchema is the table of idempotency keys (IdempotencyStore).
var IdempotencySchema = func() postgres.Schema {
	sub, _ := fs.Sub(migrations, "migrations")
	return postgres.Schema{Name: "web", FS: sub}
}()

// IdempotencyHeader names the key a client sends with a creating request it may retry.
const IdempotencyHeader = "Idempotency-Key"

// IdempotencyTTL is how long a key answers its first result.
const IdempotencyTTL = 24 * time.Hour

// idempotencyMemory is how much of a request body is kept in memory; the rest of a large
// upload goes to a temporary file while it is hashed.
const idempotencyMemory = 1 << 20

// IdempotencyStore keeps the first answer to each (caller, key) in PostgreSQL, so that every
// process behind the load balancer answers a retry the same way.
type IdempotencyStore struct {
	db        *pgxpool.Pool
	lastSweep atomic.Int64 // unix seconds of the last deletion of expired keys
}

// NewIdempotencyStore returns a store on db, which has IdempotencySchema applied.
func NewIdempotencyStore(db *pgxpool.Pool) *IdempotencyStore { return &IdempotencyStore{db: db} }

// UseIdempotency makes Idempotent routes honour the Idempotency-Key header, with st.
func (s *Server) UseIdempotency(st *IdempotencyStore) { s.idempotency = st }

// Idempotent is the middleware of a creating route, after the route's role check. A request
// with an Idempotency-Key header (as Stripe's API takes it) is done once per caller and key:
// the same key with the same request (method, path, content type and body; a multipart
// form's boundary does not count) answers the first result, its status and body, with the
// header Idempotent-Replayed: true, without doing it again; a request with the same key still
// running is waited for; the key with another request is a 422. A first attempt that failed
// on our side (5xx) or was rate limited is not kept, so a retry does it. Keys expire after
// IdempotencyTTL. Without the header, an anonymous caller, or a server without
// UseIdempotency, the request goes through as it is.
func (s *Server) Idempotent() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := c.Request().Header.Get(IdempotencyHeader)
			who := Caller(c)
			if key == "" || who == nil || s.idempotency == nil {
				return next(c)
			}
			return s.idempotency.serve(c, next, who.UserID, key, s.cfg.RequestTimeout)
		}
	}
}

func validKey(key string) bool {
	if len(key) > 255 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

func (st *IdempotencyStore) serve(c echo.Context, next echo.HandlerFunc, user int64, key string, timeout time.Duration) error {
	if !validKey(key) {
		return fault.Validation("the Idempotency-Key header is not valid",
			fault.Field(IdempotencyHeader, "use up to 255 printable ASCII characters without spaces, e.g. a UUID"))
	}
	sum, cleanup, err := fingerprint(c.Request())
	defer cleanup()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	st.sweep(ctx)
	// The first request holds the key for as long as it may run; after that a retry takes it.
	lease := timeout + 30*time.Second
	for {
		var owner bool
		err := st.db.QueryRow(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, locked_until)
			VALUES ($1, $2, $3, now() + $4::interval)
			ON CONFLICT (user_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL,
				content_type = '', location = '', body = NULL, locked_until = EXCLUDED.locked_until, created_at = now()
			WHERE idempotency_keys.created_at < now() - $5::interval
				OR (idempotency_keys.status IS NULL AND idempotency_keys.locked_until < now()
					AND idempotency_keys.request_hash = EXCLUDED.request_hash)
			RETURNING true`, user, key, sum, lease.String(), IdempotencyTTL.String()).Scan(&owner)
		switch {
		case err == nil:
			return st.run(c, next, user, key, sum)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		var (
			hash       []byte
			status     *int
			ctype, loc string
			body       []byte
		)
		err = st.db.QueryRow(ctx, `SELECT request_hash, status, content_type, location, coalesce(body, '')
			FROM idempotency_keys WHERE user_id = $1 AND key = $2`, user, key).Scan(&hash, &status, &ctype, &loc, &body)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // the first attempt failed and let the key go: this one does it
		}
		if err != nil {
			return err
		}
		if !bytes.Equal(hash, sum) {
			return &fault.Error{Code: fault.Unprocessable, Message: "this Idempotency-Key was used with another request",
				Fields: []fault.FieldError{fault.Field(IdempotencyHeader, "the key was first sent with another body or to another route; use a new key for a new request")}}
		}
		if status != nil {
			h := c.Response().Header()
			h.Set("Idempotent-Replayed", "true")
			if loc != "" {
				h.Set(echo.HeaderLocation, loc)
			}
			if ctype == "" {
				return c.NoContent(*status)
			}
			return c.Blob(*status, ctype, body)
		}
		// The same request is running: wait for its answer.
		select {
		case <-ctx.Done():
			return fault.New(fault.Conflict, "a request with this Idempotency-Key is still running; retry later")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run does the request and keeps its answer under the key, or lets the key go when it failed
// on our side.
func (st *IdempotencyStore) run(c echo.Context, next echo.HandlerFunc, user int64, key string, sum []byte) error {
	res := c.Response()
	rec := &recordingWriter{ResponseWriter: res.Writer}
	res.Writer = rec
	done := false
	defer func() {
		res.Writer = rec.ResponseWriter
		if !done { // a panic: the key is let go, and the panic goes on to the recoverer
			st.release(user, key)
		}
	}()
	if err := next(c); err != nil {
		// Answer the error here, so that its answer is the one kept.
		c.Error(err)
	}
	done = true
	ctx := context.WithoutCancel(c.Request().Context())
	if res.Status >= 500 || res.Status == http.StatusTooManyRequests || !res.Committed {
		st.release(user, key)
		return nil
	}
	_, err := st.db.Exec(ctx, `UPDATE idempotency_keys SET status = $4, content_type = $5, location = $6, body = $7
		WHERE user_id = $1 AND key = $2 AND request_hash = $3`,
		user, key, sum, res.Status, res.Header().Get(echo.HeaderContentType), res.Header().Get(echo.HeaderLocation), rec.body.Bytes())
	if err != nil {
		// The answer is sent already; a retry will take the key over when its lease ends.
		c.Logger().Error(fmt.Errorf("web: keeping the answer of idempotency key: %w", err))
	}
	return nil
}

func (st *IdempotencyStore) release(user int64, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = st.db.Exec(ctx, `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL`, user, key)
}

// sweep deletes expired keys, at most once a minute per process.
func (st *IdempotencyStore) sweep(ctx context.Context) {
	now := time.Now().Unix()
	last := st.lastSweep.Load()
	if now-last < 60 || !st.lastSweep.CompareAndSwap(last, now) {
		return
	}
	_, _ = st.db.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - $1::interval`, IdempotencyTTL.String())
}

// recordingWriter keeps a copy of the body it writes.
type recordingWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

// fingerprint hashes the request (method, path, media type, body with a multipart boundary
// replaced by a fixed word) and gives the handler the body again: from memory, or from a
// temporary file for a large upload, which cleanup removes.
func fingerprint(req *http.Request) ([]byte, func(), error) {
	cleanup := func() {}
	h := sha256.New()
	mt, params, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	fmt.Fprintf(h, "%s %s\n%s\n", req.Method, req.URL.Path, mt)
	var hw io.Writer = h
	var rw *replaceWriter
	if b := params["boundary"]; b != "" {
		rw = &replaceWriter{dst: h, old: []byte(b), new: []byte("boundary")}
		hw = rw
	}
	sp := &spool{}
	_, err := io.Copy(io.MultiWriter(hw, sp), req.Body)
	if sp.file != nil {
		name := sp.file.Name()
		cleanup = func() { sp.file.Close(); os.Remove(name) }
	}
	if err != nil {
		return nil, cleanup, err
	}
	if rw != nil {
		rw.flush()
	}
	body, err := sp.reader()
	if err != nil {
		return nil, cleanup, err
	}
	req.Body = io.NopCloser(body)
	return h.Sum(nil), cleanup, nil
}

// spool holds a body in memory up to idempotencyMemory, and in a temporary file beyond.
type spool struct {
	mem  bytes.Buffer
	file *os.File
}

func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil && s.mem.Len()+len(p) <= idempotencyMemory {
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "idempotent-body-*")
		if err != nil {
			return 0, err
		}
		s.file = f
		if _, err := f.Write(s.mem.Bytes()); err != nil {
			return 0, err
		}
		s.mem = bytes.Buffer{}
	}
	return s.file.Write(p)
}

func (s *spool) reader() (io.Reader, error) {
	if s.file == nil {
		return bytes.NewReader(s.mem.Bytes()), nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.file, nil
}

// replaceWriter writes to dst with every occurrence of old replaced by new, across writes.
type replaceWriter struct {
	dst      io.Writer
	old, new []byte
	buf      []byte
}

func (r *replaceWriter) Write(p []byte) (int, error) {
	r.buf = append(r.buf, p...)
	for {
		i := bytes.Index(r.buf, r.old)
		if i < 0 {
			break
		}
		r.dst.Write(r.buf[:i])
		r.dst.Write(r.new)
		r.buf = r.buf[i+len(r.old):]
	}
	// Keep what could be the start of old; write the rest.
	if keep := len(r.old) - 1; len(r.buf) > keep {
		r.dst.Write(r.buf[:len(r.buf)-keep])
		r.buf = append([]byte(nil), r.buf[len(r.buf)-keep:]...)
	}
	return len(p), nil
}

func (r *replaceWriter) flush() {
	r.dst.Write(r.buf)
	r.buf = nil
}
