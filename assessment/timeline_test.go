package assessment_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/internal/answertest"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// answerOn is AssessCountry's answer on one day, as a segment states it.
type answerOn struct {
	Determination pb.Determination
	Practice      pb.PracticeStatus
	Outcome       pb.ApplicantOutcome
}

func assessOn(t *testing.T, eng *assessment.Engine, req *pb.AssessTimelineRequest, day string) answerOn {
	t.Helper()
	a, err := eng.AssessCountry(&pb.AssessCountryRequest{CountryCode: req.GetCountryCode(), FrameworkId: req.GetFrameworkId(),
		ApplyingStateCode: req.GetApplyingStateCode(), Applicant: req.GetApplicant(), AsOf: day}, today)
	if err != nil {
		t.Fatalf("AssessCountry on %s: %v", day, err)
	}
	return answerOn{a.GetDetermination(), a.GetPractice().GetStatus(), a.GetApplicantOutcome()}
}

// checkTimeline checks a timeline's shape (contiguous segments covering
// the range, neighbours that differ) and that every segment is
// AssessCountry's answer on its first day, its last day and a day inside.
func checkTimeline(t *testing.T, eng *assessment.Engine, req *pb.AssessTimelineRequest, r *rand.Rand) {
	t.Helper()
	resp, err := eng.AssessTimeline(req, today)
	if err != nil {
		t.Fatalf("AssessTimeline(%v): %v", req, err)
	}
	segs := resp.GetSegments()
	if len(segs) == 0 || segs[0].GetStartDate() != req.GetStartDate() || segs[len(segs)-1].GetEndDate() != req.GetEndDate() {
		t.Fatalf("%v: the segments do not cover the range: %v", req, segs)
	}
	for i, s := range segs {
		first, last := day(t, s.GetStartDate()), day(t, s.GetEndDate())
		if last.Before(first) {
			t.Fatalf("%v: segment %d ends before it starts: %v", req, i, s)
		}
		if i > 0 {
			prev := segs[i-1]
			if !day(t, prev.GetEndDate()).AddDate(0, 0, 1).Equal(first) {
				t.Fatalf("%v: segment %d does not start the day after %s", req, i, prev.GetEndDate())
			}
			if prev.GetDetermination() == s.GetDetermination() && prev.GetPracticeStatus() == s.GetPracticeStatus() && prev.GetApplicantOutcome() == s.GetApplicantOutcome() {
				t.Errorf("%v: segments %d and %d give the same answer and are not joined", req, i-1, i)
			}
		}
		want := answerOn{s.GetDetermination(), s.GetPracticeStatus(), s.GetApplicantOutcome()}
		inside := first.AddDate(0, 0, r.IntN(int(last.Sub(first).Hours()/24)+1))
		for _, d := range []time.Time{first, inside, last} {
			if got := assessOn(t, eng, req, d.Format(time.DateOnly)); got != want {
				t.Errorf("%v: on %s AssessCountry answers %+v, the segment %s to %s says %+v", req, d.Format(time.DateOnly), got, s.GetStartDate(), s.GetEndDate(), want)
			}
		}
	}
}

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatalf("segment date %q: %v", s, err)
	}
	return d
}

// For random countries, frameworks, applicants and ranges, every segment
// of AssessTimeline is AssessCountry's answer on its first day, its last
// day and a day inside it.
func TestTimelineSegmentsAreAssessCountry(t *testing.T) {
	eng := engine(t)
	snap := eng.Snapshot()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 24))
	countries, frameworks, applicants := answertest.Countries(snap), snap.FrameworkIDs(), answertest.Applicants()
	applicants = append(applicants,
		&pb.Applicant{NationalityCode: proto.String("HN"), EntryDate: proto.String("2019-12-01")},
		&pb.Applicant{NationalityCode: proto.String("HT"), EntryDate: proto.String("2020-06-01"), DeclaredGroups: &pb.GroupList{}},
		&pb.Applicant{NationalityCode: proto.String("SO"), Age: proto.Int32(30), Accompanied: proto.Bool(true), EntryDate: proto.String("2024-03-01")})
	epoch := day(t, "2002-01-01")
	for range 120 {
		f := frameworks[r.IntN(len(frameworks))]
		req := &pb.AssessTimelineRequest{CountryCode: countries[r.IntN(len(countries))], FrameworkId: f,
			ApplyingStateCode: answertest.ApplyingState(snap, f), Applicant: applicants[r.IntN(len(applicants))]}
		start := epoch.AddDate(0, 0, r.IntN(25*365))
		if entry := req.GetApplicant().GetEntryDate(); entry != "" && start.Before(day(t, entry)) {
			start = day(t, entry)
		}
		span := r.IntN(6 * 365)
		if r.IntN(10) == 0 {
			span = r.IntN(30 * 365)
		}
		req.StartDate, req.EndDate = start.Format(time.DateOnly), start.AddDate(0, 0, span).Format(time.DateOnly)
		checkTimeline(t, eng, req, r)
	}
}

