package memo

import (
	"fmt"
	"io"
	"strings"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// memo renders assessments as a Markdown memo a lawyer can paste into a
// brief. Evidence is cited with footnotes, numbered in order of first
// citation and shared across the whole memo, so a route's assessments
// cite one list of sources.
type memo struct {
	b         strings.Builder
	framework *pb.Framework // nil: only the id is known
	sources   map[string]*pb.Source
	notes     map[string]int // source id -> footnote number
	order     []string       // source ids in footnote order
}

func newMemo(f *pb.Framework) *memo {
	return &memo{framework: f, sources: map[string]*pb.Source{}, notes: map[string]int{}}
}

// Assessment writes a memo on one assessment; f names the law by its
// citation, and may be nil.
func Assessment(w io.Writer, a *pb.Assessment, f *pb.Framework) error {
	m := newMemo(f)
	m.learnSources(a)
	fmt.Fprintf(&m.b, "# Safe third country assessment: %s (%s)\n\n", a.GetCountryName(), a.GetCountryCode())
	m.facts(a)
	m.section(2, "Question presented")
	m.line(fmt.Sprintf("Whether %s may be treated as a safe third country under %s as of %s%s.",
		a.GetCountryName(), m.law(a.GetFrameworkId()), a.GetAsOf(), forWhom(a)))
	m.section(2, "Short answer")
	m.shortAnswer(3, a)
	m.analysis(2, a)
	m.footnotes(a.GetDisclaimer())
	_, err := io.WriteString(w, m.b.String())
	return err
}

// Route writes a memo on a route: the overall outcome, then each
// country's analysis.
func Route(w io.Writer, legs []string, r *pb.AssessRouteResponse, f *pb.Framework) error {
	m := newMemo(f)
	as := r.GetAssessments()
	var frameworkID, asOf, disclaimer string
	for _, a := range as {
		m.learnSources(a)
		frameworkID, asOf, disclaimer = a.GetFrameworkId(), a.GetAsOf(), a.GetDisclaimer()
	}
	route := strings.Join(legs, " → ")
	fmt.Fprintf(&m.b, "# Safe third country assessment: route %s\n\n", route)
	m.line(fmt.Sprintf("| | |\n|---|---|\n| Framework | %s |\n| Date of claim | %s |\n| Countries assessed | %d |\n| Dataset revision | `%s` |",
		m.law(frameworkID), orDash(asOf), len(as), r.GetDatasetRevision()))
	m.section(2, "Question presented")
	m.line(fmt.Sprintf("Whether a person who crossed %s before claiming protection may, as of %s, be barred under %s by removal to any country an agreement would allow.",
		route, orDash(asOf), m.law(frameworkID)))
	m.section(2, "Short answer")
	m.line(fmt.Sprintf("**%s.** %s", sentenceCase(Label(r.GetOutcome())), esc(r.GetSummary())))
	for i, a := range as {
		m.section(2, fmt.Sprintf("%d. %s (%s)", i+1, a.GetCountryName(), a.GetCountryCode()))
		m.facts(a)
		m.section(3, "Short answer")
		m.shortAnswer(4, a)
		m.analysis(3, a)
	}
	m.footnotes(disclaimer)
	_, err := io.WriteString(w, m.b.String())
	return err
}

func (m *memo) learnSources(a *pb.Assessment) {
	for _, s := range a.GetSources() {
		m.sources[s.GetId()] = s
	}
}

func (m *memo) section(level int, title string) {
	fmt.Fprintf(&m.b, "%s %s\n\n", strings.Repeat("#", level), title)
}

// line writes a paragraph; Markdown wraps it for the reader.
func (m *memo) line(s string) {
	m.b.WriteString(s + "\n\n")
}

// law names the framework by its citation when the framework is known.
func (m *memo) law(id string) string {
	if m.framework != nil && m.framework.GetId() == id && m.framework.GetCitation() != "" {
		return esc(m.framework.GetCitation())
	}
	return "framework `" + id + "`"
}

// facts is the table at the head of an assessment.
func (m *memo) facts(a *pb.Assessment) {
	agreement := "none"
	if a.GetAgreementId() != "" {
		agreement = "`" + a.GetAgreementId() + "`"
	}
	rows := [][2]string{
		{"Country", fmt.Sprintf("%s (%s)", a.GetCountryName(), a.GetCountryCode())},
		{"Framework", m.law(a.GetFrameworkId())},
		{"Date assessed", a.GetAsOf()},
		{"In practice", practiceWord(a)},
		{"On the evidence", sentenceCase(Label(a.GetDetermination()))},
		{"Agreement relied on", agreement},
	}
	if a.GetApplicantOutcome() != pb.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED {
		rows = append(rows, [2]string{"Outcome for the applicant", sentenceCase(Label(a.GetApplicantOutcome()))})
	}
	rows = append(rows, [2]string{"Dataset revision", "`" + a.GetDatasetRevision() + "`"})
	m.b.WriteString("| | |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&m.b, "| %s | %s |\n", r[0], r[1])
	}
	m.b.WriteString("\n")
}

// shortAnswer gives the two answers apart, each headed and footnoted to
// the evidence that decides it, then the applicant's outcome and the
// summary paragraph to paste.
func (m *memo) shortAnswer(level int, a *pb.Assessment) {
	if a.GetDetermination() == pb.Determination_DETERMINATION_NOT_APPLICABLE {
		m.line(fmt.Sprintf("**The question does not arise.** %s%s", esc(a.GetApplicability().GetReason()), m.cites(a.GetApplicability().GetEvidence())))
		m.line(esc(a.GetSummary()))
		return
	}
	p := a.GetPractice()
	m.section(level, "In practice: "+strings.ToLower(practiceWord(a)))
	m.line(esc(p.GetReason()) + m.cites(p.GetEvidence()))
	m.section(level, "On the evidence: "+strings.ToLower(Label(a.GetDetermination())))
	word := map[pb.Determination]string{
		pb.Determination_DETERMINATION_QUALIFIES:        "Yes, on the documented conditions",
		pb.Determination_DETERMINATION_DOES_NOT_QUALIFY: "No",
		pb.Determination_DETERMINATION_INDETERMINATE:    "The evidence does not decide it",
	}[a.GetDetermination()]
	line := fmt.Sprintf("**%s.**", word)
	if d := decisiveCriterion(a); d != nil {
		line += fmt.Sprintf(" Decisive: %s, %s%s.%s", esc(d.GetTitle()), strings.ToLower(Label(d.GetStatus())), basisClause(d), m.cites(d.GetEvidence()))
	}
	m.line(line)
	if d := decisiveCriterion(a); d != nil {
		m.caveats(d)
	}
	if len(a.GetContestLimits()) > 0 && p.GetStatus() != pb.PracticeStatus_PRACTICE_STATUS_NOT_APPLIED {
		for _, l := range a.GetContestLimits() {
			m.b.WriteString(fmt.Sprintf("- **Limit on contesting it:** %s (from %s): %s%s\n", esc(l.GetTitle()), l.GetValidFrom(), esc(l.GetDescription()), m.cites(l.GetEvidence())))
		}
		m.b.WriteString("\n")
	}
	if a.GetApplicantOutcome() != pb.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED {
		m.section(level, "For the applicant: "+strings.ToLower(Label(a.GetApplicantOutcome())))
	} else {
		m.section(level, "In one paragraph")
	}
	m.line(esc(a.GetSummary()))
}

// practiceWord is the practice answer in a word or two.
func practiceWord(a *pb.Assessment) string {
	if a.GetPractice() == nil {
		return "Not applicable"
	}
	return sentenceCase(Label(a.GetPractice().GetStatus()))
}

// decisiveCriterion is the criterion the server named as deciding the
// determination, or nil.
func decisiveCriterion(a *pb.Assessment) *pb.CriterionResult {
	for _, c := range a.GetCriteria() {
		if id := c.GetCriterionId(); id != "" && id == a.GetDecisiveCriterionId() {
			return c
		}
	}
	return nil
}

// cites returns the footnote markers for the sources of evidence, each once.
func (m *memo) cites(evidence []*pb.Evidence) string {
	var out strings.Builder
	seen := map[string]bool{}
	for _, e := range evidence {
		if id := e.GetSourceId(); !seen[id] && m.sources[id] != nil {
			seen[id] = true
			out.WriteString(m.cite(id))
		}
	}
	return out.String()
}

// analysis goes criterion by criterion, then exceptions, scope,
// discretion and warnings; level is the heading level of its sections.
func (m *memo) analysis(level int, a *pb.Assessment) {
	m.section(level, "Analysis")
	for i, c := range a.GetCriteria() {
		m.section(level+1, fmt.Sprintf("%d. %s: %s", i+1, esc(c.GetTitle()), strings.ToLower(Label(c.GetStatus()))))
		m.line(esc(c.GetRationale()))
		m.caveats(c)
		m.riskFactors(c)
		for _, e := range c.GetEvidence() {
			m.evidence(e)
		}
		if len(c.GetEvidence()) > 0 {
			m.b.WriteString("\n")
		}
	}
	if len(a.GetExceptions()) > 0 {
		m.section(level, "Exceptions")
		if a.GetAgreementId() != "" {
			m.line(fmt.Sprintf("The exceptions of `%s` as the destination applies them:", a.GetAgreementId()))
		}
		for _, x := range a.GetExceptions() {
			item := fmt.Sprintf("- **%s**: %s. %s%s", esc(x.GetTitle()), strings.ToLower(Label(x.GetStatus())), esc(x.GetReason()), m.cites(x.GetEvidence()))
			if len(x.GetMissingFacts()) > 0 {
				item += " Facts that would decide it: " + codeList(x.GetMissingFacts()) + "."
			}
			m.b.WriteString(item + "\n")
		}
		m.b.WriteString("\n")
	}
	if s := a.GetScope(); s != nil {
		m.section(level, "Scope of the agreement")
		text := fmt.Sprintf("**%s.** %s%s", sentenceCase(Label(s.GetStatus())), esc(s.GetReason()), m.cites(s.GetEvidence()))
		if len(s.GetMissingFacts()) > 0 {
			text += " Facts that would decide it: " + codeList(s.GetMissingFacts()) + "."
		}
		m.line(text)
	}
	if len(a.GetOtherBars()) > 0 {
		m.section(level, "Other bars")
		m.line("Bars of the same law beside the safe-third-country bar that the applicant's facts reach or may reach:")
		for _, o := range a.GetOtherBars() {
			item := fmt.Sprintf("- **%s**: %s. %s%s", esc(o.GetTitle()), strings.ToLower(Label(o.GetStatus())), esc(o.GetReason()), m.cites(o.GetEvidence()))
			if len(o.GetMissingFacts()) > 0 {
				item += " Facts that would decide it: " + codeList(o.GetMissingFacts()) + "."
			}
			m.b.WriteString(item + "\n")
		}
		m.b.WriteString("\n")
	}
	if len(a.GetPremises()) > 0 {
		m.section(level, "Premises")
		for _, p := range a.GetPremises() {
			m.b.WriteString("- " + esc(p) + "\n")
		}
		m.b.WriteString("\n")
	}
	if tl := a.GetPractice().GetTimeline(); len(tl) > 0 {
		m.section(level, "Timeline")
		m.line(fmt.Sprintf("The events of the agreement and designation relied on, up to %s; court decisions are marked.", a.GetAsOf()))
		for _, e := range tl {
			item := "- " + eventWhen(e) + ": "
			if e.GetKind() == pb.AgreementEventKind_AGREEMENT_EVENT_KIND_COURT_DECISION {
				item += "**Court decision.** "
			}
			m.b.WriteString(item + esc(Sentences(e.GetDescription())) + m.cites(e.GetEvidence()) + "\n")
		}
		m.b.WriteString("\n")
	}
	if a.GetDiscretion() != "" {
		m.section(level, "Discretion")
		m.line(esc(a.GetDiscretion()))
	}
	if len(a.GetWarnings()) > 0 {
		m.section(level, "Warnings")
		for _, w := range a.GetWarnings() {
			m.b.WriteString("- " + esc(w) + "\n")
		}
		m.b.WriteString("\n")
	}
}

// basisClause says who concluded a criterion's deciding finding, as a
// clause after its status: a publisher's conclusion is not the dataset's
// inference, and a brief must say which it relies on.
func basisClause(c *pb.CriterionResult) string {
	switch c.GetBasis() {
	case pb.FindingBasis_FINDING_BASIS_PUBLISHER_CONCLUSION:
		return ", as " + esc(c.GetConcludedBy()) + " concluded"
	case pb.FindingBasis_FINDING_BASIS_CURATOR_INFERENCE:
		return ", on the dataset's reading of the evidence (no publisher concludes it in these words)"
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
		m.b.WriteString("- " + esc(f.GetDescription()) + m.cites(f.GetEvidence()) + "\n")
	}
	m.b.WriteString("\n")
}

// eventWhen is an event's date, or the window it happened in.
func eventWhen(e *pb.AgreementEvent) string {
	if e.GetEarliestDate() != "" {
		return e.GetEarliestDate() + " to " + e.GetDate()
	}
	return e.GetDate()
}

// evidence is one item: the statement, the verbatim quote with its
// footnote, then the pinpoint and whether the source is secondary.
func (m *memo) evidence(e *pb.Evidence) {
	item := "- " + esc(e.GetStatement())
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
	m.b.WriteString(item + "\n")
}

// cite returns the footnote marker for a source, numbering it on first use.
func (m *memo) cite(id string) string {
	n, ok := m.notes[id]
	if !ok {
		m.order = append(m.order, id)
		n = len(m.order)
		m.notes[id] = n
	}
	return fmt.Sprintf("[^%d]", n)
}

// footnotes lists the sources the memo cites, then the disclaimer. Every
// source of the answer is cited somewhere in the memo, so none is listed
// without a footnote.
func (m *memo) footnotes(disclaimer string) {
	if len(m.sources) == 0 {
		m.line("*Evidence and sources are left out of the basic view; ask for the full view (`--view full`) to cite them.*")
	}
	if len(m.order) > 0 {
		m.section(2, "Sources")
		for _, id := range m.order {
			fmt.Fprintf(&m.b, "[^%d]: %s\n", m.notes[id], m.citation(id))
		}
		m.b.WriteString("\n")
	}
	m.b.WriteString("---\n\n")
	m.line("*" + esc(disclaimer) + "*")
}

// citation is a source as a footnote: title, publisher, date, link, and
// the note on the copy read.
func (m *memo) citation(id string) string {
	s, ok := m.sources[id]
	if !ok {
		return "`" + id + "` (not in the answer's sources)"
	}
	// The title is italic, so its full stop goes outside the emphasis.
	c := Sentences("*"+esc(s.GetTitle())+"*", esc(s.GetPublisher()), Published(s), Secondary(s))
	if s.GetUrl() != "" {
		c += " <" + s.GetUrl() + ">"
	}
	if read := Read(s); read != "" {
		c += " " + esc(read)
	}
	if s.GetNote() != "" {
		c += " " + esc(s.GetNote())
	}
	return c + " (`" + id + "`)"
}

// forWhom says whether the question is about a particular person.
func forWhom(a *pb.Assessment) string {
	if a.GetApplicantOutcome() == pb.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED {
		return ", without regard to any particular applicant"
	}
	return ", and whether the bar applies to the applicant on the facts given"
}

func codeList(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = "`" + s + "`"
	}
	return strings.Join(out, ", ")
}

// sentenceCase turns "BAR MAY APPLY" into "Bar may apply".
func sentenceCase(s string) string {
	s = strings.ToLower(s)
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// mdEscaper escapes what would change the meaning of dataset text in
// Markdown: emphasis, links, code, HTML and table pipes.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "<", `\<`, "|", `\|`,
)

func esc(s string) string { return mdEscaper.Replace(s) }
