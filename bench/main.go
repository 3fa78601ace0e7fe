// Command bench measures safethird's cost per call against the floor of a
// gRPC call, on the embedded dataset and on a synthetic one of -synthetic
// curated countries (bench/syndata) side by side. For each, it starts
// `safethird serve` afresh each round, loads it with the real ghz
// (Health/Check, then each AssessCountry variant, repeated or as a stream
// of questions new to the server, batches and routes, 32 concurrent calls
// over 2 connections) and the REST/JSON door
// with the real vegeta (32 concurrent calls over HTTP/1.1 keep-alive
// connections), repeats the runs, and reports the server's CPU time per
// call (its user and system time from /proc/PID/stat over a run, divided
// by the calls made, whatever the load tool costs) as a ratio to
// Health/Check's in the same round, beside requests per second and
// latencies; and the time from start to SERVING and the resident memory
// idle. A mixed load with facts and dates drawn at random then runs for
// -mixed on the embedded dataset while the server's resident memory is
// sampled. With -profile, each variant runs once more against the server
// package in this process under the CPU profiler, and its CPU per call is
// broken down by part. A dataset of 20,000 files is generated, sealed and
// served last. It writes everything, each target met or not, to
// bench/results.md. Run it with `make bench`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	binary, ghz, vegeta, out, engineBench, notes, logLevel, profileDir, dataSrc string
	duration, mixed, mixedSample, profileDuration                               time.Duration
	rounds, startups                                                            int
	// synthetic is the curated countries of the synthetic dataset, 0 for
	// none; manyFiles the files of the dataset that must seal and serve,
	// 0 to skip it.
	synthetic, manyFiles int
	// set is the dataset being measured.
	set *datasetSet
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
	// stream, when set, makes the requests of a run instead of req: a
	// stream of questions new to the server, for the dataset served.
	stream func(*dataset.Snapshot) []proto.Message
	rest   *restCall
	// target is the most its CPU per call may be, as a multiple of
	// Health/Check's; 0 for none.
	target float64
	// concurrency is the calls in flight, when not 32: a batch of 100
	// FULL answers is over a megabyte, and 32 of them unread by a
	// client short of CPU would pass the server's budget of unread bytes
	// on a connection, which closes it.
	concurrency int
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
	healthName    = "Health/Check"
	fullName      = "AssessCountry FULL (MX)"
	restFull      = "REST/JSON AssessCountry FULL (MX)"
	batch100Name  = "BatchAssessCountries, 100 distinct questions"
	route5Name    = "AssessRoute, 5 legs"
	distinctName  = "AssessCountry FULL, distinct questions"
	applicantName = "AssessCountry FULL, distinct questions, random applicants"
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
	{healthName, healthCall, &healthpb.HealthCheckRequest{}, nil, nil, 0, 0},
	{fullName, assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01"}, nil, nil, 1.25, 0},
	{"AssessCountry BASIC (MX)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01", View: safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC}, nil, nil, 1.15, 0},
	{"AssessCountry FULL, applicant (MX: LGBTQI, HN)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-01-01", Applicant: &safethirdv1.Applicant{
		NationalityCode: proto.String("HN"), Groups: []safethirdv1.ApplicantGroup{safethirdv1.ApplicantGroup_APPLICANT_GROUP_LGBTQI},
	}}, nil, nil, 1.5, 0},
	{"AssessCountry FULL, applicant (CA: HT adult)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: &safethirdv1.Applicant{
		NationalityCode: proto.String("HT"), Age: proto.Int32(30), Married: proto.Bool(false), ParentOrGuardianCountries: &safethirdv1.CountryList{CountryCodes: []string{"HT"}},
		Family: &safethirdv1.FamilyTies{}, Documents: &safethirdv1.DocumentsHeld{}, CapitalCharge: proto.Bool(false),
		EntryType: safethirdv1.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(), DaysFromCrossingToClaim: proto.Int32(0),
	}}, nil, nil, 1.5, 0},
	{"AssessCountry FULL, applicant (US, ca-irpa-102: SY, 16)", assessCall, &safethirdv1.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-01-01",
		Applicant: &safethirdv1.Applicant{NationalityCode: proto.String("SY"), Age: proto.Int32(16)}}, nil, nil, 1.5, 0},
	{"BatchAssessCountries, 20 FULL", batchCall, batch20(), nil, nil, 5, 0},
	{restFull, "", &safethirdv1.AssessCountryRequest{AsOf: "2024-01-01"}, nil, &restCall{"POST", "/v1/countries/MX:assess"}, 0, 0},
	{distinctName, assessCall, nil, fullStream, nil, 2.0, 0},
	{applicantName, assessCall, nil, applicantStream, nil, 2.5, 0},
	{batch100Name, batchCall, nil, batchStream, nil, 0, 4},
	{route5Name, routeCall, route5(), nil, nil, 4, 0},
}

