package imagematch

import "math"

// The finer check. Two unrelated pictures can share a 64-bit pHash within the index
// radius by chance, most often when both are a dark object on a light ground. The
// check compares the matched views themselves: the query's thumbnail against the part
// of the reference's thumbnail the matched hash describes (a window, the mirror image,
// a rotated copy), by normalised cross-correlation, which ignores brightness and
// contrast. It tries small shifts and scales of the window, because a crop is never
// exactly on one of the 27 windows; the best correlation counts.

// fineSide is the side of the grids correlated by the finer check.
const fineSide = 16

// thumbGray turns a stored thumbnail into a working picture.
func thumbGray(t []byte) *grayImage {
	g := newGray(ThumbSide, ThumbSide)
	for i, v := range t {
		g.pix[i] = float32(v)
	}
	return g
}

// view is what one hash of a fingerprint describes, in terms of its thumbnails.
type view struct {
	g      *grayImage // the thumbnail, already mirrored or rotated as the kind says
	r      rectF      // the window of g the hash covers
	search bool       // whether the window may be shifted and scaled a little
}

// viewOf returns the view of hash kind k of fp, or false when fp lacks the thumbnail.
func viewOf(fp *Fingerprint, k Kind) (view, bool) {
	if len(fp.Thumb) != ThumbSide*ThumbSide {
		return view{}, false
	}
	full := rectF{0, 0, ThumbSide, ThumbSide}
	switch {
	case k == KindPHash:
		return view{thumbGray(fp.Thumb), full, true}, true
	case k == KindPHashMirror:
		return view{thumbGray(fp.Thumb).orient(2), full, true}, true
	case k == KindPHashRaw:
		if len(fp.ThumbRaw) != ThumbSide*ThumbSide {
			return view{}, false
		}
		return view{thumbGray(fp.ThumbRaw), full, true}, true
	case k == KindPHashRotCCW || k == KindPHashRotCW:
		src := fp.Thumb
		if fp.ThumbRaw != nil {
			src = fp.ThumbRaw // the rotated hashes were taken from the whole picture
		}
		deg := rotationDegrees
		if k == KindPHashRotCW {
			deg = -deg
		}
		return view{thumbGray(src).rotate(deg), full, true}, true
	case k == KindPHashFill:
		g := thumbGray(fp.Thumb)
		if f, ok := g.fillBackground(0.5); ok {
			g = f
		}
		return view{g, full, true}, true
	case k.isRegion():
		return view{thumbGray(fp.Thumb), full.sub(k.regionRect()), true}, true
	}
	return view{}, false
}

// correlate returns the best normalised cross-correlation (-1..1) between the query
// view and the reference view, over small shifts and scales of the reference window.
func correlate(q, ref view) float64 {
	var a, b [fineSide * fineSide]float32
	q.g.resample(q.r, fineSide, fineSide, a[:])
	normalise(a[:])
	best := -1.0
	steps := []float64{0}
	if ref.search {
		steps = []float64{-0.04, 0, 0.04}
	}
	w, h := ref.r.dx(), ref.r.dy()
	for _, ds := range steps {
		sw, sh := w*(1+ds), h*(1+ds)
		for _, fx := range steps {
			for _, fy := range steps {
				cx := ref.r.x0 + w/2 + fx*w
				cy := ref.r.y0 + h/2 + fy*h
				ref.g.resample(rectF{cx - sw/2, cy - sh/2, cx + sw/2, cy + sh/2}, fineSide, fineSide, b[:])
				normalise(b[:])
				var s float64
				for i := range a {
					s += float64(a[i] * b[i])
				}
				best = math.Max(best, s)
			}
		}
	}
	return best
}

// normalise scales v to zero mean and unit length (all zero if v is flat).
func normalise(v []float32) {
	var m float64
	for _, x := range v {
		m += float64(x)
	}
	m /= float64(len(v))
	var ss float64
	for i, x := range v {
		d := float64(x) - m
		v[i] = float32(d)
		ss += d * d
	}
	if ss < 1e-6 {
		clear(v)
		return
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
}