// The answer over time for Guatemala under the INA without an applicant,
// from the records of the Asylum Cooperative Agreement us-gt-aca (signed
// 2019-07-26 with its entry into force undated until DHS's release of
// 2020-12-29, transfers from 2019-11-21, paused 2020-03-16, suspended
// 2021-02-06) and finding gt-fair-procedure (not met from 2019-07-26).
func TestTimelineGuatemala(t *testing.T) {
	eng := engine(t)
	req := &pb.AssessTimelineRequest{CountryCode: "GT", StartDate: "2019-01-01", EndDate: "2021-12-31"}
	resp, err := eng.AssessTimeline(req, today)
	if err != nil {
		t.Fatal(err)
	}
	type segment struct {
		Start, End string
		Practice   pb.PracticeStatus
		Records    []string
	}
	var got []segment
	for _, s := range resp.GetSegments() {
		var records []string
		for _, c := range s.GetChanges() {
			records = append(records, c.GetRecordId())
			if c.GetRecordKind() == pb.RecordKind_RECORD_KIND_UNSPECIFIED || c.GetDescription() == "" || len(c.GetSourceIds()) == 0 {
				t.Errorf("change %v lacks its kind, description or sources", c)
			}
		}
		got = append(got, segment{s.GetStartDate(), s.GetEndDate(), s.GetPracticeStatus(), records})
		if s.GetDetermination() != doesNotQualify {
			t.Errorf("%s: determination %v, want DOES_NOT_QUALIFY (gt-fair-procedure, then the agreement)", s.GetStartDate(), s.GetDetermination())
		}
	}
	want := []segment{
		{"2019-01-01", "2019-07-25", pb.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED, nil},
		{"2019-07-26", "2019-11-20", pb.PracticeStatus_PRACTICE_STATUS_INDETERMINATE, []string{"gt-fair-procedure", "us-gt-aca", "us-gt-aca"}},
		{"2019-11-21", "2020-03-15", applied, []string{"us-gt-aca"}},
		{"2020-03-16", "2021-02-05", pb.PracticeStatus_PRACTICE_STATUS_PAUSED, []string{"us-gt-aca"}},
		{"2021-02-06", "2021-12-31", pb.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED, []string{"us-gt-aca"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("segments (-want +got):\n%s", diff)
	}
	checkTimeline(t, eng, req, rand.New(rand.NewPCG(1, 2)))
}

// A timeline's range is checked like any field, and names the field.
func TestTimelineRefusesBadRanges(t *testing.T) {
	eng := engine(t)
	tests := []struct {
		name, field string
		give        *pb.AssessTimelineRequest
	}{
		{"end before start", "", &pb.AssessTimelineRequest{CountryCode: "GT", StartDate: "2021-01-01", EndDate: "2020-01-01"}},
		{"more than 30 years", "end_date", &pb.AssessTimelineRequest{CountryCode: "GT", StartDate: "1990-01-01", EndDate: "2020-01-02"}},
		{"start before the person entered", "start_date", &pb.AssessTimelineRequest{CountryCode: "GT", StartDate: "2019-01-01", EndDate: "2020-01-01",
			Applicant: &pb.Applicant{EntryDate: proto.String("2019-12-01")}}},
		{"no dates", "start_date", &pb.AssessTimelineRequest{CountryCode: "GT"}},
		{"not a country", "country_code", &pb.AssessTimelineRequest{CountryCode: "ZZ", StartDate: "2019-01-01", EndDate: "2020-01-01"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eng.AssessTimeline(tt.give, today)
			var invalid *assessment.InvalidArgumentError
			if !errors.As(err, &invalid) {
				t.Fatalf("err = %v, want an InvalidArgumentError", err)
			}
			found := false
			for _, v := range invalid.Violations {
				found = found || v.Field == tt.field
			}
			if !found {
				t.Errorf("violations %v do not name %q", invalid.Violations, tt.field)
			}
		})
	}
	if _, err := eng.AssessTimeline(&pb.AssessTimelineRequest{CountryCode: "GT", StartDate: "1990-01-01", EndDate: "2020-01-01"}, today); err != nil {
		t.Errorf("exactly 30 years: %v", err)
	}
}
