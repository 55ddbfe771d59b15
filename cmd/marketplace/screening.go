package main

import (
	"context"

	"marketplace/catalog"
	"marketplace/detection"
	"marketplace/internal/fault"
)

// screenings answers the catalogue's listing API (catalog.ScreeningSource) with detection's
// latest completed screening, so the catalogue shows verdicts without importing detection.
type screenings struct{ d *detection.Service }

func (s screenings) Screening(ctx context.Context, listingID int64) (*catalog.Screening, error) {
	sc, err := s.d.LatestScreening(ctx, listingID)
	if fault.Is(err, fault.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := &catalog.Screening{Score: sc.Score, Verdict: sc.Verdict,
		Reasons: make([]catalog.ScreeningReason, len(sc.Reasons)), Matches: make([]catalog.ScreeningMatch, len(sc.Matches))}
	for i, r := range sc.Reasons {
		out.Reasons[i] = catalog.ScreeningReason{Rule: r.Rule, Weight: r.Weight, Detail: r.Detail}
	}
	for i, m := range sc.Matches {
		out.Matches[i] = catalog.ScreeningMatch{ImageID: m.ImageID, Kind: m.Kind, Distance: m.Distance}
	}
	return out, nil
}
