package dataset

import (
	"crypto/ed25519"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/safethird/safethird/internal/safefile"
)

// readManifest reads and checks the manifest, and its signature when pub
// is set. A dataset whose manifest cannot be used has one problem, on the
// manifest; its files are then read for their own problems only.
func (l *loader) readManifest(pub ed25519.PublicKey) {
	m, p := manifestIn(l.fsys, pub)
	if p != nil {
		l.problem(p.File, 0, 0, "%s", p.Message)
		l.manifest = &Manifest{} // no file matches an empty seal
		return
	}
	l.manifest = m
	l.sealed = map[string]string{}
	for _, f := range m.Files {
		l.sealed[f.Path] = f.SHA256
	}
}

// manifestIn reads and parses the manifest in fsys and, with pub, checks
// its signature; a manifest that cannot be used is a problem with the
// file at fault.
func manifestIn(fsys fs.FS, pub ed25519.PublicKey) (*Manifest, *Problem) {
	data, err := safefile.ReadFS(fsys, ManifestFile, MaxManifestSize)
	if err != nil {
		return nil, &Problem{File: ManifestFile, Message: fmt.Sprintf("cannot read the seal: %v; seal the dataset with `safethird dataset seal`, or serve it with --dataset-unsealed to edit it", readError(err))}
	}
	m, err := parseManifest(data)
	if err != nil {
		return nil, &Problem{File: ManifestFile, Message: fmt.Sprintf("not a dataset manifest: %v", err)}
	}
	if pub != nil {
		sig, err := safefile.ReadFS(fsys, SignatureFile, maxSignatureSize)
		if err == nil {
			err = verify(data, sig, pub)
		}
		if err != nil {
			return nil, &Problem{File: SignatureFile, Message: fmt.Sprintf("the dataset's signature is required and does not verify: %v", readError(err))}
		}
	}
	return m, nil
}

// matchesSeal reports whether a file just read may be parsed: always when
// loading unsealed; when sealed, only a file the manifest lists with the
// digest read. A file that does not match is reported and not parsed: its
// content is not what was sealed, whatever it says.
func (l *loader) matchesSeal(file string) bool {
	if l.manifest == nil {
		return true
	}
	if l.manifest.Format == "" {
		return false // the seal itself is broken, and reported
	}
	want, ok := l.sealed[file]
	switch {
	case !ok:
		l.problem(file, 0, 0, "not in %s: added after the dataset was sealed", ManifestFile)
		return false
	case want != l.digests[file]:
		l.problem(file, 0, 0, "changed since the dataset was sealed: its SHA-256 differs from %s", ManifestFile)
		return false
	}
	return true
}

// checkSeal, when sealed, reports the files the manifest lists that were
// not read, and a revision or counts that differ from the manifest's.
func (l *loader) checkSeal(snap *Snapshot) {
	m := l.manifest
	if m == nil || m.Format == "" {
		return
	}
	for _, f := range m.Files {
		if _, ok := l.digests[f.Path]; !ok {
			l.problem(f.Path, 0, 0, "listed in %s but missing or unreadable", ManifestFile)
		}
	}
	if len(l.problems) > 0 {
		return // the revision is meaningless over a dataset with problems
	}
	if got := sealCounts(snap.Counts()); !maps.Equal(got, m.Counts) {
		l.problem(ManifestFile, 0, 0, "record counts %v differ from the sealed %v", got, m.Counts)
	}
	if snap.Revision() != m.Revision {
		l.problem(ManifestFile, 0, 0, "the files match but make revision %s, not the sealed %s: seal the dataset again with this version of safethird", snap.Revision(), m.Revision)
	}
}

// sealCounts is Manifest.Counts for a snapshot's counts.
func sealCounts(c Counts) map[string]int {
	return map[string]int{
		isoCount: c.Countries, "sources": c.Sources, "countries": c.CuratedCountries, "frameworks": c.Frameworks,
		"agreements": c.Agreements, "designations": c.Designations, "findings": c.Findings,
	}
}

// entries lists the files read with their digests, sorted by path.
func (l *loader) entries() []ManifestEntry {
	paths := slices.Sorted(maps.Keys(l.digests))
	out := make([]ManifestEntry, len(paths))
	for i, p := range paths {
		out[i] = ManifestEntry{Path: p, SHA256: l.digests[p]}
	}
	return out
}

