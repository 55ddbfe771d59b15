// Package demo makes the demo world's catalogue: official product pictures drawn in code
// (shirts, caps, pins, mascots, mugs, scarves… each with its own shape, colours and emblem,
// reproducible from its SKU), the catalogue of the demo licensees as a CSV and a zip of
// pictures for the real catalogue import, and a big CSV for the import benchmark.
//
// The pictures must differ from one another as detection sees them: two official products
// whose pictures hash alike would be flagged as copies of each other. The tests check every
// pair of a full demo catalogue with detection's own Hasher and Matcher.
package demo

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Kind is what a picture shows.
type Kind string

// The kinds of product drawn.
const (
	KindTShirt   Kind = "tshirt"
	KindHoodie   Kind = "hoodie"
	KindJacket   Kind = "jacket"
	KindCap      Kind = "cap"
	KindBeanie   Kind = "beanie"
	KindPin      Kind = "pin"
	KindMascot   Kind = "mascot"
	KindMug      Kind = "mug"
	KindScarf    Kind = "scarf"
	KindMedal    Kind = "medal"
	KindTote     Kind = "tote"
	KindNotebook Kind = "notebook"
	KindPoster   Kind = "poster"
	KindTowel    Kind = "towel"
)

// Kinds lists every kind, in a fixed order.
var Kinds = []Kind{KindTShirt, KindHoodie, KindJacket, KindCap, KindBeanie, KindPin, KindMascot, KindMug,
	KindScarf, KindMedal, KindTote, KindNotebook, KindPoster, KindTowel}

// Colour is a named colour of a palette.
type Colour struct {
	EN, FR string
	RGBA   color.RGBA
}

func rgb(v uint32) color.RGBA { return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255} }

// palettes are each property's colours; products of other sellers use "plain".
var palettes = map[string][]Colour{
	"PARIS2024": {
		{"Navy", "Bleu marine", rgb(0x1B2A5C)}, {"Gold", "Or", rgb(0xC9A227)}, {"Red", "Rouge", rgb(0xD7263D)},
		{"White", "Blanc", rgb(0xF5F5F0)}, {"Sky blue", "Bleu ciel", rgb(0x6FA8DC)}, {"Black", "Noir", rgb(0x1A1A1A)},
		{"Violet", "Violet", rgb(0x6B3FA0)}, {"Green", "Vert", rgb(0x2E8B57)},
	},
	"MILANOCORTINA2026": {
		{"Ice blue", "Bleu glacier", rgb(0xA8D8EA)}, {"Alpine green", "Vert alpin", rgb(0x1E5631)},
		{"Crimson", "Cramoisi", rgb(0xA4161A)}, {"Silver", "Argent", rgb(0xB8BCC2)}, {"Night blue", "Bleu nuit", rgb(0x14213D)},
		{"Snow white", "Blanc neige", rgb(0xF4F7FA)}, {"Dolomite pink", "Rose dolomite", rgb(0xE8A0A0)}, {"Charcoal", "Anthracite", rgb(0x333A40)},
	},
	"LA28": {
		{"Sunset orange", "Orange couchant", rgb(0xF26B21)}, {"Pacific teal", "Bleu canard", rgb(0x008080)},
		{"Hot pink", "Rose vif", rgb(0xE6007E)}, {"Sand", "Sable", rgb(0xE3C9A0)}, {"Black", "Noir", rgb(0x111111)},
		{"Yellow", "Jaune", rgb(0xF9C80E)}, {"Royal blue", "Bleu roi", rgb(0x2250A6)}, {"White", "Blanc", rgb(0xFAFAFA)},
	},
	"OLYMPIC": {
		{"Blue", "Bleu", rgb(0x0081C8)}, {"Yellow", "Jaune", rgb(0xFCB131)}, {"Black", "Noir", rgb(0x101010)},
		{"Green", "Vert", rgb(0x00A651)}, {"Red", "Rouge", rgb(0xEE334E)}, {"White", "Blanc", rgb(0xFFFFFF)},
		{"Silver grey", "Gris argent", rgb(0x8A8D91)}, {"Navy", "Bleu marine", rgb(0x0B1F44)},
	},
	"": {
		{"Brown", "Marron", rgb(0x7B4B2A)}, {"Olive", "Olive", rgb(0x6B7A2E)}, {"Beige", "Beige", rgb(0xD9C8A9)},
		{"Burgundy", "Bordeaux", rgb(0x6D1A36)}, {"Mustard", "Moutarde", rgb(0xD4A017)}, {"Slate", "Ardoise", rgb(0x4A5A6A)},
		{"Cream", "Crème", rgb(0xF3EBD8)}, {"Turquoise", "Turquoise", rgb(0x30B5B5)},
	},
}

