package assessment

import (
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// evaluation is what the criteria found on the date: their results and,
// for the computed ones, the record each relied on.
type evaluation struct {
	criteria []*safethirdv1.CriterionResult
	// records are the findings of the computed criteria, in framework order.
	records []recordStanding
	// stale holds, per criterion id, a note on stale decisive evidence.
	stale map[string]string
}

// agreement is the agreement relied on (in force or undecided on the
// date), or nil.
func (ev *evaluation) agreement() *safethirdv1.Agreement {
	for _, r := range ev.records {
		if r.agreement != nil && r.standing != notInForce {
			return r.agreement
		}
	}
	return nil
}

// evaluateCriteria evaluates the framework's criteria in order.
func (b *builder) evaluateCriteria() evaluation {
	criteria := b.q.framework.GetCriteria()
	ev := evaluation{criteria: make([]*safethirdv1.CriterionResult, len(criteria))}
	for i, c := range criteria {
		r := &safethirdv1.CriterionResult{CriterionId: c.GetId(), Title: c.GetTitle()}
		switch c.GetKind() {
		case safethirdv1.CriterionKind_CRITERION_KIND_AGREEMENT, safethirdv1.CriterionKind_CRITERION_KIND_DESIGNATION:
			rs := b.recordCriterion(c.GetKind(), r)
			ev.records = append(ev.records, rs)
		case safethirdv1.CriterionKind_CRITERION_KIND_CONDITION:
			b.conditionCriterion(c, r)
		default:
			b.findingsCriterion(r)
		}
		ev.criteria[i] = r
	}
	ev.stale = b.stale
	return ev
}

func statusOf(s standing) safethirdv1.CriterionStatus {
	switch s {
	case inForce:
		return safethirdv1.CriterionStatus_CRITERION_STATUS_MET
	case undecided:
		return safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE
	default:
		return safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
	}
}

func statusWord(s safethirdv1.CriterionStatus) string {
	switch s {
	case safethirdv1.CriterionStatus_CRITERION_STATUS_MET:
		return "met"
	case safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET:
		return "not met"
	default:
		return "indeterminate"
	}
}