// SealOptions say how a dataset is sealed.
type SealOptions struct {
	// Key, when set, signs the manifest (manifest.json.sig).
	Key ed25519.PrivateKey
	// Sequence, when not 0, is the release's sequence number; it must be
	// higher than the previous manifest's. 0 takes the previous manifest's
	// number, plus one when the files or the revision changed (1 when there
	// is no previous manifest).
	Sequence uint64
	// Now is the clock that dates the seal; nil means time.Now.
	Now func() time.Time
}

// Seal is SealWith, signing with key when it is set.
func (o LoadOptions) Seal(dir string, key ed25519.PrivateKey) (*Manifest, error) {
	return o.SealWith(dir, SealOptions{Key: key})
}

// SealWith loads the dataset in dir unsealed and, when it validates (and
// passes o.Check), writes its manifest (and, with a key, the manifest's
// signature) into it, replacing any earlier seal. The manifest records the
// bytes that were validated. Without a key, an earlier signature is
// removed: it signed another manifest. Sealing a dataset that has not
// changed since its last seal writes the same manifest: the same sequence
// and day.
func (o LoadOptions) SealWith(dir string, so SealOptions) (*Manifest, error) {
	d, err := safefile.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("seal dataset: %w", err)
	}
	defer d.Close()
	o.Sealed, o.PublicKey = false, nil
	snap, files, err := o.load(d)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: manifestFormat, Revision: snap.Revision(), Counts: sealCounts(snap.Counts()), Files: files}
	if err := m.number(previousManifest(d), so); err != nil {
		return nil, err
	}
	data := m.marshal()
	if len(data) > MaxManifestSize {
		return nil, fmt.Errorf("seal dataset: the manifest of %d files would be %d bytes, over the %d-byte limit of a manifest a load reads: split the dataset or shorten its file names", len(m.Files), len(data), MaxManifestSize)
	}
	if err := writeAtomic(filepath.Join(d.Path(), ManifestFile), data); err != nil {
		return nil, err
	}
	sigPath := filepath.Join(d.Path(), SignatureFile)
	if so.Key == nil {
		if err := os.Remove(sigPath); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("remove the old signature: %w", err)
		}
		return m, nil
	}
	if err := writeAtomic(sigPath, sign(data, so.Key)); err != nil {
		return nil, err
	}
	return m, nil
}

// previousManifest is the manifest a dataset directory holds before it is
// sealed again, or nil when it has none that parses.
func previousManifest(fsys fs.FS) *Manifest {
	m, _ := manifestIn(fsys, nil) // none, or one that does not parse: numbering starts again
	return m
}

// number sets the release's sequence and day from the previous manifest:
// kept when nothing changed, so sealing again is idempotent (make checkseal
// relies on it); otherwise the next number and today.
func (m *Manifest) number(prev *Manifest, so SealOptions) error {
	now := time.Now
	if so.Now != nil {
		now = so.Now
	}
	var last uint64
	if prev != nil {
		last = prev.Sequence
	}
	unchanged := prev != nil && prev.Revision == m.Revision && slices.Equal(prev.Files, m.Files)
	switch {
	case so.Sequence != 0 && so.Sequence <= last && !(unchanged && so.Sequence == last):
		return fmt.Errorf("seal dataset: sequence %d is not above the previous manifest's %d: a release's number only grows", so.Sequence, last)
	case so.Sequence != 0:
		m.Sequence = so.Sequence
	case unchanged:
		m.Sequence = last
	default:
		m.Sequence = last + 1
	}
	if unchanged && m.Sequence == last && prev.SealedOn != "" {
		m.SealedOn = prev.SealedOn
	} else {
		m.SealedOn = now().UTC().Format(DateLayout)
	}
	return nil
}

// ReadManifest reads the manifest of the dataset in dir and, with pub,
// checks its signature, without loading the dataset: what an archive of
// releases lists before a call needs one. The manifest's claims (files,
// revision) are checked only when the dataset is loaded.
func ReadManifest(dir string, pub ed25519.PublicKey) (*Manifest, error) {
	d, err := safefile.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer d.Close()
	m, p := manifestIn(d, pub)
	if p != nil {
		return nil, fmt.Errorf("%s: %s", filepath.Join(dir, p.File), p.Message)
	}
	return m, nil
}

// writeAtomic writes a file by renaming a complete temporary file over it,
// so a server reloading meanwhile reads the old seal or the new, never half.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
