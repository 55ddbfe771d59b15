package demo

import (
	"image"
	"image/png"
	"os"
	"testing"

	xdraw "golang.org/x/image/draw"
)

// TestLook writes a contact sheet of designs to $DEMO_LOOK (a PNG path), for a person to
// look at; it is skipped otherwise.
func TestLook(t *testing.T) {
	out := os.Getenv("DEMO_LOOK")
	if out == "" {
		t.Skip("set DEMO_LOOK=sheet.png to draw a contact sheet")
	}
	c := Generate(SeedLicences, Full)
	var designs []Design
	for i := 0; i < len(c.Products) && len(designs) < 28; i += 11 {
		designs = append(designs, c.Products[i].Design)
	}
	for i, k := range []Kind{KindTShirt, KindMug, KindCap, KindScarf, KindMascot, KindPin, KindTote} {
		designs = append(designs, NewPhoto(string(rune('a'+i)), k))
	}
	const cell, cols = 200, 7
	rows := (len(designs) + cols - 1) / cols
	sheet := image.NewRGBA(image.Rect(0, 0, cols*cell, rows*cell))
	for i, d := range designs {
		x, y := i%cols*cell, i/cols*cell
		xdraw.ApproxBiLinear.Scale(sheet, image.Rect(x+2, y+2, x+cell-2, y+cell-2), d.Image(Size), image.Rect(0, 0, Size, Size), xdraw.Src, nil)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, sheet); err != nil {
		t.Fatal(err)
	}
}
