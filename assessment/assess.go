package assessment

import (
	"fmt"
	"slices"
	"strings"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// Disclaimer is carried by every assessment.
const Disclaimer = "This is an assessment of documented conditions against the cited sources, not a legal determination."

// build computes an assessment, taking the criteria from the memo where
// they do not depend on the applicant.
func (e *Engine) build(q *query) *safethirdv1.Assessment {
	snap := e.snap
	b := &builder{engine: e, snap: snap, q: q}
	f, c := q.framework, q.country
	a := &safethirdv1.Assessment{
		CountryCode:     c.GetCode(),
		CountryName:     c.GetName(),
		FrameworkId:     f.GetId(),
		AsOf:            q.asOf,
		DatasetRevision: snap.Revision(),
		Discretion:      f.GetDiscretion(),
		Disclaimer:      Disclaimer,
	}
	b.cite(f.GetEvidence())
	if why := notApplicable(q); why != "" {
		a.Determination = safethirdv1.Determination_DETERMINATION_NOT_APPLICABLE
		if q.applicant != nil {
			a.ApplicantOutcome = safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY
		}
		a.Summary = fmt.Sprintf("As of %s, under %s, the safe-third-country bar cannot send a person to %s (%s): %s %s",
			q.asOf, f.GetCitation(), c.GetName(), c.GetCode(), why, Disclaimer)
		b.finish(a)
		return a
	}
	a.Criteria = e.criteria(b)
	a.Determination = determination(a.Criteria)
	if b.agreement != nil {
		a.AgreementId = b.agreement.GetId()
	}
	a.Exceptions = b.exceptions()
	a.Scope = b.scope()
	a.ApplicantOutcome = applicantOutcome(q, a)
	a.Summary = summary(q, a)
	b.finish(a)
	return a
}

// finish adds warnings and sources, and applies the view.
func (b *builder) finish(a *safethirdv1.Assessment) {
	a.Warnings = b.warnings
	if !b.q.full {
		a.Criteria = withoutEvidence(a.Criteria)
		return
	}
	slices.Sort(b.sourceIDs)
	for _, id := range slices.Compact(b.sourceIDs) {
		if src, ok := b.snap.Source(id); ok {
			a.Sources = append(a.Sources, src)
		}
	}
}

// withoutEvidence copies criteria without their evidence, for the BASIC
// view; the criteria may be shared, so they are never changed in place.
func withoutEvidence(criteria []*safethirdv1.CriterionResult) []*safethirdv1.CriterionResult {
	out := make([]*safethirdv1.CriterionResult, len(criteria))
	for i, c := range criteria {
		out[i] = &safethirdv1.CriterionResult{
			CriterionId: c.GetCriterionId(),
			Title:       c.GetTitle(),
			Status:      c.GetStatus(),
			Rationale:   c.GetRationale(),
			FindingIds:  c.GetFindingIds(),
		}
	}
	return out
}

// notApplicable says why the bar cannot apply to the country at all, or "".
func notApplicable(q *query) string {
	c, f, app := q.country.GetCode(), q.framework, q.applicant
	switch {
	case c == f.GetJurisdictionCode():
		return fmt.Sprintf("it is the framework's own jurisdiction, where the claim is made. %s", sentence(f.GetNationalityRule()))
	case app.GetNationalityCode() == c:
		return fmt.Sprintf("it is the applicant's country of nationality. %s", sentence(f.GetNationalityRule()))
	case app.GetStateless() && app.GetLastHabitualResidenceCode() == c:
		return fmt.Sprintf("the applicant is stateless and it is the country of last habitual residence. %s", sentence(f.GetNationalityRule()))
	}
	return ""
}

func determination(criteria []*safethirdv1.CriterionResult) safethirdv1.Determination {
	allMet := true
	for _, c := range criteria {
		switch c.GetStatus() {
		case safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET:
			return safethirdv1.Determination_DETERMINATION_DOES_NOT_QUALIFY
		case safethirdv1.CriterionStatus_CRITERION_STATUS_MET:
		default:
			allMet = false
		}
	}
	if allMet {
		return safethirdv1.Determination_DETERMINATION_QUALIFIES
	}
	return safethirdv1.Determination_DETERMINATION_INDETERMINATE
}

// applicantOutcome applies the rules for the applicant: the bar does not
// apply when the country does not qualify, the applicant is outside the
// agreement's scope or an exception applies; facts not given come next;
// then what the data cannot decide; only then may the bar apply.
func applicantOutcome(q *query, a *safethirdv1.Assessment) safethirdv1.ApplicantOutcome {
	if q.applicant == nil {
		return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED
	}
	switch a.GetDetermination() {
	case safethirdv1.Determination_DETERMINATION_DOES_NOT_QUALIFY, safethirdv1.Determination_DETERMINATION_NOT_APPLICABLE:
		return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY
	case safethirdv1.Determination_DETERMINATION_INDETERMINATE:
		return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_INDETERMINATE
	}
	scope := a.GetScope().GetStatus()
	has := func(s safethirdv1.ExceptionStatus) bool {
		return slices.ContainsFunc(a.GetExceptions(), func(x *safethirdv1.ExceptionResult) bool { return x.GetStatus() == s })
	}
	switch {
	case scope == safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE || has(safethirdv1.ExceptionStatus_EXCEPTION_STATUS_APPLIES):
		return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY
	case scope == safethirdv1.ScopeStatus_SCOPE_STATUS_NEEDS_FACTS || has(safethirdv1.ExceptionStatus_EXCEPTION_STATUS_NEEDS_FACTS) || nationalityUnknown(q.applicant):
		return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_NEEDS_FACTS
	case scope == safethirdv1.ScopeStatus_SCOPE_STATUS_UNKNOWN || has(safethirdv1.ExceptionStatus_EXCEPTION_STATUS_TEST_NOT_IN_DATA):
		return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_INDETERMINATE
	}
	return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_MAY_APPLY
}

// nationalityUnknown reports whether the nationality rule cannot be
// checked: neither a nationality nor statelessness with a last habitual
// residence was given.
func nationalityUnknown(a *safethirdv1.Applicant) bool {
	if a.NationalityCode != nil {
		return false
	}
	return !(a.GetStateless() && a.LastHabitualResidenceCode != nil)
}

func determinationPhrase(d safethirdv1.Determination) string {
	switch d {
	case safethirdv1.Determination_DETERMINATION_QUALIFIES:
		return "meets every documented requirement to be treated as a safe third country"
	case safethirdv1.Determination_DETERMINATION_DOES_NOT_QUALIFY:
		return "does not qualify as a safe third country"
	default:
		return "cannot be shown on the dataset's evidence to qualify or not to qualify as a safe third country"
	}
}

// summary writes the paragraph a lawyer could paste: country, date,
// framework, the decisive criterion and why, the applicant's outcome, the
// discretion, and the disclaimer.
func summary(q *query, a *safethirdv1.Assessment) string {
	f, c := q.framework, q.country
	var s strings.Builder
	fmt.Fprintf(&s, "As of %s, under %s, %s (%s) %s.", q.asOf, f.GetCitation(), c.GetName(), c.GetCode(), determinationPhrase(a.GetDetermination()))
	if d := decisive(a); d != nil {
		fmt.Fprintf(&s, " Decisive: %s (%s): %s", d.GetTitle(), statusWord(d.GetStatus()), d.GetRationale())
	}
	switch a.GetApplicantOutcome() {
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_MAY_APPLY:
		s.WriteString(" For this applicant, on the facts given, the bar may apply.")
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY:
		s.WriteString(" For this applicant, the bar does not apply" + outcomeReason(a) + ".")
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_NEEDS_FACTS:
		s.WriteString(" For this applicant, the answer depends on facts not given: " + strings.Join(missingFacts(q, a), ", ") + ".")
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_INDETERMINATE:
		s.WriteString(" For this applicant, the dataset's evidence does not decide whether the bar applies.")
	}
	if f.GetDiscretion() != "" {
		s.WriteString(" " + sentence(f.GetDiscretion()))
	}
	s.WriteString(" " + Disclaimer)
	return s.String()
}

// decisive is the criterion that decided the determination: the first not
// met, else the first indeterminate, else none (all met).
func decisive(a *safethirdv1.Assessment) *safethirdv1.CriterionResult {
	for _, want := range []safethirdv1.CriterionStatus{safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET, safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE} {
		for _, c := range a.GetCriteria() {
			if c.GetStatus() == want {
				return c
			}
		}
	}
	return nil
}

func outcomeReason(a *safethirdv1.Assessment) string {
	if a.GetDetermination() != safethirdv1.Determination_DETERMINATION_QUALIFIES {
		return ", because the country does not qualify"
	}
	if a.GetScope().GetStatus() == safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE {
		return ", because the applicant is outside the agreement's scope"
	}
	for _, x := range a.GetExceptions() {
		if x.GetStatus() == safethirdv1.ExceptionStatus_EXCEPTION_STATUS_APPLIES {
			return ", because an exception applies: " + x.GetTitle()
		}
	}
	return ""
}

// missingFacts lists, once each and sorted, the Applicant fields that
// would decide the outcome.
func missingFacts(q *query, a *safethirdv1.Assessment) []string {
	var out []string
	out = append(out, a.GetScope().GetMissingFacts()...)
	for _, x := range a.GetExceptions() {
		out = append(out, x.GetMissingFacts()...)
	}
	if nationalityUnknown(q.applicant) {
		out = append(out, "nationality_code")
	}
	slices.Sort(out)
	return slices.Compact(out)
}
