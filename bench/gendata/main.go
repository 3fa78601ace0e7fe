// Command gendata writes a synthetic dataset (package syndata: the
// curated countries cloned under new codes up to -countries) into a new
// directory and seals it with `safethird dataset seal`, for the bench and
// for trying the server on a larger dataset:
//
//	go run ./bench/gendata -countries 200 -out /tmp/data-200
//	safethird serve --dataset /tmp/data-200
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/safethird/safethird/bench/syndata"
)

func main() {
	var (
		opt      syndata.Options
		src, out string
		binary   string
	)
	flag.StringVar(&src, "src", "data", "the curated dataset to clone")
	flag.StringVar(&out, "out", "", "the directory to write (must not exist)")
	flag.StringVar(&binary, "binary", "bin/safethird", "the safethird binary that seals it")
	flag.IntVar(&opt.Countries, "countries", 200, "curated countries in all")
	flag.IntVar(&opt.SourceCopies, "source-copies", 1, "copies of each source a clone cites in turn (more files, same records)")
	flag.Parse()
	if out == "" {
		fmt.Fprintln(os.Stderr, "gendata: -out is required")
		os.Exit(2)
	}
	s, err := syndata.GenerateSealed(src, out, binary, opt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d curated countries, %d files, sealed\n", out, s.Countries, s.Files)
}
