package demo

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// pt is a point in a shape's own frame: shapes are drawn in a unit square (0..1 on both
// axes, y down) that the frame maps onto the canvas.
type pt struct{ x, y float64 }

// poly is a closed polygon; a shape is one or more (an inner polygon wound the other way
// cuts a hole: the rasterizer adds signed coverage).
type poly []pt

// frame maps unit coordinates onto a rectangle of the canvas.
type frame struct{ x0, y0, w, h float64 }

func (f frame) at(p pt) (float32, float32) {
	return float32(f.x0 + p.x*f.w), float32(f.y0 + p.y*f.h)
}

// sub returns the frame of the unit rectangle (x, y, w, h) inside f.
func (f frame) sub(x, y, w, h float64) frame {
	return frame{f.x0 + x*f.w, f.y0 + y*f.h, w * f.w, h * f.h}
}

func (f frame) bounds() image.Rectangle {
	return image.Rect(int(math.Floor(f.x0)), int(math.Floor(f.y0)), int(math.Ceil(f.x0+f.w)), int(math.Ceil(f.y0+f.h)))
}

// canvas is an RGBA picture with a rasterizer of its size.
type canvas struct {
	img  *image.RGBA
	z    *vector.Rasterizer
	clip image.Rectangle // drawing stays inside it
}

func newCanvas(w, h int, bg color.Color) *canvas {
	c := &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h)), z: vector.NewRasterizer(w, h)}
	c.clip = c.img.Bounds()
	draw.Draw(c.img, c.img.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	return c
}

// path loads polygons, mapped through f, into the rasterizer and returns the rectangle
// of the canvas they cover; the rasterizer's origin is that rectangle's corner (vector's
// Draw lays its mask at the rectangle's minimum point).
func (c *canvas) path(f frame, polys ...poly) image.Rectangle {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range polys {
		for _, q := range p {
			x, y := f.at(q)
			minX, minY = math.Min(minX, float64(x)), math.Min(minY, float64(y))
			maxX, maxY = math.Max(maxX, float64(x)), math.Max(maxY, float64(y))
		}
	}
	r := image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX))+1, int(math.Ceil(maxY))+1).Intersect(c.clip)
	if r.Empty() {
		return r
	}
	c.z.Reset(r.Dx(), r.Dy())
	ox, oy := float32(r.Min.X), float32(r.Min.Y)
	for _, p := range polys {
		if len(p) < 3 {
			continue
		}
		for i, q := range p {
			x, y := f.at(q)
			if i == 0 {
				c.z.MoveTo(x-ox, y-oy)
			} else {
				c.z.LineTo(x-ox, y-oy)
			}
		}
		c.z.ClosePath()
	}
	return r
}

// fill paints polygons in one colour.
func (c *canvas) fill(f frame, col color.Color, polys ...poly) {
	r := c.path(f, polys...)
	if r.Empty() {
		return
	}
	c.z.DrawOp = draw.Over
	c.z.Draw(c.img, r, image.NewUniform(col), image.Point{})
}

// mask rasterizes polygons into an alpha mask of the canvas's size.
func (c *canvas) mask(f frame, polys ...poly) (*image.Alpha, image.Rectangle) {
	m := image.NewAlpha(c.img.Bounds())
	r := c.path(f, polys...)
	if !r.Empty() {
		c.z.DrawOp = draw.Src
		c.z.Draw(m, r, image.Opaque, image.Point{})
	}
	return m, r
}

// shade returns col darkened (k < 1) or lightened towards white (k > 1).
func shade(col color.RGBA, k float64) color.RGBA {
	f := func(v uint8) uint8 {
		if k <= 1 {
			return uint8(float64(v) * k)
		}
		return uint8(255 - (255-float64(v))/k)
	}
	return color.RGBA{f(col.R), f(col.G), f(col.B), 255}
}

// luma is BT.601 luma, as the detection hashes see a colour.
func luma(c color.RGBA) float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }

// Shapes in the unit square.

func rect(x, y, w, h float64) poly { return poly{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}} }

// ellipse is an ellipse centred at (cx, cy) with radii rx, ry, drawn clockwise (ccw false)
// or counter-clockwise.
func ellipse(cx, cy, rx, ry float64, ccw bool) poly {
	return arc(cx, cy, rx, ry, 0, 2*math.Pi, 48, ccw)
}

