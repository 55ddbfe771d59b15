package detection

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"marketplace/detection/imagematch"
	"marketplace/internal/fault"
)

// RuleSetting is one rule's configuration: whether it runs, the points it adds to the score,
// and its parameters (integers; see RuleDef.Params for each rule's).
type RuleSetting struct {
	Enabled bool           `json:"enabled"`
	Weight  int            `json:"weight"`
	Params  map[string]int `json:"params,omitempty"`
}

// Param is a parameter's value, or its default when not set.
func (s RuleSetting) Param(name string) int { return s.Params[name] }

// RuleConfig is everything an analyst can change about screening without a release: each
// rule's setting, the score thresholds of the verdicts, the Hamming radius under which a photo
// matches a reference, and the counterfeit words. Version numbers each saved configuration;
// every screening records the version it used (0 is the built-in default).
type RuleConfig struct {
	Version          int64                  `json:"version"`
	Rules            map[string]RuleSetting `json:"rules"`
	ReviewAt         int                    `json:"review_at"`   // score from which a listing is held for review
	BlockAt          int                    `json:"block_at"`    // score from which it is blocked
	HashRadius       int                    `json:"hash_radius"` // largest Hamming distance (of 64 bits) that matches
	CounterfeitWords []string               `json:"counterfeit_words"`
}

// ParamDef describes a rule parameter: its meaning, bounds and default.
type ParamDef struct {
	Name        string
	Label       string
	Min, Max    int
	Default     int
	Description string
}

// RuleDef describes a rule for the configuration page and for validation.
type RuleDef struct {
	ID          string
	Name        string
	Description string
	Default     RuleSetting
	Params      []ParamDef
}

// RuleDefs is every rule with its default setting, in the order the page lists them.
var RuleDefs = []RuleDef{
	{ID: RuleOfficialPhotoUnlicensedSeller, Name: "Official photo, unlicensed seller",
		Description: "A photo matches an official product image and the seller is neither that product's licensee nor its authorised reseller for every country the listing ships to.",
		Default:     RuleSetting{Enabled: true, Weight: 80}},
	{ID: RuleKnownCounterfeitPhoto, Name: "Known counterfeit photo",
		Description: "A photo matches an image analysts confirmed as a counterfeit.",
		Default:     RuleSetting{Enabled: true, Weight: 90}},
	{ID: RuleRemovedListingPhoto, Name: "Photo of a removed listing",
		Description: "A photo matches a photo of a listing that was taken down.",
		Default:     RuleSetting{Enabled: true, Weight: 40}},
	{ID: RulePhotoUnreadable, Name: "Photo that cannot be checked",
		Description: "A photo could not be fingerprinted (not an image, too small, one flat colour), so it could not be compared with the references.",
		Default:     RuleSetting{Enabled: true, Weight: 30}},
	{ID: RuleMarksWithoutLicence, Name: "Marks without a licence",
		Description: "The title or description uses a property's marks (folded: 0lympic, P4ris, full-width, look-alike letters) and the seller holds no licence or authorisation for that property and category.",
		Default:     RuleSetting{Enabled: true, Weight: 50}},
	{ID: RuleLicenceSuspendedOrExpired, Name: "Licence suspended or expired",
		Description: "The licence the goods would be sold under is suspended, terminated, expired or not yet valid.",
		Default:     RuleSetting{Enabled: true, Weight: 70}},
	{ID: RuleTerritoryOutsideLicence, Name: "Territory outside the licence",
		Description: "The seller is licensed for the property, but the listing ships to or from a country its licence or authorisation does not cover.",
		Default:     RuleSetting{Enabled: true, Weight: 40}},
	{ID: RulePriceTooLow, Name: "Price too low",
		Description: "The price is under a share of the official product's price in the same currency.",
		Default:     RuleSetting{Enabled: true, Weight: 30, Params: map[string]int{"max_share_percent": 40}},
		Params:      []ParamDef{{Name: "max_share_percent", Label: "Share of the official price (%)", Min: 1, Max: 100, Default: 40, Description: "a price under this share of the official price fires the rule"}}},
	{ID: RuleCounterfeitWords, Name: "Counterfeit words",
		Description: "The title or description uses words that announce a copy (the word list below), in any language.",
		Default:     RuleSetting{Enabled: true, Weight: 40}},
	{ID: RuleNewSellerManyMarked, Name: "New seller, many marked listings",
		Description: "A recently created seller lists many items using Olympic marks in a short time.",
		Default:     RuleSetting{Enabled: true, Weight: 20, Params: map[string]int{"max_age_days": 14, "min_marked": 5, "window_days": 7}},
		Params: []ParamDef{
			{Name: "max_age_days", Label: "Seller younger than (days)", Min: 1, Max: 365, Default: 14},
			{Name: "min_marked", Label: "At least (marked listings)", Min: 1, Max: 1000, Default: 5},
			{Name: "window_days", Label: "Within (days)", Min: 1, Max: 365, Default: 7},
		}},
	{ID: RuleSellerStrikes, Name: "Seller strikes",
		Description: "The seller has strikes from earlier decisions; the weight counts once per strike.",
		Default:     RuleSetting{Enabled: true, Weight: 15, Params: map[string]int{"max_strikes": 3}},
		Params:      []ParamDef{{Name: "max_strikes", Label: "Strikes counted at most", Min: 1, Max: 10, Default: 3}}},
}

