package imagematch

import (
	"image"
	"marketplace/internal/imageio"
	"math"
	"slices"
)

// grayImage is the working picture every hash is computed from: luma (BT.601, the Y of
// JPEG's YCbCr) in 0..255, transparency already laid on white, small (its short side is
// about workSide pixels), so that trimming and region sampling cost microseconds.
type grayImage struct {
	w, h int
	pix  []float32 // row-major, len w*h
}

// workSide is the short side the decoders aim for: the smallest decoded size that still
// leaves a 64×64 hash input for a region of 70% of the picture. The fast JPEG path
// decodes at the smallest DCT scale at least this large.
const workSide = 96

func newGray(w, h int) *grayImage {
	return &grayImage{w: w, h: h, pix: make([]float32, w*h)}
}

// boxFactor is the integer factor by which a w×h picture is box-filtered while it is
// converted, so that its short side stays at least workSide.
func boxFactor(w, h int) int {
	return max(1, min(w, h)/workSide)
}

// luma returns BT.601 luma of 16-bit premultiplied RGBA composited onto white.
func luma(r, g, b, a uint32) float32 {
	bg := float32(0xFFFF - a) // white shows through where the picture is transparent
	y := 0.299*(float32(r)+bg) + 0.587*(float32(g)+bg) + 0.114*(float32(b)+bg)
	return y / 257
}

// grayFromImage converts any decoded image to luma on white, box-filtering it by an
// integer factor on the way (partial boxes at the right and bottom edges are averaged
// over the pixels they hold), so a 50-megapixel PNG never becomes a 50-megapixel float
// array. The common concrete types are read directly; others through At.
func grayFromImage(img image.Image) *grayImage {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	f := boxFactor(w, h)
	ow, oh := (w+f-1)/f, (h+f-1)/f
	sum := make([]float32, ow*oh)
	cnt := make([]float32, ow*oh)
	row := make([]float32, w)
	for y := range h {
		grayRow(img, b.Min.X, b.Min.Y+y, row)
		o := (y / f) * ow
		for x, v := range row {
			sum[o+x/f] += v
			cnt[o+x/f]++
		}
	}
	g := &grayImage{w: ow, h: oh, pix: sum}
	for i := range sum {
		sum[i] /= cnt[i]
	}
	return g
}

// grayRow fills row with the luma of the pixels (x0+i, y).
func grayRow(img image.Image, x0, y int, row []float32) {
	switch m := img.(type) {
	case *image.YCbCr:
		off := m.YOffset(x0, y)
		for i := range row {
			row[i] = float32(m.Y[off+i])
		}
	case *image.Gray:
		off := m.PixOffset(x0, y)
		for i := range row {
			row[i] = float32(m.Pix[off+i])
		}
	case *image.RGBA:
		off := m.PixOffset(x0, y)
		for i := range row {
			p := m.Pix[off+4*i : off+4*i+4 : off+4*i+4]
			bg := float32(255 - p[3])
			row[i] = 0.299*(float32(p[0])+bg) + 0.587*(float32(p[1])+bg) + 0.114*(float32(p[2])+bg)
		}
	case *image.NRGBA:
		off := m.PixOffset(x0, y)
		for i := range row {
			p := m.Pix[off+4*i : off+4*i+4 : off+4*i+4]
			a := float32(p[3]) / 255
			yy := 0.299*float32(p[0]) + 0.587*float32(p[1]) + 0.114*float32(p[2])
			row[i] = yy*a + 255*(1-a)
		}
	case *image.Paletted:
		var lut [256]float32
		for i, c := range m.Palette {
			lut[i] = luma(c.RGBA())
		}
		for i := len(m.Palette); i < 256; i++ {
			lut[i] = 255 // an index outside the palette: treat as background
		}
		off := m.PixOffset(x0, y)
		for i := range row {
			row[i] = lut[m.Pix[off+i]]
		}
	default:
		for i := range row {
			row[i] = luma(img.At(x0+i, y).RGBA())
		}
	}
}

// orient applies an EXIF orientation (2..8) so the picture is the right way up.
func (g *grayImage) orient(o int) *grayImage {
	if o < 2 || o > 8 {
		return g
	}
	ow, oh := imageio.OrientedSize(o, g.w, g.h)
	out := newGray(ow, oh)
	for y := range oh {
		for x := range ow {
			sx, sy := imageio.OrientedSource(o, g.w, g.h, x, y)
			out.pix[y*ow+x] = g.pix[sy*g.w+sx]
		}
	}
	return out
}

