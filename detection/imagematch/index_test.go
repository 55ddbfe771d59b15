package imagematch

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"
)

// uniformHashes returns n random 64-bit hashes.
func uniformHashes(rng *rand.Rand, n int) []uint64 {
	h := make([]uint64, n)
	for i := range h {
		h[i] = rng.Uint64()
	}
	return h
}

// clusteredHashes returns n hashes shaped like real pHashes: many near-copies of a few
// thousand centres (the same picture re-encoded, cropped, its regions), and centres that
// share a skewed set of bit probabilities, as pictures with similar layouts do.
func clusteredHashes(rng *rand.Rand, n int) []uint64 {
	var p [64]float64
	for i := range p {
		p[i] = 0.5 + 0.45*(rng.Float64()*2-1)*rng.Float64()
	}
	centres := make([]uint64, max(1, n/200))
	for i := range centres {
		var c uint64
		for b := range 64 {
			if rng.Float64() < p[b] {
				c |= 1 << b
			}
		}
		centres[i] = c
	}
	h := make([]uint64, n)
	for i := range h {
		c := centres[rng.IntN(len(centres))]
		for range rng.IntN(12) {
			c ^= 1 << rng.IntN(64)
		}
		h[i] = c
	}
	return h
}

func seqIDs(n int) []uint32 {
	ids := make([]uint32, n)
	for i := range ids {
		ids[i] = uint32(i)
	}
	return ids
}

func TestIndexEqualsBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  func(*rand.Rand, int) []uint64
	}{{"uniform", uniformHashes}, {"clustered", clusteredHashes}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			const n, batch = 25200, 20000
			hashes := tc.gen(rng, n)
			ix := NewIndex()
			// One batch, then one by one: segments of two sizes and a tail.
			ix.AddBatch(hashes[:batch], seqIDs(n)[:batch])
			for i := batch; i < n; i++ {
				ix.Add(hashes[i], uint32(i))
			}
			if ix.Len() != n {
				t.Fatalf("Len = %d, want %d", ix.Len(), n)
			}
			if segs := len(ix.snap.Load().segs); segs < 2 {
				t.Fatalf("%d segments; the test should cover several", segs)
			}
			queries := append(uniformHashes(rng, 20), hashes[:20]...)
			for range 20 { // near a stored hash
				queries = append(queries, hashes[rng.IntN(n)]^(1<<rng.IntN(64))^(1<<rng.IntN(64)))
			}
			for r := 0; r <= 16; r++ {
				for _, q := range queries {
					got := ix.Query(q, r)
					want := bruteForce(hashes, seqIDs(n), q, r, nil)
					sortNeighbors(want)
					if !slices.Equal(got, want) {
						t.Fatalf("radius %d, query %016x: %d results, brute force %d", r, q, len(got), len(want))
					}
				}
			}
		})
	}
}

func TestIndexNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	hashes := clusteredHashes(rng, 10000)
	ix := NewIndex()
	ix.AddBatch(hashes, seqIDs(len(hashes)))
	for range 20 {
		q := rng.Uint64()
		got := ix.Nearest(q, 5, 64)
		all := bruteForce(hashes, seqIDs(len(hashes)), q, 64, nil)
		sortNeighbors(all)
		if !slices.Equal(got, all[:5]) {
			t.Fatalf("Nearest(%016x) = %v, want %v", q, got, all[:5])
		}
	}
	if got := ix.Nearest(hashes[0], 0, 10); got != nil {
		t.Errorf("k=0 returned %v", got)
	}
}

func TestIndexConcurrentAddQuery(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	hashes := uniformHashes(rng, 12000)
	ix := NewIndex()
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < len(hashes); i += 2 {
				ix.Add(hashes[i], uint32(i))
			}
		})
	}
	wg.Go(func() {
		for ix.Len() < len(hashes) {
			// Every hash already added must be found at radius 0.
			n := ix.Len()
			if n == 0 {
				continue
			}
			got := ix.Query(hashes[0], 0)
			if len(got) > 1 {
				t.Errorf("duplicate results %v", got)
				return
			}
			_ = ix.Query(rng.Uint64(), 8)
		}
	})
	wg.Wait()
	for i, h := range hashes {
		if !slices.ContainsFunc(ix.Query(h, 0), func(n Neighbor) bool { return n.ID == uint32(i) }) {
			t.Fatalf("hash %d lost", i)
		}
	}
}

func TestRadiiPigeonhole(t *testing.T) {
	// Any distance split over m blocks with total ≤ r puts some block within its radius.
	for m := 1; m <= 4; m++ {
		for r := 0; r <= 16; r++ {
			rs := radii(r, m)
			var rec func(j, left int, parts []int)
			rec = func(j, left int, parts []int) {
				if j == m {
					for i, p := range parts {
						if p <= rs[i] {
							return
						}
					}
					t.Fatalf("m=%d r=%d: split %v escapes radii %v", m, r, parts, rs)
				}
				for p := 0; p <= left; p++ {
					rec(j+1, left-p, append(parts, p))
				}
			}
			rec(0, r, nil)
		}
	}
}

// benchIndex measures, for n hashes: build time, bytes per hash, query p50/p99 at the
// default radius, and the speed-up over a brute-force scan of the same data.
func benchIndex(b *testing.B, n int, gen func(*rand.Rand, int) []uint64) {
	rng := rand.New(rand.NewPCG(7, 8))
	hashes := gen(rng, n)
	ids := seqIDs(n)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	ix := NewIndex()
	ix.AddBatch(hashes, ids)
	build := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	radius := DefaultMatchConfig().Radius
	// Queries: half near stored hashes (a listing that copies a reference), half random.
	queries := make([]uint64, 2000)
	for i := range queries {
		q := rng.Uint64()
		if i%2 == 0 {
			q = hashes[rng.IntN(n)]
			for range rng.IntN(radius + 1) {
				q ^= 1 << rng.IntN(64)
			}
		}
		queries[i] = q
	}
	lat := make([]time.Duration, 0, len(queries))
	found := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat = lat[:0]
		for _, q := range queries {
			t0 := time.Now()
			found += len(ix.Query(q, radius))
			lat = append(lat, time.Since(t0))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(found)/float64(b.N*len(queries)), "results/query")
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var bruteT time.Duration
	for _, q := range queries[:20] {
		t0 := time.Now()
		cnt := 0
		for _, h := range hashes {
			if bits.OnesCount64(h^q) <= radius {
				cnt++
			}
		}
		bruteT += time.Since(t0)
		found += cnt
	}
	brute := bruteT / 20
	var mean time.Duration
	for _, l := range lat {
		mean += l
	}
	mean /= time.Duration(len(lat))
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
	b.ReportMetric(build.Seconds(), "build-s")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heap-B/ref")
	b.ReportMetric(float64(ix.snap.Load().memBytes())/float64(n), "B/ref")
	b.ReportMetric(float64(brute)/float64(mean), "x-bruteforce")
	b.ReportMetric(0, "ns/op")
	if found < 0 {
		b.Log(found)
	}
}

func BenchmarkIndex(b *testing.B) {
	sizes := []int{1_000_000}
	if os.Getenv("DETECT_BENCH_10M") == "1" {
		sizes = append(sizes, 10_000_000)
	}
	for _, n := range sizes {
		for _, g := range []struct {
			name string
			gen  func(*rand.Rand, int) []uint64
		}{{"uniform", uniformHashes}, {"clustered", clusteredHashes}} {
			b.Run(fmt.Sprintf("%s/n=%dM", g.name, n/1_000_000), func(b *testing.B) { benchIndex(b, n, g.gen) })
		}
	}
}
