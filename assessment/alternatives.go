package assessment

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// maxAlternatives bounds the answers an answer works out under a supposed
// fact: each is one more evaluation, so this bounds what an answer to an
// applicant can cost, whatever facts it lacks.
const maxAlternatives = 20

// supposition is one value supposed for a fact not given: the fact as
// "field=value" and the applicant with it.
type supposition struct {
	fact      string
	applicant *safethirdv1.Applicant
}

// suppositions are the values to suppose for the facts an answer names
// missing, in the order of the facts' names: for declared_groups each
// group of groups not already given, true and false for a yes-or-no fact,
// each value of an enum the schema does not deprecate. A fact of any other
// kind (a number, a date, a country, a list) has too many values to try
// one by one.
func suppositions(app *safethirdv1.Applicant, missing []string, groups []safethirdv1.ApplicantGroup) []supposition {
	var out []supposition
	for _, name := range missing {
		fd := applicantFields.ByName(protoreflect.Name(name))
		switch {
		case fd == nil:
		case fd.Name() == condition.DeclaredGroups:
			for _, g := range groups {
				if slices.Contains(app.GetGroups(), g) {
					continue
				}
				c := proto.Clone(app).(*safethirdv1.Applicant)
				c.DeclaredGroups = &safethirdv1.GroupList{Groups: []safethirdv1.ApplicantGroup{g}}
				out = append(out, supposition{fact: name + "=" + g.String(), applicant: c})
			}
		case fd.HasPresence() && fd.Kind() == protoreflect.BoolKind:
			for _, v := range []bool{true, false} {
				out = append(out, suppose(app, fd, protoreflect.ValueOfBool(v), fmt.Sprint(v)))
			}
		case fd.HasPresence() && fd.Kind() == protoreflect.EnumKind:
			values := fd.Enum().Values()
			for i := range values.Len() {
				if v := values.Get(i); v.Number() != 0 && !isDeprecated(v.Options()) {
					out = append(out, suppose(app, fd, protoreflect.ValueOfEnum(v.Number()), string(v.Name())))
				}
			}
		}
	}
	return out
}

// suppose is the applicant with one more fact.
func suppose(app *safethirdv1.Applicant, fd protoreflect.FieldDescriptor, v protoreflect.Value, text string) supposition {
	c := proto.Clone(app).(*safethirdv1.Applicant)
	c.ProtoReflect().Set(fd, v)
	return supposition{fact: string(fd.Name()) + "=" + text, applicant: c}
}

// alternative is an answer worked out under a supposition.
type alternative struct {
	supposition
	answer *safethirdv1.Assessment
}

// alternatives works out the answer under each supposition for the facts
// a names missing, at most maxAlternatives of them, and returns those whose
// determination or applicant outcome differs from a's. Each is an
// evaluation by the engine as far as the answers (the criteria, practice,
// scope, exceptions and outcome; not the text), never kept in the memo;
// the facts they read are the answer's too, as its alternatives rest on
// them.
func (b *builder) alternatives(a *safethirdv1.Assessment) []alternative {
	var out []alternative
	for i, s := range suppositions(b.q.applicant, missingFacts(a), b.engine.groupsRead(b.q)) {
		if i == maxAlternatives || b.q.ctx.Err() != nil {
			break
		}
		q := *b.q
		q.applicant, q.alternatives, q.decideOnly = s.applicant, false, true
		other, read := b.engine.build(&q)
		b.read |= read
		if other.GetDetermination() != a.GetDetermination() || other.GetApplicantOutcome() != a.GetApplicantOutcome() {
			out = append(out, alternative{s, other})
		}
	}
	return out
}

