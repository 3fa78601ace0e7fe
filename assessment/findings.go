package assessment

import (
	"fmt"
	"strings"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

func (b *builder) findingsCriterion(r *safethirdv1.CriterionResult) {
	c := b.q.country
	var applied []*safethirdv1.Finding
	var couldApply []string // group findings that would apply to some applicants
	var open []openFinding  // those the applicant's facts leave open
	for _, f := range b.snap.Findings(c.GetCode(), b.q.framework.GetId(), r.GetCriterionId()) {
		if !findingValidOn(f, b.q.asOf) {
			continue
		}
		if f.GetGroupCondition() == "" {
			applied = append(applied, f)
			continue
		}
		b.applicantSensitive = true
		if b.q.applicant == nil {
			couldApply = append(couldApply, groupNote(f))
			continue
		}
		res := b.evalCondition(f.GetGroupCondition())
		switch res.Value {
		case condition.True:
			applied = append(applied, f)
		case condition.Unknown:
			couldApply = append(couldApply, groupNote(f)+" (facts not given: "+strings.Join(res.Missing, ", ")+")")
			open = append(open, openFinding{f, res.Missing})
		}
	}
	defer func() { r.MissingFacts = openFacts(r.GetStatus(), applied, open) }()
	if len(applied) == 0 {
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE
		r.Rationale = fmt.Sprintf("The dataset holds no curated finding on this criterion for %s valid on %s, so the evidence does not decide it.", c.GetName(), b.q.asOf)
		if len(couldApply) > 0 {
			r.Rationale += " Findings for particular groups would apply to some applicants: " + strings.Join(couldApply, "; ") + "."
		}
		return
	}
	decisive := applied[0]
	for _, f := range applied[1:] {
		if adversity(f.GetStatus()) > adversity(decisive.GetStatus()) {
			decisive = f
		}
	}
	r.Status = decisive.GetStatus()
	var parts []string
	for _, f := range applied {
		who := "everyone"
		if f.GetGroupLabel() != "" {
			who = f.GetGroupLabel()
		}
		parts = append(parts, fmt.Sprintf("%s for %s (finding %s, %s)", statusWord(f.GetStatus()), who, f.GetId(), window(f.GetValidFrom(), f.GetValidUntil())))
		r.FindingIds = append(r.FindingIds, f.GetId())
		r.Evidence = append(r.Evidence, b.cite(f.GetEvidence())...)
		b.findingWarnings(f)
	}
	r.Rationale = fmt.Sprintf("%s Decided by the most adverse of the findings that apply: %s.", decisive.GetSummary(), strings.Join(parts, "; "))
	b.earned(r, decisive, applied)
	if r.GetStale() != "" {
		if b.stale == nil {
			b.stale = map[string]string{}
		}
		b.stale[r.GetCriterionId()] = fmt.Sprintf("For %q: %s", r.GetTitle(), r.GetStale())
	}
	r.Rationale += b.reviewNotes(applied)
	if len(couldApply) > 0 {
		r.Rationale += " Findings for particular groups would apply to some applicants: " + strings.Join(couldApply, "; ") + "."
	}
}

// reviewNotes says, in the rationale, which findings are past their review
// date, and which findings of safety rest on evidence older than the review
// window: a country found safe must be shown safe on current evidence.
func (b *builder) reviewNotes(applied []*safethirdv1.Finding) string {
	var out strings.Builder
	for _, f := range applied {
		if by := f.GetReviewBy(); by != "" && passed(by, b.q.asOf) {
			fmt.Fprintf(&out, " Finding %s was due for review by %s; it may no longer hold.", f.GetId(), by)
		}
		if through := f.GetEvidenceThrough(); f.GetStatus() == safethirdv1.CriterionStatus_CRITERION_STATUS_MET && b.isStale(through) {
			fmt.Fprintf(&out, " The evidence of finding %s describes conditions up to %s, more than %d months before %s: it is older than the review window.",
				f.GetId(), through, b.staleMonths(), b.q.asOf)
		}
	}
	return out.String()
}

// adversity orders finding statuses: the most adverse wins.
func adversity(s safethirdv1.CriterionStatus) int {
	switch s {
	case safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET:
		return 2
	case safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE:
		return 1
	default:
		return 0
	}
}

func groupNote(f *safethirdv1.Finding) string {
	return fmt.Sprintf("%s for %s (finding %s)", statusWord(f.GetStatus()), f.GetGroupLabel(), f.GetId())
}

// window says a validity window in words; one still open has no known end.
func window(from, until string) string {
	if until == "" {
		return "from " + from + ", end not known"
	}
	return from + " to " + until
}

func (b *builder) findingWarnings(f *safethirdv1.Finding) {
	if through := f.GetEvidenceThrough(); b.isStale(through) {
		b.warn("Finding %s rests on evidence describing conditions up to %s, more than %d months before %s; conditions may have changed.",
			f.GetId(), through, b.staleMonths(), b.q.asOf)
	}
	secondaryOnly := len(f.GetEvidence()) > 0
	for _, e := range f.GetEvidence() {
		if e.GetSupport() != safethirdv1.Support_SUPPORT_SECONDARY {
			secondaryOnly = false
		}
	}
	if secondaryOnly {
		b.warn("Finding %s rests only on secondary sources.", f.GetId())
	}
}
