package demo

import (
	"context"
	"fmt"
	"testing"

	"marketplace/detection"
)

// detectionScreen accepts a picture when detection would not take it for a copy of one
// accepted before: pHash distance above 12 to each, and no Matcher match either way.
type detectionScreen struct {
	hasher   *detection.Hasher
	matcher  *detection.Matcher
	fps      []*detection.Fingerprint
	phashes  []uint64
	rejected int
}

func newDetectionScreen(t testing.TB) *detectionScreen {
	h, err := detection.NewHasher(detection.DefaultHashConfig())
	if err != nil {
		t.Fatal(err)
	}
	m, err := detection.NewMatcher(detection.DefaultMatchConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &detectionScreen{hasher: h, matcher: m}
}

func (s *detectionScreen) Accept(pic []byte) (bool, error) {
	fp, err := s.hasher.Fingerprint(pic)
	if err != nil {
		return false, err
	}
	ph, _ := fp.Hash(detection.KindPHash)
	for _, o := range s.phashes {
		if detection.Distance(o, ph.Value) <= 12 {
			s.rejected++
			return false, nil
		}
	}
	if len(s.matcher.Match(fp)) > 0 {
		s.rejected++
		return false, nil
	}
	one, _ := detection.NewMatcher(detection.DefaultMatchConfig())
	if err := one.Add(0, fp); err != nil {
		return false, err
	}
	for _, o := range s.fps {
		if len(one.Match(o)) > 0 {
			s.rejected++
			return false, nil
		}
	}
	if err := s.matcher.Add(int64(len(s.fps)), fp); err != nil {
		return false, err
	}
	s.fps = append(s.fps, fp)
	s.phashes = append(s.phashes, ph.Value)
	return true, nil
}

// seedLicences are the licences in force of the demo registry (licensing.Seed), as
// LicencesInForce reads them.
var seedLicences = []Licence{
	{1, "Maison Bleue Textiles", "FR", "PAR24-APP-0001", "PARIS2024", []string{"apparel", "headwear"}, []string{"FR", "BE", "LU", "MC", "CH"}},
	{2, "Atelier Tricolore", "FR", "PAR24-HOM-0003", "PARIS2024", []string{"homeware"}, []string{"FR"}},
	{3, "Alpina Sportswear S.p.A.", "IT", "MC26-APP-0001", "MILANOCORTINA2026", []string{"apparel", "headwear", "accessories"}, []string{"IT", "AT", "CH", "FR", "DE"}},
	{5, "Pacific Coast Apparel Inc.", "US", "LA28-APP-0001", "LA28", []string{"apparel", "headwear", "bags"}, []string{"US", "CA", "MX"}},
	{6, "Golden State Collectibles LLC", "US", "LA28-COL-0002", "LA28", []string{"collectibles", "pins", "toys"}, []string{"WORLD"}},
	{7, "Rings & Pins Ltd", "GB", "OLY-PIN-0001", "OLYMPIC", []string{"pins", "collectibles", "accessories"}, []string{"GB", "IE", "FR", "DE", "US"}},
	{8, "Sakura Fan Goods K.K.", "JP", "LA28-APP-0003", "LA28", []string{"apparel"}, []string{"JP"}},
	{8, "Sakura Fan Goods K.K.", "JP", "OLY-APP-0002", "OLYMPIC", []string{"apparel", "stationery"}, []string{"JP", "KR", "TW"}},
}

// TestCataloguePicturesDistinct draws the whole demo catalogue through a detection screen
// and checks every pair again afterwards, the independent sellers' own photos included.
func TestCataloguePicturesDistinct(t *testing.T) {
	opts := Full
	if raceEnabled {
		opts = Options{PerLicence: 2, PictureSize: 400}
	}
	c := Generate(seedLicences, opts)
	if n := len(c.Products); n != len(seedLicences)*opts.PerLicence {
		t.Fatalf("%d products, want %d", n, len(seedLicences)*opts.PerLicence)
	}
	screen := newDetectionScreen(t)
	pics, err := c.Pictures(context.Background(), screen)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d products, %d layouts refused by the screen", len(c.Products), screen.rejected)
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
	for i, k := range Kinds {
		b, err := NewPhoto(fmt.Sprint("seller-", i), k).jpegAt(opts.PictureSize)
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
	c := Generate(seedLicences, Small)
	screen := newDetectionScreen(t)
	if _, err := c.Pictures(context.Background(), screen); err != nil {
		t.Fatal(err)
	}
	if screen.rejected != 0 {
		t.Fatalf("the screen redrew %d of the small catalogue's pictures", screen.rejected)
	}
}
