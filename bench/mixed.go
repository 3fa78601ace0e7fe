package main

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// mixedLoad is a mix of the calls a deployment answers, with facts and
// dates drawn at random by ghz's templates for every call, so that the
// server's memos fill up and turn over as they would in service: the
// resident memory must stay flat under it. ghz reads the data as JSON
// before it expands the templates, so every template stands in a JSON
// string; protojson takes a number in a string too.
var mixedLoad = []struct {
	call        string
	concurrency int
	data        []string
}{
	{assessCall, 16, []string{
		`{"country_code":"MX","as_of":"2024-01-01"}`,
		`{"country_code":"MX","as_of":"2024-01-01","view":"ASSESSMENT_VIEW_BASIC"}`,
		`{"country_code":"{{randomCountry}}","as_of":"{{randomDate}}"}`,
		`{"country_code":"CA","as_of":"{{randomDate}}","applicant":{"nationality_code":"HT","age":"{{randomInt 0 100}}","married":false,"entry_type":"ENTRY_TYPE_LAND_PORT_OF_ENTRY","days_from_crossing_to_claim":"{{randomInt 0 30}}"}}`,
		`{"country_code":"MX","as_of":"{{randomDate}}","applicant":{"nationality_code":"HN","groups":["APPLICANT_GROUP_LGBTQI"],"age":"{{randomInt 0 100}}"}}`,
		`{"country_code":"US","framework_id":"ca-irpa-102","as_of":"2024-06-01","applicant":{"nationality_code":"SY","age":"{{randomInt 0 30}}","accompanied":false}}`,
		`{"country_code":"TR","framework_id":"eu-apd-38","applying_state_code":"GR","as_of":"2025-05-01","applicant":{"age":"{{randomInt 0 60}}","accompanied":true,"countries_crossed":{"country_codes":["TR"]}}}`,
	}},
	{batchCall, 4, []string{batchJSON()}},
	{routeCall, 4, []string{
		`{"legs":[{"country_code":"GT"},{"country_code":"MX"}],"as_of":"{{randomDate}}","applicant":{"nationality_code":"HN","age":"{{randomInt 0 90}}"}}`,
	}},
}

// batchJSON is a batch of 20 assessments, each at a random date.
func batchJSON() string {
	var items []string
	for _, c := range curated {
		items = append(items, fmt.Sprintf(`{"country_code":%q,"as_of":"{{randomDate}}"}`, c), fmt.Sprintf(`{"country_code":%q,"as_of":"2024-01-01"}`, c))
	}
	return `{"requests":[` + strings.Join(items, ",") + `]}`
}

// mixedTemplate expands the two placeholders ghz has no function for:
// a curated country and a date between 2010 and 2025.
func mixedTemplate(s string) string {
	s = strings.ReplaceAll(s, "{{randomCountry}}", `{{index (list `+quoted(curated)+`) (randomInt 0 `+fmt.Sprint(len(curated))+`)}}`)
	return strings.ReplaceAll(s, "{{randomDate}}", `20{{randomInt 10 26}}-0{{randomInt 1 10}}-1{{randomInt 0 10}}`)
}

// quoted are xs as template string literals: raw strings, since a JSON
// string, where the templates stand, cannot hold a plain quote.
func quoted(xs []string) string {
	var q []string
	for _, x := range xs {
		q = append(q, "`"+x+"`")
	}
	return strings.Join(q, " ")
}

// rssSample is the server's resident memory at a moment of the load.
type rssSample struct {
	at time.Duration
	kb int
}

// mixedResult is what the mixed load measured.
type mixedResult struct {
	samples []rssSample
	calls   int
	// failed counts the calls that did not end OK, by code: a few under
	// this load are the server closing a connection whose client (ghz,
	// short of CPU) did not read its responses in time.
	failed map[string]int
}

// runMixed runs the mixed load against srv for d and samples its resident
// memory every interval.
func runMixed(cfg config, srv *process, d, interval time.Duration) (mixedResult, error) {
	var wg sync.WaitGroup
	errs := make(chan error, len(mixedLoad))
	reports := make(chan ghzResult, len(mixedLoad))
	for _, l := range mixedLoad {
		// A JSON array: ghz sends its elements in turn. Each is a
		// template, not yet JSON, so the array is joined as text.
		var data []string
		for _, s := range l.data {
			data = append(data, mixedTemplate(s))
		}
		args := append(ghzArgs(l.call, l.concurrency, d), "--data", "["+strings.Join(data, ",")+"]", srv.addr)
		wg.Go(func() {
			r, err := ghz(cfg, args)
			if err != nil {
				errs <- fmt.Errorf("mixed load, %s: %w", l.call, err)
				return
			}
			reports <- r
		})
	}
	res := mixedResult{failed: map[string]int{}}
	start := time.Now()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-tick.C:
		}
		kb, err := residentKB(srv.pid())
		if err != nil {
			return res, fmt.Errorf("%w; the server's log ends:\n%s", err, srv.logTail())
		}
		res.samples = append(res.samples, rssSample{time.Since(start), kb})
	}
	close(errs)
	close(reports)
	if err := <-errs; err != nil {
		return res, err
	}
	for r := range reports {
		res.calls += r.Count
		for code, n := range r.StatusCodeDistribution {
			if code != "OK" {
				res.failed[code] += n
			}
		}
	}
	return res, nil
}
