package reliability_test

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/client"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// workItem is one request of the mixed load: exactly one field is set.
type workItem struct {
	country *pb.AssessCountryRequest
	route   *pb.AssessRouteRequest
	batch   *pb.BatchAssessCountriesRequest
	list    *pb.ListCountriesRequest
}

// call sends the item's request and returns the response.
func (w workItem) call(ctx context.Context, c *client.Client, opts ...grpc.CallOption) (proto.Message, error) {
	switch {
	case w.country != nil:
		return c.Assessment().AssessCountry(ctx, w.country, opts...)
	case w.route != nil:
		return c.Assessment().AssessRoute(ctx, w.route, opts...)
	case w.batch != nil:
		return c.Assessment().BatchAssessCountries(ctx, w.batch, opts...)
	case w.list != nil:
		return c.Catalog().ListCountries(ctx, w.list, opts...)
	}
	return nil, errors.New("empty work item")
}

// revision returns the dataset revision a response was computed from; for
// a batch, every item's must agree, else it returns an error.
func revision(resp proto.Message) (string, error) {
	switch r := resp.(type) {
	case *pb.AssessCountryResponse:
		return r.GetAssessment().GetDatasetRevision(), nil
	case *pb.AssessRouteResponse:
		for _, a := range r.GetAssessments() {
			if a.GetDatasetRevision() != r.GetDatasetRevision() {
				return "", fmt.Errorf("route answer mixes revisions %s and %s", r.GetDatasetRevision(), a.GetDatasetRevision())
			}
		}
		return r.GetDatasetRevision(), nil
	case *pb.BatchAssessCountriesResponse:
		rev := ""
		for i, res := range r.GetResults() {
			got := res.GetAssessment().GetDatasetRevision()
			if got == "" {
				return "", fmt.Errorf("batch item %d has no assessment: %v", i, res.GetError())
			}
			if rev != "" && got != rev {
				return "", fmt.Errorf("batch answer mixes revisions %s and %s", rev, got)
			}
			rev = got
		}
		return rev, nil
	}
	return "", nil
}

func ptr[T any](v T) *T { return &v }

// Synthetic applicants, for the load only: no real person's facts.
func minorApplicant() *pb.Applicant {
	return &pb.Applicant{
		NationalityCode:           ptr("HT"),
		Age:                       ptr(int32(16)),
		Married:                   ptr(false),
		ParentOrGuardianCountries: &pb.CountryList{},
		EntryType:                 pb.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(),
	}
}

func familyApplicant() *pb.Applicant {
	return &pb.Applicant{
		NationalityCode: ptr("VE"),
		Groups:          []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_WOMEN_AND_GIRLS},
		Age:             ptr(int32(34)),
		Family: &pb.FamilyTies{Members: []*pb.FamilyMember{
			{Relationship: pb.Relationship_RELATIONSHIP_SIBLING, Status: pb.FamilyStatus_FAMILY_STATUS_CITIZEN, Age: ptr(int32(40))},
		}},
		Documents:               &pb.DocumentsHeld{},
		EntryType:               pb.EntryType_ENTRY_TYPE_BETWEEN_PORTS.Enum(),
		DaysFromCrossingToClaim: ptr(int32(3)),
	}
}

func indigenousApplicant() *pb.Applicant {
	return &pb.Applicant{
		NationalityCode: ptr("HN"),
		Groups:          []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_INDIGENOUS, pb.ApplicantGroup_APPLICANT_GROUP_LGBTQI},
		Age:             ptr(int32(27)),
		CapitalCharge:   ptr(false),
	}
}

var (
	full  = pb.AssessmentView_ASSESSMENT_VIEW_FULL
	basic = pb.AssessmentView_ASSESSMENT_VIEW_BASIC
)

// countryRequests are valid AssessCountry requests, each with an explicit
// as_of so that only the date given matters.
func countryRequests() []*pb.AssessCountryRequest {
	return []*pb.AssessCountryRequest{
		{CountryCode: "MX", AsOf: "2019-01-01", View: full},
		{CountryCode: "MX", AsOf: "2024-06-01", View: basic},
		{CountryCode: "MX", AsOf: "2024-06-01", Applicant: indigenousApplicant()},
		{CountryCode: "CA", AsOf: "2024-06-01", Applicant: familyApplicant()},
		{CountryCode: "CA", AsOf: "2024-06-01", Applicant: minorApplicant(), View: basic},
		{CountryCode: "GT", AsOf: "2020-01-15", Applicant: indigenousApplicant(), View: full},
		{CountryCode: "HN", AsOf: "2020-06-01"},
		{CountryCode: "SV", AsOf: "2021-03-01", View: basic},
		{CountryCode: "US", FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: familyApplicant()},
		{CountryCode: "FR", AsOf: "2024-06-01"},
	}
}

// workItems is the mixed load: every AssessCountry variant, routes,
// batches and a catalog listing.
func workItems() []workItem {
	var items []workItem
	countries := countryRequests()
	for _, r := range countries {
		items = append(items, workItem{country: r})
	}
	items = append(items,
		workItem{route: &pb.AssessRouteRequest{Legs: []*pb.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}}, AsOf: "2020-01-15", Applicant: indigenousApplicant(), View: basic}},
		workItem{route: &pb.AssessRouteRequest{Legs: []*pb.RouteLeg{{CountryCode: "US"}}, FrameworkId: "ca-irpa-102", AsOf: "2024-06-01", Applicant: minorApplicant()}},
		workItem{route: &pb.AssessRouteRequest{Legs: []*pb.RouteLeg{{CountryCode: "hn"}, {CountryCode: "gt"}, {CountryCode: "mx"}}, AsOf: "2019-12-01"}},
		workItem{batch: &pb.BatchAssessCountriesRequest{Requests: countries}},
		workItem{batch: &pb.BatchAssessCountriesRequest{Requests: []*pb.AssessCountryRequest{
			{CountryCode: "MX", AsOf: "2018-06-01", View: basic}, {CountryCode: "GT", AsOf: "2018-06-01", View: basic},
		}}},
		workItem{list: &pb.ListCountriesRequest{PageSize: 50}},
	)
	return items
}
