package detection

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"marketplace/detection/imagematch"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/licensing"
)

// The test registry: licensee 1 "Maison Bleue" holds PARIS2024 apparel in FR and BE (licence
// L-1, active); licensee 2 "Dolomiti" holds MILANOCORTINA2026 toys in IT (L-2, suspended);
// seller 10 is licensee 1's own seller; seller 20 is licensee 1's authorised reseller in FR
// only; seller 30 is independent.
var (
	licenceL1 = &licensing.Licence{ID: 1, Number: "L-1", LicenseeID: 1, LicenseeName: "Maison Bleue", Property: "PARIS2024",
		Categories: []string{"apparel"}, Territories: []string{"FR", "BE"}, Status: licensing.StatusActive}
	licenceL2 = &licensing.Licence{ID: 2, Number: "L-2", LicenseeID: 2, LicenseeName: "Dolomiti", Property: "MILANOCORTINA2026",
		Categories: []string{"toys"}, Territories: []string{"IT"}, Status: licensing.StatusSuspended}
)

// testCoverage answers like licensing.Service.Coverage over the test registry.
func testCoverage(q licensing.CoverageQuery) (licensing.CoverageAnswer, error) {
	if !licensing.IsCountry(q.Country) {
		return licensing.CoverageAnswer{}, fault.Validation("bad", fault.Field("country", "unknown %q", q.Country))
	}
	var l *licensing.Licence
	via := false
	switch {
	case q.LicenseeID == 1 || (q.SellerID == 20 && q.Country == "FR"):
		l, via = licenceL1, q.LicenseeID != 1
	case q.SellerID == 20:
		if q.Property == "PARIS2024" {
			return licensing.CoverageAnswer{Reason: licensing.ReasonTerritoryNotCovered, Detail: "The seller is authorised by licensee 1 to resell only in FR, not in " + q.Country + "."}, nil
		}
	case q.LicenseeID == 2:
		l = licenceL2
	}
	if l == nil || l.Property != q.Property {
		return licensing.CoverageAnswer{Reason: licensing.ReasonNoLicence, Detail: "Neither the seller nor a licensee that authorised it holds a licence for " + q.Property + "."}, nil
	}
	a := licensing.CoverageAnswer{Licence: l}
	switch {
	case !slices.Contains(l.Categories, q.Category):
		a.Reason, a.Detail = licensing.ReasonCategoryNotCovered, "Licence "+l.Number+" does not cover the category "+q.Category+"."
	case !l.Covers(q.Country):
		a.Reason, a.Detail = licensing.ReasonTerritoryNotCovered, "Licence "+l.Number+" does not cover "+q.Country+"."
	case l.Status == licensing.StatusSuspended:
		a.Reason, a.Detail = licensing.ReasonLicenceSuspended, "Licence "+l.Number+" ("+l.LicenseeName+") is suspended: royalties overdue."
	case via:
		a.Allowed, a.Reason = true, licensing.ReasonAuthorisedReseller
	default:
		a.Allowed, a.Reason = true, licensing.ReasonLicensee
	}
	return a, nil
}

var (
	parisTee = &ProductFacts{ID: 7, Title: "Paris 2024 tee", LicenseeID: 1, LicenseeName: "Maison Bleue", Property: "PARIS2024",
		Category: "apparel", OfficialPrice: money.New(3900, "EUR")}
	mascot = &ProductFacts{ID: 8, Title: "Mascot plush", LicenseeID: 2, LicenseeName: "Dolomiti", Property: "MILANOCORTINA2026",
		Category: "toys", OfficialPrice: money.New(2500, "EUR")}
	licensee    = SellerFacts{ID: 10, Name: "Maison Bleue shop", Kind: "licensee", LicenseeID: 1, AgeDays: 400}
	reseller    = SellerFacts{ID: 20, Name: "Seine Retail", Kind: "reseller", AgeDays: 400}
	independent = SellerFacts{ID: 30, Name: "Cheap Goods", Kind: "independent", AgeDays: 400}
)

