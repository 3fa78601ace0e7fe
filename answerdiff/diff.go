package answerdiff

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// Options bound the dates compared.
type Options struct {
	// From and To (YYYY-MM-DD, inclusive), when set, bound the grid;
	// From is always one of its dates.
	From, To string
}

// Report is the difference between the answers of two datasets.
type Report struct {
	// Old and New are the two revisions compared.
	Old string `json:"old_revision"`
	New string `json:"new_revision"`
	// Dates is how many dates of the grid were compared, First and Last
	// the first and the last of them.
	Dates int    `json:"dates_compared"`
	First string `json:"first_date,omitempty"`
	Last  string `json:"last_date,omitempty"`
	// Questions is how many framework, country, state and group lines were
	// compared on each date.
	Questions int `json:"questions_compared"`
	// Records lists the records added, removed or changed.
	Records []RecordChange `json:"records_changed"`
	// Changes lists the answers that differ, by framework, country,
	// applying state, group and first date.
	Changes []Change `json:"answers_changed"`
}

// RecordChange is one record that differs between the datasets.
type RecordChange struct {
	// Record is "kind/id", e.g. "findings/gt-fair-procedure".
	Record string `json:"record"`
	// Change is "added", "removed" or "changed".
	Change string `json:"change"`
}

// Change is an answer that differs over a span of dates.
type Change struct {
	Framework     string `json:"framework_id"`
	Country       string `json:"country_code"`
	ApplyingState string `json:"applying_state_code,omitempty"`
	// Group is the applicant group asked about (an ApplicantGroup name),
	// empty for a question without an applicant.
	Group string `json:"group,omitempty"`
	// From is the first date of the span; Until its last (inclusive),
	// empty when it runs past the last date compared.
	From  string `json:"from"`
	Until string `json:"until,omitempty"`
	// Before and After are the answers of the old and the new dataset.
	Before Answer `json:"before"`
	After  Answer `json:"after"`
	// Criteria lists the criteria whose status differs.
	Criteria []CriterionChange `json:"criteria,omitempty"`
	// Records lists the changed records the two answers rest on.
	Records []string `json:"records,omitempty"`
}

// Answer is what is compared of an assessment.
type Answer struct {
	Determination    string `json:"determination,omitempty"`
	Practice         string `json:"practice,omitempty"`
	ApplicantOutcome string `json:"applicant_outcome,omitempty"`
	// Refused says why the engine gave no answer (e.g. a framework the
	// dataset does not hold).
	Refused  string            `json:"refused,omitempty"`
	criteria map[string]string // by id
}

