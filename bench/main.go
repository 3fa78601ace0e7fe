// Command bench measures safethird against the floor of a gRPC call: it
// starts `safethird serve` on the embedded dataset, loads it with the real
// ghz (Health/Check, then each AssessCountry variant, 32 concurrent calls
// over 2 connections), repeats the runs, and reports median ratios to
// Health/Check, the time from start to SERVING and the resident memory. It
// writes the table to bench/results.md. Run it with `make bench`.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	binary, ghz, out, engineBench, logLevel string
	duration                                time.Duration
	rounds, startups                        int
}

// variant is one ghz load. Requests go to ghz already encoded, so the
// load tool does not parse JSON on every call: the server is what is
// measured.
type variant struct {
	name, call string
	req        proto.Message
}

const (
	healthCall = "grpc.health.v1.Health/Check"
	assessCall = "safethird.v1.AssessmentService/AssessCountry"
)

var variants = []variant{
	{"Health/Check", healthCall, &healthpb.HealthCheckRequest{}},
	{"AssessCountry FULL (MX)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01"}},
	{"AssessCountry BASIC (MX)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01", View: safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC}},
	{"AssessCountry with applicant (CA)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: &safethirdv1.Applicant{
		NationalityCode: proto.String("HT"), Age: proto.Int32(30), Married: proto.Bool(false), ParentOrGuardianPresent: proto.Bool(true),
		Family: &safethirdv1.FamilyTies{}, Documents: &safethirdv1.DocumentsHeld{}, CapitalCharge: proto.Bool(false),
		EntryType: safethirdv1.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(), DaysFromCrossingToClaim: proto.Int32(0),
	}}},
}

func run() error {
	var cfg config
	flag.StringVar(&cfg.binary, "binary", "bin/safethird", "the safethird binary to measure")
	flag.StringVar(&cfg.ghz, "ghz", "bin/ghz", "the ghz binary")
	flag.StringVar(&cfg.out, "out", "bench/results.md", "where to write the results table")
	flag.StringVar(&cfg.engineBench, "engine", "", "file with `go test -bench` output of the engine benchmarks, quoted in the results")
	flag.StringVar(&cfg.logLevel, "log-level", "info", "the server's --log-level; info, its default, logs a line per call")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each ghz run")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds of every variant; medians are reported")
	flag.IntVar(&cfg.startups, "startups", 5, "start-ups measured; the median is reported")
	flag.Parse()

	startup, err := measureStartups(cfg)
	if err != nil {
		return err
	}
	srv, err := startServer(cfg)
	if err != nil {
		return err
	}
	defer srv.stop()

	results := map[string][]ghzResult{}
	var rss []int
	for round := range cfg.rounds {
		for _, v := range variants {
			r, err := runGhz(cfg, srv.addr, v)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round+1, v.name, err)
			}
			fmt.Printf("round %d  %-36s %9.0f req/s  p50 %6.0fµs  p99 %6.0fµs  errors %d\n", round+1, v.name, r.RPS, r.p(50), r.p(99), r.errors())
			results[v.name] = append(results[v.name], r)
		}
		m, err := residentKB(srv.cmd.Process.Pid)
		if err != nil {
			return err
		}
		rss = append(rss, m)
	}
	report := render(cfg, results, startup, rss)
	fmt.Print(report)
	return os.WriteFile(cfg.out, []byte(report), 0o644)
}

type server struct {
	cmd  *exec.Cmd
	addr string
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer starts the binary and waits until health says SERVING.
func startServer(cfg config) (*server, error) {
	s, _, err := startTimed(cfg)
	return s, err
}

// startTimed starts the binary and returns how long it took to say SERVING.
func startTimed(cfg config) (*server, time.Duration, error) {
	binary := cfg.binary
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(binary, "serve", "--addr", addr, "--log-level", cfg.logLevel)
	// The server's log goes where a deployment's would: to a file, not a
	// terminal that would slow it down.
	logFile, err := os.CreateTemp("", "safethird-bench-*.log")
	if err != nil {
		return nil, 0, err
	}
	defer os.Remove(logFile.Name())
	defer logFile.Close()
	cmd.Stderr = logFile
	// A short reconnect backoff: the first attempts are refused until the
	// server listens, and the default backoff (1 s) would be measured too.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: time.Millisecond, Multiplier: 1, MaxDelay: time.Millisecond},
			MinConnectTimeout: 100 * time.Millisecond,
		}))
	if err != nil {
		return nil, 0, err
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start %s: %w", binary, err)
	}
	s := &server{cmd: cmd, addr: addr}
	for deadline := start.Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return s, time.Since(start), nil
		}
	}
	s.stop()
	return nil, 0, fmt.Errorf("%s did not report SERVING within 10s", binary)
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
}

func measureStartups(cfg config) ([]time.Duration, error) {
	var out []time.Duration
	for range cfg.startups {
		s, d, err := startTimed(cfg)
		if err != nil {
			return nil, err
		}
		s.stop()
		out = append(out, d)
	}
	return out, nil
}

// ghzResult is the part of ghz's JSON report the bench reads.
type ghzResult struct {
	RPS                 float64 `json:"rps"`
	LatencyDistribution []struct {
		Percentage int   `json:"percentage"`
		Latency    int64 `json:"latency"` // nanoseconds
	} `json:"latencyDistribution"`
	StatusCodeDistribution map[string]int `json:"statusCodeDistribution"`
}

