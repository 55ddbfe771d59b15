package textlist

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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
			// cmp.Diff tells a nil list from an empty one, as the cases want.
			if diff := cmp.Diff(tc.want, Split(tc.in, tc.seps)); diff != "" {
				t.Errorf("Split(%q, %q) (-want +got):\n%s", tc.in, tc.seps, diff)
			}
		})
	}
}
