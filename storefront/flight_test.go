package storefront

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// gatedEngine is the real engine with a gate before each search: the test decides when the
// fill goes on, so it can cancel a caller mid-fill. A search honours its context, as a
// database query does.
type gatedEngine struct {
	Engine
	started chan struct{}
	release chan struct{}
	calls   atomic.Int32
}

func (g *gatedEngine) Search(ctx context.Context, q SearchQuery, groups []int32) (SearchResult, error) {
	if g.calls.Add(1) == 1 {
		close(g.started)
	}
	select {
	case <-g.release:
	case <-ctx.Done():
		return SearchResult{}, ctx.Err()
	}
	return g.Engine.Search(ctx, q, groups)
}

// TestSharedFillSurvivesTheFanWhoLeft proves a fill shared by concurrent requests does not end
// with the request that started it: the first fan's context is cancelled mid-fill, and the
// fan who joined the fill still gets the answer; a third fan who gives up stops waiting at
// once, without a result.
func TestSharedFillSurvivesTheFanWhoLeft(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{})
	w.standard()
	w.sync()
	gate := &gatedEngine{Engine: w.store.engine, started: make(chan struct{}), release: make(chan struct{})}
	w.store.engine = gate
	v, err := url.ParseQuery("q=tee")
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseSearch(v, marketFR, []string{"PARIS2024"})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		r   SearchResult
		err error
	}
	first, leave := context.WithCancel(context.Background())
	firstDone := make(chan answer, 1)
	go func() {
		r, err := w.store.Search(first, q)
		firstDone <- answer{r, err}
	}()
	<-gate.started
	secondDone := make(chan answer, 1)
	go func() {
		r, err := w.store.Search(context.Background(), q)
		secondDone <- answer{r, err}
	}()
	impatient, giveUp := context.WithCancel(context.Background())
	thirdDone := make(chan answer, 1)
	go func() {
		r, err := w.store.Search(impatient, q)
		thirdDone <- answer{r, err}
	}()
	time.Sleep(100 * time.Millisecond) // the others join the fill under way
	leave()
	giveUp()
	select {
	case a := <-thirdDone:
		if !errors.Is(a.err, context.Canceled) {
			t.Fatalf("the fan who gave up got %+v, %v", a.r, a.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the fan who gave up is still waiting for the shared fill")
	}
	time.Sleep(50 * time.Millisecond) // the fill would see the first fan's cancellation now
	close(gate.release)
	select {
	case a := <-secondDone:
		if a.err != nil || a.r.Total == 0 {
			t.Fatalf("the fan who stayed got %d results, %v", a.r.Total, a.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fan who stayed got no answer")
	}
	<-firstDone
	if n := gate.calls.Load(); n != 1 {
		t.Fatalf("%d searches reached the engine, want 1 shared fill", n)
	}
}

// TestSharedPageFillSurvivesTheFanWhoLeft is the same through HTTP and the page cache: the
// first fan's browser disconnects while its search page is being built, and the fan whose
// request joined that build still gets the page with the result.
func TestSharedPageFillSurvivesTheFanWhoLeft(t *testing.T) {
	t.Parallel()
	w := newWorld(t, Options{CacheTTL: time.Minute})
	w.standard()
	w.sync()
	gate := &gatedEngine{Engine: w.store.engine, started: make(chan struct{}), release: make(chan struct{})}
	w.store.engine = gate
	s := newSite(t, w)
	first, leave := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(first, http.MethodGet, s.ts.URL+"/search?q=tee", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "fr-FR")
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-gate.started
	type page struct {
		status int
		body   string
	}
	second := make(chan page, 1)
	go func() {
		req, err := http.NewRequest(http.MethodGet, s.ts.URL+"/search?q=tee", nil)
		if err != nil {
			second <- page{0, err.Error()}
			return
		}
		req.Header.Set("Accept-Language", "fr-FR")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			second <- page{0, err.Error()}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			second <- page{0, err.Error()}
			return
		}
		second <- page{resp.StatusCode, string(b)}
	}()
	time.Sleep(100 * time.Millisecond) // the second request joins the build under way
	leave()
	time.Sleep(100 * time.Millisecond) // the server sees the first browser gone
	close(gate.release)
	select {
	case p := <-second:
		if p.status != http.StatusOK || !strings.Contains(p.body, "Phryge") {
			t.Fatalf("the fan who stayed got %d: %.300s", p.status, p.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fan who stayed got no page")
	}
	if n := gate.calls.Load(); n != 1 {
		t.Fatalf("%d searches reached the engine, want 1 shared fill", n)
	}
}
