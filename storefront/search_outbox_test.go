package storefront

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"marketplace/catalog"
	"marketplace/internal/money"
)

// TestFollowerIndexesAChangeThatCommitsLate proves the follower cannot skip a change: the
// change with the lower outbox id commits after the follower has already applied a higher one
// (ids are taken in insertion order, but become visible in commit order); both listings are
// found in the end, and the store says it has caught up only once both are applied. Ready
// (for /readyz) waits for the first catch-up, then for a change that waits too long.
func TestFollowerIndexesAChangeThatCommitsLate(t *testing.T) {
	t.Parallel()
	var lag atomic.Int64 // how far the store's clock is ahead
	w := newWorld(t, Options{Now: func() time.Time { return time.Now().Add(time.Duration(lag.Load())) }})
	ctx := context.Background()
	mb := w.licenseeSeller("Maison Bleue Textiles")
	early := w.list("early", mb.ID, catalog.NewListing{Title: "Paris 2024 scarf", Price: money.New(3000, "EUR"),
		Territories: []string{"FR"}, Property: "PARIS2024", Category: "apparel"}, catalog.StatusPending)
	late := w.list("late", mb.ID, catalog.NewListing{Title: "Paris 2024 mug", Price: money.New(1500, "EUR"),
		Territories: []string{"FR"}, Property: "PARIS2024", Category: "apparel"}, catalog.StatusPending)
	if err := w.store.Ready(ctx); err == nil {
		t.Fatal("ready before search has caught up with the catalogue")
	}
	w.sync()
	if err := w.store.Ready(ctx); err != nil {
		t.Fatalf("not ready after catching up: %v", err)
	}

	// The slow transaction takes the lower outbox id and stays open.
	slow, err := w.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = slow.Rollback(ctx) }()
	if err := w.cat.SetListingStatus(ctx, slow, early.ID, catalog.StatusLive, "test"); err != nil {
		t.Fatal(err)
	}
	// A quick one takes a higher id and commits; the follower applies it.
	w.setStatus(late.ID, catalog.StatusLive)
	w.sync()
	if r := w.mustSearch(t, marketFR, "q=mug"); r.Total != 1 {
		t.Fatalf("the committed change is not applied: %d results for mug", r.Total)
	}
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	caught, err := w.store.CaughtUp(ctx)
	if err != nil || caught {
		t.Fatalf("caught up %v (%v) with a committed change not applied", caught, err)
	}
	// A change just made leaves the server ready (under a stream of writes it would never be
	// otherwise); one left waiting a minute does not.
	if err := w.store.Ready(ctx); err != nil {
		t.Fatalf("not ready with a change a moment old: %v", err)
	}
	lag.Store(int64(2 * time.Minute))
	if err := w.store.Ready(ctx); err == nil {
		t.Fatal("ready with a change waiting for two minutes")
	}
	w.sync()
	if r := w.mustSearch(t, marketFR, "q=scarf"); r.Total != 1 {
		t.Fatalf("the change that committed late was skipped: %d results for scarf", r.Total)
	}
	caught, err = w.store.CaughtUp(ctx)
	if err != nil || !caught {
		t.Fatalf("not caught up (%v, %v) after applying everything", caught, err)
	}
	if err := w.store.Ready(ctx); err != nil {
		t.Fatalf("not ready after applying everything: %v", err)
	}
}
