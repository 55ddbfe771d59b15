package imagematch

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
)

// MatchConfig holds the thresholds of a Matcher. The defaults were chosen on the
// quality benchmark (see QUALITY.md): they find at least 95% of plainly altered copies,
// and produced no false match among the 215,000 pairs of different pictures.
type MatchConfig struct {
	// Radius is the largest Hamming distance between 64-bit pHashes for which a
	// reference is a candidate at all. pHash distances are always even.
	Radius int
	// MinCorrelation is the finer check: the least normalised cross-correlation
	// (-1..1) between the query's thumbnail and the matched part of the reference's
	// for a candidate to match.
	MinCorrelation float64
	// StrongRadius and StrongMinCorrelation relax the finer check for candidates whose
	// pHash is already this close: a heavy caption or a new background lowers the
	// correlation of a copy that the hash alone all but proves.
	StrongRadius         int
	StrongMinCorrelation float64
	// MaxChecks bounds the finer checks per query (nearest candidates first), so a
	// query that lands in a crowd of near-identical references stays cheap.
	MaxChecks int
}

// DefaultMatchConfig returns the thresholds used by the server and the offline tools.
func DefaultMatchConfig() MatchConfig {
	return MatchConfig{Radius: 10, MinCorrelation: 0.90, StrongRadius: 4, StrongMinCorrelation: 0.75, MaxChecks: 64}
}

func (c MatchConfig) validate() error {
	if c.Radius < 0 || c.Radius > 32 || c.StrongRadius > c.Radius || c.MaxChecks < 1 ||
		math.IsNaN(c.MinCorrelation) || math.IsNaN(c.StrongMinCorrelation) {
		return fmt.Errorf("imagematch: invalid MatchConfig %+v", c)
	}
	return nil
}

// Match is one reference a query matched.
type Match struct {
	// RefID is the caller's ID of the reference image.
	RefID int64
	// Kind is the reference hash that matched: "phash" for a plain copy,
	// "phash_mirror" for a mirrored one, "region:85:tl" for a crop, and so on.
	Kind Kind
	// Distance is the Hamming distance between the 64-bit pHashes (0..64).
	Distance int
	// Correlation is the finer check's score (-1..1, 1 for the same picture).
	Correlation float64
}

// ErrNoHashes is returned by Matcher.Add for a fingerprint without a pHash or
// thumbnail (for instance one decoded from a foreign encoding).
var ErrNoHashes = errors.New("imagematch: fingerprint lacks pHash or thumbnail")

// Matcher finds the references a picture copies. It holds the references' fingerprints
// in memory (their hashes in an Index, their thumbnails, 1 to 2 kB per reference image,
// for the finer check). Add and Match may be called concurrently.
type Matcher struct {
	cfg   MatchConfig
	index *Index

	mu      sync.RWMutex
	entries []matchEntry // by index ID
	refs    []matchRef
}

type matchEntry struct {
	ref  uint32 // index into refs
	kind Kind
}

type matchRef struct {
	id int64
	fp *Fingerprint
}

// NewMatcher returns an empty Matcher with the given thresholds.
func NewMatcher(cfg MatchConfig) (*Matcher, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Matcher{cfg: cfg, index: NewIndex()}, nil
}

// Len returns the number of reference images.
func (m *Matcher) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.refs)
}

// Add adds a reference image. Every pHash of its fingerprint goes into the index.
// It returns ErrNoHashes for a fingerprint without pHash or thumbnail.
func (m *Matcher) Add(refID int64, fp *Fingerprint) error {
	if _, ok := fp.Hash(KindPHash); !ok || len(fp.Thumb) != ThumbSide*ThumbSide {
		return ErrNoHashes
	}
	m.mu.Lock()
	if len(m.entries)+len(fp.Hashes) > math.MaxUint32 {
		m.mu.Unlock()
		return errors.New("imagematch: matcher is full")
	}
	ref := uint32(len(m.refs))
	m.refs = append(m.refs, matchRef{id: refID, fp: fp})
	var hashes []uint64
	var ids []uint32
	for _, h := range fp.Hashes {
		if h.Kind.IsPHash() {
			hashes = append(hashes, h.Value)
			ids = append(ids, uint32(len(m.entries)))
			m.entries = append(m.entries, matchEntry{ref: ref, kind: h.Kind})
		}
	}
	m.mu.Unlock()
	// The entries exist before the index can return their IDs.
	for i, h := range hashes {
		m.index.Add(h, ids[i])
	}
	return nil
}

// queryKinds are the query hashes looked up in the index: the trimmed picture, the
// untrimmed one and the one with its background painted white. The reference side
// holds the mirror, rotated and region hashes, so the query needs none of its own.
var queryKinds = [...]Kind{KindPHash, KindPHashRaw, KindPHashFill}

// Match returns the references that fp copies, best first (smallest distance, then
// highest correlation), one Match per reference.
func (m *Matcher) Match(fp *Fingerprint) []Match {
	type cand struct {
		ref       uint32
		refKind   Kind
		queryKind Kind
		dist      int
	}
	var cands []cand
	m.mu.RLock()
	for _, qk := range queryKinds {
		h, ok := fp.Hash(qk)
		if !ok {
			continue
		}
		for _, n := range m.index.Query(h.Value, m.cfg.Radius) {
			e := m.entries[n.ID]
			cands = append(cands, cand{e.ref, e.kind, qk, n.Distance})
		}
	}
	m.mu.RUnlock()
	slices.SortFunc(cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.ref, b.ref), cmp.Compare(a.refKind, b.refKind))
	})
	if len(cands) > m.cfg.MaxChecks {
		cands = cands[:m.cfg.MaxChecks]
	}
	qviews := map[Kind]view{}
	best := map[uint32]Match{}
	for _, c := range cands {
		m.mu.RLock()
		ref := m.refs[c.ref]
		m.mu.RUnlock()
		if prev, ok := best[c.ref]; ok && prev.Distance < c.dist {
			continue // already matched by a closer hash
		}
		qv, ok := qviews[c.queryKind]
		if !ok {
			if qv, ok = viewOf(fp, c.queryKind); !ok {
				continue
			}
			qv.search = false
			qviews[c.queryKind] = qv
		}
		rv, ok := viewOf(ref.fp, c.refKind)
		if !ok {
			continue
		}
		corr := correlate(qv, rv)
		pass := corr >= m.cfg.MinCorrelation || (c.dist <= m.cfg.StrongRadius && corr >= m.cfg.StrongMinCorrelation)
		if !pass {
			continue
		}
		if prev, ok := best[c.ref]; !ok || corr > prev.Correlation { // same distance: better check
			best[c.ref] = Match{RefID: ref.id, Kind: c.refKind, Distance: c.dist, Correlation: corr}
		}
	}
	out := make([]Match, 0, len(best))
	for _, mt := range best {
		out = append(out, mt)
	}
	slices.SortFunc(out, func(a, b Match) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(b.Correlation, a.Correlation), cmp.Compare(a.RefID, b.RefID))
	})
	return out
}
