package assessment

import (
	"fmt"
	"slices"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// Disclaimer is carried by every assessment.
const Disclaimer = "This is an assessment of documented conditions against the cited sources, not a legal determination."

// build computes an assessment in stages, each passing its result on:
// applicability, then the criteria and the practice (from the memo where
// they do not depend on the applicant), then the relied-on agreement's
// scope and exceptions, then the applicant's outcome and the summary. It
// returns the facts of the applicant the answer read.
func (e *Engine) build(q *query) (*safethirdv1.Assessment, facts) {
	b := &builder{engine: e, snap: e.snap, q: q}
	f, c := q.framework, q.country
	a := &safethirdv1.Assessment{
		CountryCode:       c.GetCode(),
		CountryName:       c.GetName(),
		FrameworkId:       f.GetId(),
		AsOf:              q.asOf,
		DatasetRevision:   e.snap.Revision(),
		ApplyingStateCode: applyingStateEcho(q),
		Discretion:        f.GetDiscretion(),
		Disclaimer:        Disclaimer,
	}
	a.Applicability = b.applicability()
	if a.GetApplicability().GetStatus() == safethirdv1.ApplicabilityStatus_APPLICABILITY_STATUS_EXCLUDED {
		a.Determination = safethirdv1.Determination_DETERMINATION_NOT_APPLICABLE
		a.Practice = &safethirdv1.Practice{Status: safethirdv1.PracticeStatus_PRACTICE_STATUS_NOT_APPLICABLE,
			Reason: "The question does not arise: " + a.GetApplicability().GetReason()}
		if q.applicant != nil {
			a.ApplicantOutcome = safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY
		}
		a.ContestGrounds = b.meritsGround(a.GetApplicability())
		a.Summary = fmt.Sprintf("As of %s, under %s, the safe-third-country bar cannot send a person to %s (%s). %s%s %s",
			q.asOf, f.GetCitation(), c.GetName(), c.GetCode(), a.GetApplicability().GetReason(), groundsText(a), Disclaimer)
		b.finish(a)
		return a, b.read
	}
	bs := e.base(b)
	a.Criteria = bs.eval.criteria
	var decisive *safethirdv1.CriterionResult
	a.Determination, decisive = determination(countryCriteria(f, a.Criteria))
	a.DecisiveCriterionId = decisive.GetCriterionId()
	agreement := bs.eval.agreement()
	if agreement == nil {
		// A framework that decides no criterion from agreements may still
		// be applied through one (practice): its scope and exceptions
		// decide whether it reaches the person.
		agreement, _ = b.snap.Agreement(bs.practice.GetAgreementId())
	}
	a.AgreementId, a.AgreementTitle = agreement.GetId(), agreement.GetTitle()
	a.Practice = bs.practice
	var assumed []string
	a.Exceptions, assumed = b.exceptions(agreement)
	a.Scope, a.Premises = b.scope(agreement)
	a.Premises = append(a.Premises, assumed...)
	a.ContestLimits = contestLimits(f, a)
	a.OtherBars = b.otherBars()
	a.ApplicantOutcome = applicantOutcome(q, a, applicantCriteria(f, a.GetCriteria()))
	if q.decideOnly {
		return a, b.read
	}
	var alts []alternative
	if q.alternatives {
		alts = b.alternatives(a)
		a.Alternatives = alternativeAnswers(a, alts)
	}
	a.ContestGrounds = b.contestGrounds(a, alts)
	a.Summary = summary(q, a, decisive, bs.eval.stale)
	b.finish(a)
	return a, b.read
}

// finish cites what the answer shows, warns of hindsight and of
// deprecated facts, adds the sources, and applies the view.
func (b *builder) finish(a *safethirdv1.Assessment) {
	for _, l := range a.GetContestLimits() {
		b.cite(l.GetEvidence())
	}
	b.warnConflicts(a.GetPractice().GetEvidence())
	b.warnConflicts(a.GetScope().GetEvidence())
	b.hindsight()
	b.deprecatedFacts()
	if msg, ok := groupsNotComplete(a); ok {
		b.warn("%s", msg)
	}
	if !b.q.full {
		a.Warnings = b.warnings
		a.Criteria = withoutEvidence(a.Criteria)
		a.Practice = practiceWithoutEvidence(a.Practice)
		a.ContestLimits = limitsWithoutEvidence(a.ContestLimits)
		if ap := a.GetApplicability(); len(ap.GetEvidence()) > 0 {
			a.Applicability = &safethirdv1.ApplicabilityResult{Status: ap.GetStatus(), RuleId: ap.GetRuleId(), Reason: ap.GetReason(), MissingFacts: ap.GetMissingFacts()}
		}
		return
	}
	// The timeline's events are shown with their evidence, so their sources
	// are cited too; the hindsight check above is for the evidence that
	// decides the answer, not the history beside it.
	for _, e := range a.GetPractice().GetTimeline() {
		b.cite(e.GetEvidence())
	}
	a.Warnings = b.warnings
	slices.Sort(b.sourceIDs)
	for _, id := range slices.Compact(b.sourceIDs) {
		if src, ok := b.snap.Source(id); ok {
			a.Sources = append(a.Sources, src)
		}
	}
}

// determination decides whether the country meets the statute from the
// criteria on it, and names the criterion that decided it: the first not
// met, else the first not decided; nil when all are met.
func determination(criteria []*safethirdv1.CriterionResult) (safethirdv1.Determination, *safethirdv1.CriterionResult) {
	var undecided *safethirdv1.CriterionResult
	for _, c := range criteria {
		switch c.GetStatus() {
		case safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET:
			return safethirdv1.Determination_DETERMINATION_DOES_NOT_QUALIFY, c
		case safethirdv1.CriterionStatus_CRITERION_STATUS_MET:
		default:
			if undecided == nil {
				undecided = c
			}
		}
	}
	if undecided != nil {
		return safethirdv1.Determination_DETERMINATION_INDETERMINATE, undecided
	}
	return safethirdv1.Determination_DETERMINATION_QUALIFIES, nil
}

// contestLimits are the framework's limits on contesting a criterion that
// hold on the date for the agreement relied on.
func contestLimits(f *safethirdv1.Framework, a *safethirdv1.Assessment) []*safethirdv1.ContestLimit {
	var out []*safethirdv1.ContestLimit
	for _, l := range f.GetContestLimits() {
		if !reached(l.GetValidFrom(), a.GetAsOf()) || a.GetAgreementId() == "" {
			continue
		}
		if len(l.GetAgreementIds()) > 0 && !slices.Contains(l.GetAgreementIds(), a.GetAgreementId()) {
			continue
		}
		out = append(out, l)
	}
	return out
}

// applyingStateEcho is the applying state, for a framework several states
// apply; empty otherwise.
func applyingStateEcho(q *query) string {
	if q.framework.GetApplyingStateRequired() {
		return q.jurisdiction
	}
	return ""
}

// applicantOutcome follows from practice, applicability, scope, exceptions
// and the criteria that bear on the applicant (applicantCriteria), never
// from the determination on the country: a bar applied in practice to a
// country that does not meet the statute is contested, not avoided. What
// keeps the bar from the applicant comes first; then facts not given; then
// what the sources cannot decide; only then may the bar apply.
func applicantOutcome(q *query, a *safethirdv1.Assessment, applicantCriteria []*safethirdv1.CriterionResult) safethirdv1.ApplicantOutcome {
	if q.applicant == nil {
		return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED
	}
	practice, scope, applicability := a.GetPractice().GetStatus(), a.GetScope().GetStatus(), a.GetApplicability().GetStatus()
	has := func(s safethirdv1.ExceptionStatus) bool {
		return slices.ContainsFunc(a.GetExceptions(), func(x *safethirdv1.ExceptionResult) bool { return x.GetStatus() == s })
	}
	criteria := func(match func(*safethirdv1.CriterionResult) bool) bool {
		return slices.ContainsFunc(applicantCriteria, match)
	}
	notMet := criteria(func(c *safethirdv1.CriterionResult) bool {
		return c.GetStatus() == safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
	})
	needsFacts := criteria(func(c *safethirdv1.CriterionResult) bool { return len(c.GetMissingFacts()) > 0 })
	undecided := criteria(func(c *safethirdv1.CriterionResult) bool {
		return c.GetStatus() == safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE
	})
	switch {
	case practice == safethirdv1.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED || notMet ||
		scope == safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE || has(safethirdv1.ExceptionStatus_EXCEPTION_STATUS_APPLIES):
		return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY
	case applicability == safethirdv1.ApplicabilityStatus_APPLICABILITY_STATUS_NEEDS_FACTS || needsFacts ||
		scope == safethirdv1.ScopeStatus_SCOPE_STATUS_NEEDS_FACTS || has(safethirdv1.ExceptionStatus_EXCEPTION_STATUS_NEEDS_FACTS):
		return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_NEEDS_FACTS
	case practice != safethirdv1.PracticeStatus_PRACTICE_STATUS_APPLIED || undecided ||
		applicability == safethirdv1.ApplicabilityStatus_APPLICABILITY_STATUS_UNKNOWN ||
		scope == safethirdv1.ScopeStatus_SCOPE_STATUS_UNKNOWN || has(safethirdv1.ExceptionStatus_EXCEPTION_STATUS_TEST_NOT_IN_DATA):
		return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_INDETERMINATE
	}
	return safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_MAY_APPLY
}
