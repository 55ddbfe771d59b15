package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependencyArrows keeps the slices' imports pointing one way, as DESIGN.md draws them:
// licensing ← catalog ← detection, storefront → catalog, licensing; internal/ imports no slice.
func TestDependencyArrows(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "marketplace/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	domains := []string{"licensing", "catalog", "detection", "storefront"}
	may := map[string][]string{
		"licensing":  {},
		"catalog":    {"licensing"},
		"detection":  {"licensing", "catalog"},
		"storefront": {"licensing", "catalog"},
		"internal":   {},
	}
	sliceOf := func(pkg string) string {
		parts := strings.Split(strings.TrimPrefix(pkg, "marketplace/"), "/")
		return parts[0]
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		from := sliceOf(fields[0])
		allowed, ruled := may[from]
		if !ruled {
			continue // cmd wires everything
		}
		checked++
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, "marketplace/") {
				continue
			}
			to := sliceOf(imp)
			if to == from || to == "internal" {
				continue
			}
			if !slices.Contains(domains, to) {
				continue
			}
			if !slices.Contains(allowed, to) {
				t.Errorf("%s imports %s: %s may import only %v", fields[0], imp, from, allowed)
			}
		}
	}
	if checked == 0 {
		t.Fatal("go list found no packages to check")
	}
}
