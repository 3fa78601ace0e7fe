package reliability_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/safethird/safethird/client"
	"github.com/safethird/safethird/internal/syncbuf"
	"github.com/safethird/safethird/internal/testpki"
)

// soak reports whether the long versions run (SAFETHIRD_SOAK=1, `make soak`).
func soak() bool { return os.Getenv("SAFETHIRD_SOAK") == "1" }

// pick returns short, or long in a soak run.
func pick[T any](short, long T) T {
	if soak() {
		return long
	}
	return short
}

// figure logs one measured figure; `make soak` collects these lines.
func figure(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("figure: %s: %s", t.Name(), fmt.Sprintf(format, args...))
}

// serverOptions configures one `safethird serve` process.
type serverOptions struct {
	// addr is --addr; empty means 127.0.0.1:0, a free port.
	addr string
	// pki, when set, turns on TLS with its server certificate.
	pki *pki
	// tokensFile, when set, is --auth-tokens-file (needs pki).
	tokensFile string
	// dataset is --dataset; empty serves the embedded dataset.
	dataset string
	// logLevel is --log-level; empty means info.
	logLevel string
	// grace is --shutdown-grace; 0 means the default.
	grace time.Duration
	// dir is the working directory; empty means a new temp dir.
	dir string
	// env is added to the environment.
	env []string
	// args are more flags.
	args []string
	// dropCallLines keeps the one-line-per-call log lines out of stderr's
	// buffer, so a long load does not hold them all in memory.
	dropCallLines bool
}

// serverProc is a running `safethird serve`, started on loopback.
type serverProc struct {
	cmd         *exec.Cmd
	pid         int
	addr        string
	metricsAddr string
	// httpAddr is where the HTTP door listens.
	httpAddr string
	// stderr is everything the process logged, one JSON object a line.
	stderr *syncbuf.Buffer
	// exited is closed once the process has exited and its output is read;
	// waitErr is then Wait's result.
	exited  chan struct{}
	waitErr error
	// grace is the process's --shutdown-grace.
	grace time.Duration
}

// defaultGrace is serve's --shutdown-grace when none is given.
const defaultGrace = 10 * time.Second

// startServer starts `safethird serve` with opts and waits for its
// "serving" line, which holds the real gRPC and metrics addresses.
func startServer(t *testing.T, opts serverOptions) *serverProc {
	t.Helper()
	addr := opts.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	// The HTTP door on a free port too: its default, 8080, is one port for
	// all the replicas a test starts.
	args := []string{"serve", "--addr", addr, "--log-format", "json", "--metrics-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}
	if opts.pki != nil {
		args = append(args, "--tls-cert", opts.pki.ServerCertFile, "--tls-key", opts.pki.ServerKeyFile)
	}
	if opts.tokensFile != "" {
		args = append(args, "--auth-tokens-file", opts.tokensFile)
	}
	if opts.dataset != "" {
		args = append(args, "--dataset", opts.dataset)
	}
	if opts.logLevel != "" {
		args = append(args, "--log-level", opts.logLevel)
	}
	if opts.grace > 0 {
		args = append(args, "--shutdown-grace", opts.grace.String())
	}
	args = append(args, opts.args...)
	cmd := exec.Command(safethirdBin, args...)
	cmd.Dir = opts.dir
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir()
	}
	cmd.Env = append(os.Environ(), opts.env...)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		_ = pr.Close()
		_ = pw.Close()
		t.Fatalf("start safethird: %v", err)
	}
	_ = pw.Close()
	p := &serverProc{cmd: cmd, pid: cmd.Process.Pid, stderr: &syncbuf.Buffer{}, exited: make(chan struct{}), grace: cmp.Or(opts.grace, defaultGrace)}
	serving := make(chan [3]string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			line := sc.Bytes()
			if opts.dropCallLines && bytes.Contains(line, []byte(`"msg":"call"`)) {
				continue
			}
			_, _ = p.stderr.Write(append(line, '\n'))
			var entry struct {
				Msg         string `json:"msg"`
				Addr        string `json:"addr"`
				MetricsAddr string `json:"metrics_addr"`
				HTTPAddr    string `json:"http_addr"`
			}
			if json.Unmarshal(line, &entry) == nil && entry.Msg == "serving" {
				select {
				case serving <- [3]string{entry.Addr, entry.MetricsAddr, entry.HTTPAddr}:
				default:
				}
			}
		}
		_ = pr.Close()
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case a := <-serving:
		p.addr, p.metricsAddr, p.httpAddr = a[0], a[1], a[2]
	case <-p.exited:
		t.Fatalf("safethird exited before serving: %v\n%s", p.waitErr, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("safethird did not log \"serving\" in 30s:\n%s", p.stderr)
	}
	return p
}

// signal sends sig to the process.
func (p *serverProc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *serverProc) kill(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("safethird still running 10s after SIGKILL")
	}
}

// terminate sends SIGTERM and waits up to limit for the exit; it returns
// how long the exit took and the process's exit error (nil for exit 0).
// Every test's server must exit within its --shutdown-grace and a second.
func (p *serverProc) terminate(t *testing.T, limit time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	p.signal(t, syscall.SIGTERM)
	select {
	case <-p.exited:
		d := time.Since(start)
		if d > p.grace+time.Second {
			t.Errorf("exit %v after SIGTERM, over --shutdown-grace %v and 1 s", d.Round(time.Millisecond), p.grace)
		}
		t.Logf("figure: %s: exit %v after SIGTERM (--shutdown-grace %v)", t.Name(), d.Round(time.Millisecond), p.grace)
		return d, p.waitErr
	case <-time.After(limit):
		t.Fatalf("safethird still running %v after SIGTERM:\n%s", limit, p.stderr)
		return 0, nil
	}
}

