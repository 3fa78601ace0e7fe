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

// Assess Canada for an unaccompanied minor arriving at a land port in 2024:
// the STCA's exception applies, so the bar does not.
func ExampleEngine_AssessCountry_applicant() {
	snap, err := dataset.Load(data.FS)
	if err != nil {
		panic(err)
	}
	a, err := assessment.New(snap).AssessCountry(&pb.AssessCountryRequest{
		CountryCode: "CA",
		AsOf:        "2024-06-01",
		Applicant: &pb.Applicant{
			NationalityCode:         proto.String("HT"),
			Age:                     proto.Int32(16),
			Married:                 proto.Bool(false),
			ParentOrGuardianPresent: proto.Bool(false),
			EntryType:               pb.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(),
		},
	}, "2026-11-27")
	if err != nil {
		panic(err)
	}
	fmt.Println(a.GetDetermination(), a.GetApplicantOutcome())
	// Output:
	// DETERMINATION_QUALIFIES APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY
}

// Assess a route: a person who crossed Guatemala and Mexico, claiming in
// the United States on 2020-06-01. Each country they could be sent to
// under an agreement is assessed; the outcome is the most adverse to them.
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
		fmt.Println(a.GetCountryCode(), a.GetDetermination())
	}
	fmt.Println(resp.GetOutcome())
	// Output:
	// GT DETERMINATION_DOES_NOT_QUALIFY
	// MX DETERMINATION_DOES_NOT_QUALIFY
	// CA DETERMINATION_QUALIFIES
	// HN DETERMINATION_INDETERMINATE
	// SV DETERMINATION_DOES_NOT_QUALIFY
	// APPLICANT_OUTCOME_INDETERMINATE
}
