package imagematch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"marketplace/detection/imagematch/imagetest"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/corona10/goimagehash"
)

func newTestHasher(t testing.TB) *Hasher {
	t.Helper()
	h, err := NewHasher(DefaultHashConfig())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustFingerprint(t testing.TB, h *Hasher, data []byte) *Fingerprint {
	t.Helper()
	fp, err := h.Fingerprint(data)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

func hashOf(t testing.TB, fp *Fingerprint, k Kind) uint64 {
	t.Helper()
	h, ok := fp.Hash(k)
	if !ok {
		t.Fatalf("fingerprint has no %s hash", k)
	}
	return h.Value
}

func pngOf(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// prepared64 returns the 64×64 grey picture the pHash of a synthetic photo is computed from.
func prepared64(t testing.TB, seed uint64) *[64 * 64]uint8 {
	t.Helper()
	g := grayFromImage(imagetest.SynthPhoto(seed, 200+int(seed%7)*30, 150+int(seed%5)*40))
	var f [64 * 64]float32
	var p [64 * 64]uint8
	g.resample(rectF{0, 0, float64(g.w), float64(g.h)}, 64, 64, f[:])
	quantise(f[:], p[:])
	return &p
}

func TestPHashMatchesGoimagehash(t *testing.T) {
	t.Run("pHash and mirror equal the library's on the same pixels", func(t *testing.T) {
		for seed := range uint64(200) {
			p := prepared64(t, seed)
			img := &image.Gray{Pix: p[:], Stride: 64, Rect: image.Rect(0, 0, 64, 64)}
			want, err := goimagehash.PerceptionHash(img)
			if err != nil {
				t.Fatal(err)
			}
			var mp [64 * 64]uint8
			for y := range 64 {
				for x := range 64 {
					mp[y*64+x] = p[y*64+63-x]
				}
			}
			wantM, err := goimagehash.PerceptionHash(&image.Gray{Pix: mp[:], Stride: 64, Rect: image.Rect(0, 0, 64, 64)})
			if err != nil {
				t.Fatal(err)
			}
			got, gotM := pHashPair(p)
			if got != want.GetHash() || gotM != wantM.GetHash() {
				t.Fatalf("seed %d: pHash %016x mirror %016x, goimagehash %016x %016x", seed, got, gotM, want.GetHash(), wantM.GetHash())
			}
		}
	})
	t.Run("dHash equals the library's on the same pixels", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 1))
		for range 200 {
			var p [9 * 8]uint8
			for i := range p {
				p[i] = uint8(rng.IntN(256))
			}
			img := &image.Gray{Pix: p[:], Stride: 9, Rect: image.Rect(0, 0, 9, 8)}
			want, err := goimagehash.DifferenceHash(img)
			if err != nil {
				t.Fatal(err)
			}
			var m [9 * 8]uint8
			for y := range 8 {
				for x := range 9 {
					m[y*9+x] = p[y*9+8-x]
				}
			}
			wantM, err := goimagehash.DifferenceHash(&image.Gray{Pix: m[:], Stride: 9, Rect: image.Rect(0, 0, 9, 8)})
			if err != nil {
				t.Fatal(err)
			}
			if got := dHashOf(&p, false); got != want.GetHash() {
				t.Fatalf("dHash %016x, goimagehash %016x", got, want.GetHash())
			}
			if got := dHashOf(&p, true); got != wantM.GetHash() {
				t.Fatalf("mirror dHash %016x, goimagehash %016x", got, wantM.GetHash())
			}
		}
	})
}

