package assessment

import (
	"fmt"
	"slices"
	"strings"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// summary writes the paragraph a lawyer could paste, with the two answers
// kept apart and in this order: whether the bar is applied in practice;
// whether the country meets the statute on the evidence, and if it does
// not while the bar is applied, that this is a basis to contest it, with
// any sourced limit on doing so; the premises taken; the applicant's
// outcome; the discretion; the disclaimer.
func summary(q *query, a *safethirdv1.Assessment, d *safethirdv1.CriterionResult, stale map[string]string) string {
	f, c := q.framework, q.country
	var s strings.Builder
	// Sized once from the texts it quotes whole: grown from nothing, the
	// builder copied itself some eight times for each new answer, a
	// quarter of the bytes a new question allocated.
	s.Grow(summarySize(a, d))
	fmt.Fprintf(&s, "As of %s, under %s, for %s (%s). In practice: %s", q.asOf, f.GetCitation(), c.GetName(), c.GetCode(), sentence(a.GetPractice().GetReason()))
	fmt.Fprintf(&s, " On the evidence: %s %s.", c.GetName(), determinationPhrase(a.GetDetermination()))
	if d != nil {
		fmt.Fprintf(&s, " Decisive: %s (%s): %s", d.GetTitle(), statusWord(d.GetStatus()), d.GetRationale())
	}
	// Stale evidence is named here, not only in the warnings: a reader
	// of the short answer must weigh it.
	for _, c := range a.GetCriteria() {
		if note := stale[c.GetCriterionId()]; note != "" {
			s.WriteString(" ")
			s.WriteString(note)
		}
	}
	if missing := countryMissingFacts(f, a); len(missing) > 0 {
		fmt.Fprintf(&s, " For this person, the evidence may decide it differently on facts not given: %s.", strings.Join(missing, ", "))
	}
	// The grounds to contest, each in one place, with the limits on
	// contesting the criterion it rests on; then any limit no ground names.
	writeGrounds(&s, a)
	if a.GetPractice().GetStatus() != safethirdv1.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED {
		for _, l := range a.GetContestLimits() {
			if !groundsName(a, l.GetId()) {
				fmt.Fprintf(&s, " A sourced limit on contesting it: %s (from %s): %s", l.GetTitle(), l.GetValidFrom(), sentence(l.GetDescription()))
			}
		}
	}
	for _, p := range a.GetPremises() {
		s.WriteString(" Premise: ")
		s.WriteString(sentence(p))
	}
	switch a.GetApplicantOutcome() {
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_MAY_APPLY:
		s.WriteString(" For this applicant, on the facts given, the bar may apply")
		if a.GetDetermination() == safethirdv1.Determination_DETERMINATION_DOES_NOT_QUALIFY {
			s.WriteString(", subject to contesting it on the evidence above")
		}
		s.WriteString(".")
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY:
		s.WriteString(" For this applicant, the bar does not apply, because " + outcomeReason(a, applicantCriteria(f, a.GetCriteria())) + ".")
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_NEEDS_FACTS:
		s.WriteString(" For this applicant, the answer depends on facts not given: " + strings.Join(missingFacts(a), ", ") + ".")
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_INDETERMINATE:
		s.WriteString(" For this applicant, the sources do not decide whether the bar applies: " + undecidedReason(a, applicantCriteria(f, a.GetCriteria())) + ".")
	}
	for _, bar := range a.GetOtherBars() {
		switch bar.GetStatus() {
		case safethirdv1.OtherBarStatus_OTHER_BAR_STATUS_APPLIES:
			fmt.Fprintf(&s, " Beside this bar, %s reaches the applicant on the facts given.", bar.GetTitle())
		default:
			fmt.Fprintf(&s, " Beside this bar, %s may reach the applicant: it depends on %s.", bar.GetTitle(), strings.Join(bar.GetMissingFacts(), ", "))
		}
	}
	if f.GetDiscretion() != "" {
		s.WriteString(" ")
		s.WriteString(sentence(f.GetDiscretion()))
	}
	s.WriteString(" ")
	s.WriteString(Disclaimer)
	return s.String()
}

// summaryExtra is room in a summary for what summarySize does not count:
// the sentences around the texts, names, dates and lists of facts.
const summaryExtra = 768

// summarySize is about the length of a's summary: the texts it quotes
// whole, and room for the rest.
func summarySize(a *safethirdv1.Assessment, d *safethirdv1.CriterionResult) int {
	n := summaryExtra + len(a.GetPractice().GetReason()) + len(d.GetRationale()) + len(a.GetDiscretion()) + len(Disclaimer)
	for _, g := range a.GetContestGrounds() {
		n += 1 + len(g.GetStatement())
	}
	for _, p := range a.GetPremises() {
		n += 10 + len(p)
	}
	return n
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

// outcomeReason says why the bar does not apply to the applicant.
func outcomeReason(a *safethirdv1.Assessment, applicantCriteria []*safethirdv1.CriterionResult) string {
	if a.GetPractice().GetStatus() == safethirdv1.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED {
		return fmt.Sprintf("it was not applied in practice to %s on %s", a.GetCountryName(), a.GetAsOf())
	}
	if a.GetScope().GetStatus() == safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE {
		return "the applicant is outside the agreement's scope"
	}
	for _, c := range applicantCriteria {
		if c.GetStatus() == safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET {
			return "the applicant does not meet a requirement that bears on them: " + c.GetTitle()
		}
	}
	for _, x := range a.GetExceptions() {
		if x.GetStatus() == safethirdv1.ExceptionStatus_EXCEPTION_STATUS_APPLIES {
			return "an exception applies: " + x.GetTitle()
		}
	}
	return "nothing in the data lets it reach the applicant"
}

// undecidedReason says what the sources leave undecided for the applicant.
func undecidedReason(a *safethirdv1.Assessment, applicantCriteria []*safethirdv1.CriterionResult) string {
	var why []string
	for _, c := range applicantCriteria {
		if c.GetStatus() == safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE {
			why = append(why, "whether the applicant meets "+strings.ToLower(c.GetTitle()))
		}
	}
	if a.GetPractice().GetStatus() != safethirdv1.PracticeStatus_PRACTICE_STATUS_APPLIED {
		why = append(why, "whether the bar was applied in practice on the date")
	}
	if a.GetApplicability().GetStatus() == safethirdv1.ApplicabilityStatus_APPLICABILITY_STATUS_UNKNOWN {
		why = append(why, "the framework's rule on the person's own country")
	}
	if a.GetScope().GetStatus() == safethirdv1.ScopeStatus_SCOPE_STATUS_UNKNOWN {
		why = append(why, "whom the agreement covers")
	}
	for _, x := range a.GetExceptions() {
		if x.GetStatus() == safethirdv1.ExceptionStatus_EXCEPTION_STATUS_TEST_NOT_IN_DATA {
			why = append(why, "the test of the "+strings.ToLower(x.GetTitle()))
		}
	}
	return strings.Join(why, "; ")
}

// missingFacts lists, once each and sorted, the Applicant fields that
// would decide the outcome.
func missingFacts(a *safethirdv1.Assessment) []string {
	var out []string
	out = append(out, a.GetApplicability().GetMissingFacts()...)
	for _, c := range a.GetCriteria() {
		out = append(out, c.GetMissingFacts()...)
	}
	out = append(out, a.GetScope().GetMissingFacts()...)
	for _, x := range a.GetExceptions() {
		out = append(out, x.GetMissingFacts()...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// groundsText is the grounds to contest as sentences, each after a space.
func groundsText(a *safethirdv1.Assessment) string {
	var s strings.Builder
	writeGrounds(&s, a)
	return s.String()
}

// writeGrounds writes the grounds to contest as sentences, each after a
// space.
func writeGrounds(s *strings.Builder, a *safethirdv1.Assessment) {
	for _, g := range a.GetContestGrounds() {
		s.WriteString(" ")
		s.WriteString(g.GetStatement())
	}
}

// groundsName reports whether a ground of a names the contest limit id.
func groundsName(a *safethirdv1.Assessment, id string) bool {
	return slices.ContainsFunc(a.GetContestGrounds(), func(g *safethirdv1.ContestGround) bool {
		return slices.Contains(g.GetContestLimitIds(), id)
	})
}

// countryMissingFacts lists, once each and sorted, the facts not given that
// decide whether a finding for a particular group applies to the person
// where it would change a criterion on the country.
func countryMissingFacts(f *safethirdv1.Framework, a *safethirdv1.Assessment) []string {
	var out []string
	for _, c := range countryCriteria(f, a.GetCriteria()) {
		out = append(out, c.GetMissingFacts()...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
