package assessment_test

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// edit replaces old by new in a file of the fixture.
type edit struct{ file, old, new string }

// loaderFixture is the loader's synthetic dataset (one framework fw-aa, a
// country BB with a finding of safety for everyone to 2015 and a finding
// of NOT_MET for LGBTQI people, concluded by its one publisher), edited.
func loaderFixture(t *testing.T, edits ...edit) *dataset.Snapshot {
	t.Helper()
	m := fstest.MapFS{}
	root := os.DirFS("../dataset/testdata/valid")
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		old := string(m[e.file].Data)
		if !strings.Contains(old, e.old) {
			t.Fatalf("%s holds no %q", e.file, e.old)
		}
		m[e.file] = &fstest.MapFile{Data: []byte(strings.Replace(old, e.old, e.new, 1))}
	}
	snap, err := dataset.Load(m)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// safety is the answer's safety criterion for an LGBTQI national of CC.
func safety(t *testing.T, snap *dataset.Snapshot, asOf string, view pb.AssessmentView) *pb.CriterionResult {
	t.Helper()
	a, err := assessment.New(snap).AssessCountry(&pb.AssessCountryRequest{
		CountryCode: "BB", FrameworkId: "fw-aa", AsOf: asOf, View: view,
		Applicant: &pb.Applicant{NationalityCode: proto.String("CC"), Groups: []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_LGBTQI}},
	}, "2026-12-06")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range a.GetCriteria() {
		if c.GetCriterionId() == "safety" {
			return c
		}
	}
	t.Fatal("no safety criterion in the answer")
	return nil
}

// A publisher's conclusion is named as the publisher's.
func TestBasisIsNamed(t *testing.T) {
	c := safety(t, loaderFixture(t), "2012-06-01", pb.AssessmentView_ASSESSMENT_VIEW_FULL)
	if c.GetStatus() != pb.CriterionStatus_CRITERION_STATUS_NOT_MET || c.GetRiskLevel() != pb.RiskLevel_RISK_LEVEL_GENERAL {
		t.Errorf("status %v at risk level %v, want NOT_MET, GENERAL", c.GetStatus(), c.GetRiskLevel())
	}
	if c.GetBasis() != pb.FindingBasis_FINDING_BASIS_PUBLISHER_CONCLUSION || c.GetConcludedBy() != "Test Publisher" {
		t.Errorf("basis %v by %q, want the publisher's conclusion, by Test Publisher", c.GetBasis(), c.GetConcludedBy())
	}
	if !strings.Contains(c.GetRationale(), "The conclusion is Test Publisher's own.") {
		t.Errorf("rationale does not name the basis: %q", c.GetRationale())
	}
}

// A risk only in individual circumstances leaves the criterion to the
// person: not NOT_MET, not a silent INDETERMINATE, but the circumstances
// named, with their evidence in the full view only.
func TestIndividualCircumstancesAreNamed(t *testing.T) {
	snap := loaderFixture(t,
		edit{"findings/bb-safety-group.yaml", "status: CRITERION_STATUS_NOT_MET", "status: CRITERION_STATUS_INDETERMINATE"},
		edit{"findings/bb-safety-group.yaml", "risk_level: RISK_LEVEL_GENERAL", `risk_level: RISK_LEVEL_INDIVIDUAL_CIRCUMSTANCES
risk_factors:
  - description: visible activism
    evidence:
      - source_id: src-one
        statement: Violence reaches LGBTQI people.
        quote: LGBTQI people face violence
        support: SUPPORT_CONFIRMED`})
	for _, view := range []pb.AssessmentView{pb.AssessmentView_ASSESSMENT_VIEW_FULL, pb.AssessmentView_ASSESSMENT_VIEW_BASIC} {
		c := safety(t, snap, "2012-06-01", view)
		if c.GetStatus() != pb.CriterionStatus_CRITERION_STATUS_INDETERMINATE || c.GetRiskLevel() != pb.RiskLevel_RISK_LEVEL_INDIVIDUAL_CIRCUMSTANCES {
			t.Errorf("%v: status %v at risk level %v, want INDETERMINATE, INDIVIDUAL_CIRCUMSTANCES", view, c.GetStatus(), c.GetRiskLevel())
		}
		if len(c.GetRiskFactors()) != 1 || c.GetRiskFactors()[0].GetDescription() != "visible activism" {
			t.Fatalf("%v: risk factors %v, want visible activism", view, c.GetRiskFactors())
		}
		if got, want := len(c.GetRiskFactors()[0].GetEvidence()), map[pb.AssessmentView]int{pb.AssessmentView_ASSESSMENT_VIEW_FULL: 1}[view]; got != want {
			t.Errorf("%v: %d evidence items on the factor, want %d", view, got, want)
		}
		if !strings.Contains(c.GetRationale(), "depending on their individual circumstances, not for all: it turns on visible activism") {
			t.Errorf("%v: rationale does not name the circumstances: %q", view, c.GetRationale())
		}
	}
}

