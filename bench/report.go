package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// results is everything a bench run measured on one dataset.
type results struct {
	startup []time.Duration
	idleRSS []int // KB, idle after each start-up
	// runs and infoRuns hold each variant's rounds, at the bench's log
	// level and at info.
	runs, infoRuns map[string][]ghzResult
	rss            []int // KB after each round
	mixed          mixedResult
	profiles       map[string]breakdown
}

// Targets of the calls that are not a multiple of Health/Check's.
const (
	// maxBatchItemUs is the most server CPU an item of a batch of distinct
	// questions may take, µs.
	maxBatchItemUs = 30
	// maxRouteGrowth is the most a route may cost on the synthetic
	// dataset, as a multiple of its cost on the embedded one (each ÷
	// Health/Check in its round).
	maxRouteGrowth = 1.2
	// maxRESTRatio is the most REST/JSON FULL may cost, ÷ gRPC FULL.
	maxRESTRatio = 1.5
)

// Limits on resident memory under the mixed load.
const (
	maxRSSMB = 60
	// maxGrowth is how much the resident memory may grow from the first
	// minute of the mixed load to its end and still count as flat.
	maxGrowth = 0.10
)

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// ratio is the median over rounds of f(name's run) ÷ f(Health/Check's run)
// in the same round.
func ratio(runs map[string][]ghzResult, name, base string, f func(ghzResult) float64) float64 {
	var rs []float64
	for i, r := range runs[name] {
		rs = append(rs, f(r)/f(runs[base][i]))
	}
	return median(rs)
}

func cpu(r ghzResult) float64 { return r.cpuPerCall }
func p99(r ghzResult) float64 { return r.p(99) }

