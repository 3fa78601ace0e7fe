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
	met           = pb.CriterionStatus_CRITERION_STATUS_MET
	notMet        = pb.CriterionStatus_CRITERION_STATUS_NOT_MET
	indeterminate = pb.CriterionStatus_CRITERION_STATUS_INDETERMINATE

	qualifies      = pb.Determination_DETERMINATION_QUALIFIES
	doesNotQualify = pb.Determination_DETERMINATION_DOES_NOT_QUALIFY
	detIndet       = pb.Determination_DETERMINATION_INDETERMINATE
	notApplicable  = pb.Determination_DETERMINATION_NOT_APPLICABLE

	practiceNotApplicable = pb.PracticeStatus_PRACTICE_STATUS_NOT_APPLICABLE

	mayApply     = pb.ApplicantOutcome_APPLICANT_OUTCOME_BAR_MAY_APPLY
	doesNotApply = pb.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY
	needsFacts   = pb.ApplicantOutcome_APPLICANT_OUTCOME_NEEDS_FACTS
	outIndet     = pb.ApplicantOutcome_APPLICANT_OUTCOME_INDETERMINATE
	noApplicant  = pb.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED
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

func exceptionStatuses(a *pb.Assessment) map[string]pb.ExceptionStatus {
	out := map[string]pb.ExceptionStatus{}
	for _, x := range a.GetExceptions() {
		out[x.GetExceptionId()] = x.GetStatus()
	}
	return out
}

