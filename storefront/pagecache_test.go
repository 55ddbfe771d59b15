package storefront

import (
	"testing"
	"time"

	"marketplace/catalog"
)

// TestPageCacheEvictsTheLeastRecentlyUsed proves a full page cache pushes out the page asked
// for least lately (not everything at once, as a crawler would otherwise make it), and that
// the pages of a slug still leave together when the listing changes.
func TestPageCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	pc := newPageCache(3)
	pc.setTTL(time.Minute)
	for _, slug := range []string{"a", "b", "c"} {
		pc.put("product|"+slug, slug, pageEntry{status: 200})
	}
	if _, ok := pc.get("product|a"); !ok {
		t.Fatal("a page just stored is missing")
	}
	pc.put("search|x", "", pageEntry{status: 200})
	if _, ok := pc.get("product|b"); ok {
		t.Error("the least recently used page was kept")
	}
	if _, ok := pc.bySlug["b"]; ok {
		t.Error("an evicted page is still listed under its slug")
	}
	for _, key := range []string{"product|a", "product|c", "search|x"} {
		if _, ok := pc.get(key); !ok {
			t.Errorf("%s was evicted", key)
		}
	}
	pc.put("product|a|fr", "a", pageEntry{status: 200}) // a second rendering of a
	pc.drop("a")
	for _, key := range []string{"product|a", "product|a|fr"} {
		if _, ok := pc.get(key); ok {
			t.Errorf("%s outlived its listing's change", key)
		}
	}
	if len(pc.bySlug) != 1 || len(pc.bySlug["c"]) != 1 {
		t.Errorf("slugs left: %v", pc.bySlug)
	}
}

// TestResultCacheEvictsTheLeastRecentlyUsedListing is the same for product pages' listings:
// the evicted listing's id no longer points at its slug.
func TestResultCacheEvictsTheLeastRecentlyUsedListing(t *testing.T) {
	c := newResultCache(time.Minute, 2)
	for i, slug := range []string{"a", "b"} {
		c.putListing(c.generation(), slug, listingEntry{listing: catalog.Listing{ID: int64(i + 1)}})
	}
	c.listing("a") // a is used: b is now the least recently used
	c.putListing(c.generation(), "c", listingEntry{listing: catalog.Listing{ID: 3}})
	if _, _, ok := c.listing("b"); ok {
		t.Error("the least recently used listing was kept")
	}
	if _, ok := c.slugOf[2]; ok {
		t.Error("an evicted listing's id still points at its slug")
	}
	if got := c.changed(1); got != "a" {
		t.Errorf("listing 1 changed: slug %q, want a", got)
	}
	if _, _, ok := c.listing("a"); ok {
		t.Error("a changed listing is still cached")
	}
}
