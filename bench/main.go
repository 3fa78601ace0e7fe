// Command bench measures safethird's cost per call against the floor of a
// gRPC call. It starts `safethird serve` on the embedded dataset, loads it
// with the real ghz (Health/Check, then each AssessCountry variant and a
// batch, 32 concurrent calls over 2 connections) and the REST/JSON door
// with the real vegeta (32 concurrent calls over HTTP/1.1 keep-alive
// connections), repeats the runs, and reports the server's CPU time per
// call (its user and system time from /proc/PID/stat over a run, divided
// by the calls made, whatever the load tool costs) as a ratio to
// Health/Check's in the same round, beside requests per second and
// latencies. A mixed load with facts and dates drawn at random then runs
// for -mixed while the server's resident memory is sampled. With -profile,
// each variant runs once more against the server package in this process
// under the CPU profiler, and its CPU per call is broken down by part.
// It writes everything to bench/results.md. Run it with `make bench`.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"time"

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
	binary, ghz, vegeta, out, engineBench, notes, logLevel, profileDir string
	duration, mixed, mixedSample, profileDuration                      time.Duration
	rounds, startups                                                   int
	// rest loads the HTTP door too; off for a binary without one.
	rest bool
	// only, when set, keeps the variants whose names it matches (and
	// Health/Check, the floor), for measuring one lever quickly.
	only *regexp.Regexp
	// infoPass measures the floor and FULL again at --log-level info.
	infoPass bool
}

// variant is one load: a gRPC call with ghz, or, when rest is set, the
// same request as REST/JSON with vegeta. Requests go to ghz already
// encoded, so the load tool does not parse JSON on every call: the server
// is what is measured.
type variant struct {
	name, call string
	req        proto.Message
	rest       *restCall
	// target is the most its CPU per call may be, as a multiple of
	// Health/Check's; 0 for none.
	target float64
}

// restCall is the REST/JSON form of a call.
type restCall struct {
	method, path string
}

const (
	healthCall = "grpc.health.v1.Health/Check"
	assessCall = "safethird.v1.AssessmentService/AssessCountry"
	batchCall  = "safethird.v1.AssessmentService/BatchAssessCountries"
	routeCall  = "safethird.v1.AssessmentService/AssessRoute"
)

// Names of the variants the targets compare.
const (
	healthName = "Health/Check"
	fullName   = "AssessCountry FULL (MX)"
	restFull   = "REST/JSON AssessCountry FULL (MX)"
)

// curated are the countries with curated findings.
var curated = []string{"BZ", "CA", "EC", "GT", "HN", "MX", "PY", "SV", "UG", "US"}

// batch20 is a batch of 20 FULL assessments: every curated country on two dates.
func batch20() *safethirdv1.BatchAssessCountriesRequest {
	req := &safethirdv1.BatchAssessCountriesRequest{}
	for _, c := range curated {
		for _, d := range []string{"2020-01-01", "2024-01-01"} {
			req.Requests = append(req.Requests, &safethirdv1.AssessCountryRequest{CountryCode: c, AsOf: d})
		}
	}
	return req
}

var variants = []variant{
	{healthName, healthCall, &healthpb.HealthCheckRequest{}, nil, 0},
	{fullName, assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01"}, nil, 1.25},
	{"AssessCountry BASIC (MX)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01", View: safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC}, nil, 1.15},
	{"AssessCountry FULL, applicant (MX: LGBTQI, HN)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01", Applicant: &safethirdv1.Applicant{
		NationalityCode: proto.String("HN"), Groups: []safethirdv1.ApplicantGroup{safethirdv1.ApplicantGroup_APPLICANT_GROUP_LGBTQI},
	}}, nil, 1.5},
	{"AssessCountry FULL, applicant (CA: HT adult)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: &safethirdv1.Applicant{
		NationalityCode: proto.String("HT"), Age: proto.Int32(30), Married: proto.Bool(false), ParentOrGuardianCountries: &safethirdv1.CountryList{CountryCodes: []string{"HT"}},
		Family: &safethirdv1.FamilyTies{}, Documents: &safethirdv1.DocumentsHeld{}, CapitalCharge: proto.Bool(false),
		EntryType: safethirdv1.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(), DaysFromCrossingToClaim: proto.Int32(0),
	}}, nil, 1.5},
	{"AssessCountry FULL, applicant (US, ca-irpa-102: SY, 16)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-01-01",
		Applicant: &safethirdv1.Applicant{NationalityCode: proto.String("SY"), Age: proto.Int32(16)}}, nil, 1.5},
	{"BatchAssessCountries, 20 FULL", batchCall, batch20(), nil, 5},
	{restFull, "", &safethirdv1.AssessCountryRequest{AsOf: "2024-01-01"}, &restCall{"POST", "/v1/countries/MX:assess"}, 0},
}

