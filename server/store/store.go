// Package store holds the assessment Engines over the dataset revisions a
// server serves: the current one, swapped atomically on each reload that
// validates, and the recent ones a call may pin. It loads and watches the
// dataset and counts its loads; it knows nothing of gRPC, HTTP or the
// errors' statuses (its errors are mapped by server/rpcstatus).
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// maxRevisions bounds the revisions kept for pinning with dataset_revision:
// the last 32 loaded, current included. A Snapshot holds a few MB, so this
// bounds memory while covering far more reloads than a deployment makes
// between restarts.
const maxRevisions = 32

// ErrNotLoaded is returned while no dataset has been loaded yet.
var ErrNotLoaded = errors.New("no dataset loaded")

// RevisionError reports a pinned dataset_revision the store does not hold.
type RevisionError struct {
	// Current is the revision the store serves.
	Current string
}

func (e *RevisionError) Error() string {
	return "dataset revision not held by this server; it serves " + e.Current
}

// Store holds the Engine over the current dataset Snapshot and those over
// the revisions loaded since start; each Engine keeps its own memo. The
// swap is atomic: a call resolves one Snapshot at its start and uses only
// it, so no call sees a mix of two revisions.
type Store struct {
	load    func() (*dataset.Snapshot, error)
	logger  *zap.Logger
	metrics *Metrics

	// loadMu serializes loads, so two triggers cannot race to swap.
	loadMu  sync.Mutex
	current atomic.Pointer[assessment.Engine]

	mu   sync.RWMutex
	held []*assessment.Engine // oldest first, at most maxRevisions; the current one is last
}

// Source is where a Store loads its dataset from, and how.
type Source struct {
	// Dir, when set, is the dataset directory; else FS is loaded.
	Dir     string
	FS      fs.FS
	Options dataset.LoadOptions
}

// New returns a Store that loads from src; it holds nothing until Reload.
func New(src Source, logger *zap.Logger, m *Metrics) *Store {
	load := func() (*dataset.Snapshot, error) { return src.Options.Load(src.FS) }
	if dir := src.Dir; dir != "" {
		load = func() (*dataset.Snapshot, error) { return src.Options.LoadDir(dir) }
	}
	return &Store{load: load, logger: logger, metrics: m}
}

// Current returns the Engine over the Snapshot served now, or ErrNotLoaded.
func (s *Store) Current() (*assessment.Engine, error) {
	eng := s.current.Load()
	if eng == nil {
		return nil, ErrNotLoaded
	}
	return eng, nil
}

// Resolve returns the Snapshot with revision, or the current one when
// revision is empty. A revision not held is a *RevisionError.
func (s *Store) Resolve(revision string) (*assessment.Engine, error) {
	cur, err := s.Current()
	if err != nil {
		return nil, err
	}
	return s.Pinned(cur, revision)
}

// Pinned returns the held Snapshot with revision, with cur standing for
// the empty revision and for its own; a batch resolves cur once and pins
// each item against it.
func (s *Store) Pinned(cur *assessment.Engine, revision string) (*assessment.Engine, error) {
	if revision == "" || revision == cur.Snapshot().Revision() {
		return cur, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, eng := range s.held {
		if eng.Snapshot().Revision() == revision {
			return eng, nil
		}
	}
	return nil, &RevisionError{Current: cur.Snapshot().Revision()}
}

// LoadResult describes a successful load.
type LoadResult struct {
	Revision, Previous string
	Changed            bool
	Counts             dataset.Counts
	Duration           time.Duration
}

// Reload loads the dataset from its source and, when it validates, makes
// it current. A dataset that fails validation is refused: the last good
// one keeps serving. Every attempt is counted and timed.
func (s *Store) Reload() (LoadResult, error) {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	start := time.Now()
	snap, err := s.safeLoad()
	res := LoadResult{Duration: time.Since(start)}
	s.metrics.observeLoad(res.Duration, err)
	if prev := s.current.Load(); prev != nil {
		res.Previous = prev.Snapshot().Revision()
	}
	if err != nil {
		return res, err
	}
	res.Revision, res.Counts = snap.Revision(), snap.Counts()
	res.Changed = res.Revision != res.Previous
	if !res.Changed {
		return res, nil
	}
	s.mu.Lock()
	// A revision loaded again (a revert) moves to the end, as the newest.
	eng := assessment.New(snap)
	s.held = slices.DeleteFunc(s.held, func(h *assessment.Engine) bool { return h.Snapshot().Revision() == res.Revision })
	s.held = append(s.held, eng)
	if n := len(s.held) - maxRevisions; n > 0 {
		s.held = slices.Delete(s.held, 0, n)
	}
	s.mu.Unlock()
	s.current.Store(eng)
	s.metrics.setRevision(res.Revision)
	return res, nil
}

// safeLoad loads the dataset, turning a panic in the loader (a file that
// trips a parser bug) into an error: such a dataset is refused like any
// other bad one, rather than killing the server from a reload goroutine.
func (s *Store) safeLoad() (snap *dataset.Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("dataset loader panicked", zap.String("panic", fmt.Sprint(r)), zap.Stack("stack"))
			snap, err = nil, fmt.Errorf("the dataset loader panicked: %v", r)
		}
	}()
	return s.load()
}

// ReloadAndLog reloads for a trigger that has no caller to return to (a
// signal, the directory watcher) and logs the outcome once: each problem
// of a refused dataset on its own line, then the refusal.
func (s *Store) ReloadAndLog(trigger string) {
	res, err := s.Reload()
	if err != nil {
		LogLoadError(s.logger, err)
		s.logger.Error("dataset refused; the last good revision keeps serving",
			zap.String("trigger", trigger), zap.String("dataset_revision", res.Previous))
		return
	}
	if !res.Changed {
		s.logger.Info("dataset unchanged", zap.String("trigger", trigger), zap.String("dataset_revision", res.Revision))
		return
	}
	s.logger.Info("dataset loaded", zap.String("trigger", trigger), zap.String("dataset_revision", res.Revision),
		zap.String("previous_revision", res.Previous), zap.Duration("duration", res.Duration),
		zap.Int("countries", res.Counts.Countries), zap.Int("frameworks", res.Counts.Frameworks),
		zap.Int("agreements", res.Counts.Agreements), zap.Int("findings", res.Counts.Findings))
}

// LogLoadError logs why a load failed: every problem of a dataset that
// failed validation, one a line, or the I/O error.
func LogLoadError(logger *zap.Logger, err error) {
	var verr *dataset.ValidationError
	if !errors.As(err, &verr) {
		logger.Error("dataset load failed", zap.Error(err))
		return
	}
	for _, p := range verr.Problems {
		logger.Error("dataset problem", zap.String("problem", p.String()))
	}
}

// Encoded returns the stored encoding of an answer that the Engine of its
// revision memoized, in the named format, made by encode the first time.
func (s *Store) Encoded(a *safethirdv1.Assessment, format string, encode func(*safethirdv1.Assessment) ([]byte, error)) ([]byte, bool) {
	eng, err := s.Resolve(a.GetDatasetRevision())
	if err != nil {
		return nil, false
	}
	return eng.Encoding(a, format, encode)
}
