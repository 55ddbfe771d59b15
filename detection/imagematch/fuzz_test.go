package imagematch

import (
	"bytes"
	"errors"
	"image"
	"image/gif"
	"marketplace/detection/imagematch/imagetest"
	"os"
	"path/filepath"
	"testing"
)

// FuzzFingerprint feeds arbitrary bytes to the whole normaliser (header checks, the
// libjpeg-turbo and Go decoders, EXIF, trimming, hashing) and the fingerprint encoding.
// Whatever the input, the result is a fingerprint or one of the package's errors,
// never a panic or a hang.
//
//	go test -run '^$' -fuzz FuzzFingerprint -fuzztime 2m ./detection/imagematch/
//
// testdata/fuzz/FuzzFingerprint holds the seed corpus (tiny images of each format).
func FuzzFingerprint(f *testing.F) {
	photo := imagetest.SynthPhoto(1, 48, 40)
	f.Add(imagetest.EncodeJPEG(f, photo, 75))
	f.Add(exifJPEG(f, photo, 6, true))
	f.Add(pngOf(f, photo))
	var g bytes.Buffer
	if err := gif.Encode(&g, photo, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(g.Bytes())
	if b, err := os.ReadFile(filepath.Join("testdata", "cmyk.jpg")); err == nil {
		f.Add(b)
	}
	cfg := DefaultHashConfig()
	cfg.MaxPixels = 4_000_000 // keeps each input fast; the limit itself is what is tested
	h, err := NewHasher(cfg)
	if err != nil {
		f.Fatal(err)
	}
	known := []error{ErrNotImage, ErrTooLarge, ErrTooManyPixels, ErrTooSmall, ErrNoDetail}
	f.Fuzz(func(t *testing.T, data []byte) {
		fp, err := h.Fingerprint(data)
		if err != nil {
			for _, k := range known {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("error outside the package's set: %v", err)
		}
		if _, ok := fp.Hash(KindPHash); !ok || len(fp.Thumb) != ThumbSide*ThumbSide {
			t.Fatalf("incomplete fingerprint %v", fp)
		}
		b, err := fp.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var back Fingerprint
		if err := back.UnmarshalBinary(b); err != nil || back.String() != fp.String() {
			t.Fatalf("encoding round trip: %v", err)
		}
		_ = back.UnmarshalBinary(data) // arbitrary bytes as an encoding: an error, no panic
		if fp.Width <= 0 || fp.Height <= 0 {
			t.Fatalf("size %dx%d", fp.Width, fp.Height)
		}
	})
}

// TestFingerprintImageBounds checks FingerprintImage on images whose bounds do not
// start at (0,0), the case goimagehash gets wrong.
func TestFingerprintImageBounds(t *testing.T) {
	h := newTestHasher(t)
	big := imagetest.SynthPhoto(5, 300, 300)
	sub := big.SubImage(image.Rect(50, 70, 250, 230))
	a, err := h.FingerprintImage(sub)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.FingerprintImage(imagetest.ToRGBA(sub))
	if err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("a SubImage fingerprints differently from a copy of its pixels")
	}
}
