package detection

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// seedMarks are the demo registry's marks (licensing/seed.go), which the corpus is written
// against.
var seedMarks = []Mark{
	{"PARIS2024", "Paris 2024", ""}, {"PARIS2024", "Paris2024", ""}, {"PARIS2024", "JO Paris 2024", "fr"},
	{"PARIS2024", "Jeux Olympiques de Paris", "fr"}, {"PARIS2024", "巴黎奥运", "zh"},
	{"MILANOCORTINA2026", "Milano Cortina", ""}, {"MILANOCORTINA2026", "Milano Cortina 2026", ""},
	{"MILANOCORTINA2026", "Milan Cortina", "en"}, {"MILANOCORTINA2026", "Olimpiadi invernali 2026", "it"},
	{"MILANOCORTINA2026", "米兰科尔蒂纳", "zh"},
	{"LA28", "LA28", ""}, {"LA28", "LA 2028", ""}, {"LA28", "Los Angeles 2028", ""}, {"LA28", "洛杉矶奥运", "zh"},
	{"OLYMPIC", "Olympic", ""}, {"OLYMPIC", "Olympics", "en"}, {"OLYMPIC", "Olympique", "fr"},
	{"OLYMPIC", "Olympia", "de"}, {"OLYMPIC", "Olímpico", "es"}, {"OLYMPIC", "Olimpiadi", "it"},
	{"OLYMPIC", "奥运", "zh"}, {"OLYMPIC", "オリンピック", "ja"},
}

