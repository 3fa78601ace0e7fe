package assessment_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/data"
	"github.com/safethird/safethird/dataset"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

const today = "2026-11-27"

var loadOnce = sync.OnceValues(func() (*dataset.Snapshot, error) { return dataset.Load(data.FS) })

// engine is shared by the tests, so they also exercise its memo.
func engine(t testing.TB) *assessment.Engine {
	t.Helper()
	snap, err := loadOnce()
	if err != nil {
		t.Fatalf("load embedded dataset: %v", err)
	}
	engineOnce.Do(func() { sharedEngine = assessment.New(snap) })
	return sharedEngine
}

var (
	engineOnce   sync.Once
	sharedEngine *assessment.Engine
)

// Short names keep the tables readable.
const (
	met    = pb.CriterionStatus_CRITERION_STATUS_MET
	notMet = pb.CriterionStatus_CRITERION_STATUS_NOT_MET

	detIndet      = pb.Determination_DETERMINATION_INDETERMINATE
	notApplicable = pb.Determination_DETERMINATION_NOT_APPLICABLE

	doesNotQualify = pb.Determination_DETERMINATION_DOES_NOT_QUALIFY

	mayApply     = pb.ApplicantOutcome_APPLICANT_OUTCOME_BAR_MAY_APPLY
	doesNotApply = pb.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY
)

// adult is an applicant every fact of whom is known: an adult Haitian who
// last lived in Haiti, whose parents are in Haiti, with no family, no
// documents and no visa-free entry anywhere, arriving at a land port on
// 2019-12-01.
func adult() *pb.Applicant {
	return &pb.Applicant{
		NationalityCode:           proto.String("HT"),
		LastHabitualResidenceCode: proto.String("HT"),
		Age:                       proto.Int32(30),
		Married:                   proto.Bool(false),
		ParentOrGuardianCountries: &pb.CountryList{CountryCodes: []string{"HT"}},
		VisaFreeCountries:         &pb.CountryList{},
		Family:                    &pb.FamilyTies{},
		Documents:                 &pb.DocumentsHeld{},
		CapitalCharge:             proto.Bool(false),
		EntryType:                 pb.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(),
		DaysFromCrossingToClaim:   proto.Int32(0),
		EntryDate:                 proto.String("2019-12-01"),
	}
}

func with(a *pb.Applicant, edit func(*pb.Applicant)) *pb.Applicant {
	edit(a)
	return a
}

func statuses(a *pb.Assessment) map[string]pb.CriterionStatus {
	out := map[string]pb.CriterionStatus{}
	for _, c := range a.GetCriteria() {
		out[c.GetCriterionId()] = c.GetStatus()
	}
	return out
}

// Short names for practice statuses.
const (
	applied    = pb.PracticeStatus_PRACTICE_STATUS_APPLIED
	notApplied = pb.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED
)

// onDay returns an adult who first entered the destination on day.
func onDay(day string) *pb.Applicant {
	return with(adult(), func(a *pb.Applicant) { a.EntryDate = proto.String(day) })
}

// honduran is an adult Honduran with every fact known, entering the US
// on day.
func honduran(day string) *pb.Applicant {
	return with(onDay(day), func(a *pb.Applicant) {
		a.NationalityCode, a.LastHabitualResidenceCode = proto.String("HN"), proto.String("HN")
	})
}

// TestAssessCountry checks what the engine does with an answer whatever
// the data: a code in lower case is the code, a bar not applied in
// practice never applies to the person, even where the country does not
// qualify, and every answer carries the revision and the disclaimer. The
// legal facts the answers rest on are checked by the dataset's own
// expectations, data/tests (package expectation).
func TestAssessCountry(t *testing.T) {
	eng := engine(t)
	upper, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}, today)
	if err != nil {
		t.Fatal(err)
	}
	lower, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "mx", AsOf: "2019-01-01"}, today)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(upper, lower, protocmp.Transform()); diff != "" {
		t.Errorf("a code in lower case answers otherwise (-MX +mx):\n%s", diff)
	}
	got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01", Applicant: honduran("2018-12-01")}, today)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetPractice().GetStatus() != notApplied || got.GetApplicantOutcome() != doesNotApply {
		t.Errorf("practice %v, outcome %v: a bar not applied does not apply to the person", got.GetPractice().GetStatus(), got.GetApplicantOutcome())
	}
	for _, a := range []*pb.Assessment{upper, got} {
		if a.GetDatasetRevision() != eng.Snapshot().Revision() {
			t.Errorf("dataset_revision = %q, want %q", a.GetDatasetRevision(), eng.Snapshot().Revision())
		}
		if !strings.Contains(a.GetSummary(), assessment.Disclaimer) {
			t.Errorf("summary lacks the disclaimer: %s", a.GetSummary())
		}
	}
}

