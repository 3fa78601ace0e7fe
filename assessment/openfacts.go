package assessment

import (
	"slices"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// openFinding is a finding for a particular group that the applicant's
// facts leave open: whether the person is in the group is not given.
type openFinding struct {
	finding *safethirdv1.Finding
	missing []string // the facts that would decide it
}

// openFacts are the facts that decide whether an open finding applies to
// the person, for each that would change the criterion's status from
// status, decided by applied: the most adverse of the findings that apply
// decides, so a finding changes it when, applying too, it would decide
// otherwise. A finding that could not change it asks for nothing.
func openFacts(status safethirdv1.CriterionStatus, applied []*safethirdv1.Finding, open []openFinding) []string {
	var out []string
	for _, o := range open {
		with := o.finding.GetStatus()
		for _, f := range applied {
			if adversity(f.GetStatus()) > adversity(with) {
				with = f.GetStatus()
			}
		}
		if with != status {
			out = append(out, o.missing...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
