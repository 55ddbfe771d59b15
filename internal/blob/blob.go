// Package blob stores opaque byte objects by key: image originals and thumbnails. It is a thin
// layer over gocloud.dev/blob, so the same code runs on a directory (file://, the default
// under DATA_DIR/blobs), in memory (mem://, for tests) or on S3 (s3://bucket?region=…).
package blob

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file://
	_ "gocloud.dev/blob/memblob"  // mem://
	_ "gocloud.dev/blob/s3blob"   // s3://
	"gocloud.dev/gcerrors"

	"marketplace/internal/fault"
)

// Store keeps objects by key. Keys are slash-separated paths such as "images/ab/abcd…".
type Store interface {
	// Put writes data under key (replacing what was there) with its content type.
	Put(ctx context.Context, key string, data []byte, contentType string) error
	// Get returns the object under key; fault.NotFound when there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Exists reports whether an object is stored under key.
	Exists(ctx context.Context, key string) (bool, error)
}

// Bucket is a Store over a gocloud.dev bucket.
type Bucket struct {
	b *blob.Bucket
}

// Open opens the store at url: file:///abs/dir (created if missing), mem://, or s3://bucket.
func Open(ctx context.Context, rawURL string) (*Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("blob: BLOB_URL %q: %w", rawURL, err)
	}
	if u.Scheme == "file" {
		// fileblob refuses a directory that does not exist; the default one is ours to make.
		if err := os.MkdirAll(filepath.FromSlash(u.Path), 0o750); err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
		// Without its own temp dir fileblob writes temporaries under os.TempDir, which may be
		// another file system, so the final rename would fail.
		q := u.Query()
		if !q.Has("no_tmp_dir") {
			q.Set("no_tmp_dir", "true")
			u.RawQuery = q.Encode()
		}
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", rawURL, err)
	}
	return &Bucket{b: b}, nil
}

// Put writes data under key.
func (s *Bucket) Put(ctx context.Context, key string, data []byte, contentType string) error {
	if err := s.b.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: contentType}); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

// Get returns the object under key.
func (s *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	r, err := s.b.NewReader(ctx, key, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fault.Wrap(fault.NotFound, err, "stored object %s not found", key)
		}
		return nil, fmt.Errorf("blob: get %s: %w", key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("blob: read %s: %w", key, err)
	}
	return data, nil
}

// Exists reports whether key is stored.
func (s *Bucket) Exists(ctx context.Context, key string) (bool, error) {
	ok, err := s.b.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("blob: exists %s: %w", key, err)
	}
	return ok, nil
}

// Close releases the bucket.
func (s *Bucket) Close() error { return s.b.Close() }
