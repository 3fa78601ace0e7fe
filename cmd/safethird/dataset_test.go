package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
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

// writeKeyPair writes an ed25519 key pair as openssl writes them: PKCS#8
// and PKIX PEM.
func writeKeyPair(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	skDER, err := x509.MarshalPKCS8PrivateKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	pkDER, err := x509.MarshalPKIXPublicKey(pk)
	if err != nil {
		t.Fatal(err)
	}
	priv, pub = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub.pem")
	for path, block := range map[string]*pem.Block{priv: {Type: "PRIVATE KEY", Bytes: skDER}, pub: {Type: "PUBLIC KEY", Bytes: pkDER}} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return priv, pub
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
	priv, pub := writeKeyPair(t, keys, "dataset")
	_, otherPub := writeKeyPair(t, keys, "other")
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
