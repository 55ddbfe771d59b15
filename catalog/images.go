package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"slices"

	"golang.org/x/image/webp"

	"marketplace/internal/fault"
	"marketplace/internal/imageio"
	"marketplace/internal/postgres"
)

// The limits every stored picture meets. They are checked from the file's size and header
// before a single pixel is decoded, so a 100000×100000 "decompression bomb" costs nothing.
const (
	MaxImageBytes  = 15 << 20   // 15 MiB
	MaxImagePixels = 40_000_000 // 40 megapixels
	MaxImageSide   = 20_000     // pixels on the longer side
	MinImageSide   = 16         // pixels on the shorter side
)

// ImageSizes are the renditions made for every picture: each fits a square of that many
// pixels (never enlarged), JPEG, the right way up, with no EXIF (so no GPS position) left in.
// The largest is what GET /images/{id} serves without ?size=.
var ImageSizes = []int{320, 800, 1600}

// decodeSlots is how many pictures are decoded at once (a 40 MP PNG takes 160 MB).
const decodeSlots = 2

// imageLimits are the checks of inspectImage; the fuzz test lowers them to stay fast.
type imageLimits struct {
	MaxBytes  int
	MaxPixels int64
	MaxSide   int
	MinSide   int
}

var defaultImageLimits = imageLimits{MaxBytes: MaxImageBytes, MaxPixels: MaxImagePixels, MaxSide: MaxImageSide, MinSide: MinImageSide}

// imageHeader is what a picture's header says, once it passed the checks.
type imageHeader struct {
	ContentType   string
	Width, Height int // as stored, before EXIF orientation
	Orientation   int // EXIF orientation, 1 when none
}

// badImage is the error for a picture that is refused.
func badImage(format string, args ...any) error {
	return fault.Validation("the picture is not accepted", fault.Field("image", format, args...))
}

// sniff names the format from the file's first bytes, whatever its name or declared type.
func sniff(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return "image/jpeg"
	case len(data) >= 8 && string(data[:8]) == "\x89PNG\r\n\x1a\n":
		return "image/png"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "image/webp"
	}
	return ""
}

// inspectImage checks a picture's size, type (by its magic bytes) and header dimensions
// without decoding pixels.
func inspectImage(data []byte, lim imageLimits) (imageHeader, error) {
	if len(data) == 0 {
		return imageHeader{}, badImage("the file is empty")
	}
	if len(data) > lim.MaxBytes {
		return imageHeader{}, &fault.Error{Code: fault.TooLarge, Message: "the picture is too large",
			Fields: []fault.FieldError{fault.Field("image", "the file is %.1f MB; at most %d MB", float64(len(data))/(1<<20), lim.MaxBytes>>20)}}
	}
	h := imageHeader{ContentType: sniff(data), Orientation: 1}
	var cfg image.Config
	var err error
	switch h.ContentType {
	case "image/jpeg":
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
		h.Orientation = imageio.JPEGOrientation(data)
	case "image/png":
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case "image/webp":
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	default:
		return imageHeader{}, badImage("the file is not a JPEG, PNG or WebP picture")
	}
	if err != nil {
		return imageHeader{}, badImage("the %s header cannot be read (%v): the file is damaged or cut short", h.ContentType[6:], err)
	}
	h.Width, h.Height = cfg.Width, cfg.Height
	switch {
	case h.Width <= 0 || h.Height <= 0:
		return imageHeader{}, badImage("the picture claims %d×%d pixels", h.Width, h.Height)
	case int64(h.Width)*int64(h.Height) > lim.MaxPixels || max(h.Width, h.Height) > lim.MaxSide:
		return imageHeader{}, badImage("the picture is %d×%d pixels; at most %d megapixels and %d pixels a side",
			h.Width, h.Height, lim.MaxPixels/1_000_000, lim.MaxSide)
	case min(h.Width, h.Height) < lim.MinSide:
		return imageHeader{}, badImage("the picture is %d×%d pixels; each side needs at least %d", h.Width, h.Height, lim.MinSide)
	}
	return h, nil
}

