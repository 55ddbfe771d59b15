package demo

import (
	"archive/zip"
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"marketplace/internal/money"
	"marketplace/licensing"
)

// Product is one official product of the demo catalogue: one or more CSV lines (one per
// variant) and its picture.
type Product struct {
	Key         string // the CSV's product column: the group key of its variants
	LicenseeID  int64
	Licensee    string
	Property    string
	Category    string
	Kind        Kind
	Territories []string
	TitleEN     string
	TitleFR     string
	DescEN      string
	DescFR      string
	Currency    string // the licensee's own currency: the official listing's price
	Variants    []Variant
	Image       string // the picture's name in the zip
	Design      Design
}

// Variant is one SKU of a product.
type Variant struct {
	SKU      string
	GTIN     string
	Size     string
	Colour   string
	Stock    int
	Prices   map[string]int64 // minor units, per currency
	ColourFR string
}

// Currencies are the currencies every demo product is priced in.
var Currencies = []string{"EUR", "USD", "GBP", "JPY"}

// Options say how big a catalogue to make.
type Options struct {
	PerLicence  int // products per licence in force (default 40)
	PictureSize int // side of the pictures in pixels (default Size)
}

// Small is the catalogue the command's tests seed: one product per licence, small pictures.
// Its pictures need no screen: TestSmallCatalogueNeedsNoScreen checks that detection's screen
// accepts every first layout.
var Small = Options{PerLicence: 1, PictureSize: 160}

// Full is the demo catalogue of `make run`: a few hundred products.
var Full = Options{PerLicence: 40, PictureSize: Size}

// Catalogue is a generated demo catalogue.
type Catalogue struct {
	Products []Product
	opts     Options
}

// kindsOf are the kinds of product drawn for each licence category.
var kindsOf = map[string][]Kind{
	"apparel":      {KindTShirt, KindHoodie, KindJacket},
	"headwear":     {KindCap, KindBeanie},
	"accessories":  {KindScarf, KindTote},
	"bags":         {KindTote},
	"pins":         {KindPin},
	"collectibles": {KindMedal, KindMascot},
	"toys":         {KindMascot},
	"homeware":     {KindMug, KindTowel},
	"stationery":   {KindNotebook, KindPoster},
}

type kindText struct {
	code, en, fr string
	price        int64 // in EUR cents, before the product's own variation
	sizes        []string
}

var kindTexts = map[Kind]kindText{
	KindTShirt:   {"TEE", "T-shirt", "T-shirt", 3500, []string{"XS", "S", "M", "L", "XL", "XXL"}},
	KindHoodie:   {"HOD", "Hoodie", "Sweat à capuche", 6900, []string{"S", "M", "L", "XL"}},
	KindJacket:   {"JKT", "Track jacket", "Veste de survêtement", 12900, []string{"S", "M", "L", "XL"}},
	KindCap:      {"CAP", "Cap", "Casquette", 2900, nil},
	KindBeanie:   {"BEA", "Beanie", "Bonnet", 2500, nil},
	KindPin:      {"PIN", "Enamel pin", "Pin's émaillé", 990, nil},
	KindMascot:   {"MAS", "Mascot plush", "Peluche mascotte", 2990, []string{"20 cm", "35 cm"}},
	KindMug:      {"MUG", "Mug", "Mug", 1690, nil},
	KindScarf:    {"SCF", "Supporter scarf", "Écharpe de supporter", 2490, nil},
	KindMedal:    {"MED", "Commemorative medal", "Médaille commémorative", 3900, nil},
	KindTote:     {"TOT", "Tote bag", "Sac cabas", 1990, nil},
	KindNotebook: {"NTB", "Notebook", "Carnet", 1290, []string{"A5", "A4"}},
	KindPoster:   {"PST", "Poster", "Affiche", 1990, []string{"40×60 cm", "50×70 cm"}},
	KindTowel:    {"TWL", "Beach towel", "Serviette de plage", 2290, nil},
}