// Short names for practice statuses.
const (
	applied      = pb.PracticeStatus_PRACTICE_STATUS_APPLIED
	notApplied   = pb.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED
	paused       = pb.PracticeStatus_PRACTICE_STATUS_PAUSED
	practiceIndt = pb.PracticeStatus_PRACTICE_STATUS_INDETERMINATE
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

func TestAssessCountry(t *testing.T) {
	eng := engine(t)
	tests := []struct {
		name           string
		give           *pb.AssessCountryRequest
		want           pb.Determination
		wantCriteria   map[string]pb.CriterionStatus
		wantAgreement  string
		wantPractice   pb.PracticeStatus
		wantOutcome    pb.ApplicantOutcome
		wantExceptions map[string]pb.ExceptionStatus
		wantScope      pb.ScopeStatus
	}{
		{
			name:         "Mexico 2019: no agreement, persecution and procedure findings; the bar is not applied",
			give:         &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"},
			want:         doesNotQualify,
			wantCriteria: map[string]pb.CriterionStatus{"agreement": notMet, "no-persecution": notMet, "fair-procedure": notMet},
			wantPractice: notApplied,
		},
		{
			name:         "Mexico 2019 with an applicant: not applied, so the bar does not apply",
			give:         &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01", Applicant: honduran("2018-12-01")},
			want:         doesNotQualify,
			wantPractice: notApplied,
			wantOutcome:  doesNotApply,
		},
		{
			name:         "lower-case code is normalized",
			give:         &pb.AssessCountryRequest{CountryCode: "mx", AsOf: "2019-01-01"},
			want:         doesNotQualify,
			wantCriteria: map[string]pb.CriterionStatus{"agreement": notMet, "no-persecution": notMet, "fair-procedure": notMet},
			wantPractice: notApplied,
		},
		{
			name:         "Canada the day before the STCA entered into force",
			give:         &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2004-12-28"},
			want:         doesNotQualify,
			wantCriteria: map[string]pb.CriterionStatus{"agreement": notMet, "no-persecution": indeterminate, "fair-procedure": indeterminate},
			wantPractice: notApplied,
		},
		{
			name:          "Canada from 2004-12-29, no applicant: applied; exceptions need facts",
			give:          &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2004-12-29"},
			want:          qualifies,
			wantCriteria:  map[string]pb.CriterionStatus{"agreement": met, "no-persecution": met, "fair-procedure": met},
			wantAgreement: "ca-us-stca",
			wantPractice:  applied,
			wantOutcome:   noApplicant,
			wantExceptions: map[string]pb.ExceptionStatus{
				"us-family-member":       pb.ExceptionStatus_EXCEPTION_STATUS_NEEDS_FACTS,
				"us-unaccompanied-minor": pb.ExceptionStatus_EXCEPTION_STATUS_NEEDS_FACTS,
				"us-document-holder":     pb.ExceptionStatus_EXCEPTION_STATUS_NEEDS_FACTS,
				"us-public-interest":     pb.ExceptionStatus_EXCEPTION_STATUS_DISCRETIONARY,
			},
		},
		{
			name:          "Canada 2024, adult at a land port with nothing to except them: applied, the bar may apply",
			give:          &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: adult()},
			want:          qualifies,
			wantAgreement: "ca-us-stca",
			wantPractice:  applied,
			wantOutcome:   mayApply,
			wantScope:     pb.ScopeStatus_SCOPE_STATUS_WITHIN,
			wantExceptions: map[string]pb.ExceptionStatus{
				"us-family-member":       pb.ExceptionStatus_EXCEPTION_STATUS_DOES_NOT_APPLY,
				"us-unaccompanied-minor": pb.ExceptionStatus_EXCEPTION_STATUS_DOES_NOT_APPLY,
				"us-document-holder":     pb.ExceptionStatus_EXCEPTION_STATUS_DOES_NOT_APPLY,
				"us-public-interest":     pb.ExceptionStatus_EXCEPTION_STATUS_DISCRETIONARY,
			},
		},
		{
			name: "an unaccompanied minor in transit: the US test is not in the sources, so never 'applies'",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.Age, a.ParentOrGuardianCountries = proto.Int32(16), &pb.CountryList{}
				a.EntryType = pb.EntryType_ENTRY_TYPE_IN_TRANSIT.Enum()
			})},
			want:           qualifies,
			wantAgreement:  "ca-us-stca",
			wantPractice:   applied,
			wantOutcome:    outIndet,
			wantScope:      pb.ScopeStatus_SCOPE_STATUS_WITHIN,
			wantExceptions: map[string]pb.ExceptionStatus{"us-unaccompanied-minor": pb.ExceptionStatus_EXCEPTION_STATUS_TEST_NOT_IN_DATA},
		},
		{
			name: "an adult is no unaccompanied minor under the Agreement's definition",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.ParentOrGuardianCountries = &pb.CountryList{}
			})},
			want:           qualifies,
			wantAgreement:  "ca-us-stca",
			wantPractice:   applied,
			wantOutcome:    mayApply,
			wantExceptions: map[string]pb.ExceptionStatus{"us-unaccompanied-minor": pb.ExceptionStatus_EXCEPTION_STATUS_DOES_NOT_APPLY},
		},
		{
			name: "a family member in the US: the US test is not in the sources",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.Family = &pb.FamilyTies{Members: []*pb.FamilyMember{{Relationship: pb.Relationship_RELATIONSHIP_SIBLING, Status: pb.FamilyStatus_FAMILY_STATUS_CITIZEN}}}
			})},
			want:           qualifies,
			wantAgreement:  "ca-us-stca",
			wantPractice:   applied,
			wantOutcome:    outIndet,
			wantExceptions: map[string]pb.ExceptionStatus{"us-family-member": pb.ExceptionStatus_EXCEPTION_STATUS_TEST_NOT_IN_DATA},
		},
		{
			name: "documents held: the US test is not in the sources",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.Documents = &pb.DocumentsHeld{Kinds: []pb.DocumentKind{pb.DocumentKind_DOCUMENT_KIND_DESTINATION_VISA}}
			})},
			want:           qualifies,
			wantAgreement:  "ca-us-stca",
			wantPractice:   applied,
			wantOutcome:    outIndet,
			wantExceptions: map[string]pb.ExceptionStatus{"us-document-holder": pb.ExceptionStatus_EXCEPTION_STATUS_TEST_NOT_IN_DATA},
		},
		{
			name: "between ports before the 2023 protocol: outside the scope",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2022-06-01", Applicant: with(onDay("2022-05-01"), func(a *pb.Applicant) {
				a.EntryType = pb.EntryType_ENTRY_TYPE_BETWEEN_PORTS.Enum()
			})},
			want:          qualifies,
			wantAgreement: "ca-us-stca",
			wantPractice:  applied,
			wantOutcome:   doesNotApply,
			wantScope:     pb.ScopeStatus_SCOPE_STATUS_OUTSIDE,
		},
		{
			name: "between ports from 2023-03-25, claim within 14 days: within the scope",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2023-03-25", Applicant: with(onDay("2023-03-11"), func(a *pb.Applicant) {
				a.EntryType, a.DaysFromCrossingToClaim = pb.EntryType_ENTRY_TYPE_BETWEEN_PORTS.Enum(), proto.Int32(14)
			})},
			want:          qualifies,
			wantAgreement: "ca-us-stca",
			wantPractice:  applied,
			wantOutcome:   mayApply,
			wantScope:     pb.ScopeStatus_SCOPE_STATUS_WITHIN,
		},
		{
			name: "between ports, claim after 15 days: outside the scope",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.EntryType, a.DaysFromCrossingToClaim = pb.EntryType_ENTRY_TYPE_BETWEEN_PORTS.Enum(), proto.Int32(15)
			})},
			want:          qualifies,
			wantAgreement: "ca-us-stca",
			wantPractice:  applied,
			wantOutcome:   doesNotApply,
			wantScope:     pb.ScopeStatus_SCOPE_STATUS_OUTSIDE,
		},
		{
			name: "between ports, days not given: needs facts",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.EntryType, a.DaysFromCrossingToClaim = pb.EntryType_ENTRY_TYPE_BETWEEN_PORTS.Enum(), nil
			})},
			want:          qualifies,
			wantAgreement: "ca-us-stca",
			wantPractice:  applied,
			wantOutcome:   needsFacts,
			wantScope:     pb.ScopeStatus_SCOPE_STATUS_NEEDS_FACTS,
		},
		{
			name: "airport arrival: outside the scope",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.EntryType = pb.EntryType_ENTRY_TYPE_AIRPORT.Enum()
			})},
			want:          qualifies,
			wantAgreement: "ca-us-stca",
			wantPractice:  applied,
			wantOutcome:   doesNotApply,
			wantScope:     pb.ScopeStatus_SCOPE_STATUS_OUTSIDE,
		},
		{
			name: "nationality not given: the framework's rule needs it",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.NationalityCode = nil
			})},
			want:          qualifies,
			wantAgreement: "ca-us-stca",
			wantPractice:  applied,
			wantOutcome:   needsFacts,
		},
		{
			name:         "the applicant's own country is not applicable",
			give:         &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: &pb.Applicant{NationalityCode: proto.String("CA")}},
			want:         notApplicable,
			wantPractice: practiceNotApplicable,
			wantOutcome:  doesNotApply,
		},
		{
			name: "a stateless person's last habitual residence is not applicable",
			give: &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01", Applicant: &pb.Applicant{
				Stateless: proto.Bool(true), LastHabitualResidenceCode: proto.String("CA")}},
			want:         notApplicable,
			wantPractice: practiceNotApplicable,
			wantOutcome:  doesNotApply,
		},
		{
			name:         "the framework's own jurisdiction is not applicable",
			give:         &pb.AssessCountryRequest{CountryCode: "US", AsOf: "2024-01-01"},
			want:         notApplicable,
			wantPractice: practiceNotApplicable,
		},
		{
			name:          "Guatemala before any transfer: the entry into force cannot be dated",
			give:          &pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2019-10-01"},
			want:          doesNotQualify,
			wantCriteria:  map[string]pb.CriterionStatus{"agreement": indeterminate, "fair-procedure": notMet},
			wantAgreement: "us-gt-aca", // an agreement that may be in force is relied on, so its exceptions show
			wantPractice:  practiceIndt,
		},
		{
			name:          "Guatemala 2020-01-01, entry after 2019-11-19: applied, does not qualify, the bar is not avoided",
			give:          &pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2020-01-01", Applicant: honduran("2019-12-01")},
			want:          doesNotQualify,
			wantCriteria:  map[string]pb.CriterionStatus{"agreement": met, "no-persecution": indeterminate, "fair-procedure": notMet},
			wantAgreement: "us-gt-aca",
			wantPractice:  applied,
			wantOutcome:   outIndet, // within the rule's reach; the rest of the agreement's scope is not in the sources
			wantScope:     pb.ScopeStatus_SCOPE_STATUS_UNKNOWN,
		},
		{
			name:          "Guatemala 2020-01-01, entry before 2019-11-19: outside the rule's prospective scope",
			give:          &pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2020-01-01", Applicant: honduran("2019-10-01")},
			want:          doesNotQualify,
			wantAgreement: "us-gt-aca",
			wantPractice:  applied,
			wantOutcome:   doesNotApply,
			wantScope:     pb.ScopeStatus_SCOPE_STATUS_OUTSIDE,
		},
		{
			name:          "Guatemala 2020-01-01, entry date not given: needs it",
			give:          &pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2020-01-01", Applicant: with(honduran("2019-12-01"), func(a *pb.Applicant) { a.EntryDate = nil })},
			want:          doesNotQualify,
			wantAgreement: "us-gt-aca",
			wantPractice:  applied,
			wantOutcome:   needsFacts,
			wantScope:     pb.ScopeStatus_SCOPE_STATUS_NEEDS_FACTS,
		},
		{
			name:          "Guatemala 2020-06-01: in force, transfers paused",
			give:          &pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2020-06-01", Applicant: honduran("2019-12-01")},
			want:          doesNotQualify,
			wantCriteria:  map[string]pb.CriterionStatus{"agreement": met, "fair-procedure": notMet},
			wantAgreement: "us-gt-aca",
			wantPractice:  paused,
			wantOutcome:   outIndet,
		},
		{
			name:         "Guatemala on the day of the 2021 suspension: not in force, not applied",
			give:         &pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2021-02-06"},
			want:         doesNotQualify,
			wantCriteria: map[string]pb.CriterionStatus{"agreement": notMet},
			wantPractice: notApplied,
		},
		{
			name:         "Guatemala past the list's completeness date, no later record: indeterminate",
			give:         &pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2026-06-01"},
			want:         detIndet,
			wantCriteria: map[string]pb.CriterionStatus{"agreement": indeterminate},
			wantPractice: practiceIndt,
		},
		{
			name:         "El Salvador 2026-06-01, a suspended ACA and no later record: indeterminate, not 'suspended'",
			give:         &pb.AssessCountryRequest{CountryCode: "SV", AsOf: "2026-06-01", Applicant: onDay("2026-01-01")},
			want:         detIndet,
			wantCriteria: map[string]pb.CriterionStatus{"agreement": indeterminate},
			wantPractice: practiceIndt,
			wantOutcome:  outIndet,
		},
		{
			name:          "Honduras in 2020: in force is not dated, but it was never implemented",
			give:          &pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2020-06-01"},
			want:          detIndet,
			wantCriteria:  map[string]pb.CriterionStatus{"agreement": indeterminate, "no-persecution": indeterminate, "fair-procedure": indeterminate},
			wantAgreement: "us-hn-aca",
			wantPractice:  notApplied,
		},
		{
			name:          "Honduras in January 2021: in force by 2020-12-29 but never implemented",
			give:          &pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2021-01-15"},
			want:          detIndet,
			wantCriteria:  map[string]pb.CriterionStatus{"agreement": met, "no-persecution": indeterminate, "fair-procedure": indeterminate},
			wantAgreement: "us-hn-aca",
			wantPractice:  notApplied,
		},
		{
			name: "Honduras in January 2021 with an applicant: never implemented, so the bar does not apply",
			give: &pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2021-01-15", Applicant: onDay("2020-06-01")},
			want: detIndet, wantAgreement: "us-hn-aca", wantPractice: notApplied, wantOutcome: doesNotApply,
			wantScope: pb.ScopeStatus_SCOPE_STATUS_UNKNOWN,
		},
		{
			name:         "a country with no curated data, within the list's completeness: no agreement",
			give:         &pb.AssessCountryRequest{CountryCode: "FR", AsOf: "2020-01-01"},
			want:         doesNotQualify,
			wantCriteria: map[string]pb.CriterionStatus{"agreement": notMet, "no-persecution": indeterminate, "fair-procedure": indeterminate},
			wantPractice: notApplied,
		},
		{
			name:         "a country with no curated data, past the list's completeness: indeterminate",
			give:         &pb.AssessCountryRequest{CountryCode: "FR", AsOf: "2026-06-01"},
			want:         detIndet,
			wantCriteria: map[string]pb.CriterionStatus{"agreement": indeterminate, "no-persecution": indeterminate, "fair-procedure": indeterminate},
			wantPractice: practiceIndt,
		},
		{
			name:          "Canada's framework: the US designated and the STCA in force",
			give:          &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2020-01-01"},
			want:          qualifies,
			wantCriteria:  map[string]pb.CriterionStatus{"designation": met, "agreement": met},
			wantAgreement: "ca-us-stca",
			wantPractice:  applied,
		},
		{
			name: "Canada's framework: a permanent-resident family member in Canada",
			give: &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2020-01-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.Family = &pb.FamilyTies{Members: []*pb.FamilyMember{{Relationship: pb.Relationship_RELATIONSHIP_PARENT, Status: pb.FamilyStatus_FAMILY_STATUS_PERMANENT_RESIDENT}}}
			})},
			want: qualifies, wantAgreement: "ca-us-stca", wantPractice: applied, wantOutcome: doesNotApply,
			wantExceptions: map[string]pb.ExceptionStatus{"ca-family-member": pb.ExceptionStatus_EXCEPTION_STATUS_APPLIES},
		},
		{
			name: "Canada's framework: an unaccompanied minor at a land port, under IRPR s.159.5(e)",
			give: &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.Age, a.ParentOrGuardianCountries = proto.Int32(16), &pb.CountryList{}
			})},
			want: qualifies, wantAgreement: "ca-us-stca", wantPractice: applied, wantOutcome: doesNotApply,
			wantExceptions: map[string]pb.ExceptionStatus{"ca-unaccompanied-minor": pb.ExceptionStatus_EXCEPTION_STATUS_APPLIES},
		},
		{
			name: "Canada's framework: a minor whose parent is in the United States is no unaccompanied minor under s.159.5(e)",
			give: &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.Age, a.ParentOrGuardianCountries = proto.Int32(16), &pb.CountryList{CountryCodes: []string{"US"}}
			})},
			want: qualifies, wantAgreement: "ca-us-stca", wantPractice: applied, wantOutcome: mayApply,
			wantExceptions: map[string]pb.ExceptionStatus{"ca-unaccompanied-minor": pb.ExceptionStatus_EXCEPTION_STATUS_DOES_NOT_APPLY},
		},
		{
			name: "Canada's framework: a minor whose parent is only in Mexico is an unaccompanied minor under s.159.5(e)",
			give: &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.Age, a.ParentOrGuardianCountries = proto.Int32(16), &pb.CountryList{CountryCodes: []string{"MX"}}
			})},
			want: qualifies, wantAgreement: "ca-us-stca", wantPractice: applied, wantOutcome: doesNotApply,
			wantExceptions: map[string]pb.ExceptionStatus{"ca-unaccompanied-minor": pb.ExceptionStatus_EXCEPTION_STATUS_APPLIES},
		},
		{
			name: "Canada's framework: a minor whose parents' countries are unknown needs that fact",
			give: &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.Age, a.ParentOrGuardianCountries = proto.Int32(16), nil
			})},
			want: qualifies, wantAgreement: "ca-us-stca", wantPractice: applied, wantOutcome: needsFacts,
			wantExceptions: map[string]pb.ExceptionStatus{"ca-unaccompanied-minor": pb.ExceptionStatus_EXCEPTION_STATUS_NEEDS_FACTS},
		},
		{
			name: "Canada's framework: visa-free for Canada but not for the United States, under s.159.5(g)",
			give: &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.VisaFreeCountries = &pb.CountryList{CountryCodes: []string{"CA", "MX"}}
			})},
			want: qualifies, wantAgreement: "ca-us-stca", wantPractice: applied, wantOutcome: doesNotApply,
			wantExceptions: map[string]pb.ExceptionStatus{"ca-visa-exempt": pb.ExceptionStatus_EXCEPTION_STATUS_APPLIES},
		},
		{
			name: "Canada's framework: visa-free for both Canada and the United States is not s.159.5(g)",
			give: &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.VisaFreeCountries = &pb.CountryList{CountryCodes: []string{"CA", "US"}}
			})},
			want: qualifies, wantAgreement: "ca-us-stca", wantPractice: applied, wantOutcome: mayApply,
			wantExceptions: map[string]pb.ExceptionStatus{"ca-visa-exempt": pb.ExceptionStatus_EXCEPTION_STATUS_DOES_NOT_APPLY},
		},
		{
			name: "Canada's framework: a capital charge",
			give: &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2020-01-01", Applicant: with(adult(), func(a *pb.Applicant) {
				a.CapitalCharge = proto.Bool(true)
			})},
			want: qualifies, wantAgreement: "ca-us-stca", wantPractice: applied, wantOutcome: doesNotApply,
			wantExceptions: map[string]pb.ExceptionStatus{"ca-public-interest": pb.ExceptionStatus_EXCEPTION_STATUS_APPLIES},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eng.AssessCountry(tt.give, today)
			if err != nil {
				t.Fatalf("AssessCountry: %v", err)
			}
			if got.GetDetermination() != tt.want {
				t.Errorf("determination = %v, want %v\nsummary: %s", got.GetDetermination(), tt.want, got.GetSummary())
			}
			gotCriteria := statuses(got)
			for id, want := range tt.wantCriteria {
				if gotCriteria[id] != want {
					t.Errorf("criterion %s = %v, want %v", id, gotCriteria[id], want)
				}
			}
			if got.GetAgreementId() != tt.wantAgreement {
				t.Errorf("agreement_id = %q, want %q", got.GetAgreementId(), tt.wantAgreement)
			}
			if got.GetPractice().GetStatus() != tt.wantPractice {
				t.Errorf("practice = %v, want %v (%s)", got.GetPractice().GetStatus(), tt.wantPractice, got.GetPractice().GetReason())
			}
			if got.GetApplicantOutcome() != tt.wantOutcome {
				t.Errorf("applicant_outcome = %v, want %v\nsummary: %s", got.GetApplicantOutcome(), tt.wantOutcome, got.GetSummary())
			}
			gotExceptions := exceptionStatuses(got)
			for id, want := range tt.wantExceptions {
				if gotExceptions[id] != want {
					t.Errorf("exception %s = %v, want %v", id, gotExceptions[id], want)
				}
			}
			if tt.wantScope != 0 && got.GetScope().GetStatus() != tt.wantScope {
				t.Errorf("scope = %v, want %v (%s)", got.GetScope().GetStatus(), tt.wantScope, got.GetScope().GetReason())
			}
			if got.GetDatasetRevision() != eng.Snapshot().Revision() {
				t.Errorf("dataset_revision = %q, want %q", got.GetDatasetRevision(), eng.Snapshot().Revision())
			}
			if !strings.Contains(got.GetSummary(), assessment.Disclaimer) {
				t.Errorf("summary lacks the disclaimer: %s", got.GetSummary())
			}
		})
	}
}

