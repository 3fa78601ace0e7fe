package dataset_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safethird/safethird/dataset"
)

// copyFixture copies testdata/valid into a new directory.
func copyFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := os.CopyFS(dir, os.DirFS("testdata/valid"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// problems loads with opts and returns the problems' strings, failing the
// test unless the load is refused with a *ValidationError within 10 s.
func problems(t *testing.T, load func() (*dataset.Snapshot, error)) []string {
	t.Helper()
	type result struct {
		snap *dataset.Snapshot
		err  error
	}
	done := make(chan result, 1)
	go func() {
		snap, err := load()
		done <- result{snap, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the load blocked for 10s")
	}
	var verr *dataset.ValidationError
	if !errors.As(r.err, &verr) {
		t.Fatalf("load = %v, %v; want a *ValidationError", r.snap, r.err)
	}
	var out []string
	for _, p := range verr.Problems {
		out = append(out, p.String())
	}
	return out
}

// Regression: a symlink to a device, or a FIFO, in the dataset directory
// took the server down (out of memory reading /dev/zero) or froze its
// reloads (an open of a FIFO never returns). Each is now a problem with
// that file, found at once.
func TestLoadDirRefusesWhatIsNotARegularFileInside(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  []string
	}{
		{"symlink to /dev/zero", func(t *testing.T, dir string) {
			mustSymlink(t, "/dev/zero", filepath.Join(dir, "findings", "zero.yaml"))
		}, []string{"findings/zero.yaml: cannot read: a symlink that leads out of the directory (path escapes from parent)"}},
		{"ISO list linked to /dev/urandom", func(t *testing.T, dir string) {
			iso := filepath.Join(dir, "iso3166", "iso_3166-1.json")
			if err := os.Remove(iso); err != nil {
				t.Fatal(err)
			}
			mustSymlink(t, "/dev/urandom", iso)
		}, []string{"iso3166/iso_3166-1.json: cannot read: a symlink that leads out of the directory (path escapes from parent)"}},
		{"FIFO", func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "sources", "pipe.yaml"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"sources/pipe.yaml: cannot read: not a regular file but a named pipe (FIFO)"}},
		{"FIFO for a directory", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "designations")); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(filepath.Join(dir, "designations"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"designations/: cannot read: not a regular file but a named pipe (FIFO)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyFixture(t)
			tt.setup(t, dir)
			got := problems(t, func() (*dataset.Snapshot, error) { return dataset.LoadDir(dir) })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// Regression: moving a record directory out of the dataset loaded as a
// new, valid, smaller revision. Every kind must now be present.
func TestLoadRefusesAMissingOrEmptyKind(t *testing.T) {
	for _, dir := range []string{"agreements", "findings", "designations", "countries", "sources", "frameworks"} {
		t.Run(dir, func(t *testing.T) {
			fsys := fixture(t)
			for p := range fsys {
				if strings.HasPrefix(p, dir+"/") {
					delete(fsys, p)
				}
			}
			got := problems(t, func() (*dataset.Snapshot, error) { return dataset.Load(fsys) })
			want := dir + "/: missing: every dataset has sources/, countries/, frameworks/, agreements/, designations/, findings/; was the directory moved or deleted?"
			if len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), want) {
				t.Errorf("problems:\n%s\nwant among them: %s", strings.Join(got, "\n"), want)
			}
			fsys[dir] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
			got = problems(t, func() (*dataset.Snapshot, error) { return dataset.Load(fsys) })
			if !strings.Contains(strings.Join(got, "\n"), dir+"/: no record files") {
				t.Errorf("empty %s/: problems:\n%s", dir, strings.Join(got, "\n"))
			}
		})
	}
}

// Regression: a file of YAML aliases took 25 s and 280 MB to refuse, with a
// problem (and a log line) for each alias. The first alias refuses it.
func TestLoadRefusesAliases(t *testing.T) {
	var b strings.Builder
	b.WriteString("id: bb-safety\nevidence:\n  - &e\n    source_id: src-one\n    statement: x\n    support: SUPPORT_CONFIRMED\n")
	for b.Len() < 360_000 {
		b.WriteString("  - *e\n")
	}
	fsys := fixture(t)
	fsys["findings/bb-safety.yaml"] = &fstest.MapFile{Data: []byte(b.String())}
	got := problems(t, func() (*dataset.Snapshot, error) { return dataset.Load(fsys) })
	want := []string{"findings/bb-safety.yaml:7:5: YAML alias *e: records do not use anchors and aliases; write the value out"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// A file with thousands of problems is reported with the first 20 and a
// count, and the whole list is bounded.
func TestLoadBoundsTheProblems(t *testing.T) {
	fsys := fixture(t)
	var b strings.Builder
	b.WriteString("id: src-one\ntitle: T\npublisher: P\nkind: SOURCE_KIND_PRIMARY\npublisher_kind: PUBLISHER_KIND_NGO\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "colour%d: red\n", i)
	}
	fsys["sources/src-one.yaml"] = &fstest.MapFile{Data: []byte(b.String())}
	for i := range 300 {
		fsys[fmt.Sprintf("findings/junk-%03d.yaml", i)] = &fstest.MapFile{Data: []byte("colour: red\n")}
	}
	got := problems(t, func() (*dataset.Snapshot, error) { return dataset.Load(fsys) })
	// 200 problems, a count for each of the two files cut short (the one
	// past its own limit, the one the total cut) and one for the files not
	// listed.
	if len(got) > 203 {
		t.Errorf("%d problems listed, want at most 203", len(got))
	}
	var inSource []string
	for _, p := range got {
		if strings.HasPrefix(p, "sources/src-one.yaml") {
			inSource = append(inSource, p)
		}
	}
	if len(inSource) != 21 || !strings.HasSuffix(inSource[20], "more problem(s) in this file, not listed") {
		t.Errorf("sources/src-one.yaml: %d problems listed, want 20 and a count; last: %q", len(inSource), inSource[len(inSource)-1])
	}
	if last := got[len(got)-1]; !strings.HasPrefix(last, "(dataset): and problems in") {
		t.Errorf("last problem %q, want the count of files not listed", last)
	}
}

// Regression: a condition of nested comprehensions was accepted, and a call
// then ran for minutes. Its estimated cost is over the limit: refused.
func TestLoadRefusesCostlyConditions(t *testing.T) {
	list := "[" + strings.TrimSuffix(strings.Repeat("1,", 100), ",") + "]"
	costly := list + ".all(a, " + list + ".all(b, " + list + ".all(c, a + b + c > 0)))"
	fsys := fixture(t)
	edited := strings.Replace(readFixture(t, "findings/bb-safety-group.yaml"),
		`group_condition: ApplicantGroup.APPLICANT_GROUP_LGBTQI in applicant.groups`, `group_condition: "`+costly+`"`, 1)
	if !strings.Contains(edited, costly) {
		t.Fatal("the fixture has no group_condition to replace")
	}
	fsys["findings/bb-safety-group.yaml"] = &fstest.MapFile{Data: []byte(edited)}
	got := problems(t, func() (*dataset.Snapshot, error) { return dataset.Load(fsys) })
	if len(got) != 1 || !strings.Contains(got[0], "findings/bb-safety-group.yaml:") ||
		!strings.Contains(got[0], "group_condition costs too much to evaluate: its estimated cost, up to") {
		t.Errorf("problems: %q", got)
	}
	if _, err := (dataset.LoadOptions{MaxConditionCost: 1 << 40}).Load(fsys); err != nil {
		t.Errorf("with the limit raised: %v", err)
	}
}

// Records are parsed side by side on the process's cores: the problems of a
// bad dataset, and which of them are listed when there are too many to
// list, must still be the same at every load.
func TestLoadProblemsAreTheSameEveryTime(t *testing.T) {
	fsys := fixture(t)
	bad := []string{
		"colour: red\n",                         // a field no record has
		"id: [\n",                               // invalid YAML
		"id: x\nevidence:\n  - &e {}\n  - *e\n", // an alias
		"id: UPPER CASE\n",                      // a field rule broken
		"",                                      // empty
	}
	for i := range 300 {
		fsys[fmt.Sprintf("findings/junk-%03d.yaml", i)] = &fstest.MapFile{Data: []byte(bad[i%len(bad)])}
	}
	for i := range 10 {
		fsys[fmt.Sprintf("sources/junk-%03d.txt", i)] = &fstest.MapFile{Data: []byte{0xff, 0xfe}} // not UTF-8
	}
	first := problems(t, func() (*dataset.Snapshot, error) { return dataset.Load(fsys) })
	if len(first) < 200 {
		t.Fatalf("%d problems, want the list cut at its bound (200 and the counts)", len(first))
	}
	for range 10 {
		got := problems(t, func() (*dataset.Snapshot, error) { return dataset.Load(fsys) })
		if diff := cmp.Diff(first, got); diff != "" {
			t.Fatalf("problems differ from the first load's (-first +again):\n%s", diff)
		}
	}
}
