package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	xdraw "golang.org/x/image/draw"

	"marketplace/catalog"
	"marketplace/catalog/demo"
	"marketplace/detection/imagematch"
	"marketplace/internal/auth"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// seedCatalogue imports the demo catalogue of every licensee with a licence in force, through
// the real catalogue import (a CSV and a zip of pictures per licensee). A licensee that
// already has its products is left alone, so a second run changes nothing and costs little.
func (m *Main) seedCatalogue(ctx context.Context, registry licensing.SeedResult, stdout io.Writer) (*demo.Catalogue, error) {
	opts := m.Demo
	if opts.PerLicence == 0 {
		opts = demo.Small
	}
	ids := make([]int64, 0, len(registry.Licensees))
	for _, id := range registry.Licensees {
		ids = append(ids, id)
	}
	slices.Sort(ids) // the order Seed created them in: the catalogue does not depend on map order
	licences, err := demo.LicencesInForce(ctx, m.Licensing, ids, time.Now())
	if err != nil {
		return nil, err
	}
	cat := demo.Generate(licences, opts)
	var todo []int64
	for _, id := range cat.Licensees() {
		have, err := m.Catalog.Products(ctx, catalog.ProductFilter{LicenseeID: id, Limit: 1000})
		if err != nil {
			return nil, err
		}
		if missing(cat.Of(id), have) {
			todo = append(todo, id)
		}
	}
	if len(todo) == 0 {
		return cat, nil
	}
	if len(cat.Products) > 50 {
		fmt.Fprintf(stdout, "Demo catalogue: drawing %d product pictures and importing them for %d licensees (about a minute on two idle cores)…\n",
			len(cat.Products), len(todo))
	}
	started := time.Now()
	screen, err := imagematch.NewDistinctScreen()
	if err != nil {
		return nil, err
	}
	var sc demo.Screen = screen
	if opts == demo.Small {
		sc = nil // its pictures are distinct as drawn (catalog/demo's TestSmallCatalogueNeedsNoScreen)
	}
	pics, err := cat.Pictures(ctx, sc)
	if err != nil {
		return nil, err
	}
	drawn := time.Since(started)
	// One import per licensee, all at once: each stores its pictures one by one, and the
	// catalogue bounds how many are decoded together.
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	products := 0
	for i, id := range todo {
		ps := cat.Of(id)
		products += len(ps)
		wg.Go(func() { errs[i] = m.importDemo(ctx, ps, pics) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "Demo catalogue: %d official products imported for %d licensees in %s (%d pictures drawn and screened in %s, %d layouts redrawn to stay distinct)\n",
		products, len(todo), time.Since(started).Round(time.Millisecond), len(pics), drawn.Round(time.Millisecond), screen.Refused)
	return cat, nil
}

// importDemo imports one licensee's demo products: a CSV and a zip of their pictures.
func (m *Main) importDemo(ctx context.Context, ps []demo.Product, pics map[string][]byte) error {
	var csvBuf, zipBuf bytes.Buffer
	if err := demo.WriteCSV(&csvBuf, ps); err != nil {
		return err
	}
	if err := demo.WriteZip(&zipBuf, ps, pics); err != nil {
		return err
	}
	imp, err := m.Catalog.Import(ctx, catalog.ImportRequest{LicenseeID: ps[0].LicenseeID, CSV: bytes.NewReader(csvBuf.Bytes()),
		Filename: "demo-catalogue.csv", Size: int64(csvBuf.Len()), Images: bytes.NewReader(zipBuf.Bytes()),
		ImagesSize: int64(zipBuf.Len()), ImagesFilename: "demo-pictures.zip"})
	if err != nil {
		return fmt.Errorf("import the demo catalogue of %s: %w", ps[0].Licensee, err)
	}
	if imp.Status != catalog.ImportSucceeded {
		return fmt.Errorf("import the demo catalogue of %s: %s: %v", ps[0].Licensee, imp.Status, imp.Errors)
	}
	return nil
}

// missing reports whether some generated product has no product with its key yet.
func missing(want []demo.Product, have []catalog.Product) bool {
	refs := make(map[string]bool, len(have))
	for _, p := range have {
		refs[p.Ref] = true
	}
	for _, p := range want {
		if !refs[p.Key] {
			return true
		}
	}
	return false
}

// demoSeller is a seller of the demo world with its login.
type demoSeller struct {
	email    string
	seller   catalog.NewSeller
	reseller bool
}

// demoSellers: an honest independent seller (seller@, the demo account), two authorised
// resellers, and a counterfeit ring of two accounts paid to the same bank account.
var demoSellers = []demoSeller{
	{"seller@demo.olympics.test", catalog.NewSeller{Kind: catalog.SellerIndependent, Name: "Atelier du Coin", Country: "FR",
		ContactEmail: "seller@demo.olympics.test", PayoutAccount: "FR7630006000011234567890189"}, false},
	{"reseller@demo.olympics.test", catalog.NewSeller{Kind: catalog.SellerReseller, Name: "Boutique des Jeux", Country: "FR",
		ContactEmail: "reseller@demo.olympics.test", PayoutAccount: "FR7630004000031234567890143"}, true},
	{"fanstore@demo.olympics.test", catalog.NewSeller{Kind: catalog.SellerReseller, Name: "Stars & Stripes Fan Store", Country: "US",
		ContactEmail: "fanstore@demo.olympics.test", PayoutAccount: "US-021000021-4402117"}, true},
	{"megabargain@demo.olympics.test", catalog.NewSeller{Kind: catalog.SellerIndependent, Name: "Mega Bargain Sports", Country: "CN",
		ContactEmail: "megabargain@demo.olympics.test", ContactPhone: "+86 755 2345 6789", PayoutAccount: "CN-6222-0200-1234-5678"}, false},
	{"replicakings@demo.olympics.test", catalog.NewSeller{Kind: catalog.SellerIndependent, Name: "Replica Kings", Country: "HK",
		ShipsFrom: "CN", ContactEmail: "replicakings@demo.olympics.test", PayoutAccount: "CN-6222-0200-1234-5678"}, false},
}

// seedSellers opens the demo sellers (each with a seller login), authorises the resellers
// and lists their offers: honest goods with the seller's own photos, genuine products
// resold, and obvious fakes for detection and review to find. Sellers are found again by
// their login and listings by title, so a second run changes nothing.
func (m *Main) seedSellers(ctx context.Context, cat *demo.Catalogue) ([]demoAccount, error) {
	ids := make([]int64, len(demoSellers))
	var accounts []demoAccount
	var resellers []int64
	for i, ds := range demoSellers {
		u, err := m.Auth.UserByEmail(ctx, ds.email)
		switch {
		case err == nil && u.SellerID != 0:
			ids[i] = u.SellerID
		case err == nil || fault.Is(err, fault.NotFound):
			s, err := m.Catalog.CreateSeller(ctx, ds.seller)
			if err != nil {
				return nil, fmt.Errorf("seed seller %s: %w", ds.seller.Name, err)
			}
			ids[i] = s.ID
			// Every demo seller has a login, which is also how a second run finds it. Only
			// seller@ gets a password in the small demo: hashing one costs the tests ~100 ms.
			password := DemoPassword
			if m.Demo.PerLicence == 0 && ds.email != "seller@demo.olympics.test" {
				password = ""
			}
			if _, err := m.Auth.CreateUser(ctx, auth.NewUser{Email: ds.email, Password: password, Role: web.RoleSeller, SellerID: s.ID}); err != nil {
				return nil, fmt.Errorf("seed seller %s: %w", ds.email, err)
			}
		default:
			return nil, err
		}
		if m.Demo.PerLicence != 0 || ds.email == "seller@demo.olympics.test" {
			accounts = append(accounts, demoAccount{Email: ds.email, Role: web.RoleSeller})
		}
		if ds.reseller {
			resellers = append(resellers, ids[i])
		}
	}
	// resellers[0] resells Maison Bleue in FR and BE, [1] Pacific Coast in the US.
	if err := licensing.SeedResellers(ctx, m.Licensing, resellers); err != nil {
		return nil, err
	}
	for i, ds := range demoSellers {
		listings, err := m.demoListings(ctx, cat, ds)
		if err != nil {
			return nil, err
		}
		if err := m.ensureListings(ctx, ids[i], listings); err != nil {
			return nil, fmt.Errorf("seed listings of %s: %w", ds.seller.Name, err)
		}
	}
	return accounts, nil
}

// demoListing is one listing to seed and how to get its picture.
type demoListing struct {
	listing catalog.NewListing
	picture func() ([]byte, error)
}

// demoListings are a seller's listings. The fakes copy official pictures as a counterfeiter
// would: the very file, a mirrored copy, a cropped copy.
func (m *Main) demoListings(ctx context.Context, cat *demo.Catalogue, ds demoSeller) ([]demoListing, error) {
	size := m.Demo.PictureSize
	if size == 0 {
		size = demo.Small.PictureSize
	}
	photo := func(key string, kind demo.Kind) func() ([]byte, error) {
		return func() ([]byte, error) { return jpegOf(demo.NewPhoto(key, kind).Image(size)) }
	}
	// official returns the first demo product of a property and one of kinds (else of any
	// kind: the small catalogue has one product per licence), with its stored picture.
	official := func(property string, kinds ...demo.Kind) (demo.Product, func() ([]byte, error), bool) {
		var found *demo.Product
		for i, p := range cat.Products {
			if p.Property != property {
				continue
			}
			if slices.Contains(kinds, p.Kind) {
				found = &cat.Products[i]
				break
			}
			if found == nil {
				found = &cat.Products[i]
			}
		}
		if found == nil {
			return demo.Product{}, nil, false
		}
		p := *found
		return p, func() ([]byte, error) { return m.officialPicture(ctx, p) }, true
	}
	var out []demoListing
	add := func(l catalog.NewListing, pic func() ([]byte, error)) {
		out = append(out, demoListing{listing: l, picture: pic})
	}
	// The tests' small demo keeps one listing of each sort: storing a picture costs them
	// most of a second under the race detector.
	full := m.Demo.PerLicence != 0
	addFull := func(l catalog.NewListing, pic func() ([]byte, error)) {
		if full {
			add(l, pic)
		}
	}
	eur := func(cents int64) money.Money { return money.New(cents, "EUR") }
	switch ds.email {
	case "seller@demo.olympics.test":
		add(catalog.NewListing{Title: "Hand-knitted wool scarf, olive and cream", Description: "Knitted by hand in Lyon from French merino wool. 180 × 25 cm.",
			Price: eur(3900), Stock: 4, Territories: []string{"FR", "BE", "CH"}, Category: "accessories"}, photo("atelier-scarf", demo.KindScarf))
		add(catalog.NewListing{Title: "Speckled stoneware coffee mug", Description: "Thrown and glazed in our workshop; 300 ml, dishwasher safe.",
			Price: eur(2200), Stock: 12, Territories: []string{"FR", "BE"}, Category: "homeware"}, photo("atelier-mug", demo.KindMug))
		addFull(catalog.NewListing{Title: "Plush bear with a striped jumper", Description: "Our own design, 30 cm, filled with recycled fibre.",
			Price: eur(2800), Stock: 7, Territories: []string{"FR"}, Category: "toys"}, photo("atelier-bear", demo.KindMascot))
		addFull(catalog.NewListing{Title: "Canvas tote bag with a star print", Description: "Screen-printed by hand on organic cotton canvas.",
			Price: eur(1800), Stock: 20, Territories: []string{"FR", "BE", "LU"}, Category: "bags"}, photo("atelier-tote", demo.KindTote))
	case "reseller@demo.olympics.test":
		if p, pic, ok := official("PARIS2024", demo.KindTShirt, demo.KindHoodie, demo.KindJacket, demo.KindCap, demo.KindBeanie); ok {
			v := p.Variants[0]
			add(catalog.NewListing{Title: p.TitleEN + " (genuine, from Maison Bleue)", Description: "Official product, bought from the licensee. " + p.DescEN,
				Price: eur(v.Prices["EUR"]), Stock: 6, Territories: []string{"FR", "BE"}, ProductSKU: v.SKU}, transformed(pic, onCounter))
		}
	case "fanstore@demo.olympics.test":
		if p, pic, ok := official("LA28", demo.KindCap, demo.KindTShirt, demo.KindHoodie, demo.KindTote); ok {
			v := p.Variants[0]
			addFull(catalog.NewListing{Title: p.TitleEN, Description: "Authorised LA28 reseller. " + p.DescEN,
				Price: money.New(v.Prices["USD"], "USD"), Stock: 10, Territories: []string{"US"}, ProductSKU: v.SKU}, transformed(pic, onCounter))
		}
	case "megabargain@demo.olympics.test":
		if p, pic, ok := official("PARIS2024", demo.KindTShirt, demo.KindHoodie, demo.KindJacket); ok {
			// The official photo itself, a third of the price.
			add(catalog.NewListing{Title: p.TitleEN, Description: "Best quality, fast shipping from our warehouse.",
				Price: eur(p.Variants[0].Prices["EUR"] / 3), Stock: 500, Territories: []string{"FR", "DE", "IT", "ES"}, Property: "PARIS2024", Category: p.Category}, pic)
		}
		if p, pic, ok := official("OLYMPIC", demo.KindPin, demo.KindMedal); ok {
			// The official photo, mirrored.
			add(catalog.NewListing{Title: "Olympic rings " + strings.ToLower(strings.TrimPrefix(p.TitleEN, "Olympic ")), Description: "Wholesale lots available.",
				Price: money.New(p.Variants[0].Prices["GBP"]/4, "GBP"), Stock: 1000, Territories: []string{"GB", "FR", "DE"}, Property: "OLYMPIC", Category: p.Category},
				transformed(pic, mirror))
		}
		if p, pic, ok := official("LA28", demo.KindCap, demo.KindBeanie, demo.KindTShirt); ok {
			// The official photo, cropped.
			add(catalog.NewListing{Title: "LA 2028 Olympics " + strings.ToLower(strings.TrimPrefix(p.TitleEN, "LA28 ")) + " – cheap", Description: "Same as the official one, much cheaper.",
				Price: money.New(p.Variants[0].Prices["USD"]/3, "USD"), Stock: 300, Territories: []string{"US", "CA"}, Property: "LA28", Category: p.Category},
				transformed(pic, crop))
		}
	case "replicakings@demo.olympics.test":
		add(catalog.NewListing{Title: "Replica Olympic gold medal 1:1 AAA quality", Description: "Replica, same weight as the real medal. Gift box included.",
			Price: money.New(1500, "USD"), Stock: 200, Territories: []string{"US", "GB", "FR"}, Property: "OLYMPIC", Category: "collectibles"}, photo("replica-medal", demo.KindMedal))
		addFull(catalog.NewListing{Title: "Milano Cortina 2026 replica hoodie – factory price", Description: "Replica of the official team hoodie. No logo differences.",
			Price: eur(1500), Stock: 400, Territories: []string{"IT", "FR", "DE"}, Property: "MILANOCORTINA2026", Category: "apparel"}, photo("replica-hoodie", demo.KindHoodie))
		if p, pic, ok := official("PARIS2024", demo.KindTShirt, demo.KindHoodie, demo.KindJacket); ok {
			// The same stolen photo as Mega Bargain Sports: the two accounts are linked by it too.
			add(catalog.NewListing{Title: "Paris 2024 replica " + strings.ToLower(strings.TrimPrefix(p.TitleEN, "Paris 2024 ")), Description: "Replica. Ships in 3 days.",
				Price: eur(990), Stock: 250, Territories: []string{"FR", "BE"}, Property: "PARIS2024", Category: p.Category}, pic)
		}
	}
	return out, nil
}

// ensureListings creates the listings the seller does not have yet (by title).
func (m *Main) ensureListings(ctx context.Context, sellerID int64, want []demoListing) error {
	have, err := m.Catalog.Listings(ctx, catalog.ListingFilter{SellerID: sellerID, Limit: 1000})
	if err != nil {
		return err
	}
	titles := map[string]bool{}
	for _, l := range have {
		titles[l.Title] = true
	}
	for _, dl := range want {
		if titles[dl.listing.Title] {
			continue
		}
		pic, err := dl.picture()
		if err != nil {
			return err
		}
		img, err := m.Catalog.PutImage(ctx, pic)
		if err != nil {
			return fmt.Errorf("%s: %w", dl.listing.Title, err)
		}
		dl.listing.ImageIDs = []int64{img.ID}
		if _, err := m.Catalog.CreateListing(ctx, sellerID, dl.listing); err != nil {
			return fmt.Errorf("%s: %w", dl.listing.Title, err)
		}
	}
	return nil
}

// officialPicture returns the stored main picture of a demo product, as a counterfeiter
// would save it from the product page.
func (m *Main) officialPicture(ctx context.Context, p demo.Product) ([]byte, error) {
	prod, err := m.Catalog.ProductBySKU(ctx, p.LicenseeID, p.Variants[0].SKU)
	if err != nil {
		return nil, fmt.Errorf("official product %s: %w", p.Key, err)
	}
	if len(prod.Images) == 0 {
		return nil, fmt.Errorf("official product %s has no picture", p.Key)
	}
	data, _, err := m.Catalog.ImageBytes(ctx, prod.Images[0].ID)
	return data, err
}

// transformed applies f to the decoded picture and encodes it again as JPEG.
func transformed(pic func() ([]byte, error), f func(image.Image) image.Image) func() ([]byte, error) {
	return func() ([]byte, error) {
		data, err := pic()
		if err != nil {
			return nil, err
		}
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		return jpegOf(f(img))
	}
}

// mirror swaps left and right.
func mirror(src image.Image) image.Image {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dst.Set(b.Max.X-1-x, y-b.Min.Y, src.At(x, y))
		}
	}
	return dst
}

// onCounter is a reseller's own photo of the genuine product: the product shot smaller, on
// the shop's counter.
func onCounter(src image.Image) image.Image {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.RGBA{0xE8, 0xDF, 0xD0, 0xFF}), image.Point{}, draw.Src)
	draw.Draw(dst, image.Rect(0, b.Dy()*3/5, b.Dx(), b.Dy()), image.NewUniform(color.RGBA{0x9C, 0x7A, 0x57, 0xFF}), image.Point{}, draw.Src)
	inner := image.Rect(b.Dx()/6, b.Dy()/8, b.Dx()*5/6, b.Dy()*19/24)
	xdraw.ApproxBiLinear.Scale(dst, inner, src, b, xdraw.Src, nil)
	return dst
}

// crop keeps the middle 80% of the picture.
func crop(src image.Image) image.Image {
	b := src.Bounds()
	dx, dy := b.Dx()/10, b.Dy()/10
	r := image.Rect(b.Min.X+dx, b.Min.Y+dy, b.Max.X-dx, b.Max.Y-dy)
	dst := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(dst, dst.Bounds(), src, r.Min, draw.Src)
	return dst
}

func jpegOf(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