// Evidence older than the framework allows is flagged on the criterion,
// by the framework's own allowance.
func TestStaleEvidenceByTheFrameworksAllowance(t *testing.T) {
	through := edit{"findings/bb-safety-group.yaml", "reviewed_on:", "evidence_through: \"2012-01-01\"\nreviewed_on:"}
	tests := []struct {
		name, asOf string
		edits      []edit
		stale      bool
	}{
		{name: "within 24 months", asOf: "2013-12-31", edits: []edit{through}},
		{name: "past 24 months", asOf: "2014-01-02", edits: []edit{through}, stale: true},
		{name: "within the framework's 36 months", asOf: "2014-01-02", stale: false,
			edits: []edit{through, {"frameworks/fw-aa.yaml", "agreements_complete_as_of:", "stale_after_months: 36\nagreements_complete_as_of:"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := safety(t, loaderFixture(t, tt.edits...), tt.asOf, pb.AssessmentView_ASSESSMENT_VIEW_FULL)
			if got := c.GetStale() != ""; got != tt.stale {
				t.Errorf("stale = %q, want stale %v", c.GetStale(), tt.stale)
			}
		})
	}
}

// A source contradicted by another is shown with both on the criterion.
func TestConflictsAreShown(t *testing.T) {
	snap := loaderFixture(t, edit{"findings/bb-safety-group.yaml", "    support: SUPPORT_CONFIRMED\n", `    support: SUPPORT_CONFIRMED
    conflicts_with:
      - source_id: src-one
        statement: Beta is safe for most people.
        quote: Beta is safe for most people
        support: SUPPORT_CONFIRMED
`})
	c := safety(t, snap, "2012-06-01", pb.AssessmentView_ASSESSMENT_VIEW_FULL)
	want := "Test Publisher: Not safe for LGBTQI people. But Test Publisher: Beta is safe for most people."
	if len(c.GetConflicts()) != 1 || c.GetConflicts()[0] != want {
		t.Errorf("conflicts = %q, want [%q]", c.GetConflicts(), want)
	}
}

// A criterion decided for the applicant changes the outcome for them, never
// the determination on the country: a link not met leaves the country's
// answer to the criteria on the country.
func TestApplicantCriterionNeverDecides(t *testing.T) {
	snap := loaderFixture(t, edit{"frameworks/fw-aa.yaml", "  - id: safety\n", `  - id: link
    title: A link with the country
    kind: CRITERION_KIND_CONDITION
    condition: applicant.age >= 18
    evidence:
      - source_id: src-one
        statement: Adults only.
        support: SUPPORT_CONFIRMED
  - id: safety
`})
	a, err := assessment.New(snap).AssessCountry(&pb.AssessCountryRequest{
		CountryCode: "BB", FrameworkId: "fw-aa", AsOf: "2012-06-01",
		Applicant: &pb.Applicant{NationalityCode: proto.String("CC"), Age: proto.Int32(10), Groups: []pb.ApplicantGroup{}},
	}, "2026-12-06")
	if err != nil {
		t.Fatal(err)
	}
	var link pb.CriterionStatus
	for _, c := range a.GetCriteria() {
		if c.GetCriterionId() == "link" {
			link = c.GetStatus()
		}
	}
	if link != pb.CriterionStatus_CRITERION_STATUS_NOT_MET {
		t.Fatalf("link = %v, want NOT_MET for a child", link)
	}
	if a.GetDecisiveCriterionId() == "link" || a.GetApplicantOutcome() != pb.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY {
		t.Errorf("decisive %q, outcome %v: want the link to decide the outcome only", a.GetDecisiveCriterionId(), a.GetApplicantOutcome())
	}
	if a.GetDetermination() != pb.Determination_DETERMINATION_QUALIFIES {
		t.Errorf("determination = %v, want QUALIFIES (agreement in force, safe for everyone in 2012)", a.GetDetermination())
	}
}
