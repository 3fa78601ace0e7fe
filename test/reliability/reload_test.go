package reliability_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// observation is one distinct (request, revision, response) seen: equal
// responses marshal to equal deterministic bytes, so one kept response
// stands for every call with the same key.
type observation struct {
	item     int
	revision string
	hash     [sha256.Size]byte
}

// recorder keeps every (request, response revision, response) of a load.
type recorder struct {
	mu    sync.Mutex
	seen  map[observation]proto.Message
	count map[observation]int
	revs  map[string]int
}

func newRecorder() *recorder {
	return &recorder{seen: map[observation]proto.Message{}, count: map[observation]int{}, revs: map[string]int{}}
}

// record notes the response to item; a response that mixes revisions is
// an error, reported as a failed call.
func (r *recorder) record(item int, resp proto.Message) error {
	rev, err := revision(resp)
	if err != nil {
		return err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(resp)
	if err != nil {
		return err
	}
	key := observation{item: item, revision: rev, hash: sha256.Sum256(b)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.seen[key]; !ok {
		r.seen[key] = resp
	}
	r.count[key]++
	r.revs[rev]++
	return nil
}

// revisionCounts returns how many calls each revision answered.
func (r *recorder) revisionCounts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.revs {
		out[k] = v
	}
	return out
}

// offlineAnswer recomputes what the server must answer to w from eng.
func offlineAnswer(eng *assessment.Engine, w workItem, today string) (proto.Message, error) {
	switch {
	case w.country != nil:
		a, err := eng.AssessCountry(w.country, today)
		if err != nil {
			return nil, err
		}
		return &pb.AssessCountryResponse{Assessment: a}, nil
	case w.route != nil:
		return eng.AssessRoute(w.route, today)
	case w.batch != nil:
		items, err := assessment.BatchAssessCountries(func(string) (*assessment.Engine, error) { return eng, nil }, w.batch, today)
		if err != nil {
			return nil, err
		}
		resp := &pb.BatchAssessCountriesResponse{}
		for i, it := range items {
			if it.Err != nil {
				return nil, fmt.Errorf("batch item %d: %w", i, it.Err)
			}
			resp.Results = append(resp.Results, &pb.BatchAssessResult{Result: &pb.BatchAssessResult_Assessment{Assessment: it.Assessment}})
		}
		return resp, nil
	}
	return nil, errors.New("no offline answer for a catalog call")
}

// brokenCase breaks the served dataset one way; restore undoes it.
type brokenCase struct {
	name string
	// wantProblem is text of the log line it must cause, any one of them:
	// a "dataset problem" line or, for a loader that fails outright, its
	// error line.
	wantProblem []string
	breakIt     func(t *testing.T) (restore func())
}

// refusalLines are the messages of the lines that say why a dataset was
// refused, and the fields that hold the reason.
var refusalLines = map[string][]string{
	"dataset problem":         {"problem"},
	"dataset load failed":     {"error"},
	"dataset loader panicked": {"panic"},
}

// swapSymlink points link at target atomically, as a deployment that
// swaps dataset directories through a symlink (a ConfigMap mount) does.
func swapSymlink(t *testing.T, link, target string) {
	t.Helper()
	tmp := link + ".new"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
}

// rewrite replaces a file's content and returns a function restoring it.
func rewrite(t *testing.T, path string, edit func(old []byte) []byte) func() {
	t.Helper()
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(old), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.WriteFile(path, old, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The finding the cases break and the source it cites.
const (
	brokenFinding = "findings/mx-no-persecution.yaml"
	citedSource   = "sources/hrf-is-mexico-safe.yaml"
)

// TestReloadUnderLoad swaps in broken datasets while a load runs, each
// followed by SIGHUP: every one is refused, counted and logged, the served
// revision never changes and health stays SERVING; then a good changed
// dataset activates. Every answer of the load is then recomputed offline
// against the revision it names: none may differ (no torn reads).
func TestReloadUnderLoad(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	good := filepath.Join(root, "good")
	copyDir(t, repoDataDir(t), good)
	keptA := filepath.Join(root, "kept-a")
	copyDir(t, good, keptA)
	live := filepath.Join(root, "live")
	if err := os.Symlink(good, live); err != nil {
		t.Fatal(err)
	}
	// Unsealed: these cases test what the loader finds in the content. A
	// sealed dataset refuses each before parsing it, as changed since it
	// was sealed (TestHalfWrittenFileIsNeverServed and the others).
	srv := startServer(t, serverOptions{dataset: live, dropCallLines: true, env: []string{"SAFETHIRD_DATASET_UNSEALED=true"}})
	revA, _ := srv.logLines("serving")[0]["dataset_revision"].(string)
	if !strings.HasPrefix(revA, "sha256:") {
		t.Fatalf("serving line has no revision: %q", revA)
	}

	var items []workItem
	for _, it := range workItems() {
		if it.list == nil { // catalog answers carry no revision
			items = append(items, it)
		}
	}
	rec := newRecorder()
	c := newClient(t, srv.addr)
	load := startLoad(t, 4, func(ctx context.Context, w, i int) error {
		idx := (w*5 + i) % len(items)
		resp, err := items[idx].call(ctx, c)
		if err != nil {
			return err
		}
		return rec.record(idx, resp)
	})
	health := startLoad(t, 1, func(ctx context.Context, _, _ int) error {
		defer time.Sleep(20 * time.Millisecond)
		if st, err := healthStatus(c.Conn()); err != nil || st != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health %v, %v", st, err)
		}
		return nil
	})
	waitFor(t, "the load to start", 20*time.Second, func() bool { return load.calls.Load() >= 50 })

	path := func(rel string) string { return filepath.Join(good, filepath.FromSlash(rel)) }
	cases := []brokenCase{
		{"broken YAML", []string{brokenFinding + ":"}, func(t *testing.T) func() {
			return rewrite(t, path(brokenFinding), func(old []byte) []byte { return append([]byte("id: [unclosed\n"), old...) })
		}},
		{"unknown field", []string{`unknown field "colour"`}, func(t *testing.T) func() {
			return rewrite(t, path(brokenFinding), func(old []byte) []byte { return append(old, "colour: red\n"...) })
		}},
		{"dangling reference", []string{"no-such-framework"}, func(t *testing.T) func() {
			return rewrite(t, path(brokenFinding), func(old []byte) []byte {
				return []byte(strings.Replace(string(old), "framework_id: us-ina-208a2a", "framework_id: no-such-framework", 1))
			})
		}},
		{"truncated file", []string{brokenFinding + ":"}, func(t *testing.T) func() {
			return rewrite(t, path(brokenFinding), func(old []byte) []byte {
				// Cut inside the first quoted string: the YAML cannot parse.
				i := strings.Index(string(old), `quote: "`)
				if i < 0 {
					t.Fatalf("%s has no quote to cut", brokenFinding)
				}
				return old[:i+len(`quote: "`)+10]
			})
		}},
		{"empty file", []string{"countries/MX.yaml: file is empty"}, func(t *testing.T) func() {
			return rewrite(t, path("countries/MX.yaml"), func([]byte) []byte { return nil })
		}},
		{"deleted file", []string{`source_id "hrf-is-mexico-safe" names no source`}, func(t *testing.T) func() {
			restore := rewrite(t, path(citedSource), func(old []byte) []byte { return old })
			if err := os.Remove(path(citedSource)); err != nil {
				t.Fatal(err)
			}
			return restore
		}},
		// A lone carriage return makes the loader panic (see dataset's
		// TestLoadCarriageReturnDoesNotPanic); that killed the server.
		{"file that crashes the loader", []string{"panicked", "countries/MX.yaml:"}, func(t *testing.T) func() {
			return rewrite(t, path("countries/MX.yaml"), func([]byte) []byte { return []byte("code: MX\rcolour: red") })
		}},
		{"directory swapped through the symlink", []string{"findings/mx-fair-procedure.yaml:"}, func(t *testing.T) func() {
			bad := filepath.Join(root, "bad-copy")
			_ = os.RemoveAll(bad)
			copyDir(t, good, bad)
			rewrite(t, filepath.Join(bad, "findings", "mx-fair-procedure.yaml"), func(old []byte) []byte {
				return []byte(strings.Replace(string(old), "status: CRITERION_STATUS_", "status: CRITERION_STATUS_MAYBE_", 1))
			})
			swapSymlink(t, live, bad)
			return func() { swapSymlink(t, live, good) }
		}},
	}

	signalOutcome := srv.reloadBySignal

	rounds := pick(2, 20)
	refused := 0
	for round := range rounds {
		for _, bc := range cases {
			t.Run(fmt.Sprintf("%s round %d", bc.name, round+1), func(t *testing.T) {
				failuresBefore := metric(srv.scrape(t), "safethird_dataset_loads_total", "result", "failure")
				restore := bc.breakIt(t)
				line, log := signalOutcome(t)
				if line["msg"] != "dataset refused; the last good revision keeps serving" || line["dataset_revision"] != revA {
					t.Errorf("after SIGHUP: %v; want the dataset refused with %s kept", line, revA)
				} else {
					refused++
				}
				var problems []string
				for _, l := range parseLog(log, "") {
					for _, field := range refusalLines[fmt.Sprint(l["msg"])] {
						problems = append(problems, fmt.Sprint(l[field]))
					}
				}
				if !slices.ContainsFunc(bc.wantProblem, func(w string) bool { return strings.Contains(strings.Join(problems, "\n"), w) }) {
					t.Errorf("no problem line with any of %q; problems logged:\n%s", bc.wantProblem, strings.Join(problems, "\n"))
				}
				body := srv.scrape(t)
				if got := metric(body, "safethird_dataset_loads_total", "result", "failure"); got < failuresBefore+1 {
					t.Errorf("load failures counted %v, want at least %v", got, failuresBefore+1)
				}
				if metric(body, "safethird_dataset_info", "revision", revA) != 1 {
					t.Errorf("safethird_dataset_info does not name %s", revA)
				}
				wantServing(t, c.Conn())
				resp, err := items[0].call(context.Background(), c)
				if rev, _ := revision(resp); err != nil || rev != revA {
					t.Errorf("served revision %q, %v; want %s", rev, err, revA)
				}

				restore()
				if line, _ := signalOutcome(t); line["msg"] != "dataset unchanged" || line["dataset_revision"] != revA {
					t.Errorf("after restoring: %v; want %s unchanged", line, revA)
				}
			})
		}
	}

	// A good, changed dataset in a new directory, swapped in: it activates.
	goodB := filepath.Join(root, "good-b")
	copyDir(t, good, goodB)
	rewrite(t, filepath.Join(goodB, filepath.FromSlash(brokenFinding)), func(old []byte) []byte {
		return []byte(strings.Replace(string(old), "summary: >-\n", "summary: >-\n  Revision B of the reliability test.\n", 1))
	})
	snapB, err := dataset.LoadDir(goodB)
	if err != nil {
		t.Fatalf("the changed dataset does not load: %v", err)
	}
	revB := snapB.Revision()
	if revB == revA {
		t.Fatal("the changed dataset has the same revision")
	}
	t.Run("good dataset activates", func(t *testing.T) {
		callsOnB := func() int { return rec.revisionCounts()[revB] }
		swapSymlink(t, live, goodB)
		line, _ := signalOutcome(t)
		// The directory watcher may have loaded it first; either way B serves.
		if line["dataset_revision"] != revB {
			t.Errorf("after SIGHUP: %v; want %s served", line, revB)
		}
		waitFor(t, "calls answered from the new revision", 20*time.Second, func() bool { return callsOnB() >= 100 })
		if got := srv.logLines("dataset loaded"); len(got) != 1 || got[0]["dataset_revision"] != revB {
			t.Errorf("dataset loaded lines: %v; want one, for %s", got, revB)
		}
		if metric(srv.scrape(t), "safethird_dataset_info", "revision", revB) != 1 {
			t.Errorf("safethird_dataset_info does not name %s", revB)
		}
	})
	calls := load.wantNoFailures(t, "the load during reloads")
	healthChecks := health.wantNoFailures(t, "health checks during reloads")

	revs := rec.revisionCounts()
	for rev, n := range revs {
		if rev != revA && rev != revB {
			t.Errorf("%d answers name revision %q, neither the first nor the changed one", n, rev)
		}
	}
	figure(t, "%d broken datasets refused of %d sent (%d kinds x %d rounds), served revision unchanged; %d calls and %d health checks during reloads, 0 failed; %d answers from the first revision, %d from the changed one",
		refused, len(cases)*rounds, len(cases), rounds, calls, healthChecks, revs[revA], revs[revB])

	t.Run("no torn reads", func(t *testing.T) {
		today := time.Now().UTC().Format(time.DateOnly)
		engines := map[string]*assessment.Engine{}
		for _, dir := range []string{keptA, goodB} {
			snap, err := dataset.LoadDir(dir)
			if err != nil {
				t.Fatalf("load the kept copy %s: %v", dir, err)
			}
			engines[snap.Revision()] = assessment.New(snap)
		}
		if engines[revA] == nil || engines[revB] == nil {
			t.Fatalf("the kept copies have revisions %v, want %s and %s", engines, revA, revB)
		}
		compared, mismatches := 0, 0
		for key, got := range rec.seen {
			n := rec.count[key]
			want, err := offlineAnswer(engines[key.revision], items[key.item], today)
			if err != nil {
				t.Fatalf("offline answer for item %d: %v", key.item, err)
			}
			compared += n
			if !proto.Equal(want, got) {
				mismatches += n
				t.Errorf("item %d at %s: %d answers differ from the offline one", key.item, key.revision, n)
			}
		}
		if compared == 0 {
			t.Fatal("nothing was compared")
		}
		figure(t, "%d answers (%d distinct request/revision/response) recomputed offline against their revision: %d mismatches",
			compared, len(rec.seen), mismatches)
	})
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v", d, err)
	}
}

// reloadBySignal sends SIGHUP and returns the signal-triggered outcome line
// logged after it (one of refused, unchanged, loaded) and everything logged
// since the signal.
func (p *serverProc) reloadBySignal(t *testing.T) (map[string]any, string) {
	t.Helper()
	offset := p.stderr.Len()
	p.signal(t, syscall.SIGHUP)
	var line map[string]any
	waitFor(t, "the SIGHUP reload to be logged", 20*time.Second, func() bool {
		select {
		case <-p.exited:
			t.Fatalf("the server died on SIGHUP (%v):\n%s", p.waitErr, p.stderr.Since(offset))
		default:
		}
		for _, l := range parseLog(p.stderr.Since(offset), "") {
			if l["trigger"] == "signal" {
				line = l
				return true
			}
		}
		return false
	})
	return line, p.stderr.Since(offset)
}
