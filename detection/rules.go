package detection

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/licensing"
)

// The rules a screening evaluates. Each is a pure function of a ScreeningInput and the rule
// configuration; a rule that fires adds its weight to the score and a sentence saying why.
const (
	RuleOfficialPhotoUnlicensedSeller = "official_photo_unlicensed_seller"
	RuleKnownCounterfeitPhoto         = "known_counterfeit_photo"
	RuleMarksWithoutLicence           = "marks_without_licence"
	RulePriceTooLow                   = "price_too_low"
	RuleCounterfeitWords              = "counterfeit_words"
	RuleNewSellerManyMarked           = "new_seller_many_marked"
	RuleSellerStrikes                 = "seller_strikes"
	RuleTerritoryOutsideLicence       = "territory_outside_licence"
	RuleLicenceSuspendedOrExpired     = "licence_suspended_or_expired"
	RuleRemovedListingPhoto           = "removed_listing_photo"
	RulePhotoUnreadable               = "photo_unreadable"
)

// ScreeningInput is everything the rules look at for one listing. The pipeline fills it from
// the catalogue, the matcher and the registry; the rules read nothing else.
type ScreeningInput struct {
	ListingID   int64
	Title       string
	Description string
	Price       money.Money
	Property    string   // the property the listing names, "" if none
	Category    string   // the listing's category, "" if none
	Territories []string // countries it ships to (ISO 3166-1 alpha-2), or WORLD
	ShipsFrom   string
	Seller      SellerFacts
	// Claimed is the product the listing claims to be (by SKU or product id), nil if none.
	Claimed *ProductFacts
	// Matches are the reference images the listing's photos matched, nearest first.
	Matches []ImageMatch
	// Unreadable are the listing's photos that could not be fingerprinted, with why.
	Unreadable []UnreadablePhoto
	// Coverage asks the registry's coverage question (licensing.Service.Coverage); the
	// screening asks it once per distinct question. Nil means every question is answered
	// "no licence", which fails closed.
	Coverage CoverageFunc
}

// CoverageFunc answers a coverage question; the pipeline passes licensing.Service.Coverage.
type CoverageFunc func(q licensing.CoverageQuery) (licensing.CoverageAnswer, error)

// SellerFacts is what the rules know about the seller.
type SellerFacts struct {
	ID         int64
	Name       string
	Kind       string // catalog.SellerKind: licensee, reseller, independent
	LicenseeID int64  // the seller's own licensee, 0 if none
	AgeDays    int    // days since the seller's account was created
	Strikes    int
	// MarkedListings counts the seller's other listings whose texts use a property's marks,
	// created within the new_seller_many_marked rule's window_days.
	MarkedListings int
}

// ProductFacts is an official product a listing matched or claims.
type ProductFacts struct {
	ID           int64
	Title        string
	LicenseeID   int64
	LicenseeName string
	Property     string
	Category     string
	// OfficialPrice is the product's price in the listing's currency; zero Amount when it has
	// none in that currency.
	OfficialPrice money.Money
}

// UnreadablePhoto is a listing photo that could not be fingerprinted (not an image, too
// small, flat), so it could not be compared with the references.
type UnreadablePhoto struct {
	ImageID int64
	Error   string
}

// ImageMatch is a listing photo that matched a reference image.
type ImageMatch struct {
	ImageID    int64  // the listing's image
	RefImageID int64  // the reference image
	Kind       string // RefOfficial, RefCounterfeit or RefRemovedListing
	Distance   int    // Hamming distance of the best hash pair
	// Product is the official product (RefOfficial).
	Product *ProductFacts
	// CaseID is the analyst case that confirmed a counterfeit (RefCounterfeit), 0 if unknown.
	CaseID int64
	// ListingID and SellerID are the removed listing and its seller (RefRemovedListing).
	ListingID, SellerID int64
}

