package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"marketplace/catalog"
	"marketplace/internal/money"
	"marketplace/internal/postgres/pgtest"
)

// TestScreeningResumesAfterKill: listings are submitted, the worker process is killed with
// SIGKILL while screenings are running, and a new one is started. Every listing must be
// screened within a minute of the restart, including those whose jobs the dead process held
// as "running" (River left them so for an hour by default).
//
// The running screenings are made certain, not left to timing: the test locks the first
// listings' rows, so the worker's first screenings wait on them while it is killed.
func TestScreeningResumesAfterKill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.NewURL(t, Schemas()...)
	cfg, err := ConfigFromEnv(func(k string) string {
		return map[string]string{"DATABASE_URL": dbURL, "DATA_DIR": t.TempDir(), "WORKERS": "0"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Config: cfg, Log: discardLogger()}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.Run(ctx, RunOptions{}); err != nil { // inserts jobs, works none
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "marketplace")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	seller, err := m.Catalog.CreateSeller(ctx, catalog.NewSeller{Kind: catalog.SellerIndependent, Name: "Crash Test Tees", Country: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	const n, slots = 60, 4
	ids := make([]int64, n)
	for i := range ids {
		pic := image.NewRGBA(image.Rect(0, 0, 64, 64))
		for p := range pic.Pix {
			pic.Pix[p] = byte(p*(i+3) + i)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, pic); err != nil {
			t.Fatal(err)
		}
		img, err := m.Catalog.PutImage(ctx, buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		l, err := m.Catalog.CreateListing(ctx, seller.ID, catalog.NewListing{Title: fmt.Sprintf("Plain tee %d", i),
			Price: money.New(1500, "EUR"), Stock: 1, Territories: []string{"FR"}, ImageIDs: []int64{img.ID}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = l.ID
	}
	lock, err := m.DB.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback(ctx) }()
	if _, err := lock.Exec(ctx, `SELECT id FROM listings WHERE id = ANY($1) FOR UPDATE`, ids[:slots]); err != nil {
		t.Fatal(err)
	}

	logs := filepath.Join(t.TempDir(), "worker.log")
	startWorker := func() *exec.Cmd {
		t.Helper()
		logFile, err := os.OpenFile(logs, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "worker")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "DATA_DIR="+cfg.DataDir, fmt.Sprintf("WORKERS=%d", slots))
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = logFile.Close() })
		return cmd
	}
	showLog := func() string { b, _ := os.ReadFile(logs); return string(b) }

	first := startWorker()
	// Midway: the locked listings' screenings are running (held by the lock), the rest wait.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var running int
		if err := m.DB.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'running' AND kind = $1`,
			catalog.ScreenListingArgs{}.Kind()).Scan(&running); err != nil {
			t.Fatal(err)
		}
		if running == slots {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d screenings running, want %d:\n%s", running, slots, showLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	if err := lock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var stuck int
	if err := m.DB.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'running'`).Scan(&stuck); err != nil {
		t.Fatal(err)
	}
	if stuck != slots {
		t.Fatalf("after the kill %d jobs are left running, want the %d the dead worker held", stuck, slots)
	}

	restarted := time.Now()
	startWorker()
	for {
		var pending []int64
		for _, id := range ids {
			l, err := m.Catalog.Listing(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if l.Status == catalog.StatusPending {
				pending = append(pending, id)
			}
		}
		if len(pending) == 0 {
			break
		}
		if time.Since(restarted) > time.Minute {
			t.Fatalf("a minute after the restart, listings %v are still pending:\n%s", pending, showLog())
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("all %d listings screened %s after the restart (%d had been running in the killed worker)",
		n, time.Since(restarted).Round(time.Second), slots)
}
