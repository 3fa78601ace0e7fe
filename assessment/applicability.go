package assessment

import (
	"fmt"
	"slices"
	"strings"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// applicability evaluates the framework's rules on countries the bar can
// never reach (the destination itself, the person's own country). Each rule
// is a condition in the data; the engine only combines them: one true rule
// excludes the country, all false let the bar reach it, and otherwise the
// facts not given decide it. Without an applicant only a rule that holds
// whoever the person is (the destination itself) can decide.
func (b *builder) applicability() *safethirdv1.ApplicabilityResult {
	f, c := b.q.framework, b.q.country
	rules := f.GetApplicability()
	if len(rules) == 0 {
		return &safethirdv1.ApplicabilityResult{Status: safethirdv1.ApplicabilityStatus_APPLICABILITY_STATUS_UNKNOWN,
			Reason: fmt.Sprintf("The sources hold no rule of %s on which countries the bar cannot reach (the person's own country); whether it can reach %s is not decided.", f.GetCitation(), c.GetName())}
	}
	var missing, undecided []string
	for _, rule := range rules {
		res := b.evalCondition(rule.GetCondition())
		switch res.Value {
		case condition.True:
			return &safethirdv1.ApplicabilityResult{Status: safethirdv1.ApplicabilityStatus_APPLICABILITY_STATUS_EXCLUDED,
				RuleId:   rule.GetId(),
				Reason:   fmt.Sprintf("%s: %s", rule.GetTitle(), sentence(rule.GetDescription())),
				Evidence: b.cite(rule.GetEvidence())}
		case condition.Unknown:
			missing = append(missing, res.Missing...)
			undecided = append(undecided, strings.ToLower(rule.GetTitle()))
		}
	}
	if len(missing) == 0 || b.q.applicant == nil {
		return &safethirdv1.ApplicabilityResult{Status: safethirdv1.ApplicabilityStatus_APPLICABILITY_STATUS_REACHES,
			Reason: fmt.Sprintf("No rule of %s on the countries the bar cannot reach keeps it from %s%s.", f.GetCitation(), c.GetName(), forApplicant(b.q.applicant))}
	}
	slices.Sort(missing)
	return &safethirdv1.ApplicabilityResult{Status: safethirdv1.ApplicabilityStatus_APPLICABILITY_STATUS_NEEDS_FACTS,
		MissingFacts: slices.Compact(missing),
		Reason: fmt.Sprintf("Whether %s is a country the bar cannot reach for this applicant (%s) depends on facts not given.",
			c.GetName(), strings.Join(undecided, "; "))}
}

func forApplicant(a *safethirdv1.Applicant) string {
	if a == nil {
		return " on the facts of the country alone; the rules on the person's own country are decided with an applicant's facts"
	}
	return " for this applicant"
}
