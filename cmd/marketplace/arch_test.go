package main

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// archUnits are the parts of the tree the arrows are drawn between, most specific first: a
// package belongs to the first unit its path starts with.
var archUnits = []string{
	"detection/imagematch", "detection/review", "detection",
	"licensing", "catalog", "storefront", "internal/imageio", "internal",
}

// archMay says which other units a unit's code and tests may import, as DESIGN.md draws the
// arrows: licensing ← catalog ← detection (its pipeline, above it the review), storefront →
// catalog, licensing; internal/ imports no slice; detection/imagematch, the pure picture core,
// imports nothing of the marketplace but the leaf internal/imageio.
var archMay = map[string][]string{
	"licensing":            {"internal"},
	"catalog":              {"licensing", "internal", "internal/imageio"},
	"detection/imagematch": {"internal/imageio"},
	"detection":            {"licensing", "catalog", "detection/imagematch", "internal", "internal/imageio"},
	"detection/review":     {"licensing", "catalog", "detection", "detection/imagematch", "internal"},
	"storefront":           {"licensing", "catalog", "internal", "internal/imageio"},
	"internal":             {"internal/imageio"},
	"internal/imageio":     {},
}

// archPackage is what `go list -json` says of one package.
type archPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func unitOf(pkg string) (string, bool) {
	rel, ok := strings.CutPrefix(pkg, "marketplace/")
	if !ok {
		return "", false
	}
	for _, u := range archUnits {
		if rel == u || strings.HasPrefix(rel, u+"/") {
			return u, true
		}
	}
	return "", false // cmd wires everything
}

// archViolations lists the imports of pkgs, tests' included, that run against archMay.
func archViolations(pkgs []archPackage) (checked int, bad []string) {
	for _, p := range pkgs {
		from, ruled := unitOf(p.ImportPath)
		if !ruled {
			continue
		}
		checked++
		for kind, imports := range map[string][]string{"imports": p.Imports, "its tests import": slices.Concat(p.TestImports, p.XTestImports)} {
			for _, imp := range imports {
				to, ok := unitOf(imp)
				if !ok && strings.HasPrefix(imp, "marketplace/") {
					bad = append(bad, p.ImportPath+" "+kind+" "+imp+": nothing below cmd may import it")
					continue
				}
				if !ok || to == from || slices.Contains(archMay[from], to) {
					continue
				}
				bad = append(bad, p.ImportPath+" "+kind+" "+imp+": "+from+" may import only "+strings.Join(archMay[from], ", "))
			}
		}
	}
	slices.Sort(bad)
	return checked, slices.Compact(bad)
}

func goList(t *testing.T, args ...string) []archPackage {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []archPackage
	dec := json.NewDecoder(out)
	for {
		var p archPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go list: %v", err)
	}
	return pkgs
}

// TestDependencyArrows keeps every package's imports, and its tests' imports, pointing the
// way DESIGN.md draws them.
func TestDependencyArrows(t *testing.T) {
	checked, bad := archViolations(goList(t, "marketplace/..."))
	for _, b := range bad {
		t.Error(b)
	}
	if checked == 0 {
		t.Fatal("go list found no packages to check")
	}
}

// TestArchViolationsSeeTests proves the check reads test imports: a test of catalog/demo that
// imports detection (an arrow back up, as one did) is reported.
func TestArchViolationsSeeTests(t *testing.T) {
	_, bad := archViolations([]archPackage{{ImportPath: "marketplace/catalog/demo", TestImports: []string{"marketplace/detection/imagematch"}}})
	if len(bad) != 1 {
		t.Fatalf("an upward test import was not reported: %v", bad)
	}
}

// TestImageCoreIsPure keeps detection/imagematch free of the database, the web and every
// slice: `go list -deps` of it may name no such package.
func TestImageCoreIsPure(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "marketplace/detection/imagematch").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps named only %v", deps)
	}
	for _, d := range deps {
		for _, banned := range []string{"github.com/jackc/", "github.com/riverqueue/", "github.com/labstack/", "net/http", "database/sql"} {
			if strings.HasPrefix(d, banned) {
				t.Errorf("detection/imagematch depends on %s", d)
			}
		}
		if u, ok := unitOf(d); ok && u != "detection/imagematch" && u != "internal/imageio" {
			t.Errorf("detection/imagematch depends on %s", d)
		}
	}
}
