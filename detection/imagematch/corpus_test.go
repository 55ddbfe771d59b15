package imagematch

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusFiles returns the bytes of the JPEGs in $DETECT_CORPUS (all of them when
// limit is 0), or nothing when it is not set: real photos are optional in tests and
// never committed. Build the corpus with /work/shared/bench/images.sh OUTDIR and point
// DETECT_CORPUS at OUTDIR/A.
func corpusFiles(t testing.TB, limit int) [][]byte {
	t.Helper()
	paths := corpusPaths(t)
	if limit > 0 && len(paths) > limit {
		paths = paths[:limit]
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func corpusPaths(t testing.TB) []string {
	t.Helper()
	dir := os.Getenv("DETECT_CORPUS")
	if dir == "" {
		return nil
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("DETECT_CORPUS=%s has no .jpg files", dir)
	}
	return paths
}
