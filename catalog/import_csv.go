package catalog

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/textlist"
	"marketplace/licensing"
)

// The catalogue CSV: UTF-8, comma-separated, a header row naming the columns in any order.
// ImportTemplate is the file people download; its comment lines document every column.
//
// Limits that keep one bad file from taking the server's memory: a record (one product line,
// quoted newlines included) is at most maxRecordBytes, titles maxTitle characters,
// descriptions maxDescription, and a line names at most maxImagesPerLine images.
const (
	maxRecordBytes   = 256 << 10
	maxTitle         = 300
	maxDescription   = 20000
	maxShortField    = 50
	maxProductKey    = 100
	maxImagesPerLine = 12
	maxStock         = 1_000_000
)

// importRow is one valid catalogue line, whatever it came from (a CSV line or UpsertProducts).
// Product-level fields (property, category, territories, texts, currency, images) must agree
// between the lines of one product.
type importRow struct {
	Line        int
	Product     string // the group key of the product's variants
	SKU         string
	GTIN        string
	Size        string
	Colour      string
	Stock       int
	Property    string
	Category    string
	Territories []string
	Langs       []string // sorted; Titles and Descriptions follow
	Titles      []string
	Descs       []string
	Currencies  []string // sorted; Amounts follow
	Amounts     []int64
	Currency    string // the main currency (its price is the official listing's)
	Images      []string
	ImageIDs    []int64 // UpsertProducts: pictures already stored
}

// column kinds of the header.
type colKind int

const (
	colSKU colKind = iota
	colProduct
	colTitle
	colDescription
	colProperty
	colCategory
	colCurrency
	colPriceAmount
	colPrice // price_<CUR>, in major units
	colTerritories
	colStock
	colGTIN
	colImages
	colSize
	colColour
)

type column struct {
	kind colKind
	name string // as in the header, normalised
	arg  string // the language of title_/description_, the currency of price_
}