// p returns the latency percentile in microseconds.
func (r ghzResult) p(pct int) float64 {
	for _, l := range r.LatencyDistribution {
		if l.Percentage == pct {
			return float64(l.Latency) / 1e3
		}
	}
	return 0
}

func (r ghzResult) errors() int {
	n := 0
	for code, count := range r.StatusCodeDistribution {
		if code != "OK" {
			n += count
		}
	}
	return n
}

func runGhz(cfg config, addr string, v variant) (ghzResult, error) {
	data, err := proto.Marshal(v.req)
	if err != nil {
		return ghzResult{}, err
	}
	args := []string{"--insecure", "--concurrency", "32", "--connections", "2",
		"--duration", cfg.duration.String(), "--duration-stop", "wait", "--call", v.call, "--format", "json"}
	if len(data) == 0 {
		// ghz refuses an empty binary file; "{}" is the empty message.
		args = append(args, "--data", "{}")
	} else {
		file := filepath.Join(os.TempDir(), fmt.Sprintf("safethird-bench-%d.bin", os.Getpid()))
		if err := os.WriteFile(file, data, 0o600); err != nil {
			return ghzResult{}, err
		}
		defer os.Remove(file)
		args = append(args, "--binary-file", file)
	}
	cmd := exec.Command(cfg.ghz, append(args, addr)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := stderr.String()
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		return ghzResult{}, fmt.Errorf("ghz: %w: %s", err, msg)
	}
	var r ghzResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return ghzResult{}, fmt.Errorf("read ghz report: %w", err)
	}
	if n := r.errors(); n > 0 {
		return r, fmt.Errorf("%d calls failed: %v", n, r.StatusCodeDistribution)
	}
	return r, nil
}

// residentKB reads VmRSS of a process from /proc.
func residentKB(pid int) (int, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, fmt.Errorf("read memory of %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func render(cfg config, results map[string][]ghzResult, startup []time.Duration, rss []int) string {
	ratio := func(name string, f func(ghzResult) float64) float64 {
		var rs []float64
		for i, r := range results[name] {
			rs = append(rs, f(r)/f(results["Health/Check"][i]))
		}
		return median(rs)
	}
	rps := func(r ghzResult) float64 { return r.RPS }
	p99 := func(r ghzResult) float64 { return r.p(99) }
	var startMs []float64
	for _, d := range startup {
		startMs = append(startMs, float64(d.Microseconds())/1e3)
	}
	host, _ := os.Hostname()
	var b strings.Builder
	fmt.Fprintf(&b, "# safethird benchmark results\n\nMeasured %s on %s (%s/%s, %d CPUs), %s.\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(&b, "Load: ghz with binary request data, 32 concurrent calls over 2 connections, %s per run, %d rounds; medians of per-round ratios. Server log level: %s.\n\n", cfg.duration, cfg.rounds, cfg.logLevel)
	fmt.Fprintf(&b, "| measure | target | measured | met |\n|---|---|---|---|\n")
	row := func(measure, target string, value float64, format string, ok bool) {
		fmt.Fprintf(&b, "| %s | %s | "+format+" | %s |\n", measure, target, value, yes(ok))
	}
	full := ratio("AssessCountry FULL (MX)", rps)
	basic := ratio("AssessCountry BASIC (MX)", rps)
	appl := ratio("AssessCountry with applicant (CA)", rps)
	lat := ratio("AssessCountry FULL (MX)", p99)
	row("AssessCountry FULL req/s ÷ Health/Check req/s", "≥ 0.80", full, "%.2f", full >= 0.80)
	row("AssessCountry BASIC req/s ÷ Health/Check req/s", "≥ 0.90", basic, "%.2f", basic >= 0.90)
	row("AssessCountry with applicant req/s ÷ Health/Check req/s", "≥ 0.80", appl, "%.2f", appl >= 0.80)
	row("p99 AssessCountry FULL ÷ p99 Health/Check", "≤ 1.5", lat, "%.2f", lat <= 1.5)
	st := median(startMs)
	row("start to SERVING, embedded dataset (ms, median)", "≤ 150", st, "%.0f", st <= 150)
	var rssMB []float64
	for _, k := range rss {
		rssMB = append(rssMB, float64(k)/1024)
	}
	last := rssMB[len(rssMB)-1]
	row("resident memory after the load runs (MB)", "≤ 60", last, "%.1f", last <= 60)
	fmt.Fprintf(&b, "\nResident memory after each round (MB): %s.\n", floats(rssMB))
	fmt.Fprintf(&b, "\n| variant | req/s per round | p50 µs | p99 µs |\n|---|---|---|---|\n")
	for _, v := range variants {
		var r, p50s, p99s []float64
		for _, x := range results[v.name] {
			r, p50s, p99s = append(r, x.RPS), append(p50s, x.p(50)), append(p99s, x.p(99))
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f |\n", v.name, floats(r), median(p50s), median(p99s))
	}
	if cfg.engineBench != "" {
		if eb, err := os.ReadFile(cfg.engineBench); err == nil {
			fmt.Fprintf(&b, "\nEngine alone (`go test -bench AssessCountry -benchmem ./assessment`, target ≤ 10 µs/op):\n\n```\n%s```\n", eb)
		}
	}
	return b.String()
}

func floats(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strings.Join(parts, ", ")
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}
