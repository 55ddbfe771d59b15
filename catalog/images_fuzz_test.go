package catalog

import (
	"bytes"
	"image/color"
	"image/jpeg"
	"testing"

	"marketplace/internal/fault"
)

// FuzzImageChecks feeds arbitrary bytes to the checks PutImage runs before storing anything.
// Whatever the input: no panic; a refusal is a field error on "image"; an accepted header is
// within the limits; and a picture that decodes gives renditions of the right size. The seed
// corpus (testdata/fuzz/FuzzImageChecks, plus the f.Add calls) holds a truncated JPEG,
// decompression-bomb headers for each format, a WebP, a PNG and random bytes.
func FuzzImageChecks(f *testing.F) {
	good := encodeJPEG(f, twoTone(64, 40))
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(withEXIFOrientation(good, 8))
	f.Add(encodePNG(f, twoTone(20, 30)))
	f.Add(pngBomb(100000, 100000))
	f.Add(jpegBomb(65000, 65000))
	f.Add(solidWebP(40, 20, color.RGBA{200, 10, 10, 255}))
	f.Add(solidWebP(16384, 16384, color.RGBA{200, 10, 10, 255}))
	f.Add([]byte("\x89PNG\r\n\x1a\n garbage"))
	// Low limits keep each run fast; the checks are the same.
	lim := imageLimits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxSide: 4096, MinSide: 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := inspectImage(data, lim)
		if err != nil {
			if e, ok := asImageError(err); !ok {
				t.Fatalf("refusal without the image field: %v (%+v)", err, e)
			}
			return
		}
		if h.Width < lim.MinSide || h.Height < lim.MinSide || int64(h.Width)*int64(h.Height) > lim.MaxPixels {
			t.Fatalf("accepted a %d×%d header", h.Width, h.Height)
		}
		img, err := decodeImage(data, h)
		if err != nil {
			if _, ok := asImageError(err); !ok {
				t.Fatalf("decode refusal without the image field: %v", err)
			}
			return
		}
		rs, err := render(img, h.Orientation)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(r.Data))
			if err != nil || max(cfg.Width, cfg.Height) > r.Size {
				t.Fatalf("rendition %d: %d×%d, %v", r.Size, cfg.Width, cfg.Height, err)
			}
		}
	})
}

// asImageError reports whether err is a refusal that names the image field.
func asImageError(err error) (*fault.Error, bool) {
	e, ok := fault.As(err)
	return e, ok && (e.Code == fault.Invalid || e.Code == fault.TooLarge) && len(e.Fields) == 1 && e.Fields[0].Field == "image"
}
