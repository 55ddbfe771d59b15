package blob

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"marketplace/internal/fault"
)

func TestStores(t *testing.T) {
	ctx := context.Background()
	for _, url := range []string{"file://" + filepath.ToSlash(filepath.Join(t.TempDir(), "made", "here")), "mem://"} {
		t.Run(url[:4], func(t *testing.T) {
			s, err := Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if ok, err := s.Exists(ctx, "a/b"); ok || err != nil {
				t.Fatalf("Exists before Put = %v, %v", ok, err)
			}
			if _, err := s.Get(ctx, "a/b"); !fault.Is(err, fault.NotFound) {
				t.Fatalf("Get before Put: %v", err)
			}
			if err := s.Put(ctx, "a/b", []byte("hello"), "text/plain"); err != nil {
				t.Fatal(err)
			}
			if ok, err := s.Exists(ctx, "a/b"); !ok || err != nil {
				t.Fatalf("Exists after Put = %v, %v", ok, err)
			}
			if got, err := s.Get(ctx, "a/b"); err != nil || !bytes.Equal(got, []byte("hello")) {
				t.Fatalf("Get = %q, %v", got, err)
			}
		})
	}
	if _, err := Open(ctx, "nope://x"); err == nil {
		t.Error("an unknown scheme opened")
	}
}
