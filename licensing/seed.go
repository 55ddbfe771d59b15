package licensing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"marketplace/internal/fault"
)

// SeedResult is what Seed made, for the other slices' seeds and the demo credentials.
type SeedResult struct {
	Licensees        map[string]int64 // by name
	Licences         []string         // numbers
	ExpiredLicence   string
	SuspendedLicence string
	GenuineSerial    string // a serial inside a registered range, for trying /verify
}

// LicenseeID returns the id of a seeded licensee by name (0 when unknown).
func (r SeedResult) LicenseeID(name string) int64 { return r.Licensees[name] }

type seedLicence struct {
	number, licensee, property string
	categories, territories    []string
	from, to                   string
	bps                        int
	status                     Status
	reason                     string
}

type seedRange struct {
	licensee, sku, prefix string
	first, last           int64
}

var (
	seedProperties = []Property{
		{Code: "PARIS2024", Name: "Paris 2024 Olympic Games", Marks: []Mark{{Text: "Paris 2024"}, {Text: "Paris2024"},
			{Text: "JO Paris 2024", Lang: "fr"}, {Text: "Jeux Olympiques de Paris", Lang: "fr"}, {Text: "巴黎奥运", Lang: "zh"}}},
		{Code: "MILANOCORTINA2026", Name: "Milano Cortina 2026 Olympic Winter Games", Marks: []Mark{{Text: "Milano Cortina"},
			{Text: "Milano Cortina 2026"}, {Text: "Milan Cortina", Lang: "en"}, {Text: "Olimpiadi invernali 2026", Lang: "it"}, {Text: "米兰科尔蒂纳", Lang: "zh"}}},
		{Code: "LA28", Name: "LA28 Olympic Games", Marks: []Mark{{Text: "LA28"}, {Text: "LA 2028"}, {Text: "Los Angeles 2028"}, {Text: "洛杉矶奥运", Lang: "zh"}}},
		{Code: "OLYMPIC", Name: "The Olympic rings and the word Olympic", Marks: []Mark{{Text: "Olympic"}, {Text: "Olympics", Lang: "en"},
			{Text: "Olympique", Lang: "fr"}, {Text: "Olympia", Lang: "de"}, {Text: "Olímpico", Lang: "es"}, {Text: "Olimpiadi", Lang: "it"},
			{Text: "奥运", Lang: "zh"}, {Text: "オリンピック", Lang: "ja"}}},
	}
	seedLicensees = []LicenseeInput{
		{Name: "Maison Bleue Textiles", Country: "FR", ContactEmail: "licences@maisonbleue.example"},
		{Name: "Atelier Tricolore", Country: "FR", ContactEmail: "contact@tricolore.example"},
		{Name: "Alpina Sportswear S.p.A.", Country: "IT", ContactEmail: "licensing@alpina.example"},
		{Name: "Dolomiti Souvenir", Country: "IT", ContactEmail: "info@dolomiti.example"},
		{Name: "Pacific Coast Apparel Inc.", Country: "US", ContactEmail: "brand@pacificcoast.example"},
		{Name: "Golden State Collectibles LLC", Country: "US", ContactEmail: "legal@goldenstate.example"},
		{Name: "Rings & Pins Ltd", Country: "GB", ContactEmail: "hello@ringsandpins.example"},
		{Name: "Sakura Fan Goods K.K.", Country: "JP", ContactEmail: "license@sakura.example"},
	}
	seedLicences = []seedLicence{
		{"PAR24-APP-0001", "Maison Bleue Textiles", "PARIS2024", []string{"apparel", "headwear"}, []string{"FR", "BE", "LU", "MC", "CH"}, "2023-01-01", "2027-12-31", 1200, StatusActive, ""},
		{"PAR24-PIN-0002", "Atelier Tricolore", "PARIS2024", []string{"pins", "collectibles", "stationery"}, []string{World}, "2023-01-01", "2025-12-31", 1000, StatusActive, ""},
		{"PAR24-HOM-0003", "Atelier Tricolore", "PARIS2024", []string{"homeware"}, []string{"FR"}, "2023-06-01", "2027-06-30", 1100, StatusActive, ""},
		{"MC26-APP-0001", "Alpina Sportswear S.p.A.", "MILANOCORTINA2026", []string{"apparel", "headwear", "accessories"}, []string{"IT", "AT", "CH", "FR", "DE"}, "2024-01-01", "2027-12-31", 1300, StatusActive, ""},
		{"MC26-TOY-0002", "Dolomiti Souvenir", "MILANOCORTINA2026", []string{"toys", "collectibles", "pins"}, []string{"IT", "SM", "VA"}, "2024-06-01", "2027-06-30", 1150, StatusSuspended, "Royalty reports for the second quarter are overdue."},
		{"LA28-APP-0001", "Pacific Coast Apparel Inc.", "LA28", []string{"apparel", "headwear", "bags"}, []string{"US", "CA", "MX"}, "2025-01-01", "2029-12-31", 1400, StatusActive, ""},
		{"LA28-COL-0002", "Golden State Collectibles LLC", "LA28", []string{"collectibles", "pins", "toys"}, []string{World}, "2025-01-01", "2029-06-30", 1500, StatusActive, ""},
		{"LA28-APP-0003", "Sakura Fan Goods K.K.", "LA28", []string{"apparel"}, []string{"JP"}, "2026-01-01", "2029-12-31", 1250, StatusActive, ""},
		{"OLY-PIN-0001", "Rings & Pins Ltd", "OLYMPIC", []string{"pins", "collectibles", "accessories"}, []string{"GB", "IE", "FR", "DE", "US"}, "2024-01-01", "2028-12-31", 900, StatusActive, ""},
		{"OLY-APP-0002", "Sakura Fan Goods K.K.", "OLYMPIC", []string{"apparel", "stationery"}, []string{"JP", "KR", "TW"}, "2024-04-01", "2028-03-31", 1000, StatusActive, ""},
	}
	seedRanges = []seedRange{
		{"Maison Bleue Textiles", "MB-PAR24-TEE-001", "PAR24-", 100000, 149999},
		{"Alpina Sportswear S.p.A.", "AL-MC26-JKT-01", "MC26-", 1, 20000},
		{"Pacific Coast Apparel Inc.", "PC-LA28-CAP-01", "LA28-", 500000, 509999},
		{"Rings & Pins Ltd", "RP-OLY-PIN-01", "OLY-", 1, 99999},
	}
)

