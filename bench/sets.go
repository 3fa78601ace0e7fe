package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/bench/syndata"
	"github.com/safethird/safethird/data"
	"github.com/safethird/safethird/dataset"
)

// datasetSet is a dataset the bench serves and what was measured on it.
type datasetSet struct {
	name string
	// dir is the dataset's directory, served with --dataset; "" for the
	// dataset embedded in the binary.
	dir string
	// tmp is the directory to remove when the bench is done, if any.
	tmp  string
	snap *dataset.Snapshot
	// maxStartMs and maxIdleMB are its targets for start to SERVING and
	// resident memory idle.
	maxStartMs, maxIdleMB float64
	// streams holds each stream variant's requests, written once, as ghz
	// reads them: count-prefixed binary messages.
	streams map[string]streamFile
	res     results
}

type streamFile struct {
	path string
	n    int
}

func (s *datasetSet) embedded() bool { return s.dir == "" }

func (s *datasetSet) remove() {
	if s.tmp != "" {
		_ = os.RemoveAll(s.tmp)
	}
	for _, f := range s.streams {
		_ = os.Remove(f.path)
	}
}

// Targets of start to SERVING and idle memory, by dataset.
const (
	embeddedStartMs, embeddedIdleMB   = 150, 40
	syntheticStartMs, syntheticIdleMB = 400, 70
)

// datasetSets are the embedded dataset and, with -synthetic, a synthetic
// one generated and sealed for the run.
func datasetSets(cfg config) ([]*datasetSet, error) {
	snap, err := dataset.Load(data.FS)
	if err != nil {
		return nil, fmt.Errorf("load the embedded dataset: %w", err)
	}
	sets := []*datasetSet{{name: "embedded", snap: snap, maxStartMs: embeddedStartMs, maxIdleMB: embeddedIdleMB, streams: map[string]streamFile{}}}
	if cfg.synthetic == 0 {
		return sets, nil
	}
	set, _, err := generateSet(cfg, fmt.Sprintf("%d countries", cfg.synthetic), cfg.synthetic, 1)
	if err != nil {
		return nil, err
	}
	set.maxStartMs, set.maxIdleMB = syntheticStartMs, syntheticIdleMB
	return append(sets, set), nil
}

// generateSet generates a synthetic dataset of countries, with copies of
// each source, seals it with the binary and loads it for the streams.
func generateSet(cfg config, name string, countries, copies int) (*datasetSet, syndata.Summary, error) {
	tmp, err := os.MkdirTemp("", "safethird-bench-data-")
	if err != nil {
		return nil, syndata.Summary{}, err
	}
	set := &datasetSet{name: name, tmp: tmp, dir: filepath.Join(tmp, "data"), streams: map[string]streamFile{}}
	start := time.Now()
	sum, err := syndata.GenerateSealed(cfg.dataSrc, set.dir, cfg.binary, syndata.Options{Countries: countries, SourceCopies: copies})
	if err != nil {
		set.remove()
		return nil, sum, err
	}
	fmt.Printf("%s: %d curated countries, %d files, generated and sealed in %s\n", name, sum.Countries, sum.Files, time.Since(start).Round(time.Millisecond))
	if set.snap, err = dataset.LoadDir(set.dir); err != nil {
		set.remove()
		return nil, sum, fmt.Errorf("load %s: %w", set.dir, err)
	}
	return set, sum, nil
}

// streamLen is the requests of v's stream on this dataset, 0 for a
// variant without one.
func (s *datasetSet) streamLen(v variant) int {
	if s == nil {
		return 0
	}
	return s.streams[v.name].n
}

// requestFile is the file of v's requests for ghz: its stream's, written
// once, or its one request; the caller removes a file it did not get from
// the stream cache (owned false).
func (s *datasetSet) requestFile(v variant) (path string, owned bool, err error) {
	if v.stream != nil {
		if f, ok := s.streams[v.name]; ok {
			return f.path, false, nil
		}
		msgs := v.stream(s.snap)
		path, err := writeDelimited(msgs)
		if err != nil {
			return "", false, err
		}
		s.streams[v.name] = streamFile{path, len(msgs)}
		return path, false, nil
	}
	path, err = writeDelimited([]proto.Message{v.req})
	return path, true, err
}

// writeDelimited writes msgs as ghz reads several binary messages: each
// prefixed with its length.
func writeDelimited(msgs []proto.Message) (string, error) {
	var b bytes.Buffer
	for _, m := range msgs {
		if _, err := protodelim.MarshalTo(&b, m); err != nil {
			return "", err
		}
	}
	f, err := os.CreateTemp("", "safethird-bench-*.bin")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(b.Bytes()); err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}
