// Package imagematch finds copies of a picture among millions of reference pictures. It is
// the pure core of detection: no database, no web, no marketplace slice (it reads EXIF
// orientation through internal/imageio, a leaf package shared with the catalogue).
//
//   - [Hasher] turns image bytes (JPEG, PNG, WebP, the first frame of a GIF) into a
//     [Fingerprint]: 64-bit perceptual hashes (goimagehash's pHash and dHash) of the whole
//     picture, its mirror image, slightly rotated copies and 27 overlapping windows, plus
//     two 32×32 grey thumbnails for a finer check. The picture is normalised first (EXIF
//     orientation, transparency on white, uniform borders trimmed, a plain background
//     painted white for one extra hash), and its size and pixel count are checked before
//     it is decoded. JPEGs are decoded downscaled in the DCT domain by libjpeg-turbo
//     (cgo); a build without cgo uses image/jpeg, with equivalent fingerprints.
//   - [Index] finds all 64-bit hashes within a Hamming radius of a query hash among millions
//     of references (multi-index hashing), while references keep arriving.
//   - [Matcher] holds the references' fingerprints, asks the index for candidates and
//     confirms them with the finer check, under the thresholds of a [MatchConfig].
//   - [HashFiles] and [Scan] are the offline tools behind `marketplace detect`.
//
// QUALITY.md beside this file has its measured recall and false-match figures and how to
// reproduce them.
package imagematch

import (
	"errors"
	"fmt"
)

// The errors a Hasher returns, wrapped with details; test with errors.Is. Every rejected
// input gets one of them, so callers can map them to a user-facing message (and an HTTP
// 422) without parsing strings.
var (
	// ErrNotImage is returned for bytes that are not a supported image (JPEG, PNG, WebP,
	// GIF), or whose header or data is corrupt or truncated.
	ErrNotImage = errors.New("imagematch: not a supported image")
	// ErrTooLarge is returned when the file has more bytes than HashConfig.MaxBytes.
	ErrTooLarge = errors.New("imagematch: image file too large")
	// ErrTooManyPixels is returned when the header claims more than HashConfig.MaxPixels
	// pixels; the image is refused before anything is allocated for its pixels.
	ErrTooManyPixels = errors.New("imagematch: image has too many pixels")
	// ErrTooSmall is returned when a side is shorter than HashConfig.MinSide, before or
	// after the uniform borders are trimmed: a fingerprint of so few pixels means nothing.
	ErrTooSmall = errors.New("imagematch: image too small")
	// ErrNoDetail is returned for an image of one flat colour: all such images would share
	// one fingerprint and match each other.
	ErrNoDetail = errors.New("imagematch: image has no detail")
)

// HashConfig bounds the work a Hasher does for one image and chooses its decoder.
type HashConfig struct {
	// MaxBytes is the largest file accepted, in bytes.
	MaxBytes int64
	// MaxPixels is the largest width×height accepted, read from the header.
	MaxPixels int64
	// MinSide is the shortest side accepted, in pixels.
	MinSide int
	// Plain disables the fast JPEG path (DCT-domain downscaling in libjpeg-turbo) and
	// decodes every JPEG in full with image/jpeg. It exists to measure the fast path
	// against; fingerprints are equivalent either way.
	Plain bool
}

// DefaultHashConfig returns the limits used by the server and the offline tools: 32 MiB,
// 64 megapixels (a 10000×6400 photo), sides of at least 16 pixels. A JPEG of that size
// costs libjpeg-turbo a few tens of megabytes; a 16-bit RGBA PNG of that size is decoded
// in full by image/png, 512 MB: bound the number of concurrent Hashers accordingly.
func DefaultHashConfig() HashConfig {
	return HashConfig{MaxBytes: 32 << 20, MaxPixels: 64_000_000, MinSide: 16}
}

func (c HashConfig) validate() error {
	if c.MaxBytes <= 0 || c.MaxPixels <= 0 || c.MinSide < 1 {
		return fmt.Errorf("imagematch: invalid HashConfig %+v", c)
	}
	return nil
}
