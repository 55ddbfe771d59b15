// Package imageio holds the small picture helpers that the catalogue (storing photos) and
// detection (fingerprinting them) share: the EXIF orientation reader and turning a decoded
// picture the right way up. It imports no slice.
package imageio

import "image"

// Orient returns img turned by EXIF orientation o (1..8) so it shows the right way up; o
// outside 2..8 returns img unchanged. Orientations 5..8 swap width and height.
func Orient(img *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := OrientedSize(o, w, h)
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := range oh {
		for x := range ow {
			sx, sy := OrientedSource(o, w, h, x, y)
			si := img.PixOffset(b.Min.X+sx, b.Min.Y+sy)
			copy(out.Pix[out.PixOffset(x, y):][:4], img.Pix[si:si+4])
		}
	}
	return out
}

// OrientedSize is the size of a w×h picture once turned by EXIF orientation o.
func OrientedSize(o, w, h int) (ow, oh int) {
	if Swaps(o) {
		return h, w
	}
	return w, h
}

// OrientedSource says which pixel of a w×h picture lands at (x, y) once it is turned by EXIF
// orientation o (2..8; any other o is the identity). Detection's grey pictures and the
// catalogue's RGBA ones both turn through it.
func OrientedSource(o, w, h, x, y int) (sx, sy int) {
	switch o {
	case 2:
		return w - 1 - x, y
	case 3:
		return w - 1 - x, h - 1 - y
	case 4:
		return x, h - 1 - y
	case 5:
		return y, x
	case 6:
		return y, h - 1 - x
	case 7:
		return w - 1 - y, h - 1 - x
	case 8:
		return w - 1 - y, x
	}
	return x, y
}

// Swaps reports whether orientation o swaps width and height.
func Swaps(o int) bool { return o >= 5 && o <= 8 }
