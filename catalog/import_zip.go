package catalog

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"marketplace/internal/fault"
)

// ImageStore stores a checked picture and returns it; the catalogue's own PutImage is one.
// The import takes it as an interface so that tests and tools can pass another store.
type ImageStore interface {
	PutImage(ctx context.Context, data []byte) (Image, error)
}

// The limits of an images zip. The zip's directory is checked before anything is
// decompressed: a name that climbs out of the archive (../../etc/passwd) or is absolute, an
// entry that claims to expand more than maxZipRatio times, or a total larger than
// maxZipTotal refuses the whole archive. Reads are then capped at what each entry claims, so
// an entry that lies about its size fails instead of filling memory.
const (
	maxZipEntries    = 20000
	maxZipTotal      = 2 << 30 // uncompressed bytes in the whole archive
	maxZipEntry      = 20 << 20
	maxZipRatio      = 100
	zipRatioMinBytes = 1 << 20 // tiny entries may compress well without being bombs
)

// zipImages is an opened, checked images archive.
type zipImages struct {
	files  map[string]*zip.File // by clean name, and by base name when it is unique
	checks map[string]string    // name → "" (a good picture) or what is wrong with it
}

// openZipImages checks an archive's directory. Returns Invalid naming the field "images" when
// the archive cannot be used.
func openZipImages(r io.ReaderAt, size int64) (*zipImages, error) {
	refuse := func(format string, args ...any) error {
		return fault.Validation("the images zip is refused", fault.Field("images", format, args...))
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, refuse("not a zip archive: %v", err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, refuse("more than %d files", maxZipEntries)
	}
	z := &zipImages{files: map[string]*zip.File{}, checks: map[string]string{}}
	var total uint64
	bases := map[string]int{}
	for _, f := range zr.File {
		if !safeEntryName(f.Name) {
			return nil, refuse("the entry %q points outside the archive", f.Name)
		}
		if f.FileInfo().IsDir() {
			continue
		}
		if !f.Mode().IsRegular() {
			return nil, refuse("the entry %q is not a plain file", f.Name)
		}
		total += f.UncompressedSize64
		if total > maxZipTotal {
			return nil, refuse("it expands to more than %d MiB", maxZipTotal>>20)
		}
		if f.UncompressedSize64 > maxZipEntry {
			return nil, refuse("the entry %q expands to more than %d MiB", f.Name, maxZipEntry>>20)
		}
		if f.UncompressedSize64 > zipRatioMinBytes && f.UncompressedSize64 > maxZipRatio*max(f.CompressedSize64, 1) {
			return nil, refuse("the entry %q expands %d times: a zip bomb", f.Name, f.UncompressedSize64/max(f.CompressedSize64, 1))
		}
		name := path.Clean(f.Name)
		if _, dup := z.files[name]; dup {
			return nil, refuse("the entry %q appears twice", f.Name)
		}
		z.files[name] = f
		bases[path.Base(name)]++
	}
	// A line may name a picture by its base name when the zip keeps it in a folder.
	for name, f := range z.files {
		if b := path.Base(name); b != name && bases[b] == 1 {
			if _, taken := z.files[b]; !taken {
				z.files[b] = f
			}
		}
	}
	return z, nil
}

// safeEntryName accepts relative slash-separated names that stay inside the archive.
func safeEntryName(name string) bool {
	if name == "" || len(name) > 255 || strings.ContainsAny(name, "\\\x00") || path.IsAbs(name) ||
		(len(name) > 1 && name[1] == ':') {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return false
		}
	}
	return true
}

// read returns an entry's bytes, reading at most what its header claims.
func (z *zipImages) read(name string) ([]byte, error) {
	f, ok := z.files[path.Clean(name)]
	if !ok {
		return nil, errNoEntry
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	buf.Grow(int(min(f.UncompressedSize64, maxZipEntry)))
	n, err := io.Copy(&buf, io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	if err != nil {
		return nil, err
	}
	if uint64(n) != f.UncompressedSize64 {
		return nil, fmt.Errorf("the entry is %d bytes, not the %d its header claims", n, f.UncompressedSize64)
	}
	return buf.Bytes(), nil
}

var errNoEntry = errors.New("no such entry")

// check says what is wrong with picture name ("" when it is good), checking each picture once.
func (z *zipImages) check(name string) string {
	name = path.Clean(name)
	if msg, ok := z.checks[name]; ok {
		return msg
	}
	msg := ""
	data, err := z.read(name)
	switch {
	case errors.Is(err, errNoEntry):
		msg = fmt.Sprintf("%q is not in the images zip", name)
	case err != nil:
		msg = fmt.Sprintf("%q cannot be read from the zip: %v", name, err)
	default:
		msg = checkPicture(data)
		if msg != "" {
			msg = fmt.Sprintf("%q: %s", name, msg)
		}
	}
	z.checks[name] = msg
	return msg
}

// checkPicture checks and decodes a picture the way the store will (inspectImage and
// decodeImage, under the limits every stored picture meets), so that a bad one is reported on
// its line before anything is written: JPEG, PNG or WebP only, its size and the pixel count its
// header claims checked before decoding, and the whole picture decoded (a cut-short file fails).
func checkPicture(data []byte) string {
	h, err := inspectImage(data, defaultImageLimits)
	if err == nil {
		_, err = decodeImage(data, h)
	}
	if err == nil {
		return ""
	}
	if e, ok := fault.As(err); ok && len(e.Fields) > 0 {
		return e.Fields[0].Message
	}
	return err.Error()
}
