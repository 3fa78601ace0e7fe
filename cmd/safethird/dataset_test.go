package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runInProcess runs the command line in this process and returns its
// output and exit code (0, or the exitError's).
func runInProcess(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCommand(&out, &errOut)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	var ex *exitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ex):
		return out.String() + ex.msg, ex.code
	default:
		return out.String() + err.Error(), 1
	}
}

// copyData copies the repository's data/ directory, seal included.
func copyData(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dataset")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "data"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// keygen makes a key pair with `safethird dataset keygen`.
func keygen(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	out, code := runInProcess(t, "dataset", "keygen", "--out", filepath.Join(dir, name))
	if code != 0 {
		t.Fatalf("keygen: exit %d\n%s", code, out)
	}
	return keyFiles(filepath.Join(dir, name))
}

func TestDatasetSealAndValidate(t *testing.T) {
	dir := copyData(t)
	out, code := runInProcess(t, "dataset", "validate", dir)
	if code != 0 || !strings.Contains(out, "seal:         manifest.json matches (signature not checked)") {
		t.Fatalf("validate the sealed copy: exit %d\n%s", code, out)
	}

	finding := filepath.Join(dir, "findings", "mx-no-persecution.yaml")
	b, err := os.ReadFile(finding)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(finding, append(b, "# edited\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, code = runInProcess(t, "dataset", "validate", dir)
	if code != 1 || !strings.Contains(out, "findings/mx-no-persecution.yaml: changed since the dataset was sealed") ||
		!strings.Contains(out, "while editing, check with --unsealed") {
		t.Errorf("validate after an edit: exit %d\n%s", code, out)
	}
	out, code = runInProcess(t, "dataset", "validate", "--unsealed", dir)
	if code != 0 || !strings.Contains(out, "seal:         not checked (--unsealed)") {
		t.Errorf("validate --unsealed: exit %d\n%s", code, out)
	}

	keys := t.TempDir()
	priv, pub := keygen(t, keys, "dataset")
	_, otherPub := keygen(t, keys, "other")
	out, code = runInProcess(t, "dataset", "seal", "--key", priv, dir)
	if code != 0 || !strings.Contains(out, "signed (manifest.json.sig)") || !strings.Contains(out, "revision: sha256:") {
		t.Fatalf("seal --key: exit %d\n%s", code, out)
	}
	out, code = runInProcess(t, "dataset", "validate", "--public-key", pub, dir)
	if code != 0 || !strings.Contains(out, "signature verified") {
		t.Errorf("validate --public-key: exit %d\n%s", code, out)
	}
	out, code = runInProcess(t, "dataset", "validate", "--public-key", otherPub, dir)
	if code != 1 || !strings.Contains(out, "manifest.json.sig: the dataset's signature is required and does not verify") {
		t.Errorf("validate with another key: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"dataset", "seal", "--key", pub, dir},                                // a public key where the private one goes
		{"dataset", "validate", "--public-key", priv, dir},                    // and the other way round
		{"dataset", "validate", "--public-key", pub, "--unsealed", dir},       // contradictory
		{"dataset", "seal", "--key", filepath.Join(keys, "missing.pem"), dir}, // no such file
	} {
		if out, code := runInProcess(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, out)
		}
	}
}

// A dataset with problems is not sealed, and the problems are listed.
func TestDatasetSealRefusesProblems(t *testing.T) {
	dir := copyData(t)
	if err := os.Remove(filepath.Join(dir, "sources", "hrf-is-mexico-safe.yaml")); err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, code := runInProcess(t, "dataset", "seal", dir)
	if code != 1 || !strings.Contains(out, `names no source in sources/`) || !strings.Contains(out, "not sealed") {
		t.Errorf("seal a dataset with a dangling reference: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "manifest.json")); !bytes.Equal(after, manifest) {
		t.Error("the manifest was rewritten for a dataset with problems")
	}
}

// editFile replaces old with new in a file of a dataset copy, once.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDatasetValidateRunsExpectations: validate runs data/tests and says
// how many cases hold; a case changed, or a finding changed under a case,
// fails at the file and line, naming the path, the value wanted and got.
func TestDatasetValidateRunsExpectations(t *testing.T) {
	dir := copyData(t)
	out, code := runInProcess(t, "dataset", "validate", "--unsealed", dir)
	if code != 0 || !strings.Contains(out, "expectations: ") || !strings.Contains(out, " case(s) hold") {
		t.Fatalf("validate: exit %d\n%s", code, out)
	}

	changed := copyData(t)
	editFile(t, filepath.Join(changed, "tests", "us-2019-acas.yaml"),
		"      practice.status: PRACTICE_STATUS_PAUSED", "      practice.status: PRACTICE_STATUS_APPLIED")
	out, code = runInProcess(t, "dataset", "validate", "--unsealed", changed)
	if code != 1 || !regexp.MustCompile(`tests/us-2019-acas\.yaml:\d+:7: Guatemala 2020-06-01, in force and transfers paused: practice\.status: want PRACTICE_STATUS_APPLIED, got PRACTICE_STATUS_PAUSED`).MatchString(out) {
		t.Errorf("an expectation changed: exit %d\n%s", code, out)
	}
	out, code = runInProcess(t, "dataset", "seal", changed)
	if code != 1 || !strings.Contains(out, "not sealed") {
		t.Errorf("seal with a failing case: exit %d\n%s", code, out)
	}

	finding := copyData(t)
	editFile(t, filepath.Join(finding, "findings", "gt-fair-procedure.yaml"),
		"status: CRITERION_STATUS_NOT_MET", "status: CRITERION_STATUS_INDETERMINATE")
	out, code = runInProcess(t, "dataset", "validate", "--unsealed", finding)
	if code != 1 || !regexp.MustCompile(`tests/findings\.yaml:\d+:7: Guatemala 2020, a fair procedure not met while the bar is applied: criteria\[fair-procedure\]\.status: want CRITERION_STATUS_NOT_MET, got CRITERION_STATUS_INDETERMINATE`).MatchString(out) {
		t.Errorf("a finding changed under a case: exit %d\n%s", code, out)
	}
}

// TestDatasetDiff: the diff of data/ against a copy with one finding
// changed names the country, the criterion and the dates, in each format;
// two identical datasets report none.
func TestDatasetDiff(t *testing.T) {
	old := copyData(t)
	changed := copyData(t)
	editFile(t, filepath.Join(changed, "findings", "gt-fair-procedure.yaml"),
		"status: CRITERION_STATUS_NOT_MET", "status: CRITERION_STATUS_INDETERMINATE")
	for format, want := range map[string][]string{
		"text": {"changed  findings/gt-fair-procedure", "us-ina-208a2a GT, no applicant, 2019-07-26 to 2021-02-05",
			"criterion fair-procedure: NOT_MET -> INDETERMINATE", "records: findings/gt-fair-procedure"},
		"markdown": {"| us-ina-208a2a | GT | none | 2019-07-26 to 2021-02-05 |", "criterion fair-procedure: NOT_MET -> INDETERMINATE"},
		"json":     {`"country_code": "GT"`, `"criterion_id": "fair-procedure"`, `"from": "2019-07-26"`, `"until": "2021-02-05"`},
	} {
		out, code := runInProcess(t, "dataset", "diff", "--unsealed", "--format", format, old, changed)
		if code != 0 {
			t.Fatalf("diff --format %s: exit %d\n%s", format, code, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("diff --format %s lacks %q:\n%s", format, w, out)
			}
		}
	}
	out, code := runInProcess(t, "dataset", "diff", "--unsealed", old, copyData(t))
	if code != 0 || !strings.Contains(out, "records changed: 0") || !strings.Contains(out, "no answer differs") {
		t.Errorf("identical datasets: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"dataset", "diff", "--format", "yaml", old, changed},
		{"dataset", "diff", "--from", "2020-02-30", old, changed},
		{"dataset", "diff", "--from", "2021-01-01", "--to", "2020-01-01", old, changed},
		{"dataset", "diff", old},
	} {
		if out, code := runInProcess(t, args...); code != 2 {
			t.Errorf("%q: exit %d, want 2\n%s", args, code, out)
		}
	}
	// Sealed by default: an edited copy is refused, naming --unsealed.
	if out, code := runInProcess(t, "dataset", "diff", old, changed); code != 1 || !strings.Contains(out, "--unsealed") {
		t.Errorf("an unsealed copy compared sealed: exit %d\n%s", code, out)
	}
}

// TestKeygen: the keys are written in the PEM forms seal and serve read,
// the private one readable by its owner alone, and never over a file.
func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	priv, pub := keygen(t, dir, "release")
	info, err := os.Stat(priv)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v, want 0600", info.Mode().Perm())
	}
	if _, err := readPrivateKey(priv); err != nil {
		t.Errorf("the private key does not read as seal --key reads it: %v", err)
	}
	if _, err := readPublicKey(pub); err != nil {
		t.Errorf("the public key does not read as serve --dataset-public-key reads it: %v", err)
	}
	before, err := os.ReadFile(priv)
	if err != nil {
		t.Fatal(err)
	}
	out, code := runInProcess(t, "dataset", "keygen", "--out", filepath.Join(dir, "release"))
	if code != 1 || !strings.Contains(out, "exists: keygen never overwrites a key") {
		t.Errorf("keygen over existing keys: exit %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(priv); !bytes.Equal(before, after) {
		t.Error("the private key was overwritten")
	}
	// Only the public key exists: the private one is not written either.
	if err := os.WriteFile(filepath.Join(dir, "half.pub.pem"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, code := runInProcess(t, "dataset", "keygen", "--out", filepath.Join(dir, "half")); code != 1 {
		t.Errorf("keygen with the public key's file taken: exit %d, want 1", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "half.pem")); !os.IsNotExist(err) {
		t.Errorf("a private key was left without its public key: %v", err)
	}
	if _, code := runInProcess(t, "dataset", "keygen"); code != 2 {
		t.Errorf("keygen without --out: exit %d, want 2", code)
	}
}
