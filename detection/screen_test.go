package detection

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"marketplace/catalog"
	"marketplace/detection/imagematch/imagetest"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
	"marketplace/licensing"
)

// testImages is an image store for the pipeline's tests: rows in the catalogue's images
// table, bytes in memory. An image marked broken cannot be fetched (a blob store outage).
type testImages struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	data map[int64][]byte
	bad  map[int64]bool
}

func (ti *testImages) put(t testing.TB, data []byte) int64 {
	t.Helper()
	sum := sha256.Sum256(data)
	var id int64
	err := ti.pool.QueryRow(context.Background(), `INSERT INTO images (sha256, blob_key, content_type, width, height, bytes)
		VALUES ($1, $2, 'image/jpeg', 100, 100, $3) RETURNING id`, sum[:], fmt.Sprintf("%x", sum), len(data)).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.data[id] = data
	return id
}

func (ti *testImages) breakImage(id int64) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	ti.bad[id] = true
}

func (ti *testImages) ImageBytes(_ context.Context, id int64) ([]byte, string, error) {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	if ti.bad[id] {
		return nil, "", errors.New("blob store: connection refused")
	}
	d, ok := ti.data[id]
	if !ok {
		return nil, "", fault.New(fault.NotFound, "image %d not found", id)
	}
	return d, "image/jpeg", nil
}

// recordingCases is a CaseOpener that writes nothing but remembers the cases it opened.
type recordingCases struct {
	mu    sync.Mutex
	cases []CaseInput
}

func (rc *recordingCases) OpenCase(_ context.Context, _ pgx.Tx, in CaseInput) error {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.cases = append(rc.cases, in)
	return nil
}

func (rc *recordingCases) forListing(id int64) []CaseInput {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []CaseInput
	for _, c := range rc.cases {
		if c.ListingID == id {
			out = append(out, c)
		}
	}
	return out
}

// world is a database with the demo registry, a catalogue, and one pipeline.
type world struct {
	t        testing.TB
	pool     *pgxpool.Pool
	registry licensing.SeedResult
	lic      *licensing.Service
	cat      *catalog.Service
	svc      *Service
	images   *testImages
	cases    *recordingCases
	licensee int64 // Maison Bleue Textiles: PARIS2024 apparel in FR, BE, LU, MC, CH
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, pool: pgtest.New(t, Schemas()...)}
	w.lic = licensing.NewService(w.pool)
	var err error
	if w.registry, err = licensing.Seed(ctx, w.lic); err != nil {
		t.Fatal(err)
	}
	w.licensee = w.registry.LicenseeID("Maison Bleue Textiles")
	// Coverage from the in-memory snapshot, as in the program.
	if err := w.lic.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.lic.Close)
	if w.cat, err = catalog.NewService(w.pool, w.lic); err != nil {
		t.Fatal(err)
	}
	w.images = &testImages{pool: w.pool, data: map[int64][]byte{}, bad: map[int64]bool{}}
	w.cases = &recordingCases{}
	w.svc = w.newService()
	return w
}

// newService starts another pipeline on the world's database: another process.
func (w *world) newService(opts ...Option) *Service {
	w.t.Helper()
	opts = append([]Option{WithImageSource(w.images), WithPollInterval(200 * time.Millisecond)}, opts...)
	svc, err := NewService(w.pool, w.cat, opts...)
	if err != nil {
		w.t.Fatal(err)
	}
	svc.SetCaseOpener(w.cases)
	if err := svc.Start(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(svc.Close)
	return svc
}

// startWorkers runs River with the pipeline's workers, one at a time.
func (w *world) startWorkers() *river.Client[pgx.Tx] {
	w.t.Helper()
	workers := river.NewWorkers()
	RegisterJobs(workers, w.svc)
	client, err := river.NewClient(riverpgxv5.New(w.pool), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers:           workers,
		FetchPollInterval: 100 * time.Millisecond,
		Logger:            testLogger(w.t),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Stop(ctx)
	})
	return client
}

