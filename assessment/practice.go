package assessment

import (
	"fmt"
	"slices"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// practice decides whether, on the date, the jurisdiction applies the bar
// to removals to the country. It reads only the timelines of the records
// the computed criteria relied on (in force or not, implemented, paused),
// never the findings: whether the country meets the statute is the other
// answer. Every computed criterion must allow the bar; the agreement's
// events say whether it was implemented.
func (b *builder) practice(ev *evaluation) *safethirdv1.Practice {
	p := &safethirdv1.Practice{}
	if a := ev.agreement(); a != nil {
		p.AgreementId = a.GetId()
	}
	records := ev.records
	if len(records) == 0 {
		// A framework with no criterion computed from records (the EU
		// Directive's case-by-case concept) may still be applied through a
		// state's designations: their timelines show its operation.
		// So may an agreement it applies with the country (the UK's with
		// France under s.80B).
		if ds := b.snap.Designations(b.q.framework.GetId(), b.q.jurisdiction, b.q.country.GetCode()); len(ds) > 0 {
			rs := designationStanding(ds, b.q.asOf, false)
			rs.optional = true
			records = []recordStanding{rs}
		}
		if as := b.agreementsApplied(); len(as) > 0 {
			best, s, e := mostInForce(as, b.q.asOf)
			records = append(records, recordStanding{kind: safethirdv1.CriterionKind_CRITERION_KIND_AGREEMENT, agreement: best,
				title: best.GetTitle(), events: best.GetEvents(), standing: s, event: e, optional: true})
			if p.AgreementId == "" && s != notInForce {
				p.AgreementId = best.GetId()
			}
		}
	}
	var decided []*safethirdv1.Practice
	for _, rs := range records {
		if d := b.recordPractice(rs); d != nil {
			decided = append(decided, d)
		}
	}
	if len(decided) == 0 {
		p.Status = safethirdv1.PracticeStatus_PRACTICE_STATUS_INDETERMINATE
		p.Reason = fmt.Sprintf("The dataset holds no agreement or designation under %s whose operation would show whether the bar was applied to %s on %s.",
			b.q.framework.GetCitation(), b.q.country.GetName(), b.q.asOf)
		return p
	}
	// The least favourable to the bar decides: one record that keeps the
	// bar from applying is enough.
	decisive := slices.MinFunc(decided, func(x, y *safethirdv1.Practice) int { return practiceRank(x.GetStatus()) - practiceRank(y.GetStatus()) })
	p.Status, p.Reason, p.Evidence = decisive.GetStatus(), decisive.GetReason(), decisive.GetEvidence()
	for _, rs := range records {
		p.Timeline = append(p.Timeline, eventsBy(rs.events, b.q.asOf)...)
	}
	slices.SortStableFunc(p.Timeline, func(x, y *safethirdv1.AgreementEvent) int {
		switch {
		case x.GetDate() < y.GetDate():
			return -1
		case x.GetDate() > y.GetDate():
			return 1
		}
		return 0
	})
	return p
}

// practiceRank orders practice from least to most favourable to the bar.
func practiceRank(s safethirdv1.PracticeStatus) int {
	switch s {
	case safethirdv1.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED:
		return 0
	case safethirdv1.PracticeStatus_PRACTICE_STATUS_INDETERMINATE:
		return 1
	case safethirdv1.PracticeStatus_PRACTICE_STATUS_PAUSED:
		return 2
	default:
		return 3
	}
}

// recordPractice is what one record says of the practice, or nil when it
// says nothing (a designation criterion in force whose timeline records no
// practice leaves that to the agreement).
func (b *builder) recordPractice(rs recordStanding) *safethirdv1.Practice {
	c, asOf := b.q.country.GetName(), b.q.asOf
	notApplied := func(why string) *safethirdv1.Practice {
		if rs.pastComplete {
			return &safethirdv1.Practice{Status: safethirdv1.PracticeStatus_PRACTICE_STATUS_INDETERMINATE,
				Reason: fmt.Sprintf("%s The dataset's list of agreements and designations is complete only up to %s, so it cannot say whether the bar was applied to %s on %s.",
					why, b.q.framework.GetAgreementsCompleteAsOf(), c, asOf)}
		}
		return &safethirdv1.Practice{Status: safethirdv1.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED,
			Reason: fmt.Sprintf("%s So the bar was not applied to removals to %s on %s.", why, c, asOf)}
	}
	kindWord := "agreement"
	if rs.kind == safethirdv1.CriterionKind_CRITERION_KIND_DESIGNATION {
		kindWord = "designation"
	}
	if rs.none {
		return notApplied(fmt.Sprintf("The dataset records no %s under %s that would send a person to %s.", kindWord, b.q.framework.GetCitation(), c))
	}
	status, e := practiceOn(rs.events, asOf)
	var p *safethirdv1.Practice
	switch {
	case rs.standing == notInForce && rs.optional && status != safethirdv1.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED:
		p = &safethirdv1.Practice{Status: safethirdv1.PracticeStatus_PRACTICE_STATUS_INDETERMINATE,
			Reason: fmt.Sprintf("%s The framework applies without a designation, so the sources cannot tell whether the bar was applied to removals to %s on %s.",
				timelineRationale(rs.title, rs.standing, rs.event, asOf), c, asOf)}
	case rs.standing == notInForce:
		p = notApplied(timelineRationale(rs.title, rs.standing, rs.event, asOf))
	case status == safethirdv1.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED:
		// Never applied (e.g. never implemented): whether it was in force
		// does not matter.
		return &safethirdv1.Practice{Status: status, Evidence: b.cite(e.GetEvidence()),
			Reason: fmt.Sprintf("%s was not applied to removals to %s on %s: %s.", rs.title, c, asOf, eventClause(e))}
	case rs.standing == undecided:
		p = &safethirdv1.Practice{Status: safethirdv1.PracticeStatus_PRACTICE_STATUS_INDETERMINATE,
			Reason: timelineRationale(rs.title, rs.standing, rs.event, asOf) + " So the sources cannot tell whether the bar was applied."}
	default:
		p = b.inForcePractice(rs, status, e)
		if p == nil {
			return nil
		}
		if e != nil {
			p.Evidence = b.cite(e.GetEvidence())
		}
		return p
	}
	if rs.event != nil {
		p.Evidence = b.cite(rs.event.GetEvidence())
	}
	return p
}

// inForcePractice describes the practice under a record in force.
func (b *builder) inForcePractice(rs recordStanding, status safethirdv1.PracticeStatus, e *safethirdv1.AgreementEvent) *safethirdv1.Practice {
	c, asOf := b.q.country.GetName(), b.q.asOf
	p := &safethirdv1.Practice{Status: status}
	switch status {
	case safethirdv1.PracticeStatus_PRACTICE_STATUS_APPLIED:
		p.Reason = fmt.Sprintf("The bar was applied to removals to %s on %s under %s: %s.", c, asOf, rs.title, eventClause(e))
	case safethirdv1.PracticeStatus_PRACTICE_STATUS_PAUSED:
		p.Reason = fmt.Sprintf("%s was in force on %s, but transfers to %s under it were paused: %s.", rs.title, asOf, c, eventClause(e))
	case safethirdv1.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED:
		p.Reason = fmt.Sprintf("%s was in force on %s, but it was not applied: %s.", rs.title, asOf, eventClause(e))
	case safethirdv1.PracticeStatus_PRACTICE_STATUS_INDETERMINATE:
		p.Reason = fmt.Sprintf("%s was in force on %s, but the sources cannot tell whether it was being applied then: %s.", rs.title, asOf, eventClause(e))
	default:
		if rs.leavesPractice {
			return nil
		}
		p.Status = safethirdv1.PracticeStatus_PRACTICE_STATUS_INDETERMINATE
		p.Reason = fmt.Sprintf("%s was in force on %s, but the sources do not say whether it was being applied (whether transfers to %s took place).", rs.title, asOf, c)
	}
	return p
}
