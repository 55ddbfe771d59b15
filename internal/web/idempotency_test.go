package web

import (
	"bytes"
	"testing"
)

// TestReplaceWriterAcrossWrites: a multipart boundary split between two writes is replaced
// all the same, so a retried upload read in other chunks hashes alike.
func TestReplaceWriterAcrossWrites(t *testing.T) {
	in := []byte("--abc123\r\nfield\r\n--abc123--\r\nab abc12 3")
	for split := range len(in) + 1 {
		var out bytes.Buffer
		rw := &replaceWriter{dst: &out, old: []byte("abc123"), new: []byte("boundary")}
		rw.Write(in[:split])
		rw.Write(in[split:])
		rw.flush()
		if want := "--boundary\r\nfield\r\n--boundary--\r\nab abc12 3"; out.String() != want {
			t.Fatalf("split at %d: %q, want %q", split, out.String(), want)
		}
	}
}
