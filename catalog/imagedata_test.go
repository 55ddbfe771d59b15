package catalog

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// Pictures made in code for the image tests: real encodings (JPEG, PNG, a lossless WebP
// written bit by bit) and hostile headers.

// twoTone is a w×h picture whose left half is red and right half blue.
func twoTone(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{220, 20, 20, 255}
			if x >= w/2 {
				c = color.RGBA{20, 20, 220, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withEXIFOrientation inserts an APP1 EXIF segment holding only the Orientation tag after
// the JPEG's SOI marker.
func withEXIFOrientation(data []byte, o uint16) []byte {
	tiff := []byte("II*\x00\x08\x00\x00\x00")
	ifd := make([]byte, 2+12+4)
	binary.LittleEndian.PutUint16(ifd[0:], 1)
	binary.LittleEndian.PutUint16(ifd[2:], 0x0112)
	binary.LittleEndian.PutUint16(ifd[4:], 3)
	binary.LittleEndian.PutUint32(ifd[6:], 1)
	binary.LittleEndian.PutUint16(ifd[10:], o)
	payload := append(append([]byte("Exif\x00\x00"), tiff...), ifd...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{}, data[:2]...)
	out = append(out, seg...)
	return append(out, data[2:]...)
}

// pngChunk encodes one PNG chunk with its CRC.
func pngChunk(kind string, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	out = append(out, kind...)
	out = append(out, body...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(kind), body...)))
}

// pngBomb is a PNG header claiming w×h pixels, with no pixel data behind it.
func pngBomb(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB
	return append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
}

// jpegBomb is a JPEG whose frame header claims w×h pixels (at most 65535 a side).
func jpegBomb(w, h uint16) []byte {
	out := []byte{0xFF, 0xD8}
	dqt := append([]byte{0xFF, 0xDB, 0x00, 0x43, 0x00}, bytes.Repeat([]byte{1}, 64)...)
	out = append(out, dqt...)
	sof := []byte{0xFF, 0xC0, 0x00, 0x0B, 8, 0, 0, 0, 0, 1, 1, 0x11, 0}
	binary.BigEndian.PutUint16(sof[5:], h)
	binary.BigEndian.PutUint16(sof[7:], w)
	out = append(out, sof...)
	// A scan header and a few bytes of entropy-coded data: all a decoder needs to start
	// allocating the whole frame.
	sos := []byte{0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 63, 0}
	return append(append(out, sos...), 0x12, 0x34, 0x56, 0xFF, 0xD9)
}

// bitWriter packs bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

func (b *bitWriter) write(v uint64, n uint) {
	b.acc |= v << b.nacc
	b.nacc += n
	for b.nacc >= 8 {
		b.buf = append(b.buf, byte(b.acc))
		b.acc >>= 8
		b.nacc -= 8
	}
}

func (b *bitWriter) bytes() []byte {
	if b.nacc > 0 {
		b.buf = append(b.buf, byte(b.acc))
		b.acc, b.nacc = 0, 0
	}
	return b.buf
}

// solidWebP is a lossless WebP of w×h pixels (up to 16384 a side) of one colour: every
// prefix code has a single symbol, so the pixels take no bits at all. The header may claim
// any size, which makes it a WebP decompression bomb too.
func solidWebP(w, h int, c color.RGBA) []byte {
	var bw bitWriter
	bw.write(0x2f, 8)
	bw.write(uint64(w-1), 14)
	bw.write(uint64(h-1), 14)
	bw.write(0, 1) // no alpha used
	bw.write(0, 3) // version 0
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no colour cache
	bw.write(0, 1) // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A} {
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // of 8 bits
		bw.write(uint64(sym), 8)
	}
	bw.write(1, 1) // distance code: simple
	bw.write(0, 1) // one symbol
	bw.write(0, 1) // of 1 bit
	bw.write(0, 1) // symbol 0
	vp8l := bw.bytes()
	if len(vp8l)%2 == 1 {
		vp8l = append(vp8l, 0)
	}
	chunk := append([]byte("VP8L"), binary.LittleEndian.AppendUint32(nil, uint32(len(bw.buf)))...)
	chunk = append(chunk, vp8l...)
	out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(chunk)))...)
	out = append(out, "WEBP"...)
	return append(out, chunk...)
}
