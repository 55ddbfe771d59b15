package imageio

import (
	"image"
	"image/color"
	"testing"
)

func TestShrinkAveragesArea(t *testing.T) {
	// A 1-pixel black and white checkerboard shrunk by 2 is mid grey; by 3 (odd) it stays
	// within a level of it except for the rounding of the covered areas.
	src := image.NewRGBA(image.Rect(0, 0, 60, 30))
	for y := range 30 {
		for x := range 60 {
			if (x+y)%2 == 0 {
				src.SetRGBA(x, y, color.RGBA{255, 255, 255, 255})
			} else {
				src.SetRGBA(x, y, color.RGBA{0, 0, 0, 255})
			}
		}
	}
	out := Shrink(src, 30, 15)
	if out.Bounds().Dx() != 30 || out.Bounds().Dy() != 15 {
		t.Fatalf("size %v", out.Bounds())
	}
	for y := range 15 {
		for x := range 30 {
			if c := out.RGBAAt(x, y); c.R < 127 || c.R > 128 || c.A != 255 {
				t.Fatalf("pixel %d,%d = %v, want mid grey", x, y, c)
			}
		}
	}
	if out := Shrink(src, 200, 100); out.Bounds().Dx() != 60 {
		t.Errorf("Shrink enlarged to %v", out.Bounds())
	}
}

func TestShrinkLaysTransparencyOverWhite(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 10, 10)) // fully transparent
	if c := Shrink(src, 5, 5).RGBAAt(2, 2); c != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("transparent became %v", c)
	}
}

func TestOrientTurnsAndSwaps(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	src.SetRGBA(0, 0, color.RGBA{255, 0, 0, 255}) // red in the top-left corner
	corners := map[int]image.Point{1: {0, 0}, 2: {2, 0}, 3: {2, 1}, 4: {0, 1}, 5: {0, 0}, 6: {1, 0}, 7: {1, 2}, 8: {0, 2}}
	for o, want := range corners {
		out := Orient(src, o)
		if Swaps(o) != (out.Bounds().Dx() == 2) {
			t.Errorf("orientation %d: size %v", o, out.Bounds().Size())
		}
		if out.RGBAAt(want.X, want.Y).R != 255 {
			t.Errorf("orientation %d: red corner not at %v", o, want)
		}
	}
}
