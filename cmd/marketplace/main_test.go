package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"marketplace/internal/postgres/pgtest"
)

// startMain runs the whole program with the demo world loaded (runMain, then Seed).
func startMain(t *testing.T, settings ...string) *Main {
	t.Helper()
	m, _ := runMain(t, settings...)
	if err := m.Seed(context.Background(), io.Discard); err != nil {
		t.Fatal(err)
	}
	return m
}

// runMain runs the whole program on a fresh, empty database and a free port, as `serve` would;
// settings are more environment variables, as name, value pairs. It returns the program and the
// environment it was started with, for commands run beside it.
func runMain(t *testing.T, settings ...string) (*Main, map[string]string) {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL": pgtest.NewURL(t, Schemas()...),
		"HTTP_ADDR":    "127.0.0.1:0",
		"DATA_DIR":     t.TempDir(),
		"WORKERS":      "2",
		"PAYMENTS":     "test",
	}
	for i := 0; i+1 < len(settings); i += 2 {
		env[settings[i]] = settings[i+1]
	}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logw := io.Discard
	if testing.Verbose() {
		logw = os.Stderr
	}
	m := &Main{Config: cfg, Log: slog.New(slog.NewTextHandler(logw, nil))}
	if err := m.Run(context.Background(), RunOptions{Serve: true, Work: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m, env
}

func (m *Main) url(path string) string { return "http://" + m.Addr + path }

// client is a person's browser without the browser: a cookie jar, no redirects followed.
type client struct {
	t    *testing.T
	http *http.Client
	m    *Main
}

func newClient(t *testing.T, m *Main) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, m: m, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(body)
}

func (c *client) get(path string, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.m.url(path), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

func (c *client) postForm(path string, form url.Values, header ...string) (*http.Response, string) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.m.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return c.do(req)
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf reads the form token a page hands out.
func (c *client) csrf(path string) string {
	c.t.Helper()
	_, body := c.get(path)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

func (c *client) login(email, password string) *http.Response {
	c.t.Helper()
	token := c.csrf("/login")
	resp, _ := c.postForm("/login", url.Values{"_csrf": {token}, "email": {email}, "password": {password}})
	return resp
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
