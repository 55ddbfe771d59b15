package detection

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// Text folding finds a phrase (a property's mark, a counterfeit word) in a listing's text
// however it is disguised. Both the phrase and the text are folded the same way, rune by
// rune, keeping each folded rune's place in the original text so a hit can quote it:
//
//   - compatibility decomposition (NFKD): full-width "ＰＡＲＩＳ２０２４" becomes "PARIS2024",
//     ligatures and circled or superscript digits become plain letters and digits;
//   - accents and other combining marks, zero-width and other invisible format characters
//     (U+200B, U+200D, U+00AD, U+FEFF, variation selectors) are dropped without splitting the
//     word they hide in;
//   - letters of other scripts that look like Latin ones (Cyrillic "О", Greek "Ο", Cherokee,
//     mathematical letters) take their Unicode TR39 confusable skeleton;
//   - case is folded, and look-alike digits and symbols join the letter they imitate:
//     0→o, 1 l | ! I→i, 4 @→a, 3→e, 5 $→s, 7→t (the symbols only inside a word, so "Paris!"
//     is not "parisi");
//   - a handful of traditional Chinese characters used in the marks take their simplified form.
//
// The folded text is cut into tokens at separators, at a change between letters and digits
// and at a lower-to-upper case change ("OlympicGames"); every Chinese, Japanese or Korean
// character is a token of its own, as those scripts do not separate words. A phrase matches
// where the concatenation of consecutive tokens equals the phrase's folded letters, so
// "Paris 2024", "Paris2024", "P-a-r-i-s 2024", "O.l.y.m.p.i.c" and "Oly mpic" all match the
// mark "Paris 2024" or "Olympic", while "Paris Hilton" does not match "Paris 2024" and "LA28"
// is not found inside "koala28". A phrase of six or more characters ending in a letter also
// matches at the start of a longer word ("Olympics", "olympicgames"). Phrases of three
// folded characters or fewer ("1:1", "AAA", "高仿") are matched literally instead — case,
// width and script folded, digits and punctuation kept, on word boundaries — because a
// three-letter skeleton is found by chance in ordinary words ("1:1" would match "Louis II").

// frune is one folded rune and the byte range of the original text it came from.
type frune struct {
	r          rune
	start, end int32
}

// tokSpan is a token: runes[lo:hi] of a foldedText.
type tokSpan struct{ lo, hi int }

// foldedText is a text folded for matching.
type foldedText struct {
	src   string
	runes []frune
	toks  []tokSpan
}

// letterClass is the class of a folded rune used to cut tokens.
type letterClass uint8

const (
	classSep letterClass = iota
	classLetter
	classDigit
	classCJK
	classPunct // literal folding: a punctuation character, a token of its own
)

// traditional maps traditional Chinese characters that appear in the marks and counterfeit
// words to their simplified form, so 巴黎奧運 matches 巴黎奥运.
var traditional = map[rune]rune{
	'奧': '奥', '運': '运', '會': '会', '蘭': '兰', '爾': '尔', '納': '纳', '磯': '矶',
	'複': '复', '貨': '货', '偽': '伪', '倣': '仿', '冬': '冬', '夏': '夏', '紀': '纪', '念': '念',
}

func isCJK(r rune) bool {
	if r < 0x1100 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r == 'ー' || r == '々'
}

// invisible reports runes that must vanish without splitting a word: format characters
// (zero-width space and joiners, soft hyphen, BOM, bidi controls) and combining marks.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) || (r >= 0xFE00 && r <= 0xFE0F) || (r >= 0xE0100 && r <= 0xE01EF)
}

// skeletons caches skeleton's answers: a rune's skeleton costs a few allocations.
var skeletons sync.Map // rune → string

// skeleton is the lower-case TR39 confusable skeleton of r without combining marks, taken
// until it no longer changes (a skeleton may itself be upper case, or confusable again).
func skeleton(r rune) string {
	if s, ok := skeletons.Load(r); ok {
		return s.(string)
	}
	s := string(unicode.ToLower(r))
	if s == "ς" {
		s = "σ"
	}
	for range 4 {
		next := strings.Map(func(k rune) rune {
			if invisible(k) {
				return -1
			}
			return unicode.ToLower(k)
		}, norm.NFKD.String(confusables.Skeleton(s)))
		if next == s {
			break
		}
		s = next
	}
	skeletons.Store(r, s)
	return s
}

