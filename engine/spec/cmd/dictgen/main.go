// Command dictgen writes schemas/data_dictionary.md from the configuration
// (schemas/columns.yaml, configs/metrics.yaml, configs/rules.yaml):
//
//	go run ./engine/spec/cmd/dictgen            # from the repository root
//	go generate ./engine/spec                   # the same, via go:generate
//	go run ./engine/spec/cmd/dictgen -check     # exit 1 when the file is stale
//
// `go test ./engine/spec` fails when the committed file is out of date.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/exohunter/exohunter/engine/spec"
)

func main() {
	root := flag.String("root", ".", "repository root: the folder holding configs/ and schemas/")
	check := flag.Bool("check", false, "only report whether the committed file is up to date")
	flag.Parse()
	if err := run(*root, *check); err != nil {
		fmt.Fprintf(os.Stderr, "dictgen: %v\n", err)
		os.Exit(1)
	}
}

// run renders the dictionary and writes it, or compares it with the file.
func run(root string, check bool) error {
	b, err := spec.Load(os.DirFS(root))
	if err != nil {
		return err
	}
	want := spec.BuildDictionary(b).Markdown()
	path := filepath.Join(root, filepath.FromSlash(spec.DictionaryFile))
	if check {
		got, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%s is out of date; run go generate ./engine/spec", path)
		}
		return nil
	}
	return os.WriteFile(path, want, 0o644)
}