func run() error {
	var cfg config
	var only string
	flag.StringVar(&cfg.binary, "binary", "bin/safethird", "the safethird binary to measure")
	flag.StringVar(&cfg.ghz, "ghz", "bin/ghz", "the ghz binary")
	flag.StringVar(&cfg.vegeta, "vegeta", "bin/vegeta", "the vegeta binary, for the REST/JSON load")
	flag.BoolVar(&cfg.rest, "rest", true, "load the REST/JSON door too (off for a binary without --http-addr)")
	flag.StringVar(&cfg.out, "out", "bench/results.md", "where to write the results")
	flag.StringVar(&cfg.engineBench, "engine", "", "file with `go test -bench` output of the engine benchmarks, quoted in the results")
	flag.StringVar(&cfg.notes, "notes", "", "file of notes (the levers and their profiles) appended to the results")
	flag.StringVar(&cfg.logLevel, "log-level", "warn", "the server's --log-level; at info, its default, every call but health writes a log line")
	flag.BoolVar(&cfg.infoPass, "info-pass", true, "measure Health/Check and FULL once more at --log-level info, for the cost of the log line")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each run")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds of every variant; medians are reported")
	flag.IntVar(&cfg.startups, "startups", 5, "start-ups measured; the median is reported")
	flag.DurationVar(&cfg.mixed, "mixed", 10*time.Minute, "length of the mixed load under which resident memory is sampled; 0 skips it")
	flag.DurationVar(&cfg.mixedSample, "mixed-sample", 10*time.Second, "how often resident memory is sampled under the mixed load")
	flag.StringVar(&cfg.profileDir, "profile", "", "directory for a CPU profile of each variant, taken of the server package in this process; empty skips profiling")
	flag.DurationVar(&cfg.profileDuration, "profile-duration", 10*time.Second, "length of each profiled run: the profiler samples every 10 ms, so a short run leaves few samples")
	flag.StringVar(&only, "only", "", "regular expression: measure only the variants it matches, beside Health/Check")
	flag.Parse()
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return fmt.Errorf("-only: %w", err)
		}
		cfg.only = re
	}

	var res results
	var err error
	vs := selected(cfg)
	if res.startup, err = measureStartups(cfg); err != nil {
		return err
	}
	if res.runs, res.rss, err = rounds(cfg, vs, cfg.logLevel, cfg.rounds); err != nil {
		return err
	}
	if cfg.infoPass {
		var info []variant
		for _, v := range vs {
			if v.name == healthName || v.name == fullName {
				info = append(info, v)
			}
		}
		if res.infoRuns, _, err = rounds(cfg, info, "info", cfg.rounds); err != nil {
			return err
		}
	}
	if cfg.mixed > 0 {
		srv, err := startServer(cfg, cfg.logLevel)
		if err != nil {
			return err
		}
		res.mixed, err = runMixed(cfg, srv, cfg.mixed, cfg.mixedSample)
		srv.stop()
		if err != nil {
			return err
		}
	}
	if cfg.profileDir != "" {
		if res.profiles, err = profileVariants(cfg, vs, cfg.profileDir); err != nil {
			return err
		}
	}
	report := render(cfg, vs, res)
	fmt.Print(report)
	return os.WriteFile(cfg.out, []byte(report), 0o644)
}

// selected are the variants -only and -rest keep; Health/Check first.
func selected(cfg config) []variant {
	var out []variant
	for _, v := range variants {
		switch {
		case v.rest != nil && !cfg.rest:
		case v.name == healthName, cfg.only == nil, cfg.only.MatchString(v.name):
			out = append(out, v)
		}
	}
	return out
}

// rounds starts a server at logLevel and runs every variant n times over,
// and returns the runs and the resident memory after each round.
func rounds(cfg config, vs []variant, logLevel string, n int) (map[string][]ghzResult, []int, error) {
	srv, err := startServer(cfg, logLevel)
	if err != nil {
		return nil, nil, err
	}
	defer srv.stop()
	runs := map[string][]ghzResult{}
	var rss []int
	for round := range n {
		for _, v := range vs {
			r, err := measure(cfg, srv.pid(), srv.addr, srv.httpAddr, v)
			if err != nil {
				return nil, nil, fmt.Errorf("round %d, %s: %w", round+1, v.name, err)
			}
			fmt.Printf("round %d  %-5s %-56s %7.0f req/s  p50 %6.0fµs  p99 %6.0fµs  CPU %6.1fµs/call\n",
				round+1, logLevel, v.name, r.RPS, r.p(50), r.p(99), r.cpuPerCall)
			runs[v.name] = append(runs[v.name], r)
		}
		m, err := residentKB(srv.pid())
		if err != nil {
			return nil, nil, err
		}
		rss = append(rss, m)
	}
	return runs, rss, nil
}
