package main

import (
	"flag"
	"fmt"
	"io"

	"marketplace/detection/imagematch"
)

// detectCommand runs the image core's offline tools, which need no database:
// `detect hash FILE…` prints each file's fingerprint as a JSON line, and
// `detect scan --refs DIR --queries DIR` prints, per query picture, the reference pictures it
// copies.
func detectCommand(args []string, stdout io.Writer) error {
	const usage = "usage: marketplace detect hash FILE… | detect scan --refs DIR --queries DIR"
	if len(args) == 0 {
		return fmt.Errorf("%s", usage)
	}
	switch args[0] {
	case "hash":
		if len(args) < 2 {
			return fmt.Errorf("%s", usage)
		}
		return imagematch.HashFiles(stdout, args[1:])
	case "scan":
		fs := flag.NewFlagSet("detect scan", flag.ContinueOnError)
		refs := fs.String("refs", "", "a directory of reference pictures")
		queries := fs.String("queries", "", "a directory of pictures to look for copies in")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *refs == "" || *queries == "" || fs.NArg() > 0 {
			return fmt.Errorf("%s", usage)
		}
		return imagematch.Scan(stdout, *refs, *queries, imagematch.DefaultMatchConfig())
	}
	return fmt.Errorf("unknown detect command %q\n%s", args[0], usage)
}
