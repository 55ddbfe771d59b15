package detection

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"marketplace/catalog"
	"marketplace/detection/imagematch/imagetest"
	"marketplace/internal/postgres"
)

// BenchmarkScreeningThroughput measures screenings per second end to end on one River
// worker: b.N listings (800×600 JPEG photos, half of them mirrored copies of official
// images, half fresh) are created with their screening jobs, then one worker screens them
// all — fetching and fingerprinting each new photo, matching it against 1000 official
// references, recording the screening and setting the status in one transaction (at least
// 95% of the copies must end blocked, and no fresh photo). In the same run it prints what
// bounds it: fingerprinting alone on the same photos
// (images/s on one core), re-screening the same listings directly (fingerprints stored,
// no queue), and the start of another process (all references loaded into its matcher).
//
//	go test -run '^$' -bench ScreeningThroughput -benchtime 300x -cpu 1 ./detection/
func BenchmarkScreeningThroughput(b *testing.B) {
	refs := 1000
	if b.N == 1 {
		refs = 10 // the framework's probe run before the -benchtime Nx run: keep it short
	}
	setup := time.Now()
	w := newWorld(b)
	ctx := context.Background()
	// The official references, as the product_references job would leave them.
	refPhotos := make([][]byte, refs)
	for i := range refs {
		refPhotos[i] = imagetest.EncodeJPEG(b, imagetest.SynthPhoto(uint64(1_000_000+i), 320, 240), 90)
	}
	for i, data := range refPhotos {
		img := w.images.put(b, data)
		fp, err := w.svc.hasher.Fingerprint(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := storeFingerprint(ctx, w.pool, img, fp, nil); err != nil {
			b.Fatal(err)
		}
		pid := w.product("bench-product-"+strconv.Itoa(i), img)
		if err := postgres.Tx(ctx, w.pool, func(tx pgx.Tx) error {
			_, err := w.svc.SetProductReferences(ctx, tx, pid, w.licensee, []int64{img})
			return err
		}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.svc.ensureCurrent(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d references in %v", refs, time.Since(setup).Round(time.Millisecond))
	setup = time.Now()
	// The listings: photos made before the clock starts.
	seller := w.seller("Bench Shop")
	photos := make([][]byte, b.N)
	copies := 0
	for i := range b.N {
		if i%2 == 0 {
			photos[i] = imagetest.EncodeJPEG(b, imagetest.Mirror(imagetest.SynthPhoto(uint64(1_000_000+(i/2)%refs), 800, 600)), 88)
			copies++
		} else {
			photos[i] = imagetest.EncodeJPEG(b, imagetest.SynthPhoto(uint64(2_000_000+i), 800, 600), 88)
		}
	}
	ids := make([]int64, b.N)
	for i, data := range photos {
		ids[i] = w.listing(seller.ID, "Bench listing "+strconv.Itoa(i), w.images.put(b, data)).ID
	}

	b.Logf("%d listings in %v", b.N, time.Since(setup).Round(time.Millisecond))
	workers := river.NewWorkers()
	RegisterJobs(workers, w.svc)
	client, err := river.NewClient(riverpgxv5.New(w.pool), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers:           workers,
		FetchPollInterval: 100 * time.Millisecond,
		// River fetches at most once per FetchCooldown (100 ms by default), and a single
		// worker slot takes one job per fetch: at the default, one worker can never screen
		// more than 10 listings a second, however fast a screening is.
		FetchCooldown: 5 * time.Millisecond,
		Logger:        testLogger(b),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	if err := client.Start(ctx); err != nil {
		b.Fatal(err)
	}
	for {
		var pending int
		if err := w.pool.QueryRow(ctx, `SELECT count(*) FROM listings WHERE status = 'pending'`).Scan(&pending); err != nil {
			b.Fatal(err)
		}
		if pending == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_ = client.Stop(stopCtx)
	cancel()

	// The copies are blocked (all but the rare copy the matcher misses), the fresh photos not.
	blockedCopies, blockedFresh := 0, 0
	for i, id := range ids {
		l, err := w.cat.Listing(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if l.Status == catalog.StatusBlocked {
			if i%2 == 0 {
				blockedCopies++
			} else {
				blockedFresh++
			}
		}
	}
	if blockedFresh > 0 || blockedCopies*100 < copies*95 {
		b.Fatalf("%d of %d copies and %d fresh photos blocked", blockedCopies, copies, blockedFresh)
	}
	var p50, p99 float64
	if err := w.pool.QueryRow(ctx, `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
		percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) FROM screenings WHERE error = ''`).Scan(&p50, &p99); err != nil {
		b.Fatal(err)
	}

	// Fingerprinting alone, on the same photos.
	t0 := time.Now()
	for _, data := range photos {
		if _, err := w.svc.hasher.Fingerprint(data); err != nil {
			b.Fatal(err)
		}
	}
	hashRate := float64(len(photos)) / time.Since(t0).Seconds()
	// Re-screening directly: fingerprints stored, no queue.
	t0 = time.Now()
	for _, id := range ids {
		if _, err := w.svc.ScreenListing(ctx, id, 0); err != nil {
			b.Fatal(err)
		}
	}
	rescreenRate := float64(len(ids)) / time.Since(t0).Seconds()

	// Another process starting: every reference loaded into its matcher.
	t0 = time.Now()
	fresh := w.newService()
	startMS := float64(time.Since(t0).Microseconds()) / 1000
	if n, _ := fresh.ReferenceCount(); n != refs {
		b.Fatalf("a new process loaded %d references, want %d", n, refs)
	}

	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "screenings/s")
	b.ReportMetric(startMS, "start-ms")
	b.ReportMetric(float64(blockedCopies)/float64(max(copies, 1)), "copies-blocked")
	b.ReportMetric(p50, "p50-screening-ms")
	b.ReportMetric(p99, "p99-screening-ms")
	b.ReportMetric(hashRate, "fingerprints/s")
	b.ReportMetric(rescreenRate, "rescreens/s")
	b.ReportMetric(0, "ns/op")
}
