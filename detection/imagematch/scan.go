package imagematch

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// HashFiles prints one JSON line per file: its working size and every hash as hex by
// kind name, or the error that refused it. It is `marketplace detect hash FILE…`. It
// returns an error naming how many files failed, after printing them all.
func HashFiles(w io.Writer, paths []string) error {
	h, err := NewHasher(DefaultHashConfig())
	if err != nil {
		return err
	}
	type line struct {
		File   string            `json:"file"`
		Width  int               `json:"width,omitempty"`
		Height int               `json:"height,omitempty"`
		Hashes map[string]string `json:"hashes,omitempty"`
		Error  string            `json:"error,omitempty"`
	}
	fps, errs := hashAll(h, paths)
	enc := json.NewEncoder(w)
	failed := 0
	for i, p := range paths {
		l := line{File: p}
		if errs[i] != nil {
			l.Error = errs[i].Error()
			failed++
		} else {
			l.Width, l.Height = fps[i].Width, fps[i].Height
			l.Hashes = map[string]string{}
			for _, hh := range fps[i].Hashes {
				l.Hashes[hh.Kind.String()] = fmt.Sprintf("%016x", hh.Value)
			}
		}
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("imagematch: %d of %d files could not be hashed", failed, len(paths))
	}
	return nil
}

// ScanResult is one line of Scan's output.
type ScanResult struct {
	Query string `json:"query"`
	// Ref is the best-matching reference file, nil when nothing matches.
	Ref         *string  `json:"ref"`
	Kind        string   `json:"kind,omitempty"`
	Distance    *int     `json:"distance"`
	Correlation *float64 `json:"correlation,omitempty"`
	Match       bool     `json:"match"`
	Error       string   `json:"error,omitempty"`
}

// Scan fingerprints every image file in refsDir as a reference, then every image
// file in queriesDir, and prints one JSON line (a ScanResult) per query, in name
// order: the best-matching reference, or "ref": null. It is `marketplace detect scan`,
// and uses the same Hasher limits, Matcher and thresholds as the server. A reference
// that cannot be hashed is reported first, as {"ref_error": path, "error": why}, and
// left out; a query that cannot be hashed gets "error" and "match": false.
func Scan(w io.Writer, refsDir, queriesDir string, cfg MatchConfig) error {
	h, err := NewHasher(DefaultHashConfig())
	if err != nil {
		return err
	}
	m, err := NewMatcher(cfg)
	if err != nil {
		return err
	}
	refs, err := imageFiles(refsDir)
	if err != nil {
		return err
	}
	queries, err := imageFiles(queriesDir)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	fps, errs := hashAll(h, refs)
	for i, fp := range fps {
		if errs[i] == nil {
			errs[i] = m.Add(int64(i), fp)
		}
		if errs[i] != nil {
			// A broken reference is reported, not fatal: the others still protect.
			if err := enc.Encode(struct {
				Ref   string `json:"ref_error"`
				Error string `json:"error"`
			}{refs[i], errs[i].Error()}); err != nil {
				return err
			}
		}
	}
	qfps, qerrs := hashAll(h, queries)
	for i, q := range queries {
		res := ScanResult{Query: q}
		if qerrs[i] != nil {
			res.Error = qerrs[i].Error()
		} else if ms := m.Match(qfps[i]); len(ms) > 0 {
			best := ms[0]
			ref := refs[best.RefID]
			res.Ref, res.Kind, res.Distance, res.Correlation, res.Match =
				&ref, best.Kind.String(), &best.Distance, &best.Correlation, true
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	return nil
}

// imageFiles lists the regular files of dir with an image extension, sorted.
func imageFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.Type().IsRegular() && slices.Contains([]string{".jpg", ".jpeg", ".png", ".gif", ".webp"}, ext) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

// hashAll fingerprints files on all cores, keeping their order.
func hashAll(h *Hasher, paths []string) ([]*Fingerprint, []error) {
	fps := make([]*Fingerprint, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				fps[i], errs[i] = h.FingerprintFile(paths[i])
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	return fps, errs
}
