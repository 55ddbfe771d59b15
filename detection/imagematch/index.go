package imagematch

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
)

// Neighbor is one reference hash found by an Index query.
type Neighbor struct {
	ID       uint32
	Hash     uint64
	Distance int
}

// Index finds the 64-bit hashes within a Hamming radius of a query among millions, by
// multi-index hashing (Norouzi, Punjani, Fleet: "Fast search in Hamming space with
// multi-index hashing", CVPR 2012).
//
// The hash bits are split into m blocks of b bits. If two hashes differ in at most r
// bits, then, by pigeonhole, in at least one block they differ in at most ⌊r/m⌋ bits,
// and more precisely: with r = m·s + t, in one of the first t+1 blocks by at most s, or
// in one of the others by at most s-1. A query enumerates, per block, every sub-key
// that near its own, looks each up in that block's table, and verifies the candidates
// with a popcount. Blocks need not cover all 64 bits: the argument holds for the bits
// they cover, which lets b follow the number of hashes (b ≈ log2 n - 1) so a bucket
// holds a few entries.
//
// Storage is flat arrays, not maps of slices. A segment keeps its hashes and IDs sorted
// by the first block's sub-key, so that block's buckets are runs of the hash array
// itself; every other block keeps, sorted by its sub-key, 8-byte entries of a position
// and 32 further bits of the hash, which reject almost all false candidates before the
// hash array is touched; each block has an offsets table of 2^b+1 entries. That is
// about 8 + 4 + 8·(m-1) + 4·m·2^b/n bytes per hash: 31 at ten million (m = 3, b = 21).
//
// Adds go to a small unsorted tail, scanned by brute force; a full tail becomes a
// segment, and segments of similar size are merged, as in a log-structured merge tree.
// Readers take an immutable snapshot with one atomic load and never wait for a writer;
// writers are serialised, and the writer whose Add completes a merge pays for it.
type Index struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[indexSnapshot]
}

type indexSnapshot struct {
	segs   []*segment
	tailH  []uint64 // append-only: a snapshot never sees elements added after it
	tailID []uint32
	n      int
}

// tailMax is how many hashes the brute-force tail holds before it becomes a segment:
// scanning 4096 hashes costs about 3 µs.
const tailMax = 4096

// NewIndex returns an empty index.
func NewIndex() *Index {
	ix := &Index{}
	ix.snap.Store(&indexSnapshot{})
	return ix
}

// Len returns the number of hashes in the index.
func (ix *Index) Len() int { return ix.snap.Load().n }

// Add inserts a hash with the caller's ID (IDs need not be unique; the Matcher uses
// one per reference hash). It is safe to call concurrently with queries and other Adds.
func (ix *Index) Add(hash uint64, id uint32) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s := ix.snap.Load()
	ns := &indexSnapshot{segs: s.segs, tailH: append(s.tailH, hash), tailID: append(s.tailID, id), n: s.n + 1}
	if len(ns.tailH) >= tailMax {
		ns = ns.flushed()
	}
	ix.snap.Store(ns)
}