// leetSymbol maps symbols that stand for letters inside a word.
var leetSymbol = map[rune]rune{'|': 'i', '!': 'i', '@': 'a', '$': 's'}

// leetRune maps look-alike digits and letters to one representative.
func leetRune(r rune) rune {
	switch r {
	case '0':
		return 'o'
	case '1', 'l':
		return 'i'
	case '4':
		return 'a'
	case '3':
		return 'e'
	case '5':
		return 's'
	case '7':
		return 't'
	}
	return r
}

// foldOptions say how far folding goes: literal folding keeps digits and punctuation.
type foldOptions struct {
	literal bool
}

// piece is an intermediate rune with its class and case, before tokenising.
type piece struct {
	frune
	class letterClass
	upper bool
}

// foldText folds s for matching.
func foldText(s string, opt foldOptions) *foldedText {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	ft := &foldedText{src: s}
	var pieces []piece
	var buf [64]byte
	for i, r := range s {
		end := int32(i + utf8.RuneLen(r))
		if r == utf8.RuneError {
			pieces = append(pieces, piece{frune: frune{' ', int32(i), end}})
			continue
		}
		if r < utf8.RuneSelf {
			pieces = append(pieces, piece{frune: frune{r, int32(i), end}, class: classify(r), upper: 'A' <= r && r <= 'Z'})
			continue
		}
		decomposed := norm.NFKD.AppendString(buf[:0], s[i:end])
		for _, d := range string(decomposed) {
			emit := func(x rune, upper bool) {
				pieces = append(pieces, piece{frune: frune{x, int32(i), end}, class: classify(x), upper: upper})
			}
			switch {
			case invisible(d):
				continue
			case isCJK(d):
				if t, ok := traditional[d]; ok {
					d = t
				}
				emit(d, false)
			case d < utf8.RuneSelf:
				emit(d, unicode.IsUpper(d))
			case unicode.IsSpace(d) || unicode.IsPunct(d) || unicode.IsSymbol(d):
				emit(' ', false)
			default:
				// Another script's look-alike of a Latin letter takes its skeleton; the
				// skeleton may carry combining marks, dropped here.
				upper := unicode.IsUpper(d)
				for _, k := range skeleton(d) {
					emit(k, upper)
				}
			}
		}
	}
	// Case folding, look-alikes and classes.
	out := make([]piece, 0, len(pieces))
	for j, p := range pieces {
		r := p.r
		if r >= utf8.RuneSelf || unicode.IsLetter(r) || unicode.IsDigit(r) {
			if r == 'ß' || r == 'ẞ' {
				out = append(out, piece{frune{'s', p.start, p.end}, classLetter, false}, piece{frune{'s', p.start, p.end}, classLetter, false})
				continue
			}
			if p.class != classCJK {
				r = unicode.ToLower(r)
			}
		}
		if !opt.literal {
			if l, ok := leetSymbol[r]; ok && inWord(pieces, j) {
				r = l
			}
			r = leetRune(r)
		}
		c := classify(r)
		if c == classSep {
			if opt.literal && r != ' ' && !unicode.IsSpace(r) {
				// Literal folding keeps punctuation as a token of its own ("1:1").
				c = classPunct
			} else {
				r = ' '
			}
		}
		out = append(out, piece{frune{r, p.start, p.end}, c, p.upper})
	}
	// Tokens.
	ft.runes = make([]frune, 0, len(out))
	lo := -1
	var prev piece
	closeTok := func() {
		if lo >= 0 && lo < len(ft.runes) {
			ft.toks = append(ft.toks, tokSpan{lo, len(ft.runes)})
		}
		lo = -1
	}
	for _, p := range out {
		if p.class == classSep {
			closeTok()
			prev = p
			continue
		}
		if lo >= 0 && (p.class != prev.class || p.class == classCJK || p.class == classPunct ||
			(!opt.literal && p.upper && !prev.upper && prev.class == classLetter)) {
			closeTok()
		}
		if lo < 0 {
			lo = len(ft.runes)
		}
		ft.runes = append(ft.runes, p.frune)
		prev = p
	}
	closeTok()
	return ft
}

