package server_test

import (
	"context"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/test/bufconn"

	"github.com/safethird/safethird/data"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server"
)

// gatedFS blocks every Open until gate is closed, to hold the first load.
type gatedFS struct {
	fs.FS
	gate <-chan struct{}
}

func (g gatedFS) Open(name string) (fs.File, error) {
	<-g.gate
	return g.FS.Open(name)
}

// startGated starts a server with start on the embedded dataset, whose load
// waits until release is called; the test's cleanup calls it too.
func startGated[T any](t *testing.T, start func(*testing.T, server.Config) T) (T, func()) {
	t.Helper()
	gate := make(chan struct{})
	var open sync.Once
	release := func() { open.Do(func() { close(gate) }) }
	cfg := serverConfig()
	cfg.DatasetFS = gatedFS{FS: data.FS, gate: gate}
	ts := start(t, cfg)
	t.Cleanup(release) // runs before the server's cleanup, which waits for Serve
	return ts, release
}

var healthNames = []string{"", "safethird.v1.AssessmentService", "safethird.v1.CatalogService"}

func checkHealth(t *testing.T, ts *testServer, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	for _, name := range healthNames {
		resp, err := ts.health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: name})
		if err != nil || resp.GetStatus() != want {
			t.Errorf("health %q = %v, %v; want %s", name, resp.GetStatus(), err, want)
		}
	}
}

// Until the dataset is loaded, health says NOT_SERVING and calls fail
// with UNAVAILABLE; then everything is SERVING.
func TestNotServingUntilLoaded(t *testing.T) {
	ts, release := startGated(t, startUnready)

	checkHealth(t, ts, healthpb.HealthCheckResponse_NOT_SERVING)
	_, err := ts.assess.AssessCountry(context.Background(), mx)
	wantStatus(t, err, codes.Unavailable, "ERROR_REASON_DATASET_NOT_LOADED")
	_, err = ts.assess.BatchAssessCountries(context.Background(), &safethirdv1.BatchAssessCountriesRequest{Requests: []*safethirdv1.AssessCountryRequest{mx}})
	wantStatus(t, err, codes.Unavailable, "ERROR_REASON_DATASET_NOT_LOADED")
	_, err = ts.catalog.ListCountries(context.Background(), &safethirdv1.ListCountriesRequest{})
	wantStatus(t, err, codes.Unavailable, "ERROR_REASON_DATASET_NOT_LOADED")

	release()
	ts.waitServing(t)
	checkHealth(t, ts, healthpb.HealthCheckResponse_SERVING)
	if _, err := ts.assess.AssessCountry(context.Background(), mx); err != nil {
		t.Fatalf("AssessCountry after the load: %v", err)
	}
}

// A dataset that fails validation at start stops Serve, each problem logged.
func TestServeFailsOnBadDataset(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	cfg := serverConfig()
	cfg.DatasetFS = fstest.MapFS{"findings/x.yaml": {Data: []byte("id: [\n")}}
	srv, err := server.New(cfg, zap.New(core))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	err = srv.Serve(context.Background(), bufconn.Listen(1<<10))
	if err == nil || !contains(err.Error(), "problem(s)") {
		t.Fatalf("Serve = %v, want the dataset's problems", err)
	}
	if logs.FilterMessage("dataset problem").Len() == 0 {
		t.Error("no problem logged")
	}
	if err := srv.Serve(context.Background(), bufconn.Listen(1<<10)); err == nil {
		t.Error("a second Serve did not fail")
	}
}

// On shutdown, health turns NOT_SERVING, calls in flight finish, and
// what is still open after the grace is cut.
func TestGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	cfg := serverConfig()
	cfg.ShutdownGrace = 300 * time.Millisecond
	server.SetBeforeHandler(&cfg, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if info.FullMethod == safethirdv1.AssessmentService_AssessCountry_FullMethodName {
			close(entered)
			<-release
		}
		return handler(ctx, req)
	})
	ts := startServer(t, cfg)

	// A health Watch stays open: it sees NOT_SERVING, then is cut.
	watchCtx, cancelWatch := context.WithCancel(context.Background())
	defer cancelWatch()
	watch, err := ts.health.Watch(watchCtx, &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Watch first = %v, %v; want SERVING", resp, err)
	}

	inFlight := make(chan error, 1)
	go func() {
		_, err := ts.assess.AssessCountry(context.Background(), mx)
		inFlight <- err
	}()
	<-entered

	stopped := make(chan error, 1)
	start := time.Now()
	go func() { stopped <- ts.stop() }()

	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("Watch after shutdown began = %v, %v; want NOT_SERVING", resp, err)
	}
	close(release)
	if err := <-inFlight; err != nil {
		t.Errorf("the call in flight failed: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if d := time.Since(start); d < cfg.ShutdownGrace {
		t.Errorf("Serve returned after %v, before the grace, with a Watch open", d)
	}
	if _, err := watch.Recv(); err == nil {
		t.Error("the Watch was not cut after the grace")
	}
}