var langSuffix = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})?$`)

// csvReader streams catalogue lines out of a CSV: each call to next returns the next line as
// an importRow, or the field errors of a bad line. It keeps no line once returned.
type csvReader struct {
	r       *csv.Reader
	in      *recordLimiter
	cols    []column
	hasMain bool // the header has currency and price_amount
}

// recordLimiter counts the bytes the CSV parser reads and refuses to let one record grow
// past maxRecordBytes (an unclosed quote would otherwise pull the rest of the file into one
// field in memory).
type recordLimiter struct {
	r     io.Reader
	n     int64 // bytes read so far
	start int64 // n when the current record began
	limit int64
}

var errRecordTooLong = errors.New("record too long")

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.n-l.start > l.limit {
		return 0, errRecordTooLong
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// newCSVReader reads the header. Returns Invalid naming every bad column (line 1) when the
// header cannot be used.
func newCSVReader(r io.Reader) (*csvReader, error) {
	in := &recordLimiter{r: r, limit: maxRecordBytes}
	cr := csv.NewReader(in)
	cr.ReuseRecord = true
	cr.Comment = '#' // the template documents itself in comment lines
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fault.Validation("the file is empty", fault.FieldError{Field: "file", Line: 1, Message: "the file has no header row"})
		}
		return nil, fault.Validation("the header row cannot be read", fault.FieldError{Field: "file", Line: 1, Message: csvErrorText(err)})
	}
	var bad []fault.FieldError
	add := func(field, format string, args ...any) {
		bad = append(bad, fault.FieldError{Field: field, Line: 1, Message: fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	var cols []column
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a byte-order mark some spreadsheets write
		}
		if !utf8.ValidString(h) {
			add("header", "column %d's name is not valid UTF-8", i+1)
			continue
		}
		name := strings.ToLower(strings.TrimSpace(h))
		c := column{name: name}
		switch {
		case name == "sku":
			c.kind = colSKU
		case name == "product":
			c.kind = colProduct
		case name == "property":
			c.kind = colProperty
		case name == "category":
			c.kind = colCategory
		case name == "currency":
			c.kind = colCurrency
		case name == "price_amount":
			c.kind = colPriceAmount
		case name == "territories":
			c.kind = colTerritories
		case name == "stock":
			c.kind = colStock
		case name == "gtin":
			c.kind = colGTIN
		case name == "images":
			c.kind = colImages
		case name == "size":
			c.kind = colSize
		case name == "colour" || name == "color":
			c.kind, c.name = colColour, "colour"
		case strings.HasPrefix(name, "title_") || strings.HasPrefix(name, "description_"):
			kind, lang, _ := strings.Cut(name, "_")
			c.kind, c.arg = colTitle, lang
			if kind == "description" {
				c.kind = colDescription
			}
			if !langSuffix.MatchString(lang) {
				add(name, "%q is not a language code such as en, fr or pt-br", lang)
				continue
			}
		case strings.HasPrefix(name, "price_"):
			cur, err := money.ParseCurrency(strings.TrimPrefix(name, "price_"))
			if err != nil {
				add(name, "%s: name price columns price_EUR, price_USD, price_JPY…", err)
				continue
			}
			c.kind, c.arg, c.name = colPrice, cur, "price_"+cur
		case name == "":
			add("header", "column %d has no name", i+1)
			continue
		default:
			add(name, "unknown column; the template lists the columns")
			continue
		}
		key := c.name
		if seen[key] {
			add(name, "the column appears twice")
			continue
		}
		seen[key] = true
		cols = append(cols, c)
	}
	for _, req := range []string{"sku", "title_en", "property", "category", "territories"} {
		if !seen[req] {
			add(req, "the required column %s is missing", req)
		}
	}
	hasMain := seen["currency"] && seen["price_amount"]
	if seen["currency"] != seen["price_amount"] {
		add("price_amount", "currency and price_amount go together")
	}
	hasPriceCols := slices.ContainsFunc(cols, func(c column) bool { return c.kind == colPrice })
	if !hasMain && !hasPriceCols {
		add("price_amount", "give prices: currency and price_amount (minor units), or price_EUR, price_JPY… columns (major units)")
	}
	if len(bad) > 0 {
		return nil, fault.Validation("the header row is not valid", bad...)
	}
	if len(cols) != len(header) {
		// Unreachable: every column was either kept or reported.
		return nil, fault.New(fault.Invalid, "the header row is not valid")
	}
	cr.FieldsPerRecord = len(header)
	return &csvReader{r: cr, in: in, cols: cols, hasMain: hasMain}, nil
}

// bytesRead is how far into the file the reader is.
func (c *csvReader) bytesRead() int64 { return c.in.n }

// next returns the next data line: its row (nil when the line could not be split into
// fields), its number, and what is wrong with it (nothing for a good line). io.EOF ends the
// file; any other error is fatal (the file cannot be read on).
func (c *csvReader) next() (*importRow, int, []fault.FieldError, error) {
	c.in.start = c.in.n
	rec, err := c.r.Read()
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return nil, 0, nil, io.EOF
		case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
			return nil, pe.StartLine, []fault.FieldError{{Field: "columns", Line: pe.StartLine,
				Message: fmt.Sprintf("the line has %d fields, the header %d (a comma inside a value needs quotes)", len(rec), len(c.cols))}}, nil
		case errors.As(err, &pe) && (errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote)):
			// The parser has moved past the bad line (or, for a quote never closed, to the end).
			return nil, pe.StartLine, []fault.FieldError{{Field: "columns", Line: pe.StartLine, Message: csvErrorText(err)}}, nil
		case errors.Is(err, errRecordTooLong):
			// The parser has numbered the line it was cut in: FieldPos(0) is where that
			// record (the one too long) begins.
			line, _ := c.r.FieldPos(0)
			return nil, line, nil, fault.Validation("the file cannot be read on",
				fault.FieldError{Field: "file", Line: line, Message: fmt.Sprintf("a line is longer than %d KiB (is a quote left open?)", maxRecordBytes>>10)})
		default:
			return nil, 0, nil, err
		}
	}
	line, _ := c.r.FieldPos(0)
	// A bad line comes back with its row too, so that the licence checks can still be made
	// on its good fields: the report then lists everything wrong with it at once.
	row, bad := c.parse(rec, line)
	return row, line, bad, nil
}

func csvErrorText(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return fmt.Sprintf("a quote \" in an unquoted value (column %d): quote the whole value and double the quote", pe.Column)
		case errors.Is(pe.Err, csv.ErrQuote):
			return fmt.Sprintf("a quoted value is not closed properly (column %d)", pe.Column)
		}
		return pe.Err.Error()
	}
	return err.Error()
}

// parse checks one record's fields; every bad field is reported.
func (c *csvReader) parse(rec []string, line int) (*importRow, []fault.FieldError) {
	var bad []fault.FieldError
	add := func(field, format string, args ...any) {
		bad = append(bad, fault.FieldError{Field: field, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	r := &importRow{Line: line}
	var priceAmount string
	texts := map[string]*Text{}
	prices := map[string]int64{}
	for i, col := range c.cols {
		v := rec[i]
		if !utf8.ValidString(v) {
			add(col.name, "is not valid UTF-8 text: save the file as UTF-8")
			continue
		}
		v = strings.TrimSpace(v)
		switch col.kind {
		case colSKU:
			r.SKU = v
		case colProduct:
			r.Product = v
		case colTitle, colDescription:
			t := texts[col.arg]
			if t == nil {
				t = &Text{}
				texts[col.arg] = t
			}
			if col.kind == colTitle {
				t.Title = v
			} else {
				t.Description = v
			}
		case colProperty:
			r.Property = strings.ToUpper(v)
		case colCategory:
			r.Category = strings.ToLower(v)
		case colCurrency:
			r.Currency = v
		case colPriceAmount:
			priceAmount = v
		case colPrice:
			if v == "" {
				continue
			}
			a, err := money.ParseDecimal(v, col.arg)
			switch {
			case err != nil:
				add(col.name, "%v (write the price in %s, such as %s)", err, col.arg, exampleDecimal(col.arg))
			case a <= 0:
				add(col.name, "must be more than zero")
			default:
				prices[col.arg] = a
			}
		case colTerritories:
			r.Territories = textlist.Split(strings.ToUpper(v), ";")
		case colStock:
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > maxStock {
				add("stock", "%q is not a whole number from 0 to %d", v, maxStock)
			}
			r.Stock = n
		case colGTIN:
			r.GTIN = v
		case colImages:
			r.Images = textlist.Split(v, ";")
		case colSize:
			r.Size = v
		case colColour:
			r.Colour = v
		}
	}
	if r.Product == "" {
		r.Product = r.SKU
	}
	// The main price: currency and price_amount in minor units, else the first price_ column.
	if r.Currency != "" || priceAmount != "" {
		cur, err := money.ParseCurrency(r.Currency)
		if err != nil {
			add("currency", "%v", err)
		}
		r.Currency = cur
		switch {
		case priceAmount == "" && cur != "":
			if _, ok := prices[cur]; !ok {
				add("price_amount", "is required with a currency: the price in %s's minor unit", cur)
			}
		case priceAmount != "":
			a, err := strconv.ParseInt(priceAmount, 10, 64)
			switch {
			case err != nil:
				add("price_amount", "%q is not a whole number: price_amount is in the currency's minor unit (%s)", priceAmount, minorUnitHint(cur))
			case a <= 0:
				add("price_amount", "must be more than zero")
			case cur != "":
				if other, ok := prices[cur]; ok && other != a {
					add("price_amount", "differs from price_%s on the same line", cur)
				}
				prices[cur] = a
			}
		}
	} else {
		for _, col := range c.cols {
			if _, ok := prices[col.arg]; ok && col.kind == colPrice {
				r.Currency = col.arg
				break
			}
		}
		if r.Currency == "" && !slices.ContainsFunc(bad, func(f fault.FieldError) bool { return strings.HasPrefix(f.Field, "price_") }) {
			add("price_amount", "the line has no price")
		}
	}
	validateRow(r, texts, prices, add)
	return r, bad
}

// validateRow checks the fields every source shares and fills the row's sorted texts and
// prices.
func validateRow(r *importRow, texts map[string]*Text, prices map[string]int64, add func(field, format string, args ...any)) {
	if r.SKU == "" {
		add("sku", "is required")
	} else if !skuPattern.MatchString(r.SKU) {
		add("sku", "%q: 1 to 64 letters, digits, dots, hyphens or underscores, starting with a letter or digit", r.SKU)
	}
	if len(r.Product) > maxProductKey {
		add("product", "at most %d characters", maxProductKey)
	}
	if r.GTIN != "" && !ValidGTIN(r.GTIN) {
		add("gtin", "%q is not a GTIN-8, -12, -13 or -14 with a correct check digit", r.GTIN)
	}
	if utf8.RuneCountInString(r.Size) > maxShortField {
		add("size", "at most %d characters", maxShortField)
	}
	if utf8.RuneCountInString(r.Colour) > maxShortField {
		add("colour", "at most %d characters", maxShortField)
	}
	if r.Property == "" {
		add("property", "is required: a property code such as PARIS2024")
	}
	if r.Category == "" {
		add("category", "is required")
	} else if !licensing.IsCategory(r.Category) {
		add("category", "unknown category %q; one of %s", r.Category, categoryCodes())
	}
	if len(r.Territories) == 0 {
		add("territories", "is required: ISO 3166-1 codes separated by ;, such as FR;BE, or WORLD")
	} else if err := licensing.ValidateTerritories(r.Territories); err != nil {
		if e, ok := fault.As(err); ok && len(e.Fields) > 0 {
			add("territories", "%s", e.Fields[0].Message)
		} else {
			add("territories", "not valid")
		}
	}
	if en := texts["en"]; en == nil || en.Title == "" {
		add("title_en", "is required: the English title")
	}
	for lang, t := range texts {
		if t.Title == "" && t.Description != "" {
			add("title_"+lang, "is required when description_%s is given", lang)
		}
		if utf8.RuneCountInString(t.Title) > maxTitle {
			add("title_"+lang, "at most %d characters", maxTitle)
		}
		if utf8.RuneCountInString(t.Description) > maxDescription {
			add("description_"+lang, "at most %d characters", maxDescription)
		}
	}
	if len(r.Images) > maxImagesPerLine {
		add("images", "at most %d images", maxImagesPerLine)
	}
	for _, name := range r.Images {
		if !safeEntryName(name) {
			add("images", "%q is not a file name inside the zip", name)
		}
	}
	r.Langs = r.Langs[:0]
	for lang, t := range texts {
		if t.Title != "" {
			r.Langs = append(r.Langs, lang)
		}
	}
	slices.Sort(r.Langs)
	for _, lang := range r.Langs {
		r.Titles = append(r.Titles, texts[lang].Title)
		r.Descs = append(r.Descs, texts[lang].Description)
	}
	for cur := range prices {
		r.Currencies = append(r.Currencies, cur)
	}
	slices.Sort(r.Currencies)
	for _, cur := range r.Currencies {
		r.Amounts = append(r.Amounts, prices[cur])
	}
}

var skuPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func categoryCodes() string {
	codes := make([]string, len(licensing.Categories))
	for i, c := range licensing.Categories {
		codes[i] = c.Code
	}
	return strings.Join(codes, ", ")
}

func minorUnitHint(cur string) string {
	switch {
	case cur == "":
		return "cents for EUR, yen for JPY"
	case money.Digits(cur) == 0:
		return cur + " has no minor unit: 1200 is 1200 " + cur
	default:
		return fmt.Sprintf("2500 is 25.00 %s", cur)
	}
}

func exampleDecimal(cur string) string {
	if money.Digits(cur) == 0 {
		return "1200"
	}
	return "25.00"
}
