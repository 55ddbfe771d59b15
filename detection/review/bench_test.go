package review

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"marketplace/catalog"
	"marketplace/detection"
	"marketplace/internal/postgres/pgtest"
	"marketplace/internal/web"
	"marketplace/licensing"
)

// BenchmarkReviewAtScale measures the analysts' reads and the claim over a year of cases:
// REVIEW_BENCH_CASES cases (default 200,000) on as many listings of 2,000 sellers, a fifth of
// them open, the rest decided by 20 analysts. Rows are written with set-based SQL (the
// services would take minutes to write them one by one); the figures are per operation.
func BenchmarkReviewAtScale(b *testing.B) {
	n := 200_000
	if s := os.Getenv("REVIEW_BENCH_CASES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("REVIEW_BENCH_CASES: %v", err)
		}
	}
	ctx := context.Background()
	pool := pgtest.New(b, Schemas()...)
	reg := licensing.NewService(pool)
	for _, p := range []string{"PARIS2024", "LA28", "MILANOCORTINA2026", "OLYMPIC"} {
		if _, err := reg.CreateProperty(ctx, reviewAdmin, licensing.Property{Code: p, Name: p, Marks: []licensing.Mark{{Text: p}}}); err != nil {
			b.Fatal(err)
		}
	}
	cat, err := catalog.NewService(pool, reg)
	if err != nil {
		b.Fatal(err)
	}
	pipeline, err := detection.NewService(pool, cat)
	if err != nil {
		b.Fatal(err)
	}
	rv := NewService(pool, cat, pipeline)
	start := time.Now()
	for _, q := range []string{
		`INSERT INTO users (email, role) SELECT 'analyst' || g || '@example.com', 'analyst' FROM generate_series(1, 20) g`,
		`INSERT INTO sellers (kind, name, country, ships_from, created_at)
			SELECT 'independent', 'seller ' || g, 'FR', 'FR', now() - g * interval '3 hours' FROM generate_series(1, 2000) g`,
		`INSERT INTO images (sha256, blob_key, content_type, width, height, bytes) VALUES (decode(repeat('cd', 32), 'hex'), 'x', 'image/jpeg', 10, 10, 10)`,
		`INSERT INTO listings (seller_id, slug, title, property, category, price_amount, currency, territories, ships_from, status)
			SELECT 1 + g % 2000, 'l-' || g, 'Listing ' || g, (ARRAY['PARIS2024','LA28','MILANOCORTINA2026','OLYMPIC'])[1 + g % 4],
				'apparel', 1000 + g % 5000, 'EUR', '{FR}', 'FR', CASE WHEN g % 5 = 0 THEN 'held' ELSE 'removed' END
			FROM generate_series(1, ` + strconv.Itoa(n) + `) g`,
		`INSERT INTO listing_images (listing_id, position, image_id) SELECT id, 0, 1 FROM listings`,
		`INSERT INTO cases (listing_id, seller_id, property, source, score, verdict, rules, status, opened_at, closed_at, decision, decided_at)
			SELECT l.id, l.seller_id, l.property, CASE WHEN l.id % 11 = 0 THEN 'report' ELSE 'screening' END, 30 + l.id % 70,
				CASE WHEN 30 + l.id % 70 >= 70 THEN 'block' ELSE 'review' END,
				ARRAY[(ARRAY['official_photo','known_counterfeit','marks_unlicensed','low_price','counterfeit_words','young_seller',
					'seller_strikes','territory','licence_suspended','removed_listing_photo'])[1 + l.id % 10],
					(ARRAY['low_price','young_seller','counterfeit_words'])[1 + l.id % 3]],
				CASE WHEN l.status = 'held' THEN 'open' ELSE 'closed' END,
				now() - (l.id % 365) * interval '1 day' - (l.id % 24) * interval '1 hour',
				CASE WHEN l.status = 'held' THEN NULL ELSE now() - (l.id % 365) * interval '1 day' + interval '5 hours' END,
				CASE WHEN l.status = 'held' THEN NULL ELSE (ARRAY['counterfeit','unauthorised_seller','authentic','counterfeit'])[1 + l.id % 4] END,
				CASE WHEN l.status = 'held' THEN NULL ELSE now() - (l.id % 365) * interval '1 day' + interval '5 hours' END
			FROM listings l`,
		`INSERT INTO decisions (case_id, listing_id, seller_id, decision, note, analyst_id, analyst_email, decided_at, evidence)
			SELECT c.id, c.listing_id, c.seller_id, c.decision, 'bench', 1 + c.id % 20, 'analyst' || (1 + c.id % 20) || '@example.com',
				c.decided_at, '{}'
			FROM cases c WHERE c.status = 'closed'`,
		`ANALYZE`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
	}
	b.Logf("%d cases written in %s", n, time.Since(start).Round(time.Millisecond))
	if os.Getenv("REVIEW_BENCH_EXPLAIN") != "" {
		for _, q := range []string{
			`SELECT c.id FROM cases c JOIN listings l ON l.id = c.listing_id WHERE c.status = 'open' AND c.property = 'LA28'
				AND c.rules @> ARRAY['known_counterfeit'::text] ORDER BY c.priority DESC, c.opened_at, c.id LIMIT 100`,
			`SELECT count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'waiting'),
				count(*) FILTER (WHERE status = 'open' AND claimed_by IS NULL), min(opened_at) FILTER (WHERE status = 'open'),
				percentile_disc(0.5) WITHIN GROUP (ORDER BY opened_at DESC) FILTER (WHERE status = 'open')
				FROM cases WHERE status <> 'closed'`,
			`SELECT rule, count(*), count(c.decision) FROM cases c CROSS JOIN unnest(c.rules) AS rule
				WHERE c.opened_at >= now() - interval '30 days' AND c.source <> 'appeal' GROUP BY rule`,
			`SELECT analyst_email, count(*) FROM decisions WHERE decided_at >= now() - interval '30 days' GROUP BY analyst_email`,
		} {
			rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q)
			if err != nil {
				b.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					b.Fatal(err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s\n%s", q, strings.Join(plan, "\n"))
		}
	}
	analyst := &web.Identity{UserID: 1, Email: "analyst1@example.com", Role: web.RoleAnalyst}

	b.Run("queue_top100", func(b *testing.B) {
		for b.Loop() {
			if cs, err := rv.Cases(ctx, CaseFilter{}); err != nil || len(cs) != 100 {
				b.Fatalf("%d cases, %v", len(cs), err)
			}
		}
	})
	b.Run("queue_rule_and_property", func(b *testing.B) {
		for b.Loop() {
			if _, err := rv.Cases(ctx, CaseFilter{Rule: "known_counterfeit", Property: "LA28"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("queue_seller", func(b *testing.B) {
		for b.Loop() {
			if _, err := rv.Cases(ctx, CaseFilter{SellerID: 77}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("backlog", func(b *testing.B) {
		for b.Loop() {
			if _, err := rv.Backlog(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("metrics_30d", func(b *testing.B) {
		for b.Loop() {
			if _, err := rv.Metrics(ctx, 30); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("metrics_365d", func(b *testing.B) {
		for b.Loop() {
			if _, err := rv.Metrics(ctx, 365); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("claim_and_release", func(b *testing.B) {
		cs, err := rv.Cases(ctx, CaseFilter{Limit: 1})
		if err != nil || len(cs) == 0 {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := rv.Claim(ctx, analyst, cs[0].ID); err != nil {
				b.Fatal(err)
			}
			if err := rv.Release(ctx, analyst, cs[0].ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
