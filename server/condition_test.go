package server_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server"
)

// slowCondition makes the US framework's first applicability rule cost
// about a million units (tens of milliseconds, more under -race) before its
// own test, so a call can be cut while it runs. The rule is evaluated for
// every answer, those without an applicant too, which the engine memoizes.
func slowCondition(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, "frameworks", "us-ina-208a2a.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	list := "[" + strings.TrimSuffix(strings.Repeat("1,", 400), ",") + "]"
	slow := `condition: '` + list + `.all(a, ` + list + `.all(b, a + b > 0)) && country_code == "US"'`
	edited := strings.Replace(string(b), `condition: 'country_code == "US"'`, slow, 1)
	if edited == string(b) {
		t.Fatalf("%s has no condition to slow down", path)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	// The dataset's expectations would run the slow condition at every
	// load, case after case; these tests are about calls.
	if err := os.RemoveAll(filepath.Join(dir, "tests")); err != nil {
		t.Fatal(err)
	}
}

// A call cut by its deadline while a condition runs fails with
// DEADLINE_EXCEEDED, and leaves nothing cut short behind: the engine keeps
// answers in memos, and the next call must get the whole answer.
func TestCutCallLeavesNoPartialAnswer(t *testing.T) {
	dir := copyDataset(t)
	slowCondition(t, dir)
	opts := dataset.LoadOptions{MaxConditionCost: 100_000_000}
	snap, err := opts.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := serverConfig()
	cfg.DatasetDir, cfg.WatchInterval, cfg.DatasetUnsealed, cfg.MaxConditionCost = dir, -1, true, opts.MaxConditionCost
	ts := startServer(t, cfg)
	req := &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}

	cut := 0
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		_, err := ts.assess.AssessCountry(ctx, req)
		cancel()
		if err == nil {
			continue // answered from the memo, or the deadline was not reached: try again
		}
		wantStatus(t, err, codes.DeadlineExceeded, "")
		cut++
	}
	if cut == 0 {
		t.Fatal("no call was cut by its deadline; the test proves nothing")
	}
	want, err := assessment.New(snap).AssessCountry(req, today)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ts.assess.AssessCountry(context.Background(), req)
	if err != nil {
		t.Fatalf("the call after: %v", err)
	}
	if !proto.Equal(want, got.GetAssessment()) {
		t.Errorf("the answer after a cut call differs from the engine's; warnings: %q", got.GetAssessment().GetWarnings())
	}
}

// By default a dataset is loaded only with its seal: an edit without
// sealing again is refused at start, naming the file; it loads with
// DatasetUnsealed, which a public key contradicts.
func TestDatasetMustBeSealed(t *testing.T) {
	dir := copyDataset(t)
	path := filepath.Join(dir, "findings", "mx-no-persecution.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, "# edited\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	cfg := serverConfig()
	cfg.DatasetDir, cfg.WatchInterval = dir, -1
	srv, err := server.New(cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	err = srv.Serve(context.Background(), bufconn.Listen(1<<10))
	if err == nil || !strings.Contains(err.Error(), "load dataset: 1 problem(s)") {
		t.Errorf("Serve = %v, want the load refused", err)
	}
	logged := logs.FilterMessage("dataset problem").All()
	if len(logged) != 1 || !strings.Contains(fmt.Sprint(logged[0].ContextMap()["problem"]), "findings/mx-no-persecution.yaml: changed since the dataset was sealed") {
		t.Errorf("problems logged: %v", logged)
	}

	cfg.DatasetUnsealed = true
	startServer(t, cfg)
	cfg.DatasetPublicKey = make(ed25519.PublicKey, ed25519.PublicKeySize)
	if _, err := server.New(cfg, nil); err == nil {
		t.Error("a public key with an unsealed dataset was accepted")
	}
}