// route5 is a route of 5 legs, the last Mexico, for an applicant with a
// few facts given.
func route5() *safethirdv1.AssessRouteRequest {
	req := &safethirdv1.AssessRouteRequest{AsOf: "2024-01-01", Applicant: &safethirdv1.Applicant{NationalityCode: proto.String("HN"), Age: proto.Int32(30)}}
	for _, c := range []string{"HN", "SV", "GT", "BZ", "MX"} {
		req.Legs = append(req.Legs, &safethirdv1.RouteLeg{CountryCode: c})
	}
	return req
}

func run() error {
	var cfg config
	var only string
	flag.StringVar(&cfg.binary, "binary", "bin/safethird", "the safethird binary to measure")
	flag.StringVar(&cfg.dataSrc, "data", "data", "the curated dataset the synthetic ones clone")
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
	flag.IntVar(&cfg.synthetic, "synthetic", 200, "curated countries of the synthetic dataset measured beside the embedded one; 0 for none")
	flag.IntVar(&cfg.manyFiles, "many-files", 20_000, "files of the dataset that must seal, validate and serve; 0 skips it")
	flag.StringVar(&only, "only", "", "regular expression: measure only the variants it matches, beside Health/Check")
	flag.Parse()
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return fmt.Errorf("-only: %w", err)
		}
		cfg.only = re
	}

	vs := selected(cfg)
	sets, err := datasetSets(cfg)
	if err != nil {
		return err
	}
	defer func() {
		for _, set := range sets {
			set.remove()
		}
	}()
	for _, set := range sets {
		cfg.set = set
		if err := measureSet(cfg, vs, set); err != nil {
			return fmt.Errorf("%s: %w", set.name, err)
		}
	}
	var many *manyFilesResult
	if cfg.manyFiles > 0 {
		cfg.set = nil
		if many, err = measureManyFiles(cfg); err != nil {
			return err
		}
	}
	report := render(cfg, vs, sets, many)
	fmt.Print(report)
	return os.WriteFile(cfg.out, []byte(report), 0o644)
}

// measureSet measures every variant on one dataset: start-ups, rounds,
// the info pass and the mixed load (on the embedded dataset) and profiles.
func measureSet(cfg config, vs []variant, set *datasetSet) error {
	res := &set.res
	var err error
	if res.startup, res.idleRSS, err = measureStartups(cfg); err != nil {
		return err
	}
	if res.runs, res.rss, err = rounds(cfg, vs, cfg.logLevel, cfg.rounds); err != nil {
		return err
	}
	if !set.embedded() {
		cfg.infoPass, cfg.mixed = false, 0
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
		if res.profiles, err = profileVariants(cfg, vs, filepath.Join(cfg.profileDir, slug(set.name))); err != nil {
			return err
		}
	}
	return nil
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

// rounds runs every variant n times over, each round against a server
// started afresh at logLevel, so that a stream's questions are new to it,
// and returns the runs and the resident memory after each round.
func rounds(cfg config, vs []variant, logLevel string, n int) (map[string][]ghzResult, []int, error) {
	runs := map[string][]ghzResult{}
	var rss []int
	for round := range n {
		m, err := round1(cfg, vs, logLevel, round, runs)
		if err != nil {
			return nil, nil, err
		}
		rss = append(rss, m)
	}
	return runs, rss, nil
}

// round1 is one round of rounds: it adds each variant's run to runs and
// returns the server's resident memory at its end.
func round1(cfg config, vs []variant, logLevel string, round int, runs map[string][]ghzResult) (int, error) {
	srv, err := startServer(cfg, logLevel)
	if err != nil {
		return 0, err
	}
	defer srv.stop()
	for _, v := range vs {
		r, err := measure(cfg, srv.pid(), srv.addr, srv.httpAddr, v)
		if err != nil {
			return 0, fmt.Errorf("round %d, %s: %w", round+1, v.name, err)
		}
		fmt.Printf("%-14s round %d  %-5s %-58s %7.0f req/s  p50 %6.0fµs  p99 %6.0fµs  CPU %6.1fµs/call\n",
			cfg.set.name, round+1, logLevel, v.name, r.RPS, r.p(50), r.p(99), r.cpuPerCall)
		if n := cfg.set.streamLen(v); n > 0 && r.Count > n {
			fmt.Printf("  %s: %d calls made of a stream of %d: the stream wrapped, and some questions were not new\n", v.name, r.Count, n)
		}
		runs[v.name] = append(runs[v.name], r)
	}
	return residentKB(srv.pid())
}