// Result is the rules' judgement of a listing: the rules that fired (Reasons, in rule
// order), their score (the sum of their weights, at most 100), the verdict for that score,
// and the configuration version used.
type Result struct {
	Score        int         `json:"score"`
	Verdict      string      `json:"verdict"`
	Reasons      []Reason    `json:"reasons"`
	Marks        []MarkHit   `json:"marks,omitempty"`
	Words        []PhraseHit `json:"words,omitempty"`
	RulesVersion int64       `json:"rules_version"`
	// Errors are coverage questions that could not be answered; each counted as a refusal.
	Errors []string `json:"errors,omitempty"`
}

// Ruleset is a rule configuration compiled for evaluation, with the marks of every property:
// what RuleStore.Current returns. It is immutable and safe for concurrent use.
type Ruleset struct {
	Config RuleConfig
	marks  *MarkIndex
	words  *PhraseList
}

// NewRuleset compiles cfg (which must be valid: see RuleConfig.Validate) and the marks.
func NewRuleset(cfg RuleConfig, marks []Mark) *Ruleset {
	return &Ruleset{Config: cfg, marks: NewMarkIndex(marks), words: NewPhraseList(cfg.CounterfeitWords)}
}

// FindMarks returns the marks used in a title and description (the pipeline uses it to count
// a seller's marked listings).
func (rs *Ruleset) FindMarks(title, description string) []MarkHit {
	return mergeMarks(rs.marks.Find(FoldText(title)), rs.marks.Find(FoldText(description)))
}

