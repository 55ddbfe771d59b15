package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"marketplace/catalog/demo"
	"marketplace/detection/imagematch"
)

// These tests hold the demo catalogue's pictures to what detection sees: no two official
// pictures (nor a seller's own photo) may pass for copies of each other. They live here, where
// the program wires the catalogue's demo and detection together, because catalog/demo sits
// below detection and may not import it.

// TestCataloguePicturesDistinct draws the whole demo catalogue through a detection screen
// and checks every pair again afterwards, the independent sellers' own photos included.
func TestCataloguePicturesDistinct(t *testing.T) {
	opts := demo.Full
	if raceDetector {
		opts = demo.Options{PerLicence: 2, PictureSize: 400}
	}
	c := demo.Generate(demo.SeedLicences, opts)
	if n := len(c.Products); n != len(demo.SeedLicences)*opts.PerLicence {
		t.Fatalf("%d products, want %d", n, len(demo.SeedLicences)*opts.PerLicence)
	}
	screen := newDistinctScreen(t)
	pics, err := c.Pictures(context.Background(), screen)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d products, %d layouts refused by the screen", len(c.Products), screen.Refused)
	var all [][]byte
	var names []string
	for _, p := range c.Products {
		if len(pics[p.Image]) == 0 {
			t.Fatalf("no picture for %s", p.Key)
		}
		all = append(all, pics[p.Image])
		names = append(names, p.Key)
	}
	// The independent sellers' own photos must not pass for official pictures either.
	for i, k := range demo.Kinds {
		b, err := demo.NewPhoto(fmt.Sprint("seller-", i), k).JPEGAt(opts.PictureSize)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b)
		names = append(names, fmt.Sprint("photo of a ", k))
	}
	min := checkDistinct(t, names, fingerprints(t, all))
	t.Logf("smallest pHash distance between two pictures: %d", min)
}

// TestSmallCatalogueNeedsNoScreen lets the tests' seed skip the screen (hashing is slow under
// the race detector): the small catalogue's first layouts are already distinct.
func TestSmallCatalogueNeedsNoScreen(t *testing.T) {
	c := demo.Generate(demo.SeedLicences, demo.Small)
	screen := newDistinctScreen(t)
	if _, err := c.Pictures(context.Background(), screen); err != nil {
		t.Fatal(err)
	}
	if screen.Refused != 0 {
		t.Fatalf("the screen redrew %d of the small catalogue's pictures", screen.Refused)
	}
}

// fingerprints hashes pictures in parallel, as detection will.
func fingerprints(t *testing.T, pics [][]byte) []*imagematch.Fingerprint {
	t.Helper()
	h, err := imagematch.NewHasher(imagematch.DefaultHashConfig())
	if err != nil {
		t.Fatal(err)
	}
	fps := make([]*imagematch.Fingerprint, len(pics))
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
func checkDistinct(t *testing.T, names []string, fps []*imagematch.Fingerprint) (minDist int) {
	t.Helper()
	ph := make([]uint64, len(fps))
	for i, fp := range fps {
		h, ok := fp.Hash(imagematch.KindPHash)
		if !ok {
			t.Fatalf("%s: no pHash", names[i])
		}
		ph[i] = h.Value
	}
	minDist = 64
	bad := 0
	for i := range ph {
		for j := i + 1; j < len(ph); j++ {
			d := imagematch.Distance(ph[i], ph[j])
			minDist = min(minDist, d)
			if d <= 12 {
				bad++
				if bad <= 20 {
					t.Errorf("%s and %s: pHash distance %d ≤ 12", names[i], names[j], d)
				}
			}
		}
	}
	m, err := imagematch.NewMatcher(imagematch.DefaultMatchConfig())
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

func newDistinctScreen(t testing.TB) *imagematch.DistinctScreen {
	t.Helper()
	s, err := imagematch.NewDistinctScreen()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