// CriterionChange is a criterion whose status differs.
type CriterionChange struct {
	ID     string `json:"criterion_id"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Compare reports every answer that differs between old and new on the
// grid of their change points.
func Compare(ctx context.Context, old, new *dataset.Snapshot, opts Options) (*Report, error) {
	r := &Report{Old: old.Revision(), New: new.Revision(), Records: recordChanges(old, new)}
	dates := changePoints(opts.From, opts.To, old, new)
	qs := questions(old, new)
	r.Dates, r.Questions = len(dates), len(qs)
	if len(dates) > 0 {
		r.First, r.Last = dates[0], dates[len(dates)-1]
	}
	if old.Revision() == new.Revision() {
		return r, nil // the same content answers the same
	}
	engines := [2]*assessment.Engine{assessment.New(old), assessment.New(new)}
	changed := map[string]bool{}
	for _, rc := range r.Records {
		changed[rc.Record] = true
	}
	for _, q := range qs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		answers := compareOn(engines, q, dates)
		// A span is a run of dates on which the same things moved the same
		// way; the answers around them may differ in what did not move.
		for i := 0; i < len(dates); {
			c := newChange(q, dates[i], answers[i][0], answers[i][1])
			moved := c.moves()
			j := i + 1
			for j < len(dates) && slices.Equal(newChange(q, dates[j], answers[j][0], answers[j][1]).moves(), moved) {
				j++
			}
			if len(moved) > 0 {
				if j < len(dates) {
					c.Until = addDays(dates[j], -1)
				} else if opts.To != "" {
					c.Until = opts.To
				}
				c.Records = changedRecords(engines, q, dates[i], changed)
				r.Changes = append(r.Changes, c)
			}
			i = j
		}
	}
	return r, nil
}

// compareOn answers q on each date with both engines, in parallel.
func compareOn(engines [2]*assessment.Engine, q question, dates []string) [][2]Answer {
	out := make([][2]Answer, len(dates))
	var wg sync.WaitGroup
	for side := range engines {
		wg.Go(func() {
			for i, d := range dates {
				out[i][side] = summarize(engines[side], q, d)
			}
		})
	}
	wg.Wait()
	return out
}

// summarize asks one engine q on a date.
func summarize(eng *assessment.Engine, q question, asOf string) Answer {
	a, err := eng.AssessCountry(q.request(asOf, safethirdv1.AssessmentView_ASSESSMENT_VIEW_BASIC), asOf)
	if err != nil {
		return Answer{Refused: err.Error()}
	}
	ans := Answer{
		Determination:    short(a.GetDetermination().String(), "DETERMINATION_"),
		Practice:         short(a.GetPractice().GetStatus().String(), "PRACTICE_STATUS_"),
		ApplicantOutcome: short(a.GetApplicantOutcome().String(), "APPLICANT_OUTCOME_"),
		criteria:         map[string]string{},
	}
	for _, c := range a.GetCriteria() {
		ans.criteria[c.GetCriterionId()] = short(c.GetStatus().String(), "CRITERION_STATUS_")
	}
	return ans
}

// short drops an enum name's prefix, and its UNSPECIFIED value.
func short(name, prefix string) string {
	if strings.HasSuffix(name, "_UNSPECIFIED") {
		return ""
	}
	return strings.TrimPrefix(name, prefix)
}

// newChange is the difference of two answers to q on a date: the answers
// and the criteria whose status differs.
func newChange(q question, from string, before, after Answer) Change {
	c := Change{Framework: q.framework, Country: q.country, ApplyingState: q.applyingState, From: from, Before: before, After: after}
	if q.group != safethirdv1.ApplicantGroup_APPLICANT_GROUP_UNSPECIFIED {
		c.Group = q.group.String()
	}
	ids := map[string]bool{}
	for id := range before.criteria {
		ids[id] = true
	}
	for id := range after.criteria {
		ids[id] = true
	}
	for _, id := range sorted(ids) {
		if before.criteria[id] != after.criteria[id] {
			c.Criteria = append(c.Criteria, CriterionChange{ID: id, Before: before.criteria[id], After: after.criteria[id]})
		}
	}
	return c
}

// changedRecords lists the changed records that the answers of either
// engine to q on a date rest on.
func changedRecords(engines [2]*assessment.Engine, q question, asOf string, changed map[string]bool) []string {
	rested := map[string]bool{}
	for _, eng := range engines {
		for _, rec := range reliedOn(eng, q, asOf) {
			if changed[rec] {
				rested[rec] = true
			}
		}
	}
	return sorted(rested)
}

// reliedOn lists the records an answer rests on: its framework, the
// country, the agreement and findings it names, the designations the
// engine reads for it, and the sources it cites.
func reliedOn(eng *assessment.Engine, q question, asOf string) []string {
	a, err := eng.AssessCountry(q.request(asOf, safethirdv1.AssessmentView_ASSESSMENT_VIEW_FULL), asOf)
	if err != nil {
		return []string{"frameworks/" + q.framework, "countries/" + q.country}
	}
	out := []string{"frameworks/" + q.framework, "countries/" + q.country}
	for _, id := range []string{a.GetAgreementId(), a.GetPractice().GetAgreementId()} {
		if id != "" {
			out = append(out, "agreements/"+id)
		}
	}
	for _, c := range a.GetCriteria() {
		for _, id := range c.GetFindingIds() {
			out = append(out, "findings/"+id)
		}
	}
	snap := eng.Snapshot()
	state := q.applyingState
	if f, ok := snap.Framework(q.framework); ok && state == "" {
		state = f.GetJurisdictionCode()
	}
	for _, d := range snap.Designations(q.framework, state, q.country) {
		out = append(out, "designations/"+d.GetId())
	}
	for _, s := range a.GetSources() {
		out = append(out, "sources/"+s.GetId())
	}
	return out
}

// recordChanges lists the records added, removed or changed, by kind and id.
func recordChanges(old, new *dataset.Snapshot) []RecordChange {
	index := func(s *dataset.Snapshot) map[string]proto.Message {
		m := map[string]proto.Message{}
		for _, r := range s.Records() {
			m[r.Kind+"/"+r.ID] = r.Message
		}
		return m
	}
	o, n := index(old), index(new)
	var out []RecordChange
	for k, om := range o {
		nm, ok := n[k]
		switch {
		case !ok:
			out = append(out, RecordChange{Record: k, Change: "removed"})
		case !proto.Equal(om, nm):
			out = append(out, RecordChange{Record: k, Change: "changed"})
		}
	}
	for k := range n {
		if _, ok := o[k]; !ok {
			out = append(out, RecordChange{Record: k, Change: "added"})
		}
	}
	slices.SortFunc(out, func(a, b RecordChange) int { return cmp.Compare(a.Record, b.Record) })
	return out
}
