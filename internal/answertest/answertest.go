// Package answertest holds the questions the tests of memoized answers
// ask, so that the engine's test and the server's ask the same: every
// curated country, and the countries the EU and UK frameworks name, under
// every framework (an EU one for Greece), on dates in each framework's
// time, in both views (BASIC for a few), without an applicant and for a set of applicants
// that share some facts and differ in others; and routes, under the same.
package answertest

import (
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/dataset"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// extraCountries are assessed beside the curated ones: the EU and UK
// frameworks' own (a designation of Türkiye, the Rwanda Act), and two
// applying states.
var extraCountries = []string{"TR", "RW", "GR", "GB"}

// basicApplicants are the first of Applicants also asked about in the
// BASIC view.
const basicApplicants = 3

// dates fall before, inside and after the frameworks' windows.
var dates = []string{"2019-06-01", "2024-06-01", "2026-07-01"}

// Applicants are the people asked about; nil is a request without one.
func Applicants() []*pb.Applicant {
	adult := func() *pb.Applicant {
		return &pb.Applicant{
			NationalityCode: proto.String("HT"), LastHabitualResidenceCode: proto.String("HT"), Age: proto.Int32(30),
			Married: proto.Bool(false), ParentOrGuardianCountries: &pb.CountryList{CountryCodes: []string{"HT"}}, Family: &pb.FamilyTies{},
			Documents: &pb.DocumentsHeld{}, CapitalCharge: proto.Bool(false),
			EntryType: pb.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY.Enum(), DaysFromCrossingToClaim: proto.Int32(0),
			EntryDate: proto.String("2019-01-15"),
		}
	}
	older := adult()
	older.Age = proto.Int32(31) // differs only in a fact few conditions read
	married := adult()
	married.Married = proto.Bool(true)
	late := adult()
	late.DaysFromCrossingToClaim = proto.Int32(20)
	between := adult()
	between.EntryType = pb.EntryType_ENTRY_TYPE_BETWEEN_PORTS.Enum()
	// The countries crossed given, which a route does not replace with
	// its legs: its answers differ by the last leg alone.
	crossed := adult()
	crossed.CountriesCrossed = &pb.CountryList{CountryCodes: []string{"MX", "US"}}
	// The deprecated facts, read by no condition but warned of.
	deprecated := adult()
	deprecated.ParentOrGuardianPresent = proto.Bool(true)
	deprecated.Documents = &pb.DocumentsHeld{Kinds: []pb.DocumentKind{pb.DocumentKind_DOCUMENT_KIND_VISA_EXEMPT_DESTINATION_ONLY}}
	minor := func(parents ...string) *pb.Applicant {
		return &pb.Applicant{NationalityCode: proto.String("SV"), Age: proto.Int32(15), Married: proto.Bool(false),
			ParentOrGuardianCountries: &pb.CountryList{CountryCodes: parents},
			Family:                    &pb.FamilyTies{Members: []*pb.FamilyMember{{Relationship: pb.Relationship_RELATIONSHIP_SIBLING, Status: pb.FamilyStatus_FAMILY_STATUS_CITIZEN, Age: proto.Int32(25)}}}}
	}
	visaFree := func(codes ...string) *pb.Applicant {
		return &pb.Applicant{NationalityCode: proto.String("MX"), VisaFreeCountries: &pb.CountryList{CountryCodes: codes}}
	}
	return []*pb.Applicant{
		nil,
		{},
		{NationalityCode: proto.String("HN"), Groups: []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_LGBTQI}},
		{NationalityCode: proto.String("HN"), Groups: []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_INDIGENOUS}},
		adult(), older, married, late, between, crossed, deprecated,
		{NationalityCode: proto.String("SY"), Age: proto.Int32(16), Accompanied: proto.Bool(false)},
		{Stateless: proto.Bool(true), LastHabitualResidenceCode: proto.String("SY"), Age: proto.Int32(40)},
		minor(), minor("US"), minor("GT"),
		visaFree("CA"), visaFree("CA", "US"),
		{NationalityCode: proto.String("AF"), Accompanied: proto.Bool(true),
			CountriesCrossed: &pb.CountryList{CountryCodes: []string{"TR"}}, FamilyCountries: &pb.CountryList{CountryCodes: []string{"TR"}},
			PreviousStayCountries: &pb.CountryList{}},
		{NationalityCode: proto.String("MX"), Documents: &pb.DocumentsHeld{Kinds: []pb.DocumentKind{pb.DocumentKind_DOCUMENT_KIND_DESTINATION_VISA}}},
	}
}

