// Command marketplace is the one binary of the Olympic licensed-merchandise marketplace:
//
//	marketplace serve [--migrate]   the web server (and, unless WORKERS=0, the job workers)
//	marketplace worker              job workers only, for as many machines as needed
//	marketplace migrate             apply pending database migrations
//	marketplace seed [--small]      load the demo world (idempotent)
//	marketplace users create|apikey accounts from the command line
//	marketplace devdb start|stop    the private PostgreSQL cluster of `make run` and `make test`
//	marketplace search reindex      rebuild the storefront's search documents
//	marketplace catalog import      a licensee's catalogue CSV (and pictures zip), with a progress bar
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"marketplace/catalog/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "marketplace:", err)
		}
		os.Exit(1)
	}
}

const usage = `usage: marketplace <command> [flags]

commands:
  serve [--migrate]        serve the web pages and API (workers run in-process unless WORKERS=0)
  worker                   run job workers only
  migrate                  apply pending migrations
  seed [--small]           load the demo world (safe to run again; --small: a handful of products)
  users create --email E --role R [--password P] [--licensee ID] [--seller ID] [--country CC]
  users apikey --email E [--name N]   print a new API key for the user (shown once)
  devdb start|stop|url [--dir DIR]    the private PostgreSQL cluster (default DIR: $DATA_DIR/pg)
  search reindex           rebuild the storefront's search documents from the live listings
  catalog import --licensee ID file.csv [--images pictures.zip] [--dry-run]   import a catalogue
  detect hash FILE…        print each picture's fingerprint as a JSON line (no database)
  detect scan --refs DIR --queries DIR   print which reference pictures each query copies (no database)
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if args[0] == "detect" {
		return detectCommand(args[1:], stdout)
	}
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	m := &Main{Config: cfg, Log: log}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		migrate := fs.Bool("migrate", false, "apply pending migrations before serving")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		tuneServingGC(getenv, log)
		if addr := getenv("PPROF_ADDR"); addr != "" {
			if err := servePprof(addr, log); err != nil {
				return err
			}
		}
		return runUntilSignal(ctx, m, RunOptions{Migrate: *migrate, Serve: true, Work: cfg.Workers > 0})
	case "worker":
		return runUntilSignal(ctx, m, RunOptions{Work: true})
	case "migrate":
		defer m.Close()
		if err := m.Open(ctx); err != nil {
			return err
		}
		if err := m.Migrate(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "seed":
		fs := flag.NewFlagSet("seed", flag.ContinueOnError)
		small := fs.Bool("small", false, "a handful of demo products instead of a few hundred")
		if err := fs.Parse(rest); err != nil {
			return err
		}
		m.Demo = demo.Full
		if *small {
			m.Demo = demo.Small
		}
		defer m.Close()
		if err := m.Run(ctx, RunOptions{Migrate: true}); err != nil {
			return err
		}
		return m.Seed(ctx, stdout)
	case "users":
		defer m.Close()
		return usersCommand(ctx, m, rest, stdout)
	case "devdb":
		return devdbCommand(ctx, cfg, rest, stdout)
	case "search":
		if len(rest) != 1 || rest[0] != "reindex" {
			return fmt.Errorf("usage: marketplace search reindex")
		}
		defer m.Close()
		if err := m.Run(ctx, RunOptions{}); err != nil {
			return err
		}
		n, err := m.Store.Reindex(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "search: %d documents indexed (%s)\n", n, m.Store.Engine().Name())
		return nil
	case "catalog":
		defer m.Close()
		return catalogCommand(ctx, m, rest, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

func runUntilSignal(ctx context.Context, m *Main, opts RunOptions) error {
	if err := m.Run(ctx, opts); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	m.Log.Info("shutting down")
	return m.Close()
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