// wordmarks are the words printed on a property's products.
var wordmarks = map[string][]string{
	"PARIS2024":         {"PARIS 2024", "PARIS", "JO 2024"},
	"MILANOCORTINA2026": {"MILANO CORTINA", "MILANO CORTINA 2026", "CORTINA 26"},
	"LA28":              {"LA28", "LOS ANGELES", "LA 2028"},
	"OLYMPIC":           {"OLYMPIC", "OLYMPIC GAMES", "OLYMPICS"},
}

// Design is one product picture: its kind, property and colours, all drawn from its seed.
type Design struct {
	Kind     Kind
	Property string // "" for goods with no property (an independent seller's own things)
	Seed     uint64
	Base     Colour // the product's main colour (the colour of its first variant)
	Accent   Colour
	Trim     Colour
	Photo    bool // a seller's own photo: on a coloured backdrop, not on white
	// Layout picks another layout (size, place, pattern, emblem) with the same kind and
	// colours: the catalogue's Screen asks for one when a picture looks like another.
	Layout uint64
}

// NewDesign returns the design of an official product's picture, seeded by its SKU.
func NewDesign(sku string, kind Kind, property string) Design {
	return newDesign(seedOf("official:"+sku), kind, property, false)
}

// NewPhoto returns a picture as an independent seller would take it: its own goods, on a
// coloured backdrop, seeded by key.
func NewPhoto(key string, kind Kind) Design {
	return newDesign(seedOf("photo:"+key), kind, "", true)
}

