package assessment

import (
	"fmt"
	"slices"
	"strings"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// contestGrounds are the grounds to contest the bar, if it is applied,
// that a and its alternatives give: each criterion on the country the
// evidence shows not met while the practice is applied or cannot be told,
// on the facts given, then under each alternative's fact where the facts
// given do not already give it. The sources they cite are the answer's.
func (b *builder) contestGrounds(a *safethirdv1.Assessment, alts []alternative) []*safethirdv1.ContestGround {
	var out []*safethirdv1.ContestGround
	given := b.groundsIn(a, a, "")
	out = append(out, given...)
	for _, alt := range alts {
		for _, g := range b.groundsIn(a, alt.answer, alt.fact) {
			if !slices.ContainsFunc(given, func(x *safethirdv1.ContestGround) bool { return x.GetCriterionId() == g.GetCriterionId() }) {
				out = append(out, g)
			}
		}
	}
	return out
}

// groundsIn are the grounds x gives, x being a or an answer under fact.
func (b *builder) groundsIn(a, x *safethirdv1.Assessment, fact string) []*safethirdv1.ContestGround {
	switch x.GetPractice().GetStatus() {
	case safethirdv1.PracticeStatus_PRACTICE_STATUS_APPLIED, safethirdv1.PracticeStatus_PRACTICE_STATUS_INDETERMINATE:
	default:
		return nil
	}
	if x.GetDetermination() != safethirdv1.Determination_DETERMINATION_DOES_NOT_QUALIFY {
		return nil
	}
	var out []*safethirdv1.ContestGround
	for _, c := range countryCriteria(b.q.framework, x.GetCriteria()) {
		if c.GetStatus() != safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET {
			continue
		}
		findings := b.notMetFindings(c)
		g := &safethirdv1.ContestGround{CriterionId: c.GetCriterionId()}
		var evidence []*safethirdv1.Evidence
		for _, f := range findings {
			g.FindingIds = append(g.FindingIds, f.GetId())
			evidence = append(evidence, f.GetEvidence()...)
		}
		if fact != "" {
			g.Facts = []string{fact}
		}
		var limits []string
		for _, l := range a.GetContestLimits() {
			if slices.Contains(l.GetCriterionIds(), c.GetCriterionId()) {
				g.ContestLimitIds = append(g.ContestLimitIds, l.GetId())
				limits = append(limits, fmt.Sprintf("%s (from %s): %s", l.GetTitle(), l.GetValidFrom(), sentence(l.GetDescription())))
			}
		}
		g.Statement = groundStatement(a, c, findings, fact, limits)
		b.cite(evidence)
		if b.q.full {
			g.Evidence = evidence
		}
		out = append(out, g)
	}
	return out
}

// groundStatement says a ground in one place: if the bar is applied, the
// evidence on the criterion is a ground to contest it, with the limits the
// framework records on doing so.
func groundStatement(a *safethirdv1.Assessment, c *safethirdv1.CriterionResult, findings []*safethirdv1.Finding, fact string, limits []string) string {
	var s strings.Builder
	s.WriteString("If ")
	if fact != "" {
		fmt.Fprintf(&s, "%s and ", supposed(fact, findings))
	}
	fmt.Fprintf(&s, "the bar is applied to the person, the evidence that %s does not meet %q", a.GetCountryName(), c.GetTitle())
	if len(findings) > 0 {
		var ids []string
		for _, f := range findings {
			ids = append(ids, f.GetId())
		}
		fmt.Fprintf(&s, " (%s %s)", plural("finding", len(ids)), strings.Join(ids, ", "))
	}
	s.WriteString(" is a ground to contest it.")
	switch {
	case len(limits) > 0:
		s.WriteString(" The framework records a limit on contesting it: " + strings.Join(limits, " "))
	case a.GetAgreementId() != "":
		fmt.Fprintf(&s, " The dataset records no limit on contesting it under %s on %s.", a.GetAgreementId(), a.GetAsOf())
	default:
		s.WriteString(" The dataset records no limit on contesting it.")
	}
	return s.String()
}

// meritsGround is the ground an applicability rule gives when it keeps the
// bar from the country, where the framework says where the question
// belongs instead (the person's own country: the merits of the claim).
func (b *builder) meritsGround(ap *safethirdv1.ApplicabilityResult) []*safethirdv1.ContestGround {
	i := slices.IndexFunc(b.q.framework.GetApplicability(), func(r *safethirdv1.ApplicabilityRule) bool { return r.GetId() == ap.GetRuleId() })
	if i < 0 || b.q.framework.GetApplicability()[i].GetMerits() == "" {
		return nil
	}
	rule := b.q.framework.GetApplicability()[i]
	g := &safethirdv1.ContestGround{Statement: sentence(rule.GetMerits())}
	b.cite(rule.GetMeritsEvidence())
	if b.q.full {
		g.Evidence = rule.GetMeritsEvidence()
	}
	return []*safethirdv1.ContestGround{g}
}

// notMetFindings are those of the findings a criterion relied on that find
// it not met: the evidence the ground rests on.
func (b *builder) notMetFindings(c *safethirdv1.CriterionResult) []*safethirdv1.Finding {
	var out []*safethirdv1.Finding
	for _, f := range b.snap.Findings(b.q.country.GetCode(), b.q.framework.GetId(), c.GetCriterionId()) {
		if f.GetStatus() == safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET && slices.Contains(c.GetFindingIds(), f.GetId()) {
			out = append(out, f)
		}
	}
	return out
}

// supposed says a supposed fact in words: for a group, as the finding
// for it names the group; always with the fact as given to the service.
func supposed(fact string, findings []*safethirdv1.Finding) string {
	if strings.HasPrefix(fact, "declared_groups=") {
		for _, f := range findings {
			if f.GetGroupLabel() != "" {
				return fmt.Sprintf("the person is among %s (%s, a fact not given)", f.GetGroupLabel(), fact)
			}
		}
	}
	return fmt.Sprintf("%s (a fact not given)", fact)
}