// product inserts an approved product of the licensee with images, as the catalogue's
// import would, and returns its id.
func (w *world) product(slug string, imageIDs ...int64) int64 {
	w.t.Helper()
	ctx := context.Background()
	var id int64
	err := w.pool.QueryRow(ctx, `INSERT INTO products (licensee_id, slug, property, category, territories)
		VALUES ($1, $2, 'PARIS2024', 'apparel', '{FR,BE}') RETURNING id`, w.licensee, slug).Scan(&id)
	if err != nil {
		w.t.Fatal(err)
	}
	for i, img := range imageIDs {
		if _, err := w.pool.Exec(ctx, `INSERT INTO product_images (product_id, position, image_id) VALUES ($1, $2, $3)`, id, i, img); err != nil {
			w.t.Fatal(err)
		}
	}
	return id
}

func (w *world) seller(name string) catalog.Seller {
	w.t.Helper()
	s, err := w.cat.CreateSeller(context.Background(), catalog.NewSeller{Kind: catalog.SellerIndependent, Name: name, Country: "FR"})
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) listing(sellerID int64, title string, imageIDs ...int64) catalog.Listing {
	w.t.Helper()
	l, err := w.cat.CreateListing(context.Background(), sellerID, catalog.NewListing{Title: title, Price: money.New(2500, "EUR"),
		Stock: 5, Territories: []string{"FR"}, ImageIDs: imageIDs})
	if err != nil {
		w.t.Fatal(err)
	}
	return l
}