// Seed loads the demo registry: the four properties with their marks, eight licensees with
// realistic licences (one expired, one suspended) and hologram serial ranges. Running it again
// changes nothing. Resellers need sellers, which the catalogue seeds: see SeedResellers.
func Seed(ctx context.Context, svc *Service) (SeedResult, error) {
	res := SeedResult{Licensees: map[string]int64{}, ExpiredLicence: "PAR24-PIN-0002", SuspendedLicence: "MC26-TOY-0002", GenuineSerial: "PAR24-100042"}
	for _, p := range seedProperties {
		if _, err := svc.CreateProperty(ctx, nil, p); err != nil {
			return res, fmt.Errorf("seed property %s: %w", p.Code, err)
		}
	}
	for _, in := range seedLicensees {
		id, err := seedLicensee(ctx, svc, in)
		if err != nil {
			return res, fmt.Errorf("seed licensee %s: %w", in.Name, err)
		}
		res.Licensees[in.Name] = id
	}
	for _, sl := range seedLicences {
		if err := seedOneLicence(ctx, svc, res.Licensees[sl.licensee], sl); err != nil {
			return res, fmt.Errorf("seed licence %s: %w", sl.number, err)
		}
		res.Licences = append(res.Licences, sl.number)
	}
	for _, sr := range seedRanges {
		id := res.Licensees[sr.licensee]
		existing, err := svc.SerialRanges(ctx, id)
		if err != nil {
			return res, err
		}
		found := false
		for _, r := range existing {
			found = found || (r.Prefix == sr.prefix && r.First == sr.first)
		}
		if found {
			continue
		}
		if _, err := svc.RegisterSerialRange(ctx, nil, id, SerialRangeInput{ProductSKU: sr.sku, Prefix: sr.prefix, First: sr.first, Last: sr.last}); err != nil {
			return res, fmt.Errorf("seed serials %s: %w", sr.sku, err)
		}
	}
	return res, nil
}

func seedLicensee(ctx context.Context, svc *Service, in LicenseeInput) (int64, error) {
	found, err := svc.Licensees(ctx, LicenseeFilter{Query: in.Name})
	if err != nil {
		return 0, err
	}
	for _, l := range found {
		if strings.EqualFold(l.Name, in.Name) {
			return l.ID, nil
		}
	}
	l, err := svc.CreateLicensee(ctx, nil, in)
	return l.ID, err
}