// AddBatch inserts many hashes at once (ids[i] for hashes[i]), building one segment
// directly: the way to load the references at start-up. It panics if the slices differ
// in length, a programming error.
func (ix *Index) AddBatch(hashes []uint64, ids []uint32) {
	if len(hashes) != len(ids) {
		panic("imagematch: AddBatch with unequal lengths")
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s := ix.snap.Load()
	h := append(append([]uint64(nil), s.tailH...), hashes...)
	id := append(append([]uint32(nil), s.tailID...), ids...)
	ns := &indexSnapshot{segs: append(slices.Clip(s.segs), buildSegment(h, id)), n: s.n + len(hashes)}
	ix.snap.Store(ns.merged())
}

// flushed turns the tail into a segment. It never reuses the tail's array, which older
// snapshots may still be reading.
func (s *indexSnapshot) flushed() *indexSnapshot {
	ns := &indexSnapshot{segs: append(slices.Clip(s.segs), buildSegment(s.tailH, s.tailID)), n: s.n}
	return ns.merged()
}

// merged merges the newest segments while the newer is at least a quarter the size
// of the older, so there are O(log n) segments and each hash is rebuilt O(log n) times.
func (s *indexSnapshot) merged() *indexSnapshot {
	segs := s.segs
	for len(segs) >= 2 {
		a, b := segs[len(segs)-2], segs[len(segs)-1]
		if 4*len(b.hashes) < len(a.hashes) {
			break
		}
		m := buildSegment(append(append([]uint64(nil), a.hashes...), b.hashes...),
			append(append([]uint32(nil), a.ids...), b.ids...))
		segs = append(slices.Clip(segs[:len(segs)-2]), m)
	}
	s.segs = segs
	return s
}

// Query returns every hash within radius of q, by increasing distance (then ID).
func (ix *Index) Query(q uint64, radius int) []Neighbor {
	if radius < 0 {
		return nil
	}
	radius = min(radius, 64)
	s := ix.snap.Load()
	var out []Neighbor
	for _, seg := range s.segs {
		out = seg.query(q, radius, out)
	}
	out = bruteForce(s.tailH, s.tailID, q, radius, out)
	sortNeighbors(out)
	return out
}

// Nearest returns the k hashes nearest to q within maxRadius, nearest first. It asks
// for growing radii, so it is cheap when near neighbours exist.
func (ix *Index) Nearest(q uint64, k, maxRadius int) []Neighbor {
	if k <= 0 {
		return nil
	}
	for r := min(2, maxRadius); ; r = min(2*r, maxRadius) {
		res := ix.Query(q, r)
		if len(res) >= k || r >= maxRadius {
			return res[:min(k, len(res))]
		}
	}
}

func sortNeighbors(ns []Neighbor) {
	slices.SortFunc(ns, func(a, b Neighbor) int {
		if c := cmp.Compare(a.Distance, b.Distance); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return cmp.Compare(a.Hash, b.Hash)
	})
}

func bruteForce(hashes []uint64, ids []uint32, q uint64, radius int, out []Neighbor) []Neighbor {
	for i, h := range hashes {
		if d := bits.OnesCount64(h ^ q); d <= radius {
			out = append(out, Neighbor{ID: ids[i], Hash: h, Distance: d})
		}
	}
	return out
}

// segment is an immutable, multi-indexed set of hashes.
type segment struct {
	hashes []uint64 // sorted by block 0's sub-key
	ids    []uint32
	blocks []block // nil for a small segment, scanned by brute force
}

type block struct {
	shift, width uint
	offsets      []uint32 // bucket of sub-key k: entries[offsets[k]:offsets[k+1]]
	entries      []entry  // nil for block 0, whose buckets are runs of hashes
}

// entry is a position in the segment and 32 bits of its hash that lie outside the block
// (the bits just above it, rotating round).
type entry struct{ pos, filter uint32 }

func (b *block) sub(h uint64) uint32 { return uint32(h>>b.shift) & (1<<b.width - 1) }

// filterBits returns the 32 bits of h just above the block, wrapping round bit 63.
func (b *block) filterBits(h uint64) uint32 {
	return uint32(bits.RotateLeft64(h, -int(b.shift)) >> b.width)
}

// minIndexed is the smallest segment worth indexing; below it a scan is cheaper.
const minIndexed = 2048

// blockLayout returns the number of blocks and their width for n hashes: b ≈ log2 n - 1
// keeps buckets at two to four entries, and three blocks keep the per-block radius of
// the default query radius (10) at three bits or fewer. Blocks never exceed 21 bits
// (3·21 ≤ 64, and offsets tables stay at 8 MB).
func blockLayout(n int) (m int, width uint) {
	w := max(8, min(21, bits.Len(uint(n))-2))
	return 3, uint(w)
}

func buildSegment(hashes []uint64, ids []uint32) *segment {
	s := &segment{hashes: hashes, ids: ids}
	n := len(hashes)
	if n < minIndexed {
		return s
	}
	m, w := blockLayout(n)
	s.blocks = make([]block, m)
	for j := range s.blocks {
		s.blocks[j] = block{shift: uint(j) * w, width: w}
	}
	// Block 0: sort the arrays themselves by sub-key (counting sort, stable).
	b0 := &s.blocks[0]
	b0.offsets = countOffsets(hashes, b0)
	pos := make([]uint32, len(b0.offsets))
	copy(pos, b0.offsets)
	sh := make([]uint64, n)
	si := make([]uint32, n)
	for i, h := range hashes {
		k := b0.sub(h)
		sh[pos[k]], si[pos[k]] = h, ids[i]
		pos[k]++
	}
	s.hashes, s.ids = sh, si
	for j := 1; j < m; j++ {
		b := &s.blocks[j]
		b.offsets = countOffsets(sh, b)
		copy(pos, b.offsets)
		b.entries = make([]entry, n)
		for i, h := range sh {
			k := b.sub(h)
			b.entries[pos[k]] = entry{pos: uint32(i), filter: b.filterBits(h)}
			pos[k]++
		}
	}
	return s
}

func countOffsets(hashes []uint64, b *block) []uint32 {
	off := make([]uint32, 1<<b.width+1)
	for _, h := range hashes {
		off[b.sub(h)+1]++
	}
	for k := 1; k < len(off); k++ {
		off[k] += off[k-1]
	}
	return off
}

// binomSum returns the number of sub-keys within radius r of a w-bit key.
func binomSum(w, r int) float64 {
	s, c := 0.0, 1.0
	for k := 0; k <= r && k <= w; k++ {
		s += c
		c = c * float64(w-k) / float64(k+1)
	}
	return s
}

// radii returns the per-block search radius for a query radius r (-1: skip the block).
func radii(r, m int) []int {
	s, t := r/m, r%m
	out := make([]int, m)
	for j := range out {
		out[j] = s
		if j > t {
			out[j] = s - 1
		}
	}
	return out
}

func (s *segment) query(q uint64, radius int, out []Neighbor) []Neighbor {
	if s.blocks == nil {
		return bruteForce(s.hashes, s.ids, q, radius, out)
	}
	rs := radii(radius, len(s.blocks))
	// Each probe is a cache miss or two, a scanned hash a fraction of one: when the
	// probes would outnumber a sixteenth of the hashes, scanning is cheaper.
	probes := 0.0
	for j, b := range s.blocks {
		probes += binomSum(int(b.width), rs[j])
	}
	if probes > float64(len(s.hashes))/16 || probes > math.MaxInt32 {
		return bruteForce(s.hashes, s.ids, q, radius, out)
	}
	// dup reports whether block j' < j already produced h.
	dup := func(h uint64, j int) bool {
		x := h ^ q
		for jj := range j {
			b := &s.blocks[jj]
			if bits.OnesCount32(b.sub(x)) <= rs[jj] {
				return true
			}
		}
		return false
	}
	sc := scratchPool.Get().(*queryScratch)
	defer scratchPool.Put(sc)
	for j := range s.blocks {
		b := &s.blocks[j]
		if rs[j] < 0 {
			continue
		}
		// Two passes, so the memory system works on many independent loads at once: first
		// every probed bucket's bounds (an offsets-table miss each), then the buckets.
		qk := b.sub(q)
		sc.spans = sc.spans[:0]
		for _, m := range masksFor(b.width, rs[j]) {
			k := qk ^ m
			if lo, hi := b.offsets[k], b.offsets[k+1]; lo < hi {
				sc.spans = append(sc.spans, span{lo, hi, uint32(bits.OnesCount32(m))})
			}
		}
		if j == 0 {
			for _, sp := range sc.spans {
				for p := sp.lo; p < sp.hi; p++ {
					if d := bits.OnesCount64(s.hashes[p] ^ q); d <= radius {
						out = append(out, Neighbor{ID: s.ids[p], Hash: s.hashes[p], Distance: d})
					}
				}
			}
			continue
		}
		qf := b.filterBits(q)
		for _, sp := range sc.spans {
			limit := radius - int(sp.d)
			for _, e := range b.entries[sp.lo:sp.hi] {
				if bits.OnesCount32(e.filter^qf) > limit {
					continue
				}
				h := s.hashes[e.pos]
				if d := bits.OnesCount64(h ^ q); d <= radius && !dup(h, j) {
					out = append(out, Neighbor{ID: s.ids[e.pos], Hash: h, Distance: d})
				}
			}
		}
	}
	return out
}

// span is a probed bucket: its bounds and the distance of its sub-key from the query's.
type span struct{ lo, hi, d uint32 }

type queryScratch struct {
	spans []span
}

var scratchPool = sync.Pool{New: func() any { return new(queryScratch) }}

// maskCache memoises masksFor: a few lists (one per block width and radius in use),
// computed once and then only read.
var maskCache sync.Map // w<<8 | r → []uint32

// masksFor returns every w-bit mask of at most r set bits, ordered so that masks equal
// but for their low four bits are adjacent: the sub-keys they probe then share a
// 64-byte line of the offsets table, which turns about half the probes' cache misses
// into hits.
func masksFor(w uint, r int) []uint32 {
	key := w<<8 | uint(r)
	if m, ok := maskCache.Load(key); ok {
		return m.([]uint32)
	}
	m := appendMasks(nil, w, r)
	slices.SortStableFunc(m, func(a, b uint32) int { return cmp.Compare(a>>4, b>>4) })
	maskCache.Store(key, m)
	return m
}

// appendMasks appends every w-bit mask of at most r set bits, the zero mask first.
func appendMasks(dst []uint32, w uint, r int) []uint32 {
	var rec func(start uint, left int, m uint32)
	rec = func(start uint, left int, m uint32) {
		dst = append(dst, m)
		if left == 0 {
			return
		}
		for b := start; b < w; b++ {
			rec(b+1, left-1, m|1<<b)
		}
	}
	rec(0, r, 0)
	return dst
}

// memBytes returns the bytes held by the snapshot's arrays, for the benchmarks.
func (s *indexSnapshot) memBytes() int {
	n := 8*cap(s.tailH) + 4*cap(s.tailID)
	for _, seg := range s.segs {
		n += 8*len(seg.hashes) + 4*len(seg.ids)
		for _, b := range seg.blocks {
			n += 4*len(b.offsets) + 8*len(b.entries)
		}
	}
	return n
}
