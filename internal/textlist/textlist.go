// Package textlist splits a list written as text: the territories typed into one form field
// ("FR, BE DE;NL") or the ;-separated cell of a catalogue CSV ("front.jpg; back view.jpg").
// Forms and CSV import both read lists, and they must agree on what a list is.
package textlist

import "strings"

// Separators for a list typed into one field: commas, semicolons and any white space.
const Typed = ",; \t\r\n"

// Split cuts s at every rune of seps, trims the white space around each item and drops the
// empty ones; nil when nothing is left. Split(" FR, BE;;DE ", Typed) is [FR BE DE], and
// Split("a b.jpg; c.jpg", ";") is [a b.jpg c.jpg].
func Split(s, seps string) []string {
	var out []string
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
