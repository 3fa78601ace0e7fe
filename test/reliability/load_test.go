package reliability_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// ghzReport is the part of ghz's JSON report the test reads.
type ghzReport struct {
	Count               int64   `json:"count"`
	RPS                 float64 `json:"rps"`
	LatencyDistribution []struct {
		Percentage int   `json:"percentage"`
		Latency    int64 `json:"latency"` // nanoseconds
	} `json:"latencyDistribution"`
	StatusCodeDistribution map[string]int64 `json:"statusCodeDistribution"`
	ErrorDistribution      map[string]int64 `json:"errorDistribution"`
}

// percentile returns a latency percentile.
func (r ghzReport) percentile(pct int) time.Duration {
	for _, l := range r.LatencyDistribution {
		if l.Percentage == pct {
			return time.Duration(l.Latency)
		}
	}
	return 0
}

// failed counts the calls that did not end OK.
func (r ghzReport) failed() int64 {
	var n int64
	for code, count := range r.StatusCodeDistribution {
		if code != "OK" {
			n += count
		}
	}
	return n
}

// ghzRun is one ghz process of the load: a method, its requests (used
// round-robin) and its share of the concurrency.
type ghzRun struct {
	call        string
	requests    []proto.Message
	concurrency int
}

// jsonArray encodes messages as the JSON array ghz reads with --data.
func jsonArray(t *testing.T, msgs []proto.Message) string {
	t.Helper()
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		b, err := protojson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		parts[i] = string(b)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// TestLoad drives the real binary with ghz, over TLS with a bearer token,
// at 50 concurrent calls of mixed valid requests: no call may fail, and the
// server's goroutines must come back to where they were once the load
// ends. 10s; SAFETHIRD_SOAK=1 runs 10 minutes.
func TestLoad(t *testing.T) {
	ghz, err := exec.LookPath("ghz")
	if err != nil {
		t.Skip("ghz is not on PATH; `make tools` installs it into ./bin and `make test` puts ./bin on PATH")
	}
	duration := pick(10*time.Second, 10*time.Minute)
	keys := newPKI(t)
	srv := startServer(t, serverOptions{pki: keys, tokensFile: keys.tokensFile, dropCallLines: true})

	var countries, routes, batches []proto.Message
	for _, it := range workItems() {
		switch {
		case it.country != nil:
			countries = append(countries, it.country)
		case it.route != nil:
			routes = append(routes, it.route)
		case it.batch != nil:
			batches = append(batches, it.batch)
		}
	}
	runs := []ghzRun{
		{"safethird.v1.AssessmentService/AssessCountry", countries, 20},
		{"safethird.v1.AssessmentService/AssessRoute", routes, 10},
		{"safethird.v1.AssessmentService/BatchAssessCountries", batches, 10},
		{"safethird.v1.CatalogService/ListCountries", []proto.Message{
			&pb.ListCountriesRequest{PageSize: 50}, &pb.ListCountriesRequest{CuratedOnly: true}, &pb.ListCountriesRequest{PageSize: 300},
		}, 10},
	}
	total := 0
	for _, r := range runs {
		total += r.concurrency
	}
	if total != 50 {
		t.Fatalf("the runs add up to %d concurrent calls, want 50", total)
	}

	// A warm-up call, so "before" is a server that has answered once.
	c := newClient(t, srv.addr, keys.clientOptions()...)
	if _, err := workItems()[0].call(context.Background(), c); err != nil {
		t.Fatalf("warm-up call: %v", err)
	}
	_ = c.Close()
	time.Sleep(200 * time.Millisecond)
	rssBefore, goBefore := srv.rssKB(t), srv.goroutines(t)

	md := fmt.Sprintf(`{"authorization":"Bearer %s"}`, keys.token)
	reports := make([]ghzReport, len(runs))
	errs := make([]error, len(runs))
	data := make([]string, len(runs))
	for i, r := range runs {
		data[i] = jsonArray(t, r.requests)
	}
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), duration+2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, ghz, "--cacert", keys.CAFile, "--metadata", md, "--reflect-metadata", md,
				"--call", r.call, "--data", data[i], "--concurrency", fmt.Sprint(r.concurrency),
				"--duration", duration.String(), "--duration-stop", "wait", "--timeout", "20s",
				"--format", "json", srv.addr)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("ghz %s: %w\n%s", r.call, err, stderr.String())
				return
			}
			if err := json.Unmarshal(stdout.Bytes(), &reports[i]); err != nil {
				errs[i] = fmt.Errorf("ghz %s report: %w\n%s", r.call, err, stdout.String())
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	var calls, failed int64
	var rps float64
	for i, r := range runs {
		rep := reports[i]
		calls += rep.Count
		failed += rep.failed()
		rps += rep.RPS
		if rep.failed() > 0 || rep.Count == 0 {
			t.Errorf("%s: %d calls, status codes %v, errors %v", r.call, rep.Count, rep.StatusCodeDistribution, rep.ErrorDistribution)
		}
		figure(t, "%s: %d calls, %.0f req/s, p50 %v, p99 %v, %d failed", r.call, rep.Count, rep.RPS,
			rep.percentile(50).Round(10*time.Microsecond), rep.percentile(99).Round(10*time.Microsecond), rep.failed())
	}

	// Connections close once ghz exits; the goroutines serving them must go.
	const slack = 5
	goAfter := srv.goroutines(t)
	deadline := time.Now().Add(10 * time.Second)
	for goAfter > goBefore+slack && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		goAfter = srv.goroutines(t)
	}
	rssAfter := srv.rssKB(t)
	if goAfter > goBefore+slack {
		t.Errorf("goroutines: %d before the load, still %d 10s after it", goBefore, goAfter)
	}
	const maxRSSKB = 512 << 10
	if rssAfter > maxRSSKB {
		t.Errorf("RSS after the load is %d KiB, over %d KiB", rssAfter, maxRSSKB)
	}
	figure(t, "total: %d calls in %v at 50 concurrent (TLS, token), %.0f req/s, %d failed", calls, duration, rps, failed)
	figure(t, "RSS %.1f MiB before, %.1f MiB after; goroutines %d before, %d after",
		float64(rssBefore)/1024, float64(rssAfter)/1024, goBefore, goAfter)
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v\n%s", d, err, srv.stderr)
	}
}