// plain is a listing that fires no rule: a licensee's own tee, at its price, in its territory.
func plain() ScreeningInput {
	return ScreeningInput{ListingID: 100, Title: "Blue tee", Description: "Cotton, made in France.",
		Price: money.New(3900, "EUR"), Category: "apparel", Territories: []string{"FR"}, ShipsFrom: "FR",
		Seller: licensee, Coverage: testCoverage}
}

func TestRules(t *testing.T) {
	rs := NewRuleset(DefaultRuleConfig(), seedMarks)
	official := func(d int) ImageMatch {
		return ImageMatch{ImageID: 1, RefImageID: 501, Kind: RefOfficial, Distance: d, Product: parisTee}
	}
	for _, tc := range []struct {
		name   string
		rule   string
		edit   func(in *ScreeningInput)
		hit    bool
		detail string // a part of the hit's detail
	}{
		{"OfficialPhotoIndependent", RuleOfficialPhotoUnlicensedSeller, func(in *ScreeningInput) {
			in.Seller, in.Matches = independent, []ImageMatch{official(4)}
		}, true, `Photo matches official product "Paris 2024 tee" (7) of licensee "Maison Bleue" at distance 4; seller "Cheap Goods" (30) is not "Maison Bleue" nor its authorised reseller for FR.`},
		{"OfficialPhotoResellerOutsideItsTerritory", RuleOfficialPhotoUnlicensedSeller, func(in *ScreeningInput) {
			in.Seller, in.Matches, in.Territories = reseller, []ImageMatch{official(2)}, []string{"FR", "DE"}
		}, true, "authorised reseller for DE."},
		{"OfficialPhotoResellerInItsTerritory", RuleOfficialPhotoUnlicensedSeller, func(in *ScreeningInput) {
			in.Seller, in.Matches = reseller, []ImageMatch{official(2)}
		}, false, ""},
		{"OfficialPhotoLicensee", RuleOfficialPhotoUnlicensedSeller, func(in *ScreeningInput) {
			in.Matches = []ImageMatch{official(0)}
		}, false, ""},
		{"OfficialPhotoBeyondRadius", RuleOfficialPhotoUnlicensedSeller, func(in *ScreeningInput) {
			in.Seller, in.Matches = independent, []ImageMatch{official(11)}
		}, false, ""},

		{"CounterfeitPhoto", RuleKnownCounterfeitPhoto, func(in *ScreeningInput) {
			in.Matches = []ImageMatch{{ImageID: 3, RefImageID: 9, Kind: RefCounterfeit, Distance: 6, CaseID: 44}}
		}, true, "Photo 3 matches known counterfeit image 9 at distance 6 (confirmed in case 44)."},
		{"CounterfeitPhotoBeyondRadius", RuleKnownCounterfeitPhoto, func(in *ScreeningInput) {
			in.Matches = []ImageMatch{{ImageID: 3, RefImageID: 9, Kind: RefCounterfeit, Distance: 30}}
		}, false, ""},

		{"RemovedListingPhotoOtherSeller", RuleRemovedListingPhoto, func(in *ScreeningInput) {
			in.Matches = []ImageMatch{{ImageID: 3, RefImageID: 9, Kind: RefRemovedListing, Distance: 1, ListingID: 55, SellerID: 31}}
		}, true, "seller 31's removed listing 55 at distance 1"},
		{"RemovedListingPhotoOwnListing", RuleRemovedListingPhoto, func(in *ScreeningInput) {
			in.Matches = []ImageMatch{{ImageID: 3, RefImageID: 9, Kind: RefRemovedListing, Distance: 1, ListingID: 100, SellerID: 10}}
		}, false, ""},

		{"MarksIndependent", RuleMarksWithoutLicence, func(in *ScreeningInput) {
			in.Seller, in.Title = independent, "P4ris 2O24 hoodie"
		}, true, `uses "P4ris 2O24" (mark "Paris 2024" of PARIS2024) for FR: Neither the seller`},
		{"MarksInDescriptionCyrillic", RuleMarksWithoutLicence, func(in *ScreeningInput) {
			in.Seller, in.Description = independent, "Great Оlympic souvenir"
		}, true, `"Оlympic" (mark "Olympic" of OLYMPIC)`},
		{"MarksOtherCategory", RuleMarksWithoutLicence, func(in *ScreeningInput) {
			in.Title, in.Category = "Paris 2024 mug", "homeware"
		}, true, "does not cover the category homeware"},
		{"MarksNoCategory", RuleMarksWithoutLicence, func(in *ScreeningInput) {
			in.Seller, in.Title, in.Category = independent, "巴黎奥运 T恤", ""
		}, true, "names no category"},
		{"MarksLicensee", RuleMarksWithoutLicence, func(in *ScreeningInput) {
			in.Title = "JO Paris 2024 tee"
		}, false, ""},
		{"MarksOnlyTerritoryMissing", RuleMarksWithoutLicence, func(in *ScreeningInput) {
			in.Title, in.Territories = "Paris 2024 tee", []string{"DE"}
		}, false, ""},
		{"NoMarks", RuleMarksWithoutLicence, func(in *ScreeningInput) {
			in.Seller, in.Title = independent, "Paris Hilton tee"
		}, false, ""},

		{"LicenceSuspendedClaimedProduct", RuleLicenceSuspendedOrExpired, func(in *ScreeningInput) {
			in.Seller, in.Claimed, in.Category, in.Territories, in.ShipsFrom = independent, mascot, "", []string{"IT"}, "IT"
		}, true, "Licence L-2 (Dolomiti) is suspended"},
		{"LicenceSuspendedOwnListing", RuleLicenceSuspendedOrExpired, func(in *ScreeningInput) {
			in.Seller = SellerFacts{ID: 11, LicenseeID: 2, AgeDays: 100}
			in.Title, in.Category, in.Territories = "Milano Cortina mascot", "toys", []string{"IT"}
		}, true, "is suspended"},
		{"LicenceActive", RuleLicenceSuspendedOrExpired, func(in *ScreeningInput) {
			in.Claimed = parisTee
		}, false, ""},

		{"TerritoryShipsTo", RuleTerritoryOutsideLicence, func(in *ScreeningInput) {
			in.Title, in.Territories = "Paris 2024 tee", []string{"FR", "DE"}
		}, true, "PARIS2024: licence L-1 covers FR, BE; the listing ships to DE"},
		{"TerritoryShipsFrom", RuleTerritoryOutsideLicence, func(in *ScreeningInput) {
			in.Claimed, in.ShipsFrom = parisTee, "CN"
		}, true, "it ships from CN"},
		{"TerritoryWorld", RuleTerritoryOutsideLicence, func(in *ScreeningInput) {
			in.Claimed, in.Territories = parisTee, []string{"WORLD"}
		}, true, "ships to WORLD"},
		{"TerritoryResellerOutside", RuleTerritoryOutsideLicence, func(in *ScreeningInput) {
			in.Seller, in.Claimed, in.Territories = reseller, parisTee, []string{"BE"}
		}, true, "ships to BE"},
		{"TerritoryInside", RuleTerritoryOutsideLicence, func(in *ScreeningInput) {
			in.Claimed, in.Territories = parisTee, []string{"FR", "BE"}
		}, false, ""},
		{"TerritoryUnlicensedIsNotThisRule", RuleTerritoryOutsideLicence, func(in *ScreeningInput) {
			in.Seller, in.Title, in.Territories = independent, "Paris 2024 tee", []string{"DE"}
		}, false, ""},

		{"PriceTooLow", RulePriceTooLow, func(in *ScreeningInput) {
			in.Claimed, in.Price = parisTee, money.New(1500, "EUR")
		}, true, "is 38% of the official price"},
		{"PriceAtTheShare", RulePriceTooLow, func(in *ScreeningInput) {
			in.Claimed, in.Price = parisTee, money.New(1560, "EUR") // exactly 40%
		}, false, ""},
		{"PriceTooLowMatchedProduct", RulePriceTooLow, func(in *ScreeningInput) {
			in.Seller, in.Matches, in.Price = independent, []ImageMatch{official(3)}, money.New(900, "EUR")
		}, true, "23%"},
		{"PriceOtherCurrency", RulePriceTooLow, func(in *ScreeningInput) {
			in.Claimed, in.Price = parisTee, money.New(500, "USD")
		}, false, ""},

		{"CounterfeitWords", RuleCounterfeitWords, func(in *ScreeningInput) {
			in.Title, in.Description = "Tee 1:1 quality", "Une réplique parfaite, 高仿"
		}, true, `"1:1", "réplique", "高仿"`},
		{"CounterfeitWordsFolded", RuleCounterfeitWords, func(in *ScreeningInput) {
			in.Title = "R3PLICA tee"
		}, true, `"R3PLICA" ("replica")`},
		{"NoCounterfeitWords", RuleCounterfeitWords, func(in *ScreeningInput) {
			in.Title = "Louis II tee, 11 colours"
		}, false, ""},

		{"NewSellerManyMarked", RuleNewSellerManyMarked, func(in *ScreeningInput) {
			in.Seller = SellerFacts{ID: 31, AgeDays: 3, MarkedListings: 4}
			in.Title = "Olympic scarf"
		}, true, "3 days old and has listed 5 items"},
		{"NewSellerFewMarked", RuleNewSellerManyMarked, func(in *ScreeningInput) {
			in.Seller = SellerFacts{ID: 31, AgeDays: 3, MarkedListings: 3}
			in.Title = "Olympic scarf"
		}, false, ""},
		{"OldSellerManyMarked", RuleNewSellerManyMarked, func(in *ScreeningInput) {
			in.Seller = SellerFacts{ID: 31, AgeDays: 14, MarkedListings: 40}
			in.Title = "Olympic scarf"
		}, false, ""},
		{"NewSellerUnmarkedListing", RuleNewSellerManyMarked, func(in *ScreeningInput) {
			in.Seller = SellerFacts{ID: 31, AgeDays: 3, MarkedListings: 40}
		}, false, ""},

		{"PhotoUnreadable", RulePhotoUnreadable, func(in *ScreeningInput) {
			in.Unreadable = []UnreadablePhoto{{ImageID: 4, Error: "image too small"}}
		}, true, "Could not check photo 4 (image too small)."},
		{"PhotosReadable", RulePhotoUnreadable, func(in *ScreeningInput) {}, false, ""},

		{"SellerStrikes", RuleSellerStrikes, func(in *ScreeningInput) { in.Seller.Strikes = 2 }, true, "2 strike(s)"},
		{"SellerNoStrikes", RuleSellerStrikes, func(in *ScreeningInput) {}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := plain()
			tc.edit(&in)
			res := rs.Evaluate(in)
			i := slices.IndexFunc(res.Reasons, func(h Reason) bool { return h.Rule == tc.rule })
			if (i >= 0) != tc.hit {
				t.Fatalf("%s fired: %v, want %v; hits %+v", tc.rule, i >= 0, tc.hit, res.Reasons)
			}
			if tc.hit && !strings.Contains(res.Reasons[i].Detail, tc.detail) {
				t.Fatalf("detail %q does not contain %q", res.Reasons[i].Detail, tc.detail)
			}
			if len(res.Errors) > 0 {
				t.Fatalf("coverage errors: %v", res.Errors)
			}
		})
	}
}

