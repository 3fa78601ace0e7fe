// Package store holds the assessment Engines over the dataset revisions a
// server serves: the current one, swapped atomically on each reload that
// validates (its expectations run, a signed rollback refused), the recent
// ones a call may pin, and older releases from an archive, loaded on
// demand. It loads and watches the dataset and counts its loads; it knows
// nothing of gRPC, HTTP or the errors' statuses (its errors are mapped by
// server/rpcstatus).
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/safethird/safethird/archive"
	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"
	"github.com/safethird/safethird/expectation"
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
	// Held are the revisions a call may pin, current first.
	Held []string
	// Refused, when set, says why a revision the archive lists cannot answer.
	Refused string
}

// maxNamed bounds the revisions a refusal names; ListRevisions lists all.
const maxNamed = 10

func (e *RevisionError) Error() string {
	if e.Refused != "" {
		return "dataset revision not available: " + e.Refused + "; it serves " + e.Current
	}
	named := e.Held[:min(len(e.Held), maxNamed)]
	msg := "dataset revision not held by this server; it serves " + e.Current
	if len(e.Held) > 1 {
		msg += " and holds " + strings.Join(named[1:], ", ")
		if more := len(e.Held) - len(named); more > 0 {
			msg += fmt.Sprintf(" and %d more", more)
		}
		msg += " (ListRevisions, GET /v1/revisions, lists them)"
	}
	return msg
}

// Store holds the Engine over the current dataset Snapshot and those over
// the revisions loaded since start; each Engine keeps its own memo. The
// swap is atomic: a call resolves one Snapshot at its start and uses only
// it, so no call sees a mix of two revisions.
type Store struct {
	load    func() (*dataset.Snapshot, error)
	logger  *zap.Logger
	metrics *Metrics
	// signed is set when the dataset's seal must be signed: its release
	// sequence can then be trusted, and a lower one is a rollback.
	signed bool
	// archive holds older releases a call may pin; nil without one.
	archive *archive.Archive

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
	// Archive, when set, is a directory of older sealed releases a call
	// may pin, loaded on demand with Options; ArchiveMax is how many are
	// kept loaded (0: archive.DefaultMax).
	Archive    string
	ArchiveMax int
}