// RuleDefByID returns a rule's definition.
func RuleDefByID(id string) (RuleDef, bool) {
	i := slices.IndexFunc(RuleDefs, func(d RuleDef) bool { return d.ID == id })
	if i < 0 {
		return RuleDef{}, false
	}
	return RuleDefs[i], true
}

// DefaultCounterfeitWords are words that announce a copy, in several languages; each is
// folded like the marks, so "REPL1CA" and "réplique" are found too.
var DefaultCounterfeitWords = []string{
	"replica", "1:1", "AAA", "inspired by", "mirror quality", "fake", "knockoff", "not original",
	"réplique", "copie", "imitation", "contrefaçon",
	"Replik", "Nachbildung", "Fälschung", "Kopie",
	"réplica", "imitación", "falsificación",
	"replica esatta", "imitazione", "contraffatto",
	"replika", "podróbka", "реплика", "копия", "подделка",
	"高仿", "复刻", "仿冒", "A货", "山寨",
	"レプリカ", "コピー品", "偽物",
	"짝퉁", "레플리카",
}

// Limits of a configuration.
const (
	maxWords      = 500
	maxWordLength = 100
)

// maxHashRadius is the index's candidate radius (DefaultMatchConfig): the matcher returns no
// pair further apart, so the rules' radius can only narrow what counts as a match.
var maxHashRadius = imagematch.DefaultMatchConfig().Radius

// DefaultRuleConfig is the built-in configuration (version 0), used until an analyst saves one.
func DefaultRuleConfig() RuleConfig {
	c := RuleConfig{Rules: map[string]RuleSetting{}, ReviewAt: 30, BlockAt: 70, HashRadius: 10,
		CounterfeitWords: slices.Clone(DefaultCounterfeitWords)}
	for _, d := range RuleDefs {
		s := d.Default
		s.Params = maps.Clone(s.Params)
		c.Rules[d.ID] = s
	}
	return c
}

// Rule is a rule's setting, with the default for a rule the configuration does not name and
// default values for parameters it leaves out.
func (c *RuleConfig) Rule(id string) RuleSetting {
	d, known := RuleDefByID(id)
	s, ok := c.Rules[id]
	if !ok {
		s = d.Default
	}
	if known && len(d.Params) > 0 {
		params := make(map[string]int, len(d.Params))
		for _, p := range d.Params {
			params[p.Name] = p.Default
			if v, ok := s.Params[p.Name]; ok {
				params[p.Name] = v
			}
		}
		s.Params = params
	}
	return s
}

// Clone returns a deep copy.
func (c RuleConfig) Clone() RuleConfig {
	out := c
	out.Rules = make(map[string]RuleSetting, len(c.Rules))
	for id, s := range c.Rules {
		s.Params = maps.Clone(s.Params)
		out.Rules[id] = s
	}
	out.CounterfeitWords = slices.Clone(c.CounterfeitWords)
	return out
}