// TestApplicability checks how an applicability rule shows in the answer:
// an excluding rule with its evidence and NOT_APPLICABLE, unknown facts
// named. Which rule each framework has is checked in data/tests.
func TestApplicability(t *testing.T) {
	eng := engine(t)
	tests := []struct {
		name      string
		give      *pb.AssessCountryRequest
		want      pb.ApplicabilityStatus
		wantRule  string
		wantFacts []string
	}{
		{"INA: the United States itself", &pb.AssessCountryRequest{CountryCode: "US", AsOf: "2024-06-01", Applicant: &pb.Applicant{NationalityCode: proto.String("US")}},
			pb.ApplicabilityStatus_APPLICABILITY_STATUS_EXCLUDED, "destination", nil},
		{"INA: nothing given", &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: &pb.Applicant{}},
			pb.ApplicabilityStatus_APPLICABILITY_STATUS_NEEDS_FACTS, "", []string{"last_habitual_residence_code", "nationality_code", "stateless"}},
		{"INA: no applicant, a country that is not the destination", &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01"},
			pb.ApplicabilityStatus_APPLICABILITY_STATUS_REACHES, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eng.AssessCountry(tt.give, today)
			if err != nil {
				t.Fatal(err)
			}
			ap := got.GetApplicability()
			if ap.GetStatus() != tt.want || ap.GetRuleId() != tt.wantRule {
				t.Errorf("applicability = %v (rule %q), want %v (rule %q): %s", ap.GetStatus(), ap.GetRuleId(), tt.want, tt.wantRule, ap.GetReason())
			}
			if diff := cmp.Diff(tt.wantFacts, ap.GetMissingFacts()); diff != "" {
				t.Errorf("missing facts (-want +got):\n%s", diff)
			}
			if tt.want == pb.ApplicabilityStatus_APPLICABILITY_STATUS_EXCLUDED {
				if got.GetDetermination() != notApplicable {
					t.Errorf("determination = %v, want NOT_APPLICABLE", got.GetDetermination())
				}
				if len(ap.GetEvidence()) == 0 {
					t.Error("an excluding rule is shown with its evidence")
				}
			}
		})
	}
}

// TestTwoAnswersInTheSummary checks the order the summary gives the two
// answers in when the bar is applied to a country that does not qualify.
func TestTwoAnswersInTheSummary(t *testing.T) {
	got, err := engine(t).AssessCountry(&pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2020-01-01", Applicant: honduran("2019-12-01")}, today)
	if err != nil {
		t.Fatal(err)
	}
	s := got.GetSummary()
	order := []string{"In practice: The bar was applied to removals to Guatemala", "On the evidence: Guatemala does not qualify",
		"Access to a full and fair procedure (not met)", "is a ground to contest it", "For this applicant"}
	at := 0
	for _, want := range order {
		i := strings.Index(s[at:], want)
		if i < 0 {
			t.Fatalf("summary lacks %q after position %d:\n%s", want, at, s)
		}
		at += i
	}
	if strings.Contains(s, "because the country does not qualify") {
		t.Errorf("the outcome must never follow from the determination:\n%s", s)
	}
}

func TestPremiseStated(t *testing.T) {
	eng := engine(t)
	got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: adult()}, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.GetPremises()) != 1 || !strings.Contains(got.GetSummary(), "taken to be the country of last presence") {
		t.Errorf("premises %q; the summary must state the last-presence premise:\n%s", got.GetPremises(), got.GetSummary())
	}
	route, err := eng.AssessRoute(&pb.AssessRouteRequest{Legs: legs("CA"), AsOf: "2024-06-01", Applicant: adult()}, today)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range route.GetAssessments() {
		if len(a.GetPremises()) != 0 {
			t.Errorf("%s: a route decides the country of last presence, so no premise is taken: %q", a.GetCountryCode(), a.GetPremises())
		}
	}
}

