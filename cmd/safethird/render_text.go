package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/safethird/safethird/memo"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// textAssessment writes an assessment as a report for a terminal: the
// determination first, then why.
func textAssessment(w io.Writer, a *pb.Assessment) error {
	var b strings.Builder
	writeTextAssessment(&b, a)
	_, err := io.WriteString(w, b.String())
	return err
}

// textRoute writes a route's overall outcome and summary, then each
// country's assessment in turn.
func textRoute(w io.Writer, legs []string, r *pb.AssessRouteResponse) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Route %s: %s\n", strings.Join(legs, " → "), memo.Label(r.GetOutcome()))
	para(&b, "", r.GetSummary())
	fmt.Fprintf(&b, "Dataset revision: %s\n", r.GetDatasetRevision())
	for i, a := range r.GetAssessments() {
		fmt.Fprintf(&b, "\n%s\n%d of %d: %s (%s)\n%s\n\n", strings.Repeat("=", textWidth), i+1, len(r.GetAssessments()),
			a.GetCountryName(), a.GetCountryCode(), strings.Repeat("=", textWidth))
		writeTextAssessment(&b, a)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTextAssessment leads with the two answers, kept apart: whether the
// bar is applied in practice, and whether the country meets the statute on
// the evidence; then why.
func writeTextAssessment(b *strings.Builder, a *pb.Assessment) {
	fmt.Fprintf(b, "%s (%s)\n", a.GetCountryName(), a.GetCountryCode())
	if p := a.GetPractice(); p != nil {
		fmt.Fprintf(b, "In practice:     %s\n", memo.Label(p.GetStatus()))
	}
	fmt.Fprintf(b, "On the evidence: %s\n", memo.Label(a.GetDetermination()))
	fmt.Fprintf(b, "Framework: %s\nAs of:     %s\n", a.GetFrameworkId(), a.GetAsOf())
	if a.GetAgreementId() != "" {
		fmt.Fprintf(b, "Agreement: %s\n", a.GetAgreementId())
	}
	if p := a.GetPractice(); p != nil {
		b.WriteString("\nIn practice\n")
		para(b, "  ", p.GetReason())
		if cited := citedSources(p.GetEvidence()); len(cited) > 0 {
			para(b, "  ", "Cited: "+strings.Join(cited, ", "))
		}
	}
	if ap := a.GetApplicability(); ap.GetStatus() != pb.ApplicabilityStatus_APPLICABILITY_STATUS_REACHES {
		fmt.Fprintf(b, "\nApplicability: %s\n", memo.Label(ap.GetStatus()))
		para(b, "  ", ap.GetReason())
		if len(ap.GetMissingFacts()) > 0 {
			para(b, "  ", "Missing facts: "+strings.Join(ap.GetMissingFacts(), ", "))
		}
	}

	b.WriteString("\nOn the evidence: criteria\n")
	for _, c := range a.GetCriteria() {
		fmt.Fprintf(b, "  %s: %s\n", c.GetCriterionId(), memo.Label(c.GetStatus()))
		para(b, "    ", memo.Sentences(c.GetTitle()))
		para(b, "    ", c.GetRationale())
		if cited := citedSources(c.GetEvidence()); len(cited) > 0 {
			para(b, "    ", "Cited: "+strings.Join(cited, ", "))
		}
	}

	if len(a.GetExceptions()) > 0 {
		b.WriteString("\nExceptions\n")
		for _, x := range a.GetExceptions() {
			fmt.Fprintf(b, "  %s: %s\n", x.GetExceptionId(), memo.Label(x.GetStatus()))
			para(b, "    ", memo.Sentences(x.GetTitle()))
			para(b, "    ", x.GetReason())
			if len(x.GetMissingFacts()) > 0 {
				para(b, "    ", "Missing facts: "+strings.Join(x.GetMissingFacts(), ", "))
			}
		}
	}

	if s := a.GetScope(); s != nil {
		fmt.Fprintf(b, "\nScope: %s\n", memo.Label(s.GetStatus()))
		para(b, "  ", s.GetReason())
		if len(s.GetMissingFacts()) > 0 {
			para(b, "  ", "Missing facts: "+strings.Join(s.GetMissingFacts(), ", "))
		}
	}

	if len(a.GetContestGrounds()) > 0 {
		b.WriteString("\nGrounds to contest\n")
		for _, g := range a.GetContestGrounds() {
			hang(b, "  - ", "    ", g.GetStatement())
		}
	}

	if len(a.GetAlternatives()) > 0 {
		b.WriteString("\nWhat would change the answer\n")
		for _, alt := range a.GetAlternatives() {
			hang(b, "  - ", "    ", alt.GetReason())
		}
	}

	for _, l := range a.GetContestLimits() {
		b.WriteString("\nLimit on contesting it\n")
		para(b, "  ", fmt.Sprintf("%s (from %s): %s", l.GetTitle(), l.GetValidFrom(), l.GetDescription()))
	}

	for _, p := range a.GetPremises() {
		b.WriteString("\nPremise\n")
		para(b, "  ", p)
	}

	if len(a.GetOtherBars()) > 0 {
		b.WriteString("\nOther bars\n")
		for _, o := range a.GetOtherBars() {
			fmt.Fprintf(b, "  %s: %s\n", o.GetBarId(), memo.Label(o.GetStatus()))
			para(b, "    ", memo.Sentences(o.GetTitle()))
			para(b, "    ", o.GetReason())
		}
	}

	if a.GetApplicantOutcome() != pb.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED {
		fmt.Fprintf(b, "\nApplicant outcome: %s\n", memo.Label(a.GetApplicantOutcome()))
	}

	if len(a.GetWarnings()) > 0 {
		b.WriteString("\nWarnings\n")
		for _, w := range a.GetWarnings() {
			hang(b, "  - ", "    ", w)
		}
	}

	b.WriteString("\nSummary\n")
	para(b, "  ", a.GetSummary())

	if len(a.GetSources()) > 0 {
		b.WriteString("\nSources\n")
		for _, s := range a.GetSources() {
			fmt.Fprintf(b, "  [%s]\n", s.GetId())
			para(b, "    ", sourceLine(s))
		}
	}

	fmt.Fprintf(b, "\nDataset revision: %s\n", a.GetDatasetRevision())
	para(b, "", a.GetDisclaimer())
}

// citedSources lists the sources evidence cites, in order, each once,
// with its pinpoints.
func citedSources(ev []*pb.Evidence) []string {
	var order []string
	pins := map[string][]string{}
	for _, e := range ev {
		id := e.GetSourceId()
		if _, ok := pins[id]; !ok {
			order = append(order, id)
			pins[id] = nil
		}
		if p := e.GetPinpoint(); p != "" {
			pins[id] = append(pins[id], p)
		}
	}
	out := make([]string, len(order))
	for i, id := range order {
		out[i] = id
		if len(pins[id]) > 0 {
			out[i] += " (" + strings.Join(pins[id], "; ") + ")"
		}
	}
	return out
}

// sourceLine is one source as a citation: title, publisher, date, link.
func sourceLine(s *pb.Source) string {
	line := memo.Sentences(s.GetTitle(), s.GetPublisher(), memo.Published(s), memo.Secondary(s))
	if s.GetUrl() != "" {
		line += " " + s.GetUrl()
	}
	return line
}

// frameworksText lists the frameworks, each with who applies it, its
// criteria (those decided for the applicant marked), the applicability
// rules that keep the bar from a country or a date, and the day to which
// its agreements and designations are known.
func frameworksText(w io.Writer, fs []*pb.Framework) error {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s: %s\n", f.GetId(), f.GetCitation())
		appliedBy := f.GetJurisdictionCode()
		if f.GetApplyingStateRequired() {
			appliedBy = "the state given with --applying-state"
		}
		var criteria []string
		for _, c := range f.GetCriteria() {
			id := c.GetId()
			if c.GetKind() == pb.CriterionKind_CRITERION_KIND_CONDITION {
				id += " (for the applicant)"
			}
			criteria = append(criteria, id)
		}
		var rules []string
		for _, r := range f.GetApplicability() {
			rules = append(rules, r.GetTitle())
		}
		for _, row := range [][2]string{
			{"Applied by", appliedBy},
			{"Criteria", strings.Join(criteria, ", ")},
			{"Excluded", strings.Join(rules, "; ")},
			{"Records known to", f.GetAgreementsCompleteAsOf()},
		} {
			if row[1] != "" {
				hang(&b, fmt.Sprintf("  %-17s ", row[0]+":"), strings.Repeat(" ", 20), row[1])
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