// decodeImage decodes a picture that passed inspectImage. A decoder that panics on hostile
// input refuses the picture instead of taking the process down.
func decodeImage(data []byte, h imageHeader) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, badImage("the %s picture cannot be decoded", h.ContentType[6:])
		}
	}()
	switch h.ContentType {
	case "image/jpeg":
		img, err = jpeg.Decode(bytes.NewReader(data))
	case "image/png":
		img, err = png.Decode(bytes.NewReader(data))
	case "image/webp":
		img, err = webp.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, badImage("the %s picture is damaged or cut short (%v)", h.ContentType[6:], err)
	}
	if b := img.Bounds(); b.Dx() != h.Width || b.Dy() != h.Height {
		return nil, badImage("the picture's header says %d×%d but it decodes to %d×%d", h.Width, h.Height, b.Dx(), b.Dy())
	}
	return img, nil
}

// rendition is one resized copy of a picture, JPEG-encoded.
type rendition struct {
	Size int
	Data []byte
}

// fit returns w×h scaled down (never up) to fit a box of side pixels.
func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, (h*side+w/2)/w)
	}
	return max(1, (w*side+h/2)/h), side
}

// render makes every rendition of img: the largest from the picture itself, the smaller ones
// from the largest, each by area averaging (imageio.Shrink). The EXIF orientation is applied
// to each small copy, not to the big original. Transparency becomes white.
func render(img image.Image, orientation int) ([]rendition, error) {
	var out []rendition
	from := img
	for i := len(ImageSizes) - 1; i >= 0; i-- {
		size := ImageSizes[i]
		// Sizes are for the picture as shown; before orientation a turned picture's sides swap.
		b := img.Bounds()
		dispW, dispH := b.Dx(), b.Dy()
		if imageio.Swaps(orientation) {
			dispW, dispH = dispH, dispW
		}
		w, h := fit(dispW, dispH, size)
		if imageio.Swaps(orientation) {
			w, h = h, w
		}
		small := imageio.Shrink(from, w, h)
		from = small
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, imageio.Orient(small, orientation), &jpeg.Options{Quality: 82}); err != nil {
			return nil, err
		}
		out = append(out, rendition{Size: size, Data: buf.Bytes()})
	}
	return out, nil
}

// renditions decodes data and renders it. Decoding takes memory in proportion to the
// pixels (a 40 MP PNG takes 160 MB), so only decodeSlots pictures are decoded at once.
func (s *Service) renditions(ctx context.Context, data []byte, h imageHeader) ([]rendition, error) {
	select {
	case s.decodeSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.decodeSlots }()
	// The pixels also count against the budget every decoder in the process shares.
	release, err := imageio.AcquirePixels(ctx, int64(h.Width)*int64(h.Height))
	if err != nil {
		return nil, err
	}
	defer release()
	img, err := decodeImage(data, h)
	if err != nil {
		return nil, err
	}
	return render(img, h.Orientation)
}

func originalKey(sum []byte) string {
	h := hex.EncodeToString(sum)
	return "images/" + h[:2] + "/" + h
}

func renditionKey(sum []byte, size int) string {
	h := hex.EncodeToString(sum)
	return fmt.Sprintf("renditions/%s/%s/%d.jpg", h[:2], h, size)
}

func (s *Service) blobStore() error {
	if s.blobs == nil {
		return fault.New(fault.Unavailable, "pictures cannot be stored: the catalogue has no blob store (catalog.WithBlobs)")
	}
	return nil
}

// PutImage checks, stores and returns a picture. The file's type is read from its first bytes
// (JPEG, PNG or WebP only); its size and the pixel count its header claims are checked before
// any pixel is decoded. The original is kept as uploaded, under its SHA-256, so uploading the
// same file twice stores it once and returns the same Image; its renditions (ImageSizes) are
// made the right way up (EXIF orientation) and stored beside it. Width and Height are those
// of the picture as shown.
//
// Returns fault.Invalid (field "image") for a file that is not a picture, a damaged or cut
// short one, or one with too many or too few pixels; fault.TooLarge for more than
// MaxImageBytes. Nothing is stored then.
func (s *Service) PutImage(ctx context.Context, data []byte) (_ Image, err error) {
	defer fault.Annotate(&err, "catalog.PutImage()")
	p, err := s.prepareImage(ctx, data)
	if err != nil {
		return Image{}, err
	}
	return s.storeImage(ctx, p)
}