func TestHindsightAndStaleness(t *testing.T) {
	eng := engine(t)
	gt, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2020-01-01"}, today)
	if err != nil {
		t.Fatal(err)
	}
	if !slicesContainsSubstring(gt.GetWarnings(), "Hindsight: Deportation with a Layover (hrw-ri-deportation-with-a-layover), published 2020-05-19") {
		t.Errorf("a report published after as_of must be flagged as hindsight: %q", gt.GetWarnings())
	}
	mx, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2028-06-01"}, today)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mx.GetSummary(), "describes conditions up to") {
		t.Errorf("the staleness of the decisive evidence belongs in the summary:\n%s", mx.GetSummary())
	}
}

func TestGroupFindings(t *testing.T) {
	eng := engine(t)
	none, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}, today)
	if err != nil {
		t.Fatal(err)
	}
	rationale := criterion(t, none, "no-persecution").GetRationale()
	if !strings.Contains(rationale, "LGBTQI") {
		t.Errorf("without an applicant, the rationale should name the group findings: %s", rationale)
	}
	lgbtqi, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01",
		Applicant: &pb.Applicant{Groups: []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_LGBTQI}}}, today)
	if err != nil {
		t.Fatal(err)
	}
	general := criterion(t, none, "no-persecution").GetFindingIds()
	withGroup := criterion(t, lgbtqi, "no-persecution").GetFindingIds()
	if len(withGroup) != len(general)+1 {
		t.Errorf("an LGBTQI applicant should add one group finding: general %v, with group %v", general, withGroup)
	}
}

func criterion(t *testing.T, a *pb.Assessment, id string) *pb.CriterionResult {
	t.Helper()
	for _, c := range a.GetCriteria() {
		if c.GetCriterionId() == id {
			return c
		}
	}
	t.Fatalf("no criterion %s", id)
	return nil
}

func TestWarnings(t *testing.T) {
	eng := engine(t)
	tests := []struct {
		name string
		give *pb.AssessCountryRequest
		want string
	}{
		{"stale evidence", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2028-06-01"}, "conditions may have changed"},
		{"past the completeness date", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2100-01-01"}, "known to be complete only up to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eng.AssessCountry(tt.give, today)
			if err != nil {
				t.Fatal(err)
			}
			if !slicesContainsSubstring(got.GetWarnings(), tt.want) {
				t.Errorf("warnings %q lack %q", got.GetWarnings(), tt.want)
			}
		})
	}
}

func slicesContainsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestViews(t *testing.T) {
	eng := engine(t)
	full, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.GetSources()) == 0 || len(criterion(t, full, "no-persecution").GetEvidence()) == 0 {
		t.Error("FULL view (the default) should carry evidence and sources")
	}
	for i := 1; i < len(full.GetSources()); i++ {
		if full.GetSources()[i-1].GetId() >= full.GetSources()[i].GetId() {
			t.Errorf("sources not ordered by id at %d", i)
		}
	}
	cited := map[string]bool{}
	for _, s := range full.GetSources() {
		cited[s.GetId()] = true
	}
	for _, c := range full.GetCriteria() {
		for _, e := range c.GetEvidence() {
			if !cited[e.GetSourceId()] {
				t.Errorf("evidence cites %s, which is not in sources", e.GetSourceId())
			}
		}
	}
	basic, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01", View: pb.AssessmentView_ASSESSMENT_VIEW_BASIC}, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(basic.GetSources()) != 0 {
		t.Error("BASIC view should leave out sources")
	}
	for _, c := range basic.GetCriteria() {
		if len(c.GetEvidence()) != 0 {
			t.Errorf("BASIC view should leave out evidence (criterion %s)", c.GetCriterionId())
		}
	}
	if basic.GetSummary() != full.GetSummary() || basic.GetDetermination() != full.GetDetermination() {
		t.Error("the view should change only evidence and sources")
	}
}