func seedOf(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func newDesign(seed uint64, kind Kind, property string, photo bool) Design {
	d := Design{Kind: kind, Property: property, Seed: seed, Photo: photo}
	pal := palettes[property]
	if pal == nil {
		pal = palettes[""]
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	d.Base = pal[r.IntN(len(pal))]
	// The accent stands out from the base in luma, so the pattern shows in grey too.
	var far []Colour
	for _, c := range pal {
		if math.Abs(luma(c.RGBA)-luma(d.Base.RGBA)) >= 70 {
			far = append(far, c)
		}
	}
	if len(far) == 0 {
		far = pal
	}
	d.Accent = far[r.IntN(len(far))]
	d.Trim = pal[r.IntN(len(pal))]
	for d.Trim == d.Base && len(pal) > 1 {
		d.Trim = pal[r.IntN(len(pal))]
	}
	return d
}

// Size is the side of the pictures, in pixels.
const Size = 800

// JPEG returns the picture as JPEG bytes (Size×Size).
func (d Design) JPEG() ([]byte, error) { return d.JPEGAt(Size) }

// JPEGAt draws the design as a JPEG with sides of side pixels.
func (d Design) JPEGAt(side int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, d.Image(side), &jpeg.Options{Quality: 88}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// spot is where an emblem may go on a product, in its unit frame.
type spot struct{ x, y, r float64 }

// Image draws the picture on a side×side canvas.
func (d Design) Image(side int) *image.RGBA {
	// The colours were the first draws of this generator; the layout comes after them.
	r := rand.New(rand.NewPCG(d.Seed, 0x1a7+d.Layout))
	bg := color.RGBA{255, 255, 255, 255}
	if d.Photo {
		bg = shade(palettes[""][r.IntN(len(palettes[""]))].RGBA, 2.2)
	}
	c := newCanvas(side, side, bg)
	s := float64(side)
	if d.Photo {
		// A table top and a wall: the seller's room, not a studio.
		c.fill(frame{0, 0, s, s}, shade(bg, 0.8), rect(0, 0.55+0.25*r.Float64(), 1, 1))
	}
	aspect := map[Kind]float64{KindScarf: 0.3, KindNotebook: 1.3, KindPoster: 1.35, KindTowel: 1.2, KindMug: 0.9, KindCap: 0.75}[d.Kind]
	if aspect == 0 {
		aspect = 1
	}
	aspect *= 0.9 + 0.2*r.Float64()
	w := s * (0.62 + 0.26*r.Float64())
	h := w * aspect
	if h > s*0.9 {
		w, h = w*s*0.9/h, s*0.9
	}
	f := frame{(s - w) * (0.1 + 0.8*r.Float64()), (s - h) * (0.1 + 0.8*r.Float64()), w, h}
	d.drawProduct(c, f, r)
	return c.img
}

// drawProduct draws the product upright in frame f of c.
func (d Design) drawProduct(c *canvas, f frame, r *rand.Rand) {
	side := c.img.Bounds().Dx()
	s := float64(side)
	shape, spots := d.silhouette(r)
	if r.IntN(2) == 0 && d.Kind != KindPoster && d.Kind != KindNotebook {
		shape = mirrorX(shape...)
		for i := range spots {
			spots[i].x = 1 - spots[i].x
		}
	}
	// A soft shadow under the product, then its outline, then the product itself.
	c.fill(frame{f.x0 + s*0.012, f.y0 + s*0.016, f.w, f.h}, color.RGBA{0, 0, 0, 40}, shape...)
	outline := shade(d.Base.RGBA, 0.55)
	if luma(d.Base.RGBA) < 60 {
		outline = shade(d.Base.RGBA, 3)
	}
	for _, o := range [][2]float64{{-2, 0}, {2, 0}, {0, -2}, {0, 2}} {
		c.fill(frame{f.x0 + o[0], f.y0 + o[1], f.w, f.h}, outline, shape...)
	}
	mask, box := c.mask(f, shape...)
	layer := newCanvas(side, side, d.Base.RGBA)
	layer.clip = box
	d.pattern(layer, f, r, d.Accent.RGBA, d.Trim.RGBA)
	d.pattern(layer, f, r, d.Trim.RGBA, d.Base.RGBA)
	d.details(layer, f, r)
	if len(spots) > 0 {
		sp := spots[r.IntN(len(spots))]
		scale := 0.7 + 0.6*r.Float64()
		d.emblem(layer, f, sp.x, sp.y, sp.r*scale, r)
	}
	draw.DrawMask(c.img, box, layer.img, box.Min, mask, box.Min, draw.Over)
}

// silhouette returns the product's outline in its unit frame and the spots an emblem may
// take. Every kind varies its proportions with the seed.
func (d Design) silhouette(r *rand.Rand) ([]poly, []spot) {
	v := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	switch d.Kind {
	case KindTShirt, KindHoodie, KindJacket:
		sl := v(0.22, 0.3) // sleeve reach
		if d.Kind != KindTShirt {
			sl = v(0.4, 0.5)
		}
		body := v(0.26, 0.33) // half width of the body
		neck := v(0.08, 0.13)
		shoulder := v(0.02, 0.06)
		cx := 0.5
		p := poly{
			{cx - neck, 0.02}, {cx - body - 0.02, shoulder + 0.04}, // left shoulder
			{cx - body - 0.2, shoulder + sl*0.55}, {cx - body - 0.12, shoulder + sl*0.55 + 0.12}, // left sleeve
			{cx - body, shoulder + 0.28}, {cx - body + 0.01, 0.98}, {cx + body - 0.01, 0.98},
			{cx + body, shoulder + 0.28}, {cx + body + 0.12, shoulder + sl*0.55 + 0.12}, {cx + body + 0.2, shoulder + sl*0.55},
			{cx + body + 0.02, shoulder + 0.04}, {cx + neck, 0.02}, {cx, 0.02 + v(0.05, 0.12)},
		}
		if d.Kind != KindTShirt {
			// Long sleeves run down the sides.
			p = poly{
				{cx - neck, 0.02}, {cx - body - 0.04, shoulder + 0.04}, {cx - body - 0.17, 0.9}, {cx - body - 0.06, 0.92},
				{cx - body, 0.4}, {cx - body + 0.01, 0.98}, {cx + body - 0.01, 0.98}, {cx + body, 0.4},
				{cx + body + 0.06, 0.92}, {cx + body + 0.17, 0.9}, {cx + body + 0.04, shoulder + 0.04}, {cx + neck, 0.02},
				{cx, 0.02 + v(0.05, 0.12)},
			}
		}
		shapes := []poly{p}
		if d.Kind == KindHoodie {
			shapes = append(shapes, ellipse(cx, 0.06, neck+0.06, 0.07, false))
		}
		return shapes, []spot{{cx, 0.35, 0.14}, {cx - body*0.5, 0.3, 0.08}, {cx, 0.6, 0.18}, {cx + body*0.45, 0.7, 0.1}}
	case KindCap:
		crown := v(0.5, 0.62)
		brim := v(0.2, 0.3)
		return []poly{
			append(arc(0.36, 0.62, 0.33, crown, math.Pi, 2*math.Pi, 32, false), pt{0.69, 0.62}, pt{0.69 + brim, 0.7 + v(0, 0.12)}, pt{0.66, 0.82}, pt{0.04, 0.8}),
			ellipse(0.36, 0.62-crown, 0.03, 0.03, false),
		}, []spot{{0.36, 0.45, 0.13}, {0.25, 0.55, 0.09}, {0.47, 0.5, 0.09}}
	case KindBeanie:
		top := v(0.2, 0.35)
		return []poly{
			append(arc(0.5, 0.7, 0.36, 0.7-top, math.Pi, 2*math.Pi, 32, false), pt{0.88, 0.7}, pt{0.88, 0.95}, pt{0.12, 0.95}, pt{0.12, 0.7}),
			ellipse(0.5, top-0.02, 0.1+v(0, 0.06), 0.1, false),
		}, []spot{{0.5, 0.82, 0.1}, {0.5, 0.52, 0.16}}
	case KindPin:
		switch r.IntN(5) {
		case 0:
			return []poly{ellipse(0.5, 0.5, 0.48, 0.48, false)}, []spot{{0.5, 0.5, 0.3}, {0.5, 0.4, 0.22}}
		case 1:
			return []poly{{{0.05, 0.05}, {0.95, 0.05}, {0.95, 0.5}, {0.5, 0.98}, {0.05, 0.5}}}, []spot{{0.5, 0.4, 0.28}}
		case 2:
			return []poly{star(0.5, 0.52, 0.5, v(0.45, 0.6), 5, 0)}, []spot{{0.5, 0.55, 0.18}}
		case 3:
			return []poly{star(0.5, 0.5, 0.5, 0.87, 6, math.Pi/6)}, []spot{{0.5, 0.5, 0.3}}
		default:
			return []poly{roundRect(0.02, 0.15, 0.96, 0.7, 0.15)}, []spot{{0.3, 0.5, 0.2}, {0.7, 0.5, 0.2}}
		}
	case KindMascot:
		head := v(0.18, 0.26)
		body := v(0.24, 0.32)
		ear := v(0.06, 0.12)
		hy := 0.05 + head
		shapes := []poly{
			ellipse(0.5, hy, head, head*v(0.85, 1), false),
			ellipse(0.5, hy+head+body*0.85, body, body*v(1, 1.25), false),
			ellipse(0.5-head*0.8, hy-head*0.7, ear, ear*1.3, false),
			ellipse(0.5+head*0.8, hy-head*0.7, ear, ear*1.3, false),
			ellipse(0.5-body*1.05, hy+head+body*0.6, 0.07, 0.16, false),
			ellipse(0.5+body*1.05, hy+head+body*0.3, 0.07, 0.16, false),
		}
		return shapes, []spot{{0.5, hy + head + body*0.85, body * 0.6}}
	case KindMug:
		th := v(0.06, 0.1)
		return append([]poly{roundRect(0.08, 0.1, 0.62, 0.85, 0.06)}, ring(0.74, 0.5, v(0.17, 0.24), th)...),
			[]spot{{0.39, 0.5, 0.2}, {0.39, 0.4, 0.14}}
	case KindScarf:
		// Laid flat, fringed at both ends.
		sag := v(-0.15, 0.15)
		p := poly{{0.06, 0.05}, {0.5, 0.05 + sag}, {0.94, 0.05}, {0.94, 0.95}, {0.5, 0.95 + sag}, {0.06, 0.95}}
		shapes := []poly{p}
		for i := range 9 {
			y := 0.07 + float64(i)*0.1
			shapes = append(shapes, rect(0, y, 0.07, 0.05), rect(0.93, y, 0.07, 0.05))
		}
		return shapes, []spot{{0.25, 0.5, 0.07}, {0.75, 0.5, 0.07}, {0.5, 0.5 + sag/2, 0.08}}
	case KindMedal:
		rr := v(0.28, 0.34)
		return []poly{
			{{0.2, 0}, {0.4, 0}, {0.55, 0.45}, {0.45, 0.5}},
			{{0.8, 0}, {0.6, 0}, {0.45, 0.45}, {0.55, 0.5}},
			ellipse(0.5, 1-rr-0.02, rr, rr, false),
		}, []spot{{0.5, 1 - rr - 0.02, rr * 0.7}}
	case KindTote:
		hh := v(0.18, 0.3)
		return append([]poly{{{0.1, hh + 0.05}, {0.9, hh + 0.05}, {0.95, 0.98}, {0.05, 0.98}}},
				append(ring(0.35, hh+0.05, hh, 0.04), ring(0.65, hh+0.05, hh, 0.04)...)...),
			[]spot{{0.5, 0.6, 0.2}, {0.5, 0.5, 0.16}}
	case KindNotebook:
		return []poly{roundRect(0.1, 0.02, 0.8, 0.96, 0.04)}, []spot{{0.5, 0.4, 0.2}, {0.5, 0.65, 0.16}}
	case KindPoster:
		return []poly{rect(0.05, 0.02, 0.9, 0.96)}, []spot{{0.5, 0.35, 0.25}, {0.5, 0.6, 0.2}}
	case KindTowel:
		return []poly{{{0.05, 0.05}, {0.95, 0.05}, {0.92, 0.95}, {0.08, 0.95}}}, []spot{{0.5, 0.5, 0.22}}
	}
	return []poly{rect(0.1, 0.1, 0.8, 0.8)}, []spot{{0.5, 0.5, 0.25}}
}

// pattern paints the product's body: its base colour crossed by large shapes in the accent
// and trim colours (large, so that they change the picture's low frequencies, which are
// what the hashes see).
func (d Design) pattern(c *canvas, f frame, r *rand.Rand, acc, trim color.RGBA) {
	v := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	angle := []float64{0, math.Pi / 2, math.Pi / 4, -math.Pi / 4, v(-math.Pi, math.Pi)}[r.IntN(5)]
	switch r.IntN(8) {
	case 0: // bands
		n := 1 + r.IntN(3)
		wd := v(0.1, 0.22)
		gap := v(0.25, 0.4)
		off := v(-0.3, 0.3)
		for i := range n {
			col := acc
			if i%2 == 1 {
				col = trim
			}
			c.fill(f, col, band(angle, off+float64(i)*gap-float64(n-1)*gap/2, wd))
		}
	case 1: // two halves
		c.fill(f, acc, halfPlane(angle, v(-0.25, 0.25)))
	case 2: // a large disc
		c.fill(f, acc, ellipse(v(0.2, 0.8), v(0.2, 0.8), v(0.2, 0.38), v(0.2, 0.38), false))
	case 3: // chevron
		y := v(0.2, 0.7)
		wd := v(0.1, 0.2)
		dir := []float64{1, -1}[r.IntN(2)]
		c.fill(f, acc, poly{{-0.1, y}, {0.5, y + dir*0.3}, {1.1, y}, {1.1, y + wd}, {0.5, y + dir*0.3 + wd}, {-0.1, y + wd}})
	case 4: // a yoke across the top
		c.fill(f, acc, rect(-0.1, -0.1, 1.2, v(0.3, 0.55)))
		c.fill(f, trim, rect(-0.1, v(0.6, 0.8), 1.2, v(0.05, 0.12)))
	case 5: // crossing bands
		wd := v(0.1, 0.2)
		c.fill(f, acc, band(angle, v(-0.2, 0.2), wd))
		c.fill(f, trim, band(angle+math.Pi/2, v(-0.2, 0.2), wd))
	case 6: // coarse blocks
		n := 2 + r.IntN(2)
		ph := r.IntN(2)
		for i := range n {
			for j := range n {
				if (i+j+ph)%2 == 0 {
					c.fill(f, acc, rect(float64(i)/float64(n), float64(j)/float64(n), 1/float64(n), 1/float64(n)))
				}
			}
		}
	default: // a corner triangle and a stripe
		x, y := float64(r.IntN(2)), float64(r.IntN(2))
		c.fill(f, acc, poly{{x, y}, {x + (1-2*x)*v(0.6, 1), y}, {x, y + (1-2*y)*v(0.6, 1)}})
		c.fill(f, trim, band(angle+math.Pi/3, v(-0.35, 0.35), v(0.06, 0.12)))
	}
}

// details adds the seams and parts that make the kind recognisable.
func (d Design) details(c *canvas, f frame, r *rand.Rand) {
	dark := shade(d.Base.RGBA, 0.6)
	trim := d.Trim.RGBA
	switch d.Kind {
	case KindTShirt, KindHoodie, KindJacket:
		c.fill(f, trim, rect(0, 0, 1, 0.035))
		c.fill(f, dark, rect(0.1, 0.95, 0.8, 0.03))
		if d.Kind == KindJacket {
			c.fill(f, dark, rect(0.495, 0.1, 0.012, 0.9))
		}
		if d.Kind == KindHoodie {
			c.fill(f, dark, roundRect(0.33, 0.68, 0.34, 0.16, 0.04))
		}
	case KindCap:
		c.fill(f, shade(d.Base.RGBA, 0.75), poly{{0.69, 0.62}, {1, 0.72}, {0.66, 0.82}, {0.55, 0.78}})
	case KindBeanie:
		c.fill(f, trim, rect(0, 0.7, 1, 0.25))
		for i := range 8 {
			c.fill(f, dark, rect(0.14+float64(i)*0.1, 0.72, 0.012, 0.21))
		}
	case KindMug:
		c.fill(f, dark, rect(0.08, 0.1, 0.62, 0.04))
	case KindScarf:
		c.fill(f, trim, rect(0.12, -0.2, 0.03, 1.4), rect(0.85, -0.2, 0.03, 1.4))
	case KindMascot:
		eye := 0.025 + 0.015*r.Float64()
		c.fill(f, color.RGBA{255, 255, 255, 255}, ellipse(0.43, 0.22, eye*2, eye*2, false), ellipse(0.57, 0.22, eye*2, eye*2, false))
		c.fill(f, color.RGBA{20, 20, 20, 255}, ellipse(0.43, 0.22, eye, eye, false), ellipse(0.57, 0.22, eye, eye, false))
	case KindNotebook:
		c.fill(f, dark, rect(0.78, 0, 0.04, 1))
	case KindTowel:
		c.fill(f, trim, rect(0, 0.1, 1, 0.05), rect(0, 0.85, 1, 0.05))
	}
}

// emblem draws the property's mark, or a maker's motif for goods of no property, centred on
// (x, y) with radius rad in the product's frame, then a wordmark under it.
func (d Design) emblem(c *canvas, f frame, x, y, rad float64, r *rand.Rand) {
	gold := color.RGBA{0xC9, 0xA2, 0x27, 255}
	white := color.RGBA{250, 250, 250, 255}
	ef := f.sub(x-rad, y-rad*f.w/f.h, 2*rad, 2*rad*f.w/f.h)
	switch d.Property {
	case "PARIS2024":
		c.fill(ef, gold, ellipse(0.5, 0.5, 0.5, 0.5, false))
		c.fill(ef, color.RGBA{0x1B, 0x2A, 0x5C, 255}, poly{{0.5, 0.12}, {0.68, 0.45}, {0.62, 0.78}, {0.5, 0.88}, {0.38, 0.78}, {0.33, 0.5}, {0.45, 0.38}})
		c.fill(ef, color.RGBA{0xD7, 0x26, 0x3D, 255}, poly{{0.5, 0.4}, {0.58, 0.62}, {0.5, 0.8}, {0.42, 0.62}})
	case "MILANOCORTINA2026":
		c.fill(ef, color.RGBA{0x14, 0x21, 0x3D, 255}, ellipse(0.5, 0.5, 0.5, 0.5, false))
		c.fill(ef, white, poly{{0.1, 0.75}, {0.38, 0.25}, {0.52, 0.5}, {0.64, 0.32}, {0.9, 0.75}})
		c.fill(ef, color.RGBA{0xA8, 0xD8, 0xEA, 255}, poly{{0.1, 0.75}, {0.9, 0.75}, {0.85, 0.85}, {0.15, 0.85}})
	case "LA28":
		c.fill(ef, color.RGBA{0xF9, 0xC8, 0x0E, 255}, star(0.5, 0.5, 0.5, 0.7, 12, 0))
		c.fill(ef, color.RGBA{0xF2, 0x6B, 0x21, 255}, ellipse(0.5, 0.5, 0.32, 0.32, false))
		c.fill(ef, color.RGBA{0x00, 0x80, 0x80, 255}, rect(0.18, 0.55, 0.64, 0.08), rect(0.22, 0.68, 0.56, 0.07))
	case "OLYMPIC":
		c.fill(ef, white, roundRect(-0.1, 0.15, 1.2, 0.62, 0.1))
		cols := []color.RGBA{rgb(0x0081C8), rgb(0x101010), rgb(0xEE334E), rgb(0xFCB131), rgb(0x00A651)}
		centres := []pt{{0.14, 0.4}, {0.5, 0.4}, {0.86, 0.4}, {0.32, 0.55}, {0.68, 0.55}}
		for i, ce := range centres {
			c.fill(ef, cols[i], ring(ce.x, ce.y, 0.16, 0.035)...)
		}
	default:
		// A maker's own motif: a leaf, a heart or a star, no marks.
		switch r.IntN(3) {
		case 0:
			c.fill(ef, d.Accent.RGBA, poly{{0.5, 0.05}, {0.85, 0.45}, {0.5, 0.95}, {0.15, 0.45}})
		case 1:
			c.fill(ef, d.Accent.RGBA, ellipse(0.35, 0.4, 0.2, 0.2, false), ellipse(0.65, 0.4, 0.2, 0.2, false), poly{{0.17, 0.5}, {0.83, 0.5}, {0.5, 0.92}})
		default:
			c.fill(ef, d.Accent.RGBA, star(0.5, 0.5, 0.48, 0.45, 5, 0))
		}
		return
	}
	words := wordmarks[d.Property]
	word := words[r.IntN(len(words))]
	b := ef.bounds()
	ink := color.RGBA{20, 20, 20, 255}
	if luma(d.Base.RGBA) < 110 {
		ink = white
	}
	c.text(word, float64(b.Min.X+b.Max.X)/2, float64(b.Max.Y)+float64(b.Dy())*0.22, float64(b.Dy())*0.28, math.Min(f.w*0.6, ef.w*1.6), ink)
}