// motifs name a product's design: English, French.
var motifs = [][2]string{
	{"Torch", "Flambeau"}, {"Podium", "Podium"}, {"Victory", "Victoire"}, {"Sprint", "Sprint"},
	{"Relay", "Relais"}, {"Marathon", "Marathon"}, {"Skyline", "Panorama"}, {"Champion", "Champion"},
	{"Heritage", "Héritage"}, {"Finish Line", "Ligne d'arrivée"}, {"Stadium", "Stade"}, {"Gold Rush", "Ruée vers l'or"},
	{"Team Spirit", "Esprit d'équipe"}, {"Countdown", "Compte à rebours"}, {"Opening Night", "Cérémonie d'ouverture"},
	{"Fan Zone", "Zone des fans"}, {"Record", "Record"}, {"Summit", "Sommet"}, {"Momentum", "Élan"}, {"Legacy", "Héritage vivant"},
}

var propertyNames = map[string]struct{ short, en, fr string }{
	"PARIS2024":         {"PAR24", "Paris 2024", "Paris 2024"},
	"MILANOCORTINA2026": {"MC26", "Milano Cortina 2026", "Milan Cortina 2026"},
	"LA28":              {"LA28", "LA28", "LA28"},
	"OLYMPIC":           {"OLY", "Olympic", "Olympique"},
}

// gs1 is a made-up GS1 company prefix per licensee country: an EAN-13 country prefix, or a
// UPC-A (GTIN-12) number system digit for the United States.
var gs1 = map[string]string{"FR": "376", "IT": "803", "US": "0", "GB": "503", "JP": "456"}

// currencyOf is the licensee's own currency by country.
var currencyOf = map[string]string{"FR": "EUR", "IT": "EUR", "US": "USD", "GB": "GBP", "JP": "JPY"}

// rates turn EUR cents into each currency's minor unit.
var rates = map[string]float64{"EUR": 1, "USD": 1.08, "GBP": 0.86, "JPY": 1.62} // JPY: 162 yen per euro = 1.62 yen per cent

// Licence is what the generator needs of a licence in force.
type Licence struct {
	LicenseeID  int64
	Licensee    string
	Country     string // the licensee's country: its currency and its GTIN prefix
	Number      string
	Property    string
	Categories  []string
	Territories []string
}

// LicencesInForce reads the licences of the given licensees that are in force on day,
// in the order given, for Generate.
func LicencesInForce(ctx context.Context, reg *licensing.Service, licenseeIDs []int64, day time.Time) ([]Licence, error) {
	var out []Licence
	for _, id := range licenseeIDs {
		l, err := reg.Licensee(ctx, id)
		if err != nil {
			return nil, err
		}
		lics, err := reg.LicencesOf(ctx, id)
		if err != nil {
			return nil, err
		}
		slices.SortFunc(lics, func(a, b licensing.Licence) int { return strings.Compare(a.Number, b.Number) })
		for _, lic := range lics {
			if lic.InForce(day) {
				out = append(out, Licence{LicenseeID: id, Licensee: l.Name, Country: l.Country, Number: lic.Number,
					Property: lic.Property, Categories: lic.Categories, Territories: lic.Territories})
			}
		}
	}
	return out, nil
}