func TestDefaults(t *testing.T) {
	got, err := engine(t).AssessCountry(&pb.AssessCountryRequest{CountryCode: "MX"}, today)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetAsOf() != today || got.GetFrameworkId() != assessment.DefaultFramework {
		t.Errorf("as_of, framework_id = %q, %q; want %q, %q", got.GetAsOf(), got.GetFrameworkId(), today, assessment.DefaultFramework)
	}
}

func TestDeterministic(t *testing.T) {
	eng := engine(t)
	req := &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: adult()}
	opts := proto.MarshalOptions{Deterministic: true}
	first, err := eng.AssessCountry(req, today)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := opts.Marshal(first)
	for range 20 {
		again, err := eng.AssessCountry(req, today)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := opts.Marshal(again)
		if string(got) != string(want) {
			t.Fatal("the same request gave two different answers")
		}
	}
}

func TestAssessCountryRejects(t *testing.T) {
	eng := engine(t)
	canary := "ZQ" // not an assigned code: must never be echoed from an applicant field
	tests := []struct {
		name      string
		give      *pb.AssessCountryRequest
		wantField string
	}{
		{"missing country", &pb.AssessCountryRequest{}, "country_code"},
		{"alpha-3 code", &pb.AssessCountryRequest{CountryCode: "MEX"}, "country_code"},
		{"unassigned code", &pb.AssessCountryRequest{CountryCode: "ZZ"}, "country_code"},
		{"impossible date", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2023-02-30"}, "as_of"},
		{"date out of range", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "0001-01-01"}, "as_of"},
		{"wrong date format", &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "01/02/2023"}, "as_of"},
		{"unknown view", &pb.AssessCountryRequest{CountryCode: "MX", View: 9}, "view"},
		{"bad nationality", &pb.AssessCountryRequest{CountryCode: "MX", Applicant: &pb.Applicant{NationalityCode: proto.String(canary)}}, "applicant.nationality_code"},
		{"negative age", &pb.AssessCountryRequest{CountryCode: "MX", Applicant: &pb.Applicant{Age: proto.Int32(-1)}}, "applicant.age"},
		{"unknown group", &pb.AssessCountryRequest{CountryCode: "MX", Applicant: &pb.Applicant{Groups: []pb.ApplicantGroup{99}}}, "applicant.groups[0]"},
		{"unspecified relationship", &pb.AssessCountryRequest{CountryCode: "MX", Applicant: &pb.Applicant{Family: &pb.FamilyTies{Members: []*pb.FamilyMember{{Status: pb.FamilyStatus_FAMILY_STATUS_CITIZEN}}}}}, "applicant.family.members[0].relationship"},
		{"unknown document", &pb.AssessCountryRequest{CountryCode: "MX", Applicant: &pb.Applicant{Documents: &pb.DocumentsHeld{Kinds: []pb.DocumentKind{0}}}}, "applicant.documents.kinds[0]"},
		{"unknown entry type", &pb.AssessCountryRequest{CountryCode: "MX", Applicant: &pb.Applicant{EntryType: pb.EntryType(42).Enum()}}, "applicant.entry_type"},
		{"negative days", &pb.AssessCountryRequest{CountryCode: "MX", Applicant: &pb.Applicant{DaysFromCrossingToClaim: proto.Int32(-3)}}, "applicant.days_from_crossing_to_claim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eng.AssessCountry(tt.give, today)
			var ia *assessment.InvalidArgumentError
			if !errors.As(err, &ia) {
				t.Fatalf("error = %v, want *InvalidArgumentError", err)
			}
			if len(ia.Violations) != 1 || ia.Violations[0].Field != tt.wantField {
				t.Errorf("violations = %+v, want one on %s", ia.Violations, tt.wantField)
			}
			if strings.HasPrefix(tt.wantField, "applicant") && strings.Contains(err.Error(), canary) {
				t.Errorf("error echoes an applicant fact: %v", err)
			}
		})
	}

	_, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "MX", FrameworkId: "xx-none-1"}, today)
	var nf *assessment.NotFoundError
	if !errors.As(err, &nf) || nf.Kind != "framework" || nf.ID != "xx-none-1" {
		t.Errorf("unknown framework: error = %v, want NotFoundError{framework, xx-none-1}", err)
	}
}

