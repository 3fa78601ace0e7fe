package assessment

import (
	"fmt"
	"strings"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// conditionCriterion decides a criterion that bears on the applicant (a
// connection with, or transit through, the country) by its conditions in
// the data, as an exception is decided: a necessary condition false means
// not met; a precise condition true or false decides; facts not given, or
// a test not in the data, leave it indeterminate and say which.
func (b *builder) conditionCriterion(c *safethirdv1.Criterion, r *safethirdv1.CriterionResult) {
	b.applicantSensitive = true
	r.Evidence = b.cite(c.GetEvidence())
	r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE
	requirement := sentence(c.GetDescription())
	if b.q.applicant == nil {
		r.Rationale = "It is decided for an applicant, on their facts: give them to decide it. " + requirement
		return
	}
	if nc := c.GetNecessaryCondition(); nc != "" {
		switch res := b.evalCondition(nc); res.Value {
		case condition.False:
			r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
			r.Rationale = "On the facts given, a requirement the sources confirm is not met. " + requirement
			return
		case condition.Unknown:
			r.MissingFacts = res.Missing
			r.Rationale = fmt.Sprintf("It depends on facts not given: %s. %s", strings.Join(res.Missing, ", "), requirement)
			return
		}
	}
	if c.GetCondition() == "" {
		r.Rationale = fmt.Sprintf("The dataset does not hold this requirement's test in a form it can decide on the facts given; check %s. %s", c.GetTestProvision(), requirement)
		return
	}
	switch res := b.evalCondition(c.GetCondition()); res.Value {
	case condition.True:
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_MET
		r.Rationale = "On the facts given, the applicant meets it. " + requirement
	case condition.False:
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
		r.Rationale = "On the facts given, the applicant does not meet it. " + requirement
	default:
		r.MissingFacts = res.Missing
		r.Rationale = fmt.Sprintf("It depends on facts not given: %s. %s", strings.Join(res.Missing, ", "), requirement)
	}
}

// applicantCriteria returns the criteria decided for the applicant by a
// condition, which bear on the outcome like the agreement's scope.
func applicantCriteria(f *safethirdv1.Framework, results []*safethirdv1.CriterionResult) []*safethirdv1.CriterionResult {
	var out []*safethirdv1.CriterionResult
	for i, c := range f.GetCriteria() {
		if c.GetKind() == safethirdv1.CriterionKind_CRITERION_KIND_CONDITION && i < len(results) {
			out = append(out, results[i])
		}
	}
	return out
}
