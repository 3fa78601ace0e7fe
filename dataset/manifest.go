package dataset

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// The files that seal a dataset, at the top of its directory.
const (
	// ManifestFile lists every file of the dataset with its SHA-256, the
	// record counts and the revision; `safethird dataset seal` writes it.
	ManifestFile = "manifest.json"
	// SignatureFile is the manifest's detached ed25519 signature, base64.
	SignatureFile = "manifest.json.sig"
)

// manifestFormat names the manifest's format, so a later one is told apart.
const manifestFormat = "safethird.dataset.manifest/v1"

// MaxManifestSize bounds the manifest, which lists every file of the
// dataset with its digest in about 100 bytes plus its path: room for some
// 100,000 files. Seal refuses to write a larger one, which no load would
// read; every other file keeps MaxFileSize.
const MaxManifestSize = 16 << 20

// maxSignatureSize bounds the signature file: 64 bytes in base64, a line break.
const maxSignatureSize = 1 << 10

// Manifest is the content of a dataset's manifest.json: what the dataset
// was when it was sealed.
type Manifest struct {
	// Format is manifestFormat.
	Format string `json:"format"`
	// Revision is the revision of the dataset sealed.
	Revision string `json:"revision"`
	// Sequence numbers the releases of a dataset: each seal that changes
	// the files or the revision takes the previous manifest's number plus
	// one. A server with a public key refuses a live dataset whose
	// sequence is lower than the one it serves (a rollback). 0: a manifest
	// sealed before releases were numbered.
	Sequence uint64 `json:"sequence,omitempty"`
	// SealedOn is the day (YYYY-MM-DD, UTC) the content was sealed; a
	// seal that changes nothing keeps the day. Empty before seals were dated.
	SealedOn string `json:"sealed_on,omitempty"`
	// Counts is the number of records in each record directory, and of
	// countries in the ISO 3166-1 list under "iso3166".
	Counts map[string]int `json:"counts"`
	// Files lists every file of the dataset, sorted by path.
	Files []ManifestEntry `json:"files"`
}

// ManifestEntry is one file of a sealed dataset.
type ManifestEntry struct {
	// Path is slash-separated, relative to the dataset directory.
	Path string `json:"path"`
	// SHA256 is the hex SHA-256 of the file's bytes.
	SHA256 string `json:"sha256"`
}

// isoCount is the key of Manifest.Counts for the ISO 3166-1 list.
const isoCount = "iso3166"

// marshal encodes the manifest with one file a line, so a change to the
// dataset shows in a diff of manifest.json as the lines of the files changed.
func (m *Manifest) marshal() []byte {
	var b bytes.Buffer
	str := func(s string) string {
		out, _ := json.Marshal(s) // a string always encodes
		return string(out)
	}
	fmt.Fprintf(&b, "{\n  \"format\": %s,\n  \"revision\": %s,\n", str(m.Format), str(m.Revision))
	if m.Sequence != 0 {
		fmt.Fprintf(&b, "  \"sequence\": %d,\n", m.Sequence)
	}
	if m.SealedOn != "" {
		fmt.Fprintf(&b, "  \"sealed_on\": %s,\n", str(m.SealedOn))
	}
	b.WriteString("  \"counts\": {")
	keys := make([]string, 0, len(m.Counts))
	for k := range m.Counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n    %s: %d", str(k), m.Counts[k])
	}
	b.WriteString("\n  },\n  \"files\": [")
	for i, f := range m.Files {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n    {\"path\": %s, \"sha256\": %s}", str(f.Path), str(f.SHA256))
	}
	b.WriteString("\n  ]\n}\n")
	return b.Bytes()
}

// parseManifest decodes and checks a manifest: known fields only, the
// format, a revision, counts, and each path once, clean, with a digest.
func parseManifest(data []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid JSON: more than one value")
	}
	switch {
	case m.Format != manifestFormat:
		return nil, fmt.Errorf("format %q, want %q", m.Format, manifestFormat)
	case !strings.HasPrefix(m.Revision, "sha256:"):
		return nil, fmt.Errorf("revision %q is not sha256:<hex>", m.Revision)
	case len(m.Files) == 0:
		return nil, errors.New("no files listed")
	case m.SealedOn != "" && !isDate(m.SealedOn):
		return nil, fmt.Errorf("sealed_on %q is not a date YYYY-MM-DD", m.SealedOn)
	}
	seen := map[string]bool{}
	for i, f := range m.Files {
		if !fs.ValidPath(f.Path) || path.Clean(f.Path) != f.Path || !strings.Contains(f.Path, "/") {
			return nil, fmt.Errorf("files[%d].path %q is not a clean path inside a dataset directory", i, f.Path)
		}
		if seen[f.Path] {
			return nil, fmt.Errorf("files[%d].path %q is listed twice", i, f.Path)
		}
		seen[f.Path] = true
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("files[%d].sha256 for %s is not 64 hex digits", i, f.Path)
		}
	}
	return &m, nil
}

// sign returns the signature file's content for a manifest.
func sign(manifest []byte, key ed25519.PrivateKey) []byte {
	return []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(key, manifest)) + "\n")
}

// verify checks the signature file's content against the manifest's bytes.
func verify(manifest, sigFile []byte, pub ed25519.PublicKey) error {
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigFile)))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("not a base64 ed25519 signature of %d bytes", ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, manifest, sig) {
		return errors.New("the signature does not verify with the public key: the manifest was changed or signed with another key")
	}
	return nil
}
