package assessment

import (
	"fmt"
	"slices"
	"strings"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// recordStanding is what one computed criterion found: the agreement or
// designation most in force on the date, or that there is none.
type recordStanding struct {
	kind      safethirdv1.CriterionKind
	agreement *safethirdv1.Agreement // for CRITERION_KIND_AGREEMENT
	title     string                 // the record's title, with its citation for a designation
	events    []*safethirdv1.AgreementEvent
	standing  standing
	event     *safethirdv1.AgreementEvent // the event that decided the standing, if any
	none      bool                        // no record at all
	// pastComplete is set when the date is later than the framework's
	// list of agreements and designations is known to be complete.
	pastComplete bool
	// leavesPractice is set for a designation criterion: where its
	// timeline records no practice, the agreement's says it.
	leavesPractice bool
	// optional is set for a designation under a framework that needs
	// none: its lapse alone does not show that the bar was not applied.
	optional bool
}

// pastComplete reports whether the date is later than the framework's list
// of agreements and designations is known to be complete, and warns so.
func (b *builder) pastComplete() bool {
	f := b.q.framework
	if !pastCompleteOn(f, b.q.asOf) {
		return false
	}
	b.warn("The dataset's list of agreements and designations for %s is known to be complete only up to %s; %s is later.",
		f.GetId(), f.GetAgreementsCompleteAsOf(), b.q.asOf)
	return true
}

// recordCriterion decides a criterion computed from agreements or
// designations: met when one is in force on the date. Past the date up to
// which the list is known to be complete, the absence of one in force is
// not knowledge, so the criterion is indeterminate rather than not met.
func (b *builder) recordCriterion(kind safethirdv1.CriterionKind, r *safethirdv1.CriterionResult) recordStanding {
	f, j, c := b.q.framework, b.q.jurisdiction, b.q.country.GetCode()
	rs := recordStanding{kind: kind, pastComplete: b.pastComplete()}
	var what string
	switch kind {
	case safethirdv1.CriterionKind_CRITERION_KIND_AGREEMENT:
		what = fmt.Sprintf("agreement between %s and %s", j, c)
		if as := b.agreementsApplied(); len(as) > 0 {
			best, s, e := mostInForce(as, b.q.asOf)
			rs.agreement, rs.title, rs.events, rs.standing, rs.event = best, best.GetTitle(), best.GetEvents(), s, e
		} else {
			rs.none = true
		}
	default:
		what = fmt.Sprintf("designation of %s by %s", c, j)
		if ds := b.snap.Designations(f.GetId(), j, c); len(ds) > 0 {
			rs = designationStanding(ds, b.q.asOf, rs.pastComplete)
			rs.leavesPractice = true
			if rs.event == nil {
				r.Evidence = b.cite(ds[0].GetEvidence())
			}
		} else {
			rs.none = true
		}
	}
	complete := fmt.Sprintf("its list is complete up to %s", f.GetAgreementsCompleteAsOf())
	switch {
	case rs.none && rs.pastComplete:
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE
		r.Rationale = fmt.Sprintf("The dataset records no %s, but %s and %s is later, so it cannot say that none was in force.", what, complete, b.q.asOf)
		return rs
	case rs.none:
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
		r.Rationale = fmt.Sprintf("The dataset records no %s; %s.", what, complete)
		return rs
	}
	r.Status = statusOf(rs.standing)
	r.Rationale = timelineRationale(rs.title, rs.standing, rs.event, b.q.asOf)
	if rs.standing == notInForce && rs.pastComplete {
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE
		r.Rationale += fmt.Sprintf(" The dataset's list is complete only up to %s, so it cannot say that no %s was in force on %s.", f.GetAgreementsCompleteAsOf(), what, b.q.asOf)
	}
	if rs.event != nil {
		r.Evidence = b.cite(rs.event.GetEvidence())
	}
	if rs.standing != notInForce {
		for _, w := range eventWarnings(rs.events, b.q.asOf) {
			b.warn("%s", w)
		}
	}
	b.agreementNotes(kind, r)
	return rs
}

// agreementsApplied are the agreements between the jurisdiction and the
// country that the jurisdiction applies (applied_by_codes empty or naming
// it): an agreement only one party applies does not bar claims made in the
// other.
func (b *builder) agreementsApplied() []*safethirdv1.Agreement {
	var out []*safethirdv1.Agreement
	for _, a := range b.snap.AgreementsWith(b.q.jurisdiction, b.q.country.GetCode()) {
		if by := a.GetAppliedByCodes(); len(by) == 0 || slices.Contains(by, b.q.jurisdiction) {
			out = append(out, a)
		}
	}
	return out
}

// agreementNotes adds to an agreement criterion what the sources say, by
// the date, of agreements the dataset does not record (announced but
// denied, disputed), so the answer can say why none is recorded.
func (b *builder) agreementNotes(kind safethirdv1.CriterionKind, r *safethirdv1.CriterionResult) {
	if kind != safethirdv1.CriterionKind_CRITERION_KIND_AGREEMENT {
		return
	}
	var notes []string
	for _, n := range b.q.country.GetAgreementNotes() {
		if !reached(n.GetDate(), b.q.asOf) {
			continue
		}
		notes = append(notes, fmt.Sprintf("on %s, %s", n.GetDate(), strings.TrimSuffix(n.GetDescription(), ".")))
		// The evidence may be the snapshot's own slice: build a new one.
		r.Evidence = slices.Concat(r.GetEvidence(), b.cite(n.GetEvidence()))
	}
	if len(notes) > 0 {
		r.Rationale += " Also on record, of an agreement the dataset does not record: " + strings.Join(notes, "; ") + "."
	}
}

// designationStanding is what the designations of a country say on the
// date: the one most in force, with its standing and deciding event.
func designationStanding(ds []*safethirdv1.Designation, asOf string, pastComplete bool) recordStanding {
	best, s, e := mostInForce(ds, asOf)
	return recordStanding{kind: safethirdv1.CriterionKind_CRITERION_KIND_DESIGNATION, title: best.GetTitle() + " (" + best.GetCitation() + ")",
		events: best.GetEvents(), standing: s, event: e, pastComplete: pastComplete}
}

func timelineRationale(title string, s standing, e *safethirdv1.AgreementEvent, asOf string) string {
	switch {
	case e == nil:
		return fmt.Sprintf("%s was not in force on %s: no event of its timeline had brought it into force by then.", title, asOf)
	case s == inForce:
		return fmt.Sprintf("%s was in force on %s: %s.", title, asOf, eventClause(e))
	case s == undecided:
		return fmt.Sprintf("The sources cannot tell whether %s was in force on %s: %s.", title, asOf, eventClause(e))
	default:
		return fmt.Sprintf("%s was not in force on %s: %s.", title, asOf, eventClause(e))
	}
}
