package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/safethird/safethird/bench/syndata"
)

// manyFilesResult is what became of a dataset of cfg.manyFiles files or
// more: generated, sealed (validated, its expectations run), served.
type manyFilesResult struct {
	countries, copies, files int
	startup                  time.Duration
	idleKB                   int
	// err is why it did not seal or serve; nil when it did.
	err error
}

// manyFilesCountries is the curated countries of the dataset of many
// files; its sources are copied as often as it takes to reach the files.
const manyFilesCountries = 200

// measureManyFiles generates a dataset of at least cfg.manyFiles files,
// seals it and serves it, and reports what failed rather than failing.
func measureManyFiles(cfg config) (*manyFilesResult, error) {
	res := &manyFilesResult{countries: manyFilesCountries}
	copies, err := copiesFor(cfg, manyFilesCountries, cfg.manyFiles)
	if err != nil {
		return nil, err
	}
	res.copies = copies
	set, sum, err := generateSet(cfg, fmt.Sprintf("%d files", cfg.manyFiles), manyFilesCountries, copies)
	res.files = sum.Files
	if err != nil {
		res.err = err
		return res, nil
	}
	defer set.remove()
	cfg.set = set
	srv, d, err := startTimed(cfg, cfg.logLevel)
	if err != nil {
		res.err = err
		return res, nil
	}
	defer srv.stop()
	res.startup = d
	time.Sleep(idleWait)
	res.idleKB, res.err = residentKB(srv.pid())
	return res, nil
}

// copiesFor finds how many copies of each source make a dataset of
// countries at least files files, by generating it (unsealed, which is
// quick) with one copy more each time.
func copiesFor(cfg config, countries, files int) (int, error) {
	for copies := 1; ; copies++ {
		tmp, err := os.MkdirTemp("", "safethird-bench-count-")
		if err != nil {
			return 0, err
		}
		sum, err := syndata.Generate(cfg.dataSrc, filepath.Join(tmp, "data"), syndata.Options{Countries: countries, SourceCopies: copies})
		_ = os.RemoveAll(tmp)
		if err != nil {
			return 0, err
		}
		if sum.Files >= files {
			return copies, nil
		}
		if copies > 100 {
			return 0, fmt.Errorf("%d copies of each source make %d files, short of %d", copies, sum.Files, files)
		}
	}
}
