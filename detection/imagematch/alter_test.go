package imagematch

import (
	"bytes"
	"image"
	"image/color"
	"marketplace/detection/imagematch/imagetest"
	"math"
	"math/rand/v2"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// This file makes test pictures and the altered copies a counterfeiter would post.

// An alteration makes a copy of a picture as a counterfeiter might; rng makes the
// amount vary per picture, deterministically.
type alteration struct {
	name string
	fn   func(img *image.RGBA, rng *rand.Rand) image.Image
	// jpegQuality is the quality the altered copy is saved at.
	jpegQuality int
}

func alterations() []alteration {
	return []alteration{
		{"crop", alterCrop, 90},
		{"half", alterHalf, 90},
		{"jpeg30", func(img *image.RGBA, _ *rand.Rand) image.Image { return img }, 30},
		{"rotate3", alterRotate, 90},
		{"bright+20", func(img *image.RGBA, _ *rand.Rand) image.Image { return alterBrightness(img, 1.2) }, 90},
		{"bright-20", func(img *image.RGBA, _ *rand.Rand) image.Image { return alterBrightness(img, 0.8) }, 90},
		{"caption", alterCaption, 90},
		{"mirror", alterMirror, 90},
		{"border", alterBorder, 90},
		{"background", alterBackground, 90},
	}
}

// extraAlterations are reported beside the targets, to show how far the method
// carries beyond them: the rotated reference hashes are at ±2.5°, so 1.5° and 5°
// show whether rotate3 merely fits them.
func extraAlterations() []alteration {
	return []alteration{
		{"rotate1.5", func(img *image.RGBA, rng *rand.Rand) image.Image { return alterRotateBy(img, rng, 1.5) }, 90},
		{"rotate5", func(img *image.RGBA, rng *rand.Rand) image.Image { return alterRotateBy(img, rng, 5) }, 90},
		{"crop25-35", alterCropMore, 90},
	}
}

// alterCropMore keeps 65-75% of each side, beyond the 10-20% target.
func alterCropMore(img *image.RGBA, rng *rand.Rand) image.Image {
	b := img.Bounds()
	kw, kh := 0.65+0.10*rng.Float64(), 0.65+0.10*rng.Float64()
	w, h := int(float64(b.Dx())*kw), int(float64(b.Dy())*kh)
	x0, y0 := rng.IntN(b.Dx()-w+1), rng.IntN(b.Dy()-h+1)
	return imagetest.ToRGBA(img.SubImage(image.Rect(x0, y0, x0+w, y0+h)))
}

// alterCrop keeps 80-90% of each side, at a random offset.
func alterCrop(img *image.RGBA, rng *rand.Rand) image.Image { return imagetest.Crop(img, rng) }

func alterHalf(img *image.RGBA, _ *rand.Rand) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, max(1, b.Dx()/2), max(1, b.Dy()/2)))
	draw.BiLinear.Scale(out, out.Bounds(), img, b, draw.Src, nil)
	return out
}

// alterRotate turns the picture by 3° either way about its centre, on a canvas of the
// same size; the corners left bare are white.
func alterRotate(img *image.RGBA, rng *rand.Rand) image.Image { return alterRotateBy(img, rng, 3) }

// alterRotateBy turns the picture by deg degrees, either way at random.
func alterRotateBy(img *image.RGBA, rng *rand.Rand, deg float64) image.Image {
	if rng.IntN(2) == 0 {
		deg = -deg
	}
	a := deg * math.Pi / 180
	sin, cos := math.Sin(a), math.Cos(a)
	b := img.Bounds()
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	out := image.NewRGBA(b)
	draw.Draw(out, b, image.White, image.Point{}, draw.Src)
	// s2d maps source to destination: dst = R·(src - c) + c.
	s2d := [6]float64{cos, -sin, cx - cos*cx + sin*cy, sin, cos, cy - sin*cx - cos*cy}
	draw.BiLinear.Transform(out, s2d, img, b, draw.Over, nil)
	return out
}

func alterBrightness(img *image.RGBA, f float64) image.Image {
	out := image.NewRGBA(img.Bounds())
	for i := 0; i < len(img.Pix); i += 4 {
		for c := range 3 {
			out.Pix[i+c] = imagetest.Clamp8(float64(img.Pix[i+c]) * f)
		}
		out.Pix[i+3] = 255
	}
	return out
}