func render(cfg config, vs []variant, sets []*datasetSet, many *manyFilesResult) string {
	host, _ := os.Hostname()
	var b strings.Builder
	fmt.Fprintf(&b, "# safethird benchmark results\n\nMeasured %s on %s (%s/%s, %d CPUs), %s, by `make bench` (bench/main.go).\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(&b, "Load: ghz with binary request data, 32 concurrent calls over 2 connections; for REST/JSON, vegeta, 32 concurrent calls over HTTP/1.1 keep-alive connections; %s per run, %d rounds, each round against a server started afresh. Server `--log-level %s`. "+
		"Server CPU per call is the server process's user and system time over a run (/proc/PID/stat) divided by the calls made; a ratio is the median over the rounds of the ratio to Health/Check's in the same round. The load tools share the 2 cores with the server. "+
		"\"Distinct questions\" are a stream of (country, framework, date) questions, every curated country under each framework it has findings under and every day from 2000 to 2026, in shuffled order, none asked twice in a round; \"random applicants\" add to each an applicant whose facts are drawn at random, many left unknown, so the answers carry their alternatives.\n\n",
		cfg.duration, cfg.rounds, cfg.logLevel)
	for _, set := range sets {
		fmt.Fprintf(&b, "- **%s**: %s.\n", set.name, describeSet(set))
	}

	fmt.Fprintf(&b, "\n## Targets\n\n| dataset | measure | target | measured | met |\n|---|---|---|---|---|\n")
	row := func(set, measure, target, value string, ok bool) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", set, measure, target, value, yes(ok))
	}
	for _, set := range sets {
		res := set.res
		for _, v := range vs {
			if v.target > 0 && len(res.runs[v.name]) > 0 {
				r := ratio(res.runs, v.name, healthName, cpu)
				row(set.name, "server CPU per call, "+v.name+" ÷ Health/Check", fmt.Sprintf("≤ %.2f", v.target), fmt.Sprintf("%.2f", r), r <= v.target)
			}
		}
		if runs := res.runs[batch100Name]; len(runs) > 0 {
			per := median(cpusOf(runs)) / batchItems
			row(set.name, "server CPU per item, "+batch100Name+" (µs)", fmt.Sprintf("≤ %d", maxBatchItemUs), fmt.Sprintf("%.1f", per), per <= maxBatchItemUs)
		}
		if len(res.runs[fullName]) > 0 && set.embedded() {
			r := ratio(res.runs, fullName, healthName, p99)
			row(set.name, "p99 latency, "+fullName+" ÷ Health/Check, 32 concurrent callers", "≤ 1.50", fmt.Sprintf("%.2f", r), r <= 1.5)
		}
		if len(res.runs[restFull]) > 0 && len(res.runs[fullName]) > 0 {
			r := ratio(res.runs, restFull, fullName, cpu)
			row(set.name, "server CPU per call, REST/JSON FULL ÷ gRPC FULL", fmt.Sprintf("≤ %.2f", maxRESTRatio), fmt.Sprintf("%.2f", r), r <= maxRESTRatio)
		}
		if len(res.mixed.samples) > 0 {
			peak, growth := mixedFigures(res.mixed.samples)
			row(set.name, fmt.Sprintf("resident memory under %s of mixed load, peak (MB)", cfg.mixed), fmt.Sprintf("≤ %d", maxRSSMB), fmt.Sprintf("%.1f", peak), peak <= maxRSSMB)
			row(set.name, "resident memory, growth from the first minute to the end", fmt.Sprintf("≤ %.0f%%", maxGrowth*100), fmt.Sprintf("%+.1f%%", growth*100), growth <= maxGrowth)
		}
		if len(res.startup) > 0 {
			st := median(millis(res.startup))
			row(set.name, "start to SERVING (ms, median)", fmt.Sprintf("≤ %.0f", set.maxStartMs), fmt.Sprintf("%.0f", st), st <= set.maxStartMs)
			mb := median(mbs(res.idleRSS))
			row(set.name, fmt.Sprintf("resident memory idle, %s after SERVING (MB, median)", idleWait), fmt.Sprintf("≤ %.0f", set.maxIdleMB), fmt.Sprintf("%.1f", mb), mb <= set.maxIdleMB)
		}
	}
	if len(sets) > 1 && len(sets[0].res.runs[route5Name]) > 0 && len(sets[1].res.runs[route5Name]) > 0 {
		e, s := ratio(sets[0].res.runs, route5Name, healthName, cpu), ratio(sets[1].res.runs, route5Name, healthName, cpu)
		row(sets[1].name+" ÷ "+sets[0].name, route5Name+", ÷ Health/Check on each", fmt.Sprintf("≤ %.2f", maxRouteGrowth), fmt.Sprintf("%.2f (%.2f ÷ %.2f)", s/e, s, e), s/e <= maxRouteGrowth)
	}
	if many != nil {
		value := fmt.Sprintf("%d files (%d countries, %d copies of each source): sealed, SERVING in %d ms, %.1f MB idle", many.files, many.countries, many.copies, many.startup.Milliseconds(), float64(many.idleKB)/1024)
		if many.err != nil {
			value = fmt.Sprintf("%d files: %s", many.files, strings.ReplaceAll(clip(many.err.Error(), 300), "\n", " "))
		}
		row(fmt.Sprintf("%d files", cfg.manyFiles), "seals, validates and serves", "yes", value, many.err == nil)
	}

	if len(sets) > 1 {
		fmt.Fprintf(&b, "\n## Side by side\n\nServer CPU per call, µs (median) and ÷ Health/Check, on each dataset.\n\n| variant |")
		for _, set := range sets {
			fmt.Fprintf(&b, " %s µs | ÷ Health/Check |", set.name)
		}
		fmt.Fprintf(&b, "\n|---|%s\n", strings.Repeat("---|---|", len(sets)))
		for _, v := range vs {
			fmt.Fprintf(&b, "| %s |", v.name)
			for _, set := range sets {
				if runs := set.res.runs[v.name]; len(runs) > 0 {
					fmt.Fprintf(&b, " %.1f | %.2f |", median(cpusOf(runs)), ratio(set.res.runs, v.name, healthName, cpu))
				} else {
					b.WriteString(" | |")
				}
			}
			b.WriteString("\n")
		}
	}
	for _, set := range sets {
		renderSet(&b, cfg, vs, set)
	}
	if cfg.engineBench != "" {
		if eb, err := os.ReadFile(cfg.engineBench); err == nil {
			fmt.Fprintf(&b, "\n## Engine alone\n\n`go test -bench 'AssessCountry|DistinctQuestions' -benchmem ./assessment`:\n\n```\n%s```\n", eb)
		}
	}
	if cfg.notes != "" {
		if n, err := os.ReadFile(cfg.notes); err == nil {
			fmt.Fprintf(&b, "\n%s", n)
		}
	}
	return b.String()
}

// describeSet says what a dataset is.
func describeSet(set *datasetSet) string {
	c := set.snap.Counts()
	what := "the dataset embedded in the binary"
	if !set.embedded() {
		what = "synthetic (bench/syndata: the curated countries cloned in generations under new codes and ids), sealed"
	}
	return fmt.Sprintf("%s; %d records, %d of them curated countries, %d findings, %d agreements, %d sources",
		what, len(set.snap.Records()), curatedCount(set), c.Findings, c.Agreements, c.Sources)
}

func curatedCount(set *datasetSet) int {
	n := 0
	for _, c := range set.snap.Countries() {
		if c.GetCurated() {
			n++
		}
	}
	return n
}