// preparedImage is a picture that passed every check, with its renditions made, not yet
// stored. Existing is set instead when the same file is stored already.
type preparedImage struct {
	data       []byte
	sum        []byte
	header     imageHeader
	renditions []rendition
	existing   *Image
}

// prepareImage does all of PutImage that can refuse the picture, and writes nothing: a form
// with several photos prepares them all before storing any.
func (s *Service) prepareImage(ctx context.Context, data []byte) (preparedImage, error) {
	if err := s.blobStore(); err != nil {
		return preparedImage{}, err
	}
	h, err := inspectImage(data, defaultImageLimits)
	if err != nil {
		return preparedImage{}, err
	}
	sum := sha256.Sum256(data)
	p := preparedImage{data: data, sum: sum[:], header: h}
	if img, err := s.imageBySHA(ctx, sum[:]); err == nil {
		p.existing = &img
		return p, nil
	} else if !fault.Is(err, fault.NotFound) {
		return preparedImage{}, err
	}
	if p.renditions, err = s.renditions(ctx, data, h); err != nil {
		return preparedImage{}, err
	}
	return p, nil
}

// storeImage writes a prepared picture: blobs first, row last, so a failure in between leaves
// only unreferenced blobs, which a retry overwrites with the same bytes.
func (s *Service) storeImage(ctx context.Context, p preparedImage) (Image, error) {
	if p.existing != nil {
		return *p.existing, nil
	}
	key := originalKey(p.sum)
	if err := s.blobs.Put(ctx, key, p.data, p.header.ContentType); err != nil {
		return Image{}, err
	}
	for _, r := range p.renditions {
		if err := s.blobs.Put(ctx, renditionKey(p.sum, r.Size), r.Data, "image/jpeg"); err != nil {
			return Image{}, err
		}
	}
	w, ht := p.header.Width, p.header.Height
	if imageio.Swaps(p.header.Orientation) {
		w, ht = ht, w
	}
	var img Image
	// Two uploads of one file at once: the second insert finds the first row and returns it.
	err := s.db.QueryRow(ctx, `INSERT INTO images (sha256, blob_key, content_type, width, height, bytes)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (sha256) DO UPDATE SET sha256 = images.sha256
		RETURNING id, content_type, width, height, bytes`,
		p.sum, key, p.header.ContentType, w, ht, len(p.data)).Scan(&img.ID, &img.ContentType, &img.Width, &img.Height, &img.Bytes)
	if err != nil {
		return Image{}, postgres.Err(err, "image")
	}
	return img, nil
}

func (s *Service) imageBySHA(ctx context.Context, sum []byte) (Image, error) {
	var img Image
	err := s.db.QueryRow(ctx, `SELECT id, content_type, width, height, bytes FROM images WHERE sha256 = $1`, sum).
		Scan(&img.ID, &img.ContentType, &img.Width, &img.Height, &img.Bytes)
	return img, postgres.Err(err, "image")
}

// storedImage is an image row with where its bytes are.
type storedImage struct {
	Image
	SHA256  []byte
	BlobKey string
}

func (s *Service) storedImage(ctx context.Context, id int64) (storedImage, error) {
	var st storedImage
	err := s.db.QueryRow(ctx, `SELECT id, content_type, width, height, bytes, sha256, blob_key FROM images WHERE id = $1`, id).
		Scan(&st.ID, &st.ContentType, &st.Width, &st.Height, &st.Bytes, &st.SHA256, &st.BlobKey)
	if err != nil {
		return storedImage{}, postgres.Err(err, "image")
	}
	return st, nil
}

// ImageInfo returns the stored picture id's record. Returns fault.NotFound when there is none.
func (s *Service) ImageInfo(ctx context.Context, id int64) (_ Image, err error) {
	defer fault.Annotate(&err, "catalog.ImageInfo(%d)", id)
	st, err := s.storedImage(ctx, id)
	return st.Image, err
}

