package assessment

import (
	"fmt"
	"slices"
	"time"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// The answer over time: an answer changes only on a day a dated record the
// engine reads for the question changes (dated.go's reached and passed), or
// a condition's value moves with the date assessed. changePoints lists
// those days from the records themselves, so a timeline is cut there
// rather than asked day by day. It lists each record the answer's
// determination, practice or applicant outcome can turn on: the
// agreements and designations between the jurisdiction and the country
// (their events, scope periods, and the conditions of their scopes and
// exceptions), the findings on the country, and the framework (the end of
// its known-complete list, and the conditions of its applicability rules
// and criteria). Warnings, staleness, contest limits, other bars and the
// hindsight of sources change the text of an answer, not those three.

// changePoints maps each day in (start, end] on which the answer may
// change to what changes on it.
type changePoints map[string][]*safethirdv1.TimelineChange

// add records a change on day, when day is in (start, end].
func (p changePoints) add(start, end, day string, c *safethirdv1.TimelineChange) {
	if day > start && day <= end {
		p[day] = append(p[day], c)
	}
}

// days are the change points in order.
func (p changePoints) days() []string {
	out := make([]string, 0, len(p))
	for d := range p {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// changePointsOf lists the change points of q's question between start and
// end, for q's applicant.
func (e *Engine) changePointsOf(q *query, start, end string) changePoints {
	p := changePoints{}
	f, j, c := q.framework, q.jurisdiction, q.country.GetCode()
	add := func(day string, kind safethirdv1.RecordKind, id, what string, evidence []*safethirdv1.Evidence) {
		p.add(start, end, day, &safethirdv1.TimelineChange{RecordKind: kind, RecordId: id, Description: what, SourceIds: sourceIDs(evidence)})
	}
	if pastComplete := nextDay(f.GetAgreementsCompleteAsOf()); pastComplete != "" {
		add(pastComplete, safethirdv1.RecordKind_RECORD_KIND_FRAMEWORK, f.GetId(),
			fmt.Sprintf("The dataset's list of agreements and designations for %s is known to be complete only up to %s.", f.GetId(), f.GetAgreementsCompleteAsOf()), nil)
	}
	for _, dc := range e.conditionsOf(q) {
		prg, ok := e.snap.Program(dc.expr)
		if !ok {
			continue
		}
		for _, day := range prg.ChangeDates(condition.Input{Applicant: q.applicant}) {
			add(day, dc.kind, dc.id, fmt.Sprintf("%s, a condition on the date, may change on %s.", dc.what, day), dc.evidence)
		}
	}
	for _, cr := range f.GetCriteria() {
		for _, fd := range e.snap.Findings(c, f.GetId(), cr.GetId()) {
			who := "everyone"
			if fd.GetGroupLabel() != "" {
				who = fd.GetGroupLabel()
			}
			add(fd.GetValidFrom(), safethirdv1.RecordKind_RECORD_KIND_FINDING, fd.GetId(),
				fmt.Sprintf("Finding %s (%s for %s) holds from %s.", fd.GetId(), statusWord(fd.GetStatus()), who, fd.GetValidFrom()), fd.GetEvidence())
			if until := fd.GetValidUntil(); until != "" {
				add(nextDay(until), safethirdv1.RecordKind_RECORD_KIND_FINDING, fd.GetId(),
					fmt.Sprintf("Finding %s (%s for %s) held until %s.", fd.GetId(), statusWord(fd.GetStatus()), who, until), fd.GetEvidence())
			}
		}
	}
	for _, a := range e.snap.AgreementsWith(j, c) {
		kind := safethirdv1.RecordKind_RECORD_KIND_AGREEMENT
		for _, ev := range a.GetEvents() {
			eventPoints(add, kind, a.GetId(), a.GetTitle(), ev)
		}
		for _, sc := range a.GetScopes() {
			add(sc.GetValidFrom(), kind, a.GetId(), fmt.Sprintf("A period of the scope of %s begins on %s.", a.GetTitle(), sc.GetValidFrom()), sc.GetEvidence())
			if until := sc.GetValidUntil(); until != "" {
				add(nextDay(until), kind, a.GetId(), fmt.Sprintf("A period of the scope of %s ended on %s.", a.GetTitle(), until), sc.GetEvidence())
			}
		}
	}
	for _, d := range e.snap.Designations(f.GetId(), j, c) {
		for _, ev := range d.GetEvents() {
			eventPoints(add, safethirdv1.RecordKind_RECORD_KIND_DESIGNATION, d.GetId(), d.GetTitle(), ev)
		}
	}
	return p
}

// dataCondition is a condition in the data with the record it belongs to.
type dataCondition struct {
	kind     safethirdv1.RecordKind
	id, what string
	evidence []*safethirdv1.Evidence
	expr     string
}

// conditionsOf lists the conditions an answer to q's question may read on
// any day: those of the framework's applicability rules and criteria, of
// the country's findings for particular groups, and of the scopes and
// exceptions of the agreements between the jurisdiction and the country.
func (e *Engine) conditionsOf(q *query) []dataCondition {
	var out []dataCondition
	add := func(kind safethirdv1.RecordKind, id, what string, evidence []*safethirdv1.Evidence, exprs ...string) {
		for _, expr := range exprs {
			if expr != "" {
				out = append(out, dataCondition{kind, id, what, evidence, expr})
			}
		}
	}
	f, c := q.framework, q.country.GetCode()
	for _, r := range f.GetApplicability() {
		add(safethirdv1.RecordKind_RECORD_KIND_FRAMEWORK, f.GetId(), fmt.Sprintf("The rule %q", r.GetTitle()), r.GetEvidence(), r.GetCondition())
	}
	for _, cr := range f.GetCriteria() {
		add(safethirdv1.RecordKind_RECORD_KIND_FRAMEWORK, f.GetId(), fmt.Sprintf("The criterion %q", cr.GetTitle()), cr.GetEvidence(), cr.GetCondition(), cr.GetNecessaryCondition())
		for _, fd := range e.snap.Findings(c, f.GetId(), cr.GetId()) {
			add(safethirdv1.RecordKind_RECORD_KIND_FINDING, fd.GetId(), fmt.Sprintf("Finding %s's group", fd.GetId()), fd.GetEvidence(), fd.GetGroupCondition())
		}
	}
	for _, a := range e.snap.AgreementsWith(q.jurisdiction, c) {
		kind := safethirdv1.RecordKind_RECORD_KIND_AGREEMENT
		for _, sc := range a.GetScopes() {
			add(kind, a.GetId(), fmt.Sprintf("The scope of %s", a.GetTitle()), sc.GetEvidence(), sc.GetCondition())
		}
		for _, x := range a.GetExceptions() {
			add(kind, a.GetId(), fmt.Sprintf("The exception %q", x.GetTitle()), x.GetEvidence(), x.GetCondition(), x.GetNecessaryCondition())
		}
	}
	return out
}

// eventPoints adds the days an event changes the answer on: the day it
// happened, or the first and last days of the window it happened in.
func eventPoints(add func(string, safethirdv1.RecordKind, string, string, []*safethirdv1.Evidence), kind safethirdv1.RecordKind, id, title string, ev *safethirdv1.AgreementEvent) {
	what := sentence(fmt.Sprintf("%s: %s", title, eventClause(ev)))
	if ev.GetEarliestDate() != "" {
		add(ev.GetEarliestDate(), kind, id, what, ev.GetEvidence())
	}
	if ev.GetDate() != "" {
		add(ev.GetDate(), kind, id, what, ev.GetEvidence())
	}
}

// sourceIDs are the sources of evidence, once each, in order.
func sourceIDs(evidence []*safethirdv1.Evidence) []string {
	var out []string
	for _, e := range evidence {
		if !slices.Contains(out, e.GetSourceId()) {
			out = append(out, e.GetSourceId())
		}
	}
	return out
}

// nextDay is the day after a YYYY-MM-DD date; empty for an empty or
// malformed one.
func nextDay(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, 1).Format(time.DateOnly)
}

// previousDay is the day before a YYYY-MM-DD date.
func previousDay(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return ""
	}
	return t.AddDate(0, 0, -1).Format(time.DateOnly)
}