// The known faults of goimagehash v1.1.0, shown on the library, and shown not to reach
// our fingerprints.
func TestGoimagehashPitfallsAvoided(t *testing.T) {
	photo := imagetest.SynthPhoto(42, 192, 128)
	h := newTestHasher(t)
	t.Run("SubImage at 64x64 hashes the wrong pixels in goimagehash, not here", func(t *testing.T) {
		big := imagetest.SynthPhoto(43, 128, 128)
		sub := big.SubImage(image.Rect(64, 64, 128, 128))
		copied := imagetest.ToRGBA(sub) // the same pixels, bounds at (0,0)
		a, err := goimagehash.PerceptionHash(sub)
		if err != nil {
			t.Fatal(err)
		}
		b, err := goimagehash.PerceptionHash(copied)
		if err != nil {
			t.Fatal(err)
		}
		if a.GetHash() == b.GetHash() {
			t.Fatal("goimagehash no longer shows the SubImage fault; this test needs updating")
		}
		fa, err := h.FingerprintImage(sub)
		if err != nil {
			t.Fatal(err)
		}
		fb, err := h.FingerprintImage(copied)
		if err != nil {
			t.Fatal(err)
		}
		if fa.String() != fb.String() {
			t.Errorf("SubImage and its copy fingerprint differently:\n%s\n%s", fa, fb)
		}
	})
	t.Run("Ext hashes index wrongly when width differs from height; fingerprints use none", func(t *testing.T) {
		// ExtPerceptionHash flattens with y*i+j instead of x*i+j: for 8×16 it indexes
		// past its array.
		func() {
			defer func() {
				if recover() == nil {
					t.Error("goimagehash ExtPerceptionHash(8, 16) no longer panics; this test needs updating")
				}
			}()
			_, _ = goimagehash.ExtPerceptionHash(photo, 8, 16)
		}()
		// A wide picture's pHash is computed from a square 64×64 preparation: it is the
		// library's PerceptionHash of exactly those pixels.
		g := grayFromImage(photo)
		var f [64 * 64]float32
		var p [64 * 64]uint8
		r, _ := g.trim()
		g.resample(r, 64, 64, f[:])
		quantise(f[:], p[:])
		want, err := goimagehash.PerceptionHash(&image.Gray{Pix: p[:], Stride: 64, Rect: image.Rect(0, 0, 64, 64)})
		if err != nil {
			t.Fatal(err)
		}
		fp, err := h.FingerprintImage(photo)
		if err != nil {
			t.Fatal(err)
		}
		if got := hashOf(t, fp, KindPHash); got != want.GetHash() {
			t.Errorf("pHash %016x, goimagehash on the prepared pixels %016x", got, want.GetHash())
		}
	})
	t.Run("Distance(nil) panics in goimagehash; Distance here takes values", func(t *testing.T) {
		a, err := goimagehash.PerceptionHash(photo)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("goimagehash no longer panics on Distance(nil)")
				}
			}()
			_, _ = a.Distance(nil)
		}()
		if d := Distance(a.GetHash(), 0); d < 0 || d > 64 {
			t.Errorf("Distance = %d", d)
		}
	})
}

func TestFingerprintEncoding(t *testing.T) {
	h := newTestHasher(t)
	fp := mustFingerprint(t, h, imagetest.EncodeJPEG(t, imagetest.SynthPhoto(7, 300, 200), 90))
	b, err := fp.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("round trip", func(t *testing.T) {
		var got Fingerprint
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if got.String() != fp.String() || !bytes.Equal(got.Thumb, fp.Thumb) || !bytes.Equal(got.ThumbRaw, fp.ThumbRaw) ||
			got.Width != fp.Width || got.Height != fp.Height {
			t.Fatal("round trip changed the fingerprint")
		}
	})
	t.Run("every truncation is an error, not a panic", func(t *testing.T) {
		for n := range len(b) {
			var got Fingerprint
			if err := got.UnmarshalBinary(b[:n]); err == nil {
				t.Fatalf("truncated to %d bytes: no error", n)
			}
		}
	})
	t.Run("compact", func(t *testing.T) {
		if len(b) > 2600 {
			t.Errorf("encoded fingerprint is %d bytes", len(b))
		}
	})
}

func TestFingerprintKinds(t *testing.T) {
	h := newTestHasher(t)
	fp := mustFingerprint(t, h, imagetest.EncodeJPEG(t, imagetest.SynthPhoto(8, 320, 240), 90))
	names := map[string]bool{}
	for _, hh := range fp.Hashes {
		names[hh.Kind.String()] = true
	}
	for _, want := range []string{"phash", "phash_mirror", "dhash", "dhash_mirror", "phash_rot_ccw", "phash_rot_cw", "region:90:tl", "region:85:mc", "region:80:br"} {
		if !names[want] {
			t.Errorf("no %s hash in %s", want, fp)
		}
	}
	if len(fp.Hashes) < 4+2+numRegions {
		t.Errorf("%d hashes", len(fp.Hashes))
	}
}