// waitStatus waits for a listing to leave pending (or reach want) and returns it.
func (w *world) waitStatus(id int64, want catalog.ListingStatus) catalog.Listing {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l, err := w.cat.Listing(context.Background(), id)
		if err != nil {
			w.t.Fatal(err)
		}
		if l.Status == want {
			return l
		}
		if time.Now().After(deadline) {
			sc, _ := w.svc.Screenings(context.Background(), id)
			w.t.Fatalf("listing %d is %s, want %s; screenings %+v", id, l.Status, want, sc)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func jpegOf(t testing.TB, img image.Image) []byte { return imagetest.EncodeJPEG(t, img, 90) }

func TestScreeningPipeline(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	client := w.startWorkers()

	photo := imagetest.SynthPhoto(1, 480, 360)
	official := w.images.put(t, jpegOf(t, photo))
	productID := w.product("maison-bleue-tee", official)
	if _, err := client.Insert(ctx, catalog.ProductReferencesArgs{ProductID: productID}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		refs, err := w.svc.References(ctx, official)
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) == 1 && refs[0].Kind == RefOfficial && refs[0].ProductID == productID && refs[0].LicenseeID == w.licensee {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no official reference for image %d: %+v", official, refs)
		}
		time.Sleep(25 * time.Millisecond)
	}

	var ownListing int64
	t.Run("the licensee's own photo goes live", func(t *testing.T) {
		seller, err := w.cat.LicenseeSeller(ctx, w.licensee)
		if err != nil {
			t.Fatal(err)
		}
		l := w.waitStatus(w.listing(seller.ID, "Paris 2024 tee", official).ID, catalog.StatusLive)
		ownListing = l.ID
		sc, err := w.svc.LatestScreening(ctx, l.ID)
		if err != nil || sc.Verdict != VerdictAllow || len(sc.Matches) != 1 || sc.Matches[0].ProductID != productID || sc.Matches[0].Distance != 0 {
			t.Fatalf("screening = %+v, %v", sc, err)
		}
		if len(w.cases.forListing(l.ID)) != 0 {
			t.Error("a case was opened for a live listing")
		}
	})

	rng := rand.New(rand.NewPCG(5, 5))
	copies := map[string][]byte{
		"same photo": jpegOf(t, photo),
		"mirror":     jpegOf(t, imagetest.Mirror(photo)),
		"crop":       jpegOf(t, imagetest.Crop(photo, rng)),
	}
	copies["same photo"] = append(copies["same photo"], 0) // other bytes, same picture
	shop := w.seller("Bargain Shirts")
	for name, data := range copies {
		t.Run("an unlicensed seller's "+name+" is blocked with the reason", func(t *testing.T) {
			img := w.images.put(t, data)
			l := w.waitStatus(w.listing(shop.ID, "Tee shirt "+name, img).ID, catalog.StatusBlocked)
			if !strings.Contains(l.StatusReason, "matches official product") {
				t.Errorf("status reason %q", l.StatusReason)
			}
			sc, err := w.svc.LatestScreening(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Verdict != VerdictBlock || sc.Score < 70 || len(sc.Reasons) == 0 || sc.Reasons[0].Rule != RuleOfficialPhotoUnlicensedSeller {
				t.Fatalf("screening = %+v", sc)
			}
			if len(sc.Matches) == 0 || sc.Matches[0].RefImageID != official || sc.Matches[0].ImageID != img || sc.Matches[0].Kind != RefOfficial {
				t.Fatalf("matches = %+v", sc.Matches)
			}
			cs := w.cases.forListing(l.ID)
			if len(cs) != 1 || cs[0].ScreeningID != sc.ID || cs[0].Verdict != VerdictBlock || cs[0].Score != sc.Score {
				t.Fatalf("cases = %+v", cs)
			}
		})
	}

	t.Run("a fresh photo by a clean seller goes live", func(t *testing.T) {
		img := w.images.put(t, jpegOf(t, imagetest.SynthPhoto(77, 480, 360)))
		l := w.waitStatus(w.listing(w.seller("Honest Crafts").ID, "Hand-knitted scarf", img).ID, catalog.StatusLive)
		sc, err := w.svc.LatestScreening(ctx, l.ID)
		if err != nil || sc.Verdict != VerdictAllow || sc.Score != 0 || len(sc.Matches) != 0 || len(sc.Reasons) != 0 {
			t.Fatalf("screening = %+v, %v", sc, err)
		}
	})

	t.Run("an authorised reseller may use the photo in its territories only", func(t *testing.T) {
		reseller, err := w.cat.CreateSeller(ctx, catalog.NewSeller{Kind: catalog.SellerReseller, Name: "Boutique Olympe", Country: "FR"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.lic.AuthoriseReseller(ctx, nil, w.licensee, reseller.ID, []string{"FR"}); err != nil {
			t.Fatal(err)
		}
		liveID := w.waitStatus(w.listing(reseller.ID, "Official tee", official).ID, catalog.StatusLive).ID
		l, err := w.cat.CreateListing(ctx, reseller.ID, catalog.NewListing{Title: "Official tee, shipped to Germany",
			Price: money.New(2500, "EUR"), Stock: 1, Territories: []string{"FR", "DE"}, ImageIDs: []int64{official}})
		if err != nil {
			t.Fatal(err)
		}
		l = w.waitStatus(l.ID, catalog.StatusBlocked)
		if !strings.Contains(l.StatusReason, "reseller for DE.") {
			t.Errorf("status reason %q", l.StatusReason)
		}

		// Revoking the authorisation re-screens the reseller's listings: the live one is blocked.
		if _, err := w.lic.RevokeReseller(ctx, nil, w.licensee, reseller.ID, "contract ended"); err != nil {
			t.Fatal(err)
		}
		w.waitStatus(liveID, catalog.StatusBlocked)
	})

	t.Run("a screening that fails leaves the listing pending and records the error", func(t *testing.T) {
		img := w.images.put(t, jpegOf(t, imagetest.SynthPhoto(78, 480, 360)))
		w.images.breakImage(img)
		l := w.listing(w.seller("Unlucky Seller").ID, "Souvenir mug", img)
		deadline := time.Now().Add(20 * time.Second)
		for {
			stuck, err := w.svc.FailedScreenings(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(stuck) > 0 && stuck[0].ListingID == l.ID {
				if !strings.Contains(stuck[0].Error, "connection refused") {
					t.Errorf("error = %q", stuck[0].Error)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no failed screening recorded: %+v", stuck)
			}
			time.Sleep(25 * time.Millisecond)
		}
		l, err := w.cat.Listing(ctx, l.ID)
		if err != nil || l.Status != catalog.StatusPending {
			t.Fatalf("status = %s after a failed screening (%v)", l.Status, err)
		}
		if _, err := w.svc.LatestScreening(ctx, l.ID); fault.CodeOf(err) != fault.NotFound {
			t.Fatalf("latest screening: %v", err)
		}
		// Once the image can be fetched again, a retry screens it.
		w.images.mu.Lock()
		delete(w.images.bad, img)
		w.images.mu.Unlock()
		if _, err := w.svc.ScreenListing(ctx, l.ID, 0); err != nil {
			t.Fatal(err)
		}
		w.waitStatus(l.ID, catalog.StatusLive)
		if stuck, err := w.svc.FailedScreenings(ctx, 10); err != nil || len(stuck) != 0 {
			t.Errorf("still stuck after success: %+v, %v", stuck, err)
		}
	})

	t.Run("a photo that is not a picture is held for an analyst", func(t *testing.T) {
		img := w.images.put(t, []byte("this is not a JPEG at all"))
		l := w.waitStatus(w.listing(w.seller("Odd Seller").ID, "Mystery item", img).ID, catalog.StatusHeld)
		sc, err := w.svc.LatestScreening(ctx, l.ID)
		if err != nil || len(sc.Reasons) != 1 || sc.Reasons[0].Rule != RulePhotoUnreadable {
			t.Fatalf("screening = %+v, %v", sc, err)
		}
	})

	t.Run("a counterfeit added by an analyst re-screens the listings that copy it", func(t *testing.T) {
		fake := imagetest.SynthPhoto(90, 480, 360)
		first := w.images.put(t, jpegOf(t, fake))
		culprit := w.waitStatus(w.listing(w.seller("Knock-off Corner").ID, "Mascot plush", first).ID, catalog.StatusLive)
		copyImg := w.images.put(t, jpegOf(t, imagetest.Mirror(fake)))
		other := w.waitStatus(w.listing(w.seller("Second Shop").ID, "Plush mascot toy", copyImg).ID, catalog.StatusLive)
		// The analyst's decision: the culprit's listing is removed, its photo is a counterfeit.
		err := postgres.Tx(ctx, w.pool, func(tx pgx.Tx) error {
			if err := w.cat.SetListingStatus(ctx, tx, culprit.ID, catalog.StatusRemoved, "counterfeit"); err != nil {
				return err
			}
			return w.svc.AddCounterfeitReference(ctx, tx, first, 4242)
		})
		if err != nil {
			t.Fatal(err)
		}
		l := w.waitStatus(other.ID, catalog.StatusBlocked)
		sc, err := w.svc.LatestScreening(ctx, l.ID)
		if err != nil || len(sc.Reasons) == 0 || sc.Reasons[0].Rule != RuleKnownCounterfeitPhoto || !strings.Contains(sc.Reasons[0].Detail, "case 4242") {
			t.Fatalf("screening = %+v, %v", sc, err)
		}
		if l, err := w.cat.Listing(ctx, culprit.ID); err != nil || l.Status != catalog.StatusRemoved {
			t.Errorf("the removed listing became %s (%v)", l.Status, err)
		}
		// Adding it again changes nothing.
		if err := postgres.Tx(ctx, w.pool, func(tx pgx.Tx) error { return w.svc.AddCounterfeitReference(ctx, tx, first, 4242) }); err != nil {
			t.Fatalf("adding the reference again: %v", err)
		}
		if refs, err := w.svc.References(ctx, first); err != nil || len(refs) != 1 {
			t.Fatalf("references = %+v, %v", refs, err)
		}
	})

	t.Run("a suspended licence re-screens the licensee's listings", func(t *testing.T) {
		before, err := w.svc.Screenings(ctx, ownListing)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.lic.SetLicenceStatus(ctx, nil, "PAR24-APP-0001", licensing.StatusSuspended, "royalties overdue"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			after, err := w.svc.Screenings(ctx, ownListing)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) > len(before) && after[0].Error == "" {
				if !hasRule(after[0], RuleLicenceSuspendedOrExpired) || after[0].Verdict == VerdictAllow {
					t.Fatalf("re-screening = %+v", after[0])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the licensee's listing was not re-screened")
			}
			time.Sleep(25 * time.Millisecond)
		}
		if _, err := w.lic.SetLicenceStatus(ctx, nil, "PAR24-APP-0001", licensing.StatusActive, "paid"); err != nil {
			t.Fatal(err)
		}
		w.waitStatus(ownListing, catalog.StatusLive)
	})

	t.Run("an authentic decision clears the photo for that seller", func(t *testing.T) {
		img := w.images.put(t, append(jpegOf(t, photo), 1, 2))
		l := w.waitStatus(w.listing(shop.ID, "Tee shirt, second hand", img).ID, catalog.StatusBlocked)
		err := postgres.Tx(ctx, w.pool, func(tx pgx.Tx) error { return w.svc.AllowImages(ctx, tx, l.ID, 7) })
		if err != nil {
			t.Fatal(err)
		}
		sc, err := w.svc.ScreenListing(ctx, l.ID, 0)
		if err != nil || sc.Verdict != VerdictAllow {
			t.Fatalf("re-screening = %+v, %v", sc, err)
		}
		w.waitStatus(l.ID, catalog.StatusLive)
		// Another seller with the same picture is still blocked.
		w.waitStatus(w.listing(w.seller("Copycat").ID, "Tee", img).ID, catalog.StatusBlocked)
	})
}

func TestScreeningJobIsIdempotent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	img := w.images.put(t, jpegOf(t, imagetest.SynthPhoto(3, 300, 300)))
	l := w.listing(w.seller("Shop").ID, "Pin badge", img)
	if sc, err := w.svc.Screening(ctx, l.ID); sc != nil || err != nil {
		t.Fatalf("screening before any = %+v, %v", sc, err)
	}
	first, err := w.svc.ScreenListing(ctx, l.ID, 99)
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.svc.ScreenListing(ctx, l.ID, 99)
	if err != nil || again.ID != first.ID {
		t.Fatalf("second run = %+v, %v (first %d)", again, err, first.ID)
	}
	all, err := w.svc.Screenings(ctx, l.ID)
	if err != nil || len(all) != 1 {
		t.Fatalf("%d screenings, %v", len(all), err)
	}
	if sc, err := w.svc.Screening(ctx, l.ID); err != nil || sc == nil || sc.Verdict != VerdictAllow || sc.Reasons == nil || sc.Matches == nil {
		t.Fatalf("screening shown = %+v, %v", sc, err)
	}
}

func TestReferencesReachOtherProcesses(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// A second process that only hears of references by NOTIFY: its poll is an hour.
	other := w.newService(WithPollInterval(time.Hour))

	fake := imagetest.SynthPhoto(11, 400, 300)
	fakeImg := w.images.put(t, jpegOf(t, fake))
	seller := w.seller("Knock-off Corner")
	culprit := w.listing(seller.ID, "Plush", fakeImg)
	if _, err := w.svc.ScreenListing(ctx, culprit.ID, 0); err != nil {
		t.Fatal(err)
	}
	err := postgres.Tx(ctx, w.pool, func(tx pgx.Tx) error { return w.svc.AddCounterfeitReference(ctx, tx, fakeImg, 1) })
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if refs, images := other.ReferenceCount(); refs == 1 && images == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other process never heard of the counterfeit")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// It flags copies at once, in a fan's photo check and in a screening.
	rng := rand.New(rand.NewPCG(1, 2))
	pc, err := other.CheckPhoto(ctx, jpegOf(t, imagetest.Crop(fake, rng)))
	if err != nil || !pc.Counterfeit {
		t.Fatalf("photo check = %+v, %v", pc, err)
	}
	copyImg := w.images.put(t, jpegOf(t, imagetest.Mirror(fake)))
	l := w.listing(w.seller("Second Shop").ID, "Plush toy", copyImg)
	sc, err := other.ScreenListing(ctx, l.ID, 0)
	if err != nil || sc.Verdict != VerdictBlock || sc.Reasons[0].Rule != RuleKnownCounterfeitPhoto {
		t.Fatalf("screening in the other process = %+v, %v", sc, err)
	}

	t.Run("a screening never misses a reference committed just before", func(t *testing.T) {
		// A third process whose refresher is stopped: the screening itself catches up.
		third := w.newService(WithPollInterval(time.Hour))
		third.Close()
		fake2 := imagetest.SynthPhoto(12, 400, 300)
		img2 := w.images.put(t, jpegOf(t, fake2))
		if err := postgres.Tx(ctx, w.pool, func(tx pgx.Tx) error { return w.svc.AddCounterfeitReference(ctx, tx, img2, 2) }); err != nil {
			t.Fatal(err)
		}
		copy2 := w.images.put(t, jpegOf(t, imagetest.Mirror(fake2)))
		l := w.listing(w.seller("Third Shop").ID, "Cap", copy2)
		sc, err := third.ScreenListing(ctx, l.ID, 0)
		if err != nil || sc.Verdict != VerdictBlock {
			t.Fatalf("screening = %+v, %v", sc, err)
		}
	})
}

func TestCheckPhoto(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	photo := imagetest.SynthPhoto(21, 500, 400)
	official := w.images.put(t, jpegOf(t, photo))
	productID := w.product("maison-bleue-cap", official)
	if _, err := w.svc.UpdateProductReferences(ctx, productID); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	pc, err := w.svc.CheckPhoto(ctx, jpegOf(t, imagetest.Crop(photo, rng)))
	if err != nil || len(pc.Official) != 1 || pc.Official[0].ProductID != productID || pc.Official[0].LicenseeID != w.licensee || pc.Counterfeit {
		t.Fatalf("check = %+v, %v", pc, err)
	}
	pc, err = w.svc.CheckPhoto(ctx, jpegOf(t, imagetest.SynthPhoto(22, 500, 400)))
	if err != nil || len(pc.Official) != 0 || pc.Counterfeit {
		t.Fatalf("unrelated check = %+v, %v", pc, err)
	}
	_, err = w.svc.CheckPhoto(ctx, []byte("GIF89a broken"))
	if e, ok := fault.As(err); !ok || e.Code != fault.Unprocessable || len(e.Fields) != 1 || e.Fields[0].Field != "photo" {
		t.Fatalf("bad photo: %v", err)
	}

	t.Run("a withdrawn product image stops matching", func(t *testing.T) {
		if _, err := w.pool.Exec(ctx, `DELETE FROM product_images WHERE product_id = $1`, productID); err != nil {
			t.Fatal(err)
		}
		changed, err := w.svc.UpdateProductReferences(ctx, productID)
		if err != nil || !changed {
			t.Fatalf("update = %v, %v", changed, err)
		}
		pc, err := w.svc.CheckPhoto(ctx, jpegOf(t, photo))
		if err != nil || len(pc.Official) != 0 {
			t.Fatalf("check = %+v, %v", pc, err)
		}
	})
}

// testLogger shows River's warnings in the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func TestScreeningAppliesTheRulesToTheWholeListing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	photo := imagetest.SynthPhoto(31, 480, 360)
	official := w.images.put(t, jpegOf(t, photo))
	productID := w.product("maison-bleue-hoodie", official)
	var variant int64
	if err := w.pool.QueryRow(ctx, `INSERT INTO variants (product_id, licensee_id, sku) VALUES ($1, $2, 'MB-HOODIE-1') RETURNING id`,
		productID, w.licensee).Scan(&variant); err != nil {
		t.Fatal(err)
	}
	if _, err := w.pool.Exec(ctx, `INSERT INTO variant_prices (variant_id, currency, amount) VALUES ($1, 'EUR', 6000)`, variant); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.UpdateProductReferences(ctx, productID); err != nil {
		t.Fatal(err)
	}
	seller := w.seller("Cheap Replicas")

	t.Run("marks and counterfeit words in the text", func(t *testing.T) {
		img := w.images.put(t, jpegOf(t, imagetest.SynthPhoto(32, 480, 360)))
		l, err := w.cat.CreateListing(ctx, seller.ID, catalog.NewListing{Title: "Replica P4ris 2024 hoodie", Category: "apparel",
			Price: money.New(2500, "EUR"), Stock: 1, Territories: []string{"FR"}, ImageIDs: []int64{img}})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := w.svc.ScreenListing(ctx, l.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !hasRule(sc, RuleMarksWithoutLicence) || !hasRule(sc, RuleCounterfeitWords) || sc.Verdict == VerdictAllow {
			t.Fatalf("screening = %+v", sc)
		}
		if sc.RulesVersion != 0 {
			t.Errorf("rules version %d, want the built-in 0", sc.RulesVersion)
		}
	})

	t.Run("a copied photo at a fraction of the official price", func(t *testing.T) {
		img := w.images.put(t, jpegOf(t, imagetest.Mirror(photo)))
		l, err := w.cat.CreateListing(ctx, seller.ID, catalog.NewListing{Title: "Hoodie", Price: money.New(900, "EUR"),
			Stock: 1, Territories: []string{"FR"}, ImageIDs: []int64{img}})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := w.svc.ScreenListing(ctx, l.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !hasRule(sc, RuleOfficialPhotoUnlicensedSeller) || !hasRule(sc, RulePriceTooLow) || sc.Verdict != VerdictBlock {
			t.Fatalf("screening = %+v", sc)
		}
		for _, r := range sc.Reasons {
			if r.Rule == RulePriceTooLow && !strings.Contains(r.Detail, "60.00") {
				t.Errorf("price reason %q does not name the official price", r.Detail)
			}
		}
	})

	t.Run("a claimed SKU is judged against that variant's price", func(t *testing.T) {
		if _, err := w.pool.Exec(ctx, `INSERT INTO variants (product_id, licensee_id, sku) VALUES ($1, $2, 'MB-HOODIE-XXL')`,
			productID, w.licensee); err != nil {
			t.Fatal(err)
		}
		if _, err := w.pool.Exec(ctx, `INSERT INTO variant_prices (variant_id, currency, amount)
			SELECT id, 'EUR', 12000 FROM variants WHERE sku = 'MB-HOODIE-XXL'`); err != nil {
			t.Fatal(err)
		}
		img := w.images.put(t, jpegOf(t, imagetest.SynthPhoto(33, 480, 360)))
		l, err := w.cat.CreateListing(ctx, seller.ID, catalog.NewListing{Title: "Hoodie XXL", Price: money.New(4000, "EUR"),
			Stock: 1, Territories: []string{"FR"}, ProductSKU: "MB-HOODIE-XXL", ImageIDs: []int64{img}})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := w.svc.ScreenListing(ctx, l.ID, 0)
		if err != nil || !hasRule(sc, RulePriceTooLow) {
			t.Fatalf("screening = %+v, %v (40 € is a third of the claimed variant's 120 €)", sc, err)
		}
	})
}

func TestScreeningCountsAYoungSellersMarkedListings(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	seller := w.seller("Fresh Account")
	var last Screening
	for i := range 5 {
		img := w.images.put(t, jpegOf(t, imagetest.SynthPhoto(uint64(40+i), 320, 240)))
		l, err := w.cat.CreateListing(ctx, seller.ID, catalog.NewListing{Title: fmt.Sprintf("Paris 2024 pin no. %d", i), Category: "pins",
			Price: money.New(500, "EUR"), Stock: 1, Territories: []string{"FR"}, ImageIDs: []int64{img}})
		if err != nil {
			t.Fatal(err)
		}
		if last, err = w.svc.ScreenListing(ctx, l.ID, 0); err != nil {
			t.Fatal(err)
		}
		if got := hasRule(last, RuleNewSellerManyMarked); got != (i == 4) {
			t.Fatalf("listing %d: new_seller_many_marked = %v: %+v", i, got, last.Reasons)
		}
	}
}

func hasRule(sc Screening, rule string) bool {
	for _, r := range sc.Reasons {
		if r.Rule == rule {
			return true
		}
	}
	return false
}