// rectF is a rectangle in working-image coordinates (pixels, fractional).
type rectF struct{ x0, y0, x1, y1 float64 }

func (r rectF) dx() float64 { return r.x1 - r.x0 }
func (r rectF) dy() float64 { return r.y1 - r.y0 }

// sub returns the part of r from fractions (fx0, fy0) to (fx1, fy1) of its size.
func (r rectF) sub(fx0, fy0, fx1, fy1 float64) rectF {
	return rectF{r.x0 + fx0*r.dx(), r.y0 + fy0*r.dy(), r.x0 + fx1*r.dx(), r.y0 + fy1*r.dy()}
}

// Trimming: a row or column belongs to a uniform border when nearly all its pixels are
// within trimTolerance of the border's level (the tolerance absorbs JPEG noise, which
// the box filter has mostly averaged away; the fraction lets a speck of dust or a
// watermark dot not stop the trim). A side is trimmed only when the border ends at a
// crisp edge, a line with pixels at least trimEdge away from the level: where a photo
// fades softly into a dark or light edge, the point where "uniform" stops would move
// with every resize or brightness change, and the hashes with it.
const (
	trimTolerance = 10
	trimFraction  = 0.985
	trimEdge      = 28
)

// trim returns the bounds of the picture without its uniform borders: solid frames,
// letterboxing, and the plain background around a product shot. Each side is trimmed
// against its own level, so a black bar on top and white space below both go. ok is
// false when nothing but border is left.
func (g *grayImage) trim() (r rectF, ok bool) {
	// line reports, for the n pixels at p, p+step, ..., whether they are uniform at
	// level and whether some pixel stands out from it by trimEdge (a crisp edge).
	line := func(p, step, n int, level float32) (uniform, edge bool) {
		bad, limit := 0, int(float64(n)*(1-trimFraction))
		for i := 0; i < n; i, p = i+1, p+step {
			d := g.pix[p] - level
			if d < 0 {
				d = -d
			}
			if d > trimTolerance {
				bad++
			}
			if d >= trimEdge {
				edge = true
			}
		}
		return bad <= limit, edge
	}
	// side advances from the outermost line inwards while lines are uniform, and
	// returns how many lines to cut (0 unless the border ends at a crisp edge).
	side := func(first, stepLine, stepPix, lines, n int, level float32) int {
		k := 0
		for k < lines {
			u, _ := line(first+k*stepLine, stepPix, n, level)
			if !u {
				break
			}
			k++
		}
		if k == lines {
			return k
		}
		if k == 0 {
			return 0
		}
		for j := k; j < min(k+3, lines); j++ {
			if _, e := line(first+j*stepLine, stepPix, n, level); e {
				return k
			}
		}
		return 0
	}
	w, h := g.w, g.h
	col := func(x int) []float32 {
		c := make([]float32, h)
		for y := range h {
			c[y] = g.pix[y*w+x]
		}
		return c
	}
	top := side(0, w, 1, h, w, median(g.pix[:w]))
	if top == h {
		return rectF{}, false
	}
	bottom := side((h-1)*w, -w, 1, h-top, w, median(g.pix[(h-1)*w:]))
	y0, y1 := top, h-bottom
	left := side(y0*w, 1, w, w, y1-y0, median(col(0)[y0:y1]))
	if left == w {
		return rectF{}, false
	}
	right := side(y0*w+w-1, -1, w, w-left, y1-y0, median(col(w - 1)[y0:y1]))
	x0, x1 := left, w-right
	if x0 >= x1 || y0 >= y1 {
		return rectF{}, false
	}
	return rectF{float64(x0), float64(y0), float64(x1), float64(y1)}, true
}

// median returns the median of v to the nearest level: a counting pass over 0..255 is
// linear and exact enough for a border level.
func median(v []float32) float32 {
	var hist [257]int
	for _, x := range v {
		hist[int(math.Max(0, math.Min(256, float64(x)+0.5)))]++
	}
	half, acc := len(v)/2, 0
	for i, n := range hist {
		if acc += n; acc > half {
			return float32(i)
		}
	}
	return 255
}

// resample averages the area r of g into a w×h grid (a box filter with fractional
// coverage at the edges of each cell), writing into dst (len w*h). Area averaging is
// what the DCT-domain downscaling of the fast JPEG path does too, which keeps the two
// paths' fingerprints equivalent. Cells smaller than a pixel (upsampling a small region)
// take the pixels they overlap.
func (g *grayImage) resample(r rectF, w, h int, dst []float32) {
	g.vpass(g.hpass(r.x0, r.x1, w, nil), w, r.y0, r.y1, h, dst)
}

