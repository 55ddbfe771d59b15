package imagematch

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"slices"
	"strings"
)

// Kind says which picture a 64-bit hash was computed from, and how.
type Kind uint8

// The kinds of hash in a Fingerprint. The values are stored in serialised fingerprints,
// so they never change meaning; new kinds get new numbers.
const (
	KindPHash       Kind = 1 // pHash of the whole picture, uniform borders trimmed
	KindPHashMirror Kind = 2 // pHash of its mirror image (left and right swapped)
	KindDHash       Kind = 3 // dHash of the whole trimmed picture
	KindDHashMirror Kind = 4 // dHash of its mirror image
	// KindPHashRaw is the pHash of the picture with nothing trimmed, present only when
	// trimming cut something. Trimming can decide differently for a copy (a brightened
	// sky that saturates into a "border"), and then the untrimmed hashes still agree.
	KindPHashRaw Kind = 5
	// KindPHashRotCCW and KindPHashRotCW are pHashes of the picture turned by
	// rotationDegrees either way, so a copy turned a few degrees is still near one.
	KindPHashRotCCW Kind = 6
	KindPHashRotCW  Kind = 7
	// KindPHashFill is the pHash of the trimmed picture after its plain background (if
	// it has one) was painted white, so that the same object laid on a new plain
	// background still matches.
	KindPHashFill Kind = 8
	// Region kinds, kindRegion0 up to kindRegion0+26, are pHashes of windows of the
	// trimmed picture, so that a cropped copy is near one of them: windows of 90%, 85%
	// and 80% of each side, each at 3×3 positions from top left to bottom right.
	kindRegion0 Kind = 32
)

// rotationDegrees is the turn of the rotated reference hashes. A copy turned by up to
// about twice this either way is closer to one of them than to the upright hash.
const rotationDegrees = 2.5

// regionSizes are the window sizes of the region hashes, as fractions of each side.
var regionSizes = [3]float64{0.90, 0.85, 0.80}

// numRegions is the number of region kinds.
const numRegions = len(regionSizes) * 9

// regionRect returns the window of a region kind as fractions of the trimmed picture.
func (k Kind) regionRect() (x0, y0, x1, y1 float64) {
	n := int(k - kindRegion0)
	size := regionSizes[n/9]
	i, j := n%3, n%9/3
	x0, y0 = float64(i)/2*(1-size), float64(j)/2*(1-size)
	return x0, y0, x0 + size, y0 + size
}

func (k Kind) isRegion() bool { return k >= kindRegion0 && k < kindRegion0+Kind(numRegions) }