// Generate makes the catalogue of the licences: opts.PerLicence products for each, spread
// over its categories, with texts in English and French, variants, prices in EUR, USD, GBP
// and JPY, and GTINs. The same licences give the same catalogue.
func Generate(licences []Licence, opts Options) *Catalogue {
	if opts.PerLicence <= 0 {
		opts.PerLicence = Full.PerLicence
	}
	if opts.PictureSize <= 0 {
		opts.PictureSize = Size
	}
	c := &Catalogue{opts: opts}
	items := map[int64]int{} // GTIN item numbers used per licensee
	titles := map[string]bool{}
	for _, lic := range licences {
		var kinds []Kind
		for _, cat := range lic.Categories {
			for _, k := range kindsOf[cat] {
				if !slices.Contains(kinds, k) {
					kinds = append(kinds, k)
				}
			}
		}
		if len(kinds) == 0 {
			continue
		}
		prefix := initials(lic.Licensee) + "-" + propertyNames[lic.Property].short
		cur := currencyOf[lic.Country]
		if cur == "" {
			cur = "EUR"
		}
		for i := range opts.PerLicence {
			kind := kinds[i%len(kinds)]
			n := i/len(kinds) + 1
			kt := kindTexts[kind]
			key := fmt.Sprintf("%s-%s-%03d", prefix, kt.code, n)
			r := rand.New(rand.NewPCG(seedOf(key), 7))
			category := ""
			for _, cat := range lic.Categories {
				if slices.Contains(kindsOf[cat], kind) {
					category = cat
					break
				}
			}
			pn := propertyNames[lic.Property]
			// The next motif whose title is still free, so that no two products share one.
			start := i/len(kinds) + int(seedOf(lic.Number)%7)
			motif := motifs[start%len(motifs)]
			for k := range motifs {
				m := motifs[(start+k)%len(motifs)]
				if !titles[fmt.Sprintf("%s %s %s", pn.en, m[0], kt.en)] {
					motif = m
					break
				}
			}
			p := Product{
				Key: key, LicenseeID: lic.LicenseeID, Licensee: lic.Licensee, Property: lic.Property, Category: category,
				Kind: kind, Territories: lic.Territories, Currency: cur, Image: key + ".jpg",
				Design: NewDesign(key, kind, lic.Property),
			}
			p.TitleEN = fmt.Sprintf("%s %s %s", pn.en, motif[0], kt.en)
			p.TitleFR = fmt.Sprintf("%s %s %s", kt.fr, motif[1], pn.fr)
			if titles[p.TitleEN] {
				p.TitleEN += fmt.Sprintf(" No. %d", n)
				p.TitleFR += fmt.Sprintf(" nº %d", n)
			}
			titles[p.TitleEN] = true
			p.DescEN = fmt.Sprintf("Official %s %s from the %s collection by %s. Licence %s.",
				pn.en, strings.ToLower(kt.en), motif[0], lic.Licensee, lic.Number)
			p.DescFR = fmt.Sprintf("%s officiel %s de la collection %s, par %s. Licence %s.",
				kt.fr, pn.fr, motif[1], lic.Licensee, lic.Number)

			base := kt.price * int64(85+r.IntN(31)) / 100 // ±15%
			colours := []Colour{p.Design.Base}
			if r.IntN(3) > 0 && p.Design.Accent != p.Design.Base {
				colours = append(colours, p.Design.Accent)
			}
			sizes := kt.sizes
			if len(sizes) > 3 {
				from := r.IntN(len(sizes) - 2)
				sizes = sizes[from : from+3+r.IntN(len(sizes)-from-2)]
			}
			if sizes == nil {
				sizes = []string{""}
			}
			for _, col := range colours {
				for si, size := range sizes {
					code := strings.ToUpper(colourCode(col.EN))
					sku := key + "-" + code
					if size != "" {
						sku += "-" + sizeCode(size)
					}
					items[lic.LicenseeID]++
					step := int64(si) * kt.price / 20 // larger sizes cost a little more
					v := Variant{SKU: sku, GTIN: gtin(lic.Country, lic.LicenseeID, items[lic.LicenseeID]), Size: size,
						Colour: col.EN, ColourFR: col.FR, Stock: stockOf(r), Prices: prices(base + step)}
					p.Variants = append(p.Variants, v)
				}
			}
			c.Products = append(c.Products, p)
		}
	}
	return c
}

func stockOf(r *rand.Rand) int {
	if r.IntN(12) == 0 {
		return 0 // sold out
	}
	return 5 + r.IntN(300)
}