func mergeMarks(a, b []MarkHit) []MarkHit {
	out := slices.Clone(a)
	for _, h := range b {
		if !slices.ContainsFunc(out, func(x MarkHit) bool { return x.Property == h.Property }) {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(x, y MarkHit) int { return strings.Compare(x.Property, y.Property) })
	return out
}

// Verdict is the verdict for a score under the configured thresholds.
func (c *RuleConfig) Verdict(score int) string {
	switch {
	case score >= c.BlockAt:
		return VerdictBlock
	case score >= c.ReviewAt:
		return VerdictReview
	}
	return VerdictAllow
}

// Evaluate runs every enabled rule over in.
func (rs *Ruleset) Evaluate(in ScreeningInput) Result {
	ev := &evaluation{rs: rs, in: &in, answers: map[licensing.CoverageQuery]licensing.CoverageAnswer{}}
	title, desc := FoldText(in.Title), FoldText(in.Description)
	ev.marks = mergeMarks(rs.marks.Find(title), rs.marks.Find(desc))
	ev.words = rs.words.Find(title)
	for _, w := range rs.words.Find(desc) {
		if !slices.ContainsFunc(ev.words, func(x PhraseHit) bool { return x.Phrase == w.Phrase }) {
			ev.words = append(ev.words, w)
		}
	}
	res := Result{Marks: ev.marks, Words: ev.words, RulesVersion: rs.Config.Version}
	for _, r := range ruleFuncs {
		s := rs.Config.Rule(r.id)
		if !s.Enabled {
			continue
		}
		ev.setting = s
		if weight, detail, ok := r.fn(ev); ok {
			res.Reasons = append(res.Reasons, Reason{Rule: r.id, Weight: weight, Detail: detail})
			res.Score += weight
		}
	}
	res.Score = max(0, min(res.Score, 100))
	res.Verdict = rs.Config.Verdict(res.Score)
	res.Errors = ev.errors
	return res
}

// evaluation is one Evaluate call: the input, what was found in its texts, and the coverage
// answers asked so far.
type evaluation struct {
	rs      *Ruleset
	in      *ScreeningInput
	setting RuleSetting
	marks   []MarkHit
	words   []PhraseHit
	answers map[licensing.CoverageQuery]licensing.CoverageAnswer
	errors  []string
}

// param is the current rule's parameter name.
func (ev *evaluation) param(name string) int { return ev.setting.Param(name) }

// ruleFunc returns the weight and the detail of a hit, and whether the rule fired.
type ruleFunc func(ev *evaluation) (int, string, bool)

// ruleFuncs is every rule, in the order hits are listed.
var ruleFuncs = []struct {
	id string
	fn ruleFunc
}{
	{RuleOfficialPhotoUnlicensedSeller, officialPhotoUnlicensedSeller},
	{RuleKnownCounterfeitPhoto, knownCounterfeitPhoto},
	{RuleRemovedListingPhoto, removedListingPhoto},
	{RulePhotoUnreadable, photoUnreadable},
	{RuleMarksWithoutLicence, marksWithoutLicence},
	{RuleLicenceSuspendedOrExpired, licenceSuspendedOrExpired},
	{RuleTerritoryOutsideLicence, territoryOutsideLicence},
	{RulePriceTooLow, priceTooLow},
	{RuleCounterfeitWords, counterfeitWords},
	{RuleNewSellerManyMarked, newSellerManyMarked},
	{RuleSellerStrikes, sellerStrikes},
}

// ask answers a coverage question, once per distinct question. An error or a missing
// CoverageFunc is a refusal (fail closed), noted in the result's Errors so the caller may
// retry instead; a question the registry finds invalid (fault.Invalid: an unknown property,
// category or country) is a plain refusal, as retrying cannot help.
func (ev *evaluation) ask(q licensing.CoverageQuery) licensing.CoverageAnswer {
	if a, ok := ev.answers[q]; ok {
		return a
	}
	var a licensing.CoverageAnswer
	var err error
	if ev.in.Coverage == nil {
		err = fmt.Errorf("no coverage source")
	} else {
		a, err = ev.in.Coverage(q)
	}
	switch {
	case fault.CodeOf(err) == fault.Invalid:
		// A question the registry refuses (a property, category or country it does not
		// know) has no licence for an answer; asking again will not change that.
		a = licensing.CoverageAnswer{Reason: licensing.ReasonNoLicence, Detail: "No licence can cover it: " + err.Error() + "."}
	case err != nil:
		ev.errors = append(ev.errors, fmt.Sprintf("coverage %s %s %s: %v", q.Property, q.Category, q.Country, err))
		a = licensing.CoverageAnswer{Reason: licensing.ReasonNoLicence, Detail: "The registry could not answer (" + err.Error() + ")."}
	}
	ev.answers[q] = a
	return a
}

// sellerQuery is the coverage question for the listing's seller.
func (ev *evaluation) sellerQuery(property, category, country string) licensing.CoverageQuery {
	return licensing.CoverageQuery{SellerID: ev.in.Seller.ID, LicenseeID: ev.in.Seller.LicenseeID,
		Property: property, Category: category, Country: country}
}

// countries is where the listing ships to, for coverage questions: its territories, or the
// country it ships from when it ships worldwide (the territory rule judges WORLD itself).
func (ev *evaluation) countries() []string {
	var out []string
	for _, t := range ev.in.Territories {
		if t != licensing.World && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 && ev.in.ShipsFrom != "" {
		out = append(out, ev.in.ShipsFrom)
	}
	return out
}

func (ev *evaluation) worldwide() bool { return slices.Contains(ev.in.Territories, licensing.World) }

// radius is the configured Hamming radius; matches further away are ignored.
func (ev *evaluation) within(m *ImageMatch) bool { return m.Distance <= ev.rs.Config.HashRadius }

// sellerName names the seller in a sentence.
func (ev *evaluation) sellerName() string {
	if ev.in.Seller.Name != "" {
		return fmt.Sprintf("seller %q (%d)", ev.in.Seller.Name, ev.in.Seller.ID)
	}
	return "seller " + strconv.FormatInt(ev.in.Seller.ID, 10)
}

func productName(p *ProductFacts) string {
	if p.Title != "" {
		return fmt.Sprintf("%q (%d)", p.Title, p.ID)
	}
	return strconv.FormatInt(p.ID, 10)
}

func licenseeName(p *ProductFacts) string {
	if p.LicenseeName != "" {
		return fmt.Sprintf("%q", p.LicenseeName)
	}
	return strconv.FormatInt(p.LicenseeID, 10)
}

// statusReason reports the coverage reasons about a licence's status or term.
func statusReason(reason string) bool {
	switch reason {
	case licensing.ReasonLicenceExpired, licensing.ReasonLicenceNotYetValid, licensing.ReasonLicenceSuspended, licensing.ReasonLicenceTerminated:
		return true
	}
	return false
}

// officialPhotoUnlicensedSeller: a photo matches an official product image, and the seller
// is neither that product's licensee nor its authorised reseller for every country the
// listing ships to. A refusal because the licence itself is suspended or expired is left to
// licence_suspended_or_expired.
func officialPhotoUnlicensedSeller(ev *evaluation) (int, string, bool) {
	for i := range ev.in.Matches {
		m := &ev.in.Matches[i]
		if m.Kind != RefOfficial || m.Product == nil || !ev.within(m) {
			continue
		}
		p := m.Product
		if ev.in.Seller.LicenseeID != 0 && ev.in.Seller.LicenseeID == p.LicenseeID {
			continue
		}
		var missing []string
		for _, country := range ev.countries() {
			a := ev.ask(ev.sellerQuery(p.Property, p.Category, country))
			if a.Allowed && a.Licence != nil && a.Licence.LicenseeID == p.LicenseeID {
				continue
			}
			if !a.Allowed && statusReason(a.Reason) {
				continue
			}
			missing = append(missing, country)
		}
		if len(missing) == 0 {
			continue
		}
		return ev.setting.Weight, fmt.Sprintf("Photo matches official product %s of licensee %s at distance %d; %s is not %s nor its authorised reseller for %s.",
			productName(p), licenseeName(p), m.Distance, ev.sellerName(), licenseeName(p), strings.Join(missing, ", ")), true
	}
	return 0, "", false
}

// knownCounterfeitPhoto: a photo matches an image analysts confirmed as a counterfeit.
func knownCounterfeitPhoto(ev *evaluation) (int, string, bool) {
	for i := range ev.in.Matches {
		m := &ev.in.Matches[i]
		if m.Kind != RefCounterfeit || !ev.within(m) {
			continue
		}
		d := fmt.Sprintf("Photo %d matches known counterfeit image %d at distance %d", m.ImageID, m.RefImageID, m.Distance)
		if m.CaseID != 0 {
			d += fmt.Sprintf(" (confirmed in case %d)", m.CaseID)
		}
		return ev.setting.Weight, d + ".", true
	}
	return 0, "", false
}

// removedListingPhoto: a photo matches a photo of a listing that was taken down.
func removedListingPhoto(ev *evaluation) (int, string, bool) {
	for i := range ev.in.Matches {
		m := &ev.in.Matches[i]
		if m.Kind != RefRemovedListing || !ev.within(m) || m.ListingID == ev.in.ListingID {
			continue
		}
		whose := fmt.Sprintf("seller %d's", m.SellerID)
		if m.SellerID == ev.in.Seller.ID {
			whose = "this seller's own"
		}
		return ev.setting.Weight, fmt.Sprintf("Photo %d matches a photo of %s removed listing %d at distance %d.",
			m.ImageID, whose, m.ListingID, m.Distance), true
	}
	return 0, "", false
}

// category is the category to ask coverage about: the listing's, else its claimed or
// matched product's.
func (ev *evaluation) category() string {
	if ev.in.Category != "" {
		return ev.in.Category
	}
	if p := ev.product(); p != nil {
		return p.Category
	}
	return ""
}

// product is the official product the listing claims, else the nearest official match.
func (ev *evaluation) product() *ProductFacts {
	if ev.in.Claimed != nil {
		return ev.in.Claimed
	}
	for i := range ev.in.Matches {
		if m := &ev.in.Matches[i]; m.Kind == RefOfficial && m.Product != nil && ev.within(m) {
			return m.Product
		}
	}
	return nil
}

// marksWithoutLicence: the title or description uses a property's marks and the seller holds
// no licence (nor an authorisation) for that property and category. Refusals for a territory
// or a licence's status have rules of their own.
func marksWithoutLicence(ev *evaluation) (int, string, bool) {
	category := ev.category()
	var parts []string
	for _, h := range ev.marks {
		found := fmt.Sprintf("uses %q (mark %q of %s)", h.Found, h.Mark, h.Property)
		if category == "" {
			parts = append(parts, found+", and names no category, so no licence can cover it")
			continue
		}
		for _, country := range ev.countries() {
			a := ev.ask(ev.sellerQuery(h.Property, category, country))
			if !a.Allowed && (a.Reason == licensing.ReasonNoLicence || a.Reason == licensing.ReasonCategoryNotCovered) {
				parts = append(parts, found+" for "+country+": "+a.Detail)
				break
			}
		}
	}
	if len(parts) == 0 {
		return 0, "", false
	}
	return ev.setting.Weight, "The listing " + strings.Join(parts, "; ") + "", true
}

// listingProperties are the properties the listing is about: the one it names, its
// product's, and those whose marks it uses.
func (ev *evaluation) listingProperties() []string {
	var out []string
	add := func(p string) {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	add(ev.in.Property)
	if p := ev.product(); p != nil {
		add(p.Property)
	}
	for _, h := range ev.marks {
		add(h.Property)
	}
	return out
}

// licenceSuspendedOrExpired: the licence the goods would be sold under is suspended,
// terminated, expired or not yet valid: the seller's own (or its licensor's) for the
// listing's property, or the claimed or matched product's licensee's.
func licenceSuspendedOrExpired(ev *evaluation) (int, string, bool) {
	category := ev.category()
	if category == "" {
		return 0, "", false
	}
	var details []string
	note := func(a licensing.CoverageAnswer) {
		if !a.Allowed && statusReason(a.Reason) && !slices.Contains(details, a.Detail) {
			details = append(details, a.Detail)
		}
	}
	countries := ev.countries()
	for _, property := range ev.listingProperties() {
		for _, c := range countries {
			note(ev.ask(ev.sellerQuery(property, category, c)))
		}
	}
	if p := ev.product(); p != nil && p.LicenseeID != 0 {
		for _, c := range countries {
			note(ev.ask(licensing.CoverageQuery{LicenseeID: p.LicenseeID, Property: p.Property, Category: p.Category, Country: c}))
		}
	}
	if len(details) == 0 {
		return 0, "", false
	}
	return ev.setting.Weight, strings.Join(details, " "), true
}

// territoryOutsideLicence: the seller holds a licence or authorisation for the listing's
// property, but the listing ships to, or from, a country it does not cover (WORLD is outside
// every licence that does not itself say WORLD).
func territoryOutsideLicence(ev *evaluation) (int, string, bool) {
	category := ev.category()
	if category == "" {
		return 0, "", false
	}
	var parts []string
	for _, property := range ev.listingProperties() {
		var to []string
		var licence *licensing.Licence
		for _, c := range ev.countries() {
			a := ev.ask(ev.sellerQuery(property, category, c))
			if a.Allowed {
				licence = cmp.Or(licence, a.Licence)
			} else if a.Reason == licensing.ReasonTerritoryNotCovered {
				to = append(to, c)
				licence = cmp.Or(licence, a.Licence)
			}
		}
		if ev.worldwide() && licence != nil && !slices.Contains(licence.Territories, licensing.World) {
			to = append(to, licensing.World)
		}
		from := ""
		if ev.in.ShipsFrom != "" && !slices.Contains(ev.in.Territories, ev.in.ShipsFrom) {
			if a := ev.ask(ev.sellerQuery(property, category, ev.in.ShipsFrom)); a.Reason == licensing.ReasonTerritoryNotCovered {
				from = ev.in.ShipsFrom
				licence = cmp.Or(licence, a.Licence)
			}
		}
		if len(to) == 0 && from == "" {
			continue
		}
		s := property + ": "
		if licence != nil {
			s += "licence " + licence.Number + " covers " + strings.Join(licence.Territories, ", ")
		} else {
			s += "the seller's authorisation does not cover them"
		}
		if len(to) > 0 {
			s += "; the listing ships to " + strings.Join(to, ", ")
		}
		if from != "" {
			s += "; it ships from " + from
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return 0, "", false
	}
	return ev.setting.Weight, "Outside the licence's territories: " + strings.Join(parts, "; ") + ".", true
}

// priceTooLow: the price is under a share (max_share_percent) of the official product's
// price in the same currency.
func priceTooLow(ev *evaluation) (int, string, bool) {
	p := ev.product()
	if p == nil || p.OfficialPrice.Amount <= 0 || p.OfficialPrice.Currency != ev.in.Price.Currency || ev.in.Price.Amount <= 0 {
		return 0, "", false
	}
	share := ev.param("max_share_percent")
	if ev.in.Price.Amount*100 >= p.OfficialPrice.Amount*int64(share) {
		return 0, "", false
	}
	pct := ev.in.Price.Amount * 100 / p.OfficialPrice.Amount
	return ev.setting.Weight, fmt.Sprintf("Price %s is %d%% of the official price %s of product %s (under %d%%).",
		ev.in.Price, pct, p.OfficialPrice, productName(p), share), true
}

// counterfeitWords: the title or description uses words that announce a copy.
func counterfeitWords(ev *evaluation) (int, string, bool) {
	if len(ev.words) == 0 {
		return 0, "", false
	}
	var quoted []string
	for _, w := range ev.words {
		q := strconv.Quote(w.Found)
		if !strings.EqualFold(w.Found, w.Phrase) {
			q += " (" + strconv.Quote(w.Phrase) + ")"
		}
		quoted = append(quoted, q)
	}
	return ev.setting.Weight, "The listing uses counterfeit words: " + strings.Join(quoted, ", ") + ".", true
}

// newSellerManyMarked: a seller younger than max_age_days lists this and at least
// min_marked-1 other listings using marks within window_days.
func newSellerManyMarked(ev *evaluation) (int, string, bool) {
	s := ev.in.Seller
	if len(ev.marks) == 0 || s.AgeDays >= ev.param("max_age_days") {
		return 0, "", false
	}
	n := s.MarkedListings + 1
	if n < ev.param("min_marked") {
		return 0, "", false
	}
	return ev.setting.Weight, fmt.Sprintf("The seller's account is %d days old and has listed %d items using Olympic marks in %d days (at least %d from accounts younger than %d days are suspicious).",
		s.AgeDays, n, ev.param("window_days"), ev.param("min_marked"), ev.param("max_age_days")), true
}

// sellerStrikes: the seller has strikes from earlier decisions; the weight counts per strike,
// up to max_strikes.
func sellerStrikes(ev *evaluation) (int, string, bool) {
	n := ev.in.Seller.Strikes
	if n <= 0 {
		return 0, "", false
	}
	counted := min(n, max(ev.param("max_strikes"), 1))
	return ev.setting.Weight * counted, fmt.Sprintf("The seller has %d strike(s) from earlier decisions (%d counted, %d points each).", n, counted, ev.setting.Weight), true
}

// photoUnreadable: a photo could not be fingerprinted, so nothing vouches for it.
func photoUnreadable(ev *evaluation) (int, string, bool) {
	if len(ev.in.Unreadable) == 0 {
		return 0, "", false
	}
	var parts []string
	for _, u := range ev.in.Unreadable {
		parts = append(parts, fmt.Sprintf("photo %d (%s)", u.ImageID, u.Error))
	}
	return ev.setting.Weight, "Could not check " + strings.Join(parts, ", ") + ".", true
}
