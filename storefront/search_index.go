package storefront

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"marketplace/catalog"
	"marketplace/internal/fault"
	"marketplace/internal/money"
	"marketplace/internal/postgres"
	"marketplace/licensing"
)

// followerName is the row in search_followers of the index follower.
const followerName = "search"

// batchSize is how many outbox rows one follower step applies.
const batchSize = 500

// Start runs the follower until Close: it applies the catalogue's outbox to the search engine
// whenever a NOTIFY on catalog_changes arrives, every PollInterval in case one was lost, and
// after each (re)connection (postgres.Follower). A notification's listing also leaves this
// process's caches.
func (s *Store) Start(ctx context.Context) (err error) {
	defer fault.Annotate(&err, "storefront.Start()")
	s.follower = &postgres.Follower{
		Pool:    s.db,
		Channel: catalog.ChangesNotifyChannel,
		Poll:    s.poll,
		Handle:  s.follow,
		Name:    "search follower",
		Log:     s.log,
	}
	// The follower outlives ctx's cancellation (only Close stops it) but keeps its values.
	s.follower.Start(context.WithoutCancel(ctx))
	return nil
}

// Close stops the follower and waits for it.
func (s *Store) Close() {
	if s.follower != nil {
		s.follower.Close()
		s.follower = nil
	}
}

// follow handles one wake-up of the follower: n names the changed listing, or is nil for a
// poll or a catch-up.
func (s *Store) follow(ctx context.Context, n *pgconn.Notification) {
	if n != nil {
		if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			s.listingChanged(id)
		}
	}
	if _, err := s.SyncOnce(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("search follower: apply", "err", err)
	}
}

// SyncOnce applies every outbox change not yet applied, in batches, and returns how many
// changes it applied. Concurrent followers (other processes) take turns on the follower row.
func (s *Store) SyncOnce(ctx context.Context) (_ int, err error) {
	defer fault.Annotate(&err, "storefront.SyncOnce()")
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	total := 0
	for {
		n, err := s.syncBatch(ctx)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			s.caughtUp.Store(true)
			return total, nil
		}
	}
}

