package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"marketplace/internal/blob"
	"marketplace/internal/fault"
	"marketplace/internal/postgres/pgtest"
	"marketplace/licensing"
)

// newImageService returns a catalogue on a fresh database storing blobs in a temporary
// directory, which it also returns so tests can see what was written.
func newImageService(t *testing.T) (*Service, string) {
	t.Helper()
	pool := pgtest.New(t, Schemas()...)
	dir := t.TempDir()
	store, err := blob.Open(context.Background(), "file://"+filepath.ToSlash(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := NewService(pool, licensing.NewService(pool), WithBlobs(store))
	if err != nil {
		t.Fatal(err)
	}
	return svc, dir
}

// blobFiles lists the stored objects (fileblob keeps an .attrs file beside each).
func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".attrs") {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func decodeJPEGSize(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("rendition is not a JPEG: %v", err)
	}
	return img
}

func TestPutImageStoresOriginalAndRenditions(t *testing.T) {
	t.Parallel()
	svc, dir := newImageService(t)
	ctx := context.Background()
	data := encodeJPEG(t, twoTone(1700, 850))
	img, err := svc.PutImage(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if img.ContentType != "image/jpeg" || img.Width != 1700 || img.Height != 850 || img.Bytes != int64(len(data)) {
		t.Fatalf("image = %+v", img)
	}
	got, ct, err := svc.ImageBytes(ctx, img.ID)
	if err != nil || ct != "image/jpeg" || !bytes.Equal(got, data) {
		t.Fatalf("ImageBytes = %d bytes, %q, %v", len(got), ct, err)
	}
	want := map[int]image.Point{320: {320, 160}, 800: {800, 400}, 1600: {1600, 800}}
	for size, dims := range want {
		th, err := svc.Thumbnail(ctx, img.ID, size)
		if err != nil {
			t.Fatal(err)
		}
		if b := decodeJPEGSize(t, th).Bounds(); b.Dx() != dims.X || b.Dy() != dims.Y {
			t.Errorf("rendition %d is %v, want %v", size, b.Size(), dims)
		}
	}
	if n := len(blobFiles(t, dir)); n != 1+len(ImageSizes) { // before the subtests add more
		t.Errorf("stored %d objects, want %d: %v", n, 1+len(ImageSizes), blobFiles(t, dir))
	}

	t.Run("the same file twice is stored once", func(t *testing.T) {
		again, err := svc.PutImage(ctx, data)
		if err != nil || again.ID != img.ID {
			t.Fatalf("again = %+v, %v; first id %d", again, err, img.ID)
		}
		var rows int
		if err := svc.DB().QueryRow(ctx, `SELECT count(*) FROM images`).Scan(&rows); err != nil || rows != 1 {
			t.Fatalf("rows = %d, %v", rows, err)
		}
	})
	t.Run("a small picture is not enlarged", func(t *testing.T) {
		small, err := svc.PutImage(ctx, encodePNG(t, twoTone(100, 60)))
		if err != nil {
			t.Fatal(err)
		}
		th, err := svc.Thumbnail(ctx, small.ID, 1600)
		if err != nil {
			t.Fatal(err)
		}
		if b := decodeJPEGSize(t, th).Bounds(); b.Dx() != 100 || b.Dy() != 60 {
			t.Errorf("rendition is %v, want 100×60", b.Size())
		}
	})
	t.Run("a lost rendition is made again", func(t *testing.T) {
		data := encodeJPEG(t, twoTone(640, 320))
		img, err := svc.PutImage(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		key := renditionKey(sha(data), 320)
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(key))); err != nil {
			t.Fatal(err)
		}
		th, err := svc.Thumbnail(ctx, img.ID, 320)
		if err != nil || decodeJPEGSize(t, th).Bounds().Dx() != 320 {
			t.Fatalf("Thumbnail after loss: %v", err)
		}
		if ok, err := svc.blobs.Exists(ctx, key); err != nil || !ok {
			t.Errorf("the remade rendition was not kept (%v)", err)
		}
	})
	t.Run("ErrSize", func(t *testing.T) {
		if _, err := svc.Thumbnail(ctx, img.ID, 500); !fault.Is(err, fault.Invalid) {
			t.Errorf("size 500: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, _, err := svc.ImageBytes(ctx, 99999); !fault.Is(err, fault.NotFound) {
			t.Errorf("ImageBytes of a missing id: %v", err)
		}
		if _, err := svc.Thumbnail(ctx, 99999, 320); !fault.Is(err, fault.NotFound) {
			t.Errorf("Thumbnail of a missing id: %v", err)
		}
	})
}

func TestPutImageAppliesEXIFOrientation(t *testing.T) {
	t.Parallel()
	svc, _ := newImageService(t)
	ctx := context.Background()
	// Stored 600×400, left half red; orientation 6 shows it turned 90° clockwise: 400×600 with
	// the red half on top.
	data := withEXIFOrientation(encodeJPEG(t, twoTone(600, 400)), 6)
	img, err := svc.PutImage(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if img.Width != 400 || img.Height != 600 {
		t.Fatalf("image is %d×%d, want 400×600 as shown", img.Width, img.Height)
	}
	th, err := svc.Thumbnail(ctx, img.ID, 320)
	if err != nil {
		t.Fatal(err)
	}
	r := decodeJPEGSize(t, th)
	if b := r.Bounds(); b.Dx() != 213 || b.Dy() != 320 {
		t.Fatalf("rendition is %v, want 213×320", b.Size())
	}
	isRed := func(c color.Color) bool { r, _, b, _ := c.RGBA(); return r > 2*b }
	if !isRed(r.At(100, 40)) || isRed(r.At(100, 280)) {
		t.Errorf("top %v, bottom %v: the picture is not the right way up", r.At(100, 40), r.At(100, 280))
	}
}

func TestPutImageWebP(t *testing.T) {
	t.Parallel()
	svc, _ := newImageService(t)
	img, err := svc.PutImage(context.Background(), solidWebP(64, 48, color.RGBA{10, 200, 30, 255}))
	if err != nil {
		t.Fatal(err)
	}
	if img.ContentType != "image/webp" || img.Width != 64 || img.Height != 48 {
		t.Fatalf("image = %+v", img)
	}
}

func TestPutImageRefusesBadPicturesAndStoresNothing(t *testing.T) {
	t.Parallel()
	svc, dir := newImageService(t)
	ctx := context.Background()
	good := encodeJPEG(t, twoTone(400, 300))
	huge := append([]byte{0xFF, 0xD8, 0xFF}, bytes.Repeat([]byte{0}, MaxImageBytes)...)
	cases := []struct {
		name string
		data []byte
		code fault.Code
		says string
	}{
		{"empty", nil, fault.Invalid, "empty"},
		{"random bytes", []byte("this is not a picture at all, just some text"), fault.Invalid, "not a JPEG, PNG or WebP"},
		{"GIF", []byte("GIF89a\x10\x00\x10\x00\x00\x00\x00;"), fault.Invalid, "not a JPEG, PNG or WebP"},
		{"truncated JPEG", good[:len(good)/2], fault.Invalid, "damaged or cut short"},
		{"JPEG cut in its header", good[:40], fault.Invalid, "header cannot be read"},
		{"PNG bomb 100000×100000", pngBomb(100000, 100000), fault.Invalid, "100000×100000 pixels"},
		{"JPEG bomb 65000×65000", jpegBomb(65000, 65000), fault.Invalid, "65000×65000 pixels"},
		{"WebP bomb 16384×16384", solidWebP(16384, 16384, color.RGBA{1, 2, 3, 255}), fault.Invalid, "16384×16384 pixels"},
		{"one long side", pngBomb(30000, 100), fault.Invalid, "30000×100 pixels"},
		{"too small", encodePNG(t, twoTone(8, 8)), fault.Invalid, "at least 16"},
		{"too many bytes", huge, fault.TooLarge, "at most 15 MB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := svc.PutImage(ctx, c.data)
			e, ok := fault.As(err)
			if !ok || e.Code != c.code || len(e.Fields) != 1 || e.Fields[0].Field != "image" || !strings.Contains(e.Fields[0].Message, c.says) {
				t.Fatalf("err = %v (%+v), want %s naming the image and saying %q", err, e, c.code, c.says)
			}
		})
	}
	var rows int
	if err := svc.DB().QueryRow(ctx, `SELECT count(*) FROM images`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("image rows = %d, %v", rows, err)
	}
	if files := blobFiles(t, dir); len(files) != 0 {
		t.Errorf("stored %v", files)
	}
}

func TestPutImageWithoutBlobStore(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t, Schemas()...)
	svc, err := NewService(pool, licensing.NewService(pool))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutImage(context.Background(), encodePNG(t, twoTone(20, 20))); !fault.Is(err, fault.Unavailable) {
		t.Fatalf("err = %v", err)
	}
}

func sha(data []byte) []byte {
	s := sha256.Sum256(data)
	return s[:]
}
