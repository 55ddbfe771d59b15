//go:build !cgo

package imagematch

// fastJPEG reports whether JPEGs are decoded by libjpeg-turbo with DCT-domain scaling.
const fastJPEG = false

// decodeJPEGFast is the pure-Go build's stand-in for the libjpeg-turbo decoder: it
// returns nothing, and load falls back to image/jpeg and a box filter, which give
// equivalent fingerprints at about a tenth of the speed.
func decodeJPEGFast(data []byte, minSide int) (*grayImage, error) {
	return nil, nil
}
