package licensing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkCoverage asks the coverage question of a registry with 10,000 licensees, 100,000
// licences and 10,000 reseller authorisations in a real PostgreSQL, from the in-memory
// snapshot and from the database, and reports the p99 of each per question and their ratio:
//
//	go test -run '^$' -bench BenchmarkCoverage ./licensing/
//
// ns/op and p99-ns are the snapshot's; db-p99-ns is one round trip to the database per
// question, measured in the same run on the same questions.
func BenchmarkCoverage(b *testing.B) {
	const licensees, licencesEach, sellers = 10_000, 10, 5_000
	svc, pool := newTestService(b)
	ctx := context.Background()
	seedStart := time.Now()
	ids := seedBenchRegistry(b, pool, licensees, licencesEach, sellers)
	b.Logf("seeded %d licensees, %d licences, %d authorisations in %s", licensees, licensees*licencesEach, 2*sellers, time.Since(seedStart).Round(time.Millisecond))

	loadStart := time.Now()
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	b.Logf("snapshot loaded in %s", time.Since(loadStart).Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(1, 2))
	questions := make([]CoverageQuery, 4096)
	properties := []string{"PARIS2024", "LA28"}
	for i := range questions {
		q := CoverageQuery{Property: properties[rng.IntN(len(properties))], Category: Categories[rng.IntN(6)].Code,
			Country: benchCountries[rng.IntN(len(benchCountries))], On: testNow}
		switch r := rng.IntN(10); {
		case r < 6: // a licensee selling its own goods
			q.SellerID, q.LicenseeID = int64(100_000+i), ids[rng.IntN(len(ids))]
		case r < 9: // an authorised reseller
			q.SellerID = int64(1 + rng.IntN(sellers))
		default: // an independent seller
			q.SellerID = int64(900_000 + i)
		}
		questions[i] = q
	}
	// Both paths must agree before either is timed.
	for _, q := range questions[:256] {
		a, errA := svc.Coverage(ctx, q)
		d, errD := svc.CoverageFromDatabase(ctx, q)
		if errA != nil || errD != nil || a.Allowed != d.Allowed || a.Reason != d.Reason {
			b.Fatalf("%+v: snapshot %v %s %v, database %v %s %v", q, a.Allowed, a.Reason, errA, d.Allowed, d.Reason, errD)
		}
	}

	dbTimes := make([]time.Duration, 0, 2000)
	for i := range cap(dbTimes) {
		start := time.Now()
		if _, err := svc.CoverageFromDatabase(ctx, questions[i%len(questions)]); err != nil {
			b.Fatal(err)
		}
		dbTimes = append(dbTimes, time.Since(start))
	}

	snapTimes := make([]time.Duration, 0, 1<<20)
	i := 0
	for b.Loop() {
		start := time.Now()
		if _, err := svc.Coverage(ctx, questions[i%len(questions)]); err != nil {
			b.Fatal(err)
		}
		if len(snapTimes) < cap(snapTimes) {
			snapTimes = append(snapTimes, time.Since(start))
		}
		i++
	}
	snapP99, dbP99 := p99(snapTimes), p99(dbTimes)
	b.ReportMetric(float64(snapP99.Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(dbP99.Nanoseconds()), "db-p99-ns")
	b.ReportMetric(float64(dbP99)/float64(max(snapP99, 1)), "db/snapshot-p99")
	b.Logf("coverage p99: snapshot %s, database %s (%.0f× faster) over %d and %d questions",
		snapP99, dbP99, float64(dbP99)/float64(max(snapP99, 1)), len(snapTimes), len(dbTimes))
}

func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)*99)/100]
}

var benchCountries = []string{"FR", "DE", "BE", "US", "JP", "GB", "IT", "ES", "CN", "BR", "CA", "AU", "KR", "NL", "CH", "MX"}

// seedBenchRegistry copies a large registry in (CopyFrom: inserting 100,000 licences one by
// one would take minutes) and returns the licensee ids.
func seedBenchRegistry(b *testing.B, pool *pgxpool.Pool, licensees, licencesEach, sellers int) []int64 {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"licensees"}, []string{"name", "country", "contact_email"},
		pgx.CopyFromSlice(licensees, func(i int) ([]any, error) {
			return []any{fmt.Sprintf("Bench Licensee %05d", i), benchCountries[i%len(benchCountries)], "licensing@example.com"}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	rows, err := pool.Query(ctx, "SELECT id FROM licensees WHERE name LIKE 'Bench Licensee %' ORDER BY id")
	if err != nil {
		b.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		b.Fatal(err)
	}
	properties := []string{"PARIS2024", "LA28"}
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"licences"},
		[]string{"number", "licensee_id", "property", "categories", "territories", "valid_from", "valid_to", "royalty_bps", "status", "status_reason", "version"},
		pgx.CopyFromSlice(licensees*licencesEach, func(n int) ([]any, error) {
			i, k := n/licencesEach, n%licencesEach
			// Each licence of a licensee has its own property and category pair, so no two
			// overlap, as the service would insist.
			cats := []string{Categories[k%6].Code, Categories[6+k/2%6].Code}
			var terr []string
			if rng.IntN(20) == 0 {
				terr = []string{World}
			} else {
				for _, j := range rng.Perm(len(benchCountries))[:1+rng.IntN(6)] {
					terr = append(terr, benchCountries[j])
				}
				slices.Sort(terr)
			}
			from := day(-rng.IntN(1500))
			to := from.AddDate(0, 0, 30+rng.IntN(2000))
			status, reason := StatusActive, ""
			switch rng.IntN(20) {
			case 0:
				status, reason = StatusSuspended, "bench"
			case 1:
				status, reason = StatusTerminated, "bench"
			}
			return []any{fmt.Sprintf("BL-%05d-%02d", i, k), ids[i], properties[k%2], cats, terr, from, to, 500 + rng.IntN(1500), status, reason, int64(1)}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"reseller_authorisations"}, []string{"licensee_id", "seller_id", "territories", "version"},
		pgx.CopyFromSlice(2*sellers, func(n int) ([]any, error) {
			return []any{ids[(n*7919)%len(ids)], int64(1 + n/2), []string{benchCountries[n%len(benchCountries)], benchCountries[(n+3)%len(benchCountries)]}, int64(1)}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return ids
}
