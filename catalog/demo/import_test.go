package demo

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"marketplace/catalog"
	"marketplace/internal/blob"
	"marketplace/internal/postgres/pgtest"
	"marketplace/licensing"
)

// importWorld is the demo registry (licensing.Seed) and a catalogue that stores pictures.
func importWorld(t *testing.T) (*catalog.Service, licensing.SeedResult) {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t, catalog.Schemas()...)
	store, err := blob.Open(ctx, "file://"+filepath.ToSlash(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := catalog.NewService(pool, licensing.NewService(pool), catalog.WithBlobs(store))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := licensing.Seed(ctx, svc.Licensing())
	if err != nil {
		t.Fatal(err)
	}
	return svc, reg
}

func licenseeIDs(reg licensing.SeedResult) []int64 {
	var ids []int64
	for _, id := range reg.Licensees {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// TestDemoCatalogueImports sends a demo catalogue through the real import, licensee by
// licensee, and checks that the tests' licences are the registry's.
func TestDemoCatalogueImports(t *testing.T) {
	svc, reg := importWorld(t)
	ctx := context.Background()
	licences, err := LicencesInForce(ctx, svc.Licensing(), licenseeIDs(reg), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(licences) != len(SeedLicences) {
		t.Fatalf("%d licences in force, the tests assume %d", len(licences), len(SeedLicences))
	}
	// The registry numbers its licensees itself; the order of categories and territories is not
	// a licence's.
	if diff := cmp.Diff(SeedLicences, licences, cmpopts.IgnoreFields(Licence{}, "LicenseeID"),
		cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("the tests' licences and the registry's differ (-tests +registry):\n%s", diff)
	}
	c := Generate(licences, Options{PerLicence: 3, PictureSize: 160})
	pics, err := c.Pictures(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range c.Licensees() {
		ps := c.Of(id)
		var csvBuf, zipBuf bytes.Buffer
		if err := WriteCSV(&csvBuf, ps); err != nil {
			t.Fatal(err)
		}
		if err := WriteZip(&zipBuf, ps, pics); err != nil {
			t.Fatal(err)
		}
		imp, err := svc.Import(ctx, catalog.ImportRequest{LicenseeID: id, CSV: &csvBuf, Images: bytes.NewReader(zipBuf.Bytes()), ImagesSize: int64(zipBuf.Len())})
		if err != nil {
			t.Fatal(err)
		}
		if imp.Status != catalog.ImportSucceeded {
			t.Fatalf("%s: import %s: %+v", ps[0].Licensee, imp.Status, imp.Errors[:min(5, len(imp.Errors))])
		}
		got, err := svc.Products(ctx, catalog.ProductFilter{LicenseeID: id})
		if err != nil || len(got) != len(ps) {
			t.Fatalf("%s: %d products imported, want %d (%v)", ps[0].Licensee, len(got), len(ps), err)
		}
		for _, p := range got {
			if len(p.Images) != 1 || p.Texts["fr"].Title == "" || len(p.Variants[0].Prices) != len(Currencies) {
				t.Errorf("%s: imported as %+v", p.Ref, p)
			}
		}
	}
}

// TestGenerateCSVImports sends the big file's format through the real import.
func TestGenerateCSVImports(t *testing.T) {
	svc, reg := importWorld(t)
	ctx := context.Background()
	var buf bytes.Buffer
	const lines = 2000
	if err := GenerateCSV(&buf, lines); err != nil {
		t.Fatal(err)
	}
	imp, err := svc.Import(ctx, catalog.ImportRequest{LicenseeID: reg.LicenseeID(BigLicence.Licensee), CSV: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Status != catalog.ImportSucceeded {
		t.Fatalf("import %s: %+v", imp.Status, imp.Errors[:min(5, len(imp.Errors))])
	}
	n, err := svc.CountProducts(ctx, catalog.ProductFilter{LicenseeID: reg.LicenseeID(BigLicence.Licensee)})
	if err != nil || n != lines/4 {
		t.Fatalf("%d products, want %d (%v)", n, lines/4, err)
	}
}