// alterCaption writes a line of text across the lower part of the picture, white with
// a dark shadow, about a tenth of the picture high.
func alterCaption(img *image.RGBA, rng *rand.Rand) image.Image {
	texts := []string{"OFFICIAL OLYMPIC STORE", "BEST PRICE - FREE SHIPPING", "PARIS 2024 ORIGINAL", "LA28 FAN EDITION"}
	text := texts[rng.IntN(len(texts))]
	face := basicfont.Face7x13
	tw := font.MeasureString(face, text).Ceil()
	small := image.NewRGBA(image.Rect(0, 0, tw+2, 15))
	for _, layer := range []struct {
		col color.Color
		dx  int
	}{{color.Black, 1}, {color.White, 0}} {
		d := font.Drawer{Dst: small, Src: image.NewUniform(layer.col), Face: face,
			Dot: fixed.P(layer.dx, 11+layer.dx)}
		d.DrawString(text)
	}
	out := image.NewRGBA(img.Bounds())
	copy(out.Pix, img.Pix)
	b := img.Bounds()
	scale := float64(b.Dy()) * 0.10 / 15
	if float64(tw+2)*scale > 0.9*float64(b.Dx()) {
		scale = 0.9 * float64(b.Dx()) / float64(tw+2)
	}
	w, h := int(float64(tw+2)*scale), int(15*scale)
	x0 := (b.Dx() - w) / 2
	y0 := int(float64(b.Dy())*0.70) + rng.IntN(max(1, int(float64(b.Dy())*0.15)))
	draw.NearestNeighbor.Scale(out, image.Rect(x0, y0, x0+w, y0+h), small, small.Bounds(), draw.Over, nil)
	return out
}

func alterMirror(img *image.RGBA, _ *rand.Rand) image.Image { return imagetest.Mirror(img) }

func randomColour(rng *rand.Rand) color.RGBA {
	return color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
}

// alterBorder frames the picture with a solid colour, 5-12% of its size on each side.
func alterBorder(img *image.RGBA, rng *rand.Rand) image.Image {
	b := img.Bounds()
	m := int(float64(max(b.Dx(), b.Dy())) * (0.05 + 0.07*rng.Float64()))
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()+2*m, b.Dy()+2*m))
	draw.Draw(out, out.Bounds(), image.NewUniform(randomColour(rng)), image.Point{}, draw.Src)
	draw.Draw(out, b.Add(image.Pt(m, m)), img, b.Min, draw.Src)
	return out
}

// alterBackground puts the subject on a new background. Where the picture has a plain
// background (product shots, clip art), the background is flood-filled from the edges
// with a new colour, plus a little noise. A photo without one is shrunk to 75-90% and
// laid off-centre on a new plain, slightly noisy canvas of the same size.
func alterBackground(img *image.RGBA, rng *rand.Rand) image.Image {
	col := randomColour(rng)
	b := img.Bounds()
	if out, ok := replaceBackground(img, col, rng); ok {
		return out
	}
	out := image.NewRGBA(b)
	for i := 0; i < len(out.Pix); i += 4 {
		n := rng.Float64()*6 - 3
		out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] =
			imagetest.Clamp8(float64(col.R)+n), imagetest.Clamp8(float64(col.G)+n), imagetest.Clamp8(float64(col.B)+n), 255
	}
	s := 0.75 + 0.15*rng.Float64()
	w, h := int(float64(b.Dx())*s), int(float64(b.Dy())*s)
	x0, y0 := rng.IntN(b.Dx()-w+1), rng.IntN(b.Dy()-h+1)
	draw.BiLinear.Scale(out, image.Rect(x0, y0, x0+w, y0+h), img, b, draw.Src, nil)
	return out
}

// replaceBackground flood-fills, from every edge pixel, the pixels within a tolerance
// of the edge's dominant colour. It reports false when the edges are not mostly one
// colour or the fill covers too little to be a background.
func replaceBackground(img *image.RGBA, col color.RGBA, rng *rand.Rand) (*image.RGBA, bool) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	px := func(x, y int) [3]int {
		o := img.PixOffset(x, y)
		return [3]int{int(img.Pix[o]), int(img.Pix[o+1]), int(img.Pix[o+2])}
	}
	ref := px(0, 0)
	near := func(p [3]int) bool {
		d := 0
		for i := range p {
			d = max(d, abs(p[i]-ref[i]))
		}
		return d <= 24
	}
	edge, match := 0, 0
	for x := range w {
		for _, y := range []int{0, h - 1} {
			edge++
			if near(px(x, y)) {
				match++
			}
		}
	}
	for y := range h {
		for _, x := range []int{0, w - 1} {
			edge++
			if near(px(x, y)) {
				match++
			}
		}
	}
	if float64(match) < 0.9*float64(edge) {
		return nil, false
	}
	seen := make([]bool, w*h)
	var stack []int
	push := func(x, y int) {
		if x < 0 || y < 0 || x >= w || y >= h || seen[y*w+x] || !near(px(x, y)) {
			return
		}
		seen[y*w+x] = true
		stack = append(stack, y*w+x)
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
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		filled++
		x, y := i%w, i/w
		push(x+1, y)
		push(x-1, y)
		push(x, y+1)
		push(x, y-1)
	}
	if filled < w*h/10 {
		return nil, false
	}
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	copy(out.Pix, img.Pix)
	for i, s := range seen {
		if s {
			n := rng.Float64()*6 - 3
			o := 4 * i
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = imagetest.Clamp8(float64(col.R)+n), imagetest.Clamp8(float64(col.G)+n), imagetest.Clamp8(float64(col.B)+n)
		}
	}
	return out, true
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

type imageRGBA struct{ *image.RGBA }

func decodeFile(data []byte) (*imageRGBA, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return &imageRGBA{imagetest.ToRGBA(img)}, nil
}
