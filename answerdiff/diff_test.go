package answerdiff_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/safethird/safethird/answerdiff"
	"github.com/safethird/safethird/dataset"
)

// fixture copies the loader's synthetic dataset (fw-aa; Alpha's agreement
// with Beta in force from 2011-01-01; Beta safe from 2011-01-01 to
// 2015-12-31, not safe for LGBTQI people from 2011-01-01), edits one file
// with edit, and loads it.
func fixture(t *testing.T, file string, edit func(string) string) *dataset.Snapshot {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dataset")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "dataset", "testdata", "valid"))); err != nil {
		t.Fatal(err)
	}
	if file != "" {
		p := filepath.Join(dir, file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(edit(string(b))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := dataset.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func compare(t *testing.T, old, new *dataset.Snapshot, opts answerdiff.Options) *answerdiff.Report {
	t.Helper()
	r, err := answerdiff.Compare(context.Background(), old, new, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAFindingChanged(t *testing.T) {
	old := fixture(t, "", nil)
	new := fixture(t, "findings/bb-safety.yaml", func(s string) string {
		return strings.Replace(s, "status: CRITERION_STATUS_MET", "status: CRITERION_STATUS_INDETERMINATE", 1)
	})
	r := compare(t, old, new, answerdiff.Options{})
	if diff := cmp.Diff([]answerdiff.RecordChange{{Record: "findings/bb-safety", Change: "changed"}}, r.Records); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	// The finding holds from 2011-01-01 to 2015-12-31, so the answers move
	// on exactly those days, without an applicant. The LGBTQI group's own
	// finding (NOT_MET) decides its answers either way.
	want := []answerdiff.Change{{
		Framework: "fw-aa", Country: "BB", From: "2011-01-01", Until: "2015-12-31",
		Before:   answerdiff.Answer{Determination: "QUALIFIES", Practice: "INDETERMINATE"},
		After:    answerdiff.Answer{Determination: "INDETERMINATE", Practice: "INDETERMINATE"},
		Criteria: []answerdiff.CriterionChange{{ID: "safety", Before: "MET", After: "INDETERMINATE"}},
		Records:  []string{"findings/bb-safety"},
	}}
	if diff := cmp.Diff(want, r.Changes, cmpopts.IgnoreUnexported(answerdiff.Answer{})); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	// fw-aa for Alpha and Beta (the agreement's parties), and for Beta
	// with the LGBTQI group its finding names; not for Gamma, of which the
	// dataset says nothing.
	if r.Questions != 3 {
		t.Errorf("questions %d, want 3", r.Questions)
	}

	// Bounded to 2014 and on, the change starts on the first date asked.
	r = compare(t, old, new, answerdiff.Options{From: "2014-06-01", To: "2020-01-01"})
	if len(r.Changes) != 1 || r.Changes[0].From != "2014-06-01" || r.Changes[0].Until != "2015-12-31" || r.First != "2014-06-01" || r.Last > "2020-01-01" {
		t.Errorf("bounded: %+v, dates %s..%s", r.Changes, r.First, r.Last)
	}
	r = compare(t, old, new, answerdiff.Options{From: "2016-01-01"})
	if len(r.Changes) != 0 {
		t.Errorf("after the finding's window: %+v", r.Changes)
	}
}

// TestAnAgreementDated: moving an entry into force moves the answers on
// the dates between, with the agreement named.
func TestAnAgreementDated(t *testing.T) {
	old := fixture(t, "", nil)
	new := fixture(t, "agreements/aa-bb.yaml", func(s string) string {
		return strings.Replace(s, `- date: "2011-01-01"
    kind: AGREEMENT_EVENT_KIND_ENTERED_INTO_FORCE`, `- date: "2011-03-01"
    kind: AGREEMENT_EVENT_KIND_ENTERED_INTO_FORCE`, 1)
	})
	r := compare(t, old, new, answerdiff.Options{})
	var found bool
	for _, c := range r.Changes {
		if c.Country == "BB" && c.Group == "" && c.From == "2011-01-01" {
			found = true
			if c.Until != "2011-02-28" || !strings.Contains(strings.Join(c.Records, " "), "agreements/aa-bb") {
				t.Errorf("change %+v: want 2011-01-01 to 2011-02-28, resting on agreements/aa-bb", c)
			}
		}
	}
	if !found {
		t.Errorf("no change for BB from 2011-01-01: %+v", r.Changes)
	}
}

func TestIdenticalDatasetsDiffer(t *testing.T) {
	a, b := fixture(t, "", nil), fixture(t, "findings/bb-safety.yaml", func(s string) string { return s + "# a comment changes nothing\n" })
	r := compare(t, a, b, answerdiff.Options{})
	if len(r.Records) != 0 || len(r.Changes) != 0 {
		t.Errorf("identical content: records %v, changes %v", r.Records, r.Changes)
	}
	var out bytes.Buffer
	if err := r.Write(&out, "text"); err != nil || !strings.Contains(out.String(), "no answer differs") {
		t.Errorf("text: %v\n%s", err, out.String())
	}
}

func TestFormats(t *testing.T) {
	old := fixture(t, "", nil)
	new := fixture(t, "findings/bb-safety.yaml", func(s string) string {
		return strings.Replace(s, "status: CRITERION_STATUS_MET", "status: CRITERION_STATUS_INDETERMINATE", 1)
	})
	r := compare(t, old, new, answerdiff.Options{})
	for format, want := range map[string][]string{
		"text":     {"fw-aa BB, no applicant, 2011-01-01 to 2015-12-31", "determination: QUALIFIES -> INDETERMINATE", "criterion safety: MET -> INDETERMINATE", "records: findings/bb-safety"},
		"markdown": {"| fw-aa | BB | none | 2011-01-01 to 2015-12-31 | determination: QUALIFIES -> INDETERMINATE; criterion safety: MET -> INDETERMINATE | findings/bb-safety |"},
		"json":     {`"country_code": "BB"`, `"from": "2011-01-01"`, `"until": "2015-12-31"`, `"criterion_id": "safety"`},
	} {
		var out bytes.Buffer
		if err := r.Write(&out, format); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s lacks %q:\n%s", format, w, out.String())
			}
		}
	}
	var back answerdiff.Report
	var out bytes.Buffer
	if err := r.Write(&out, "json"); err != nil || json.Unmarshal(out.Bytes(), &back) != nil || len(back.Changes) != 1 {
		t.Errorf("json does not decode to the report: %v\n%s", err, out.String())
	}
	if err := r.Write(&out, "yaml"); err == nil {
		t.Error("an unknown format was written")
	}
}