// TestApplicability checks that each framework's own rule decides whether
// the bar can reach the person's own country, from its data.
func TestApplicability(t *testing.T) {
	eng := engine(t)
	usNational := &pb.Applicant{NationalityCode: proto.String("US")}
	statelessFormerUS := &pb.Applicant{Stateless: proto.Bool(true), LastHabitualResidenceCode: proto.String("US")}
	tests := []struct {
		name      string
		give      *pb.AssessCountryRequest
		want      pb.ApplicabilityStatus
		wantRule  string
		wantFacts []string
	}{
		{"INA: a US national assessed for Canada", &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: usNational},
			pb.ApplicabilityStatus_APPLICABILITY_STATUS_REACHES, "", nil},
		{"INA: a stateless former US resident assessed for Canada", &pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: statelessFormerUS},
			pb.ApplicabilityStatus_APPLICABILITY_STATUS_REACHES, "", nil},
		{"INA: the United States itself", &pb.AssessCountryRequest{CountryCode: "US", AsOf: "2024-06-01", Applicant: usNational},
			pb.ApplicabilityStatus_APPLICABILITY_STATUS_EXCLUDED, "destination", nil},
		{"IRPA: a US national coming from the US", &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: usNational},
			pb.ApplicabilityStatus_APPLICABILITY_STATUS_EXCLUDED, "nationality", nil},
		{"IRPA: a stateless former US resident (IRPR s.159.2)", &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: statelessFormerUS},
			pb.ApplicabilityStatus_APPLICABILITY_STATUS_EXCLUDED, "former-habitual-residence", nil},
		{"IRPA: a national of a third country whose former residence is not given", &pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01",
			Applicant: &pb.Applicant{NationalityCode: proto.String("HT")}},
			pb.ApplicabilityStatus_APPLICABILITY_STATUS_NEEDS_FACTS, "", []string{"last_habitual_residence_code"}},
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

