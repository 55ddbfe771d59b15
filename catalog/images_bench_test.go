package catalog

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"golang.org/x/image/draw"

	"marketplace/internal/imageio"
)

// BenchmarkImageRenditions is the work of PutImage on a 12-megapixel phone photo (4000×3000
// JPEG): header checks, decoding, and the three renditions by area averaging. The baseline,
// in the same run, makes the largest rendition with x/image/draw's Catmull-Rom instead, the
// first way this was written.
func BenchmarkImageRenditions(b *testing.B) {
	data := encodeJPEG(b, twoTone(4000, 3000))
	b.Run("PutImage work (area shrink)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h, err := inspectImage(data, defaultImageLimits)
			if err != nil {
				b.Fatal(err)
			}
			img, err := decodeImage(data, h)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := render(img, h.Orientation); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("largest rendition only/area shrink", func(b *testing.B) {
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			imageio.Shrink(img, 1600, 1200)
		}
	})
	b.Run("largest rendition only/CatmullRom baseline", func(b *testing.B) {
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			dst := image.NewRGBA(image.Rect(0, 0, 1600, 1200))
			draw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
		}
	})
}