func TestPlainListingIsAllowed(t *testing.T) {
	res := NewRuleset(DefaultRuleConfig(), seedMarks).Evaluate(plain())
	if res.Score != 0 || res.Verdict != VerdictAllow || len(res.Reasons) != 0 {
		t.Fatalf("a licensee's plain listing: %+v", res)
	}
}

func TestStrikesWeight(t *testing.T) {
	rs := NewRuleset(DefaultRuleConfig(), nil)
	for strikes, want := range map[int]int{1: 15, 3: 45, 9: 45} {
		in := plain()
		in.Seller.Strikes = strikes
		if res := rs.Evaluate(in); res.Score != want {
			t.Errorf("%d strikes: score %d, want %d", strikes, res.Score, want)
		}
	}
}

func TestScoreAndVerdict(t *testing.T) {
	cfg := DefaultRuleConfig()
	for _, tc := range []struct {
		score int
		want  string
	}{
		{0, VerdictAllow}, {29, VerdictAllow}, {30, VerdictReview}, {69, VerdictReview}, {70, VerdictBlock}, {100, VerdictBlock},
	} {
		if got := cfg.Verdict(tc.score); got != tc.want {
			t.Errorf("Verdict(%d) = %s, want %s", tc.score, got, tc.want)
		}
	}
	// Scores through Evaluate: the strikes rule with weight w and one strike scores w.
	for _, tc := range []struct {
		weight, score int
		want          string
	}{
		{29, 29, VerdictAllow}, {30, 30, VerdictReview}, {69, 69, VerdictReview}, {70, 70, VerdictBlock},
	} {
		c := DefaultRuleConfig()
		c.Rules[RuleSellerStrikes] = RuleSetting{Enabled: true, Weight: tc.weight, Params: map[string]int{"max_strikes": 1}}
		in := plain()
		in.Seller.Strikes = 1
		res := NewRuleset(c, nil).Evaluate(in)
		if res.Score != tc.score || res.Verdict != tc.want {
			t.Errorf("weight %d: score %d verdict %s, want %d %s", tc.weight, res.Score, res.Verdict, tc.score, tc.want)
		}
	}
	// Many hits are capped at 100.
	in := plain()
	in.Seller = independent
	in.Seller.Strikes = 3
	in.Title = "Replica P4ris 2024 tee"
	in.Matches = []ImageMatch{{ImageID: 1, RefImageID: 2, Kind: RefCounterfeit, Distance: 1}, {ImageID: 1, RefImageID: 3, Kind: RefOfficial, Distance: 2, Product: parisTee}}
	in.Price = money.New(500, "EUR")
	res := NewRuleset(DefaultRuleConfig(), seedMarks).Evaluate(in)
	if res.Score != 100 || res.Verdict != VerdictBlock || len(res.Reasons) < 5 {
		t.Fatalf("capped score: %+v", res)
	}
	// Thresholds are configuration.
	c := DefaultRuleConfig()
	c.ReviewAt, c.BlockAt = 10, 20
	in = plain()
	in.Seller.Strikes = 1
	if res := NewRuleset(c, nil).Evaluate(in); res.Verdict != VerdictReview {
		t.Fatalf("review at 10: %+v", res)
	}
}

