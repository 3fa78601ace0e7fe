package server_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// editedFinding is the finding the reload tests change: its summary is in
// the rationale of MX's no-persecution criterion.
const editedFinding = "findings/mx-no-persecution.yaml"

// editSummary appends suffix to the summary of the finding file at path
// and seals the dataset again, as a release does.
func editSummary(t *testing.T, dir, suffix string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(editedFinding))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the embedded dataset lacks %s: %v", editedFinding, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) == 0 {
		t.Fatalf("parse %s: %v", path, err)
	}
	root, found := doc.Content[0], false
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "summary" {
			root.Content[i+1].Value += suffix
			found = true
		}
	}
	if !found {
		t.Fatalf("%s has no summary", path)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatalf("marshal %s: %v", path, err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (dataset.LoadOptions{}).Seal(dir, nil); err != nil {
		t.Fatalf("seal %s: %v", dir, err)
	}
}

// loadDir loads dir as the server would.
func loadDir(t *testing.T, dir string) *dataset.Snapshot {
	t.Helper()
	snap, err := dataset.LoadOptions{Sealed: true}.LoadDir(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return snap
}

func engineAnswer(t *testing.T, snap *dataset.Snapshot, req *safethirdv1.AssessCountryRequest) *safethirdv1.AssessCountryResponse {
	t.Helper()
	a, err := assessment.New(snap).AssessCountry(req, today)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	return &safethirdv1.AssessCountryResponse{Assessment: a}
}

// Under concurrent calls, a reload swaps atomically: every answer is
// exactly one revision's answer, never a mix, and both are seen.
func TestReloadUnderConcurrentCalls(t *testing.T) {
	dir := copyDataset(t)
	cfg := serverConfig()
	cfg.DatasetDir, cfg.WatchInterval = dir, -1
	ts := startServer(t, cfg)
	req := &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}
	wantA := engineAnswer(t, loadDir(t, dir), req)

	const workers, maxCalls = 8, 400
	var (
		wg    sync.WaitGroup
		calls atomic.Int64
		stop  = make(chan struct{})
		got   = make([][]*safethirdv1.AssessCountryResponse, workers)
		errs  = make([]error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for range maxCalls {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := ts.assess.AssessCountry(context.Background(), req)
				if err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], resp)
				calls.Add(1)
			}
		})
	}
	waitFor(t, "calls before the reload", func() bool { return calls.Load() >= 40 })
	editSummary(t, dir, " RELOADED-MARKER")
	if err := ts.srv.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	before := calls.Load()
	waitFor(t, "calls after the reload", func() bool { return calls.Load() >= before+40 || calls.Load() >= workers*maxCalls })
	close(stop)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("AssessCountry: %v", err)
	}

	wantB := engineAnswer(t, loadDir(t, dir), req)
	if !contains(wantB.GetAssessment().GetCriteria()[1].GetRationale(), "RELOADED-MARKER") {
		t.Fatal("the edit does not show in the answer; the test proves nothing")
	}
	want := map[string]*safethirdv1.AssessCountryResponse{
		wantA.GetAssessment().GetDatasetRevision(): wantA,
		wantB.GetAssessment().GetDatasetRevision(): wantB,
	}
	seen := map[string]int{}
	for _, responses := range got {
		for _, resp := range responses {
			rev := resp.GetAssessment().GetDatasetRevision()
			w, ok := want[rev]
			if !ok {
				t.Fatalf("answer with revision %q, neither before nor after the reload", rev)
			}
			// proto.Equal first: cmp.Diff on hundreds of answers is slow under -race.
			if !proto.Equal(w, resp) {
				t.Fatalf("answer does not match its revision %s (-want +got):\n%s", rev, cmp.Diff(w, resp, protocmp.Transform()))
			}
			seen[rev]++
		}
	}
	if len(seen) != 2 {
		t.Errorf("revisions seen: %v; want both", seen)
	}
}

