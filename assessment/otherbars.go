package assessment

import (
	"fmt"
	"strings"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// otherBars names the framework's other bars that reach, or may reach, the
// applicant on the date, taken as the date of the claim. A bar that the
// facts show does not reach the applicant is left out: the answer is about
// the safe-third-country bar, and names the others only as a reader must
// weigh them.
func (b *builder) otherBars() []*safethirdv1.OtherBarResult {
	if b.q.applicant == nil {
		return nil
	}
	var out []*safethirdv1.OtherBarResult
	for _, bar := range b.q.framework.GetOtherBars() {
		if !reached(bar.GetAppliesFrom(), b.q.asOf) {
			continue
		}
		r := &safethirdv1.OtherBarResult{BarId: bar.GetId(), Title: bar.GetTitle() + " (" + bar.GetCitation() + ")"}
		res := b.evalCondition(bar.GetCondition())
		switch res.Value {
		case condition.True:
			r.Status = safethirdv1.OtherBarStatus_OTHER_BAR_STATUS_APPLIES
			r.Reason = fmt.Sprintf("On the facts given, taking %s as the date of the claim, %s reaches the applicant: %s", b.q.asOf, bar.GetCitation(), sentence(bar.GetDescription()))
		case condition.Unknown:
			r.Status = safethirdv1.OtherBarStatus_OTHER_BAR_STATUS_NEEDS_FACTS
			r.MissingFacts = res.Missing
			r.Reason = fmt.Sprintf("Whether %s reaches the applicant depends on facts not given: %s. %s", bar.GetCitation(), strings.Join(res.Missing, ", "), sentence(bar.GetDescription()))
		default:
			continue
		}
		b.cite(bar.GetEvidence())
		if b.q.full {
			r.Evidence = bar.GetEvidence()
		}
		if !reached(bar.GetEnacted(), b.q.asOf) {
			b.warn("%s was enacted on %s, after %s, and applies to claims made from %s: on %s it was not yet law.",
				bar.GetCitation(), bar.GetEnacted(), b.q.asOf, bar.GetAppliesFrom(), b.q.asOf)
		}
		out = append(out, r)
	}
	return out
}