func TestMissingFactsNamed(t *testing.T) {
	got, err := engine(t).AssessCountry(&pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-01-01"}, today)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range got.GetExceptions() {
		if x.GetExceptionId() == "us-unaccompanied-minor" {
			if diff := cmp.Diff([]string{"age", "married", "parent_or_guardian_countries"}, x.GetMissingFacts()); diff != "" {
				t.Errorf("missing facts (-want +got):\n%s", diff)
			}
			return
		}
	}
	t.Fatal("no us-unaccompanied-minor exception in the answer")
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
		{"paused transfers", &pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2020-06-01"}, "paused"},
		{"never implemented", &pb.AssessCountryRequest{CountryCode: "SV", AsOf: "2021-01-15"}, "never implemented"},
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

func TestAssessRoute(t *testing.T) {
	eng := engine(t)
	tests := []struct {
		name           string
		give           *pb.AssessRouteRequest
		wantCountries  []string
		wantOutcome    pb.ApplicantOutcome
		wantPerCountry map[string]pb.ApplicantOutcome
	}{
		{
			name:          "Canada last: the STCA may bar the claim",
			give:          &pb.AssessRouteRequest{Legs: legs("CA"), AsOf: "2024-01-01", Applicant: adult()},
			wantCountries: []string{"CA", "BZ", "EC", "GT", "HN", "PY", "SV", "UG"},
			wantOutcome:   mayApply,
			// In 2024 the 2019 ACAs were suspended and the 2025 agreements not
			// yet signed.
			wantPerCountry: map[string]pb.ApplicantOutcome{"CA": mayApply, "GT": doesNotApply, "HN": doesNotApply, "SV": doesNotApply, "UG": doesNotApply},
		},
		{
			name:           "Canada crossed but not last: the STCA's last-presence rule rules it out",
			give:           &pb.AssessRouteRequest{Legs: legs("ca", "MX"), AsOf: "2024-01-01", Applicant: adult()},
			wantCountries:  []string{"CA", "MX", "BZ", "EC", "GT", "HN", "PY", "SV", "UG"},
			wantOutcome:    doesNotApply,
			wantPerCountry: map[string]pb.ApplicantOutcome{"CA": doesNotApply, "MX": doesNotApply},
		},
		{
			name:          "Central America in 2020: partners count whether crossed or not",
			give:          &pb.AssessRouteRequest{Legs: legs("GT", "MX"), AsOf: "2020-06-01", Applicant: adult()},
			wantCountries: []string{"GT", "MX", "BZ", "CA", "EC", "HN", "PY", "SV", "UG"},
			wantOutcome:   outIndet,
			// Transfers to Guatemala were paused; the Honduras and El Salvador
			// agreements were never implemented; Canada is not the country of
			// last presence.
			wantPerCountry: map[string]pb.ApplicantOutcome{"GT": outIndet, "MX": doesNotApply, "HN": doesNotApply, "SV": doesNotApply, "CA": doesNotApply},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eng.AssessRoute(tt.give, today)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			per := map[string]pb.ApplicantOutcome{}
			for _, a := range got.GetAssessments() {
				codes = append(codes, a.GetCountryCode())
				per[a.GetCountryCode()] = a.GetApplicantOutcome()
			}
			if diff := cmp.Diff(tt.wantCountries, codes); diff != "" {
				t.Errorf("countries (-want +got):\n%s", diff)
			}
			if got.GetOutcome() != tt.wantOutcome {
				t.Errorf("outcome = %v, want %v\n%s", got.GetOutcome(), tt.wantOutcome, got.GetSummary())
			}
			for c, want := range tt.wantPerCountry {
				if per[c] != want {
					t.Errorf("%s outcome = %v, want %v", c, per[c], want)
				}
			}
		})
	}

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
// -race): memoized answers must equal those of a fresh Engine.
func TestEngineConcurrent(t *testing.T) {
	snap := engine(t).Snapshot()
	shared := assessment.New(snap)
	reqs := []*pb.AssessCountryRequest{
		{CountryCode: "MX", AsOf: "2019-01-01"},
		{CountryCode: "MX", AsOf: "2019-01-01", View: pb.AssessmentView_ASSESSMENT_VIEW_BASIC},
		{CountryCode: "CA", AsOf: "2024-01-01", Applicant: adult()},
		{CountryCode: "GT", AsOf: "2020-01-15"},
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(reqs))
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
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

// TestKnowledgeBase2026 checks the 2025 US agreements and Canada's 2026 law
// against the sources (developments-2022-2026.md): each agreement on dates
// before and after its signature and publication, and windows where the
// sources do not date its entry into force.
func TestKnowledgeBase2026(t *testing.T) {
	eng := engine(t)
	tests := []struct {
		name          string
		give          *pb.AssessCountryRequest
		wantAgreement pb.CriterionStatus
		wantPractice  pb.PracticeStatus
		wantRelied    string
	}{
		{"Honduras 2023: the 2019 ACA suspended, the 2025 agreement not yet signed",
			&pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2023-06-01"}, notMet, notApplied, ""},
		// El Heraldo and La Prensa (2025-12-17), citing the migration institute: in force in
		// Honduras from 2025-06-25 on publication in La Gaceta (secondary).
		{"Honduras 2025-06-24: signed, not yet in force",
			&pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2025-06-24"}, notMet, notApplied, ""},
		{"Honduras 2025-08-01: in force, no transfers reported",
			&pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2025-08-01"}, met, practiceIndt, "us-hn-2025"},
		// A US tracker reports transfers from 2025-10-10; the migration institute reports none
		// registered by 2025-12-17: a conflict, so practice is not decided.
		{"Honduras 2026-06-01: in force, transfers disputed",
			&pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2026-06-01"}, met, practiceIndt, "us-hn-2025"},
		{"Uganda before its signature", &pb.AssessCountryRequest{CountryCode: "UG", AsOf: "2025-07-01"}, notMet, notApplied, ""},
		{"Uganda after signature, before publication", &pb.AssessCountryRequest{CountryCode: "UG", AsOf: "2025-08-15"}, indeterminate, practiceIndt, "us-ug-2025"},
		{"Uganda after publication", &pb.AssessCountryRequest{CountryCode: "UG", AsOf: "2025-10-01"}, indeterminate, practiceIndt, "us-ug-2025"},
		{"Paraguay before its signature", &pb.AssessCountryRequest{CountryCode: "PY", AsOf: "2025-08-01"}, notMet, notApplied, ""},
		// ABC Color (2026-02-20, secondary): the memorandum applied at once, without Congress.
		{"Paraguay after publication", &pb.AssessCountryRequest{CountryCode: "PY", AsOf: "2026-01-10"}, met, practiceIndt, "us-py-2025"},
		{"Ecuador before the notes", &pb.AssessCountryRequest{CountryCode: "EC", AsOf: "2025-07-01"}, notMet, notApplied, ""},
		{"Ecuador after publication", &pb.AssessCountryRequest{CountryCode: "EC", AsOf: "2025-12-01"}, indeterminate, practiceIndt, "us-ec-2025"},
		{"Belize before the Senate's sitting", &pb.AssessCountryRequest{CountryCode: "BZ", AsOf: "2025-11-01"}, notMet, notApplied, ""},
		{"Belize after conflicting reports of the Senate", &pb.AssessCountryRequest{CountryCode: "BZ", AsOf: "2025-12-01"}, indeterminate, practiceIndt, "us-bz-2025"},
		{"Canada's framework 2010: the US designated from 2004-12-29",
			&pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2010-06-01"}, met, applied, "ca-us-stca"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eng.AssessCountry(tt.give, today)
			if err != nil {
				t.Fatal(err)
			}
			if s := statuses(got)["agreement"]; s != tt.wantAgreement {
				t.Errorf("agreement = %v, want %v: %s", s, tt.wantAgreement, criterion(t, got, "agreement").GetRationale())
			}
			if p := got.GetPractice().GetStatus(); p != tt.wantPractice {
				t.Errorf("practice = %v, want %v: %s", p, tt.wantPractice, got.GetPractice().GetReason())
			}
			if got.GetAgreementId() != tt.wantRelied {
				t.Errorf("agreement_id = %q, want %q", got.GetAgreementId(), tt.wantRelied)
			}
		})
	}

	t.Run("Canada 2010: designated and in force, so qualifies", func(t *testing.T) {
		got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2010-06-01"}, today)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetDetermination() != qualifies || statuses(got)["designation"] != met {
			t.Errorf("determination %v, designation %v; want QUALIFIES, MET", got.GetDetermination(), statuses(got)["designation"])
		}
	})

	t.Run("Honduras 2026: the BIA's limit on contesting fair procedure is named", func(t *testing.T) {
		got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2026-06-01", Applicant: onDay("2026-01-15")}, today)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.GetContestLimits()) != 1 || got.GetContestLimits()[0].GetId() != "matter-of-c-i-g-m" {
			t.Fatalf("contest limits = %v, want matter-of-c-i-g-m", got.GetContestLimits())
		}
		if !strings.Contains(got.GetSummary(), "A sourced limit on contesting it: Matter of C-I-G-M-") {
			t.Errorf("the summary must name the limit:\n%s", got.GetSummary())
		}
		before, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2025-10-20"}, today)
		if err != nil {
			t.Fatal(err)
		}
		if len(before.GetContestLimits()) != 0 {
			t.Errorf("before the decision no limit holds: %v", before.GetContestLimits())
		}
	})

	t.Run("Guatemala 2026: the denied 2025 agreement is on record, not recorded as one", func(t *testing.T) {
		got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "GT", AsOf: "2026-06-01"}, today)
		if err != nil {
			t.Fatal(err)
		}
		r := criterion(t, got, "agreement").GetRationale()
		if !strings.Contains(r, "Guatemala's government denied signing") || got.GetAgreementId() != "" {
			t.Errorf("agreement %q; the rationale must carry the denial: %s", got.GetAgreementId(), r)
		}
	})

	t.Run("Canada 2026, between ports with 20 days to claim: outside the STCA, IRPA s.101(1)(b.2) named", func(t *testing.T) {
		got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2026-06-01",
			Applicant: with(onDay("2026-05-12"), func(a *pb.Applicant) {
				a.EntryType, a.DaysFromCrossingToClaim = pb.EntryType_ENTRY_TYPE_BETWEEN_PORTS.Enum(), proto.Int32(20)
			})}, today)
		if err != nil {
			t.Fatal(err)
		}
		if got.GetScope().GetStatus() != pb.ScopeStatus_SCOPE_STATUS_OUTSIDE || got.GetApplicantOutcome() != doesNotApply {
			t.Errorf("scope %v, outcome %v; want OUTSIDE, BAR_DOES_NOT_APPLY", got.GetScope().GetStatus(), got.GetApplicantOutcome())
		}
		bars := map[string]pb.OtherBarStatus{}
		for _, b := range got.GetOtherBars() {
			bars[b.GetBarId()] = b.GetStatus()
		}
		if diff := cmp.Diff(map[string]pb.OtherBarStatus{"irpa-101-1-b-2": pb.OtherBarStatus_OTHER_BAR_STATUS_APPLIES}, bars); diff != "" {
			t.Errorf("other bars (-want +got):\n%s", diff)
		}
		if !strings.Contains(got.GetSummary(), "IRPA s.101(1)(b.2)") {
			t.Errorf("the summary must name s.101(1)(b.2):\n%s", got.GetSummary())
		}
	})

	t.Run("Canada: the one-year bar, and its facts when missing", func(t *testing.T) {
		late, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2026-06-01", Applicant: onDay("2024-01-10")}, today)
		if err != nil {
			t.Fatal(err)
		}
		unknown, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2026-06-01",
			Applicant: with(adult(), func(a *pb.Applicant) { a.EntryDate = nil })}, today)
		if err != nil {
			t.Fatal(err)
		}
		before, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2025-05-01", Applicant: onDay("2023-01-10")}, today)
		if err != nil {
			t.Fatal(err)
		}
		status := func(a *pb.Assessment, id string) pb.OtherBarStatus {
			for _, b := range a.GetOtherBars() {
				if b.GetBarId() == id {
					return b.GetStatus()
				}
			}
			return pb.OtherBarStatus_OTHER_BAR_STATUS_UNSPECIFIED
		}
		if s := status(late, "irpa-101-1-b-1"); s != pb.OtherBarStatus_OTHER_BAR_STATUS_APPLIES {
			t.Errorf("a claim over a year after a 2024 entry: one-year bar = %v, want APPLIES", s)
		}
		if s := status(unknown, "irpa-101-1-b-1"); s != pb.OtherBarStatus_OTHER_BAR_STATUS_NEEDS_FACTS {
			t.Errorf("entry date not given: one-year bar = %v, want NEEDS_FACTS", s)
		}
		if s := status(before, "irpa-101-1-b-1"); s != pb.OtherBarStatus_OTHER_BAR_STATUS_UNSPECIFIED {
			t.Errorf("a claim before 2025-06-03: one-year bar = %v, want none named", s)
		}
	})
}

