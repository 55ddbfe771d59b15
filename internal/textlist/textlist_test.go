package textlist

import (
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name, in, seps string
		want           []string
	}{
		{"TypedMixesSeparators", " FR, BE DE;NL\n\tIT\r\n", Typed, []string{"FR", "BE", "DE", "NL", "IT"}},
		{"TypedDropsEmptyItems", ",, ;FR;;", Typed, []string{"FR"}},
		{"EmptyIsNil", "", Typed, nil},
		{"OnlySeparatorsIsNil", " ;, ", Typed, nil},
		{"CellKeepsInnerSpaces", "front view.jpg; back.jpg ;", ";", []string{"front view.jpg", "back.jpg"}},
		{"CellTrimsUnicodeSpace", "\u00a0FR\u00a0;BE", ";", []string{"FR", "BE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// go-cmp is not a dependency of the module; for flat string lists slices.Equal
			// says the same.
			if got := Split(tc.in, tc.seps); !slices.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Errorf("Split(%q, %q) = %q, want %q", tc.in, tc.seps, got, tc.want)
			}
		})
	}
}
