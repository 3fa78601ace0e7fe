package dataset_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/safethird/safethird/dataset"
)

var sealed = dataset.LoadOptions{Sealed: true}

// sealFixture copies testdata/valid into a new directory and seals it.
func sealFixture(t *testing.T, key ed25519.PrivateKey) (string, *dataset.Manifest) {
	t.Helper()
	dir := copyFixture(t)
	m, err := dataset.LoadOptions{}.Seal(dir, key)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return dir, m
}

func TestSealThenLoadSealed(t *testing.T) {
	dir, m := sealFixture(t, nil)
	unsealed, err := dataset.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := sealed.LoadDir(dir)
	if err != nil {
		t.Fatalf("load the sealed fixture: %v", err)
	}
	if snap.Revision() != unsealed.Revision() || m.Revision != snap.Revision() {
		t.Errorf("revisions: sealed load %s, unsealed %s, manifest %s; want one", snap.Revision(), unsealed.Revision(), m.Revision)
	}
	want := map[string]int{"sources": 1, "countries": 1, "frameworks": 1, "agreements": 1, "designations": 1, "findings": 2, "iso3166": 3}
	if diff := cmp.Diff(want, m.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	wantPaths := []string{"agreements/aa-bb.yaml", "countries/BB.yaml", "designations/aa-designates-bb.yaml",
		"findings/bb-safety-group.yaml", "findings/bb-safety.yaml", "frameworks/fw-aa.yaml",
		"iso3166/iso_3166-1.json", "sources/src-one.txt", "sources/src-one.yaml"}
	if diff := cmp.Diff(wantPaths, paths); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	// The manifest is JSON a reviewer can read, one file a line.
	b, err := os.ReadFile(filepath.Join(dir, dataset.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var back dataset.Manifest
	if err := json.Unmarshal(b, &back); err != nil || !cmp.Equal(&back, m) {
		t.Errorf("manifest.json does not decode to the manifest: %v", err)
	}
	if n := strings.Count(string(b), "\n"); n != len(m.Files)+len(m.Counts)+10 {
		t.Errorf("manifest.json has %d lines, want one a file and a count:\n%s", n, b)
	}
}

// Regression: a dataset moved, emptied, half written or changed in place was
// loaded as a new valid revision. Sealed, each is refused, naming the file.
func TestLoadSealedRefuses(t *testing.T) {
	tests := []struct {
		name   string
		breaks func(t *testing.T, dir string)
		want   []string
	}{
		{"a file changed", func(t *testing.T, dir string) {
			appendTo(t, filepath.Join(dir, "findings", "bb-safety.yaml"), "# an innocent comment\n")
		}, []string{"findings/bb-safety.yaml: changed since the dataset was sealed: its SHA-256 differs from manifest.json"}},
		{"a file half written", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "agreements", "aa-bb.yaml")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, string(b[:len(b)/2]))
		}, []string{"agreements/aa-bb.yaml: changed since the dataset was sealed: its SHA-256 differs from manifest.json"}},
		{"a file added", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "sources", "src-two.yaml"), "id: src-two\ntitle: T\npublisher: P\nkind: SOURCE_KIND_PRIMARY\n")
		}, []string{"sources/src-two.yaml: not in manifest.json: added after the dataset was sealed"}},
		{"a file deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "findings", "bb-safety-group.yaml")); err != nil {
				t.Fatal(err)
			}
		}, []string{"findings/bb-safety-group.yaml: listed in manifest.json but missing or unreadable"}},
		{"a directory moved out", func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "agreements"), filepath.Join(t.TempDir(), "agreements")); err != nil {
				t.Fatal(err)
			}
		}, []string{
			"agreements/: missing: every dataset has sources/, countries/, frameworks/, agreements/, designations/, findings/; was the directory moved or deleted?",
			"agreements/aa-bb.yaml: listed in manifest.json but missing or unreadable",
			`frameworks/fw-aa.yaml:27:21: contest_limits[0].agreement_ids[0] "aa-bb" names no agreement in agreements/`,
		}},
		{"no manifest", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, dataset.ManifestFile)); err != nil {
				t.Fatal(err)
			}
		}, []string{"manifest.json: cannot read the seal: no such file or directory; seal the dataset with `safethird dataset seal`, or serve it with --dataset-unsealed to edit it"}},
		{"manifest with an unknown field", func(t *testing.T, dir string) {
			p := filepath.Join(dir, dataset.ManifestFile)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, strings.Replace(string(b), "{\n", "{\n  \"trusted\": true,\n", 1))
		}, []string{`manifest.json: not a dataset manifest: invalid JSON: json: unknown field "trusted"`}},
		{"manifest's revision edited", func(t *testing.T, dir string) {
			p := filepath.Join(dir, dataset.ManifestFile)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, p, strings.Replace(string(b), `"revision": "sha256:`, `"revision": "sha256:0`, 1))
		}, nil}, // checked below: the message names both revisions
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := sealFixture(t, nil)
			tt.breaks(t, dir)
			got := problems(t, func() (*dataset.Snapshot, error) { return sealed.LoadDir(dir) })
			if tt.want == nil {
				if len(got) != 1 || !strings.Contains(got[0], "seal the dataset again") {
					t.Errorf("problems: %q, want one on the revision", got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			// Unsealed, the same directory is checked on its content alone.
			if tt.name == "a file changed" || tt.name == "no manifest" {
				if _, err := dataset.LoadDir(dir); err != nil {
					t.Errorf("unsealed load: %v", err)
				}
			}
		})
	}
}

