package dataset

import (
	"regexp"
	"slices"
	"strings"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// earned checks that a finding's conclusion follows from its evidence as
// the EU Asylum Agency's country guidance would have it: a group finding
// rests on evidence about that group in that country; a conclusion the
// dataset infers rests on more than one publisher; a publisher's
// conclusion names a source that is among its evidence and quoted. (The
// field rules in finding.proto check the rest: a NOT_MET needs a risk in
// general, a risk only in individual circumstances names them.)
func (v *validator) earned(r *record, f *safethirdv1.Finding) {
	if f.GetGroupCondition() != "" {
		v.aboutGroup(r, f)
	}
	decisive := f.GetStatus() == safethirdv1.CriterionStatus_CRITERION_STATUS_MET || f.GetStatus() == safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
	switch f.GetBasis() {
	case safethirdv1.FindingBasis_FINDING_BASIS_CURATOR_INFERENCE:
		if pubs := v.publishers(f.GetEvidence()); decisive && len(pubs) < 2 {
			v.at(r, []any{"basis"}, "basis FINDING_BASIS_CURATOR_INFERENCE for %s needs evidence read from at least two independent publishers; it has %s",
				f.GetStatus(), describePublishers(pubs))
		}
	case safethirdv1.FindingBasis_FINDING_BASIS_PUBLISHER_CONCLUSION:
		i := slices.IndexFunc(f.GetEvidence(), func(e *safethirdv1.Evidence) bool {
			return e.GetSourceId() == f.GetConclusionSourceId() && e.GetQuote() != ""
		})
		if i < 0 {
			v.at(r, []any{"conclusion_source_id"}, "conclusion_source_id %q: the publisher's conclusion is quoted in the finding's evidence; no evidence item quotes that source",
				f.GetConclusionSourceId())
		}
	}
}

// aboutGroup checks that each quoted item of a group finding names the
// group (its label or a word of groupTerms) in its quote and the country in
// its quote, its source's title or the text read.
func (v *validator) aboutGroup(r *record, f *safethirdv1.Finding) {
	terms := v.termsFor(f.GetGroupCondition(), f.GetGroupLabel())
	country := nameStems(v.snap.countries[f.GetCountryCode()].GetName())
	for i, e := range f.GetEvidence() {
		if e.GetQuote() == "" {
			continue
		}
		qp := []any{"evidence", i, "quote"}
		if !names(e.GetQuote(), terms) {
			v.at(r, qp, "%s does not name the group: a finding for %q rests on evidence about that group; quote words that name it (its label or a word listed for it in dataset/groups.go)",
				pathString(qp), f.GetGroupLabel())
		}
		src := v.snap.sources[e.GetSourceId()]
		if !names(e.GetQuote(), country) && !names(src.GetTitle(), country) && !names(v.texts[e.GetSourceId()], country) {
			v.at(r, qp, "%s: neither the quote, the title nor the text of source %q names %s: evidence for a finding on %s is about %s",
				pathString(qp), e.GetSourceId(), f.GetCountryCode(), f.GetCountryCode(), f.GetCountryCode())
		}
	}
}

// copyNote is how a publisher field names the copy read, e.g. "U.S.
// Department of State (copy on ecoi.net)": the publisher is the part
// before it.
var copyNote = regexp.MustCompile(`\s*\(.*\)\s*$`)

// publishers lists the distinct publishers of the evidence that was read
// (its source's text archived), as folded names without copy notes.
func (v *validator) publishers(items []*safethirdv1.Evidence) []string {
	var pubs []string
	for _, e := range items {
		src, ok := v.snap.sources[e.GetSourceId()]
		if _, read := v.quotes[e.GetSourceId()]; !ok || !read {
			continue
		}
		p := fold(copyNote.ReplaceAllString(src.GetPublisher(), ""))
		if !slices.Contains(pubs, p) {
			pubs = append(pubs, p)
		}
	}
	return pubs
}

func describePublishers(pubs []string) string {
	switch len(pubs) {
	case 0:
		return "none read"
	case 1:
		return "one: " + pubs[0]
	}
	return strings.Join(pubs, ", ")
}