func seedOneLicence(ctx context.Context, svc *Service, licenseeID int64, sl seedLicence) error {
	cur, err := svc.LicenceByNumber(ctx, sl.number)
	switch {
	case fault.Is(err, fault.NotFound):
		from, _ := time.Parse(time.DateOnly, sl.from)
		to, _ := time.Parse(time.DateOnly, sl.to)
		cur, err = svc.CreateLicence(ctx, nil, licenseeID, LicenceInput{Number: sl.number, Property: sl.property,
			Categories: sl.categories, Territories: sl.territories, ValidFrom: from, ValidTo: to, RoyaltyBPS: sl.bps})
		if err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if sl.status != StatusActive && cur.Status == StatusActive {
		_, err = svc.SetLicenceStatus(ctx, nil, sl.number, sl.status, sl.reason)
	}
	return err
}

// seedResellers are the authorisations SeedResellers gives, in the order of the seller ids.
var seedResellers = []struct {
	licensee    string
	territories []string
}{
	{"Maison Bleue Textiles", []string{"FR", "BE"}},
	{"Pacific Coast Apparel Inc.", []string{"US"}},
	{"Golden State Collectibles LLC", []string{"GB", "DE", "JP"}},
	{"Rings & Pins Ltd", []string{"IE"}},
}

// SeedResellers authorises the catalogue's demo sellers as resellers of seeded licensees:
// sellerIDs[0] resells Maison Bleue in FR and BE, [1] Pacific Coast in the US, [2] Golden
// State in GB, DE and JP, [3] Rings & Pins in IE; extra ids are ignored. Running it again
// changes nothing. Call it after Seed.
func SeedResellers(ctx context.Context, svc *Service, sellerIDs []int64) error {
	for i, id := range sellerIDs {
		if i >= len(seedResellers) {
			break
		}
		sr := seedResellers[i]
		licensee, err := seedLicensee(ctx, svc, LicenseeInput{Name: sr.licensee})
		if err != nil {
			return fmt.Errorf("seed reseller %d: find %s (run Seed first): %w", id, sr.licensee, err)
		}
		have, err := svc.AuthorisationsOf(ctx, id)
		if err != nil {
			return err
		}
		done := false
		for _, a := range have {
			done = done || (a.LicenseeID == licensee && a.RevokedAt == nil)
		}
		if done {
			continue
		}
		if _, err := svc.AuthoriseReseller(ctx, nil, licensee, id, sr.territories); err != nil {
			return fmt.Errorf("seed reseller %d: %w", id, err)
		}
	}
	return nil
}

// NotDemo describes what the registry holds that Seed did not make: properties, licensees
// and licences by code, name and number, a few of each ("2 licensees (Koala Merch, …)"). An
// empty answer means the registry is empty or the demo's alone, where seeding is safe.
func NotDemo(ctx context.Context, svc *Service) (_ []string, err error) {
	defer fault.Annotate(&err, "licensing.NotDemo()")
	var found []string
	ps, err := svc.Properties(ctx)
	if err != nil {
		return nil, err
	}
	var codes []string
	for _, p := range ps {
		if !slices.ContainsFunc(seedProperties, func(s Property) bool { return s.Code == p.Code }) {
			codes = append(codes, p.Code)
		}
	}
	found = appendFound(found, "property", "properties", codes)
	ls, err := svc.Licensees(ctx, LicenseeFilter{Limit: 1000})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range ls {
		if !slices.ContainsFunc(seedLicensees, func(s LicenseeInput) bool { return strings.EqualFold(s.Name, l.Name) }) {
			names = append(names, l.Name)
		}
	}
	found = appendFound(found, "licensee", "licensees", names)
	lcs, err := svc.SearchLicences(ctx, LicenceFilter{Limit: 1000})
	if err != nil {
		return nil, err
	}
	var numbers []string
	for _, l := range lcs {
		if !slices.ContainsFunc(seedLicences, func(s seedLicence) bool { return s.number == l.Number }) {
			numbers = append(numbers, l.Number)
		}
	}
	return appendFound(found, "licence", "licences", numbers), nil
}

// appendFound adds "n things (a, b, c, …)" to found when there are any.
func appendFound(found []string, one, many string, items []string) []string {
	switch len(items) {
	case 0:
		return found
	case 1:
		return append(found, "1 "+one+" ("+items[0]+")")
	}
	shown := items[:min(len(items), 3)]
	more := ""
	if len(items) > len(shown) {
		more = ", …"
	}
	return append(found, fmt.Sprintf("%d %s (%s%s)", len(items), many, strings.Join(shown, ", "), more))
}
