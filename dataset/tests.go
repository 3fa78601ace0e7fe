package dataset

import (
	"errors"
	"io/fs"
	"path"
	"strings"
)

// testsDir holds the dataset's expectations: YAML files of cases, each a
// request and what must hold of its answer, that package expectation runs.
// They are part of the dataset (sealed and signed with it), so a release
// carries the checks it passed; the loader reads them but does not parse
// them, since only the engine can answer their requests.
const testsDir = "tests"

// TestFile is one file of expectations, as read.
type TestFile struct {
	// Path is slash-separated, relative to the dataset directory, e.g.
	// "tests/agreements.yaml".
	Path string
	// Data is the file's bytes.
	Data []byte
}

// readTests reads every file in tests/, through the loader's limits and
// the seal. The directory is optional: a dataset sealed before it existed
// has none.
func (l *loader) readTests() []TestFile {
	entries, err := fs.ReadDir(l.fsys, testsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		l.problem(testsDir+"/", 0, 0, "cannot read: %v", readError(err))
		return nil
	}
	var out []TestFile
	for _, e := range entries {
		file := path.Join(testsDir, e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			l.problem(file, 0, 0, "unexpected entry: %s/ holds only .yaml files of expectations", testsDir)
			continue
		}
		if data := l.read(file); data != nil {
			out = append(out, TestFile{Path: file, Data: normalizeBreaks(data)})
		}
	}
	return out
}
