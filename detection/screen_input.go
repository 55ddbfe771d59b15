package detection

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"marketplace/catalog"
	"marketplace/internal/money"
	"marketplace/licensing"

	"github.com/jackc/pgx/v5"
)

// RulesSource returns the ruleset a screening judges with (the analysts' current
// configuration and the properties' marks). The rules store is one; WithRules sets it.
type RulesSource func(ctx context.Context) (*Ruleset, error)

// WithRules sets where screenings get their ruleset. Without it, screenings use
// DefaultRuleConfig with the registry's marks.
func WithRules(src RulesSource) Option { return func(s *Service) { s.rules = src } }

// WithRuleStore judges by the analysts' rules in rs, and re-screens every listing in the
// transaction that saves a change to them.
func WithRuleStore(rs *RuleStore) Option {
	return func(s *Service) {
		s.rules = rs.Current
		rs.OnChange(func(ctx context.Context, tx pgx.Tx, _, _ RuleConfig) error { return s.RescreenAll(ctx, tx) })
	}
}

// defaultRules is DefaultRuleConfig with the registry's marks, rebuilt when older than a
// minute (a new property's marks count within that).
type defaultRules struct {
	reg *licensing.Service
	mu  sync.Mutex
	rs  *Ruleset
	at  time.Time
}

func (d *defaultRules) current(ctx context.Context) (*Ruleset, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rs != nil && time.Since(d.at) < time.Minute {
		return d.rs, nil
	}
	lm, err := d.reg.PropertyMarks(ctx)
	if err != nil {
		return nil, err
	}
	marks := make([]Mark, len(lm))
	for i, m := range lm {
		marks[i] = Mark(m)
	}
	d.rs, d.at = NewRuleset(DefaultRuleConfig(), marks), time.Now()
	return d.rs, nil
}

// judge builds the rules' input from the evidence and evaluates it. A coverage question the
// registry could not answer is an error (the attempt is retried), not a refusal that would
// block a listing for a transient fault.
func (s *Service) judge(ctx context.Context, ev *Evidence) (Judgement, error) {
	rs, err := s.rules(ctx)
	if err != nil {
		return Judgement{}, fmt.Errorf("rules: %w", err)
	}
	in, err := s.screeningInput(ctx, rs, ev)
	if err != nil {
		return Judgement{}, err
	}
	res := rs.Evaluate(in)
	if len(res.Errors) > 0 {
		return Judgement{}, fmt.Errorf("coverage questions unanswered: %s", strings.Join(res.Errors, "; "))
	}
	j := Judgement{Score: res.Score, Verdict: res.Verdict, Reasons: res.Reasons, RulesVersion: res.RulesVersion}
	if j.Reasons == nil {
		j.Reasons = []Reason{}
	}
	return j, nil
}