// normalise fills in every rule (defaults for those missing) and tidies the word list
// (trimmed, empty lines and case-insensitive duplicates dropped).
func (c *RuleConfig) normalise() {
	rules := make(map[string]RuleSetting, len(RuleDefs))
	for id, s := range c.Rules {
		rules[id] = s
	}
	for _, d := range RuleDefs {
		rules[d.ID] = c.Rule(d.ID)
		if s, ok := c.Rules[d.ID]; ok {
			// Keep unknown parameters visible to validation.
			r := rules[d.ID]
			for k, v := range s.Params {
				if _, known := r.Params[k]; !known {
					r.Params[k] = v
				}
			}
		}
	}
	c.Rules = rules
	var words []string
	seen := map[string]bool{}
	for _, w := range c.CounterfeitWords {
		w = strings.Join(strings.Fields(w), " ")
		k := strings.ToLower(w)
		if w == "" || seen[k] {
			continue
		}
		seen[k] = true
		words = append(words, w)
	}
	c.CounterfeitWords = words
}

// Validate normalises c and checks it: every rule known, weights 0 to 100, parameters
// within their bounds, 0 < review_at < block_at ≤ 100, a hash radius of 0 to the matcher's
// radius (10 bits), at most
// 500 counterfeit words of at most 100 characters, each with a letter or digit. Returns
// Invalid naming each bad field ("rules.ID.weight", "rules.ID.params.NAME", "review_at",
// "block_at", "hash_radius", "counterfeit_words").
func (c *RuleConfig) Validate() error {
	c.normalise()
	var bad fault.Fields
	ids := slices.Sorted(maps.Keys(c.Rules))
	for _, id := range ids {
		s := c.Rules[id]
		d, ok := RuleDefByID(id)
		if !ok {
			bad.Add("rules."+id, "unknown rule %q", id)
			continue
		}
		if s.Weight < 0 || s.Weight > 100 {
			bad.Add("rules."+id+".weight", "must be between 0 and 100, not %d", s.Weight)
		}
		for _, name := range slices.Sorted(maps.Keys(s.Params)) {
			v := s.Params[name]
			i := slices.IndexFunc(d.Params, func(p ParamDef) bool { return p.Name == name })
			if i < 0 {
				bad.Add("rules."+id+".params."+name, "rule %s has no parameter %q", id, name)
				continue
			}
			if p := d.Params[i]; v < p.Min || v > p.Max {
				bad.Add("rules."+id+".params."+name, "must be between %d and %d, not %d", p.Min, p.Max, v)
			}
		}
	}
	if c.ReviewAt < 1 || c.ReviewAt > 100 {
		bad.Add("review_at", "must be between 1 and 100, not %d", c.ReviewAt)
	}
	if c.BlockAt < 1 || c.BlockAt > 100 {
		bad.Add("block_at", "must be between 1 and 100, not %d", c.BlockAt)
	} else if c.ReviewAt >= c.BlockAt {
		bad.Add("block_at", "must be above the review threshold (%d), not %d", c.ReviewAt, c.BlockAt)
	}
	if c.HashRadius < 0 || c.HashRadius > maxHashRadius {
		bad.Add("hash_radius", "must be between 0 and %d bits, not %d", maxHashRadius, c.HashRadius)
	}
	if len(c.CounterfeitWords) > maxWords {
		bad.Add("counterfeit_words", "at most %d words, not %d", maxWords, len(c.CounterfeitWords))
	}
	for _, w := range c.CounterfeitWords {
		if utf8.RuneCountInString(w) > maxWordLength {
			bad.Add("counterfeit_words", "%q is longer than %d characters", w[:min(len(w), 20)]+"…", maxWordLength)
		} else if _, ok := compilePhrase(w); !ok {
			bad.Add("counterfeit_words", "%q has no letter or digit", w)
		}
	}
	return bad.Err("the rule configuration is not valid")
}

// String summarises the configuration for logs.
func (c RuleConfig) String() string {
	return fmt.Sprintf("rules v%d (review at %d, block at %d, radius %d, %d words)", c.Version, c.ReviewAt, c.BlockAt, c.HashRadius, len(c.CounterfeitWords))
}
