package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/safethird/safethird/dataset"
)

// tinyFixture is the dataset package's fixture: one record of each kind.
const tinyFixture = "../../dataset/testdata/valid"

// tinyDataset copies the dataset package's small test fixture into a new
// directory and returns a load that gives its source the title n, so each n
// loads quickly into its own revision.
func tinyDataset(t *testing.T, n *int) func() (*dataset.Snapshot, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(tinyFixture)); err != nil {
		t.Fatal(err)
	}
	return func() (*dataset.Snapshot, error) {
		src := fmt.Appendf(nil, "id: src-one\ntitle: Source %d\npublisher: P\nkind: SOURCE_KIND_PRIMARY\npublisher_kind: PUBLISHER_KIND_NGO\nread_on: \"2024-01-01\"\n", *n)
		if err := os.WriteFile(filepath.Join(dir, "sources", "src-one.yaml"), src, 0o644); err != nil {
			return nil, err
		}
		return dataset.LoadDir(dir)
	}
}

// The store keeps the last maxRevisions revisions for pinning, the
// current one included, and forgets older ones.
func TestStoreKeepsLastRevisions(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	s := &Store{logger: zap.NewNop(), metrics: m, load: tinyDataset(t, &n)}
	var revisions []string
	for n = 0; n < maxRevisions+3; n++ {
		res, err := s.Reload()
		if err != nil {
			t.Fatalf("load %d: %v", n, err)
		}
		if !res.Changed {
			t.Fatalf("load %d did not change the revision", n)
		}
		revisions = append(revisions, res.Revision)
	}
	cur, _ := s.Current()
	for i, rev := range revisions {
		_, err := s.Resolve(rev)
		kept := i >= len(revisions)-maxRevisions
		var rerr *RevisionError
		switch {
		case kept && err != nil:
			t.Errorf("revision %d of %d was forgotten: %v", i, len(revisions), err)
		case !kept && (!errors.As(err, &rerr) || rerr.Current != cur.Snapshot().Revision()):
			t.Errorf("revision %d of %d: %v, want a RevisionError naming the current one", i, len(revisions), err)
		}
	}
	if len(s.held) != maxRevisions {
		t.Errorf("%d revisions held, want %d", len(s.held), maxRevisions)
	}

	// Loading an old revision again makes it the newest, not a duplicate.
	n = 5
	if res, err := s.Reload(); err != nil || res.Revision != revisions[5] {
		t.Fatalf("reload of revision 5: %v, %v", res, err)
	}
	if len(s.held) != maxRevisions {
		t.Errorf("%d revisions held after a revert, want %d", len(s.held), maxRevisions)
	}
	if _, err := s.Resolve(revisions[5]); err != nil {
		t.Errorf("reverted revision: %v", err)
	}
}

// The fingerprint sees an edit through the symlink to the dataset and a
// swap of that symlink, as deploys through a symlink make; a symlink inside
// to a large tree elsewhere is not walked.
func TestFingerprintSeesEditsAndSwaps(t *testing.T) {
	root := t.TempDir()
	v1, v2 := filepath.Join(root, "v1"), filepath.Join(root, "v2")
	for _, d := range []string{v1, v2} {
		if err := os.MkdirAll(filepath.Join(d, "findings"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(v1, "findings", "a.yaml"), "id: a\n")
	write(filepath.Join(v2, "findings", "a.yaml"), "id: a, changed\n")
	dir := filepath.Join(root, "dataset")
	if err := os.Symlink(v1, dir); err != nil {
		t.Fatal(err)
	}
	fp := func() string {
		t.Helper()
		s, err := Fingerprint(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := fp()
	if again := fp(); again != first {
		t.Fatal("the fingerprint is not stable")
	}
	write(filepath.Join(v1, "findings", "a.yaml"), "id: b\n#\n")
	edited := fp()
	if edited == first {
		t.Error("an edit behind a symlink did not change the fingerprint")
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(v2, dir); err != nil {
		t.Fatal(err)
	}
	if fp() == edited {
		t.Error("swapping the symlink did not change the fingerprint")
	}
	// A symlink to / inside is listed by its target, not walked.
	if err := os.Symlink("/", filepath.Join(v2, "findings", "everything.yaml")); err != nil {
		t.Fatal(err)
	}
	withRoot := fp()
	if again := fp(); again != withRoot {
		t.Error("the fingerprint with a symlink to / is not stable")
	}
}