// TestPartnerEvidence2026 checks the findings for the 2025 partners: a
// group finding decides no-persecution for a member of a group the law
// criminalises, and not for someone outside it; each partner's answer on
// 2026-06-01 shows the findings it relied on.
func TestPartnerEvidence2026(t *testing.T) {
	eng := engine(t)
	lgbtqi := with(onDay("2026-01-15"), func(a *pb.Applicant) { a.Groups = []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_LGBTQI} })
	other := onDay("2026-01-15")
	for _, tt := range []struct {
		name string
		give *pb.Applicant
		want pb.CriterionStatus
	}{
		{"an LGBTQI applicant facing Uganda's Anti-Homosexuality Act", lgbtqi, notMet},
		{"an applicant outside the group", other, indeterminate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "UG", AsOf: "2026-06-01", Applicant: tt.give}, today)
			if err != nil {
				t.Fatal(err)
			}
			c := criterion(t, got, "no-persecution")
			if c.GetStatus() != tt.want {
				t.Errorf("no-persecution = %v, want %v: %s", c.GetStatus(), tt.want, c.GetRationale())
			}
			lgbtqiFinding := slicesContainsSubstring(c.GetFindingIds(), "ug-no-persecution-lgbtqi")
			if lgbtqiFinding != (tt.want == notMet) {
				t.Errorf("finding ids %v: the LGBTQI finding must decide it for a member only", c.GetFindingIds())
			}
		})
	}
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

