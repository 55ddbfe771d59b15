package demo

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"runtime"
	"sync"
	"testing"

	"marketplace/detection"
)

// fingerprints hashes pictures in parallel, as detection will.
func fingerprints(t *testing.T, pics [][]byte) []*detection.Fingerprint {
	t.Helper()
	h, err := detection.NewHasher(detection.DefaultHashConfig())
	if err != nil {
		t.Fatal(err)
	}
	fps := make([]*detection.Fingerprint, len(pics))
	errs := make([]error, len(pics))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				fps[i], errs[i] = h.Fingerprint(pics[i])
			}
		})
	}
	for i := range pics {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("picture %d: %v", i, err)
		}
	}
	return fps
}

// checkDistinct fails when two pictures are near duplicates as detection sees them: a pHash
// distance of 12 or less (the Matcher's radius is 10), or a Matcher match of one against
// another (mirrored, cropped, rotated kinds included).
func checkDistinct(t *testing.T, names []string, fps []*detection.Fingerprint) (minDist int) {
	t.Helper()
	ph := make([]uint64, len(fps))
	for i, fp := range fps {
		h, ok := fp.Hash(detection.KindPHash)
		if !ok {
			t.Fatalf("%s: no pHash", names[i])
		}
		ph[i] = h.Value
	}
	minDist = 64
	bad := 0
	for i := range ph {
		for j := i + 1; j < len(ph); j++ {
			d := detection.Distance(ph[i], ph[j])
			minDist = min(minDist, d)
			if d <= 12 {
				bad++
				if bad <= 20 {
					t.Errorf("%s and %s: pHash distance %d ≤ 12", names[i], names[j], d)
				}
			}
		}
	}
	m, err := detection.NewMatcher(detection.DefaultMatchConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i, fp := range fps {
		if err := m.Add(int64(i), fp); err != nil {
			t.Fatal(err)
		}
	}
	for i, fp := range fps {
		for _, match := range m.Match(fp) {
			if match.RefID != int64(i) {
				t.Errorf("%s matches %s (%s, distance %d, correlation %.2f)", names[i], names[match.RefID], match.Kind, match.Distance, match.Correlation)
			}
		}
	}
	return minDist
}

func TestDesignDeterministic(t *testing.T) {
	a, err := NewDesign("MB-PAR24-TEE-001", KindTShirt, "PARIS2024").JPEG()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewDesign("MB-PAR24-TEE-001", KindTShirt, "PARIS2024").JPEG()
	if !bytes.Equal(a, b) {
		t.Fatal("the same SKU drew two different pictures")
	}
	c, _ := NewDesign("MB-PAR24-TEE-002", KindTShirt, "PARIS2024").JPEG()
	if bytes.Equal(a, c) {
		t.Fatal("two SKUs drew the same picture")
	}
	img, err := jpeg.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != Size || b.Dy() != Size {
		t.Fatalf("picture is %v, want %d×%d", b, Size, Size)
	}
}

func BenchmarkDesignJPEG(b *testing.B) {
	for i := range b.N {
		if _, err := NewDesign(fmt.Sprint("B-", i), Kinds[i%len(Kinds)], "LA28").JPEG(); err != nil {
			b.Fatal(err)
		}
	}
}
