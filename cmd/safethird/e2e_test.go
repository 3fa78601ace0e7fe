package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/safethird/safethird/internal/syncbuf"
	"github.com/safethird/safethird/internal/testpki"
)

// These tests build the real binary, start `safethird serve` on a free
// port and talk to it with the real grpcurl, as a user would. `make test`
// installs grpcurl into ./bin and puts it on PATH.

// buildServeBinary builds safethird into a temporary directory.
func buildServeBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "safethird")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func needGrpcurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("grpcurl"); err != nil {
		t.Skip("grpcurl is not on PATH; `make test` installs it into ./bin")
	}
}

// serveProc is a running `safethird serve`.
type serveProc struct {
	cmd         *exec.Cmd
	addr        string
	metricsAddr string
	httpAddr    string
	stderr      *syncbuf.Buffer
	done        chan error // receives Wait's result
}

// startServe starts `safethird serve --addr 127.0.0.1:0 --http-addr
// 127.0.0.1:0` with args, in the environment less SAFETHIRD_ variables plus
// env, and waits for its "serving" log line, which holds the real addresses.
func startServe(t *testing.T, bin string, env []string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	_ = pw.Close()
	p := &serveProc{cmd: cmd, stderr: &syncbuf.Buffer{}, done: make(chan error, 1)}
	servingc := make(chan [3]string, 1) // the gRPC, metrics and HTTP addresses
	var readers sync.WaitGroup
	readers.Go(func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.stderr.Write([]byte(line + "\n"))
			var entry struct {
				Msg         string `json:"msg"`
				Addr        string `json:"addr"`
				MetricsAddr string `json:"metrics_addr"`
				HTTPAddr    string `json:"http_addr"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "serving" {
				servingc <- [3]string{entry.Addr, entry.MetricsAddr, entry.HTTPAddr}
			}
		}
	})
	go func() {
		readers.Wait() // all output read before Wait closes the pipe
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case addrs := <-servingc:
		p.addr, p.metricsAddr, p.httpAddr = addrs[0], addrs[1], addrs[2]
	case err := <-p.done:
		t.Fatalf("serve exited before serving: %v\n%s", err, p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not log \"serving\" in 30s:\n%s", p.stderr)
	}
	return p
}

// waitLog waits until the log holds want.
func (p *serveProc) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log lacks %s:\n%s", want, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// terminate sends SIGTERM and asserts a clean exit 0 within limit.
func (p *serveProc) terminate(t *testing.T, limit time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, p.stderr)
		}
	case <-time.After(limit):
		t.Fatalf("serve still running %v after SIGTERM:\n%s", limit, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no \"stopped\" line:\n%s", p.stderr)
	}
}

// grpcurl runs grpcurl with args and returns its combined output and
// whether it succeeded.
func grpcurl(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	out, err := exec.Command("grpcurl", append([]string{"-max-time", "20"}, args...)...).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run grpcurl: %v", err)
	}
	return string(out), err == nil
}

func mustGrpcurl(t *testing.T, args ...string) string {
	t.Helper()
	out, ok := grpcurl(t, args...)
	if !ok {
		t.Fatalf("grpcurl %s failed:\n%s", strings.Join(args, " "), out)
	}
	return out
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

func TestServeEndToEnd(t *testing.T) {
	needGrpcurl(t)
	bin := buildServeBinary(t)
	// The environment sets the grace; the --addr flag beats SAFETHIRD_ADDR.
	p := startServe(t, bin, []string{"SAFETHIRD_SHUTDOWN_GRACE=7s", "SAFETHIRD_ADDR=not an address", "SAFETHIRD_METRICS_ADDR=127.0.0.1:0"})
	a := p.addr

	wantContains(t, "list", mustGrpcurl(t, "-plaintext", a, "list"),
		"grpc.health.v1.Health", "safethird.v1.AssessmentService", "safethird.v1.CatalogService")
	wantContains(t, "describe", mustGrpcurl(t, "-plaintext", a, "describe", "safethird.v1.AssessmentService"),
		"rpc AssessCountry", "rpc BatchAssessCountries", "rpc AssessRoute")

	out := mustGrpcurl(t, "-plaintext", "-d", `{"country_code": "MX", "as_of": "2019-01-01"}`, a, "safethird.v1.AssessmentService/AssessCountry")
	var resp struct {
		Assessment struct {
			CountryCode     string `json:"countryCode"`
			Determination   string `json:"determination"`
			DatasetRevision string `json:"datasetRevision"`
		} `json:"assessment"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("AssessCountry output is not JSON: %v\n%s", err, out)
	}
	if resp.Assessment.Determination != "DETERMINATION_DOES_NOT_QUALIFY" || !strings.HasPrefix(resp.Assessment.DatasetRevision, "sha256:") {
		t.Errorf("AssessCountry MX 2019-01-01 = %+v, want DOES_NOT_QUALIFY with a revision", resp.Assessment)
	}

	out, ok := grpcurl(t, "-plaintext", "-d", `{"country_code": "M1"}`, a, "safethird.v1.AssessmentService/AssessCountry")
	if ok {
		t.Errorf("a bad country code succeeded:\n%s", out)
	}
	wantContains(t, "bad request", out, "Code: InvalidArgument", "ERROR_REASON_INVALID_ARGUMENT", `"field": "country_code"`)

	wantContains(t, "health", mustGrpcurl(t, "-plaintext", a, "grpc.health.v1.Health/Check"), `"status": "SERVING"`)

	// SIGHUP reloads the (embedded, so unchanged) dataset.
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("SIGHUP: %v", err)
	}
	p.waitLog(t, `"msg":"dataset unchanged","trigger":"signal"`)

	metrics, err := http.Get("http://" + p.metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	body, _ := io.ReadAll(metrics.Body)
	_ = metrics.Body.Close()
	wantContains(t, "/metrics", string(body),
		`grpc_server_handled_total{grpc_code="InvalidArgument",grpc_method="AssessCountry",grpc_service="safethird.v1.AssessmentService"} 1`,
		`safethird_dataset_loads_total{result="success"} 2`, "safethird_dataset_info{revision=\"sha256:", "go_goroutines")

	p.terminate(t, 10*time.Second)
	wantContains(t, "log", p.stderr.String(), `"msg":"shutting down","grace":7}`, `"method":"/safethird.v1.AssessmentService/AssessCountry"`)
	if strings.Contains(p.stderr.String(), "2019-01-01") {
		t.Error("the log holds a request's content")
	}
}

// startTLSServe starts serve with TLS from a throwaway CA and the bearer
// tokens token-one-0123456789 and token-two-0123456789, in a file as people write them (a
// comment, a blank line, stray spaces).
func startTLSServe(t *testing.T, bin string) (*serveProc, *testpki.PKI) {
	t.Helper()
	dir := t.TempDir()
	pki := testpki.New(t, dir)
	tokens := filepath.Join(dir, "tokens.txt")
	if err := os.WriteFile(tokens, []byte("# operators\n\ntoken-one-0123456789\n  token-two-0123456789  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServe(t, bin, nil, "--tls-cert", pki.ServerCertFile, "--tls-key", pki.ServerKeyFile, "--auth-tokens-file", tokens), pki
}

func TestServeTLSAndTokens(t *testing.T) {
	needGrpcurl(t)
	bin := buildServeBinary(t)
	p, pki := startTLSServe(t, bin)
	a := p.addr
	bearer := "authorization: Bearer token-two-0123456789"

	wantContains(t, "list with a token", mustGrpcurl(t, "-cacert", pki.CAFile, "-H", bearer, a, "list"), "safethird.v1.AssessmentService")
	out := mustGrpcurl(t, "-cacert", pki.CAFile, "-H", bearer, "-d", `{"country_code": "MX", "as_of": "2019-01-01"}`, a, "safethird.v1.AssessmentService/AssessCountry")
	wantContains(t, "AssessCountry with a token", out, "DETERMINATION_DOES_NOT_QUALIFY")

	// Reflection needs a token too: without one grpcurl cannot even find the method.
	out, ok := grpcurl(t, "-cacert", pki.CAFile, "-d", `{"country_code": "MX"}`, a, "safethird.v1.AssessmentService/AssessCountry")
	if ok {
		t.Errorf("AssessCountry without a token succeeded:\n%s", out)
	}
	wantContains(t, "without a token", out, "Unauthenticated")
	// With the token on reflection only, the RPC's own status shows.
	reflect := "authorization: Bearer token-one-0123456789"
	for _, rpcHeader := range []string{"", "authorization: Bearer token-three-0123456789"} {
		args := []string{"-cacert", pki.CAFile, "-reflect-header", reflect, "-d", `{"country_code": "MX"}`}
		if rpcHeader != "" {
			args = append(args, "-rpc-header", rpcHeader)
		}
		out, ok := grpcurl(t, append(args, a, "safethird.v1.AssessmentService/AssessCountry")...)
		if ok {
			t.Errorf("AssessCountry with rpc header %q succeeded:\n%s", rpcHeader, out)
		}
		wantContains(t, "rpc header "+rpcHeader, out, "Code: Unauthenticated", "ERROR_REASON_UNAUTHENTICATED")
	}
	wantContains(t, "health without a token",
		mustGrpcurl(t, "-cacert", pki.CAFile, "-reflect-header", reflect, a, "grpc.health.v1.Health/Check"), `"status": "SERVING"`)
	// Refused clients fail at the handshake; grpcurl retries it until its
	// connect timeout, so keep that short.
	if out, ok := grpcurl(t, "-connect-timeout", "2", "-plaintext", a, "grpc.health.v1.Health/Check"); ok {
		t.Errorf("a plaintext client got through to a TLS server:\n%s", out)
	}
	p.terminate(t, 15*time.Second)

	t.Run("mTLS", func(t *testing.T) {
		p := startServe(t, bin, nil, "--tls-cert", pki.ServerCertFile, "--tls-key", pki.ServerKeyFile, "--client-ca", pki.CAFile)
		if out, ok := grpcurl(t, "-connect-timeout", "2", "-cacert", pki.CAFile, p.addr, "grpc.health.v1.Health/Check"); ok {
			t.Errorf("a client without a certificate got through:\n%s", out)
		}
		wantContains(t, "health with a client certificate",
			mustGrpcurl(t, "-cacert", pki.CAFile, "-cert", pki.ClientCertFile, "-key", pki.ClientKeyFile, p.addr, "grpc.health.v1.Health/Check"), `"status": "SERVING"`)
		p.terminate(t, 15*time.Second)
	})
}

// Bad flag values stop start-up with exit code 2 and one line naming the flag.
func TestServeBadFlags(t *testing.T) {
	bin := buildServeBinary(t)
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.txt")
	empty := filepath.Join(dir, "empty.txt")
	short := filepath.Join(dir, "short.txt")
	bom := filepath.Join(dir, "bom.txt")
	for path, content := range map[string]string{
		tokens: "a-token-0123456789\n", empty: "# nothing\n\n", short: "# ops\nx\n", bom: "\ufeffa-token-0123456789\n",
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"log level", []string{"--log-level", "loud"}, nil, "--log-level"},
		{"log format", []string{"--log-format", "xml"}, nil, "--log-format"},
		{"duration from env", nil, []string{"SAFETHIRD_SHUTDOWN_GRACE=soon"}, "SAFETHIRD_SHUTDOWN_GRACE (--shutdown-grace)"},
		{"bool flag", []string{"--reflection=maybe"}, nil, "--reflection"},
		{"zero max call", []string{"--max-call-duration", "0s"}, nil, "--max-call-duration"},
		{"addr", []string{"--addr", "nowhere"}, nil, "--addr"},
		{"http addr", []string{"--http-addr", "nowhere"}, nil, "--http-addr"},
		{"dataset", []string{"--dataset", filepath.Join(dir, "missing")}, nil, "--dataset"},
		{"dataset public key", []string{"--dataset-public-key", tokens}, nil, "--dataset-public-key"},
		{"public key and unsealed", []string{"--dataset-public-key", tokens, "--dataset-unsealed"}, nil, "--dataset-unsealed"},
		{"condition cost", []string{"--max-condition-cost", "0"}, nil, "--max-condition-cost"},
		{"max connections", []string{"--max-connections", "0"}, nil, "--max-connections"},
		{"share over the cap", []string{"--max-connections", "8", "--max-connections-per-source", "9"}, nil, "--max-connections-per-source"},
		{"trusted proxy", []string{"--trusted-proxies", "10.0.0.0/33"}, nil, "--trusted-proxies"},
		{"cert without key", []string{"--tls-cert", tokens}, nil, "--tls-cert"},
		{"unreadable cert", []string{"--tls-cert", tokens, "--tls-key", tokens}, nil, "--tls-cert"},
		{"client CA without TLS", []string{"--client-ca", tokens}, nil, "--client-ca"},
		{"tokens without TLS", []string{"--auth-tokens-file", tokens}, nil, "--auth-tokens-file"},
		{"empty tokens file", []string{"--auth-tokens-file", empty, "--insecure-allow-plaintext-tokens"}, nil, "--auth-tokens-file"},
		{"missing tokens file", []string{"--auth-tokens-file", filepath.Join(dir, "missing"), "--insecure-allow-plaintext-tokens"}, nil, "--auth-tokens-file"},
		{"one-character token", []string{"--auth-tokens-file", short, "--insecure-allow-plaintext-tokens"}, nil, short + ":2: a token is at least 16 characters"},
		{"token with a byte-order mark", []string{"--auth-tokens-file", bom, "--insecure-allow-plaintext-tokens"}, nil, bom + ":1: character 1 is not ASCII"},
		{"tokens file set but empty", nil, []string{"SAFETHIRD_AUTH_TOKENS_FILE="}, "SAFETHIRD_AUTH_TOKENS_FILE is set but empty"},
		{"tokens file given empty", []string{"--auth-tokens-file="}, nil, "--auth-tokens-file is given but empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...)...)
			cmd.Env = append(os.Environ(), tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("serve started with a bad value:\n%s", stderr.String())
			}
			if code := cmd.ProcessState.ExitCode(); code != 2 {
				t.Errorf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr = %q, want one line naming %s", stderr.String(), tt.want)
			}
		})
	}
}