// syncBatch applies the next batch of outbox changes and consumes them, in one transaction:
// the follower row's lock makes concurrent followers (other processes) take turns, and the
// outbox rows are deleted only if the batch was applied (ConsumeChanges). Consuming rather
// than remembering the last id read is what makes the follower unable to skip: outbox ids are
// taken in insertion order but become visible in commit order, so a transaction that commits
// late leaves rows below an id already read. We chose it over River jobs per change (the
// catalogue would have to know the storefront's job) and over following by transaction
// snapshot (an xid8 column and a position read against the cluster's oldest running
// transaction, which any idle transaction anywhere would hold back). The transaction may run
// again (postgres.Tx retries a deadlock): that applies the batch to the engine twice, which
// the Engine contract makes harmless. The listings are read through the catalogue's service,
// on its own connections: the slice does not read the catalogue's tables.
func (s *Store) syncBatch(ctx context.Context) (int, error) {
	var (
		n   int
		ids []int64
	)
	err := postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		n, ids = 0, nil
		if err := s.takeTurn(ctx, tx); err != nil {
			return err
		}
		changes, err := s.cat.ConsumeChanges(ctx, tx, batchSize)
		if err != nil || len(changes) == 0 {
			return err
		}
		seen := map[int64]bool{}
		for _, c := range changes {
			if !seen[c.ListingID] {
				seen[c.ListingID] = true
				ids = append(ids, c.ListingID)
			}
		}
		docs, gone, err := s.documents(ctx, ids)
		if err != nil {
			return err
		}
		if err := s.engine.Apply(ctx, docs, gone); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE search_followers SET last_id = $2, updated_at = now() WHERE name = $1`,
			followerName, changes[len(changes)-1].ID); err != nil {
			return err
		}
		n = len(changes)
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		s.listingChanged(id)
	}
	return n, nil
}

// takeTurn locks the follower row in tx, so one follower at a time applies the outbox (two
// applying the same listing at once could leave the older read in the engine).
func (s *Store) takeTurn(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `INSERT INTO search_followers (name) VALUES ($1) ON CONFLICT DO NOTHING`, followerName); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `SELECT 1 FROM search_followers WHERE name = $1 FOR UPDATE`, followerName)
	return err
}

// CaughtUp reports whether the index holds every committed change of the catalogue: the
// outbox has nothing left to consume.
func (s *Store) CaughtUp(ctx context.Context) (_ bool, err error) {
	defer fault.Annotate(&err, "storefront.CaughtUp()")
	_, pending, err := s.cat.OldestPendingChange(ctx)
	if err == nil && !pending {
		s.caughtUp.Store(true)
	}
	return !pending, err
}

// readyLag is how far behind the catalogue search may fall, once it has caught up, before the
// server says it is not ready: the follower is stuck, or far behind.
const readyLag = time.Minute

// Ready answers for /readyz: nil once the index has caught up with the catalogue since this
// process started (so a server started after a seed is ready only when search finds what the
// seed made), and as long as no change waits longer than readyLag. A change just made does not
// make the server unready: under a stream of writes, or during a big import, every server would
// otherwise leave the load balancer at once.
func (s *Store) Ready(ctx context.Context) (err error) {
	defer fault.Annotate(&err, "storefront.Ready()")
	oldest, pending, err := s.cat.OldestPendingChange(ctx)
	switch {
	case err != nil:
		return err
	case !pending:
		s.caughtUp.Store(true)
		return nil
	case !s.caughtUp.Load():
		return errors.New("the search index has not caught up with the catalogue yet")
	case s.now().Sub(oldest) > readyLag:
		return fmt.Errorf("the search index is %s behind the catalogue", s.now().Sub(oldest).Round(time.Second))
	}
	return nil
}

// documents reads listings ids afresh and returns the documents of those a fan could find and
// the ids of the others (gone, not live, or naming no property or category).
func (s *Store) documents(ctx context.Context, ids []int64) ([]Document, []int64, error) {
	var docs []Document
	var gone []int64
	sellers := map[int64]catalog.Seller{}
	for _, id := range ids {
		l, err := s.cat.Listing(ctx, id)
		if fault.Is(err, fault.NotFound) {
			gone = append(gone, id)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		d, ok, err := s.document(ctx, l, sellers)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			docs = append(docs, d)
		} else {
			gone = append(gone, id)
		}
	}
	return docs, gone, nil
}

// document builds the search document of l; ok is false when l must not be findable.
func (s *Store) document(ctx context.Context, l catalog.Listing, sellers map[int64]catalog.Seller) (Document, bool, error) {
	if l.Status != catalog.StatusLive || l.Property == "" || l.Category == "" {
		return Document{}, false, nil
	}
	seller, ok := sellers[l.SellerID]
	if !ok {
		var err error
		if seller, err = s.cat.Seller(ctx, l.SellerID); err != nil {
			return Document{}, false, err
		}
		sellers[l.SellerID] = seller
	}
	if seller.Status != catalog.SellerActive {
		return Document{}, false, nil
	}
	gid, err := s.groupID(ctx, saleGroup{SellerID: seller.ID, LicenseeID: seller.LicenseeID, Property: l.Property, Category: l.Category})
	if err != nil {
		return Document{}, false, err
	}
	licensee := l.LicenseeID
	if licensee == 0 {
		licensee = seller.LicenseeID
	}
	name, err := s.licenseeName(ctx, licensee)
	if err != nil && !fault.Is(err, fault.NotFound) {
		return Document{}, false, err
	}
	d := Document{ListingID: l.ID, Slug: l.Slug, Title: l.Title, Summary: summary(l.Description, 200), Property: l.Property,
		Category: l.Category, LicenseeID: licensee, LicenseeName: name, SellerID: seller.ID, SellerName: seller.Name,
		Official: l.Official, GroupID: gid, Territories: l.Territories, SKUs: []string{}, GTINs: []string{}, Price: l.Price,
		Prices: map[string]money.Money{}, Bands: map[string]int{}, Stock: l.Stock, CreatedAt: l.CreatedAt}
	if l.ClaimedSKU != "" {
		d.SKUs = append(d.SKUs, strings.ToUpper(l.ClaimedSKU))
	}
	product, err := s.productOf(ctx, l)
	if err != nil {
		return Document{}, false, err
	}
	titles, descriptions := []string{l.Title}, []string{l.Description}
	if product != nil {
		if product.Status != catalog.ProductApproved {
			return Document{}, false, nil
		}
		d.Titles = map[string]string{}
		for lang, t := range product.Texts {
			d.Titles[lang] = t.Title
			titles = append(titles, t.Title)
			descriptions = append(descriptions, t.Description)
		}
		d.Stock = product.Stock()
		for _, v := range product.Variants {
			d.SKUs = append(d.SKUs, strings.ToUpper(v.SKU))
			if v.GTIN != "" {
				d.GTINs = append(d.GTINs, v.GTIN)
			}
		}
	}
	for _, cur := range Currencies {
		// In a currency the product (or listing) has no price in, it shows its own main
		// price in its own currency: the storefront converts nothing.
		p, _ := marketPrice(l, product, cur)
		d.Prices[cur] = p
		d.Bands[cur] = PriceBand(p)
	}
	if len(l.Images) > 0 {
		d.ImageID = l.Images[0].ID
	}
	names := []string{l.Property, name, seller.Name, strings.Join(d.SKUs, " "), strings.Join(d.GTINs, " ")}
	names = append(names, categoryWords(l.Category)...)
	d.Text = [3]string{foldText(strings.Join(titles, " ")), foldText(strings.Join(names, " ")), foldText(strings.Join(descriptions, " "))}
	return d, true, nil
}

func summary(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	if i := strings.LastIndexByte(string(r), ' '); i > n/2 {
		return string(r)[:i] + "…"
	}
	return string(r) + "…"
}

// Reindex rebuilds the engine's documents from every live listing. In one transaction it
// consumes the outbox as it stands when the rebuild begins (the rebuild reads every listing
// afterwards, so it covers those changes) and commits after the rebuild, so a failed rebuild
// leaves the outbox as it was; changes committed meanwhile stay for the follower, which applies
// them again (harmless). Returns how many documents it wrote.
func (s *Store) Reindex(ctx context.Context) (_ int, err error) {
	defer fault.Annotate(&err, "storefront.Reindex()")
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	n := 0
	err = postgres.Tx(ctx, s.db, func(tx pgx.Tx) error {
		n = 0
		if err := s.takeTurn(ctx, tx); err != nil {
			return err
		}
		var last int64
		for {
			changes, err := s.cat.ConsumeChanges(ctx, tx, 5000)
			if err != nil {
				return err
			}
			if len(changes) == 0 {
				break
			}
			last = changes[len(changes)-1].ID
		}
		if err := s.engine.Reset(ctx); err != nil {
			return err
		}
		sellers := map[int64]catalog.Seller{}
		var after int64
		for {
			page, err := s.cat.Listings(ctx, catalog.ListingFilter{Status: catalog.StatusLive, AfterID: after, Limit: 500, WithImages: true})
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			var docs []Document
			for _, l := range page {
				d, ok, err := s.document(ctx, l, sellers)
				if err != nil {
					return err
				}
				if ok {
					docs = append(docs, d)
				}
			}
			if err := s.engine.Apply(ctx, docs, nil); err != nil {
				return err
			}
			n += len(docs)
			after = page[len(page)-1].ID
		}
		if last == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE search_followers SET last_id = $2, updated_at = now() WHERE name = $1`, followerName, last)
		return err
	})
	if err != nil {
		return n, err
	}
	s.cache.invalidate()
	s.pages.setTTL(s.pagesTTL())
	return n, nil
}

// FollowerPosition is the id of the last outbox change the follower applied (for looking:
// the follower consumes the outbox and does not read from this position).
func (s *Store) FollowerPosition(ctx context.Context) (_ int64, err error) {
	defer fault.Annotate(&err, "storefront.FollowerPosition()")
	var last int64
	err = s.db.QueryRow(ctx, `SELECT last_id FROM search_followers WHERE name = $1`, followerName).Scan(&last)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return last, err
}

// categoryWords are a category's code and its names in every page language, so a fan finds
// apparel by typing "vêtements" or "服装".
func categoryWords(code string) []string {
	words := []string{strings.ReplaceAll(code, "_", " ")}
	if names, ok := categoryNames[code]; ok {
		words = append(words, names.en, names.fr, names.zh)
	}
	if !licensing.IsCategory(code) {
		return words[:1]
	}
	return words
}
