package imageio

import (
	"image"
	"image/color"
	"image/draw"
	"math"
)

// Shrink returns src scaled down to w×h (each no larger than src's side) by area averaging:
// every output pixel is the mean of the source pixels it covers, weighted by how much of each
// it covers. Transparency is laid over white.
//
// Shrink exists because the kernel scalers of golang.org/x/image/draw widen their kernel with
// the shrink factor: Catmull-Rom from a 12 MP photo to 1600 pixels took 3–4 s on the 2-core
// machine, where this takes a tenth of that for the same (alias-free) result. It also works
// row by row, converting each source row to RGBA only when it is needed, so it needs memory
// for one source row and the output, not a second copy of a 40 MP picture.
func Shrink(src image.Image, w, h int) *image.RGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	w, h = max(1, min(w, sw)), max(1, min(h, sh))
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	xw := areaWeights(sw, w)
	yw := areaWeights(sh, h)

	op := draw.Src
	if !opaque(src) {
		op = draw.Over
	}
	row := image.NewRGBA(image.Rect(0, 0, sw, 1))
	white := image.NewUniform(color.White)
	acc := make([]float32, sw*4)
	line := make([]float32, w*4)
	for y := range h {
		clear(acc)
		for _, t := range yw[y] {
			if op == draw.Over {
				draw.Draw(row, row.Bounds(), white, image.Point{}, draw.Src)
			}
			draw.Draw(row, row.Bounds(), src, image.Point{b.Min.X, b.Min.Y + t.i}, op)
			for i, v := range row.Pix[:sw*4] {
				acc[i] += t.w * float32(v)
			}
		}
		clear(line)
		for x := range w {
			o := line[x*4 : x*4+4]
			for _, t := range xw[x] {
				p := acc[t.i*4 : t.i*4+4]
				o[0] += t.w * p[0]
				o[1] += t.w * p[1]
				o[2] += t.w * p[2]
				o[3] += t.w * p[3]
			}
		}
		dst := out.Pix[y*out.Stride : y*out.Stride+w*4]
		for i, v := range line {
			dst[i] = uint8(min(255, max(0, math.Round(float64(v)))))
		}
	}
	return out
}

// tap is one source index and its weight in an output pixel.
type tap struct {
	i int
	w float32
}

// areaWeights returns, for each of n output pixels, the source pixels (of size) it covers
// and their weights, which add up to 1.
func areaWeights(size, n int) [][]tap {
	scale := float64(size) / float64(n)
	out := make([][]tap, n)
	for j := range n {
		lo, hi := float64(j)*scale, float64(j+1)*scale
		for i := int(lo); i < size && float64(i) < hi; i++ {
			cover := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i))
			if cover > 1e-9 {
				out[j] = append(out[j], tap{i, float32(cover / scale)})
			}
		}
	}
	return out
}

// opaque reports whether src cannot have transparent pixels, from its type.
func opaque(src image.Image) bool {
	switch m := src.(type) {
	case *image.YCbCr, *image.Gray, *image.Gray16, *image.CMYK:
		return true
	case interface{ Opaque() bool }:
		return m.Opaque()
	}
	return false
}