func classify(r rune) letterClass {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
			return classLetter
		case '0' <= r && r <= '9':
			return classDigit
		}
		return classSep
	}
	switch {
	case isCJK(r):
		return classCJK
	case unicode.IsDigit(r):
		return classDigit
	case unicode.IsLetter(r):
		return classLetter
	}
	return classSep
}

// inWord reports whether pieces[j] stands between two letters or digits, looking past
// nothing: "P@ris" yes, "Paris!" and "a @ b" no.
func inWord(pieces []piece, j int) bool {
	alnum := func(p piece) bool { return p.class == classLetter || p.class == classDigit }
	return j > 0 && j+1 < len(pieces) && alnum(pieces[j-1]) && alnum(pieces[j+1])
}

// phrase is a folded mark or word, ready to be found in folded texts.
type phrase struct {
	text    string // as configured
	runes   []rune // folded letters, tokens concatenated
	literal bool   // matched with literal folding
	prefix  bool   // may end inside a longer word
}

// literalMax is the longest folded phrase matched literally.
const literalMax = 3

// compilePhrase folds a phrase; ok is false for a phrase with no letters or digits.
func compilePhrase(text string) (phrase, bool) {
	p := phrase{text: text}
	ft := foldText(text, foldOptions{})
	p.runes = ft.letters()
	if len(p.runes) <= literalMax {
		p.literal = true
		p.runes = foldText(text, foldOptions{literal: true}).letters()
	}
	if !slices.ContainsFunc(p.runes, func(r rune) bool { return classify(r) != classSep }) {
		return p, false
	}
	last := []rune(strings.TrimSpace(text))
	p.prefix = !p.literal && len(p.runes) >= 6 && unicode.IsLetter(last[len(last)-1]) && classify(p.runes[len(p.runes)-1]) == classLetter
	return p, true
}

// letters is every token's runes, concatenated.
func (ft *foldedText) letters() []rune {
	var out []rune
	for _, t := range ft.toks {
		for _, fr := range ft.runes[t.lo:t.hi] {
			out = append(out, fr.r)
		}
	}
	return out
}

// String is the folded text with a space between tokens (tests and debugging).
func (ft *foldedText) String() string {
	var b strings.Builder
	for i, t := range ft.toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		for _, fr := range ft.runes[t.lo:t.hi] {
			b.WriteRune(fr.r)
		}
	}
	return b.String()
}

// matchAt reports whether p matches the tokens from toks[i] on, and the end (a byte offset
// of the original text) of the match.
func (ft *foldedText) matchAt(p *phrase, i int) (int32, bool) {
	k := 0
	for t := i; t < len(ft.toks); t++ {
		tok := ft.runes[ft.toks[t].lo:ft.toks[t].hi]
		for j, fr := range tok {
			if k == len(p.runes) {
				// The phrase ends inside this token: allowed at the start of a word only
				// ("Olympics"), never across a word into the next ("Olympic souvenir").
				if p.prefix && j > 0 && t == i {
					return tok[j-1].end, true
				}
				return 0, false
			}
			if fr.r != p.runes[k] {
				return 0, false
			}
			k++
		}
		if k == len(p.runes) {
			return tok[len(tok)-1].end, true
		}
	}
	return 0, false
}

// Folded is a text folded both ways (full and literal) once, so many phrases can be looked
// for in it.
type Folded struct {
	full, literal *foldedText
}

// FoldText folds a title or description for FindPhrases and MarkIndex.Find.
func FoldText(s string) Folded {
	return Folded{full: foldText(s, foldOptions{}), literal: foldText(s, foldOptions{literal: true})}
}

// String is the fully folded text, tokens separated by spaces: FoldText("P4ris 2O24").String()
// is "paris 2 o 2 a".
func (f Folded) String() string { return f.full.String() }