// signingKeys returns a key pair, and the public half of another.
func signingKeys(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv, otherPub
}

func TestSignedSeal(t *testing.T) {
	pub, priv, otherPub := signingKeys(t)
	dir, _ := sealFixture(t, priv)
	if _, err := (dataset.LoadOptions{PublicKey: pub}).LoadDir(dir); err != nil {
		t.Fatalf("load signed with its key: %v", err)
	}
	got := problems(t, func() (*dataset.Snapshot, error) { return dataset.LoadOptions{PublicKey: otherPub}.LoadDir(dir) })
	want := []string{"manifest.json.sig: the dataset's signature is required and does not verify: the signature does not verify with the public key: the manifest was changed or signed with another key"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("another key: problems (-want +got):\n%s", diff)
	}

	// Sealing again without a key removes the signature, which no longer
	// signs the manifest: a server that needs one refuses the dataset.
	if _, err := (dataset.LoadOptions{}).Seal(dir, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, dataset.SignatureFile)); !os.IsNotExist(err) {
		t.Errorf("the old signature was kept: %v", err)
	}
	got = problems(t, func() (*dataset.Snapshot, error) { return dataset.LoadOptions{PublicKey: pub}.LoadDir(dir) })
	if len(got) != 1 || !strings.HasPrefix(got[0], "manifest.json.sig: the dataset's signature is required and does not verify: no such file") {
		t.Errorf("unsigned: problems %q", got)
	}
	if _, err := sealed.LoadDir(dir); err != nil {
		t.Errorf("an unsigned seal without a key configured: %v", err)
	}
}

