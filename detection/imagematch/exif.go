package imagematch

import "marketplace/internal/imageio"

// jpegOrientation is the EXIF orientation reader shared with the catalogue (internal/imageio).
func jpegOrientation(b []byte) int { return imageio.JPEGOrientation(b) }
