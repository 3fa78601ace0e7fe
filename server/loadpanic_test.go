package server_test

import (
	"context"
	"io/fs"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/test/bufconn"

	"github.com/safethird/safethird/data"
	"github.com/safethird/safethird/server"
)

// panicFS is the embedded dataset until panicking is set; then every Open
// panics, as the loader does on a file that trips a parser bug (see
// dataset's TestLoadCarriageReturnDoesNotPanic).
type panicFS struct {
	fs.FS
	panicking *atomic.Bool
}

func (p panicFS) Open(name string) (fs.File, error) {
	if p.panicking.Load() {
		panic("runtime error: index out of range [1] with length 1")
	}
	return p.FS.Open(name)
}

// Regression: a dataset that made the loader panic killed the server from
// its reload goroutine (SIGHUP or the directory watcher) instead of being
// refused. Found by FuzzLoad (a record file with a carriage return) and
// test/reliability's TestReloadUnderLoad.
func TestReloadThatPanicsKeepsLastGood(t *testing.T) {
	var panicking atomic.Bool
	cfg := serverConfig()
	cfg.DatasetFS = panicFS{FS: data.FS, panicking: &panicking}
	ts := startServer(t, cfg)
	before, err := ts.assess.AssessCountry(context.Background(), mx)
	if err != nil {
		t.Fatalf("AssessCountry: %v", err)
	}

	panicking.Store(true)
	err = ts.srv.Reload()
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("Reload = %v, want the loader's panic as an error", err)
	}
	if ts.logs.FilterMessage("dataset loader panicked").Len() != 1 {
		t.Error("the panic was not logged")
	}
	if got := metricValue(t, ts.reg, "safethird_dataset_loads_total", map[string]string{"result": "failure"}); got != 1 {
		t.Errorf("%v load failures counted, want 1", got)
	}
	after, err := ts.assess.AssessCountry(context.Background(), mx)
	if err != nil {
		t.Fatalf("AssessCountry after the refused reload: %v", err)
	}
	if after.GetAssessment().GetDatasetRevision() != before.GetAssessment().GetDatasetRevision() {
		t.Errorf("revision %s after the refused reload, want %s", after.GetAssessment().GetDatasetRevision(), before.GetAssessment().GetDatasetRevision())
	}
}

// A loader that panics on the first load makes Serve fail, not the process.
func TestServeFailsWhenTheLoaderPanics(t *testing.T) {
	var panicking atomic.Bool
	panicking.Store(true)
	cfg := serverConfig()
	cfg.DatasetFS = panicFS{FS: data.FS, panicking: &panicking}
	srv, err := server.New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := srv.Serve(context.Background(), bufconn.Listen(1<<10)); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("Serve = %v, want the loader's panic as an error", err)
	}
}
