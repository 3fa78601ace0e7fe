package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

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

// load runs v against the server at addr (gRPC) or httpAddr (REST).
func load(cfg config, addr, httpAddr string, v variant) (ghzResult, error) {
	if v.rest != nil {
		return runVegeta(cfg, httpAddr, v)
	}
	return runGhz(cfg, addr, v)
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
		return r, &failedError{n, r.StatusCodeDistribution}
	}
	return r, nil
}

// ghzArgs are the arguments of one ghz run of call for d, less the data
// and the address: concurrency calls at a time over 2 connections, as
// many as the server answers.
func ghzArgs(call string, concurrency int, d fmt.Stringer) []string {
	return []string{"--insecure", "--concurrency", strconv.Itoa(concurrency), "--connections", "2",
		"--duration", d.String(), "--duration-stop", "wait", "--call", call, "--format", "json"}
}

func runGhz(cfg config, addr string, v variant) (ghzResult, error) {
	concurrency := 32
	if v.concurrency > 0 {
		concurrency = v.concurrency
	}
	args := ghzArgs(v.call, concurrency, cfg.duration)
	if v.stream == nil && proto.Size(v.req) == 0 {
		// ghz refuses an empty binary file; "{}" is the empty message.
		args = append(args, "--data", "{}")
	} else {
		file, owned, err := cfg.set.requestFile(v)
		if err != nil {
			return ghzResult{}, err
		}
		if owned {
			defer os.Remove(file)
		}
		args = append(args, "--binary-file", file)
	}
	r, err := ghz(cfg, append(args, addr))
	if n := r.errors(); err == nil && n > 0 {
		return r, &failedError{n, r.StatusCodeDistribution}
	}
	return r, err
}

// failedError reports calls of a run that did not end OK.
type failedError struct {
	n     int
	codes map[string]int
}

func (e *failedError) Error() string { return fmt.Sprintf("%d calls failed: %v", e.n, e.codes) }

// ghz runs ghz with args and reads its JSON report.
func ghz(cfg config, args []string) (ghzResult, error) {
	cmd := exec.Command(cfg.ghz, args...)
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
	return r, nil
}