// A dataset that fails validation is refused, each problem logged once,
// counted, and the last good revision keeps serving.
func TestBadReloadKeepsLastGood(t *testing.T) {
	dir := copyDataset(t)
	signals := make(chan os.Signal, 1)
	cfg := serverConfig()
	cfg.DatasetDir, cfg.WatchInterval, cfg.ReloadSignals = dir, -1, signals
	ts := startServer(t, cfg)
	revA := loadDir(t, dir).Revision()

	if err := os.WriteFile(filepath.Join(dir, "findings", "broken.yaml"), []byte("id: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "findings", "notes.txt"), []byte("stray\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, loadErr := dataset.LoadOptions{Sealed: true}.LoadDir(dir)
	var verr *dataset.ValidationError
	if !errors.As(loadErr, &verr) || len(verr.Problems) < 2 {
		t.Fatalf("the broken dataset loads with %v; want at least 2 problems", loadErr)
	}

	signals <- syscall.SIGHUP
	waitFor(t, "the refusal", func() bool {
		return ts.logs.FilterMessage("dataset refused; the last good revision keeps serving").Len() == 1
	})
	logged := map[string]int{}
	for _, e := range ts.logs.FilterMessage("dataset problem").All() {
		logged[e.ContextMap()["problem"].(string)]++
	}
	want := map[string]int{}
	for _, p := range verr.Problems {
		want[p.String()] = 1
	}
	if diff := cmp.Diff(want, logged); diff != "" {
		t.Errorf("problems logged (-want +got):\n%s", diff)
	}

	resp, err := ts.assess.AssessCountry(context.Background(), mx)
	if err != nil || resp.GetAssessment().GetDatasetRevision() != revA {
		t.Fatalf("after a refused reload: %v, revision %q; want %q", err, resp.GetAssessment().GetDatasetRevision(), revA)
	}
	// Reload reports the refusal to a caller too.
	if err := ts.srv.Reload(); !errors.As(err, &verr) {
		t.Errorf("Reload = %v, want a *dataset.ValidationError", err)
	}
	for result, want := range map[string]float64{"success": 1, "failure": 2} {
		if got := metricValue(t, ts.reg, "safethird_dataset_loads_total", map[string]string{"result": result}); got != want {
			t.Errorf("loads %s = %v, want %v", result, got, want)
		}
	}
	if got := metricValue(t, ts.reg, "safethird_dataset_info", map[string]string{"revision": revA}); got != 1 {
		t.Errorf("dataset_info for %s = %v, want 1", revA, got)
	}
	ts.waitServing(t)
}

// After a reload, a call can still pin the revision before it; a batch
// can pin a different one in each item.
func TestPinOldRevisionAfterReload(t *testing.T) {
	dir := copyDataset(t)
	cfg := serverConfig()
	cfg.DatasetDir, cfg.WatchInterval = dir, -1
	ts := startServer(t, cfg)
	req := &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}
	snapA := loadDir(t, dir)
	editSummary(t, dir, " PINNED-MARKER")
	if err := ts.srv.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	snapB := loadDir(t, dir)
	revA, revB := snapA.Revision(), snapB.Revision()
	if revA == revB {
		t.Fatal("the edit did not change the revision")
	}
	ctx := context.Background()

	for _, tt := range []struct {
		name string
		pin  string
		want *dataset.Snapshot
	}{
		{"unpinned gets the new revision", "", snapB},
		{"pinned to the old revision", revA, snapA},
		{"pinned to the new revision", revB, snapB},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pinned := &safethirdv1.AssessCountryRequest{CountryCode: req.CountryCode, AsOf: req.AsOf, DatasetRevision: tt.pin}
			got, err := ts.assess.AssessCountry(ctx, pinned)
			if err != nil {
				t.Fatalf("AssessCountry: %v", err)
			}
			if diff := cmp.Diff(engineAnswer(t, tt.want, pinned), got, protocmp.Transform()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("route pinned to the old revision", func(t *testing.T) {
		route := &safethirdv1.AssessRouteRequest{Legs: []*safethirdv1.RouteLeg{{CountryCode: "MX"}}, AsOf: "2019-01-01", DatasetRevision: revA}
		got, err := ts.assess.AssessRoute(ctx, route)
		if err != nil {
			t.Fatalf("AssessRoute: %v", err)
		}
		want, _ := assessment.New(snapA).AssessRoute(route, today)
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("batch pins per item", func(t *testing.T) {
		ts.logs.TakeAll()
		got, err := ts.assess.BatchAssessCountries(ctx, &safethirdv1.BatchAssessCountriesRequest{Requests: []*safethirdv1.AssessCountryRequest{
			{CountryCode: "MX", AsOf: "2019-01-01", DatasetRevision: revA},
			{CountryCode: "MX", AsOf: "2019-01-01"},
			{CountryCode: "MX", DatasetRevision: "sha256:" + zeros64},
		}})
		if err != nil {
			t.Fatalf("BatchAssessCountries: %v", err)
		}
		r := got.GetResults()
		if len(r) != 3 || r[0].GetAssessment().GetDatasetRevision() != revA || r[1].GetAssessment().GetDatasetRevision() != revB {
			t.Fatalf("results: %v", r)
		}
		if e := r[2].GetError(); e.GetCode() != int32(codes.FailedPrecondition) || !contains(e.GetMessage(), revB) {
			t.Errorf("unknown revision item: %v; want FAILED_PRECONDITION naming %s", e, revB)
		}
		calls := ts.logs.FilterMessage("call").All()
		if len(calls) != 1 || calls[0].ContextMap()["dataset_revision"] != revA+","+revB {
			t.Errorf("call line: %v; want dataset_revision %q", calls, revA+","+revB)
		}
	})
}

// A change in the dataset directory is picked up without a signal.
func TestWatchReloadsOnChange(t *testing.T) {
	dir := copyDataset(t)
	cfg := serverConfig()
	cfg.DatasetDir, cfg.WatchInterval = dir, 20*time.Millisecond
	ts := startServer(t, cfg)
	revA := loadDir(t, dir).Revision()
	editSummary(t, dir, " WATCHED-MARKER")
	revB := loadDir(t, dir).Revision()
	// The load is logged just after the new revision is swapped in: a
	// call may see it a moment before the line is written.
	waitFor(t, "the watcher's reload, answered and logged", func() bool {
		resp, err := ts.assess.AssessCountry(context.Background(), mx)
		return err == nil && resp.GetAssessment().GetDatasetRevision() == revB && ts.logs.FilterMessage("dataset loaded").Len() > 0
	})
	loaded := ts.logs.FilterMessage("dataset loaded").All()
	if len(loaded) != 1 || loaded[0].ContextMap()["trigger"] != "watch" || loaded[0].ContextMap()["previous_revision"] != revA {
		t.Errorf("dataset loaded lines: %v", loaded)
	}
}