// New returns a Store that loads from src; it holds nothing until Reload.
// The dataset's expectations (its tests/) run at every load: a dataset
// whose cases fail is refused like any other bad one. With an archive, it
// lists the archive's releases; an entry that is not one is logged, and
// only an archive that cannot be read at all is an error.
func New(src Source, logger *zap.Logger, m *Metrics) (*Store, error) {
	opts := src.Options
	opts.Check = expectation.Check
	load := func() (*dataset.Snapshot, error) { return opts.Load(src.FS) }
	if dir := src.Dir; dir != "" {
		load = func() (*dataset.Snapshot, error) { return opts.LoadDir(dir) }
	}
	s := &Store{load: load, logger: logger, metrics: m, signed: opts.PublicKey != nil}
	if src.Archive == "" {
		return s, nil
	}
	a, err := archive.Open(archive.Options{Dir: src.Archive, Max: src.ArchiveMax, Load: opts,
		Refused: func(err error) { LogLoadError(logger, err) }})
	if a == nil {
		return nil, fmt.Errorf("dataset archive %s: %w", src.Archive, err)
	}
	s.archive = a
	if err != nil {
		logger.Warn("dataset archive: some entries are not releases", zap.Error(err))
	}
	return s, nil
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
// revision is empty: one held, or else one in the archive. A revision
// neither holds is a *RevisionError.
func (s *Store) Resolve(revision string) (*assessment.Engine, error) {
	cur, err := s.Current()
	if err != nil {
		return nil, err
	}
	return s.ResolveFrom(cur, revision)
}

// ResolveFrom is Pinned, then the archive: what a call pinning a revision
// is answered from; a batch resolves cur once and each item against it.
func (s *Store) ResolveFrom(cur *assessment.Engine, revision string) (*assessment.Engine, error) {
	eng, err := s.Pinned(cur, revision)
	if err == nil || s.archive == nil {
		return eng, err
	}
	eng, aerr := s.archive.Engine(revision)
	var refused *archive.RefusedError
	switch {
	case aerr == nil:
		return eng, nil
	case errors.As(aerr, &refused):
		return nil, &RevisionError{Current: cur.Snapshot().Revision(), Held: s.revisionIDs(cur),
			Refused: "it is in the server's archive but failed its checks when loaded (see the server's log)"}
	}
	return nil, err
}

// Pinned returns the held Snapshot with revision, with cur standing for
// the empty revision and for its own; a batch resolves cur once and pins
// each item against it.
func (s *Store) Pinned(cur *assessment.Engine, revision string) (*assessment.Engine, error) {
	if revision == "" || revision == cur.Snapshot().Revision() {
		return cur, nil
	}
	s.mu.RLock()
	for _, eng := range s.held {
		if eng.Snapshot().Revision() == revision {
			s.mu.RUnlock()
			return eng, nil
		}
	}
	s.mu.RUnlock()
	return nil, &RevisionError{Current: cur.Snapshot().Revision(), Held: s.revisionIDs(cur)}
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
	// A load allocates several times what its Snapshot keeps (the files,
	// their YAML trees, the texts before they are normalized: 36 MB for
	// the embedded dataset's 10 MB kept, 310 MB for a 200-country one's
	// 12), and the runtime would hold those pages for minutes: returned
	// at once, a server idles at what it serves with. One collection a
	// load, after it is timed, and before the swap: a call that sees the
	// new revision finds its load logged a moment later, as before, not
	// a collection later.
	debug.FreeOSMemory()
	s.metrics.observeLoad(res.Duration, err)
	if prev := s.current.Load(); prev != nil {
		res.Previous = prev.Snapshot().Revision()
	}
	if err != nil {
		return res, err
	}
	res.Revision, res.Counts = snap.Revision(), snap.Counts()
	res.Changed = res.Revision != res.Previous
	if err := s.checkRollback(snap); err != nil {
		return res, err
	}
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

// rollbackError refuses a live dataset older than the one served.
type rollbackError struct {
	revision, current string
	sequence, serving uint64
}

func (e *rollbackError) Error() string {
	return fmt.Sprintf("dataset %s is release %d, older than release %d (%s) served now: a rollback is refused; to answer from an older release, put it in the archive (--dataset-archive)",
		e.revision, e.sequence, e.serving, e.current)
}

// checkRollback refuses, when the seal is signed, a dataset whose release
// sequence is lower than the served one's: a signed old release replayed
// over a new one would otherwise be taken. Unsigned, the sequence proves
// nothing and is not compared.
func (s *Store) checkRollback(snap *dataset.Snapshot) error {
	cur := s.current.Load()
	if !s.signed || cur == nil {
		return nil
	}
	next, _ := snap.Seal()
	serving, _ := cur.Snapshot().Seal()
	if next.Sequence < serving.Sequence {
		return &rollbackError{revision: snap.Revision(), current: cur.Snapshot().Revision(), sequence: next.Sequence, serving: serving.Sequence}
	}
	return nil
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
	if s.archive != nil {
		if err := s.archive.Scan(); err != nil {
			s.logger.Warn("dataset archive: some entries are not releases", zap.String("trigger", trigger), zap.Error(err))
		}
	}
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

// Revision is one revision a call may pin, as ListRevisions lists it.
type Revision struct {
	ID, SealedOn   string
	Sequence       uint64
	Live, Archived bool
}

// Revisions lists what a call may pin: the current revision, those held
// since start (latest first), then the archive's releases not held.
func (s *Store) Revisions(cur *assessment.Engine) []Revision {
	seen := map[string]bool{}
	var out []Revision
	add := func(r Revision) {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	info := func(eng *assessment.Engine, live bool) Revision {
		si, _ := eng.Snapshot().Seal()
		return Revision{ID: eng.Snapshot().Revision(), SealedOn: si.SealedOn, Sequence: si.Sequence, Live: live}
	}
	add(info(cur, true))
	s.mu.RLock()
	for i := len(s.held) - 1; i >= 0; i-- {
		add(info(s.held[i], false))
	}
	s.mu.RUnlock()
	if s.archive != nil {
		for _, r := range s.archive.Releases() {
			add(Revision{ID: r.Revision, SealedOn: r.SealedOn, Sequence: r.Sequence, Archived: true})
		}
	}
	return out
}

// revisionIDs names the revisions a call may pin, for a refusal's message.
func (s *Store) revisionIDs(cur *assessment.Engine) []string {
	var out []string
	for _, r := range s.Revisions(cur) {
		out = append(out, r.ID)
	}
	return out
}
