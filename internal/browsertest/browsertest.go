// Package browsertest drives Debian's headless Chromium (through chromedp) against a server the
// test started, the way a person would use it, and keeps a screenshot of each step under
// artifacts/screenshots/ for people to look at.
//
// Without Chromium the tests skip, unless BROWSER_REQUIRED=1 (make test, CI), which turns a
// missing browser into a failure; scripts/test.sh installs Debian's chromium when it is missing.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// Browser is one headless Chromium with one tab, closed when the test ends.
type Browser struct {
	Ctx     context.Context
	BaseURL string
	t       testing.TB
	shots   int
	dir     string
}

// Options adjust a browser.
type Options struct {
	Phone    bool   // emulate a phone (iPhone 13 viewport, touch, mobile user agent)
	Language string // Accept-Language, e.g. "fr-FR,fr"
}

// New starts a browser for the test against baseURL.
func New(t testing.TB, baseURL string, opts Options) *Browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("BROWSER_REQUIRED") == "1" {
			t.Fatal("browsertest: Chromium is required (BROWSER_REQUIRED=1) but not installed: apt-get install chromium")
		}
		t.Skip("browsertest: no Chromium (apt-get install chromium)")
	}
	// Not t.TempDir: Chromium may still be writing its profile when the test's cleanup runs.
	profile, err := os.MkdirTemp("", "browsertest-")
	if err != nil {
		t.Fatal(err)
	}
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // we run as root in CI; the sandbox refuses root
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	if opts.Language != "" {
		flags = append(flags, chromedp.Flag("lang", strings.Split(opts.Language, ",")[0]))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc(); os.RemoveAll(profile) })

	var setup []chromedp.Action
	if opts.Phone {
		setup = append(setup, chromedp.Emulate(device.IPhone13))
	}
	if opts.Language != "" {
		setup = append(setup, network.Enable(), network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": opts.Language}))
	}
	if err := chromedp.Run(ctx, setup...); err != nil {
		t.Fatalf("browsertest: start Chromium: %v", err)
	}
	return &Browser{Ctx: ctx, BaseURL: strings.TrimSuffix(baseURL, "/"), t: t, dir: screenshotDir(t)}
}

// Run performs actions, failing the test (with a screenshot of where it stopped) on error.
func (b *Browser) Run(actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.Ctx, actions...); err != nil {
		b.Screenshot("failure")
		b.t.Fatalf("browser: %v", err)
	}
}

// Open navigates to a path of the server and waits for the page's body.
func (b *Browser) Open(path string) {
	b.t.Helper()
	b.Run(chromedp.Navigate(b.BaseURL+path), chromedp.WaitReady("body", chromedp.ByQuery))
}

// Text returns the visible text of the first element matching the CSS selector.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	var s string
	b.Run(chromedp.Text(selector, &s, chromedp.ByQuery, chromedp.NodeVisible))
	return strings.TrimSpace(s)
}

// Location returns the current URL's path and query.
func (b *Browser) Location() string {
	b.t.Helper()
	var loc string
	b.Run(chromedp.Location(&loc))
	return strings.TrimPrefix(loc, b.BaseURL)
}

// Submit fills the fields (CSS selector → value) and clicks submit, waiting for the next page.
func (b *Browser) Submit(fields map[string]string, submit string) {
	b.t.Helper()
	var actions []chromedp.Action
	for sel, v := range fields {
		actions = append(actions, chromedp.SetValue(sel, v, chromedp.ByQuery))
	}
	b.Run(actions...)
	b.ClickAndWait(submit)
}

// ClickAndWait clicks an element that leads to another page (a link, a submit button) and
// waits until the new page has loaded, so the next read sees the new page, not the old one.
func (b *Browser) ClickAndWait(selector string) {
	b.t.Helper()
	b.Run(chromedp.Evaluate(`window.__browsertestOld = true`, nil),
		chromedp.Click(selector, chromedp.ByQuery))
	deadline := time.Now().Add(20 * time.Second)
	for {
		var loaded bool
		err := chromedp.Run(b.Ctx, chromedp.Evaluate(`window.__browsertestOld === undefined && document.readyState === "complete"`, &loaded))
		if err == nil && loaded {
			return
		}
		if time.Now().After(deadline) {
			b.Screenshot("failure")
			b.t.Fatalf("browser: clicking %s led to no new page", selector)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Screenshot saves a full-page PNG named for the test and step, and returns its path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	b.shots++
	var png []byte
	if err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		b.t.Logf("browsertest: screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shots, sanitize(name)))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("browsertest: %v", err)
		return ""
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDir is artifacts/screenshots/<test> at the module's root.
func screenshotDir(t testing.TB) string {
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := root; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			root = dir
			break
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	dir := filepath.Join(root, "artifacts", "screenshots", sanitize(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func sanitize(s string) string { return unsafeChars.ReplaceAllString(s, "_") }