// logLines returns the JSON log lines with msg, parsed.
func (p *serverProc) logLines(msg string) []map[string]any {
	return parseLog(p.stderr.String(), msg)
}

// parseLog returns the lines of a JSON log whose msg is msg ("" for all).
func parseLog(log, msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.SplitSeq(log, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		if msg == "" || m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// waitFor polls cond every 20ms until it holds or limit passes.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metricsClient fetches /metrics without keeping connections (or their
// goroutines) alive between fetches.
var metricsClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// scrape returns the server's /metrics page.
func (p *serverProc) scrape(t *testing.T) string {
	t.Helper()
	resp, err := metricsClient.Get("http://" + p.metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s, %v", resp.Status, err)
	}
	return string(body)
}

// metric returns the sum of the samples of name whose labels include
// every pair in labels (Prometheus text format).
func metric(body, name string, labels ...string) float64 {
	var sum float64
	for line := range strings.SplitSeq(body, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, set, _ := strings.Cut(series, "{")
		if n != name {
			continue
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			if !strings.Contains(set, labels[i]+"=\""+labels[i+1]+"\"") {
				match = false
			}
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil && match {
			sum += v
		}
	}
	return sum
}

// goroutines reads go_goroutines from the server's /metrics.
func (p *serverProc) goroutines(t *testing.T) int {
	t.Helper()
	return int(metric(p.scrape(t), "go_goroutines"))
}

// rssKB reads the process's resident set size from /proc.
func (p *serverProc) rssKB(t *testing.T) int {
	t.Helper()
	return procStatus(t, p.pid, "VmRSS")
}

// newClient returns a client.Client for target, closed at the end of the test.
func newClient(t *testing.T, target string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(context.Background(), target, opts...)
	if err != nil {
		t.Fatalf("client.New(%s): %v", target, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// healthStatus is the whole server's health as seen through conn.
func healthStatus(conn grpc.ClientConnInterface) (healthpb.HealthCheckResponse_ServingStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return resp.GetStatus(), err
}

// wantServing fails the test unless health says SERVING.
func wantServing(t *testing.T, conn grpc.ClientConnInterface) {
	t.Helper()
	if st, err := healthStatus(conn); err != nil || st != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health = %v, %v; want SERVING", st, err)
	}
}

// loader runs calls from several workers until stopped, counting them and
// keeping the first failures. Each worker's loop is bounded in count, and
// each call in time, so nothing runs away.
type loader struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
	calls    atomic.Int64
	failures atomic.Int64
	mu       sync.Mutex
	first    []string
}

// maxCallsPerWorker bounds every load loop.
const maxCallsPerWorker = 5_000_000

// callTimeout bounds every call the tests make.
const callTimeout = 20 * time.Second

// startLoad starts workers goroutines, each calling call in a loop.
func startLoad(t *testing.T, workers int, call func(ctx context.Context, worker, i int) error) *loader {
	ctx, cancel := context.WithCancel(context.Background())
	l := &loader{cancel: cancel}
	for w := range workers {
		l.wg.Go(func() {
			for i := 0; i < maxCallsPerWorker && ctx.Err() == nil; i++ {
				// The call's own context, not ctx: stopping the load lets
				// calls in flight finish rather than cancelling them.
				cctx, ccancel := context.WithTimeout(context.Background(), callTimeout)
				err := call(cctx, w, i)
				ccancel()
				l.calls.Add(1)
				if err != nil {
					l.failures.Add(1)
					l.mu.Lock()
					if len(l.first) < 10 {
						l.first = append(l.first, fmt.Sprintf("worker %d call %d: %v", w, i, err))
					}
					l.mu.Unlock()
				}
			}
		})
	}
	t.Cleanup(func() { l.stop() })
	return l
}

// stop stops the workers, waits for them and returns the counts.
func (l *loader) stop() (calls, failures int64) {
	l.stopOnce.Do(func() {
		l.cancel()
		l.wg.Wait()
	})
	return l.calls.Load(), l.failures.Load()
}

// firstFailures returns up to ten failures, for a test's message.
func (l *loader) firstFailures() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.first, "\n")
}

// wantNoFailures stops the load and fails the test on any failed call.
func (l *loader) wantNoFailures(t *testing.T, what string) int64 {
	t.Helper()
	calls, failures := l.stop()
	if failures > 0 {
		t.Errorf("%s: %d of %d calls failed; first:\n%s", what, failures, calls, l.firstFailures())
	}
	if calls == 0 {
		t.Errorf("%s: no calls were made", what)
	}
	return calls
}

// copyDir copies the regular files of src into a new directory dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

// repoDataDir is the dataset directory of the repository.
func repoDataDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "data"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// pki is a test CA with its server certificate, and the bearer token the
// server accepts.
type pki struct {
	*testpki.PKI
	// tokensFile lists token, the one token the server accepts.
	tokensFile, token string
}

// newPKI writes a CA, a server certificate and a tokens file into a temp dir.
func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	p := &pki{
		PKI:        testpki.New(t, dir),
		tokensFile: filepath.Join(dir, "tokens.txt"),
		token:      "reliability-" + rand.Text(),
	}
	if err := os.WriteFile(p.tokensFile, []byte("# reliability tests\n"+p.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsConfig is a client TLS configuration that trusts the CA, for raw
// connections (ALPN h2, as gRPC requires).
func (p *pki) tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	return &tls.Config{RootCAs: p.Pool, ServerName: "127.0.0.1", NextProtos: []string{"h2"}, MinVersion: tls.VersionTLS12}
}

// clientOptions are the client options for a server started with p: TLS
// trusting the CA and the token.
func (p *pki) clientOptions() []client.Option {
	return []client.Option{client.WithTLS(p.CAFile), client.WithToken(p.token)}
}