// Requests are the questions, every applicant asked in turn about each
// country, framework, date and view, so that a memo that shared an answer
// between two people with different facts would give one of them the
// other's.
func Requests(snap *dataset.Snapshot) []*pb.AssessCountryRequest {
	countries := Countries(snap)
	var out []*pb.AssessCountryRequest
	for _, id := range snap.FrameworkIDs() {
		state := ApplyingState(snap, id)
		for _, c := range countries {
			for _, d := range dates {
				for i, a := range Applicants() {
					out = append(out, &pb.AssessCountryRequest{CountryCode: c, FrameworkId: id, ApplyingStateCode: state, AsOf: d, Applicant: a})
					// The BASIC view is built from the FULL one: a few
					// applicants are enough to check it.
					if i < basicApplicants {
						out = append(out, &pb.AssessCountryRequest{CountryCode: c, FrameworkId: id, ApplyingStateCode: state, AsOf: d,
							View: pb.AssessmentView_ASSESSMENT_VIEW_BASIC, Applicant: a})
					}
				}
			}
		}
	}
	return out
}

// routes are the routes asked about: two that cross the same countries
// in the other order, so that the country of last presence, which the
// Canada-US agreement's scope requires to be the partner, is another; one
// that ends as the first does after crossing more; and one to an EU
// framework's partners.
var routes = [][]string{{"GT", "MX"}, {"MX", "US"}, {"US", "MX"}, {"HN", "SV", "GT", "BZ", "MX"}, {"TR", "GR"}}

// Routes are the routes asked about under every framework, on each date,
// for each applicant in turn (BASIC for a few), each route after the
// other, so that a memo that shared a route's answer with another route,
// or another applicant, would give one of them the other's before it
// filled and started again.
func Routes(snap *dataset.Snapshot) []*pb.AssessRouteRequest {
	var out []*pb.AssessRouteRequest
	for _, id := range snap.FrameworkIDs() {
		state := ApplyingState(snap, id)
		for _, d := range dates {
			for i, a := range Applicants() {
				for _, legs := range routes {
					var rl []*pb.RouteLeg
					for _, c := range legs {
						rl = append(rl, &pb.RouteLeg{CountryCode: c})
					}
					out = append(out, &pb.AssessRouteRequest{FrameworkId: id, ApplyingStateCode: state, AsOf: d, Legs: rl, Applicant: a})
					if i < basicApplicants {
						out = append(out, &pb.AssessRouteRequest{FrameworkId: id, ApplyingStateCode: state, AsOf: d, Legs: rl, Applicant: a,
							View: pb.AssessmentView_ASSESSMENT_VIEW_BASIC})
					}
				}
			}
		}
	}
	return out
}

// Countries are the countries asked about: the curated ones, then those
// the EU and UK frameworks name.
func Countries(snap *dataset.Snapshot) []string {
	var countries []string
	for _, c := range snap.Countries() {
		if c.GetCurated() {
			countries = append(countries, c.GetCode())
		}
	}
	for _, c := range extraCountries {
		if _, ok := snap.Country(c); ok {
			countries = append(countries, c)
		}
	}
	return countries
}

// ApplyingState is the applying state asked about under a framework:
// Greece for one several states apply, none otherwise.
func ApplyingState(snap *dataset.Snapshot, framework string) string {
	if f, _ := snap.Framework(framework); f.GetApplyingStateRequired() {
		return "GR"
	}
	return ""
}