// renderSet writes one dataset's calls, memory and profiles.
func renderSet(b *strings.Builder, cfg config, vs []variant, set *datasetSet) {
	res := set.res
	fmt.Fprintf(b, "\n## Each call, %s dataset\n\n| variant | req/s per round | p50 µs | p99 µs | server CPU µs/call per round | median | ÷ Health/Check |\n|---|---|---|---|---|---|---|\n", set.name)
	for _, v := range vs {
		runs := res.runs[v.name]
		if len(runs) == 0 {
			continue
		}
		var rps, p50s, p99s, cpus []float64
		for _, x := range runs {
			rps, p50s, p99s, cpus = append(rps, x.RPS), append(p50s, x.p(50)), append(p99s, x.p(99)), append(cpus, x.cpuPerCall)
		}
		fmt.Fprintf(b, "| %s | %s | %.0f | %.0f | %s | %.1f | %.2f |\n", v.name, floats(rps, 0), median(p50s), median(p99s), floats(cpus, 1), median(cpus),
			ratio(res.runs, v.name, healthName, cpu))
	}
	fmt.Fprintf(b, "\nStart to SERVING (ms): %s. Resident memory idle (MB): %s; after each round (MB): %s.\n", floats(millis(res.startup), 0), megabytes(res.idleRSS), megabytes(res.rss))
	if len(res.infoRuns[fullName]) > 0 {
		var h, f []float64
		for i := range res.infoRuns[fullName] {
			h, f = append(h, res.infoRuns[healthName][i].cpuPerCall), append(f, res.infoRuns[fullName][i].cpuPerCall)
		}
		fmt.Fprintf(b, "\nAt `--log-level info`, the default, which writes a line for every call but health's: Health/Check %.1f µs, FULL %.1f µs of server CPU per call (medians), %.2f×; the line costs FULL about %.1f µs over the %s run above.\n",
			median(h), median(f), ratio(res.infoRuns, fullName, healthName, cpu), median(f)-median(cpusOf(res.runs[fullName])), cfg.logLevel)
	}
	if len(res.mixed.samples) > 0 {
		var kb []int
		for _, s := range res.mixed.samples {
			kb = append(kb, s.kb)
		}
		fmt.Fprintf(b, "\n### Resident memory under the mixed load\n\n%d calls in %s (not OK: %v): AssessCountry (with and without applicants whose age, days and date are drawn at random each call, BASIC and FULL, random countries and dates), BatchAssessCountries of 20 at random dates and AssessRoute, %d ghz processes at once. Resident memory every %s (MB): %s.\n",
			res.mixed.calls, cfg.mixed, res.mixed.failed, len(mixedLoad), cfg.mixedSample, megabytes(kb))
	}
	if len(res.profiles) > 0 {
		renderProfiles(b, cfg, vs, set, res.profiles)
	}
}

func millis(ds []time.Duration) []float64 {
	var out []float64
	for _, d := range ds {
		out = append(out, float64(d.Microseconds())/1e3)
	}
	return out
}

func mbs(kb []int) []float64 {
	var out []float64
	for _, k := range kb {
		out = append(out, float64(k)/1024)
	}
	return out
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// renderProfiles writes each variant's CPU per call by part, from its
// profile, one column a variant.
func renderProfiles(b *strings.Builder, cfg config, vs []variant, set *datasetSet, profiles map[string]breakdown) {
	fmt.Fprintf(b, "\n### Where the server's CPU goes, %s dataset\n\nFrom a CPU profile of each variant, one %s run against the server package in the bench's own process (profiles in `%s`, `go tool pprof -top FILE`); µs of CPU per call by part, a sample counted in the first part any frame of its stack belongs to.\n\n| part |", set.name, cfg.profileDuration, filepath.Join(cfg.profileDir, slug(set.name)))
	for _, v := range vs {
		fmt.Fprintf(b, " %s |", v.name)
	}
	fmt.Fprintf(b, "\n|---|%s\n", strings.Repeat("---|", len(vs)))
	for _, pt := range append(parts, part{name: "total"}) {
		fmt.Fprintf(b, "| %s |", pt.name)
		for _, v := range vs {
			x := profiles[v.name][pt.name]
			if pt.name == "total" {
				x = 0
				for _, y := range profiles[v.name] {
					x += y
				}
			}
			fmt.Fprintf(b, " %.1f |", x)
		}
		b.WriteString("\n")
	}
}

// mixedFigures are the peak resident memory (MB) under the mixed load and
// its growth from the end of the first minute to the end.
func mixedFigures(s []rssSample) (peak, growth float64) {
	first := s[0].kb
	for _, x := range s {
		peak = max(peak, float64(x.kb)/1024)
		if x.at <= time.Minute {
			first = x.kb
		}
	}
	return peak, float64(s[len(s)-1].kb-first) / float64(first)
}

func cpusOf(runs []ghzResult) []float64 {
	var out []float64
	for _, r := range runs {
		out = append(out, r.cpuPerCall)
	}
	return out
}

func megabytes(kb []int) string { return floats(mbs(kb), 1) }

func floats(xs []float64, prec int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', prec, 64)
	}
	return strings.Join(parts, ", ")
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}