// A dataset with problems is not sealed: no manifest is written.
func TestSealRefusesABadDataset(t *testing.T) {
	dir := copyFixture(t)
	appendTo(t, filepath.Join(dir, "sources", "src-one.yaml"), "colour: red\n")
	got := problems(t, func() (*dataset.Snapshot, error) {
		_, err := dataset.LoadOptions{}.Seal(dir, nil)
		return nil, err
	})
	if len(got) != 1 || !strings.Contains(got[0], `unknown field "colour"`) {
		t.Errorf("problems: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, dataset.ManifestFile)); !os.IsNotExist(err) {
		t.Errorf("a manifest was written: %v", err)
	}
}

// TestSealNumbersReleases: each seal that changes the dataset takes the
// next sequence number and today's date; sealing an unchanged dataset
// writes the same manifest, so make checkseal stays clean; a sequence
// given must grow.
func TestSealNumbersReleases(t *testing.T) {
	dir := copyFixture(t)
	day := func(d string) func() time.Time {
		return func() time.Time { t, _ := time.Parse(time.DateOnly, d); return t }
	}
	seal := func(so dataset.SealOptions) (*dataset.Manifest, error) {
		return dataset.LoadOptions{}.SealWith(dir, so)
	}
	first, err := seal(dataset.SealOptions{Now: day("2026-01-02")})
	if err != nil {
		t.Fatal(err)
	}
	if first.Sequence != 1 || first.SealedOn != "2026-01-02" {
		t.Errorf("first seal: sequence %d sealed_on %q, want 1, 2026-01-02", first.Sequence, first.SealedOn)
	}
	before, err := os.ReadFile(filepath.Join(dir, dataset.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	again, err := seal(dataset.SealOptions{Now: day("2026-03-04")})
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(filepath.Join(dir, dataset.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) || again.Sequence != 1 {
		t.Errorf("sealing an unchanged dataset changed the manifest (sequence %d):\n%s", again.Sequence, after)
	}
	appendTo(t, filepath.Join(dir, "findings", "bb-safety.yaml"), "# reviewed again\n")
	next, err := seal(dataset.SealOptions{Now: day("2026-03-04")})
	if err != nil {
		t.Fatal(err)
	}
	if next.Sequence != 2 || next.SealedOn != "2026-03-04" {
		t.Errorf("a changed dataset: sequence %d sealed_on %q, want 2, 2026-03-04", next.Sequence, next.SealedOn)
	}
	if _, err := seal(dataset.SealOptions{Sequence: 1}); err == nil || !strings.Contains(err.Error(), "sequence 1 is not above the previous manifest's 2") {
		t.Errorf("a sequence that does not grow: %v", err)
	}
	if m, err := seal(dataset.SealOptions{Sequence: 2, Now: day("2026-05-06")}); err != nil || m.Sequence != 2 || m.SealedOn != "2026-03-04" {
		t.Errorf("the same sequence for an unchanged dataset is the same seal: %v, %+v", err, m)
	}
	if m, err := seal(dataset.SealOptions{Sequence: 10, Now: day("2026-05-06")}); err != nil || m.Sequence != 10 {
		t.Errorf("a sequence given: %v, %+v", err, m)
	}
	snap, err := sealed.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := snap.Seal(); !ok || info.Sequence != 10 || info.SealedOn != "2026-05-06" {
		t.Errorf("Seal() = %+v, %v; want sequence 10, sealed on 2026-05-06", info, ok)
	}
	if _, ok := must(dataset.LoadDir(dir)).Seal(); ok {
		t.Error("an unsealed load reports a seal")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestReadManifest reads a release's manifest without loading it, and
// refuses one whose signature does not verify.
func TestReadManifest(t *testing.T) {
	pub, priv, otherPub := signingKeys(t)
	dir, m := sealFixture(t, priv)
	got, err := dataset.ReadManifest(dir, pub)
	if err != nil || !cmp.Equal(got, m) {
		t.Errorf("ReadManifest = %+v, %v; want the manifest sealed", got, err)
	}
	if _, err := dataset.ReadManifest(dir, otherPub); err == nil || !strings.Contains(err.Error(), "manifest.json.sig: the dataset's signature is required and does not verify") {
		t.Errorf("another key: %v", err)
	}
	if _, err := dataset.ReadManifest(t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "manifest.json: cannot read the seal") {
		t.Errorf("no manifest: %v", err)
	}
}

// TestTestsAreSealed: the files of tests/ are part of the dataset, read
// through its limits and sealed like the records; an odd entry is refused.
func TestTestsAreSealed(t *testing.T) {
	dir := copyFixture(t)
	if err := os.Mkdir(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "tests", "bb.yaml"), "cases: []\n")
	m, err := dataset.LoadOptions{}.Seal(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(m.Files, func(f dataset.ManifestEntry) bool { return f.Path == "tests/bb.yaml" }) {
		t.Errorf("tests/bb.yaml is not in the manifest: %+v", m.Files)
	}
	snap, err := sealed.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]dataset.TestFile{{Path: "tests/bb.yaml", Data: []byte("cases: []\n")}}, snap.Tests()); diff != "" {
		t.Errorf("Tests() (-want +got):\n%s", diff)
	}
	appendTo(t, filepath.Join(dir, "tests", "bb.yaml"), "# edited\n")
	writeFile(t, filepath.Join(dir, "tests", "notes.txt"), "x")
	got := problems(t, func() (*dataset.Snapshot, error) { return sealed.LoadDir(dir) })
	want := []string{
		"tests/bb.yaml: changed since the dataset was sealed: its SHA-256 differs from manifest.json",
		"tests/notes.txt: unexpected entry: tests/ holds only .yaml files of expectations",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestCheckRunsOnAGoodDataset: LoadOptions.Check sees only a dataset with no
// other problem, and what it finds refuses the dataset, sealed or not.
func TestCheckRunsOnAGoodDataset(t *testing.T) {
	dir := copyFixture(t)
	calls := 0
	check := func(s *dataset.Snapshot) []dataset.Problem {
		calls++
		return []dataset.Problem{{File: "tests/x.yaml", Line: 3, Column: 5, Message: "want A, got B"}}
	}
	got := problems(t, func() (*dataset.Snapshot, error) { return dataset.LoadOptions{Check: check}.LoadDir(dir) })
	if diff := cmp.Diff([]string{"tests/x.yaml:3:5: want A, got B"}, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if _, err := (dataset.LoadOptions{Check: check}).Seal(dir, nil); err == nil {
		t.Error("a dataset that fails its check was sealed")
	}
	appendTo(t, filepath.Join(dir, "sources", "src-one.yaml"), "colour: red\n")
	calls = 0
	if _, err := (dataset.LoadOptions{Check: check}).LoadDir(dir); err == nil || calls != 0 {
		t.Errorf("a dataset with problems: err %v, check called %d times; want the problems, no call", err, calls)
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Regression: seal wrote a manifest over the 1 MiB every file was read
// through past about 7,600 files, and validate then refused it and advised
// sealing again; and a directory of more than 10,000 entries could not be
// read. A dataset of 10,000 files more, all in one directory, with a
// manifest over 1 MiB, seals, loads sealed and seals again (the files are
// notes beside the ISO list, which the seal covers and the loader does not
// parse; bench/syndata makes datasets of 20,000 records and texts).
func TestSealManyFiles(t *testing.T) {
	dir := copyFixture(t)
	const notes = 10_000
	for i := range notes {
		writeFile(t, filepath.Join(dir, "iso3166", fmt.Sprintf("note-%05d.md", i)), fmt.Sprintf("note %d\n", i))
	}
	m, err := dataset.LoadOptions{}.Seal(dir, nil)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if len(m.Files) < notes {
		t.Fatalf("manifest lists %d files, want the %d notes and more", len(m.Files), notes)
	}
	if fi, err := os.Stat(filepath.Join(dir, dataset.ManifestFile)); err != nil || fi.Size() <= dataset.MaxFileSize {
		t.Fatalf("manifest.json: %v, size %d: want one over MaxFileSize, which this test is about", err, fi.Size())
	}
	if _, err := sealed.LoadDir(dir); err != nil {
		t.Fatalf("load sealed: %v", err)
	}
	again, err := dataset.LoadOptions{}.Seal(dir, nil)
	if err != nil {
		t.Fatalf("sealing again: %v", err)
	}
	if again.Sequence != m.Sequence {
		t.Errorf("sealing again: sequence %d, want %d: the previous manifest was not read", again.Sequence, m.Sequence)
	}
}
