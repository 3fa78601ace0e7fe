package assessment_test

import (
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/internal/answertest"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// unspecifiedIn returns the path of every _UNSPECIFIED enum value m
// carries, in m and the messages it holds: a field set to one, an item of a
// list, and the answers an answer must always give (its determination,
// practice status and, for an applicant, its outcome), which an answer
// without them would carry as their zero.
func unspecifiedIn(m protoreflect.Message, path string) []string {
	var out []string
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := path + "." + string(fd.Name())
		switch {
		case fd.IsList():
			for i := range v.List().Len() {
				out = append(out, unspecifiedValue(fd, v.List().Get(i), p)...)
			}
		case !fd.IsMap():
			out = append(out, unspecifiedValue(fd, v, p)...)
		}
		return true
	})
	return out
}

func unspecifiedValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string) []string {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		if v.Enum() == 0 {
			return []string{path}
		}
	case protoreflect.MessageKind:
		return unspecifiedIn(v.Message(), path)
	}
	return nil
}

// required are the answers an assessment always gives.
func required(a *pb.Assessment, applicant bool) []string {
	var out []string
	if a.GetDetermination() == 0 {
		out = append(out, "determination")
	}
	if a.GetPractice().GetStatus() == 0 {
		out = append(out, "practice.status")
	}
	if applicant && a.GetApplicantOutcome() == 0 {
		out = append(out, "applicant_outcome")
	}
	return out
}

// A sweep over every curated country (and those the EU and UK frameworks
// name), every framework, a grid of dates, with and without applicants,
// through AssessCountry, AssessRoute and AssessTimeline, finds no
// _UNSPECIFIED value in any answer.
func TestNoAnswerCarriesUnspecified(t *testing.T) {
	eng := engine(t)
	snap := eng.Snapshot()
	applicants := []*pb.Applicant{nil,
		{NationalityCode: proto.String("HN"), EntryDate: proto.String("2019-12-01"), CountriesCrossed: &pb.CountryList{CountryCodes: []string{"GT", "MX"}}},
		{NationalityCode: proto.String("GT")},
		{Age: proto.Int32(15), Accompanied: proto.Bool(false), DeclaredGroups: &pb.GroupList{Groups: []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_LGBTQI}}},
	}
	var dates []string
	for y := 2003; y <= 2027; y += 2 {
		dates = append(dates, strconv.Itoa(y)+"-03-01", strconv.Itoa(y)+"-10-15")
	}
	answers := 0
	check := func(what string, a *pb.Assessment, applicant bool) {
		t.Helper()
		answers++
		if bad := append(unspecifiedIn(a.ProtoReflect(), "assessment"), required(a, applicant)...); len(bad) > 0 {
			t.Errorf("%s %s %s %s: _UNSPECIFIED at %s", what, a.GetCountryCode(), a.GetFrameworkId(), a.GetAsOf(), strings.Join(bad, ", "))
		}
	}
	for _, f := range snap.FrameworkIDs() {
		state := answertest.ApplyingState(snap, f)
		for _, app := range applicants {
			for _, d := range dates {
				if app.GetEntryDate() > d {
					continue
				}
				for _, c := range answertest.Countries(snap) {
					a, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: c, FrameworkId: f, ApplyingStateCode: state, AsOf: d, Applicant: app}, today)
					if err != nil {
						t.Fatal(err)
					}
					check("AssessCountry", a, app != nil)
				}
				route, err := eng.AssessRoute(&pb.AssessRouteRequest{FrameworkId: f, ApplyingStateCode: state, AsOf: d, Applicant: app,
					Legs: []*pb.RouteLeg{{CountryCode: "GT"}, {CountryCode: "MX"}}}, today)
				if err != nil {
					t.Fatal(err)
				}
				if route.GetOutcome() == 0 {
					t.Errorf("route %s %s: outcome unspecified", f, d)
				}
				for _, a := range route.GetAssessments() {
					check("AssessRoute", a, true)
				}
			}
			for _, c := range answertest.Countries(snap) {
				start := max("2003-01-01", app.GetEntryDate())
				tl, err := eng.AssessTimeline(&pb.AssessTimelineRequest{CountryCode: c, FrameworkId: f, ApplyingStateCode: state, Applicant: app,
					StartDate: start, EndDate: "2027-12-31"}, today)
				if err != nil {
					t.Fatal(err)
				}
				bad := unspecifiedIn(tl.ProtoReflect(), "timeline")
				for _, s := range tl.GetSegments() {
					if s.GetDetermination() == 0 || s.GetPracticeStatus() == 0 || (app != nil && s.GetApplicantOutcome() == 0) {
						bad = append(bad, "segment "+s.GetStartDate())
					}
				}
				if len(bad) > 0 {
					t.Errorf("AssessTimeline %s %s: _UNSPECIFIED at %s", c, f, strings.Join(bad, ", "))
				}
			}
		}
	}
	t.Logf("%d answers swept", answers)
}
