package imagematch

import (
	"fmt"
	"marketplace/detection/imagematch/imagetest"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestQualityCorpus is the matching-quality benchmark. It runs only with
// DETECT_CORPUS=dir (real photos, never committed; see corpusFiles):
//
//	DETECT_CORPUS=/work/bench-corpus/A go test -run TestQualityCorpus -v -timeout 30m ./detection/imagematch/
//
// Every photo is a reference. Each is altered in code as a counterfeiter would (see
// alterations) and the copy is matched against all references: recall is the share of
// copies whose own original is among the matches. The unaltered photos are matched
// too: any match with another photo is a false positive, over n·(n-1) ordered pairs.
// Then it repeats with one step of the method left out, to show what each buys. The
// table goes to the log, and to $DETECT_QUALITY_OUT when set.
func TestQualityCorpus(t *testing.T) {
	paths := corpusPaths(t)
	if paths == nil {
		t.Skip("set DETECT_CORPUS to a directory of photos (see /work/shared/bench/images.sh)")
	}
	start := time.Now()
	alts := append(alterations(), extraAlterations()...)
	full := newTestHasher(t)
	noTrim := newTestHasher(t)
	noTrim.noTrim = true
	hashers := []*Hasher{full, noTrim}
	n := len(paths)
	// fps[v][a][i]: hasher variant v, alteration a (len(alts) = the original), photo i.
	fps := make([][][]*Fingerprint, len(hashers))
	for v := range fps {
		fps[v] = make([][]*Fingerprint, len(alts)+1)
		for a := range fps[v] {
			fps[v][a] = make([]*Fingerprint, n)
		}
	}
	var failures []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				data, err := os.ReadFile(paths[i])
				if err != nil {
					t.Error(err)
					continue
				}
				img, err := decodeFile(data)
				if err != nil {
					t.Error(err)
					continue
				}
				versions := make([][]byte, len(alts)+1)
				for a, alt := range alts {
					rng := rand.New(rand.NewPCG(uint64(i), uint64(a)))
					versions[a] = imagetest.EncodeJPEG(t, alt.fn(img.RGBA, rng), alt.jpegQuality)
				}
				versions[len(alts)] = data
				for v, h := range hashers {
					for a, b := range versions {
						fp, err := h.Fingerprint(b)
						if err != nil {
							mu.Lock()
							failures = append(failures, fmt.Sprintf("%s/%d: %v", paths[i], a, err))
							mu.Unlock()
							continue
						}
						fps[v][a][i] = fp
					}
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	hashTime := time.Since(start)

	type ablation struct {
		name    string
		variant int
		drop    func(Kind) bool // hash kinds left out, on both sides
		cfg     func(*MatchConfig)
	}
	none := func(Kind) bool { return false }
	keep := func(*MatchConfig) {}
	ablations := []ablation{
		{"default (all steps)", 0, none, keep},
		{"without mirror hash", 0, func(k Kind) bool { return k == KindPHashMirror }, keep},
		{"without region hashes", 0, Kind.isRegion, keep},
		{"without rotated hashes", 0, func(k Kind) bool { return k == KindPHashRotCCW || k == KindPHashRotCW }, keep},
		{"without background fill", 0, func(k Kind) bool { return k == KindPHashFill }, keep},
		{"without untrimmed hash", 0, func(k Kind) bool { return k == KindPHashRaw }, keep},
		{"without trimming (and fill)", 1, none, keep},
		{"without finer check", 0, none, func(c *MatchConfig) { c.MinCorrelation, c.StrongMinCorrelation = -2, -2 }},
		{"finer check, one threshold 0.90", 0, none, func(c *MatchConfig) { c.StrongRadius = -1 }},
	}
	strip := func(fp *Fingerprint, drop func(Kind) bool) *Fingerprint {
		if fp == nil {
			return nil
		}
		out := *fp
		out.Hashes = nil
		for _, h := range fp.Hashes {
			if !drop(h.Kind) {
				out.Hashes = append(out.Hashes, h)
			}
		}
		return &out
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%d photos from %s; %d hash failures; hashing %v\n\n", n, os.Getenv("DETECT_CORPUS"), len(failures), hashTime.Round(time.Second))
	fmt.Fprintf(&report, "| configuration |")
	for _, a := range alts {
		fmt.Fprintf(&report, " %s |", a.name)
	}
	fmt.Fprintf(&report, " false pairs (FPR) | wrong matches of copies |\n|---|")
	for range alts {
		fmt.Fprintf(&report, "---|")
	}
	fmt.Fprintf(&report, "---|---|\n")
	for _, ab := range ablations {
		cfg := DefaultMatchConfig()
		ab.cfg(&cfg)
		m, err := NewMatcher(cfg)
		if err != nil {
			if m, err = NewMatcher(DefaultMatchConfig()); err != nil {
				t.Fatal(err)
			}
			m.cfg = cfg // the ablation may step outside validate's range on purpose
		}
		for i := range n {
			if fp := strip(fps[ab.variant][len(alts)][i], ab.drop); fp != nil {
				if err := m.Add(int64(i), fp); err != nil {
					t.Fatal(err)
				}
			}
		}
		fmt.Fprintf(&report, "| %s |", ab.name)
		wrong, copies := 0, 0
		for a := range alts {
			hit := 0
			for i := range n {
				q := strip(fps[ab.variant][a][i], ab.drop)
				if q == nil {
					continue
				}
				copies++
				for _, mt := range m.Match(q) {
					if mt.RefID == int64(i) {
						hit++
					} else {
						wrong++
					}
				}
			}
			fmt.Fprintf(&report, " %.1f%% |", 100*float64(hit)/float64(n))
		}
		falsePairs := 0
		for i := range n {
			q := strip(fps[ab.variant][len(alts)][i], ab.drop)
			if q == nil {
				continue
			}
			for _, mt := range m.Match(q) {
				if mt.RefID != int64(i) {
					falsePairs++
				}
			}
		}
		fmt.Fprintf(&report, " %d (%.1e) | %d of %d |\n", falsePairs, float64(falsePairs)/float64(n*(n-1)), wrong, copies)
	}
	for _, f := range failures[:min(len(failures), 10)] {
		fmt.Fprintf(&report, "\nfailed: %s", f)
	}
	t.Log("\n" + report.String())
	if out := os.Getenv("DETECT_QUALITY_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(report.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}
