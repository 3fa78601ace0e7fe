package assessment

import (
	"slices"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// cite records the sources of evidence and returns it for the FULL view.
func (b *builder) cite(evidence []*safethirdv1.Evidence) []*safethirdv1.Evidence {
	for _, e := range evidence {
		b.sourceIDs = append(b.sourceIDs, e.GetSourceId())
	}
	return evidence
}

// hindsight warns of each cited source published after the date assessed:
// it could not have been before a decision-maker on that date.
func (b *builder) hindsight() {
	ids := slices.Clone(b.sourceIDs)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if src, ok := b.snap.Source(id); ok && !reached(src.GetPublished(), b.q.asOf) {
			b.warn("Hindsight: %s (%s), published %s, postdates %s; it describes the date assessed but was not available then.",
				src.GetTitle(), id, src.GetPublished(), b.q.asOf)
		}
	}
}

// withoutEvidence copies criteria without their evidence, for the BASIC
// view; the criteria may be shared, so they are never changed in place.
func withoutEvidence(criteria []*safethirdv1.CriterionResult) []*safethirdv1.CriterionResult {
	out := make([]*safethirdv1.CriterionResult, len(criteria))
	for i, c := range criteria {
		out[i] = &safethirdv1.CriterionResult{
			CriterionId:  c.GetCriterionId(),
			Title:        c.GetTitle(),
			Status:       c.GetStatus(),
			Rationale:    c.GetRationale(),
			FindingIds:   c.GetFindingIds(),
			MissingFacts: c.GetMissingFacts(),
			Basis:        c.GetBasis(),
			ConcludedBy:  c.GetConcludedBy(),
			RiskLevel:    c.GetRiskLevel(),
			RiskFactors:  factorsWithoutEvidence(c.GetRiskFactors()),
			Conflicts:    c.GetConflicts(),
			Stale:        c.GetStale(),
		}
	}
	return out
}

// factorsWithoutEvidence copies risk factors without their evidence, for
// the BASIC view.
func factorsWithoutEvidence(factors []*safethirdv1.RiskFactor) []*safethirdv1.RiskFactor {
	var out []*safethirdv1.RiskFactor
	for _, f := range factors {
		out = append(out, &safethirdv1.RiskFactor{Description: f.GetDescription()})
	}
	return out
}

// practiceWithoutEvidence copies a practice without its evidence and
// timeline, for the BASIC view.
func practiceWithoutEvidence(p *safethirdv1.Practice) *safethirdv1.Practice {
	if p == nil {
		return nil
	}
	return &safethirdv1.Practice{Status: p.GetStatus(), AgreementId: p.GetAgreementId(), Reason: p.GetReason()}
}

// limitsWithoutEvidence copies contest limits without their evidence, for
// the BASIC view.
func limitsWithoutEvidence(limits []*safethirdv1.ContestLimit) []*safethirdv1.ContestLimit {
	out := make([]*safethirdv1.ContestLimit, len(limits))
	for i, l := range limits {
		out[i] = &safethirdv1.ContestLimit{Id: l.GetId(), Title: l.GetTitle(), ValidFrom: l.GetValidFrom(),
			CriterionIds: l.GetCriterionIds(), AgreementIds: l.GetAgreementIds(), Description: l.GetDescription()}
	}
	return out
}
