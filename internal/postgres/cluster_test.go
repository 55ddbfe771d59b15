package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"marketplace/internal/postgres"
)

// TestEnsureClusterUnderPrivateParent is the newcomer who is root and clones into a home
// directory of mode 700: the postgres user cannot enter it, yet the cluster must start, and the
// log must say where it lives.
func TestEnsureClusterUnderPrivateParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user (postgres)")
	}
	parent, err := os.MkdirTemp("", "home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "project", ".data", "pg")
	ctx := context.Background()
	var logged []string
	dbURL, err := postgres.EnsureCluster(ctx, dir, postgres.ClusterOptions{Fast: true,
		Log: func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }})
	if err != nil {
		t.Fatalf("EnsureCluster under a 700 parent: %v", err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	home := u.Query().Get("host")
	t.Cleanup(func() {
		if err := postgres.StopCluster(context.Background(), dir); err != nil {
			t.Errorf("StopCluster: %v", err)
		}
		if home != "" && !strings.HasPrefix(home, parent) {
			_ = os.RemoveAll(home)
		}
	})
	if !strings.Contains(strings.Join(logged, "\n"), home) {
		t.Errorf("the log does not say where the cluster lives (%s):\n%s", home, strings.Join(logged, "\n"))
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	// A second call finds the same cluster (make run keeps its data between runs).
	again, err := postgres.EnsureCluster(ctx, dir, postgres.ClusterOptions{Fast: true, Log: func(string, ...any) {}})
	if err != nil || again != dbURL {
		t.Fatalf("second EnsureCluster = %q, %v; want %q", again, err, dbURL)
	}
}