func TestDisabledRuleAndWeightZero(t *testing.T) {
	c := DefaultRuleConfig()
	c.Rules[RuleCounterfeitWords] = RuleSetting{Enabled: false, Weight: 40}
	in := plain()
	in.Title = "replica"
	if res := NewRuleset(c, nil).Evaluate(in); len(res.Reasons) != 0 {
		t.Fatalf("a disabled rule fired: %+v", res.Reasons)
	}
	c.Rules[RuleCounterfeitWords] = RuleSetting{Enabled: true, Weight: 0}
	if res := NewRuleset(c, nil).Evaluate(in); len(res.Reasons) != 1 || res.Score != 0 {
		t.Fatalf("weight 0: %+v", res)
	}
}

func TestCoverageFailureFailsClosed(t *testing.T) {
	in := plain()
	in.Seller = independent
	in.Title = "Paris 2024 tee"
	in.Coverage = func(licensing.CoverageQuery) (licensing.CoverageAnswer, error) {
		return licensing.CoverageAnswer{}, errors.New("registry down")
	}
	res := NewRuleset(DefaultRuleConfig(), seedMarks).Evaluate(in)
	if !slices.ContainsFunc(res.Reasons, func(h Reason) bool { return h.Rule == RuleMarksWithoutLicence }) || len(res.Errors) == 0 {
		t.Fatalf("a failing registry: %+v", res)
	}
	in.Coverage = nil
	if res := NewRuleset(DefaultRuleConfig(), seedMarks).Evaluate(in); len(res.Reasons) == 0 {
		t.Fatalf("no coverage source: %+v", res)
	}
}

