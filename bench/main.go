// Command bench measures safethird against the floor of a gRPC call: it
// starts `safethird serve` on the embedded dataset, loads it with the real
// ghz (Health/Check, then each AssessCountry variant, 32 concurrent calls
// over 2 connections) and the REST/JSON door with the real vegeta (the FULL
// answer, 32 concurrent calls over HTTP/1.1 keep-alive connections, as a
// REST client makes them), repeats the runs, and reports median ratios to
// Health/Check, the server's CPU time per call (from /proc, whatever the
// load tool costs), the time from start to SERVING and the resident memory.
// It writes the table to bench/results.md. Run it with `make bench`.
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
	"google.golang.org/protobuf/encoding/protojson"
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
	binary, ghz, vegeta, out, engineBench, logLevel string
	duration                                        time.Duration
	rounds, startups                                int
	// rest loads the HTTP door too; off for a binary without one.
	rest bool
}

// variant is one load: a gRPC call with ghz, or, when rest is set, the
// same request as REST/JSON with vegeta. Requests go to ghz already
// encoded, so the load tool does not parse JSON on every call: the server
// is what is measured.
type variant struct {
	name, call string
	req        proto.Message
	rest       *restCall
}

// restCall is the REST/JSON form of a call.
type restCall struct {
	method, path string
}

const (
	healthCall = "grpc.health.v1.Health/Check"
	assessCall = "safethird.v1.AssessmentService/AssessCountry"
)

var variants = []variant{
	{"Health/Check", healthCall, &healthpb.HealthCheckRequest{}, nil},
	{"AssessCountry FULL (MX)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01"}, nil},
	{"AssessCountry BASIC (MX)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01", View: safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC}, nil},
	{"AssessCountry with applicant (CA)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: &safethirdv1.Applicant{
		NationalityCode: proto.String("HT"), Age: proto.Int32(30), Married: proto.Bool(false), ParentOrGuardianCountries: &safethirdv1.CountryList{CountryCodes: []string{"HT"}},
		Family: &safethirdv1.FamilyTies{}, Documents: &safethirdv1.DocumentsHeld{}, CapitalCharge: proto.Bool(false),
		EntryType: safethirdv1.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(), DaysFromCrossingToClaim: proto.Int32(0),
	}}, nil},
	{restFull, "", &safethirdv1.AssessCountryRequest{AsOf: "2024-01-01"}, &restCall{"POST", "/v1/countries/MX:assess"}},
}

// restFull is the REST/JSON twin of "AssessCountry FULL (MX)".
const restFull = "REST/JSON AssessCountry FULL (MX)"

func run() error {
	var cfg config
	flag.StringVar(&cfg.binary, "binary", "bin/safethird", "the safethird binary to measure")
	flag.StringVar(&cfg.ghz, "ghz", "bin/ghz", "the ghz binary")
	flag.StringVar(&cfg.vegeta, "vegeta", "bin/vegeta", "the vegeta binary, for the REST/JSON load")
	flag.BoolVar(&cfg.rest, "rest", true, "load the REST/JSON door too (off for a binary without --http-addr)")
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
			if v.rest != nil && !cfg.rest {
				continue
			}
			r, err := measure(cfg, srv, v)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round+1, v.name, err)
			}
			fmt.Printf("round %d  %-36s %9.0f req/s  p50 %6.0fµs  p99 %6.0fµs  CPU %5.1fµs/call  errors %d\n",
				round+1, v.name, r.RPS, r.p(50), r.p(99), r.cpuPerCall, r.errors())
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
	cmd            *exec.Cmd
	addr, httpAddr string
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
	args := []string{"serve", "--addr", addr, "--log-level", cfg.logLevel}
	var httpAddr string
	if cfg.rest {
		if httpAddr, err = freeAddr(); err != nil {
			return nil, 0, err
		}
		args = append(args, "--http-addr", httpAddr)
	}
	cmd := exec.Command(binary, args...)
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
	s := &server{cmd: cmd, addr: addr, httpAddr: httpAddr}
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

// latency is one percentile of a run's latencies.
type latency struct {
	Percentage int   `json:"percentage"`
	Latency    int64 `json:"latency"` // nanoseconds
}