// TestEuropeAndUK checks the EU and UK frameworks against their sources:
// when each applies, the applying state's designations, the Regulation's
// link requirement for an unaccompanied minor, and the refusals.
func TestEuropeAndUK(t *testing.T) {
	eng := engine(t)
	ask := func(country, framework, applyingState, asOf string) *pb.AssessCountryRequest {
		return &pb.AssessCountryRequest{CountryCode: country, FrameworkId: framework, ApplyingStateCode: applyingState, AsOf: asOf}
	}
	tests := []struct {
		name              string
		give              *pb.AssessCountryRequest
		wantDetermination pb.Determination
		wantRule          string // the applicability rule that excluded it
		wantPractice      pb.PracticeStatus
		wantReason        string // in the practice's reason
	}{
		{"Directive: Greece's designation of Türkiye in force in 2022, its application not sourced", ask("TR", "eu-apd-38", "GR", "2022-01-01"), detIndet, "", practiceIndt, "Joint Ministerial Decision 42799/2021"},
		{"Directive: after the Council of State's annulment of 2025-03-21", ask("TR", "eu-apd-38", "GR", "2025-03-25"), detIndet, "", notApplied, "cannot reject applications as inadmissible"},
		{"Directive: the re-designation of 2025-04-09", ask("TR", "eu-apd-38", "GR", "2026-01-01"), detIndet, "", practiceIndt, "re-designated"},
		{"Directive: Greece's designation does not count for Spain", ask("TR", "eu-apd-38", "ES", "2022-01-01"), detIndet, "", practiceIndt, "holds no agreement or designation"},
		{"Directive: repealed from 2026-06-12", ask("TR", "eu-apd-38", "GR", "2026-06-12"), notApplicable, "repealed", practiceNotApplicable, "does not arise"},
		{"Directive: the applying state is not a third country", ask("GR", "eu-apd-38", "GR", "2022-01-01"), notApplicable, "destination", practiceNotApplicable, "does not arise"},
		{"Regulation: not before 2026-06-12", ask("TR", "eu-apr-59", "GR", "2026-06-11"), notApplicable, "not-yet-applicable", practiceNotApplicable, "does not arise"},
		{"Regulation: from 2026-06-12, no designation under it recorded", ask("TR", "eu-apr-59", "GR", "2026-06-12"), detIndet, "", practiceIndt, "records no designation"},
		{"UK: claims before 2022-06-28", ask("RW", "uk-niaa-80b", "", "2022-06-27"), notApplicable, "claims-before-2022-06-28", practiceNotApplicable, "does not arise"},
		{"UK: the Safety of Rwanda Act in force", ask("RW", "uk-niaa-80b", "", "2024-06-01"), detIndet, "", practiceIndt, "Safety of Rwanda (Asylum and Immigration) Act 2024"},
		{"UK: before the Act, s.80B needs no designation, so its absence decides nothing", ask("RW", "uk-niaa-80b", "", "2023-01-01"), detIndet, "", practiceIndt, "applies without a designation"},
		{"UK: after the repeal of 2025-12-02", ask("RW", "uk-niaa-80b", "", "2026-01-01"), detIndet, "", practiceIndt, "repealed the Act"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eng.AssessCountry(tt.give, today)
			if err != nil {
				t.Fatal(err)
			}
			if got.GetDetermination() != tt.wantDetermination {
				t.Errorf("determination = %v, want %v: %s", got.GetDetermination(), tt.wantDetermination, got.GetSummary())
			}
			if r := got.GetApplicability().GetRuleId(); tt.wantRule != "" && r != tt.wantRule {
				t.Errorf("applicability rule = %q, want %q", r, tt.wantRule)
			}
			if p := got.GetPractice(); p.GetStatus() != tt.wantPractice || !strings.Contains(p.GetReason(), tt.wantReason) {
				t.Errorf("practice = %v (%s), want %v naming %q", p.GetStatus(), p.GetReason(), tt.wantPractice, tt.wantReason)
			}
			if got.GetApplyingStateCode() != tt.give.GetApplyingStateCode() {
				t.Errorf("applying_state_code = %q, want %q echoed", got.GetApplyingStateCode(), tt.give.GetApplyingStateCode())
			}
		})
	}

	t.Run("Regulation: a country with no designation names what is missing", func(t *testing.T) {
		got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "MA", FrameworkId: "eu-apr-59", ApplyingStateCode: "ES", AsOf: "2026-07-01"}, today)
		if err != nil {
			t.Fatal(err)
		}
		c := criterion(t, got, "designation")
		if c.GetStatus() != indeterminate || !strings.Contains(c.GetRationale(), "no designation of MA by ES") {
			t.Errorf("designation = %v (%s), want INDETERMINATE naming the missing designation", c.GetStatus(), c.GetRationale())
		}
	})

	none := &pb.CountryList{}
	for _, tt := range []struct {
		name        string
		give        *pb.Applicant
		wantLink    pb.CriterionStatus
		wantOutcome pb.ApplicantOutcome
		wantMissing []string
	}{
		// Parliament's summary of its position: a connection may be "linguistic, cultural or other
		// similar ties", which no fact of the Applicant records, and the list is open.
		{"an unaccompanied minor with no family, stay or transit there: ties of language or culture may still connect them",
			unaccompaniedMinor(none), indeterminate, outIndet, nil},
		{"an unaccompanied minor who stayed there: a connection, whose reasonableness the data cannot test",
			with(unaccompaniedMinor(none), func(a *pb.Applicant) { a.PreviousStayCountries = &pb.CountryList{CountryCodes: []string{"TR"}} }),
			indeterminate, outIndet, nil},
		{"an accompanied minor with no tie: the agreement ground stays open",
			with(unaccompaniedMinor(none), func(a *pb.Applicant) { a.Accompanied = proto.Bool(true) }), indeterminate, outIndet, nil},
		{"an unaccompanied minor whose ties are unknown: for the decision-maker",
			unaccompaniedMinor(nil), indeterminate, outIndet, nil},
	} {
		t.Run("Regulation: "+tt.name, func(t *testing.T) {
			got, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: "TR", FrameworkId: "eu-apr-59", ApplyingStateCode: "GR", AsOf: "2026-07-01", Applicant: tt.give}, today)
			if err != nil {
				t.Fatal(err)
			}
			link := criterion(t, got, "link")
			if link.GetStatus() != tt.wantLink {
				t.Errorf("link = %v, want %v: %s", link.GetStatus(), tt.wantLink, link.GetRationale())
			}
			if diff := cmp.Diff(tt.wantMissing, link.GetMissingFacts()); diff != "" {
				t.Errorf("link missing facts (-want +got):\n%s", diff)
			}
			if got.GetApplicantOutcome() != tt.wantOutcome {
				t.Errorf("applicant outcome = %v, want %v", got.GetApplicantOutcome(), tt.wantOutcome)
			}
			// The link is about the applicant, not the country: it never
			// decides whether Türkiye meets the statute.
			if got.GetDetermination() != detIndet || strings.Contains(got.GetSummary(), "Decisive: Connection, transit") {
				t.Errorf("determination = %v; the link must not decide it:\n%s", got.GetDetermination(), got.GetSummary())
			}
		})
	}

	t.Run("Regulation: transit taken from the route's legs", func(t *testing.T) {
		got, err := eng.AssessRoute(&pb.AssessRouteRequest{Legs: legs("TR"), FrameworkId: "eu-apr-59", ApplyingStateCode: "GR", AsOf: "2026-07-01",
			Applicant: unaccompaniedMinor(nil)}, today)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.GetAssessments()) != 1 {
			t.Fatalf("assessments = %d, want 1 (Türkiye)", len(got.GetAssessments()))
		}
		if s := statuses(got.GetAssessments()[0])["link"]; s != indeterminate {
			t.Errorf("link for a minor who transited Türkiye = %v, want INDETERMINATE (transit is a ground, its conditions not in the data)", s)
		}
	})

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
	_, err := eng.AssessRoute(&pb.AssessRouteRequest{Legs: legs("TR"), FrameworkId: "eu-apd-38"}, today)
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