// String returns the name used in output and logs: "phash", "dhash_mirror",
// "region:85:tl" (the 85% window at the top left).
func (k Kind) String() string {
	switch k {
	case KindPHash:
		return "phash"
	case KindPHashMirror:
		return "phash_mirror"
	case KindDHash:
		return "dhash"
	case KindDHashMirror:
		return "dhash_mirror"
	case KindPHashRaw:
		return "phash_raw"
	case KindPHashRotCCW:
		return "phash_rot_ccw"
	case KindPHashRotCW:
		return "phash_rot_cw"
	case KindPHashFill:
		return "phash_fill"
	}
	if k.isRegion() {
		n := int(k - kindRegion0)
		return fmt.Sprintf("region:%.0f:%c%c", regionSizes[n/9]*100, "tmb"[n%9/3], "lcr"[n%3])
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// IsPHash reports whether hashes of kind k are pHashes (whole, mirror, raw, rotated or
// region), which are comparable with each other; dHashes are comparable only with
// dHashes.
func (k Kind) IsPHash() bool {
	return k == KindPHash || k == KindPHashMirror || k == KindPHashRaw ||
		k == KindPHashRotCCW || k == KindPHashRotCW || k == KindPHashFill || k.isRegion()
}

func (k Kind) valid() bool { return k.IsPHash() || k == KindDHash || k == KindDHashMirror }

// Hash is one 64-bit perceptual hash of a picture.
type Hash struct {
	Kind  Kind
	Value uint64
}

// ThumbSide is the side of the grey thumbnails in a Fingerprint.
const ThumbSide = 32

// Fingerprint is the set of hashes of one picture, and the small thumbnails the
// finer check compares. It is what is stored per image (MarshalBinary, 1.4 to 2.4 kB)
// and what the Matcher compares.
type Fingerprint struct {
	// Width and Height are the size of the working picture the hashes were computed
	// from (the decoded picture scaled down, the right way up).
	Width, Height int
	// Hashes holds one Hash per kind, in increasing Kind order.
	Hashes []Hash
	// Thumb is a ThumbSide×ThumbSide grey thumbnail of the trimmed picture, row-major.
	Thumb []byte
	// ThumbRaw is the thumbnail of the untrimmed picture, when trimming cut something.
	ThumbRaw []byte
}

// Hash returns the hash of kind k.
func (f *Fingerprint) Hash(k Kind) (Hash, bool) {
	for _, h := range f.Hashes {
		if h.Kind == k {
			return h, true
		}
	}
	return Hash{}, false
}

// String lists the 64-bit hashes as "kind:hex" separated by spaces.
func (f *Fingerprint) String() string {
	var b strings.Builder
	for i, h := range f.Hashes {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%016x", h.Kind, h.Value)
	}
	return b.String()
}

const fingerprintVersion = 1

// MarshalBinary encodes f compactly for storage (a PostgreSQL bytea): a version byte,
// the size as uvarints, the hash count and each hash as kind and 8 bytes, then the
// number of thumbnails (1 or 2) and their bytes.
func (f *Fingerprint) MarshalBinary() ([]byte, error) {
	if len(f.Hashes) > 255 {
		return nil, errors.New("imagematch: fingerprint has too many hashes")
	}
	if len(f.Thumb) != ThumbSide*ThumbSide || (f.ThumbRaw != nil && len(f.ThumbRaw) != ThumbSide*ThumbSide) {
		return nil, errors.New("imagematch: fingerprint thumbnail has the wrong size")
	}
	b := make([]byte, 0, 8+len(f.Hashes)*9+2*len(f.Thumb))
	b = append(b, fingerprintVersion)
	b = binary.AppendUvarint(b, uint64(f.Width))
	b = binary.AppendUvarint(b, uint64(f.Height))
	b = append(b, byte(len(f.Hashes)))
	for _, h := range f.Hashes {
		if !h.Kind.valid() {
			return nil, fmt.Errorf("imagematch: fingerprint has unknown hash kind %d", h.Kind)
		}
		b = append(b, byte(h.Kind))
		b = binary.BigEndian.AppendUint64(b, h.Value)
	}
	if f.ThumbRaw != nil {
		b = append(b, 2)
		b = append(b, f.Thumb...)
		b = append(b, f.ThumbRaw...)
	} else {
		b = append(b, 1)
		b = append(b, f.Thumb...)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded. It returns an error, never
// panics, on bytes that are not a fingerprint.
func (f *Fingerprint) UnmarshalBinary(b []byte) error {
	bad := func(what string) error { return fmt.Errorf("imagematch: bad fingerprint encoding: %s", what) }
	if len(b) < 1 || b[0] != fingerprintVersion {
		return bad("version")
	}
	b = b[1:]
	w, n := binary.Uvarint(b)
	if n <= 0 || w > math.MaxInt32 {
		return bad("width")
	}
	b = b[n:]
	h, n := binary.Uvarint(b)
	if n <= 0 || h > math.MaxInt32 {
		return bad("height")
	}
	b = b[n:]
	if len(b) < 1 {
		return bad("count")
	}
	count := int(b[0])
	b = b[1:]
	if len(b) < 9*count+1 {
		return bad("truncated")
	}
	hashes := make([]Hash, count)
	for i := range hashes {
		hashes[i] = Hash{Kind: Kind(b[0]), Value: binary.BigEndian.Uint64(b[1:])}
		if !hashes[i].Kind.valid() {
			return bad(fmt.Sprintf("kind %d", b[0]))
		}
		b = b[9:]
	}
	thumbs := int(b[0])
	b = b[1:]
	const ts = ThumbSide * ThumbSide
	if (thumbs != 1 && thumbs != 2) || len(b) != thumbs*ts {
		return bad("thumbnails")
	}
	*f = Fingerprint{Width: int(w), Height: int(h), Hashes: hashes, Thumb: b[:ts:ts]}
	if thumbs == 2 {
		f.ThumbRaw = b[ts:]
	}
	f.Thumb = append([]byte(nil), f.Thumb...) // do not keep the caller's buffer alive
	f.ThumbRaw = append([]byte(nil), f.ThumbRaw...)
	if thumbs == 1 {
		f.ThumbRaw = nil
	}
	return nil
}

// Hasher computes fingerprints under the limits of a HashConfig. It holds no state
// besides its configuration and is safe for concurrent use.
type Hasher struct {
	cfg HashConfig
	// noTrim turns border trimming off; it exists so the quality benchmark can measure
	// what trimming buys.
	noTrim bool
}

// NewHasher returns a Hasher with the given limits; see DefaultHashConfig.
func NewHasher(cfg HashConfig) (*Hasher, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Hasher{cfg: cfg}, nil
}

// Fingerprint computes the fingerprint of an image file's bytes.
//
// It returns ErrTooLarge, ErrTooManyPixels, ErrTooSmall, ErrNotImage (also for corrupt
// and truncated files) or ErrNoDetail, wrapped with details.
func (h *Hasher) Fingerprint(data []byte) (*Fingerprint, error) {
	return h.FingerprintContext(context.Background(), data)
}

// FingerprintContext is Fingerprint for a caller that may stop waiting: decoding waits for
// the process's pixel budget (imageio.AcquirePixels), and returns ctx's error when it ends
// first.
func (h *Hasher) FingerprintContext(ctx context.Context, data []byte) (*Fingerprint, error) {
	g, err := loadContext(ctx, data, h.cfg)
	if err != nil {
		return nil, err
	}
	return fingerprintGray(g, h.noTrim)
}

// FingerprintFile is Fingerprint for a file; a file over the size limit is refused
// before it is read.
func (h *Hasher) FingerprintFile(path string) (*Fingerprint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > h.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, st.Size(), h.cfg.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, h.cfg.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	return h.Fingerprint(data)
}

// FingerprintImage computes the fingerprint of an already decoded image (no EXIF
// orientation is applied; the size limits are the caller's business).
func (h *Hasher) FingerprintImage(img image.Image) (*Fingerprint, error) {
	b := img.Bounds()
	if b.Dx() < h.cfg.MinSide || b.Dy() < h.cfg.MinSide {
		return nil, fmt.Errorf("%w: %d×%d", ErrTooSmall, b.Dx(), b.Dy())
	}
	if int64(b.Dx())*int64(b.Dy()) > h.cfg.MaxPixels {
		return nil, fmt.Errorf("%w: %d×%d", ErrTooManyPixels, b.Dx(), b.Dy())
	}
	return fingerprintGray(grayFromImage(img), h.noTrim)
}

// minContent is the fewest working-image pixels a trimmed picture may keep on a side:
// below it the hashes would describe a few blurred pixels.
const minContent = 4

// fingerprintGray hashes a working picture: trims it, then computes the pHash of the
// whole, its mirror image, the untrimmed picture, two slightly rotated copies and 27
// windows, the dHash of the whole and its mirror, and the thumbnails.
//
// The hashes are goimagehash's, computed from pictures prepared here: exactly 64×64
// (pHash) or 9×8 (dHash), already grey and at (0,0). goimagehash's own preparation has
// known faults this avoids: nfnt/resize returns an input that already has the target
// size unchanged, and goimagehash then reads pixels from (0,0) even when the bounds
// start elsewhere; its Ext hashes index wrongly when width ≠ height.
func fingerprintGray(g *grayImage, noTrim bool) (*Fingerprint, error) {
	full := rectF{0, 0, float64(g.w), float64(g.h)}
	r, ok := g.trim()
	if !ok {
		return nil, fmt.Errorf("%w: one flat colour", ErrNoDetail)
	}
	if noTrim {
		r = full
	}
	if r.dx() < minContent || r.dy() < minContent {
		return nil, fmt.Errorf("%w: %.0f×%.0f working pixels left after trimming borders", ErrTooSmall, r.dx(), r.dy())
	}
	var (
		f64 [64 * 64]float32
		p64 [64 * 64]uint8
		f98 [9 * 8]float32
		p98 [9 * 8]uint8
		th  [ThumbSide * ThumbSide]float32
	)
	g.resample(r, ThumbSide, ThumbSide, th[:])
	if stddev(th[:]) < 1 {
		return nil, fmt.Errorf("%w: no contrast", ErrNoDetail)
	}
	fp := &Fingerprint{Width: g.w, Height: g.h, Thumb: make([]byte, len(th))}
	quantise(th[:], fp.Thumb)
	phash := func(g *grayImage, r rectF) (h, mirror uint64) {
		g.resample(r, 64, 64, f64[:])
		quantise(f64[:], p64[:])
		return pHashPair(&p64)
	}
	ph, phm := phash(g, r)
	g.resample(r, 9, 8, f98[:])
	quantise(f98[:], p98[:])
	fp.Hashes = append(fp.Hashes,
		Hash{KindPHash, ph}, Hash{KindPHashMirror, phm},
		Hash{KindDHash, dHashOf(&p98, false)}, Hash{KindDHashMirror, dHashOf(&p98, true)})
	if r != full {
		raw, _ := phash(g, full)
		fp.Hashes = append(fp.Hashes, Hash{KindPHashRaw, raw})
		fp.ThumbRaw = make([]byte, len(th))
		g.resample(full, ThumbSide, ThumbSide, th[:])
		quantise(th[:], fp.ThumbRaw)
	}
	for _, rot := range []struct {
		kind Kind
		deg  float64
	}{{KindPHashRotCCW, rotationDegrees}, {KindPHashRotCW, -rotationDegrees}} {
		// Turned as a whole and trimmed again, as the copy would be.
		gr := g.rotate(rot.deg)
		rr, ok := gr.trim()
		if !ok || noTrim || rr.dx() < minContent || rr.dy() < minContent {
			rr = full
		}
		h, _ := phash(gr, rr)
		fp.Hashes = append(fp.Hashes, Hash{rot.kind, h})
	}
	if fg, ok := g.fillBackground(0.9); ok && !noTrim {
		if rf, ok := fg.trim(); ok && rf.dx() >= minContent && rf.dy() >= minContent {
			h, _ := phash(fg, rf)
			fp.Hashes = append(fp.Hashes, Hash{KindPHashFill, h})
		}
	}
	// The 27 windows have 9 distinct column ranges; each is filtered horizontally once.
	var cols []float32
	for si := range regionSizes {
		for i := range 3 {
			for j := range 3 {
				k := kindRegion0 + Kind(si*9+j*3+i)
				wr := r.sub(k.regionRect())
				if j == 0 {
					cols = g.hpass(wr.x0, wr.x1, 64, cols)
				}
				g.vpass(cols, 64, wr.y0, wr.y1, 64, f64[:])
				quantise(f64[:], p64[:])
				c := pHashCoefficients(&p64)
				fp.Hashes = append(fp.Hashes, Hash{k, pHashBits(&c)})
			}
		}
	}
	slices.SortFunc(fp.Hashes, func(a, b Hash) int { return cmp.Compare(a.Kind, b.Kind) })
	return fp, nil
}

func stddev(v []float32) float64 {
	var s, s2 float64
	for _, x := range v {
		s += float64(x)
		s2 += float64(x) * float64(x)
	}
	n := float64(len(v))
	return math.Sqrt(math.Max(0, s2/n-(s/n)*(s/n)))
}