func TestFingerprintInvariance(t *testing.T) {
	h := newTestHasher(t)
	photo := imagetest.SynthPhoto(11, 400, 300)
	fp := mustFingerprint(t, h, imagetest.EncodeJPEG(t, photo, 92))
	ph := hashOf(t, fp, KindPHash)
	rng := rand.New(rand.NewPCG(1, 2))
	t.Run("mirror image matches the mirror hash", func(t *testing.T) {
		m := mustFingerprint(t, h, imagetest.EncodeJPEG(t, alterMirror(photo, rng), 92))
		if d := Distance(hashOf(t, m, KindPHash), hashOf(t, fp, KindPHashMirror)); d > 4 {
			t.Errorf("distance %d", d)
		}
	})
	t.Run("a solid border is trimmed", func(t *testing.T) {
		b := mustFingerprint(t, h, imagetest.EncodeJPEG(t, alterBorder(photo, rng), 92))
		if d := Distance(hashOf(t, b, KindPHash), ph); d > 4 {
			t.Errorf("distance %d", d)
		}
	})
	t.Run("transparency is laid on white", func(t *testing.T) {
		// An object on a transparent canvas hashes like the same object on white.
		obj := image.NewNRGBA(image.Rect(0, 0, 300, 300))
		onWhite := image.NewRGBA(obj.Bounds())
		for y := range 300 {
			for x := range 300 {
				onWhite.Set(x, y, color.White)
				if (x-150)*(x-150)+(y-140)*(y-140) < 90*90 || (x > 60 && x < 240 && y > 200 && y < 260) {
					c := color.NRGBA{uint8(x), 40, uint8(y), 255}
					obj.Set(x, y, c)
					onWhite.Set(x, y, c)
				}
			}
		}
		a := mustFingerprint(t, h, pngOf(t, obj))
		w := mustFingerprint(t, h, pngOf(t, onWhite))
		if d := Distance(hashOf(t, a, KindPHash), hashOf(t, w, KindPHash)); d > 4 {
			t.Errorf("distance %d", d)
		}
	})
}

// exifJPEG returns a JPEG with an APP1 EXIF segment carrying the given orientation.
func exifJPEG(t testing.TB, img image.Image, orientation uint16, bigEndian bool) []byte {
	t.Helper()
	j := imagetest.EncodeJPEG(t, img, 92)
	var bo binary.AppendByteOrder = binary.LittleEndian
	tiff := []byte("II*\x00")
	if bigEndian {
		bo, tiff = binary.BigEndian, []byte("MM\x00*")
	}
	tiff = bo.AppendUint32(tiff, 8)
	tiff = bo.AppendUint16(tiff, 1)      // one entry
	tiff = bo.AppendUint16(tiff, 0x0112) // Orientation
	tiff = bo.AppendUint16(tiff, 3)      // SHORT
	tiff = bo.AppendUint32(tiff, 1)
	tiff = bo.AppendUint16(tiff, orientation)
	tiff = append(tiff, 0, 0, 0, 0, 0, 0) // padding, next IFD = 0
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1}, byte((len(seg)+2)>>8), byte(len(seg)+2))
	out = append(out, seg...)
	return append(out, j[2:]...)
}