// legs makes a route of the countries given.
func legs(codes ...string) []*pb.RouteLeg {
	var out []*pb.RouteLeg
	for _, c := range codes {
		out = append(out, &pb.RouteLeg{CountryCode: c})
	}
	return out
}

// TestAssessRoute checks a route's refusals; which countries a route makes
// relevant, and their outcomes, are in data/tests/routes.yaml.
func TestAssessRoute(t *testing.T) {
	eng := engine(t)
	_, err := eng.AssessRoute(&pb.AssessRouteRequest{Legs: legs(strings.Split(strings.Repeat("MX,", assessment.MaxRouteLegs+1), ",")[:assessment.MaxRouteLegs+1]...)}, today)
	var ia *assessment.InvalidArgumentError
	if !errors.As(err, &ia) || !ia.TooMany {
		t.Errorf("too many legs: error = %v, want a TooMany InvalidArgumentError", err)
	}
	_, err = eng.AssessRoute(&pb.AssessRouteRequest{}, today)
	if !errors.As(err, &ia) || ia.Violations[0].Field != "legs" {
		t.Errorf("no legs: error = %v, want a violation on legs", err)
	}
}

func TestBatchAssessCountries(t *testing.T) {
	eng := engine(t)
	current := func(rev string) (*assessment.Engine, error) {
		if rev != "" && rev != eng.Snapshot().Revision() {
			return nil, errors.New("revision not held")
		}
		return eng, nil
	}
	got, err := assessment.BatchAssessCountries(current, &pb.BatchAssessCountriesRequest{Requests: []*pb.AssessCountryRequest{
		{CountryCode: "MX", AsOf: "2019-01-01"},
		{CountryCode: "XXX"},
		{CountryCode: "CA", AsOf: "2024-01-01", DatasetRevision: "sha256:00"},
		{CountryCode: "CA", AsOf: "2024-01-01"},
	}}, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d results, want 4", len(got))
	}
	if got[0].Assessment.GetCountryCode() != "MX" || got[3].Assessment.GetCountryCode() != "CA" {
		t.Error("results are not in request order")
	}
	var ia *assessment.InvalidArgumentError
	if !errors.As(got[1].Err, &ia) {
		t.Errorf("item 1 error = %v, want InvalidArgumentError", got[1].Err)
	}
	if got[2].Err == nil {
		t.Error("item 2 pins a revision not held and should fail on its own")
	}

	many := &pb.BatchAssessCountriesRequest{}
	for range assessment.MaxBatchItems + 1 {
		many.Requests = append(many.Requests, &pb.AssessCountryRequest{CountryCode: "MX"})
	}
	if _, err := assessment.BatchAssessCountries(current, many, today); !errors.As(err, &ia) || !ia.TooMany {
		t.Errorf("101 items: error = %v, want a TooMany InvalidArgumentError", err)
	}
}

// TestMemoNeverChangesSharedAnswers checks that the views and applicants
// that reuse memoized criteria leave the shared messages as they were.
func TestMemoNeverChangesSharedAnswers(t *testing.T) {
	eng := assessment.New(engine(t).Snapshot())
	req := &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}
	first, err := eng.AssessCountry(req, today)
	if err != nil {
		t.Fatal(err)
	}
	want := proto.Clone(first)
	for _, r := range []*pb.AssessCountryRequest{
		{CountryCode: "MX", AsOf: "2019-01-01", View: pb.AssessmentView_ASSESSMENT_VIEW_BASIC},
		{CountryCode: "MX", AsOf: "2019-01-01", Applicant: onDay("2018-12-01")},
		{CountryCode: "MX", AsOf: "2019-01-01", Applicant: &pb.Applicant{Groups: []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_INDIGENOUS}}},
		{CountryCode: "MX", AsOf: "2019-01-01", Applicant: onDay("2018-12-01"), View: pb.AssessmentView_ASSESSMENT_VIEW_BASIC},
	} {
		if _, err := eng.AssessCountry(r, today); err != nil {
			t.Fatal(err)
		}
	}
	again, err := eng.AssessCountry(req, today)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, again, protocmp.Transform()); diff != "" {
		t.Errorf("the memoized answer changed (-want +got):\n%s", diff)
	}
	fresh, err := assessment.New(engine(t).Snapshot()).AssessCountry(req, today)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fresh, again, protocmp.Transform()); diff != "" {
		t.Errorf("a memoized answer differs from a fresh one (-fresh +memo):\n%s", diff)
	}
}

