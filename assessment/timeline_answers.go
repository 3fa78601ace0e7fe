package assessment

import (
	"context"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// maxTimelineYears bounds a timeline's range; its cost follows the change
// points in it, a few for each dated record of the country.
const maxTimelineYears = 30

// AssessTimeline answers an AssessTimelineRequest: the answer for one
// country from start_date to end_date, as contiguous segments each equal to
// AssessCountry's determination, practice and applicant outcome on every
// day inside it. The engine evaluates the question on the first day and on
// each change point the dated records give (timeline_points.go), never day
// by day, and joins the days whose answers agree. today is unused: a
// timeline names its days. Errors are *InvalidArgumentError or
// *NotFoundError.
func (e *Engine) AssessTimeline(req *safethirdv1.AssessTimelineRequest, today string) (*safethirdv1.AssessTimelineResponse, error) {
	return e.AssessTimelineContext(context.Background(), req, today)
}

// AssessTimelineContext is AssessTimeline for a call: when ctx is done, the
// evaluation stops and ctx's error is returned.
func (e *Engine) AssessTimelineContext(ctx context.Context, req *safethirdv1.AssessTimelineRequest, today string) (*safethirdv1.AssessTimelineResponse, error) {
	v, _, err := e.checkRules(ctx, req)
	if err != nil {
		return nil, err
	}
	country := checkCountry(e.snap, &v, "country_code", req.GetCountryCode())
	start, end := req.GetStartDate(), req.GetEndDate()
	datesValid := !v.has("start_date") && !v.has("end_date")
	if datesValid && end > addMonths(start, 12*maxTimelineYears) {
		v.add("end_date", "must be at most %d years after start_date", maxTimelineYears)
	}
	if app := req.GetApplicant(); app.GetEntryDate() != "" && datesValid && !v.has("applicant.entry_date") && app.GetEntryDate() > start {
		v.add("start_date", "must not be before applicant.entry_date: a day before the person's first entry cannot be assessed for them")
	}
	q, err := checkCommon(e.snap, &v, timelineFields{req}, today)
	if err != nil {
		return nil, err
	}
	q.country, q.ctx, q.transient, q.decideOnly = country, ctx, true, true
	points := e.changePointsOf(q, start, end)
	resp := &safethirdv1.AssessTimelineResponse{CountryCode: country.GetCode(), FrameworkId: q.framework.GetId(), DatasetRevision: e.snap.Revision()}
	var last *safethirdv1.TimelineSegment
	for _, day := range append([]string{start}, points.days()...) {
		on := *q
		on.asOf = day
		a, _ := e.build(&on)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seg := &safethirdv1.TimelineSegment{StartDate: day, Determination: a.GetDetermination(),
			PracticeStatus: a.GetPractice().GetStatus(), ApplicantOutcome: a.GetApplicantOutcome(), Changes: points[day]}
		if last != nil && sameAnswer(last, seg) {
			continue
		}
		if last != nil {
			last.EndDate = previousDay(day)
		}
		resp.Segments = append(resp.Segments, seg)
		last = seg
	}
	last.EndDate = end
	return resp, nil
}

// sameAnswer reports whether two segments give the same answer.
func sameAnswer(x, y *safethirdv1.TimelineSegment) bool {
	return x.GetDetermination() == y.GetDetermination() && x.GetPracticeStatus() == y.GetPracticeStatus() &&
		x.GetApplicantOutcome() == y.GetApplicantOutcome()
}

// timelineFields gives a timeline request the fields every assessment
// request has: its answers are evaluated in the BASIC view, and the
// applicant's facts are checked from the first day they can be assessed
// on (a start before the entry date is refused as start_date's fault).
type timelineFields struct {
	*safethirdv1.AssessTimelineRequest
}

func (t timelineFields) GetAsOf() string {
	return max(t.GetStartDate(), t.GetApplicant().GetEntryDate())
}

func (timelineFields) GetView() safethirdv1.AssessmentView {
	return safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC
}
