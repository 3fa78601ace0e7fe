package assessment_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/data"
	"github.com/safethird/safethird/dataset"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// Assess Mexico under the default framework (INA §208(a)(2)(A)).
func ExampleEngine_AssessCountry() {
	snap, err := dataset.Load(data.FS)
	if err != nil {
		panic(err)
	}
	a, err := assessment.New(snap).AssessCountry(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}, "2026-11-27")
	if err != nil {
		panic(err)
	}
	fmt.Println(a.GetDetermination())
	for _, c := range a.GetCriteria() {
		fmt.Println(c.GetCriterionId(), c.GetStatus())
	}
	// Output:
	// DETERMINATION_DOES_NOT_QUALIFY
	// agreement CRITERION_STATUS_NOT_MET
	// no-persecution CRITERION_STATUS_NOT_MET
	// fair-procedure CRITERION_STATUS_NOT_MET
}

// Assess the United States under Canada's framework for an unaccompanied
// minor arriving at a land port in 2024: the bar is applied in practice,
// but IRPR s.159.5(e)'s exception applies, so it does not reach them.
func ExampleEngine_AssessCountry_applicant() {
	snap, err := dataset.Load(data.FS)
	if err != nil {
		panic(err)
	}
	a, err := assessment.New(snap).AssessCountry(&pb.AssessCountryRequest{
		CountryCode: "US",
		FrameworkId: "ca-irpa-102",
		AsOf:        "2024-06-01",
		Applicant: &pb.Applicant{
			NationalityCode:           proto.String("HT"),
			LastHabitualResidenceCode: proto.String("HT"),
			Age:                       proto.Int32(16),
			Married:                   proto.Bool(false),
			ParentOrGuardianCountries: &pb.CountryList{}, // none anywhere
			EntryType:                 pb.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(),
		},
	}, "2026-11-27")
	if err != nil {
		panic(err)
	}
	fmt.Println(a.GetPractice().GetStatus())
	fmt.Println(a.GetDetermination(), a.GetApplicantOutcome())
	// Output:
	// PRACTICE_STATUS_APPLIED
	// DETERMINATION_QUALIFIES APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY
}

// Assess a route: a person who crossed Guatemala and Mexico, claiming in
// the United States on 2020-06-01, whose facts are not given. Each country
// they could be sent to under an agreement is assessed, with both answers:
// whether the bar was applied there in practice, and whether the country
// meets the statute on the evidence. The outcome is the most adverse to
// them: here it turns on facts not given.
func ExampleEngine_AssessRoute() {
	snap, err := dataset.Load(data.FS)
	if err != nil {
		panic(err)
	}
	resp, err := assessment.New(snap).AssessRoute(&pb.AssessRouteRequest{
		Legs: []*pb.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}},
		AsOf: "2020-06-01",
	}, "2026-11-27")
	if err != nil {
		panic(err)
	}
	for _, a := range resp.GetAssessments() {
		fmt.Println(a.GetCountryCode(), a.GetPractice().GetStatus(), a.GetDetermination())
	}
	fmt.Println(resp.GetOutcome())
	// Output:
	// GT PRACTICE_STATUS_PAUSED DETERMINATION_DOES_NOT_QUALIFY
	// MX PRACTICE_STATUS_NOT_APPLIED DETERMINATION_DOES_NOT_QUALIFY
	// BZ PRACTICE_STATUS_NOT_APPLIED DETERMINATION_DOES_NOT_QUALIFY
	// CA PRACTICE_STATUS_APPLIED DETERMINATION_QUALIFIES
	// EC PRACTICE_STATUS_NOT_APPLIED DETERMINATION_DOES_NOT_QUALIFY
	// HN PRACTICE_STATUS_NOT_APPLIED DETERMINATION_INDETERMINATE
	// PY PRACTICE_STATUS_NOT_APPLIED DETERMINATION_DOES_NOT_QUALIFY
	// SV PRACTICE_STATUS_NOT_APPLIED DETERMINATION_DOES_NOT_QUALIFY
	// UG PRACTICE_STATUS_NOT_APPLIED DETERMINATION_DOES_NOT_QUALIFY
	// APPLICANT_OUTCOME_NEEDS_FACTS
}