// screeningInput fills the rules' input: the listing, its seller, the product it claims,
// every reference its photos matched (official ones with their product), and the coverage
// question.
func (s *Service) screeningInput(ctx context.Context, rs *Ruleset, ev *Evidence) (ScreeningInput, error) {
	l := ev.Listing
	in := ScreeningInput{ListingID: l.ID, Title: l.Title, Description: l.Description, Price: l.Price,
		Property: l.Property, Category: l.Category, Territories: l.Territories, ShipsFrom: l.ShipsFrom}
	seller := ev.Seller
	in.Seller = SellerFacts{ID: seller.ID, Name: seller.Name, Kind: string(seller.Kind), LicenseeID: seller.LicenseeID,
		AgeDays: int(s.now().Sub(seller.CreatedAt).Hours() / 24), Strikes: seller.Strikes}
	if seller.Kind != catalog.SellerLicensee {
		rule := rs.Config.Rule(RuleNewSellerManyMarked)
		if rule.Enabled && in.Seller.AgeDays < rule.Param("max_age_days") && len(rs.FindMarks(l.Title, l.Description)) > 0 {
			n, err := s.markedListings(ctx, rs, l, rule.Param("window_days"))
			if err != nil {
				return in, err
			}
			in.Seller.MarkedListings = n
		}
	}
	products := map[int64]*ProductFacts{}
	product := func(id int64) (*ProductFacts, error) {
		if p, ok := products[id]; ok {
			return p, nil
		}
		p, err := s.productFacts(ctx, id, l.Price.Currency)
		if err != nil {
			return nil, err
		}
		products[id] = p
		return p, nil
	}
	if l.ProductID != 0 {
		p, err := product(l.ProductID)
		if err != nil {
			return in, err
		}
		in.Claimed = p
		if l.ClaimedSKU != "" {
			// A listing that names a SKU is judged against that variant's price.
			if price, ok := s.variantPrice(ctx, l.ProductID, l.ClaimedSKU, l.Price.Currency); ok {
				claimed := *p
				claimed.OfficialPrice = price
				in.Claimed = &claimed
			}
		}
	}
	for _, ph := range ev.Photos {
		if ph.Error != "" {
			in.Unreadable = append(in.Unreadable, UnreadablePhoto{ImageID: ph.ImageID, Error: ph.Error})
		}
		for _, m := range ph.Matches {
			im := ImageMatch{ImageID: ph.ImageID, RefImageID: m.ImageID, Kind: m.Kind, Distance: m.Distance,
				CaseID: m.CaseID, ListingID: m.ListingID, SellerID: m.SellerID}
			if m.Kind == RefOfficial {
				p, err := product(m.ProductID)
				if err != nil {
					return in, err
				}
				im.Product = p
			}
			in.Matches = append(in.Matches, im)
		}
	}
	// Nearest first, across photos.
	sortMatches(in.Matches)
	reg := s.catalog.Licensing()
	in.Coverage = func(q licensing.CoverageQuery) (licensing.CoverageAnswer, error) { return reg.Coverage(ctx, q) }
	return in, nil
}

func sortMatches(ms []ImageMatch) {
	for i := 1; i < len(ms); i++ { // insertion sort: stable, and the lists are short
		for j := i; j > 0 && ms[j].Distance < ms[j-1].Distance; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// productFacts is what the rules know about an official product: its title, licensee,
// property, category and price in currency (zero when it has none there).
func (s *Service) productFacts(ctx context.Context, id int64, currency string) (*ProductFacts, error) {
	p, err := s.catalog.Product(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("product %d: %w", id, err)
	}
	f := &ProductFacts{ID: p.ID, Title: p.Title(), LicenseeID: p.LicenseeID, Property: p.Property, Category: p.Category}
	if price, ok := p.Price(currency); ok {
		f.OfficialPrice = price
	}
	lic, err := s.catalog.Licensing().Licensee(ctx, p.LicenseeID)
	if err != nil {
		return nil, fmt.Errorf("licensee %d: %w", p.LicenseeID, err)
	}
	f.LicenseeName = lic.Name
	return f, nil
}

// variantPrice is the price in currency of product productID's variant sku.
func (s *Service) variantPrice(ctx context.Context, productID int64, sku, currency string) (money.Money, bool) {
	p, err := s.catalog.Product(ctx, productID)
	if err != nil {
		return money.Money{}, false
	}
	v, ok := p.Variant(sku)
	if !ok {
		return money.Money{}, false
	}
	return v.Price(currency)
}

// markedScanLimit bounds how many of a young seller's listings are read to count the marked
// ones: a young account with more listings than that counts as having at least this many.
const markedScanLimit = 2000

// markedListings counts the seller's other listings created within the last days whose
// texts use a property's marks.
func (s *Service) markedListings(ctx context.Context, rs *Ruleset, l catalog.Listing, days int) (int, error) {
	since := s.now().Add(-time.Duration(days) * 24 * time.Hour)
	n := 0
	f := catalog.ListingFilter{SellerID: l.SellerID, Limit: 1000}
	for seen := 0; seen < markedScanLimit; seen += f.Limit {
		page, err := s.catalog.Listings(ctx, f)
		if err != nil {
			return 0, err
		}
		for _, o := range page {
			if o.ID != l.ID && o.CreatedAt.After(since) && len(rs.FindMarks(o.Title, o.Description)) > 0 {
				n++
			}
		}
		if len(page) < f.Limit {
			return n, nil
		}
		f.AfterID = page[len(page)-1].ID
	}
	return n, nil
}
