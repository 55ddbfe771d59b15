// Package imagetest draws deterministic test pictures for the image core's tests and for the
// screening pipeline's: photo-like synthetic pictures and the copies a counterfeiter makes.
package imagetest

import (
	"bytes"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"
)

// SynthPhoto draws a deterministic picture with photo-like structure: a gradient sky,
// overlapping soft ellipses and boxes, and a little noise.
func SynthPhoto(seed uint64, w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	c0 := [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
	c1 := [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255}
	type blob struct {
		cx, cy, rx, ry float64
		col            [3]float64
		box            bool
	}
	var blobs []blob
	for range 4 + rng.IntN(6) {
		blobs = append(blobs, blob{
			cx: rng.Float64() * float64(w), cy: rng.Float64() * float64(h),
			rx: (0.08 + 0.3*rng.Float64()) * float64(w), ry: (0.08 + 0.3*rng.Float64()) * float64(h),
			col: [3]float64{rng.Float64() * 255, rng.Float64() * 255, rng.Float64() * 255},
			box: rng.IntN(3) == 0,
		})
	}
	for y := range h {
		t := float64(y) / float64(h)
		for x := range w {
			var c [3]float64
			for i := range c {
				c[i] = c0[i]*(1-t) + c1[i]*t
			}
			for _, b := range blobs {
				dx, dy := (float64(x)-b.cx)/b.rx, (float64(y)-b.cy)/b.ry
				inside := dx*dx+dy*dy < 1
				if b.box {
					inside = math.Abs(dx) < 1 && math.Abs(dy) < 1
				}
				if inside {
					c = b.col
				}
			}
			n := rng.Float64()*8 - 4
			o := img.PixOffset(x, y)
			for i := range 3 {
				img.Pix[o+i] = Clamp8(c[i] + n)
			}
			img.Pix[o+3] = 255
		}
	}
	return img
}

// Clamp8 rounds v to the nearest byte value, clamped to 0..255.
func Clamp8(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }

// EncodeJPEG encodes img at quality q, failing t on error.
func EncodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Mirror returns img flipped left to right.
func Mirror(img *image.RGBA) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := range b.Dy() {
		for x := range b.Dx() {
			copy(out.Pix[out.PixOffset(b.Dx()-1-x, y):][:4], img.Pix[img.PixOffset(x, y):][:4])
		}
	}
	return out
}

// Crop keeps 80-90% of each side of img, at a random offset.
func Crop(img *image.RGBA, rng *rand.Rand) image.Image {
	b := img.Bounds()
	kw := 0.80 + 0.10*rng.Float64()
	kh := 0.80 + 0.10*rng.Float64()
	w, h := int(float64(b.Dx())*kw), int(float64(b.Dy())*kh)
	x0 := rng.IntN(b.Dx() - w + 1)
	y0 := rng.IntN(b.Dy() - h + 1)
	return ToRGBA(img.SubImage(image.Rect(x0, y0, x0+w, y0+h)))
}

// ToRGBA returns img as an *image.RGBA whose bounds start at the origin.
func ToRGBA(img image.Image) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && m.Bounds().Min == (image.Point{}) {
		return m
	}
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Bounds(), img, b.Min, draw.Src)
	return m
}
