package expectation_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/safethird/safethird/data"
	"github.com/safethird/safethird/dataset"
	"github.com/safethird/safethird/expectation"
)

// fixture copies the loader's synthetic dataset (Alpha's framework fw-aa,
// its agreement with Beta in force from 2011-01-01, a finding that Beta is
// safe from 2011 to 2015) and writes tests/cases.yaml into it.
func fixture(t *testing.T, cases string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dataset")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "dataset", "testdata", "valid"))); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tests", "cases.yaml"), []byte(cases), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run loads the fixture and runs its expectations.
func run(t *testing.T, cases string) expectation.Result {
	t.Helper()
	snap, err := dataset.LoadDir(fixture(t, cases))
	if err != nil {
		t.Fatalf("load the fixture: %v", err)
	}
	return expectation.Run(snap)
}

func lines(ps []dataset.Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

const holds = `cases:
  - name: Beta 2012, in force and safe
    sources: [src-one]
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2012-06-01"}
    want:
      determination: DETERMINATION_QUALIFIES
      agreement_id: aa-bb
      criteria[agreement].status: CRITERION_STATUS_MET
      criteria[safety].finding_ids: [bb-safety]
      criteria[safety].rationale: {contains: "bb-safety"}
      exceptions: [minor]
      exceptions[minor].missing_facts: [age]
      contest_limits[no-review].criterion_ids: [safety]
      warnings: {contains: "Hindsight: Fixture source (src-one)"}
      premises: []
  - name: Beta 2010, before the agreement, the request written last
    sources: [src-one]
    want:
      criteria[agreement].status: CRITERION_STATUS_NOT_MET
      agreement_id: ""
    assess_country:
      country_code: BB
      # a comment inside the request
      framework_id: fw-aa
      as_of: "2010-06-01"
  - name: a route through Beta
    sources: [src-one]
    assess_route:
      framework_id: fw-aa
      legs: [{country_code: BB}]
      as_of: "2012-06-01"
      applicant: {age: 12}
    want:
      assessments: [BB]
      assessments[BB].exceptions[minor].status: EXCEPTION_STATUS_APPLIES
      outcome: APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY
`

func TestCasesThatHold(t *testing.T) {
	r := run(t, holds)
	if len(r.Problems) != 0 || r.Cases != 3 {
		t.Errorf("cases %d, problems:\n%s", r.Cases, strings.Join(lines(r.Problems), "\n"))
	}
}

// TestFailuresNameFileLinePathWantAndGot: a case whose answer differs is
// reported at the line of the path, with the value wanted and the value got.
func TestFailuresNameFileLinePathWantAndGot(t *testing.T) {
	r := run(t, `cases:
  - name: Beta 2012
    sources: [src-one]
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2012-06-01"}
    want:
      determination: DETERMINATION_DOES_NOT_QUALIFY
      criteria[safety].finding_ids: [bb-safety, bb-safety-group]
      agreement_id: ""
      criteria[safety].rationale: {contains: "not safe at all"}
      warnings: {contains: "stale"}
      country_code: BB
`)
	want := []string{
		"tests/cases.yaml:6:7: Beta 2012: determination: want DETERMINATION_DOES_NOT_QUALIFY, got DETERMINATION_QUALIFIES",
		"tests/cases.yaml:7:7: Beta 2012: criteria[safety].finding_ids: want [bb-safety, bb-safety-group], got [bb-safety]",
		`tests/cases.yaml:8:7: Beta 2012: agreement_id: want "", got aa-bb`,
	}
	got := lines(r.Problems)
	if len(got) != 5 {
		t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
	}
	if diff := cmp.Diff(want, got[:3]); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	for i, prefix := range []string{
		`tests/cases.yaml:9:7: Beta 2012: criteria[safety].rationale: want text containing "not safe at all", got "`,
		`tests/cases.yaml:10:7: Beta 2012: warnings: want an element containing "stale", got [`,
	} {
		if !strings.HasPrefix(got[3+i], prefix) {
			t.Errorf("problem %q, want it to start %q", got[3+i], prefix)
		}
	}
}

// TestMistakesInCases: a case that cannot be run, or a want that can never
// hold, is a problem at its own line, saying what is wrong.
func TestMistakesInCases(t *testing.T) {
	tests := []struct {
		name, cases string
		want        []string
	}{
		{"an unknown request field, at its own line and column", `cases:
  - name: x
    sources: [src-one]
    assess_country:
      country_code: BB
      as_of: "2012-06-01"
      colour: red
    want: {agreement_id: aa-bb}
`, []string{`tests/cases.yaml:7:7: unknown field "colour", expected one of [country_code framework_id as_of applicant dataset_revision view applying_state_code ...]`}},
		{"a field rule broken in the request", `cases:
  - name: x
    sources: [src-one]
    assess_country: {country_code: BB, as_of: "2012-13-01"}
    want: {agreement_id: aa-bb}
`, nil},
		{"no date", `cases:
  - name: x
    sources: [src-one]
    assess_country: {country_code: BB, framework_id: fw-aa}
    want: {agreement_id: aa-bb}
`, []string{"tests/cases.yaml:4:21: assess_country.as_of is required: a case holds on a date, and without one it would change meaning from day to day"}},
		{"a source that is not in the dataset, and none", `cases:
  - name: x
    sources: [src-two]
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2012-06-01"}
    want: {agreement_id: aa-bb}
  - name: y
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2012-06-01"}
    want: {agreement_id: aa-bb}
`, []string{
			`tests/cases.yaml:3:15: sources: "src-two" names no source in sources/`,
			"tests/cases.yaml:6:5: sources: want the ids of the sources that decide the case, a list of at least one",
		}},
		{"an enum value that does not exist", `cases:
  - name: x
    sources: [src-one]
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2012-06-01"}
    want: {determination: QUALIFIES}
`, []string{`tests/cases.yaml:5:27: x: determination: "QUALIFIES" is not a value of safethird.v1.Determination`}},
		{"a path to nothing", `cases:
  - name: x
    sources: [src-one]
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2012-06-01"}
    want:
      criteria[safety].colour: red
      criteria[persecution].status: CRITERION_STATUS_MET
      criteria: [agreement, safety]
      practice: PRACTICE_STATUS_APPLIED
`, []string{
			`tests/cases.yaml:6:7: x: criteria[safety].colour: safethird.v1.CriterionResult has no field "colour"; its fields: criterion_id, title, status, rationale, evidence, finding_ids, missing_facts, basis, concluded_by, risk_level, risk_factors, conflicts, stale`,
			`tests/cases.yaml:7:7: x: criteria[persecution].status: criteria has no element with criterion_id "persecution"; it has agreement, safety`,
			"tests/cases.yaml:9:17: x: practice: practice is a message: name one of its fields (status, agreement_id, reason, evidence, timeline)",
		}},
		{"the engine refuses the request", `cases:
  - name: x
    sources: [src-one]
    assess_country: {country_code: BB, framework_id: fw-zz, as_of: "2012-06-01"}
    want: {agreement_id: aa-bb}
`, []string{`tests/cases.yaml:4:21: x: the engine refused the request: framework "fw-zz" not found`}},
		{"two questions, an unknown key, no want", `cases:
  - name: x
    sources: [src-one]
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2012-06-01"}
    assess_route: {legs: [{country_code: BB}], as_of: "2012-06-01"}
    expect: {agreement_id: aa-bb}
`, []string{
			"tests/cases.yaml:5:5: a case asks one question: assess_country or assess_route, not both",
			`tests/cases.yaml:6:5: unknown key "expect": a case has name, sources, assess_country or assess_route, want`,
			"tests/cases.yaml:2:5: want: a mapping of paths into the answer to the values they must have, at least one",
		}},
		{"an alias", `cases:
  - name: x
    sources: &s [src-one]
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2012-06-01"}
    want: {agreement_id: aa-bb}
  - name: y
    sources: *s
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2012-06-01"}
    want: {agreement_id: aa-bb}
`, []string{"tests/cases.yaml:7:14: YAML alias *s: expectations do not use anchors and aliases; write the value out"}},
		{"one name twice", `cases:
  - name: x
    sources: [src-one]
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2012-06-01"}
    want: {agreement_id: aa-bb}
  - name: x
    sources: [src-one]
    assess_country: {country_code: BB, framework_id: fw-aa, as_of: "2010-06-01"}
    want: {agreement_id: ""}
`, []string{`tests/cases.yaml:6:5: case "x" is named twice in this file: a failure must say which case it is`}},
		{"not YAML", "cases: [\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lines(run(t, tt.cases).Problems)
			if tt.want == nil {
				if len(got) == 0 {
					t.Error("no problem reported")
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestALoadRefusesFailingCases: given as the load's check, failing cases
// refuse the dataset, sealed or not, and keep it from being sealed.
func TestALoadRefusesFailingCases(t *testing.T) {
	dir := fixture(t, strings.Replace(holds, "DETERMINATION_QUALIFIES", "DETERMINATION_INDETERMINATE", 1))
	opts := dataset.LoadOptions{Check: expectation.Check}
	_, err := opts.LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "tests/cases.yaml:6:7: Beta 2012, in force and safe: determination: want DETERMINATION_INDETERMINATE, got DETERMINATION_QUALIFIES") {
		t.Errorf("load: %v", err)
	}
	if _, err := opts.Seal(dir, nil); err == nil {
		t.Error("sealed a dataset whose cases fail")
	}
	if _, err := os.Stat(filepath.Join(dir, dataset.ManifestFile)); !os.IsNotExist(err) {
		t.Errorf("a manifest was written: %v", err)
	}
}

// TestTheDatasetsExpectationsHold runs data/tests against the embedded
// dataset: the cases its editors wrote, which every release must pass.
func TestTheDatasetsExpectationsHold(t *testing.T) {
	snap, err := dataset.Load(data.FS)
	if err != nil {
		t.Fatalf("load the embedded dataset: %v", err)
	}
	r := expectation.Run(snap)
	for _, p := range r.Problems {
		t.Error(p)
	}
	if r.Cases < 40 {
		t.Errorf("%d cases in data/tests; the dataset's legal facts need at least 40", r.Cases)
	}
}
