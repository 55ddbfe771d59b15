//go:build cgo

package imagematch

/*
#cgo LDFLAGS: -ljpeg
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

struct detect_err {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
	int eof;
	char msg[JMSG_LENGTH_MAX];
};

static void detect_error_exit(j_common_ptr c) {
	struct detect_err *e = (struct detect_err *)c->err;
	(*c->err->format_message)(c, e->msg);
	longjmp(e->jump, 1);
}

// Warnings about corrupt data are common in real photos that decode fine, so they are
// ignored, except a premature end of file: a truncated upload is refused, as image/jpeg
// refuses it.
static void detect_emit_message(j_common_ptr c, int level) {
	struct detect_err *e = (struct detect_err *)c->err;
	if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) e->eof = 1;
}

// detect_decode_gray decodes a JPEG to 8-bit luma, scaled in the DCT domain by n/8 with
// the smallest n that keeps the short side >= min_side. It returns 0 and a malloc'ed
// buffer on success, 1 with a message on error, 2 for colour spaces libjpeg cannot turn
// into luma (CMYK, YCCK), which the caller decodes another way.
static int detect_decode_gray(const unsigned char *buf, unsigned long len, int min_side,
		unsigned char **out, int *w, int *h, char *msg) {
	struct jpeg_decompress_struct cinfo;
	struct detect_err jerr;
	unsigned char *pix = NULL;
	memset(&cinfo, 0, sizeof cinfo);
	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = detect_error_exit;
	jerr.pub.emit_message = detect_emit_message;
	jerr.eof = 0;
	jerr.msg[0] = 0;
	if (setjmp(jerr.jump)) {
		jpeg_destroy_decompress(&cinfo);
		free(pix);
		strncpy(msg, jerr.msg, JMSG_LENGTH_MAX - 1);
		return 1;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, buf, len);
	jpeg_read_header(&cinfo, TRUE);
	if (cinfo.jpeg_color_space != JCS_GRAYSCALE && cinfo.jpeg_color_space != JCS_YCbCr &&
			cinfo.jpeg_color_space != JCS_RGB) {
		jpeg_destroy_decompress(&cinfo);
		return 2;
	}
	int side = cinfo.image_width < cinfo.image_height ? cinfo.image_width : cinfo.image_height;
	int n = 1;
	while (n < 8 && ((long)side * n + 7) / 8 < min_side) n++;
	cinfo.scale_num = n;
	cinfo.scale_denom = 8;
	cinfo.out_color_space = JCS_GRAYSCALE;
	cinfo.dct_method = JDCT_ISLOW;
	jpeg_start_decompress(&cinfo);
	int ow = cinfo.output_width, oh = cinfo.output_height;
	pix = malloc((size_t)ow * oh);
	if (pix == NULL) {
		jpeg_destroy_decompress(&cinfo);
		strcpy(msg, "out of memory");
		return 1;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = pix + (size_t)cinfo.output_scanline * ow;
		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	if (jerr.eof) {
		jpeg_destroy_decompress(&cinfo);
		free(pix);
		strcpy(msg, "unexpected end of file");
		return 1;
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	*out = pix;
	*w = ow;
	*h = oh;
	return 0;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// fastJPEG reports whether JPEGs are decoded by libjpeg-turbo with DCT-domain scaling.
const fastJPEG = true

// decodeJPEGFast decodes a JPEG with libjpeg-turbo straight to luma at the smallest
// scale n/8 that keeps the short side at least minSide: at 1/8 libjpeg computes only
// each 8×8 block's DC coefficient, which is the block's average, so the costly inverse
// DCT, chroma upsampling and colour conversion are skipped, and what is left is the same
// area average the pure-Go path computes with a box filter. It returns (nil, nil) for
// CMYK and YCCK JPEGs, which the caller decodes with image/jpeg.
//
// The caller has already checked the file size and the pixel count in the header.
func decodeJPEGFast(data []byte, minSide int) (*grayImage, error) {
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	var (
		out  *C.uchar
		w, h C.int
		msg  [C.JMSG_LENGTH_MAX]C.char
	)
	// data holds no Go pointers, so C may read it for the duration of the call.
	rc := C.detect_decode_gray((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(minSide),
		&out, &w, &h, &msg[0])
	switch rc {
	case 2:
		return nil, nil
	case 1:
		return nil, errors.New(C.GoString(&msg[0]))
	}
	defer C.free(unsafe.Pointer(out))
	n := int(w) * int(h)
	src := unsafe.Slice((*byte)(unsafe.Pointer(out)), n)
	g := newGray(int(w), int(h))
	for i, v := range src {
		g.pix[i] = float32(v)
	}
	// Even at 1/8 a very large photo stays above workSide; finish with a box filter.
	if f := boxFactor(g.w, g.h); f > 1 {
		return g.boxDown(f), nil
	}
	return g, nil
}

// boxDown averages f×f boxes (partial ones at the right and bottom edges over the
// pixels they hold).
func (g *grayImage) boxDown(f int) *grayImage {
	ow, oh := (g.w+f-1)/f, (g.h+f-1)/f
	out := newGray(ow, oh)
	cnt := make([]float32, ow*oh)
	for y := range g.h {
		o := (y / f) * ow
		for x, v := range g.pix[y*g.w : (y+1)*g.w] {
			out.pix[o+x/f] += v
			cnt[o+x/f]++
		}
	}
	for i := range out.pix {
		out.pix[i] /= cnt[i]
	}
	return out
}
