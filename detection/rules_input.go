package detection

import (
	"context"
	"fmt"
	"slices"
	"time"

	"marketplace/catalog"
	"marketplace/internal/money"
	"marketplace/licensing"
)

// markedScanLimit bounds how many of a young seller's listings are read to count the marked
// ones (new_seller_many_marked): a young account with more listings than that is counted
// as having at least this many.
const markedScanLimit = 2000

// JudgeWithRules judges the evidence about a listing with the configured rules: it fills a
// ScreeningInput from the evidence (the claimed and matched products with their official
// price in the listing's currency, the seller's age, strikes and recent marked listings, the
// registry's coverage answers), evaluates the current ruleset of rules and returns the
// judgement. An error (the catalogue or the rule configuration unreadable) means the
// listing must not be judged now: the screening is retried and the listing stays as it was.
func (s *Service) JudgeWithRules(ctx context.Context, ev *Evidence, rules *RuleStore) (Judgement, error) {
	rs, err := rules.Current(ctx)
	if err != nil {
		return Judgement{}, err
	}
	in, err := s.ScreeningInput(ctx, ev, rs)
	if err != nil {
		return Judgement{}, err
	}
	res := rs.Evaluate(in)
	if res.Reasons == nil {
		res.Reasons = []Reason{}
	}
	if len(res.Errors) > 0 {
		s.log.Warn("detection: coverage questions failed; counted as refusals", "listing", ev.Listing.ID, "errors", res.Errors)
	}
	return Judgement{Score: res.Score, Verdict: res.Verdict, Reasons: res.Reasons, RulesVersion: res.RulesVersion}, nil
}

// ScreeningInput turns the pipeline's evidence into the rules' input.
func (s *Service) ScreeningInput(ctx context.Context, ev *Evidence, rs *Ruleset) (ScreeningInput, error) {
	l, seller := ev.Listing, ev.Seller
	reg := s.catalog.Licensing()
	in := ScreeningInput{
		ListingID: l.ID, Title: l.Title, Description: l.Description, Price: l.Price,
		Property: l.Property, Category: l.Category, Territories: l.Territories, ShipsFrom: l.ShipsFrom,
		Seller: SellerFacts{ID: seller.ID, Name: seller.Name, Kind: string(seller.Kind), LicenseeID: seller.LicenseeID,
			AgeDays: int(s.now().Sub(seller.CreatedAt).Hours() / 24), Strikes: seller.Strikes},
		Coverage: func(q licensing.CoverageQuery) (licensing.CoverageAnswer, error) { return reg.Coverage(ctx, q) },
	}
	facts := &productFacts{s: s, currency: l.Price.Currency, byID: map[int64]*ProductFacts{}, names: map[int64]string{}}
	if l.ProductID != 0 {
		p, err := facts.get(ctx, l.ProductID, l.ClaimedSKU)
		if err != nil {
			return in, err
		}
		in.Claimed = p
	}
	for _, photo := range ev.Photos {
		if photo.Error != "" {
			in.Unreadable = append(in.Unreadable, UnreadablePhoto{ImageID: photo.ImageID, Error: photo.Error})
		}
		for _, m := range photo.Matches {
			im := ImageMatch{ImageID: photo.ImageID, RefImageID: m.ImageID, Kind: m.Kind, Distance: m.Distance,
				CaseID: m.CaseID, ListingID: m.ListingID, SellerID: m.SellerID}
			if m.Kind == RefOfficial && m.ProductID != 0 {
				p, err := facts.get(ctx, m.ProductID, "")
				if err != nil {
					return in, err
				}
				im.Product = p
			}
			in.Matches = append(in.Matches, im)
		}
	}
	slices.SortStableFunc(in.Matches, func(a, b ImageMatch) int { return a.Distance - b.Distance })
	n, err := s.markedListings(ctx, in, rs)
	if err != nil {
		return in, err
	}
	in.Seller.MarkedListings = n
	return in, nil
}

// productFacts reads each product (and its licensee's name) once per screening.
type productFacts struct {
	s        *Service
	currency string
	byID     map[int64]*ProductFacts
	names    map[int64]string
}

func (f *productFacts) get(ctx context.Context, id int64, sku string) (*ProductFacts, error) {
	if p, ok := f.byID[id]; ok && sku == "" {
		return p, nil
	}
	p, err := f.s.catalog.Product(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("detection: product %d: %w", id, err)
	}
	name, ok := f.names[p.LicenseeID]
	if !ok {
		l, err := f.s.catalog.Licensing().Licensee(ctx, p.LicenseeID)
		if err != nil {
			return nil, fmt.Errorf("detection: licensee %d: %w", p.LicenseeID, err)
		}
		name = l.Name
		f.names[p.LicenseeID] = name
	}
	out := &ProductFacts{ID: p.ID, Title: p.Text("en").Title, LicenseeID: p.LicenseeID, LicenseeName: name,
		Property: p.Property, Category: p.Category, OfficialPrice: officialPrice(p, f.currency, sku)}
	if sku == "" {
		f.byID[id] = out
	}
	return out, nil
}

// officialPrice is the product's price in currency: the claimed variant's when the listing
// names its SKU, else the lowest of its variants' (so a low price is judged against the
// cheapest official offer). Zero when the product has no price in that currency.
func officialPrice(p catalog.Product, currency, sku string) money.Money {
	var best int64
	for _, v := range p.Variants {
		a, ok := v.Prices[currency]
		if !ok || a <= 0 {
			continue
		}
		if sku != "" && v.SKU == sku {
			return money.New(a, currency)
		}
		if best == 0 || a < best {
			best = a
		}
	}
	return money.New(best, currency)
}

// markedListings counts the seller's other listings created within the rule's window whose
// title or description uses a property's marks. It is only counted when it can matter: the
// rule is enabled, this listing uses marks, and the seller is young enough.
func (s *Service) markedListings(ctx context.Context, in ScreeningInput, rs *Ruleset) (int, error) {
	st := rs.Config.Rule(RuleNewSellerManyMarked)
	if !st.Enabled || in.Seller.AgeDays >= st.Param("max_age_days") || len(rs.FindMarks(in.Title, in.Description)) == 0 {
		return 0, nil
	}
	since := s.now().Add(-time.Duration(st.Param("window_days")) * 24 * time.Hour)
	n, seen := 0, 0
	var after int64
	for seen < markedScanLimit {
		ls, err := s.catalog.Listings(ctx, catalog.ListingFilter{SellerID: in.Seller.ID, AfterID: after, Limit: 1000})
		if err != nil {
			return 0, err
		}
		for _, l := range ls {
			seen++
			if l.ID != in.ListingID && !l.CreatedAt.Before(since) && len(rs.FindMarks(l.Title, l.Description)) > 0 {
				n++
			}
		}
		if len(ls) < 1000 {
			break
		}
		after = ls[len(ls)-1].ID
	}
	return n, nil
}
