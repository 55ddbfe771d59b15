// Package stripetest starts stripe-mock (Stripe's own stateless mock of its API, pinned as a Go
// tool in go.mod) for tests, so payment code is tested against the real request shapes rather
// than a double of our own.
//
// The binary is built once per machine from the pinned module (`go build
// github.com/stripe/stripe-mock`) and one server runs per test process; it keeps no state, so
// tests share it. Without a Go toolchain to build it the tests skip, unless PGTEST_REQUIRED or
// STRIPETEST_REQUIRED is 1 (make test, CI), which turns that into a failure.
package stripetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Key is a secret key stripe-mock accepts (it must look like sk_test_123, with no further
// underscores).
const Key = "sk_test_123"

// Version is the stripe-mock the module pins.
const Version = "v0.203.0"

var (
	once   sync.Once
	apiURL string
	err    error
)

// URL returns the base URL of a running stripe-mock (such as http://127.0.0.1:41234), starting
// it on first use. The server lives until the test process exits.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() { apiURL, err = start() })
	if err != nil {
		if os.Getenv("STRIPETEST_REQUIRED") == "1" || os.Getenv("PGTEST_REQUIRED") == "1" {
			t.Fatalf("stripetest: %v", err)
		}
		t.Skipf("stripetest: %v", err)
	}
	return apiURL
}

func start() (string, error) {
	bin, err := build()
	if err != nil {
		return "", err
	}
	// Both listeners on ephemeral ports: the default HTTPS port would clash between test
	// processes running at once. A small shell keeps the server only as long as its standard
	// input (a pipe this process holds) stays open, so the server ends with the test process
	// however that ends.
	cmd := exec.Command("sh", "-c", `"$@" & pid=$!; read _; kill $pid`, "sh",
		bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	// The pipe's write end stays open while cmd is referenced: the goroutine waiting on it
	// below keeps it so for the life of the process.
	if _, err := cmd.StdinPipe(); err != nil {
		return "", err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start stripe-mock: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "Listening for HTTP at address: "); ok {
				found <- strings.TrimSpace(addr)
				break
			}
		}
		_, _ = io.Copy(io.Discard, out) // keep the pipe drained while the server runs
	}()
	select {
	case addr := <-found:
		base := "http://" + addr
		if err := ping(base); err != nil {
			_ = cmd.Process.Kill()
			return "", err
		}
		return base, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return "", fmt.Errorf("stripe-mock did not say where it listens within 30 s")
	}
}

// ping waits for the server to answer an authenticated request.
func ping(base string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/v1/balance", nil)
		req.Header.Set("Authorization", "Bearer "+Key)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stripe-mock does not answer: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// build compiles the pinned stripe-mock into the user's cache once; concurrent test processes
// each build to a temporary name and rename, so none sees a half-written binary.
func build() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "marketplace-stripetest")
	bin := filepath.Join(dir, "stripe-mock-"+Version)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.Command(gobin, "build", "-o", tmp, "github.com/stripe/stripe-mock")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build stripe-mock %s: %v\n%s", Version, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}