// TestInvalidQuestionIsARefusal: a listing whose category the registry does not know is not
// covered, and no error asks for a retry that could never succeed.
func TestInvalidQuestionIsARefusal(t *testing.T) {
	in := plain()
	in.Seller = independent
	in.Title, in.Territories = "Paris 2024 tee", []string{"ZZ"}
	res := NewRuleset(DefaultRuleConfig(), seedMarks).Evaluate(in)
	if len(res.Errors) != 0 || !slices.ContainsFunc(res.Reasons, func(h Reason) bool { return h.Rule == RuleMarksWithoutLicence }) {
		t.Fatalf("an invalid question: %+v", res)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(c *RuleConfig)
		fields []string
	}{
		{"Defaults", func(c *RuleConfig) {}, nil},
		{"WeightAbove100", func(c *RuleConfig) { c.Rules[RulePriceTooLow] = RuleSetting{Enabled: true, Weight: 101} }, []string{"rules.price_too_low.weight"}},
		{"NegativeWeight", func(c *RuleConfig) { c.Rules[RuleSellerStrikes] = RuleSetting{Weight: -1} }, []string{"rules.seller_strikes.weight"}},
		{"UnknownRule", func(c *RuleConfig) { c.Rules["nope"] = RuleSetting{} }, []string{"rules.nope"}},
		{"ParamOutOfBounds", func(c *RuleConfig) {
			c.Rules[RulePriceTooLow] = RuleSetting{Enabled: true, Weight: 30, Params: map[string]int{"max_share_percent": 0}}
		}, []string{"rules.price_too_low.params.max_share_percent"}},
		{"UnknownParam", func(c *RuleConfig) {
			c.Rules[RuleSellerStrikes] = RuleSetting{Enabled: true, Weight: 30, Params: map[string]int{"bogus": 1}}
		}, []string{"rules.seller_strikes.params.bogus"}},
		{"ThresholdsOutOfOrder", func(c *RuleConfig) { c.ReviewAt, c.BlockAt = 70, 30 }, []string{"block_at"}},
		{"ThresholdsEqual", func(c *RuleConfig) { c.ReviewAt, c.BlockAt = 50, 50 }, []string{"block_at"}},
		{"ThresholdOutOfRange", func(c *RuleConfig) { c.ReviewAt, c.BlockAt = 0, 101 }, []string{"review_at", "block_at"}},
		{"Radius", func(c *RuleConfig) { c.HashRadius = 40 }, []string{"hash_radius"}},
		{"RadiusBeyondTheIndex", func(c *RuleConfig) { c.HashRadius = imagematch.DefaultMatchConfig().Radius + 1 }, []string{"hash_radius"}},
		{"WordWithoutLetters", func(c *RuleConfig) { c.CounterfeitWords = append(c.CounterfeitWords, "!!!") }, []string{"counterfeit_words"}},
		{"WordTooLong", func(c *RuleConfig) { c.CounterfeitWords = []string{strings.Repeat("x", 101)} }, []string{"counterfeit_words"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultRuleConfig()
			tc.edit(&c)
			err := c.Validate()
			if tc.fields == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := fault.As(err)
			if !ok || e.Code != fault.Invalid {
				t.Fatalf("err = %v, want Invalid", err)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tc.fields) {
				t.Fatalf("fields %v, want %v (%v)", got, tc.fields, err)
			}
		})
	}
}