func TestFoldText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0lympic", "oiympic"},
		{"P4ris 2024", "paris 2 o 2 a"},
		{"ＰＡＲＩＳ２０２４", "paris 2 o 2 a"},
		{"Оlympic", "oiympic"}, // Cyrillic capital O
		{"Οlympic", "oiympic"}, // Greek capital omicron
		{"O.l.y.m.p.i.c", "o i y m p i c"},
		{"Oly\u200bmpic", "oiympic"}, // zero-width space
		{"Oly\u00admpic", "oiympic"}, // soft hyphen
		{"Olímpico", "oiimpico"},
		{"P@ris!", "paris"},
		{"OlympicGames", "oiympic games"},
		{"巴黎奧運", "巴 黎 奥 运"},
		{"Straße", "strasse"},
		{"\xff\xfeOlympic", "oiympic"},
	} {
		if got := FoldText(tc.in).String(); got != tc.want {
			t.Errorf("FoldText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMarkCorpus is the folding corpus: each text with the properties whose marks it uses.
func TestMarkCorpus(t *testing.T) {
	ix := NewMarkIndex(seedMarks)
	for _, tc := range []struct {
		text  string
		props string // comma-separated, sorted
		found string // the original words of the first hit, when checked
	}{
		{"0lympic rings hoodie", "OLYMPIC", "0lympic"},
		{"P4ris 2024 T-shirt", "PARIS2024", "P4ris 2024"},
		{"ＰＡＲＩＳ２０２４ tee", "PARIS2024", "ＰＡＲＩＳ２０２４"},
		{"Оlympic cap", "OLYMPIC", "Оlympic"},
		{"JO Paris 2024 casquette", "PARIS2024", "JO Paris 2024"},
		{"T-shirt P-a-r-i-s 2024 officiel", "PARIS2024", "P-a-r-i-s 2024"},
		{"O.l.y.m.p.i.c pin", "OLYMPIC", "O.l.y.m.p.i.c"},
		{"Paris2024 mascot", "PARIS2024", "Paris2024"},
		{"PARIS-2024", "PARIS2024", "PARIS-2024"},
		{"Pa\u200bris 2024", "PARIS2024", ""},
		{"巴黎奥运会纪念T恤", "OLYMPIC,PARIS2024", "巴黎奥运"},
		{"巴黎奧運會紀念品", "OLYMPIC,PARIS2024", ""},
		{"オリンピック公式グッズ", "OLYMPIC", "オリンピック"},
		{"Olympics 2024 mug", "OLYMPIC", ""},
		{"olympicgames scarf", "OLYMPIC", "olympic"},
		{"Milano-Cortina 2026 giacca", "MILANOCORTINA2026", "Milano-Cortina 2026"},
		{"M1lan0 C0rt1na", "MILANOCORTINA2026", ""},
		{"LA28 cap", "LA28", "LA28"},
		{"L.A. 2028", "LA28", ""},
		{"Jeux Olympiques de Paris", "OLYMPIC,PARIS2024", ""},
		{"Los Angeles 2O28", "LA28", ""},
		// Not marks.
		{"Paris Hilton perfume", "", ""},
		{"Vintage Paris poster 1924", "", ""},
		{"koala28 plush", "", ""},
		{"Olympus camera", "", ""},
		{"Milano city guide", "", ""},
		{"Los Angeles Lakers jersey", "", ""},
		{"Paris 2025 marathon", "", ""},
		{"", "", ""},
	} {
		hits := ix.Find(FoldText(tc.text))
		var props []string
		for _, h := range hits {
			props = append(props, h.Property)
		}
		if got := strings.Join(props, ","); got != tc.props {
			t.Errorf("%q: properties %q, want %q (hits %+v; folded %q)", tc.text, got, tc.props, hits, FoldText(tc.text))
			continue
		}
		if tc.found != "" && hits[len(hits)-1].Found != tc.found && hits[0].Found != tc.found {
			t.Errorf("%q: found %+v, want %q", tc.text, hits, tc.found)
		}
	}
}

func TestPhraseList(t *testing.T) {
	l := NewPhraseList(DefaultCounterfeitWords)
	for _, tc := range []struct {
		text string
		want string // first phrase found, "" for none
	}{
		{"Replica jersey", "replica"},
		{"REPL1CA", "replica"},
		{"1:1 quality", "1:1"},
		{"1：1 quality", "1:1"}, // full-width colon
		{"AAA+ grade", "AAA"},
		{"Inspired by the Games", "inspired by"},
		{"inspired-by", "inspired by"},
		{"réplique parfaite", "réplique"},
		{"REPLIQUE", "réplique"},
		{"copie conforme", "copie"},
		{"imitation cuir", "imitation"},
		{"高仿巴黎T恤", "高仿"},
		{"复刻版", "复刻"},
		{"レプリカ ユニフォーム", "レプリカ"},
		{"Replik Trikot", "Replik"},
		{"Реплика", "реплика"},
		{"Louis II commemorative", ""},
		{"11 pieces", ""},
		{"Baaad mood", ""},
		{"Copenhagen tote", ""},
		{"A genuine licensed tee", ""},
	} {
		hits := l.Find(FoldText(tc.text))
		got := ""
		if len(hits) > 0 {
			got = hits[0].Phrase
		}
		if got != tc.want {
			t.Errorf("%q: found %q (%+v), want %q", tc.text, got, hits, tc.want)
		}
	}
}

func FuzzFoldText(f *testing.F) {
	for _, s := range []string{"0lympic", "ＰＡＲＩＳ２０２４", "巴黎奥运", "O.l.y.m.p.i.c", "\u200b\u00ad", "\xff", "Straße ß ẞ", "a\u0301\u0301\u0301"} {
		f.Add(s)
	}
	ix := NewMarkIndex(seedMarks)
	words := NewPhraseList(DefaultCounterfeitWords)
	f.Fuzz(func(t *testing.T, s string) {
		ft := FoldText(s)
		for _, h := range ix.Find(ft) {
			if !utf8.ValidString(h.Found) || h.Found == "" {
				t.Fatalf("hit %+v", h)
			}
		}
		words.Find(ft)
		// Folding is idempotent on its own output's letters.
		if got := FoldText(ft.String()).String(); got != ft.String() {
			t.Fatalf("fold(fold(%q)) = %q, want %q", s, got, ft.String())
		}
	})
}

// BenchmarkFoldAndFind folds a 20,000-character description (the catalogue's limit) of
// mixed scripts and looks for every demo mark and counterfeit word in it.
func BenchmarkFoldAndFind(b *testing.B) {
	text := strings.Repeat("Blue tee ＰＡＲＩＳ cotton Оlympic 高品质 T恤 réplique O.l.y.m.p.i.c ", 300)[:20000]
	ix := NewMarkIndex(seedMarks)
	words := NewPhraseList(DefaultCounterfeitWords)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		f := FoldText(text)
		ix.Find(f)
		words.Find(f)
	}
}
