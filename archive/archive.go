// Package archive keeps old dataset releases answerable: a case filed in
// March cites the dataset_revision its answer came from, and a server
// updated since can still give that answer. An archive is a directory of
// sealed releases, each its own sealed dataset directory; the server lists
// them from their manifests and loads one only when a call pins its
// revision, checked like the live dataset (seal, signature, expectations),
// keeping the most recently used few in memory.
//
// The archive is read-only and treated as hostile as the live dataset: only
// directories directly inside it are releases (a symlink is not followed),
// each read through the dataset loader's limits, and a release that fails
// its checks is refused until the archive is scanned again, so a call
// pinning it cannot make the server load it over and over.
package archive

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"
)

// DefaultMax is how many archived releases are kept loaded at most.
const DefaultMax = 8

// maxEntries bounds the directories an archive lists, so a directory of a
// million entries costs a refusal, not the server's memory.
const maxEntries = 1000

// Release is one sealed release in the archive, as its manifest says.
type Release struct {
	Revision string
	Sequence uint64
	// SealedOn is YYYY-MM-DD, or empty for a release sealed before seals
	// were dated.
	SealedOn string
	// Dir is the release's directory.
	Dir string
}

// Options configure an Archive.
type Options struct {
	// Dir holds the releases, each a directory directly inside it.
	Dir string
	// Max is how many releases are kept loaded; 0 means DefaultMax.
	Max int
	// Load loads a release; it is given Sealed (the archive holds only
	// sealed releases) and should carry what the live dataset is checked
	// with: the public key and the expectations.
	Load dataset.LoadOptions
	// Refused, when set, is told of each release that fails its checks,
	// once per scan (a *RefusedError): the server logs it.
	Refused func(error)
}

// Archive lists the releases in a directory and loads them on demand.
type Archive struct {
	opts Options

	mu       sync.RWMutex
	releases map[string]Release // by revision
	// refused holds the releases that failed to load since the last scan,
	// with why.
	refused map[string]error

	loaded *lru.Cache[string, *assessment.Engine]
	// loads makes concurrent calls pinning one release share its load.
	loads singleflight.Group
}

// Open scans the archive directory. Releases whose manifest cannot be read
// (or whose signature does not verify, with a public key) are left out and
// reported in the error, which does not stop the others from being listed.
func Open(opts Options) (*Archive, error) {
	if opts.Max == 0 {
		opts.Max = DefaultMax
	}
	if opts.Max < 0 {
		return nil, fmt.Errorf("archive: the number of releases kept loaded must be positive, not %d", opts.Max)
	}
	opts.Load.Sealed = true
	loaded, err := lru.New[string, *assessment.Engine](opts.Max)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	a := &Archive{opts: opts, loaded: loaded}
	return a, a.Scan()
}

// Scan lists the releases in the archive again: a release added since is
// listed, one removed is dropped (and unloaded), and refused ones are given
// another chance. The error lists the directories left out.
func (a *Archive) Scan() error {
	entries, err := os.ReadDir(a.opts.Dir)
	if err != nil {
		return fmt.Errorf("archive %s: %w", a.opts.Dir, err)
	}
	releases := map[string]Release{}
	var problems []string
	for i, e := range entries {
		if i >= maxEntries {
			problems = append(problems, fmt.Sprintf("more than %d entries: the rest are not listed", maxEntries))
			break
		}
		dir := filepath.Join(a.opts.Dir, e.Name())
		if !e.IsDir() {
			problems = append(problems, fmt.Sprintf("%s: not a directory (a release is a sealed dataset directory; symlinks are not followed)", dir))
			continue
		}
		m, err := dataset.ReadManifest(dir, a.opts.Load.PublicKey)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		r := Release{Revision: m.Revision, Sequence: m.Sequence, SealedOn: m.SealedOn, Dir: dir}
		if prev, ok := releases[r.Revision]; ok && prev.Sequence >= r.Sequence {
			continue // the same content twice: either answers alike
		}
		releases[r.Revision] = r
	}
	a.mu.Lock()
	a.releases, a.refused = releases, map[string]error{}
	a.mu.Unlock()
	for _, rev := range a.loaded.Keys() {
		if _, ok := releases[rev]; !ok {
			a.loaded.Remove(rev)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("archive %s: left out: %s", a.opts.Dir, strings.Join(problems, "; "))
	}
	return nil
}

// Releases lists the archive's releases, the latest first (by sequence,
// then day sealed, then revision).
func (a *Archive) Releases() []Release {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]Release, 0, len(a.releases))
	for _, r := range a.releases {
		out = append(out, r)
	}
	slices.SortFunc(out, func(x, y Release) int {
		switch {
		case x.Sequence != y.Sequence:
			return cmpDesc(x.Sequence, y.Sequence)
		case x.SealedOn != y.SealedOn:
			return -strings.Compare(x.SealedOn, y.SealedOn)
		}
		return strings.Compare(x.Revision, y.Revision)
	})
	return out
}

func cmpDesc(x, y uint64) int {
	if x > y {
		return -1
	}
	return 1
}

// ErrNotArchived is returned for a revision the archive does not hold.
var ErrNotArchived = errors.New("revision not in the archive")

// RefusedError is an archived release that failed its checks when loaded.
type RefusedError struct {
	Revision, Dir string
	Err           error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("archived release %s (%s) was refused: %v", e.Revision, e.Dir, e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// Engine returns the engine over the archived release with revision,
// loading it when it is not loaded: ErrNotArchived when the archive does
// not hold it, a *RefusedError when it fails the checks (its problems are
// in the error; it is not loaded again until the next Scan).
func (a *Archive) Engine(revision string) (*assessment.Engine, error) {
	if eng, ok := a.loaded.Get(revision); ok {
		return eng, nil
	}
	a.mu.RLock()
	r, ok := a.releases[revision]
	refused := a.refused[revision]
	a.mu.RUnlock()
	switch {
	case !ok:
		return nil, ErrNotArchived
	case refused != nil:
		return nil, refused
	}
	v, err, _ := a.loads.Do(revision, func() (any, error) {
		if eng, ok := a.loaded.Get(revision); ok {
			return eng, nil // loaded while this call waited
		}
		eng, err := a.load(r)
		if err != nil {
			a.mu.Lock()
			a.refused[revision] = err
			a.mu.Unlock()
			if a.opts.Refused != nil {
				a.opts.Refused(err)
			}
			return nil, err
		}
		a.loaded.Add(revision, eng)
		return eng, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*assessment.Engine), nil
}

// load loads a release and checks that it is the revision its manifest
// was listed under (the directory may have changed since the scan).
func (a *Archive) load(r Release) (*assessment.Engine, error) {
	snap, err := a.opts.Load.LoadDir(r.Dir)
	if err != nil {
		return nil, &RefusedError{Revision: r.Revision, Dir: r.Dir, Err: err}
	}
	if snap.Revision() != r.Revision {
		return nil, &RefusedError{Revision: r.Revision, Dir: r.Dir,
			Err: fmt.Errorf("it loads as %s: the directory changed since the archive was scanned", snap.Revision())}
	}
	return assessment.New(snap), nil
}

// Loaded returns the revisions loaded now, most recently used first.
func (a *Archive) Loaded() []string {
	keys := a.loaded.Keys() // oldest first
	slices.Reverse(keys)
	return keys
}