// TestEngineConcurrent drives one Engine from many goroutines (run with
// -race): memoized answers, AssessCountry's and a route's, shared by the
// calls that read them, must equal those of a fresh Engine.
func TestEngineConcurrent(t *testing.T) {
	snap := engine(t).Snapshot()
	shared := assessment.New(snap)
	reqs := []*pb.AssessCountryRequest{
		{CountryCode: "MX", AsOf: "2019-01-01"},
		{CountryCode: "MX", AsOf: "2019-01-01", View: pb.AssessmentView_ASSESSMENT_VIEW_BASIC},
		{CountryCode: "CA", AsOf: "2024-01-01", Applicant: adult()},
		{CountryCode: "GT", AsOf: "2020-01-15"},
	}
	route := &pb.AssessRouteRequest{AsOf: "2024-01-01", Applicant: adult(),
		Legs: []*pb.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}}}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(reqs))
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if (g+i)%5 == 0 {
					got, err := shared.AssessRoute(route, today)
					if err != nil {
						errs <- err.Error()
						return
					}
					if want, _ := assessment.New(snap).AssessRoute(route, today); !proto.Equal(want, got) {
						errs <- "a memoized route differs from a fresh one"
						return
					}
					continue
				}
				req := reqs[(g+i)%len(reqs)]
				got, err := shared.AssessCountry(req, today)
				if err != nil {
					errs <- err.Error()
					return
				}
				want, _ := assessment.New(snap).AssessCountry(req, today)
				if !proto.Equal(want, got) {
					errs <- "a memoized answer differs from a fresh one for " + req.GetCountryCode()
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestPartnerEvidence2026 checks that each 2025 partner's answer on
// 2026-06-01 shows the findings it relied on, with their evidence, and a
// finding on nationals of some countries decides for them. (A group
// finding for members of the group only: data/tests/findings.yaml.)
func TestPartnerEvidence2026(t *testing.T) {
	eng := engine(t)
	for _, code := range []string{"HN", "UG", "PY", "EC"} {
		got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: code, AsOf: "2026-06-01"}, today)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"no-persecution", "fair-procedure"} {
			c := criterion(t, got, id)
			if len(c.GetFindingIds()) == 0 || len(c.GetEvidence()) == 0 {
				t.Errorf("%s %s: no finding or evidence shown: %s", code, id, c.GetRationale())
			}
		}
	}
	eritrean, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "UG", AsOf: "2026-06-01",
		Applicant: with(onDay("2026-01-15"), func(a *pb.Applicant) { a.NationalityCode = proto.String("ER") })}, today)
	if err != nil {
		t.Fatal(err)
	}
	if s := statuses(eritrean)["fair-procedure"]; s != notMet {
		t.Errorf("an Eritrean facing Uganda's closed registration: fair-procedure = %v, want NOT_MET", s)
	}
}

// unaccompaniedMinor is a 15-year-old travelling alone, with the facts of
// a link to other countries as ties: nil leaves them unknown.
func unaccompaniedMinor(ties *pb.CountryList) *pb.Applicant {
	return &pb.Applicant{Age: proto.Int32(15), Accompanied: proto.Bool(false),
		CountriesCrossed: ties, FamilyCountries: ties, PreviousStayCountries: ties}
}