// ImageBytes returns picture id as it was uploaded, with its content type (for detection,
// which reads the EXIF orientation itself). Returns fault.NotFound when there is no such
// picture.
func (s *Service) ImageBytes(ctx context.Context, id int64) (_ []byte, _ string, err error) {
	defer fault.Annotate(&err, "catalog.ImageBytes(%d)", id)
	if err := s.blobStore(); err != nil {
		return nil, "", err
	}
	st, err := s.storedImage(ctx, id)
	if err != nil {
		return nil, "", err
	}
	data, err := s.blobs.Get(ctx, st.BlobKey)
	if err != nil {
		return nil, "", err
	}
	return data, st.ContentType, nil
}

// Thumbnail returns the JPEG rendition of picture id that fits a square of size pixels; size
// is one of ImageSizes. A rendition missing from the store (a picture stored before its size
// existed) is made again from the original and kept. Returns fault.Invalid for another size
// and fault.NotFound when there is no such picture.
func (s *Service) Thumbnail(ctx context.Context, id int64, size int) (_ []byte, err error) {
	defer fault.Annotate(&err, "catalog.Thumbnail(%d, %d)", id, size)
	data, _, err := s.thumbnail(ctx, id, size)
	return data, err
}

// thumbnail is Thumbnail, also returning the picture's SHA-256 for the HTTP ETag.
func (s *Service) thumbnail(ctx context.Context, id int64, size int) ([]byte, []byte, error) {
	if !slices.Contains(ImageSizes, size) {
		return nil, nil, fault.Validation("the size is not valid", fault.Field("size", "must be one of %v", ImageSizes))
	}
	if err := s.blobStore(); err != nil {
		return nil, nil, err
	}
	st, err := s.storedImage(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	data, err := s.blobs.Get(ctx, renditionKey(st.SHA256, size))
	if err == nil || !fault.Is(err, fault.NotFound) {
		return data, st.SHA256, err
	}
	original, err := s.blobs.Get(ctx, st.BlobKey)
	if err != nil {
		return nil, nil, err
	}
	h, err := inspectImage(original, defaultImageLimits)
	if err != nil {
		return nil, nil, err
	}
	renditions, err := s.renditions(ctx, original, h)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range renditions {
		if err := s.blobs.Put(ctx, renditionKey(st.SHA256, r.Size), r.Data, "image/jpeg"); err != nil {
			return nil, nil, err
		}
		if r.Size == size {
			data = r.Data
		}
	}
	return data, st.SHA256, nil
}

// ImageViewer is who asks for a picture: the seller and licensee accounts the caller acts for
// (zero when none), and whether the caller may see every picture (analysts and admins).
type ImageViewer struct {
	SellerID   int64
	LicenseeID int64
	Evidence   bool
}

// ImageVisible reports whether picture id may be shown to v, and whether it is public. A
// picture is public while it is on a live listing or an approved product; otherwise only the
// seller of a listing it is on, the licensee of a product it is on, and a viewer with
// Evidence see it. Returns fault.NotFound for a picture v may not see, as for one that does
// not exist, so that ids cannot be probed.
func (s *Service) ImageVisible(ctx context.Context, id int64, v ImageViewer) (public bool, err error) {
	defer fault.Annotate(&err, "catalog.ImageVisible(%d)", id)
	var owned bool
	err = s.db.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM listing_images li JOIN listings l ON l.id = li.listing_id
			WHERE li.image_id = i.id AND l.status = 'live')
		OR EXISTS (SELECT 1 FROM product_images pi JOIN products p ON p.id = pi.product_id
			WHERE pi.image_id = i.id AND p.status = 'approved'),
		EXISTS (SELECT 1 FROM listing_images li JOIN listings l ON l.id = li.listing_id
			WHERE li.image_id = i.id AND l.seller_id = $2)
		OR EXISTS (SELECT 1 FROM product_images pi JOIN products p ON p.id = pi.product_id
			WHERE pi.image_id = i.id AND p.licensee_id = $3)
		FROM images i WHERE i.id = $1`, id, v.SellerID, v.LicenseeID).Scan(&public, &owned)
	if err != nil {
		return false, postgres.Err(err, "image")
	}
	if !public && !owned && !v.Evidence {
		return false, fault.New(fault.NotFound, "image %d not found", id)
	}
	return public, nil
}
