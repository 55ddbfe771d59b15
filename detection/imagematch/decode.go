package imagematch

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/gif" // registers GIF with image.DecodeConfig; Decode reads the first frame only
	"image/jpeg"
	_ "image/png" // registers PNG

	_ "golang.org/x/image/webp" // registers WebP

	"marketplace/internal/imageio"
)

// load checks data against the limits of cfg and decodes it into a working picture:
// right way up, transparency on white, short side about workSide pixels.
//
// Size and pixel count are checked before any pixel is decoded: image.DecodeConfig
// reads only the header, so a 100000×100000 bomb costs nothing.
func load(data []byte, cfg HashConfig) (*grayImage, error) {
	return loadContext(context.Background(), data, cfg)
}

// loadContext is load, waiting for the process's pixel budget (imageio.AcquirePixels) until
// ctx ends.
func loadContext(ctx context.Context, data []byte, cfg HashConfig) (*grayImage, error) {
	if int64(len(data)) > cfg.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), cfg.MaxBytes)
	}
	ic, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if ic.Width <= 0 || ic.Height <= 0 {
		return nil, fmt.Errorf("%w: %s of %d×%d pixels", ErrNotImage, format, ic.Width, ic.Height)
	}
	if px := int64(ic.Width) * int64(ic.Height); px > cfg.MaxPixels {
		return nil, fmt.Errorf("%w: %d×%d, limit %d pixels", ErrTooManyPixels, ic.Width, ic.Height, cfg.MaxPixels)
	}
	if ic.Width < cfg.MinSide || ic.Height < cfg.MinSide {
		return nil, fmt.Errorf("%w: %d×%d, shortest side allowed %d", ErrTooSmall, ic.Width, ic.Height, cfg.MinSide)
	}
	// Decoded pixels count against the budget every decoder in the process shares.
	release, err := imageio.AcquirePixels(ctx, int64(ic.Width)*int64(ic.Height))
	if err != nil {
		return nil, err
	}
	defer release()
	var g *grayImage
	switch format {
	case "jpeg":
		if !cfg.Plain {
			g, err = decodeJPEGFast(data, workSide)
		}
		if g == nil && err == nil { // plain mode, or a JPEG the fast path leaves to Go (CMYK)
			var img image.Image
			if img, err = jpeg.Decode(bytes.NewReader(data)); err == nil {
				g = grayFromImage(img)
			}
		}
		if g != nil {
			g = g.orient(jpegOrientation(data))
		}
	case "png", "gif", "webp":
		var img image.Image
		if img, _, err = image.Decode(bytes.NewReader(data)); err == nil {
			g = grayFromImage(img)
		}
	default:
		// Another package may have registered more formats (BMP, TIFF): not accepted
		// for listings, so not fingerprinted either.
		return nil, fmt.Errorf("%w: format %s", ErrNotImage, format)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotImage, format, err)
	}
	return g, nil
}