// phraseSet finds many phrases in one pass over a text's tokens: a token is tried only
// against the phrases that start with its first rune.
type phraseSet struct {
	phrases []phrase
	byFirst [2]map[rune][]int // [0] full folding, [1] literal
}

func (ps *phraseSet) add(p phrase) {
	k := 0
	if p.literal {
		k = 1
	}
	if ps.byFirst[k] == nil {
		ps.byFirst[k] = map[rune][]int{}
	}
	ps.byFirst[k][p.runes[0]] = append(ps.byFirst[k][p.runes[0]], len(ps.phrases))
	ps.phrases = append(ps.phrases, p)
}

// findAll returns, for each phrase, the original text of its first match in f, or "".
func (ps *phraseSet) findAll(f Folded) []string {
	found := make([]string, len(ps.phrases))
	for k, ft := range []*foldedText{f.full, f.literal} {
		if len(ps.byFirst[k]) == 0 {
			continue
		}
		for i, tok := range ft.toks {
			for _, pi := range ps.byFirst[k][ft.runes[tok.lo].r] {
				if found[pi] != "" {
					continue
				}
				if end, ok := ft.matchAt(&ps.phrases[pi], i); ok {
					found[pi] = ft.src[ft.runes[tok.lo].start:end]
				}
			}
		}
	}
	return found
}

// PhraseHit is a phrase found in a text: Phrase as configured, Found as written in the text.
type PhraseHit struct {
	Phrase string
	Found  string
}

// PhraseList is a compiled list of phrases (counterfeit words).
type PhraseList struct{ set phraseSet }

// NewPhraseList compiles phrases; empty ones and ones without a letter or digit are left out.
func NewPhraseList(texts []string) *PhraseList {
	l := &PhraseList{}
	for _, t := range texts {
		if p, ok := compilePhrase(t); ok {
			l.set.add(p)
		}
	}
	return l
}

// Find returns the phrases of the list found in f, in list order.
func (l *PhraseList) Find(f Folded) []PhraseHit {
	var hits []PhraseHit
	for i, found := range l.set.findAll(f) {
		if found != "" {
			hits = append(hits, PhraseHit{Phrase: l.set.phrases[i].text, Found: found})
		}
	}
	return hits
}

// Mark is one mark of a property, as the licensing registry lists it.
type Mark struct {
	Property string
	Text     string
	Lang     string
}

// MarkHit is a property's mark found in a text.
type MarkHit struct {
	Property string
	Mark     string // the mark as registered
	Lang     string
	Found    string // the words of the text that matched, as written
}

// MarkIndex finds the marks of every property in a text.
type MarkIndex struct {
	marks []Mark
	set   phraseSet
}

// NewMarkIndex compiles marks (from licensing.Service.PropertyMarks).
func NewMarkIndex(marks []Mark) *MarkIndex {
	ix := &MarkIndex{}
	for _, m := range marks {
		if p, ok := compilePhrase(m.Text); ok {
			ix.marks = append(ix.marks, m)
			ix.set.add(p)
		}
	}
	return ix
}

// Len is how many marks the index holds.
func (ix *MarkIndex) Len() int { return len(ix.marks) }

// Find returns the marks found in f, one per property (the longest mark found, so "JO Paris
// 2024" is preferred to "Paris 2024"), in property order.
func (ix *MarkIndex) Find(f Folded) []MarkHit {
	best := map[string]MarkHit{}
	length := map[string]int{}
	for i, found := range ix.set.findAll(f) {
		if found == "" {
			continue
		}
		m := ix.marks[i]
		if n := len(ix.set.phrases[i].runes); n > length[m.Property] {
			best[m.Property] = MarkHit{Property: m.Property, Mark: m.Text, Lang: m.Lang, Found: found}
			length[m.Property] = n
		}
	}
	out := make([]MarkHit, 0, len(best))
	for _, h := range best {
		out = append(out, h)
	}
	slices.SortFunc(out, func(a, b MarkHit) int { return strings.Compare(a.Property, b.Property) })
	return out
}