// groupsRead are the groups whose membership an answer to q can turn on,
// in the schema's order: those the conditions it may read test, or every
// group if one reads the groups otherwise.
func (e *Engine) groupsRead(q *query) []safethirdv1.ApplicantGroup {
	var read []safethirdv1.ApplicantGroup
	every := false
	for _, dc := range e.conditionsOf(q) {
		if prg, ok := e.snap.Program(dc.expr); ok {
			gs, all := prg.Groups()
			read, every = append(read, gs...), every || all
		}
	}
	var out []safethirdv1.ApplicantGroup
	values := safethirdv1.ApplicantGroup(0).Descriptor().Values()
	for i := range values.Len() {
		if g := safethirdv1.ApplicantGroup(values.Get(i).Number()); g != 0 && (every || slices.Contains(read, g)) {
			out = append(out, g)
		}
	}
	return out
}

// alternativeAnswers are the alternatives as the answer gives them.
func alternativeAnswers(a *safethirdv1.Assessment, alts []alternative) []*safethirdv1.AlternativeAnswer {
	out := make([]*safethirdv1.AlternativeAnswer, len(alts))
	for i, alt := range alts {
		changed := changedCriterion(a, alt.answer)
		out[i] = &safethirdv1.AlternativeAnswer{
			Facts:            []string{alt.fact},
			Determination:    alt.answer.GetDetermination(),
			ApplicantOutcome: alt.answer.GetApplicantOutcome(),
			CriterionId:      changed.GetCriterionId(),
			Reason:           alternativeReason(a, alt, changed),
		}
	}
	return out
}

// changedCriterion is the first criterion, in framework order, whose
// status differs between two answers, or nil.
func changedCriterion(a, other *safethirdv1.Assessment) *safethirdv1.CriterionResult {
	for i, c := range other.GetCriteria() {
		if i >= len(a.GetCriteria()) || a.GetCriteria()[i].GetStatus() != c.GetStatus() {
			return c
		}
	}
	return nil
}

// alternativeReason says what changes under an alternative's fact.
func alternativeReason(a *safethirdv1.Assessment, alt alternative, changed *safethirdv1.CriterionResult) string {
	other := alt.answer
	var parts []string
	if changed != nil {
		p := fmt.Sprintf("%q would be %s", changed.GetTitle(), statusWord(changed.GetStatus()))
		if len(changed.GetFindingIds()) > 0 {
			p += " (" + plural("finding", len(changed.GetFindingIds())) + " " + strings.Join(changed.GetFindingIds(), ", ") + ")"
		}
		parts = append(parts, p)
	}
	if other.GetDetermination() != a.GetDetermination() {
		parts = append(parts, fmt.Sprintf("%s %s", a.GetCountryName(), wouldBe[other.GetDetermination()]))
	}
	if other.GetApplicantOutcome() != a.GetApplicantOutcome() {
		parts = append(parts, "for the applicant, "+outcomePhrase(other.GetApplicantOutcome()))
	}
	return fmt.Sprintf("With %s, %s.", alt.fact, strings.Join(parts, "; "))
}

// wouldBe is a determination under a supposed fact, as a predicate.
var wouldBe = map[safethirdv1.Determination]string{
	safethirdv1.Determination_DETERMINATION_QUALIFIES:        "would meet every documented requirement on the evidence",
	safethirdv1.Determination_DETERMINATION_DOES_NOT_QUALIFY: "would not qualify as a safe third country on the evidence",
	safethirdv1.Determination_DETERMINATION_INDETERMINATE:    "could not be shown on the evidence to qualify or not",
	safethirdv1.Determination_DETERMINATION_NOT_APPLICABLE:   "would be a country the bar cannot reach",
}

// outcomePhrase is an applicant outcome as a clause.
func outcomePhrase(o safethirdv1.ApplicantOutcome) string {
	switch o {
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_MAY_APPLY:
		return "the bar may apply"
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_BAR_DOES_NOT_APPLY:
		return "the bar does not apply"
	case safethirdv1.ApplicantOutcome_APPLICANT_OUTCOME_NEEDS_FACTS:
		return "the answer depends on other facts not given"
	default:
		return "the sources do not decide whether the bar applies"
	}
}

func plural(word string, n int) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
