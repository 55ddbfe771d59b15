package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/schollz/progressbar/v3"

	"marketplace/catalog"
)

// catalogCommand is `marketplace catalog import --licensee ID file.csv [--images z.zip] [--dry-run]`:
// the same import as the upload page, with a progress bar on stderr.
func catalogCommand(ctx context.Context, m *Main, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		return fmt.Errorf("catalog: want import\n%s", usage)
	}
	fs := flag.NewFlagSet("catalog import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	licensee := fs.Int64("licensee", 0, "the licensee whose catalogue this is")
	images := fs.String("images", "", "a zip of the pictures the lines name")
	dryRun := fs.Bool("dry-run", false, "check the file and write nothing")
	quiet := fs.Bool("quiet", false, "no progress bar")
	// Flags may come before or after the file name.
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 || *licensee <= 0 {
		return errors.New("usage: marketplace catalog import --licensee ID file.csv [--images pictures.zip] [--dry-run]")
	}
	f, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	req := catalog.ImportRequest{LicenseeID: *licensee, CSV: f, Filename: filepath.Base(files[0]), Size: st.Size(), DryRun: *dryRun}
	if *images != "" {
		z, err := os.Open(*images)
		if err != nil {
			return err
		}
		defer z.Close()
		zst, err := z.Stat()
		if err != nil {
			return err
		}
		req.Images, req.ImagesSize, req.ImagesFilename = z, zst.Size(), filepath.Base(*images)
	}
	if err := m.Run(ctx, RunOptions{}); err != nil {
		return err
	}
	if !*quiet {
		bar := progressbar.NewOptions64(1000, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("reading"),
			progressbar.OptionSetWidth(40), progressbar.OptionShowElapsedTimeOnFinish(), progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(0))
		req.Progress = func(i catalog.Import) {
			bar.Describe(fmt.Sprintf("%-8s %7d lines", i.Phase, i.Lines))
			_ = bar.Set64(int64(i.Progress() * 1000))
		}
		defer bar.Close() //nolint:errcheck
	}
	imp, err := m.Catalog.Import(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr)
	for _, e := range imp.Errors {
		if e.Line > 0 {
			fmt.Fprintf(stdout, "line %d: %s: %s\n", e.Line, e.Field, e.Message)
		} else {
			fmt.Fprintf(stdout, "%s: %s\n", e.Field, e.Message)
		}
	}
	what := "applied"
	if imp.DryRun {
		what = "checked (dry run, nothing written)"
	}
	if imp.Status != catalog.ImportSucceeded {
		fmt.Fprintf(stdout, "import %d failed: %d good lines, %d bad lines; nothing written\n", imp.ID, imp.Accepted, imp.Rejected)
		return fmt.Errorf("the catalogue has %d bad lines", imp.Rejected)
	}
	fmt.Fprintf(stdout, "import %d %s: %d lines\n", imp.ID, what, imp.Accepted)
	return nil
}
