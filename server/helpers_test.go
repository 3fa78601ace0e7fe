package server_test

import (
	"context"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/safethird/safethird/data"
	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server"
)

// today is the UTC date of fixedNow, which is still the 15th west of UTC:
// the server must take today in UTC.
const today = "2026-01-16"

func fixedNow() time.Time {
	return time.Date(2026, 1, 15, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600)).UTC()
}

// testServer is a server on bufconn with clients over the real
// interceptor chain, its observed logs and its metrics registry.
type testServer struct {
	srv     *server.Server
	lis     *bufconn.Listener
	conn    *grpc.ClientConn
	assess  safethirdv1.AssessmentServiceClient
	catalog safethirdv1.CatalogServiceClient
	health  healthpb.HealthClient
	logs    *observer.ObservedLogs
	reg     *prometheus.Registry
	// stop cancels Serve and waits for it to return; Cleanup calls it too.
	stop func() error
}

// startServer starts a server with cfg (the embedded dataset unless cfg
// says otherwise) and waits until it reports SERVING.
func startServer(t *testing.T, cfg server.Config) *testServer {
	t.Helper()
	ts := startUnready(t, cfg)
	ts.waitServing(t)
	return ts
}

// startUnready starts a server without waiting for its dataset.
func startUnready(t *testing.T, cfg server.Config) *testServer {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	srv, err := server.New(cfg, zap.New(core))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	lis := bufconn.Listen(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	conn := dialBufconn(t, lis)
	ts := &testServer{
		srv: srv, lis: lis, conn: conn, logs: logs, reg: cfg.Registry,
		assess:  safethirdv1.NewAssessmentServiceClient(conn),
		catalog: safethirdv1.NewCatalogServiceClient(conn),
		health:  healthpb.NewHealthClient(conn),
	}
	var stopped bool
	var serveErr error
	ts.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			serveErr = <-done
		}
		return serveErr
	}
	t.Cleanup(func() {
		_ = conn.Close()
		if err := ts.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func dialBufconn(t *testing.T, lis *bufconn.Listener, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	}, opts...)
	conn, err := grpc.NewClient("passthrough:///bufconn", opts...)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return conn
}

// waitServing waits until health reports SERVING for the whole server:
// the embedded dataset loads in under a second, but under -race on two
// cores shared with the other packages' tests it has taken over ten.
func (ts *testServer) waitServing(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := ts.health.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	problems := ts.logs.FilterMessage("dataset problem").All()
	t.Fatalf("server not SERVING after 30s; %d dataset problem(s) logged, first: %v", len(problems), firstProblem(problems))
}

func firstProblem(entries []observer.LoggedEntry) any {
	if len(entries) == 0 {
		return nil
	}
	return entries[0].ContextMap()["problem"]
}

// embedded loads the embedded dataset, to compute what the server must answer.
func embedded(t *testing.T) *dataset.Snapshot {
	t.Helper()
	snap, err := loadEmbedded()
	if err != nil {
		t.Fatalf("load the embedded dataset: %v", err)
	}
	return snap
}

// loadEmbedded loads the embedded dataset once for all the package's
// tests: a Snapshot is never changed once loaded, and a load takes seconds
// under the race detector.
var loadEmbedded = sync.OnceValues(func() (*dataset.Snapshot, error) { return dataset.Load(data.FS) })

// wantStatus asserts err is a status with code and, unless reason is
// empty, an ErrorInfo with that reason and domain safethird.v1.
func wantStatus(t *testing.T, err error, code codes.Code, reason string) *status.Status {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("error %v is not a status", err)
	}
	if st.Code() != code {
		t.Fatalf("code = %s (%q), want %s", st.Code(), st.Message(), code)
	}
	if reason == "" {
		return st
	}
	info := errorInfo(st)
	if info == nil {
		t.Fatalf("status %s %q has no ErrorInfo", st.Code(), st.Message())
	}
	if info.GetReason() != reason || info.GetDomain() != "safethird.v1" {
		t.Fatalf("ErrorInfo = %s/%s, want safethird.v1/%s", info.GetDomain(), info.GetReason(), reason)
	}
	return st
}

func errorInfo(st *status.Status) *errdetails.ErrorInfo {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// violationFields lists the BadRequest field violations' fields.
func violationFields(st *status.Status) []string {
	var out []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField())
			}
		}
	}
	return out
}

// metricValue returns the value of the counter or gauge name whose
// labels include want, summed over matches; histograms give their count.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabels(m, want) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	n := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// copyDataset writes the embedded dataset into a new directory.
func copyDataset(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(data.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := fs.ReadFile(data.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy the embedded dataset: %v", err)
	}
	return dir
}

// waitFor polls cond until it holds or 30 s pass: a reload (with the
// dataset's expectations) under -race on a shared 2-core machine has
// taken over 10 s, as waitServing's load has.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// isStatus reports whether err is a status with code.
func isStatus(err error, code codes.Code) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == code
}

// serverConfig is the configuration most tests use: the embedded dataset,
// no auth, reflection on.
func serverConfig() server.Config {
	return server.Config{Reflection: true}
}

// zeros64 makes a well-formed revision that no dataset has.
var zeros64 = strings.Repeat("0", 64)

func ptr[T any](v T) *T { return &v }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