// prices turns a price in EUR cents into every currency, rounded as shops do: .90 in the
// currencies with cents, tens of yen in JPY.
func prices(eurCents int64) map[string]int64 {
	out := make(map[string]int64, len(Currencies))
	for _, cur := range Currencies {
		v := float64(eurCents) * rates[cur]
		if money.Digits(cur) == 0 {
			out[cur] = int64(v/10+0.5) * 10
			continue
		}
		out[cur] = int64(v/100)*100 + 90
	}
	return out
}

// initials are the first letters of a name's first two words ("Rings & Pins Ltd" → RP).
func initials(name string) string {
	var b strings.Builder
	for _, w := range strings.Fields(name) {
		r := []rune(w)[0]
		if unicode.IsLetter(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
		if b.Len() == 2 {
			break
		}
	}
	return b.String()
}

func colourCode(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
		}
		if b.Len() == 3 {
			break
		}
	}
	return b.String()
}

func sizeCode(size string) string {
	var b strings.Builder
	for _, r := range size {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// gtin makes the GTIN of a licensee's item: EAN-13 (GTIN-12 in the United States) from a
// made-up company prefix and the item number, with its GS1 check digit.
func gtin(country string, licenseeID int64, item int) string {
	prefix, ok := gs1[country]
	if !ok {
		prefix = "200" // restricted circulation
	}
	company := fmt.Sprintf("%04d", 1000+licenseeID%9000)
	body := prefix + company
	n := 12 // digits before the check digit of an EAN-13
	if country == "US" {
		n = 11
	}
	body += fmt.Sprintf("%0*d", n-len(body), item)
	return body + string(rune('0'+checkDigit(body)))
}

// restrictedGTIN is an EAN-13 in GS1's restricted-circulation range (prefix 2): item
// numbers a shop gives its own goods, plenty of them for a benchmark file.
func restrictedGTIN(item int) string {
	body := fmt.Sprintf("2%011d", item)
	return body + string(rune('0'+checkDigit(body)))
}

// checkDigit is the GS1 check digit of the digits before it.
func checkDigit(body string) int {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

// Licensees returns the ids of the licensees with products, in catalogue order.
func (c *Catalogue) Licensees() []int64 {
	var ids []int64
	for _, p := range c.Products {
		if !slices.Contains(ids, p.LicenseeID) {
			ids = append(ids, p.LicenseeID)
		}
	}
	return ids
}

// Of returns the products of one licensee.
func (c *Catalogue) Of(licenseeID int64) []Product {
	var out []Product
	for _, p := range c.Products {
		if p.LicenseeID == licenseeID {
			out = append(out, p)
		}
	}
	return out
}

// csvHeader is the catalogue CSV's header, as the import documents it.
var csvHeader = []string{"product", "sku", "gtin", "size", "colour", "stock", "property", "category", "territories",
	"title_en", "description_en", "title_fr", "description_fr", "currency", "price_amount",
	"price_EUR", "price_USD", "price_GBP", "price_JPY", "images"}

// WriteCSV writes products as a catalogue CSV: one line per variant, the main price in
// minor units (currency, price_amount) and every price in major units (price_EUR…).
func WriteCSV(w io.Writer, products []Product) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	rec := make([]string, len(csvHeader))
	for _, p := range products {
		for _, v := range p.Variants {
			rec = rec[:0]
			rec = append(rec, p.Key, v.SKU, v.GTIN, v.Size, v.Colour, strconv.Itoa(v.Stock), p.Property, p.Category,
				strings.Join(p.Territories, ";"), p.TitleEN, p.DescEN, p.TitleFR, p.DescFR, p.Currency,
				strconv.FormatInt(v.Prices[p.Currency], 10))
			for _, cur := range Currencies {
				rec = append(rec, decimal(v.Prices[cur], cur))
			}
			rec = append(rec, p.Image)
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// decimal writes minor units in major units: 3590 EUR → "35.90", 5670 JPY → "5670".
func decimal(amount int64, cur string) string {
	d := money.Digits(cur)
	if d == 0 {
		return strconv.FormatInt(amount, 10)
	}
	s := fmt.Sprintf("%0*d", d+1, amount)
	return s[:len(s)-d] + "." + s[len(s)-d:]
}

// Screen judges each new picture against the pictures accepted before it. Accept reports
// whether pic passes as a different product from all of them and, if so, keeps it. The
// seed and the tests implement it with detection's Hasher and Matcher (this package may
// not import detection).
type Screen interface {
	Accept(pic []byte) (bool, error)
}

// maxLayouts is how many layouts a product may try before Pictures gives up.
const maxLayouts = 50

// Pictures draws every product's picture as JPEG, by image name. Pictures are drawn in
// parallel, then screened in catalogue order; a picture the screen refuses is drawn again
// with its next layout. A nil screen accepts everything.
func (c *Catalogue) Pictures(ctx context.Context, screen Screen) (map[string][]byte, error) {
	pics := make([][]byte, len(c.Products))
	errs := make([]error, len(c.Products))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				pics[i], errs[i] = c.Products[i].Design.JPEGAt(c.opts.PictureSize)
			}
		})
	}
feed:
	for i := range c.Products {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(c.Products))
	for i := range c.Products {
		p := &c.Products[i]
		if errs[i] != nil {
			return nil, fmt.Errorf("picture of %s: %w", p.Key, errs[i])
		}
		pic := pics[i]
		for screen != nil {
			ok, err := screen.Accept(pic)
			if err != nil {
				return nil, fmt.Errorf("screen the picture of %s: %w", p.Key, err)
			}
			if ok {
				break
			}
			if p.Design.Layout+1 >= maxLayouts {
				return nil, fmt.Errorf("picture of %s: every one of %d layouts looks like another product's", p.Key, maxLayouts)
			}
			p.Design.Layout++
			if pic, err = p.Design.JPEGAt(c.opts.PictureSize); err != nil {
				return nil, fmt.Errorf("picture of %s: %w", p.Key, err)
			}
		}
		out[p.Image] = pic
	}
	return out, nil
}

// WriteZip writes the pictures of products as a zip (stored, not compressed: JPEG does not
// shrink).
func WriteZip(w io.Writer, products []Product, pics map[string][]byte) error {
	zw := zip.NewWriter(w)
	for _, p := range products {
		pic, ok := pics[p.Image]
		if !ok {
			return fmt.Errorf("no picture %s for %s", p.Image, p.Key)
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: p.Image, Method: zip.Store, Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return err
		}
		if _, err := f.Write(pic); err != nil {
			return err
		}
	}
	return zw.Close()
}

// BigLicence is the licence GenerateCSV's lines are valid for: Maison Bleue Textiles'
// PARIS2024 apparel and headwear licence of the demo registry.
var BigLicence = Licence{Licensee: "Maison Bleue Textiles", Country: "FR", Number: "PAR24-APP-0001", Property: "PARIS2024",
	Categories: []string{"apparel", "headwear"}, Territories: []string{"FR", "BE", "LU", "MC", "CH"}}

// GenerateCSV writes a catalogue CSV of n variant lines with no pictures, for the import
// benchmark: lines valid for BigLicence, four sizes per product, SKUs distinct from the
// demo catalogue's (prefix BIG-). It streams: memory does not grow with n.
func GenerateCSV(w io.Writer, n int) error {
	return GenerateCSVFor(w, n, BigLicence)
}

// GenerateCSVFor is GenerateCSV for another licence.
func GenerateCSVFor(w io.Writer, n int, lic Licence) error {
	if n < 0 {
		return errors.New("demo: a negative number of lines")
	}
	var kinds []Kind
	for _, cat := range lic.Categories {
		kinds = append(kinds, kindsOf[cat]...)
	}
	if len(kinds) == 0 {
		return fmt.Errorf("demo: licence %s has no category the generator draws", lic.Number)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	header := slices.Clone(csvHeader[:len(csvHeader)-1]) // no images
	if err := cw.Write(header); err != nil {
		return err
	}
	pn := propertyNames[lic.Property]
	cur := currencyOf[lic.Country]
	if cur == "" {
		cur = "EUR"
	}
	sizes := []string{"S", "M", "L", "XL"}
	territories := strings.Join(lic.Territories, ";")
	rec := make([]string, 0, len(header))
	for i := range n {
		prod := i / len(sizes)
		kind := kinds[prod%len(kinds)]
		kt := kindTexts[kind]
		motif := motifs[prod%len(motifs)]
		key := fmt.Sprintf("BIG-%s-%s-%07d", pn.short, kt.code, prod)
		size := sizes[i%len(sizes)]
		pr := prices(kt.price + int64(prod%50)*10)
		rec = rec[:0]
		rec = append(rec, key, key+"-"+size, restrictedGTIN(i+1), size, "Navy",
			strconv.Itoa(10+i%90), lic.Property, categoryOf(lic, kind), territories,
			fmt.Sprintf("%s %s %s No. %d", pn.en, motif[0], kt.en, prod),
			fmt.Sprintf("Official %s %s, benchmark product %d.", pn.en, strings.ToLower(kt.en), prod),
			fmt.Sprintf("%s %s %s nº %d", kt.fr, motif[1], pn.fr, prod),
			fmt.Sprintf("%s officiel %s, produit de test %d.", kt.fr, pn.fr, prod),
			cur, strconv.FormatInt(pr[cur], 10))
		for _, c := range Currencies {
			rec = append(rec, decimal(pr[c], c))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

func categoryOf(lic Licence, kind Kind) string {
	for _, cat := range lic.Categories {
		if slices.Contains(kindsOf[cat], kind) {
			return cat
		}
	}
	return ""
}

// SeedLicences are the licences in force of the demo registry (licensing.Seed), as
// LicencesInForce reads them: for tests and benchmarks that draw the catalogue without a database.
var SeedLicences = []Licence{
	{LicenseeID: 1, Licensee: "Maison Bleue Textiles", Country: "FR", Number: "PAR24-APP-0001", Property: "PARIS2024", Categories: []string{"apparel", "headwear"}, Territories: []string{"FR", "BE", "LU", "MC", "CH"}},
	{LicenseeID: 2, Licensee: "Atelier Tricolore", Country: "FR", Number: "PAR24-HOM-0003", Property: "PARIS2024", Categories: []string{"homeware"}, Territories: []string{"FR"}},
	{LicenseeID: 3, Licensee: "Alpina Sportswear S.p.A.", Country: "IT", Number: "MC26-APP-0001", Property: "MILANOCORTINA2026", Categories: []string{"apparel", "headwear", "accessories"}, Territories: []string{"IT", "AT", "CH", "FR", "DE"}},
	{LicenseeID: 5, Licensee: "Pacific Coast Apparel Inc.", Country: "US", Number: "LA28-APP-0001", Property: "LA28", Categories: []string{"apparel", "headwear", "bags"}, Territories: []string{"US", "CA", "MX"}},
	{LicenseeID: 6, Licensee: "Golden State Collectibles LLC", Country: "US", Number: "LA28-COL-0002", Property: "LA28", Categories: []string{"collectibles", "pins", "toys"}, Territories: []string{"WORLD"}},
	{LicenseeID: 7, Licensee: "Rings & Pins Ltd", Country: "GB", Number: "OLY-PIN-0001", Property: "OLYMPIC", Categories: []string{"pins", "collectibles", "accessories"}, Territories: []string{"GB", "IE", "FR", "DE", "US"}},
	{LicenseeID: 8, Licensee: "Sakura Fan Goods K.K.", Country: "JP", Number: "LA28-APP-0003", Property: "LA28", Categories: []string{"apparel"}, Territories: []string{"JP"}},
	{LicenseeID: 8, Licensee: "Sakura Fan Goods K.K.", Country: "JP", Number: "OLY-APP-0002", Property: "OLYMPIC", Categories: []string{"apparel", "stationery"}, Territories: []string{"JP", "KR", "TW"}},
}
