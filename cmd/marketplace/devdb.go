package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"marketplace/internal/postgres"
)

// devdbCommand starts and stops the private cluster, for the Makefile: `make test` starts a
// throwaway one, `make run` keeps one under .data/pg.
func devdbCommand(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("devdb: want start, stop or url\n%s", usage)
	}
	fs := flag.NewFlagSet("devdb", flag.ContinueOnError)
	dir := fs.String("dir", filepath.Join(cfg.DataDir, "pg"), "the cluster's directory")
	fast := fs.Bool("fast", false, "trade durability for speed (test clusters)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "start", "url":
		url, err := postgres.EnsureCluster(ctx, *dir, postgres.ClusterOptions{Fast: *fast})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, url)
		return nil
	case "stop":
		return postgres.StopCluster(ctx, *dir)
	default:
		return fmt.Errorf("devdb: unknown command %q", args[0])
	}
}
