package assessment

import (
	"fmt"
	"regexp"
	"strings"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// staleMonths is the framework's allowance for the age of decisive evidence.
func (b *builder) staleMonths() int { return staleMonths(b.q.framework) }

// isStale reports whether evidence describing conditions up to through is
// older than the framework allows on the date assessed.
func (b *builder) isStale(through string) bool { return staleOn(b.q.framework, through, b.q.asOf) }

// earned tells, on the criterion a finding decides, how the conclusion was
// earned: who concluded it, the level of risk it records, the
// circumstances that decide it for the person when the risk is only
// individual, whether its evidence is stale, and the sources that
// contradict what it rests on. The rationale says the same in words, so the
// summary and the memo carry it beside the conclusion.
func (b *builder) earned(r *safethirdv1.CriterionResult, decisive *safethirdv1.Finding, applied []*safethirdv1.Finding) {
	r.Basis = decisive.GetBasis()
	r.RiskLevel = decisive.GetRiskLevel()
	switch r.GetBasis() {
	case safethirdv1.FindingBasis_FINDING_BASIS_PUBLISHER_CONCLUSION:
		if src, ok := b.snap.Source(decisive.GetConclusionSourceId()); ok {
			r.ConcludedBy = publisherName(src.GetPublisher())
		}
		r.Rationale += fmt.Sprintf(" The conclusion is %s's own.", r.GetConcludedBy())
	case safethirdv1.FindingBasis_FINDING_BASIS_CURATOR_INFERENCE:
		r.Rationale += " The conclusion is the dataset's reading of the facts its publishers report; none of them concludes it in these words."
	}
	if decisive.GetRiskLevel() == safethirdv1.RiskLevel_RISK_LEVEL_INDIVIDUAL_CIRCUMSTANCES {
		var names []string
		for _, rf := range decisive.GetRiskFactors() {
			r.RiskFactors = append(r.RiskFactors, &safethirdv1.RiskFactor{Description: rf.GetDescription(), Evidence: b.cite(rf.GetEvidence())})
			names = append(names, rf.GetDescription())
		}
		r.Rationale += fmt.Sprintf(" The evidence shows a risk for some %s, depending on their individual circumstances, not for all: it turns on %s. These decide the criterion for the person.",
			whom(decisive), strings.Join(names, "; "))
	}
	if through := decisive.GetEvidenceThrough(); b.isStale(through) {
		r.Stale = fmt.Sprintf("The evidence deciding it describes conditions up to %s, more than %d months before %s; conditions may have changed.",
			through, b.staleMonths(), b.q.asOf)
	}
	for _, f := range applied {
		for _, e := range f.GetEvidence() {
			r.Conflicts = append(r.Conflicts, b.conflicts(e)...)
		}
	}
}

// whom names the people a finding covers.
func whom(f *safethirdv1.Finding) string {
	if f.GetGroupLabel() != "" {
		return f.GetGroupLabel()
	}
	return "people"
}

// conflicts describes, a sentence each, the evidence that contradicts e,
// and warns of it: an answer resting on a contradicted source says so.
func (b *builder) conflicts(e *safethirdv1.Evidence) []string {
	var out []string
	for _, c := range e.GetConflictsWith() {
		msg := fmt.Sprintf("%s: %s But %s: %s", b.publisher(e.GetSourceId()), sentence(e.GetStatement()), b.publisher(c.GetSourceId()), sentence(c.GetStatement()))
		b.cite([]*safethirdv1.Evidence{c})
		b.warn("Conflicting sources. %s", msg)
		out = append(out, msg)
	}
	return out
}

// warnConflicts warns of the conflicts recorded on evidence the answer
// rests on outside the criteria (its practice, its scope).
func (b *builder) warnConflicts(evidence []*safethirdv1.Evidence) {
	for _, e := range evidence {
		b.conflicts(e)
	}
}

// publisher names a source's publisher for a sentence.
func (b *builder) publisher(id string) string {
	if src, ok := b.snap.Source(id); ok {
		return publisherName(src.GetPublisher())
	}
	return id
}

// copyNote is how a publisher names the copy read, e.g. "U.S. Department of
// State (copy on ecoi.net)"; the publisher is the part before it.
var copyNote = regexp.MustCompile(`\s*\(.*\)\s*$`)

func publisherName(p string) string { return copyNote.ReplaceAllString(p, "") }
