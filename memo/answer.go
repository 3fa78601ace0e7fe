package memo

import (
	"fmt"
	"strings"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// facts is the table at the head of an assessment.
func (m *memo) facts(a *pb.Assessment) {
	rows := [][2]string{
		{"Country", fmt.Sprintf("%s (%s)", a.GetCountryName(), a.GetCountryCode())},
		{"Framework", m.law(a.GetFrameworkId())},
		{"Date assessed", a.GetAsOf()},
		{"In practice", practiceWord(a)},
		{"On the evidence", sentenceCase(Label(a.GetDetermination()))},
		{"Agreement relied on", agreement(a)},
	}
	if a.GetApplicantOutcome() != pb.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED {
		rows = append(rows, [2]string{"Outcome for the applicant", sentenceCase(Label(a.GetApplicantOutcome()))})
	}
	rows = append(rows, [2]string{"Dataset revision", "`" + a.GetDatasetRevision() + "`"})
	m.table(rows)
}

// agreement names the agreement relied on by its title, its id beside it.
func agreement(a *pb.Assessment) string {
	switch {
	case a.GetAgreementId() == "":
		return "none"
	case a.GetAgreementTitle() == "":
		return "`" + a.GetAgreementId() + "`"
	}
	return esc(a.GetAgreementTitle()) + " (`" + a.GetAgreementId() + "`)"
}

// answer writes one country's answer: the short answer (the summary,
// once), the grounds to contest it, what would change it, then the
// analysis; level is the heading level of its sections.
func (m *memo) answer(level int, a *pb.Assessment) {
	m.section(level, "Short answer")
	m.line(fmt.Sprintf("**%s.** %s", esc(headline(a)), esc(a.GetSummary())))
	m.grounds(level, a)
	m.alternatives(level, a)
	m.analysis(level, a)
}

// headline is the answers in a line: the practice, the evidence and the
// applicant's outcome.
func headline(a *pb.Assessment) string {
	if a.GetDetermination() == pb.Determination_DETERMINATION_NOT_APPLICABLE {
		return "The question does not arise"
	}
	parts := []string{"In practice: " + strings.ToLower(practiceWord(a)), "on the evidence: " + strings.ToLower(Label(a.GetDetermination()))}
	if a.GetApplicantOutcome() != pb.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED {
		parts = append(parts, "for the applicant: "+strings.ToLower(Label(a.GetApplicantOutcome())))
	}
	return strings.Join(parts, "; ")
}

// practiceWord is the practice answer in a word or two.
func practiceWord(a *pb.Assessment) string {
	if a.GetPractice() == nil {
		return "Not applicable"
	}
	return sentenceCase(Label(a.GetPractice().GetStatus()))
}

// grounds writes the grounds to contest, each with the evidence it rests
// on; nothing when there are none.
func (m *memo) grounds(level int, a *pb.Assessment) {
	if len(a.GetContestGrounds()) == 0 {
		return
	}
	m.section(level, "Grounds to contest")
	for _, g := range a.GetContestGrounds() {
		m.item(esc(g.GetStatement()) + m.cites(g.GetEvidence()))
	}
	m.list()
}

// alternatives writes what facts not given would change the answer, as
// the service worked it out; nothing when none would.
func (m *memo) alternatives(level int, a *pb.Assessment) {
	if len(a.GetAlternatives()) == 0 {
		return
	}
	m.section(level, "What would change the answer")
	m.line("Facts not given, one at a time, and the answer the service gives with each:")
	m.b.WriteString("| With | On the evidence | For the applicant | What changes |\n|---|---|---|---|\n")
	for _, alt := range a.GetAlternatives() {
		fmt.Fprintf(&m.b, "| %s | %s | %s | %s |\n", codeList(alt.GetFacts()), sentenceCase(Label(alt.GetDetermination())),
			sentenceCase(Label(alt.GetApplicantOutcome())), esc(alt.GetReason()))
	}
	m.b.WriteString("\n")
}

// timelineOfTheAnswer writes the segments of the answer over time, when
// the memo was given them.
func (m *memo) timelineOfTheAnswer(level int) {
	segs := m.timeline.GetSegments()
	if len(segs) == 0 {
		return
	}
	m.section(level, "Timeline of the answer")
	m.line(fmt.Sprintf("The answer on every day from %s to %s, in runs of days that share it, with what changed on the first day of each.",
		segs[0].GetStartDate(), segs[len(segs)-1].GetEndDate()))
	withApplicant := segs[0].GetApplicantOutcome() != pb.ApplicantOutcome_APPLICANT_OUTCOME_UNSPECIFIED
	head := "| From | To | In practice | On the evidence |"
	if withApplicant {
		head += " For the applicant |"
	}
	m.b.WriteString(head + " What changed |\n|---|---|---|---|" + strings.Repeat("---|", boolInt(withApplicant)) + "---|\n")
	for _, s := range segs {
		row := fmt.Sprintf("| %s | %s | %s | %s |", s.GetStartDate(), s.GetEndDate(),
			sentenceCase(Label(s.GetPracticeStatus())), sentenceCase(Label(s.GetDetermination())))
		if withApplicant {
			row += " " + sentenceCase(Label(s.GetApplicantOutcome())) + " |"
		}
		var changes []string
		for _, c := range s.GetChanges() {
			changes = append(changes, esc(c.GetDescription())+" (`"+c.GetRecordId()+"`)")
		}
		if len(changes) == 0 {
			changes = []string{"—"}
		}
		m.b.WriteString(row + " " + strings.Join(changes, " ") + " |\n")
	}
	m.b.WriteString("\n")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