// TestKnowledgeBaseDecember2026 holds the facts added from the sources read
// on 2026-12-06 (issue "The knowledge base to December 2026").
func TestKnowledgeBaseDecember2026(t *testing.T) {
	eng := engine(t)
	tests := []struct {
		name         string
		give         *pb.AssessCountryRequest
		wantPractice pb.PracticeStatus
		wantScope    pb.ScopeStatus
		wantMissing  []string
	}{
		// The Home Office, as reported by PA (2025-09-18, secondary): the first return to France.
		{"France under s.80B on 2025-10-01: the UK–France agreement applied",
			&pb.AssessCountryRequest{CountryCode: "FR", FrameworkId: "uk-niaa-80b", AsOf: "2025-10-01"},
			pb.PracticeStatus_PRACTICE_STATUS_APPLIED, pb.ScopeStatus_SCOPE_STATUS_UNSPECIFIED, nil},
		{"France under s.80B for someone who arrived before the agreement: outside it",
			&pb.AssessCountryRequest{CountryCode: "FR", FrameworkId: "uk-niaa-80b", AsOf: "2025-10-01",
				Applicant: &pb.Applicant{EntryDate: proto.String("2025-07-01"), CountriesCrossed: &pb.CountryList{CountryCodes: []string{"FR"}}}},
			pb.PracticeStatus_PRACTICE_STATUS_APPLIED, pb.ScopeStatus_SCOPE_STATUS_OUTSIDE, nil},
		// The agreement's text in a Honduran legal publisher's copy and Honduran press (secondary):
		// nationals of Spanish-speaking Latin American countries who need no visa for Honduras.
		{"Honduras 2026-06-01 for a Ugandan: outside the 2025 agreement",
			&pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2026-06-01",
				Applicant: &pb.Applicant{NationalityCode: proto.String("UG"), EntryDate: proto.String("2026-03-01")}},
			pb.PracticeStatus_PRACTICE_STATUS_INDETERMINATE, pb.ScopeStatus_SCOPE_STATUS_OUTSIDE, nil},
		{"Honduras 2026-06-01 for a Mexican: the visa fact decides",
			&pb.AssessCountryRequest{CountryCode: "HN", AsOf: "2026-06-01",
				Applicant: &pb.Applicant{NationalityCode: proto.String("MX"), EntryDate: proto.String("2026-03-01")}},
			pb.PracticeStatus_PRACTICE_STATUS_INDETERMINATE, pb.ScopeStatus_SCOPE_STATUS_NEEDS_FACTS, []string{"visa_free_countries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eng.AssessCountry(tt.give, today)
			if err != nil {
				t.Fatal(err)
			}
			if s := got.GetPractice().GetStatus(); s != tt.wantPractice {
				t.Errorf("practice = %v, want %v: %s", s, tt.wantPractice, got.GetPractice().GetReason())
			}
			if s := got.GetScope().GetStatus(); s != tt.wantScope {
				t.Errorf("scope = %v, want %v: %s", s, tt.wantScope, got.GetScope().GetReason())
			}
			if diff := cmp.Diff(tt.wantMissing, got.GetScope().GetMissingFacts()); diff != "" {
				t.Errorf("scope missing facts (-want +got):\n%s", diff)
			}
		})
	}
}
