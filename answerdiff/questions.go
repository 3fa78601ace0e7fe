package answerdiff

import (
	"regexp"
	"slices"

	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// question is one line of the comparison: a framework, a country, the
// applying state (for a framework several states apply) and a group, or
// none, asked about on every date of the grid.
type question struct {
	framework, country, applyingState string
	group                             safethirdv1.ApplicantGroup
}

// groupName finds the groups a finding's condition names.
var groupName = regexp.MustCompile(`APPLICANT_GROUP_[A-Z_]+`)

// questions lists what to ask of both snapshots: every framework either
// holds; every country either speaks of (curated, party to an agreement,
// designated, the subject of a finding); for a framework several states
// apply, each state that made a designation under such a framework; and
// for each country, no group and each group a finding on it names.
func questions(snaps ...*dataset.Snapshot) []question {
	frameworks, countries := map[string]bool{}, map[string]bool{}
	var designations []*safethirdv1.Designation
	groups := map[[2]string]map[safethirdv1.ApplicantGroup]bool{} // by framework and country
	stateFrameworks := map[string]bool{}
	for _, s := range snaps {
		for _, r := range s.Records() {
			switch m := r.Message.(type) {
			case *safethirdv1.Framework:
				frameworks[m.GetId()] = true
				if m.GetApplyingStateRequired() {
					stateFrameworks[m.GetId()] = true
				}
			case *safethirdv1.Country:
				countries[m.GetCode()] = true
			case *safethirdv1.Agreement:
				for _, p := range m.GetPartyCodes() {
					countries[p] = true
				}
			case *safethirdv1.Designation:
				countries[m.GetCountryCode()] = true
				designations = append(designations, m)
			case *safethirdv1.Finding:
				countries[m.GetCountryCode()] = true
				key := [2]string{m.GetFrameworkId(), m.GetCountryCode()}
				for _, name := range groupName.FindAllString(m.GetGroupCondition(), -1) {
					if g, ok := safethirdv1.ApplicantGroup_value[name]; ok {
						if groups[key] == nil {
							groups[key] = map[safethirdv1.ApplicantGroup]bool{}
						}
						groups[key][safethirdv1.ApplicantGroup(g)] = true
					}
				}
			}
		}
	}
	// Only the states that designate under a framework several states
	// apply are applying states; a designating state of a single-state
	// framework is its jurisdiction.
	applying := map[string]bool{}
	for _, d := range designations {
		if stateFrameworks[d.GetFrameworkId()] {
			applying[d.GetDesignatingCode()] = true
		}
	}
	var out []question
	for _, f := range sorted(frameworks) {
		appliers := []string{""}
		if stateFrameworks[f] {
			appliers = sorted(applying)
		}
		for _, c := range sorted(countries) {
			gs := []safethirdv1.ApplicantGroup{safethirdv1.ApplicantGroup_APPLICANT_GROUP_UNSPECIFIED}
			for g := range groups[[2]string{f, c}] {
				gs = append(gs, g)
			}
			slices.Sort(gs)
			for _, st := range appliers {
				for _, g := range gs {
					out = append(out, question{framework: f, country: c, applyingState: st, group: g})
				}
			}
		}
	}
	return out
}

func sorted(set map[string]bool) []string {
	var out []string
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// request is the question on a date, in the BASIC view: the comparison
// reads statuses, not evidence.
func (q question) request(asOf string, view safethirdv1.AssessmentView) *safethirdv1.AssessCountryRequest {
	req := &safethirdv1.AssessCountryRequest{CountryCode: q.country, FrameworkId: q.framework, ApplyingStateCode: q.applyingState, AsOf: asOf, View: view}
	if q.group != safethirdv1.ApplicantGroup_APPLICANT_GROUP_UNSPECIFIED {
		req.Applicant = &safethirdv1.Applicant{Groups: []safethirdv1.ApplicantGroup{q.group}}
	}
	return req
}