func TestValidateTidiesWords(t *testing.T) {
	c := DefaultRuleConfig()
	c.CounterfeitWords = []string{"  replica ", "Replica", "", "inspired   by"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.CounterfeitWords, []string{"replica", "inspired by"}) {
		t.Fatalf("words %q", c.CounterfeitWords)
	}
}

// BenchmarkEvaluate is one screening's rules over a typical listing: a 60-character title and
// a 1 KB description using marks, an official match, every rule enabled, the demo marks and
// the default word list (the coverage answers come from memory, as from licensing's
// snapshot).
//
//	go test -run '^$' -bench 'Evaluate|Fold' -benchmem ./detection/
func BenchmarkEvaluate(b *testing.B) {
	rs := NewRuleset(DefaultRuleConfig(), seedMarks)
	in := plain()
	in.Seller = independent
	in.Title = "Official P4ris 2024 Olympic mascot tee, premium cotton, all sizes"
	in.Description = strings.Repeat("Soft organic cotton tee printed in France with the Paris 2024 emblem. ", 14)
	in.Matches = []ImageMatch{{ImageID: 1, RefImageID: 2, Kind: RefOfficial, Distance: 4, Product: parisTee}}
	b.ReportAllocs()
	for b.Loop() {
		if res := rs.Evaluate(in); res.Verdict != VerdictBlock {
			b.Fatalf("verdict %s", res.Verdict)
		}
	}
}
