package memo

import (
	"fmt"
	"strings"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// analysis goes through the answer with its evidence: the practice, then
// the evidence criterion by criterion, then the exceptions, the scope,
// other bars, premises, discretion and warnings; level is the heading
// level of the section, and each part is written only when it has
// something to say.
func (m *memo) analysis(level int, a *pb.Assessment) {
	m.section(level, "Analysis")
	sub := level + 1
	if a.GetDetermination() == pb.Determination_DETERMINATION_NOT_APPLICABLE {
		ap := a.GetApplicability()
		m.section(sub, "The question does not arise")
		m.line(esc(ap.GetReason()) + m.cites(ap.GetEvidence()))
	} else {
		m.practice(sub, a)
		m.evidence(sub, a)
	}
	m.exceptions(sub, a)
	if s := a.GetScope(); s != nil {
		m.section(sub, "Scope of the agreement")
		m.line(fmt.Sprintf("**%s.** %s%s%s", sentenceCase(Label(s.GetStatus())), esc(s.GetReason()), m.cites(s.GetEvidence()), decidingFacts(s.GetMissingFacts())))
	}
	if len(a.GetOtherBars()) > 0 {
		m.section(sub, "Other bars")
		m.line("Bars of the same law beside the safe-third-country bar that the applicant's facts reach or may reach:")
		for _, o := range a.GetOtherBars() {
			m.item(fmt.Sprintf("**%s**: %s. %s%s%s", esc(o.GetTitle()), strings.ToLower(Label(o.GetStatus())), esc(o.GetReason()), m.cites(o.GetEvidence()), decidingFacts(o.GetMissingFacts())))
		}
		m.list()
	}
	if len(a.GetPremises()) > 0 {
		m.section(sub, "Premises")
		for _, p := range a.GetPremises() {
			m.item(esc(p))
		}
		m.list()
	}
	if a.GetDiscretion() != "" {
		m.section(sub, "Discretion")
		m.line(esc(a.GetDiscretion()))
	}
	if len(a.GetWarnings()) > 0 {
		m.section(sub, "Warnings")
		for _, w := range a.GetWarnings() {
			m.item(esc(w))
		}
		m.list()
	}
}

// practice writes the practice with its evidence, then the events of the
// agreement or designation relied on.
func (m *memo) practice(level int, a *pb.Assessment) {
	p := a.GetPractice()
	m.section(level, "In practice: "+strings.ToLower(practiceWord(a)))
	m.line(esc(p.GetReason()) + m.cites(p.GetEvidence()))
	if tl := p.GetTimeline(); len(tl) > 0 {
		m.line(fmt.Sprintf("The events of the agreement and designation relied on, up to %s; court decisions are marked:", a.GetAsOf()))
		for _, e := range tl {
			item := eventWhen(e) + ": "
			if e.GetKind() == pb.AgreementEventKind_AGREEMENT_EVENT_KIND_COURT_DECISION {
				item += "**Court decision.** "
			}
			m.item(item + esc(Sentences(e.GetDescription())) + m.cites(e.GetEvidence()))
		}
		m.list()
	}
}

// evidence writes the determination, then each criterion with its
// rationale, what weakens it, and its evidence.
func (m *memo) evidence(level int, a *pb.Assessment) {
	m.section(level, "On the evidence: "+strings.ToLower(Label(a.GetDetermination())))
	for i, c := range a.GetCriteria() {
		title := fmt.Sprintf("%d. %s: %s%s", i+1, esc(c.GetTitle()), strings.ToLower(Label(c.GetStatus())), basisClause(c))
		if c.GetCriterionId() == a.GetDecisiveCriterionId() {
			title += " (decisive)"
		}
		m.section(level+1, title)
		m.line(esc(c.GetRationale()) + decidingFacts(c.GetMissingFacts()))
		m.caveats(c)
		m.riskFactors(c)
		for _, e := range c.GetEvidence() {
			m.evidenceItem(e)
		}
		if len(c.GetEvidence()) > 0 {
			m.list()
		}
	}
}

// exceptions writes the exceptions of the agreement relied on.
func (m *memo) exceptions(level int, a *pb.Assessment) {
	if len(a.GetExceptions()) == 0 {
		return
	}
	m.section(level, "Exceptions")
	if a.GetAgreementId() != "" {
		m.line(fmt.Sprintf("The exceptions of %s as the destination applies them:", agreement(a)))
	}
	for _, x := range a.GetExceptions() {
		m.item(fmt.Sprintf("**%s**: %s. %s%s%s", esc(x.GetTitle()), strings.ToLower(Label(x.GetStatus())), esc(x.GetReason()), m.cites(x.GetEvidence()), decidingFacts(x.GetMissingFacts())))
	}
	m.list()
}

// decidingFacts names the facts not given that would decide a result.
func decidingFacts(missing []string) string {
	if len(missing) == 0 {
		return ""
	}
	return " Facts that would decide it: " + codeList(missing) + "."
}

// basisClause says who concluded a criterion's deciding finding, as a
// clause after its status: a publisher's conclusion is not the dataset's
// inference, and a brief must say which it relies on.
func basisClause(c *pb.CriterionResult) string {
	switch c.GetBasis() {
	case pb.FindingBasis_FINDING_BASIS_PUBLISHER_CONCLUSION:
		return ", as " + esc(c.GetConcludedBy()) + " concluded"
	case pb.FindingBasis_FINDING_BASIS_CURATOR_INFERENCE:
		return ", on the dataset's reading of the evidence"
	}
	return ""
}

// caveats marks, beside a conclusion, what weakens it: evidence older than
// the framework allows, and sources that contradict one it rests on.
func (m *memo) caveats(c *pb.CriterionResult) {
	if c.GetStale() != "" {
		m.line("> **Stale evidence.** " + esc(c.GetStale()))
	}
	for _, conflict := range c.GetConflicts() {
		m.line("> **Conflicting sources.** " + esc(conflict))
	}
}

// riskFactors lists the circumstances that decide a criterion for the
// person, when the evidence shows a risk only in individual circumstances.
func (m *memo) riskFactors(c *pb.CriterionResult) {
	if len(c.GetRiskFactors()) == 0 {
		return
	}
	m.line("The evidence shows a risk for some members, depending on their circumstances; these decide it for the person:")
	for _, f := range c.GetRiskFactors() {
		m.item(esc(f.GetDescription()) + m.cites(f.GetEvidence()))
	}
	m.list()
}

// eventWhen is an event's date, or the window it happened in: a window
// still open has no known end.
func eventWhen(e *pb.AgreementEvent) string {
	switch {
	case e.GetEarliestDate() != "" && e.GetDate() == "":
		return "From " + e.GetEarliestDate() + ", end not known"
	case e.GetEarliestDate() != "":
		return "Between " + e.GetEarliestDate() + " and " + e.GetDate()
	}
	return e.GetDate()
}

// evidenceItem is one item: the statement, the verbatim quote with its
// footnote, then the pinpoint and whether the source is secondary.
func (m *memo) evidenceItem(e *pb.Evidence) {
	item := esc(e.GetStatement())
	if e.GetQuote() != "" {
		item += fmt.Sprintf(" The source reads: “%s”", esc(e.GetQuote()))
	}
	item += m.cite(e.GetSourceId())
	var notes []string
	if e.GetPinpoint() != "" {
		notes = append(notes, esc(e.GetPinpoint()))
	}
	if e.GetSupport() == pb.Support_SUPPORT_SECONDARY {
		notes = append(notes, "secondary source")
	}
	if len(notes) > 0 {
		item += " (" + strings.Join(notes, "; ") + ")"
	}
	m.item(item)
}
