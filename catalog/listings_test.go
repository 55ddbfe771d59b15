package catalog

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/internal/postgres/pgtest"
	"marketplace/licensing"
)

// newTestService returns a catalogue on a fresh database, with an independent seller and one
// stored image.
func newTestService(t *testing.T) (*Service, *pgxpool.Pool, Seller, int64) {
	t.Helper()
	pool := pgtest.New(t, Schemas()...)
	svc, err := NewService(pool, licensing.NewService(pool))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	seller, err := svc.CreateSeller(ctx, NewSeller{Kind: SellerIndependent, Name: "Corner Shop", Country: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	var img int64
	err = pool.QueryRow(ctx, `INSERT INTO images (sha256, blob_key, content_type, width, height, bytes)
		VALUES (decode(repeat('ab', 32), 'hex'), 'x', 'image/jpeg', 10, 10, 100) RETURNING id`).Scan(&img)
	if err != nil {
		t.Fatal(err)
	}
	return svc, pool, seller, img
}

func TestCreateListingIsPendingWithItsScreeningJob(t *testing.T) {
	svc, pool, seller, img := newTestService(t)
	ctx := context.Background()
	l, err := svc.CreateListing(ctx, seller.ID, NewListing{Title: "Mascot plush", Price: money.New(1500, "eur"),
		Stock: 3, Territories: []string{"fr", "DE"}, ImageIDs: []int64{img}})
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != StatusPending || l.Price.Currency != "EUR" || len(l.Images) != 1 || l.ShipsFrom != "FR" {
		t.Fatalf("listing = %+v", l)
	}
	var jobs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'screen_listing' AND args->>'listing_id' = $1`,
		itoa(l.ID)).Scan(&jobs); err != nil || jobs != 1 {
		t.Fatalf("screening jobs = %d, %v", jobs, err)
	}
	changes, err := svc.ChangesSince(ctx, 0, 10)
	if err != nil || len(changes) != 1 || changes[0].ListingID != l.ID {
		t.Fatalf("changes = %v, %v", changes, err)
	}
	err = postgres.Tx(ctx, pool, func(tx pgx.Tx) error { return svc.SetListingStatus(ctx, tx, l.ID, StatusLive, "screened") })
	if err != nil {
		t.Fatal(err)
	}
	if l, err = svc.Listing(ctx, l.ID); err != nil || l.Status != StatusLive {
		t.Fatalf("status = %s, %v", l.Status, err)
	}
	if changes, err = svc.ChangesSince(ctx, changes[0].ID, 10); err != nil || len(changes) != 1 {
		t.Fatalf("changes after status = %v, %v", changes, err)
	}
}

func TestCreateListingRefusesBadInputAndWritesNothing(t *testing.T) {
	svc, pool, seller, img := newTestService(t)
	ctx := context.Background()
	_, err := svc.CreateListing(ctx, seller.ID, NewListing{Title: "", Price: money.New(-5, "XXY"),
		Territories: []string{"ZZ"}, ProductSKU: "NOPE-1", ImageIDs: []int64{img}})
	e, ok := fault.As(err)
	if !ok || e.Code != fault.Invalid {
		t.Fatalf("err = %v", err)
	}
	fields := map[string]bool{}
	for _, f := range e.Fields {
		fields[f.Field] = true
	}
	for _, f := range []string{"title", "currency", "price_amount", "territories", "product_sku"} {
		if !fields[f] {
			t.Errorf("no error for %s in %v", f, e.Fields)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM listings) + (SELECT count(*) FROM river_job)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d rows written", n)
	}
}

func TestSubmitListing(t *testing.T) {
	svc, dir := newImageService(t)
	ctx := context.Background()
	seller, err := svc.CreateSeller(ctx, NewSeller{Kind: SellerIndependent, Name: "Corner Shop", Country: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	good := NewListing{Title: "Mascot plush", Price: money.New(1500, "EUR"), Stock: 2, Territories: []string{"FR"}}
	photo := Photo{Name: "plush.jpg", Data: encodeJPEG(t, twoTone(64, 48))}

	t.Run("ErrEveryProblemNamedAndNothingStored", func(t *testing.T) {
		bad := good
		bad.Title = ""
		_, err := svc.SubmitListing(ctx, seller.ID, ListingSubmission{Listing: bad,
			Photos:     []Photo{photo, {Name: "notes.txt", Data: []byte("not a picture")}},
			Unreadable: fault.Fields{fault.Field("stock", `"many" is not a whole number`)}})
		e, ok := fault.As(err)
		if !ok || e.Code != fault.Invalid {
			t.Fatalf("err = %v, want Invalid", err)
		}
		var named []string
		for _, f := range e.Fields {
			named = append(named, f.Field+": "+f.Message)
		}
		for _, want := range []string{"stock: ", "title: ", "images: notes.txt: "} {
			if !slices.ContainsFunc(named, func(s string) bool { return strings.HasPrefix(s, want) }) {
				t.Errorf("no error %q… in %q", want, named)
			}
		}
		if files := blobFiles(t, dir); len(files) != 0 {
			t.Errorf("a refused listing stored %v", files)
		}
		if ls, err := svc.Listings(ctx, ListingFilter{SellerID: seller.ID}); err != nil || len(ls) != 0 {
			t.Errorf("a refused listing was created: %+v, %v", ls, err)
		}
	})
	t.Run("ErrNoPhoto", func(t *testing.T) {
		_, err := svc.SubmitListing(ctx, seller.ID, ListingSubmission{Listing: good})
		if e, ok := fault.As(err); !ok || e.Code != fault.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "images" {
			t.Fatalf("err = %v, want Invalid naming images", err)
		}
	})
	t.Run("ErrPhotoOverTheSizeLimit", func(t *testing.T) {
		huge := Photo{Name: "huge.jpg", Data: make([]byte, MaxImageBytes+1)}
		_, err := svc.SubmitListing(ctx, seller.ID, ListingSubmission{Listing: good, Photos: []Photo{huge}})
		e, ok := fault.As(err)
		if !ok || e.Code != fault.Invalid || len(e.Fields) != 1 || !strings.HasPrefix(e.Fields[0].Message, "huge.jpg: the file is") {
			t.Fatalf("err = %v (%+v), want Invalid naming huge.jpg's size", err, e)
		}
	})
	t.Run("PendingWithPhotosAndScreeningJob", func(t *testing.T) {
		l, err := svc.SubmitListing(ctx, seller.ID, ListingSubmission{Listing: good, Photos: []Photo{photo}})
		if err != nil {
			t.Fatal(err)
		}
		if l.Status != StatusPending || len(l.Images) != 1 || l.Images[0].Width != 64 {
			t.Fatalf("listing = %+v", l)
		}
		var jobs int
		if err := svc.DB().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'screen_listing' AND args->>'listing_id' = $1`,
			itoa(l.ID)).Scan(&jobs); err != nil || jobs != 1 {
			t.Fatalf("screening jobs = %d, %v", jobs, err)
		}
	})
	t.Run("ErrSuspendedSeller", func(t *testing.T) {
		if _, err := svc.db.Exec(ctx, `UPDATE sellers SET status = 'suspended', status_reason = 'test' WHERE id = $1`, seller.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SubmitListing(ctx, seller.ID, ListingSubmission{Listing: good, Photos: []Photo{photo}}); !fault.Is(err, fault.Forbidden) {
			t.Fatalf("err = %v, want Forbidden", err)
		}
	})
}