// hpass is resample's horizontal half: every row of g averaged into w cells over
// [x0, x1), appended to buf. Windows that share their columns share one hpass.
func (g *grayImage) hpass(x0, x1 float64, w int, buf []float32) []float32 {
	xw := axisWeights(x0, x1, w, g.w)
	out := slices.Grow(buf[:0], g.h*w)[:g.h*w]
	if t3, ok := xw.taps3(g.w); ok {
		// Downscaling by under 2: at most three taps a cell, unrolled.
		for y := range g.h {
			src := g.pix[y*g.w : (y+1)*g.w]
			o := out[y*w : (y+1)*w]
			for x := range o {
				c := &t3[x]
				p := src[c.lo : c.lo+3 : c.lo+3]
				o[x] = p[0]*c.w[0] + p[1]*c.w[1] + p[2]*c.w[2]
			}
		}
		return out
	}
	for y := range g.h {
		src := g.pix[y*g.w : (y+1)*g.w]
		o := out[y*w : (y+1)*w]
		k := 0
		for x := range o {
			lo, n := int(xw.lo[x]), int(xw.n[x])
			ws, sp := xw.wt[k:k+n], src[lo:lo+n]
			var s float32
			for i, wt := range ws {
				s += sp[i] * wt
			}
			k += n
			o[x] = s
		}
	}
	return out
}

// tap3 is a cell of at most three taps, padded with zero weights.
type tap3 struct {
	lo int
	w  [3]float32
}

// taps3 returns the weights as three taps per cell, starting no later than size-3, or
// false when some cell needs more.
func (ws weights) taps3(size int) ([]tap3, bool) {
	if size < 3 {
		return nil, false
	}
	out := make([]tap3, len(ws.lo))
	k := 0
	for i := range out {
		lo, n := int(ws.lo[i]), int(ws.n[i])
		if n > 3 {
			return nil, false
		}
		start := min(lo, size-3)
		out[i].lo = start
		for j := range n {
			out[i].w[lo-start+j] = ws.wt[k+j]
		}
		k += n
	}
	return out, true
}

// vpass is resample's vertical half: the rows of an hpass result (w wide, g.h high)
// averaged into h cells over [y0, y1).
func (g *grayImage) vpass(tmp []float32, w int, y0, y1 float64, h int, dst []float32) {
	yw := axisWeights(y0, y1, h, g.h)
	k := 0
	for y := range h {
		lo, n := int(yw.lo[y]), int(yw.n[y])
		d := dst[y*w : (y+1)*w]
		clear(d)
		for i, wt := range yw.wt[k : k+n] {
			row := tmp[(lo+i)*w : (lo+i+1)*w]
			for x, v := range row {
				d[x] += v * wt
			}
		}
		k += n
	}
}

// weights lists, per output cell of one axis, the first source pixel, how many it
// covers, and (concatenated) their normalised weights.
type weights struct {
	lo, n []int32
	wt    []float32
}

// axisWeights splits [a, b) into n cells over an axis of size pixels.
func axisWeights(a, b float64, n, size int) weights {
	out := weights{lo: make([]int32, n), n: make([]int32, n), wt: make([]float32, 0, n*3)}
	step := (b - a) / float64(n)
	for i := range n {
		c0, c1 := a+float64(i)*step, a+float64(i+1)*step
		if c1-c0 < 1 { // a cell under a pixel wide: widen it to one pixel around its centre
			mid := (c0 + c1) / 2
			c0, c1 = mid-0.5, mid+0.5
		}
		c0, c1 = math.Max(0, c0), math.Min(float64(size), c1)
		lo, hi := int(math.Floor(c0)), int(math.Ceil(c1))
		if hi <= lo { // entirely outside: clamp to the nearest pixel
			lo = min(max(lo, 0), size-1)
			hi, c0, c1 = lo+1, float64(lo), float64(lo+1)
		}
		var tot float64
		for p := lo; p < hi; p++ {
			tot += math.Min(c1, float64(p+1)) - math.Max(c0, float64(p))
		}
		for p := lo; p < hi; p++ {
			out.wt = append(out.wt, float32((math.Min(c1, float64(p+1))-math.Max(c0, float64(p)))/tot))
		}
		out.lo[i], out.n[i] = int32(lo), int32(hi-lo)
	}
	return out
}

