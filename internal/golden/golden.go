// Package golden compares a test's output with a golden file under
// testdata/, or rewrites the file when the test runs with -update. The
// dataset revision in the output is replaced by a placeholder first, so an
// edit to the data that leaves an answer alone does not churn its files.
package golden

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// revision matches a dataset revision.
var revision = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// RevisionPlaceholder stands for the dataset revision in golden files.
const RevisionPlaceholder = "sha256:<dataset revision>"

// Check compares got with testdata/name, or writes it there when update
// is set. The output must carry a dataset revision: every answer does.
func Check(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	if !revision.Match(got) {
		t.Errorf("%s: output carries no dataset revision", name)
	}
	got = revision.ReplaceAll(got, []byte(RevisionPlaceholder))
	path := filepath.Join("testdata", name)
	if update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test -update writes it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}
