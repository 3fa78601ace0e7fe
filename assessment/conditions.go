package assessment

import (
	"fmt"
	"slices"
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
	type verdict struct {
		status safethirdv1.CriterionStatus
		why    string
	}
	met, notMet := safethirdv1.CriterionStatus_CRITERION_STATUS_MET, safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
	steps := []struct {
		expr    string
		decides map[condition.Value]verdict
	}{
		{c.GetNecessaryCondition(), map[condition.Value]verdict{condition.False: {notMet, "On the facts given, a requirement the sources confirm is not met."}}},
		{c.GetCondition(), map[condition.Value]verdict{
			condition.True:  {met, "On the facts given, the applicant meets it."},
			condition.False: {notMet, "On the facts given, the applicant does not meet it."},
		}},
	}
	var missing []string
	for _, step := range steps {
		if step.expr == "" {
			continue
		}
		res := b.evalCondition(step.expr)
		if v, ok := step.decides[res.Value]; ok {
			r.Status, r.Rationale = v.status, v.why+" "+requirement
			return
		}
		for _, m := range res.Missing {
			if !slices.Contains(missing, m) {
				missing = append(missing, m)
			}
		}
	}
	if len(missing) > 0 {
		r.MissingFacts = missing
		r.Rationale = fmt.Sprintf("It depends on facts not given: %s. %s", strings.Join(missing, ", "), requirement)
		return
	}
	r.Rationale = fmt.Sprintf("The dataset does not hold this requirement's test in a form it can decide on the facts given; check %s. %s", c.GetTestProvision(), requirement)
}

// applicantCriteria returns the criteria decided for the applicant by a
// condition, which bear on the outcome like the agreement's scope.
func applicantCriteria(f *safethirdv1.Framework, results []*safethirdv1.CriterionResult) []*safethirdv1.CriterionResult {
	return criteriaWhere(f, results, true)
}

// countryCriteria returns the criteria on the country, which alone decide
// whether it meets the statute: the determination is about the country,
// not about one applicant's link to it.
func countryCriteria(f *safethirdv1.Framework, results []*safethirdv1.CriterionResult) []*safethirdv1.CriterionResult {
	return criteriaWhere(f, results, false)
}

func criteriaWhere(f *safethirdv1.Framework, results []*safethirdv1.CriterionResult, applicant bool) []*safethirdv1.CriterionResult {
	var out []*safethirdv1.CriterionResult
	for i, c := range f.GetCriteria() {
		if (c.GetKind() == safethirdv1.CriterionKind_CRITERION_KIND_CONDITION) == applicant && i < len(results) {
			out = append(out, results[i])
		}
	}
	return out
}