// quantise rounds a float picture to bytes, as goimagehash would see it in an
// image.Gray.
func quantise(src []float32, dst []uint8) {
	dst = dst[:len(src)]
	for i, v := range src {
		// Comparisons, not min/max: those order NaNs and cost twice as much here.
		switch {
		case v <= 0:
			dst[i] = 0
		case v >= 255:
			dst[i] = 255
		default:
			dst[i] = uint8(v + 0.5)
		}
	}
}

// rotate returns g turned by deg degrees (counter-clockwise) about its centre, on a
// canvas of the same size, bilinear, with white where no source pixel falls: the way an
// editor turns a photo a little.
func (g *grayImage) rotate(deg float64) *grayImage {
	a := deg * math.Pi / 180
	sin, cos := math.Sin(a), math.Cos(a)
	cx, cy := float64(g.w)/2, float64(g.h)/2
	out := newGray(g.w, g.h)
	maxX, maxY := float64(g.w-1), float64(g.h-1)
	for y := range g.h {
		dy := float64(y) + 0.5 - cy
		dx := 0.5 - cx
		// Inverse rotation: where in the source does this pixel come from? It moves by
		// (cos, -sin) per pixel along the row.
		sx := cos*dx + sin*dy + cx - 0.5
		sy := -sin*dx + cos*dy + cy - 0.5
		row := out.pix[y*g.w : (y+1)*g.w]
		for x := range row {
			if sx < -0.5 || sy < -0.5 || sx > maxX+0.5 || sy > maxY+0.5 {
				row[x] = 255
			} else {
				px, py := min(maxX, max(0, sx)), min(maxY, max(0, sy))
				x0, y0 := int(px), int(py)
				x1, y1 := min(x0+1, g.w-1), min(y0+1, g.h-1)
				fx, fy := float32(px-float64(x0)), float32(py-float64(y0))
				r0, r1 := g.pix[y0*g.w:], g.pix[y1*g.w:]
				top := r0[x0] + (r0[x1]-r0[x0])*fx
				bot := r1[x0] + (r1[x1]-r1[x0])*fx
				row[x] = top + (bot-top)*fy
			}
			sx += cos
			sy -= sin
		}
	}
	return out
}

// Background replacement: a product cut out and laid on another colour changes every
// pixel around it, and a pHash of object-on-white has little to do with one of
// object-on-red. When the picture's outer ring is one flat colour, fillBackground paints
// everything of that colour connected to the ring white, so both become object-on-white.
const (
	ringFraction  = 0.9 // at least this share of the outer ring within fillTolerance of its level
	fillTolerance = 12
)

// fillBackground returns a copy of g with its plain background painted white, or false
// when g has no plain background (a photo) or the background is under 5% of it.
func (g *grayImage) fillBackground(ringFraction float64) (*grayImage, bool) {
	w, h := g.w, g.h
	if w < 3 || h < 3 {
		return nil, false
	}
	ring := make([]float32, 0, 2*(w+h))
	for x := range w {
		ring = append(ring, g.pix[x], g.pix[(h-1)*w+x])
	}
	for y := 1; y < h-1; y++ {
		ring = append(ring, g.pix[y*w], g.pix[y*w+w-1])
	}
	level := median(ring)
	near := func(v float32) bool { return v-level <= fillTolerance && level-v <= fillTolerance }
	n := 0
	for _, v := range ring {
		if near(v) {
			n++
		}
	}
	if float64(n) < ringFraction*float64(len(ring)) {
		return nil, false
	}
	out := &grayImage{w: w, h: h, pix: append([]float32(nil), g.pix...)}
	seen := make([]bool, w*h)
	stack := make([]int32, 0, 2*(w+h))
	push := func(x, y int) {
		i := y*w + x
		if !seen[i] && near(g.pix[i]) {
			seen[i] = true
			stack = append(stack, int32(i))
		}
	}
	for x := range w {
		push(x, 0)
		push(x, h-1)
	}
	for y := range h {
		push(0, y)
		push(w-1, y)
	}
	filled := 0
	for len(stack) > 0 {
		i := int(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		out.pix[i] = 255
		filled++
		x, y := i%w, i/w
		if x > 0 {
			push(x-1, y)
		}
		if x < w-1 {
			push(x+1, y)
		}
		if y > 0 {
			push(x, y-1)
		}
		if y < h-1 {
			push(x, y+1)
		}
	}
	if filled < w*h/20 {
		return nil, false
	}
	return out, true
}
