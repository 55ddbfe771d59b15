package main

import (
	"context"
	"fmt"

	"marketplace/catalog"
	"marketplace/detection"
	"marketplace/storefront"
)

// photoChecker answers the storefront's /verify photo check with detection's reference
// pictures, naming the product, its licensee and a live listing of it for the fan.
func (m *Main) photoChecker() storefront.PhotoChecker {
	return storefront.PhotoCheckerFunc(func(ctx context.Context, data []byte) (storefront.PhotoResult, error) {
		pc, err := m.Detection.CheckPhoto(ctx, data)
		if err != nil {
			return storefront.PhotoResult{}, err
		}
		return m.describePhotoCheck(ctx, pc)
	})
}

func (m *Main) describePhotoCheck(ctx context.Context, pc detection.PhotoCheck) (storefront.PhotoResult, error) {
	switch {
	case pc.Counterfeit:
		// A known counterfeit outranks a resemblance to an official picture: copies are made
		// from official photos.
		return storefront.PhotoResult{Verdict: storefront.PhotoCounterfeit, Distance: pc.CounterfeitDistance,
			Detail: "This photo matches a picture our analysts found on counterfeit listings."}, nil
	case len(pc.Official) == 0:
		return storefront.PhotoResult{Verdict: storefront.PhotoUnknown,
			Detail: "This photo matches no official product picture we know of."}, nil
	}
	best := pc.Official[0]
	res := storefront.PhotoResult{Verdict: storefront.PhotoOfficial, Distance: best.Distance}
	p, err := m.Catalog.Product(ctx, best.ProductID)
	if err != nil {
		return storefront.PhotoResult{}, err
	}
	res.ProductTitle = p.Title()
	if len(p.Variants) > 0 {
		res.ProductSKU = p.Variants[0].SKU
	}
	if l, err := m.Licensing.Licensee(ctx, best.LicenseeID); err == nil {
		res.LicenseeName = l.Name
	} else {
		return storefront.PhotoResult{}, err
	}
	live, err := m.Catalog.Listings(ctx, catalog.ListingFilter{ProductID: p.ID, Status: catalog.StatusLive, Limit: 1})
	if err != nil {
		return storefront.PhotoResult{}, err
	}
	if len(live) > 0 {
		res.ListingSlug = live[0].Slug
	}
	res.Detail = fmt.Sprintf("This photo shows %q, an official product of %s.", res.ProductTitle, res.LicenseeName)
	return res, nil
}