// arc returns points along an ellipse from angle a0 to a1 (radians, y down).
func arc(cx, cy, rx, ry, a0, a1 float64, n int, reverse bool) poly {
	p := make(poly, 0, n+1)
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		if reverse {
			t = 1 - t
		}
		a := a0 + (a1-a0)*t
		p = append(p, pt{cx + rx*math.Cos(a), cy + ry*math.Sin(a)})
	}
	return p
}

// ring is a circle outline of radius r and thickness th, as two opposite windings.
func ring(cx, cy, r, th float64) []poly {
	return []poly{ellipse(cx, cy, r, r, false), ellipse(cx, cy, r-th, r-th, true)}
}

// roundRect is a rectangle with rounded corners of radius rr.
func roundRect(x, y, w, h, rr float64) poly {
	rr = math.Min(rr, math.Min(w, h)/2)
	var p poly
	corner := func(cx, cy, a0 float64) {
		p = append(p, arc(cx, cy, rr, rr, a0, a0+math.Pi/2, 8, false)...)
	}
	corner(x+w-rr, y+rr, -math.Pi/2)
	corner(x+w-rr, y+h-rr, 0)
	corner(x+rr, y+h-rr, math.Pi/2)
	corner(x+rr, y+rr, math.Pi)
	return p
}

// star is a star of n points.
func star(cx, cy, r, inner float64, n int, rot float64) poly {
	p := make(poly, 0, 2*n)
	for i := 0; i < 2*n; i++ {
		rad := r
		if i%2 == 1 {
			rad = r * inner
		}
		a := rot - math.Pi/2 + float64(i)*math.Pi/float64(n)
		p = append(p, pt{cx + rad*math.Cos(a), cy + rad*math.Sin(a)})
	}
	return p
}

// band is a strip of width w through the unit square at angle a (radians), its centre
// line offset by off from the centre.
func band(a, off, w float64) poly {
	dx, dy := math.Cos(a), math.Sin(a)
	nx, ny := -dy, dx
	cx, cy := 0.5+nx*off, 0.5+ny*off
	const l = 2.0
	return poly{
		{cx - dx*l + nx*w/2, cy - dy*l + ny*w/2},
		{cx + dx*l + nx*w/2, cy + dy*l + ny*w/2},
		{cx + dx*l - nx*w/2, cy + dy*l - ny*w/2},
		{cx - dx*l - nx*w/2, cy - dy*l - ny*w/2},
	}
}

// halfPlane is the part of the square on one side of a line at angle a through a point
// offset by off from the centre.
func halfPlane(a, off float64) poly { return band(a, off+1.5, 3) }

// mirrorX reflects polygons left to right in the unit square (and keeps their winding
// meaning by reversing the point order).
func mirrorX(ps ...poly) []poly {
	out := make([]poly, len(ps))
	for i, p := range ps {
		q := make(poly, len(p))
		for j, v := range p {
			q[len(p)-1-j] = pt{1 - v.x, v.y}
		}
		out[i] = q
	}
	return out
}

var (
	boldOnce sync.Once
	boldFont *opentype.Font
)

func bold() *opentype.Font {
	boldOnce.Do(func() {
		f, err := opentype.Parse(gobold.TTF)
		if err != nil {
			panic(err) // the embedded Go font always parses
		}
		boldFont = f
	})
	return boldFont
}

// text writes s centred on (cx, cy) in pixels, at most maxW pixels wide.
func (c *canvas) text(s string, cx, cy, size, maxW float64, col color.Color) {
	if s == "" || size < 4 {
		return
	}
	measure := func(size float64) (font.Face, float64) {
		face, err := opentype.NewFace(bold(), &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
		if err != nil {
			return nil, 0
		}
		return face, float64(font.MeasureString(face, s)) / 64
	}
	face, w := measure(size)
	if face == nil {
		return
	}
	if maxW > 0 && w > maxW {
		face.Close()
		size *= maxW / w
		if face, w = measure(size); face == nil {
			return
		}
	}
	defer face.Close()
	d := &font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: face,
		Dot: fixed.Point26_6{X: fixed.Int26_6((cx - w/2) * 64), Y: fixed.Int26_6((cy + size*0.35) * 64)}}
	d.DrawString(s)
}