// TestEuropeAndUK checks what the engine does with a framework several
// states apply: a criterion on the applicant never decides the
// determination, the applying state is echoed, and a call without it, or
// with one where a single state applies the framework, is refused. The
// frameworks' dates and designations are in data/tests/eu-uk.yaml.
func TestEuropeAndUK(t *testing.T) {
	eng := engine(t)
	got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "TR", FrameworkId: "eu-apr-59", ApplyingStateCode: "GR", AsOf: "2026-07-01",
		Applicant: unaccompaniedMinor(&pb.CountryList{})}, today)
	if err != nil {
		t.Fatal(err)
	}
	// The link is about the applicant, not the country: it never decides
	// whether Türkiye meets the statute (TestApplicantCriterionNeverDecides
	// shows it with a link not met).
	if strings.Contains(got.GetSummary(), "Decisive: Connection, transit") {
		t.Errorf("the link decides the determination:\n%s", got.GetSummary())
	}
	if got.GetApplyingStateCode() != "GR" {
		t.Errorf("applying_state_code = %q, want GR echoed", got.GetApplyingStateCode())
	}

	for _, tt := range []struct {
		name string
		give *pb.AssessCountryRequest
	}{
		{"an EU framework without the applying state", &pb.AssessCountryRequest{CountryCode: "TR", FrameworkId: "eu-apr-59", AsOf: "2026-07-01"}},
		{"the applying state not a country code", &pb.AssessCountryRequest{CountryCode: "TR", FrameworkId: "eu-apd-38", ApplyingStateCode: "GRC"}},
		{"an applying state for a framework one state applies", &pb.AssessCountryRequest{CountryCode: "TR", FrameworkId: "uk-niaa-80b", ApplyingStateCode: "GR"}},
	} {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			_, err := eng.AssessCountry(tt.give, today)
			var ia *assessment.InvalidArgumentError
			if !errors.As(err, &ia) || len(ia.Violations) != 1 || ia.Violations[0].Field != "applying_state_code" {
				t.Errorf("error = %v, want one violation on applying_state_code", err)
			}
		})
	}
	_, err = eng.AssessRoute(&pb.AssessRouteRequest{Legs: legs("TR"), FrameworkId: "eu-apd-38"}, today)
	var ia *assessment.InvalidArgumentError
	if !errors.As(err, &ia) || len(ia.Violations) != 1 || ia.Violations[0].Field != "applying_state_code" {
		t.Errorf("AssessRoute without the applying state: error = %v, want one violation on applying_state_code", err)
	}
}

// TestDeprecatedFactsWarned: a deprecated fact is not read, and the answer
// says so, naming the field or value and what replaces it, in both views.
func TestDeprecatedFactsWarned(t *testing.T) {
	eng := engine(t)
	for _, view := range []pb.AssessmentView{pb.AssessmentView_ASSESSMENT_VIEW_BASIC, pb.AssessmentView_ASSESSMENT_VIEW_FULL} {
		got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", View: view,
			Applicant: with(adult(), func(a *pb.Applicant) {
				a.ParentOrGuardianPresent = proto.Bool(false)
				a.Documents = &pb.DocumentsHeld{Kinds: []pb.DocumentKind{pb.DocumentKind_DOCUMENT_KIND_VISA_EXEMPT_DESTINATION_ONLY}}
			})}, today)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"The applicant fact parent_or_guardian_present is deprecated and no longer read; give parent_or_guardian_countries instead.",
			"The applicant fact DOCUMENT_KIND_VISA_EXEMPT_DESTINATION_ONLY is deprecated and no longer read; give visa_free_countries instead.",
		} {
			if !slices.Contains(got.GetWarnings(), want) {
				t.Errorf("%v: warnings %q lack %q", view, got.GetWarnings(), want)
			}
		}
		// Not read: the deprecated document kind excepts no one under s.159.5(g).
		if got.GetApplicantOutcome() != mayApply {
			t.Errorf("%v: outcome %v, want %v: a deprecated fact must not be read", view, got.GetApplicantOutcome(), mayApply)
		}
	}
	plain, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: adult()}, today)
	if err != nil {
		t.Fatal(err)
	}
	if slicesContainsSubstring(plain.GetWarnings(), "deprecated") {
		t.Errorf("an applicant without deprecated facts is warned: %q", plain.GetWarnings())
	}
}
