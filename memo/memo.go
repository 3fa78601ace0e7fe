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
	timeline  *pb.AssessTimelineResponse
}

// Option adds to a memo.
type Option func(*memo)

// WithTimeline adds the timeline of the answer, as AssessTimeline gave it
// for the same country, framework and applicant, after the analysis.
func WithTimeline(tl *pb.AssessTimelineResponse) Option {
	return func(m *memo) { m.timeline = tl }
}

func newMemo(f *pb.Framework, opts []Option) *memo {
	m := &memo{framework: f, sources: map[string]*pb.Source{}, notes: map[string]int{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Assessment writes a memo on one assessment: the short answer, the
// grounds to contest it, what would change it, then the analysis; f names
// the law by its citation, and may be nil.
func Assessment(w io.Writer, a *pb.Assessment, f *pb.Framework, opts ...Option) error {
	m := newMemo(f, opts)
	m.learnSources(a)
	fmt.Fprintf(&m.b, "# Safe third country assessment: %s (%s)\n\n", a.GetCountryName(), a.GetCountryCode())
	m.facts(a)
	m.section(2, "Question presented")
	m.line(fmt.Sprintf("Whether %s may be treated as a safe third country under %s as of %s%s.",
		a.GetCountryName(), m.law(a.GetFrameworkId()), a.GetAsOf(), forWhom(a)))
	m.answer(2, a)
	m.timelineOfTheAnswer(2)
	m.footnotes(a.GetDisclaimer())
	_, err := io.WriteString(w, m.b.String())
	return err
}

// Route writes a memo on a route: the overall outcome, then each
// country's answer.
func Route(w io.Writer, legs []string, r *pb.AssessRouteResponse, f *pb.Framework, opts ...Option) error {
	m := newMemo(f, opts)
	as := r.GetAssessments()
	var frameworkID, asOf, disclaimer string
	for _, a := range as {
		m.learnSources(a)
		frameworkID, asOf, disclaimer = a.GetFrameworkId(), a.GetAsOf(), a.GetDisclaimer()
	}
	route := strings.Join(legs, " → ")
	fmt.Fprintf(&m.b, "# Safe third country assessment: route %s\n\n", route)
	m.table([][2]string{{"Framework", m.law(frameworkID)}, {"Date of claim", orDash(asOf)},
		{"Countries assessed", fmt.Sprint(len(as))}, {"Dataset revision", "`" + r.GetDatasetRevision() + "`"}})
	m.section(2, "Question presented")
	m.line(fmt.Sprintf("Whether a person who crossed %s before claiming protection may, as of %s, be barred under %s by removal to any country an agreement would allow.",
		route, orDash(asOf), m.law(frameworkID)))
	m.section(2, "Short answer")
	m.line(fmt.Sprintf("**%s.** %s", sentenceCase(Label(r.GetOutcome())), esc(r.GetSummary())))
	for i, a := range as {
		m.section(2, fmt.Sprintf("%d. %s (%s)", i+1, a.GetCountryName(), a.GetCountryCode()))
		m.facts(a)
		m.answer(3, a)
	}
	m.footnotes(disclaimer)
	_, err := io.WriteString(w, m.b.String())
	return err
}

// Timeline writes a memo on the answer over time alone: the table of its
// segments and what changed at the start of each.
func Timeline(w io.Writer, tl *pb.AssessTimelineResponse, f *pb.Framework) error {
	m := newMemo(f, []Option{WithTimeline(tl)})
	segs := tl.GetSegments()
	from, to := "", ""
	if len(segs) > 0 {
		from, to = segs[0].GetStartDate(), segs[len(segs)-1].GetEndDate()
	}
	fmt.Fprintf(&m.b, "# The answer over time: %s, %s to %s\n\n", tl.GetCountryCode(), from, to)
	m.table([][2]string{{"Country", tl.GetCountryCode()}, {"Framework", m.law(tl.GetFrameworkId())},
		{"Dataset revision", "`" + tl.GetDatasetRevision() + "`"}})
	m.timelineOfTheAnswer(2)
	m.b.WriteString("---\n\n")
	m.line("*Each row is the answer the service gives on every day from its first to its last; the analysis of any one day is AssessCountry's. " +
		"This is an assessment of documented conditions against the cited sources, not a legal determination.*")
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

// item writes a list item; list closes the list.
func (m *memo) item(s string) { m.b.WriteString("- " + s + "\n") }
func (m *memo) list()         { m.b.WriteString("\n") }

// table writes a two-column table without headings.
func (m *memo) table(rows [][2]string) {
	m.b.WriteString("| | |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&m.b, "| %s | %s |\n", r[0], r[1])
	}
	m.b.WriteString("\n")
}

// law names the framework by its citation when the framework is known.
func (m *memo) law(id string) string {
	if m.framework != nil && m.framework.GetId() == id && m.framework.GetCitation() != "" {
		return esc(m.framework.GetCitation())
	}
	return "framework `" + id + "`"
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
