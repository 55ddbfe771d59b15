package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"marketplace/detection/imagematch/imagetest"
)

// TestDetectCommand runs `marketplace detect` as a person would: hash prints a fingerprint per
// file, scan finds a mirrored copy of a reference among unrelated pictures, and bad calls say
// how to call it.
func TestDetectCommand(t *testing.T) {
	dir := t.TempDir()
	refs, queries := filepath.Join(dir, "refs"), filepath.Join(dir, "queries")
	for _, d := range []string{refs, queries} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	official := imagetest.SynthPhoto(101, 480, 360)
	write(filepath.Join(refs, "official.jpg"), imagetest.EncodeJPEG(t, official, 90))
	write(filepath.Join(queries, "copy.jpg"), imagetest.EncodeJPEG(t, imagetest.Mirror(official), 80))
	write(filepath.Join(queries, "other.jpg"), imagetest.EncodeJPEG(t, imagetest.SynthPhoto(202, 480, 360), 90))
	call := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), args, func(string) string { return "" }, &out, &out)
		return out.String(), err
	}

	t.Run("Hash", func(t *testing.T) {
		out, err := call("detect", "hash", filepath.Join(refs, "official.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		var line struct {
			Hashes map[string]string `json:"hashes"`
		}
		if err := json.Unmarshal([]byte(out), &line); err != nil || line.Hashes["phash"] == "" {
			t.Fatalf("hash printed %q (%v)", out, err)
		}
	})
	t.Run("ScanFindsTheCopyOnly", func(t *testing.T) {
		out, err := call("detect", "scan", "--refs", refs, "--queries", queries)
		if err != nil {
			t.Fatal(err)
		}
		var copyLine, otherLine string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			switch {
			case strings.Contains(l, "copy.jpg"):
				copyLine = l
			case strings.Contains(l, "other.jpg"):
				otherLine = l
			}
		}
		if !strings.Contains(copyLine, "official.jpg") {
			t.Errorf("the mirrored copy was not matched: %q", copyLine)
		}
		if strings.Contains(otherLine, "official.jpg") {
			t.Errorf("an unrelated picture was matched: %q", otherLine)
		}
	})
	t.Run("ErrUsage", func(t *testing.T) {
		for _, args := range [][]string{{"detect"}, {"detect", "hash"}, {"detect", "scan", "--refs", refs}, {"detect", "frobnicate"}} {
			if _, err := call(args...); err == nil || !strings.Contains(err.Error(), "usage: marketplace detect") {
				t.Errorf("%v: err = %v", args, err)
			}
		}
	})
}