// ghzResult is the part of ghz's JSON report the bench reads; a vegeta
// run is put in the same form.
type ghzResult struct {
	Count                  int            `json:"count"`
	RPS                    float64        `json:"rps"`
	LatencyDistribution    []latency      `json:"latencyDistribution"`
	StatusCodeDistribution map[string]int `json:"statusCodeDistribution"`

	// cpuPerCall is the server's CPU time (user and system) over the run,
	// divided by the calls made, in microseconds.
	cpuPerCall float64
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

// measure runs one load against srv and the server's CPU time over it.
func measure(cfg config, srv *server, v variant) (ghzResult, error) {
	before, err := cpuTime(srv.cmd.Process.Pid)
	if err != nil {
		return ghzResult{}, err
	}
	var r ghzResult
	if v.rest != nil {
		r, err = runVegeta(cfg, srv.httpAddr, v)
	} else {
		r, err = runGhz(cfg, srv.addr, v)
	}
	if err != nil {
		return r, err
	}
	after, err := cpuTime(srv.cmd.Process.Pid)
	if err != nil {
		return r, err
	}
	if r.Count > 0 {
		r.cpuPerCall = float64((after - before).Microseconds()) / float64(r.Count)
	}
	return r, nil
}

// clockTick is the unit of /proc/PID/stat's CPU times, USER_HZ, which is
// 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuTime reads the CPU time a process has used, user and system, from
// /proc/PID/stat (fields 14 and 15, after the parenthesised name).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of %d: %w", pid, err)
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	fields := strings.Fields(rest)
	if !ok || len(fields) < 13 {
		return 0, fmt.Errorf("read CPU time of %d: unexpected /proc stat %q", pid, b)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime: the 14th and 15th fields
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read CPU time of %d: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// vegetaTarget is one request in vegeta's JSON targets format.
type vegetaTarget struct {
	Method string              `json:"method"`
	URL    string              `json:"url"`
	Body   []byte              `json:"body"` // base64 in JSON, as vegeta wants it
	Header map[string][]string `json:"header"`
}

// vegetaReport is the part of `vegeta report -type=json` the bench reads.
type vegetaReport struct {
	Requests   int     `json:"requests"`
	Throughput float64 `json:"throughput"`
	Latencies  struct {
		P50 int64 `json:"50th"`
		P99 int64 `json:"99th"`
	} `json:"latencies"`
	StatusCodes map[string]int `json:"status_codes"`
	Errors      []string       `json:"errors"`
}

// runVegeta loads the REST/JSON door as a REST client would: JSON over
// HTTP/1.1, 32 requests at a time on kept-alive connections.
func runVegeta(cfg config, httpAddr string, v variant) (ghzResult, error) {
	body, err := protojson.Marshal(v.req)
	if err != nil {
		return ghzResult{}, err
	}
	target, err := json.Marshal(vegetaTarget{Method: v.rest.method, URL: "http://" + httpAddr + v.rest.path, Body: body,
		Header: map[string][]string{"Content-Type": {"application/json"}}})
	if err != nil {
		return ghzResult{}, err
	}
	dir, err := os.MkdirTemp("", "safethird-bench-vegeta-")
	if err != nil {
		return ghzResult{}, err
	}
	defer os.RemoveAll(dir)
	targets, results := filepath.Join(dir, "targets.json"), filepath.Join(dir, "results.bin")
	if err := os.WriteFile(targets, append(target, '\n'), 0o600); err != nil {
		return ghzResult{}, err
	}
	attack := exec.Command(cfg.vegeta, "attack", "-format", "json", "-targets", targets, "-rate", "0",
		"-workers", "32", "-max-workers", "32", "-connections", "32", "-duration", cfg.duration.String(), "-output", results)
	if out, err := attack.CombinedOutput(); err != nil {
		return ghzResult{}, fmt.Errorf("vegeta attack: %w: %s", err, out)
	}
	out, err := exec.Command(cfg.vegeta, "report", "-type", "json", results).Output()
	if err != nil {
		return ghzResult{}, fmt.Errorf("vegeta report: %w", err)
	}
	var rep vegetaReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return ghzResult{}, fmt.Errorf("read vegeta report: %w", err)
	}
	r := ghzResult{Count: rep.Requests, RPS: rep.Throughput, StatusCodeDistribution: map[string]int{},
		LatencyDistribution: []latency{{50, rep.Latencies.P50}, {99, rep.Latencies.P99}}}
	for code, n := range rep.StatusCodes {
		name := "OK"
		if code != "200" {
			name = "HTTP " + code
		}
		r.StatusCodeDistribution[name] += n
	}
	if n := r.errors(); n > 0 || len(rep.Errors) > 0 {
		return r, fmt.Errorf("%d calls failed: %v %v", n, r.StatusCodeDistribution, rep.Errors)
	}
	return r, nil
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
	fmt.Fprintf(&b, "Load: ghz with binary request data, 32 concurrent calls over 2 connections; for REST/JSON, vegeta, 32 concurrent calls over HTTP/1.1 keep-alive connections; %s per run, %d rounds; medians of per-round ratios. Server log level: %s.\n\n", cfg.duration, cfg.rounds, cfg.logLevel)
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
	fmt.Fprintf(&b, "\n| variant | req/s per round | p50 µs | p99 µs | server CPU µs/call |\n|---|---|---|---|---|\n")
	cpu := map[string]float64{}
	for _, v := range variants {
		if len(results[v.name]) == 0 {
			continue
		}
		var r, p50s, p99s, cpus []float64
		for _, x := range results[v.name] {
			r, p50s, p99s, cpus = append(r, x.RPS), append(p50s, x.p(50)), append(p99s, x.p(99)), append(cpus, x.cpuPerCall)
		}
		cpu[v.name] = median(cpus)
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f | %.1f |\n", v.name, floats(r), median(p50s), median(p99s), cpu[v.name])
	}
	if rest, ok := cpu[restFull]; ok {
		fmt.Fprintf(&b, "\nREST/JSON (HTTP/1.1, vegeta) against gRPC (HTTP/2, ghz) for the same FULL answer: %.1f µs against %.1f µs of server CPU per call, %.2f×. "+
			"The server CPU per call is its user and system time over the run (/proc/PID/stat) divided by the calls made; the load tools run on the same cores.\n",
			rest, cpu["AssessCountry FULL (MX)"], rest/cpu["AssessCountry FULL (MX)"])
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