// storedAs returns the pixels a camera would store for the upright picture img
// together with EXIF orientation o.
func storedAs(img *image.RGBA, o int) *image.RGBA {
	b := img.Bounds()
	ow, oh := b.Dx(), b.Dy() // the stored size
	if o >= 5 {
		ow, oh = oh, ow
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	// Stored pixels are defined by what each orientation means for display, not by
	// inverting orient(), so the test checks orient() independently.
	for y := range oh {
		for x := range ow {
			var dx, dy int // displayed position of stored pixel (x, y)
			switch o {
			case 1:
				dx, dy = x, y
			case 2:
				dx, dy = ow-1-x, y
			case 3:
				dx, dy = ow-1-x, oh-1-y
			case 4:
				dx, dy = x, oh-1-y
			case 5: // transpose
				dx, dy = y, x
			case 6: // stored rotated 90° CCW; display turns it 90° CW
				dx, dy = oh-1-y, x
			case 7: // transverse
				dx, dy = oh-1-y, ow-1-x
			case 8: // display turns it 90° CCW
				dx, dy = y, ow-1-x
			}
			copy(out.Pix[out.PixOffset(x, y):][:4], img.Pix[img.PixOffset(dx, dy):][:4])
		}
	}
	return out
}

func TestEXIFOrientation(t *testing.T) {
	h := newTestHasher(t)
	photo := imagetest.SynthPhoto(21, 240, 160)
	upright := mustFingerprint(t, h, imagetest.EncodeJPEG(t, photo, 92))
	for o := 1; o <= 8; o++ {
		for _, be := range []bool{false, true} {
			data := exifJPEG(t, storedAs(photo, o), uint16(o), be)
			if got := jpegOrientation(data); got != o {
				t.Fatalf("orientation %d read as %d", o, got)
			}
			// The turned JPEG's own compression noise can tip the trimming of a side, so
			// compare as the Matcher does, trimmed or untrimmed.
			if _, d := wholeDistance(t, mustFingerprint(t, h, data), upright); d > 4 {
				t.Errorf("orientation %d (big endian %v): distance %d from upright", o, be, d)
			}
		}
	}
	t.Run("broken EXIF means upright", func(t *testing.T) {
		data := exifJPEG(t, photo, 6, false)
		for _, cut := range []int{12, 16, 20, 24, 30} {
			broken := append([]byte(nil), data...)
			binary.LittleEndian.PutUint32(broken[cut:], 0xFFFFFFFF)
			_ = jpegOrientation(broken) // must not panic
		}
		bad := exifJPEG(t, photo, 99, false)
		if got := jpegOrientation(bad); got != 1 {
			t.Errorf("orientation 99 read as %d", got)
		}
		if _, err := h.Fingerprint(bad); err != nil {
			t.Errorf("a bad orientation value refused the photo: %v", err)
		}
	})
}

func TestBadInput(t *testing.T) {
	h := newTestHasher(t)
	photo := imagetest.SynthPhoto(31, 300, 200)
	good := imagetest.EncodeJPEG(t, photo, 90)
	// hugePNG claims 100000×100000 in its header and has no pixel data.
	hugePNG := func() []byte {
		var b bytes.Buffer
		b.WriteString("\x89PNG\r\n\x1a\n")
		ihdr := binary.BigEndian.AppendUint32(nil, 100000)
		ihdr = binary.BigEndian.AppendUint32(ihdr, 100000)
		ihdr = append(ihdr, 8, 2, 0, 0, 0)
		b.Write(binary.BigEndian.AppendUint32(nil, 13))
		chunk := append([]byte("IHDR"), ihdr...)
		b.Write(chunk)
		b.Write(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(chunk)))
		return b.Bytes() // no pixel data at all: only the header is ever read
	}()
	// A real Adobe CMYK JPEG (made with Pillow; image/jpeg cannot write one).
	cmykJPEG, err := os.ReadFile("testdata/cmyk.jpg")
	if err != nil {
		t.Fatal(err)
	}
	gray16 := image.NewGray16(image.Rect(0, 0, 120, 90))
	for i := range gray16.Pix {
		gray16.Pix[i] = uint8(i * 7)
	}
	anim := &gif.GIF{}
	for i := range 3 {
		fr := image.NewPaletted(image.Rect(0, 0, 100, 80), []color.Color{color.White, color.Black, color.RGBA{200, 30, 30, 255}})
		for p := range fr.Pix {
			fr.Pix[p] = uint8((p/7 + i) % 3)
		}
		anim.Image = append(anim.Image, fr)
		anim.Delay = append(anim.Delay, 10)
	}
	var gifBuf bytes.Buffer
	if err := gif.EncodeAll(&gifBuf, anim); err != nil {
		t.Fatal(err)
	}
	flat := image.NewRGBA(image.Rect(0, 0, 100, 100))
	for i := range flat.Pix {
		flat.Pix[i] = 128
	}
	for _, tc := range []struct {
		name string
		data []byte
		want error // nil: must succeed
	}{
		{"ErrNotImage/text", []byte("this is not an image"), ErrNotImage},
		{"ErrNotImage/empty", nil, ErrNotImage},
		{"ErrNotImage/truncated JPEG", good[:len(good)/2], ErrNotImage},
		{"ErrNotImage/JPEG header only", good[:200], ErrNotImage},
		{"ErrTooSmall/1x1", pngOf(t, image.NewRGBA(image.Rect(0, 0, 1, 1))), ErrTooSmall},
		{"ErrTooManyPixels/100000x100000 header", hugePNG, ErrTooManyPixels},
		{"ErrNoDetail/flat", pngOf(t, flat), ErrNoDetail},
		{"CMYK JPEG is hashed", cmykJPEG, nil},
		{"16-bit PNG is hashed", pngOf(t, gray16), nil},
		{"animated GIF is hashed from its first frame", gifBuf.Bytes(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp, err := h.Fingerprint(tc.data)
			if tc.want == nil {
				if err != nil || fp == nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("ErrTooLarge before decoding", func(t *testing.T) {
		cfg := DefaultHashConfig()
		cfg.MaxBytes = 1000
		small, err := NewHasher(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := small.Fingerprint(good); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error %v", err)
		}
	})
}

// wholeDistance is the distance that matters for matching the whole picture: the
// Matcher looks up both the trimmed and the untrimmed pHash, so a picture whose
// borders one path trims and the other does not still matches through the latter.
func wholeDistance(t testing.TB, a, b *Fingerprint) (trimmed, matching int) {
	t.Helper()
	raw := func(fp *Fingerprint) uint64 {
		if h, ok := fp.Hash(KindPHashRaw); ok {
			return h.Value
		}
		return hashOf(t, fp, KindPHash)
	}
	trimmed = Distance(hashOf(t, a, KindPHash), hashOf(t, b, KindPHash))
	return trimmed, min(trimmed, Distance(raw(a), raw(b)))
}

// TestFastAndPlainAgree measures how often the libjpeg-turbo path (DCT-domain
// downscaling) and the plain path (image/jpeg, box filter) disagree by more than 4 bits.
// DETECT_CORPUS=dir adds the real photos of dir.
func TestFastAndPlainAgree(t *testing.T) {
	if !fastJPEG {
		t.Skip("built without cgo: there is only the plain path")
	}
	fast := newTestHasher(t)
	cfg := DefaultHashConfig()
	cfg.Plain = true
	plain, err := NewHasher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var inputs [][]byte
	for seed := range uint64(60) {
		w, h := 300+int(seed*37%900), 250+int(seed*53%700)
		inputs = append(inputs, imagetest.EncodeJPEG(t, imagetest.SynthPhoto(seed, w, h), 85))
	}
	generated := len(inputs)
	inputs = append(inputs, corpusFiles(t, 0)...)
	worst, overTrim, over := 0, 0, 0
	for _, data := range inputs {
		a := mustFingerprint(t, fast, data)
		b := mustFingerprint(t, plain, data)
		dt, dm := wholeDistance(t, a, b)
		worst = max(worst, dm)
		if dt > 4 {
			overTrim++
		}
		if dm > 4 {
			over++
		}
	}
	t.Logf("fast vs plain over %d JPEGs (%d generated, %d real): %d differ by more than 4 bits in the trimmed pHash, "+
		"%d in the better of trimmed and untrimmed (what matching uses), worst %d bits",
		len(inputs), generated, len(inputs)-generated, overTrim, over, worst)
	if over > len(inputs)/50 {
		t.Errorf("%d of %d fingerprints differ by more than 4 bits", over, len(inputs))
	}
}
