package assessment

import (
	"fmt"
	"slices"
	"strings"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// exceptions evaluates the relied-on agreement's exceptions that the
// framework's jurisdiction applies, and returns the premises taken for
// those the Applicant's facts cannot decide.
func (b *builder) exceptions(agreement *safethirdv1.Agreement) ([]*safethirdv1.ExceptionResult, []string) {
	if agreement == nil {
		return nil, nil
	}
	var out []*safethirdv1.ExceptionResult
	var premises []string
	for _, x := range agreement.GetExceptions() {
		if x.GetDestinationCode() != b.q.jurisdiction {
			continue
		}
		out = append(out, b.exception(x))
		if p := x.GetPremise(); p != "" && b.q.applicant != nil {
			premises = append(premises, sentence(p))
		}
	}
	return out, premises
}

// exception evaluates one exception for the applicant. The result depends
// only on the exception, its outcome and the facts missing, so identical
// results are built once per Engine and shared.
func (b *builder) exception(x *safethirdv1.AgreementException) *safethirdv1.ExceptionResult {
	b.cite(x.GetEvidence())
	key := exceptionKey{x: x, full: b.q.full}
	switch {
	case x.GetDiscretionary():
		key.outcome = discretionary
	case x.GetPremise() != "":
		key.outcome = assumedNot
	default:
		key.outcome, key.missing = b.exceptionOutcome(x)
	}
	return b.engine.exceptionResult(key)
}

// exceptionOutcome evaluates the exception's conditions.
func (b *builder) exceptionOutcome(x *safethirdv1.AgreementException) (exceptionOutcome, string) {
	if nc := x.GetNecessaryCondition(); nc != "" {
		res := b.evalCondition(nc)
		switch res.Value {
		case condition.False:
			return necessaryNotMet, ""
		case condition.Unknown:
			return needsFacts, strings.Join(res.Missing, ", ")
		}
	}
	if x.GetCondition() == "" {
		return testNotInData, ""
	}
	res := b.evalCondition(x.GetCondition())
	switch res.Value {
	case condition.True:
		return applies, ""
	case condition.False:
		return doesNotApply, ""
	default:
		return needsFacts, strings.Join(res.Missing, ", ")
	}
}

// exceptionOutcome is how an exception came out, finer than its status:
// it decides the reason given.
type exceptionOutcome int

const (
	discretionary exceptionOutcome = iota
	assumedNot
	necessaryNotMet
	needsFacts
	testNotInData
	applies
	doesNotApply
)

type exceptionKey struct {
	x       *safethirdv1.AgreementException
	outcome exceptionOutcome
	missing string // the missing facts, joined, for needsFacts
	full    bool   // the FULL view, with the exception's evidence
}

// exceptionResult returns the shared result for key, building it once.
func (e *Engine) exceptionResult(key exceptionKey) *safethirdv1.ExceptionResult {
	if r, ok := e.exceptionResults.Load(key); ok {
		return r.(*safethirdv1.ExceptionResult)
	}
	r, _ := e.exceptionResults.LoadOrStore(key, newExceptionResult(key))
	return r.(*safethirdv1.ExceptionResult)
}

func newExceptionResult(key exceptionKey) *safethirdv1.ExceptionResult {
	x := key.x
	r := &safethirdv1.ExceptionResult{ExceptionId: x.GetId(), Title: x.GetTitle()}
	if key.full {
		r.Evidence = x.GetEvidence()
	}
	switch key.outcome {
	case discretionary:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_DISCRETIONARY
		r.Reason = "A decision-maker's discretion that no data decides. " + sentence(x.GetDescription()) + provisionNote(x)
	case assumedNot:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_DOES_NOT_APPLY
		r.Reason = "Taken not to apply, as a premise: " + sentence(x.GetPremise()) + " " + sentence(x.GetDescription()) + provisionNote(x)
	case necessaryNotMet:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_DOES_NOT_APPLY
		r.Reason = "On the facts given, a requirement the sources confirm for this exception is not met. " + sentence(x.GetDescription())
	case needsFacts:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_NEEDS_FACTS
		r.MissingFacts = strings.Split(key.missing, ", ")
		r.Reason = "Depends on facts not given: " + key.missing + ". " + sentence(x.GetDescription())
	case testNotInData:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_TEST_NOT_IN_DATA
		r.Reason = "The dataset does not hold this exception's test in a form it can decide on the facts given; check " + x.GetTestProvision() + ". " + sentence(x.GetDescription())
	case applies:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_APPLIES
		r.Reason = "On the facts given, the exception's test is met. " + sentence(x.GetDescription()) + provisionNote(x)
	default:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_DOES_NOT_APPLY
		r.Reason = "On the facts given, the exception's test is not met. " + sentence(x.GetDescription()) + provisionNote(x)
	}
	return r
}

func provisionNote(x *safethirdv1.AgreementException) string {
	if x.GetTestProvision() == "" {
		return ""
	}
	return " Provision to check: " + x.GetTestProvision() + "."
}

// sentence ends text with a period, so descriptions join cleanly.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// scope decides whether the applicant is within the relied-on agreement's
// scope on the date. Where the scope turns on the country of last presence
// and no route gave it, the assessed country is taken to be it, and the
// premise is stated.
func (b *builder) scope(a *safethirdv1.Agreement) (*safethirdv1.ScopeResult, []string) {
	app := b.q.applicant
	if a == nil || app == nil {
		return nil, nil
	}
	unknownRest := func(known string) *safethirdv1.ScopeResult {
		return &safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_UNKNOWN,
			Reason: strings.TrimSpace(fmt.Sprintf("%s The sources do not say fully whom %s covers.", known, a.GetTitle()))}
	}
	sc := scopeOn(a, b.q.asOf)
	switch {
	case sc == nil && !a.GetScopeKnown():
		return unknownRest(""), nil
	case sc == nil:
		return &safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE,
			Reason: fmt.Sprintf("%s covered no one on %s.", a.GetTitle(), b.q.asOf)}, nil
	}
	result := func(r *safethirdv1.ScopeResult) *safethirdv1.ScopeResult {
		b.cite(sc.GetEvidence())
		if b.q.full {
			r.Evidence = sc.GetEvidence()
		}
		return r
	}
	if sc.GetCondition() != "" {
		switch res := b.evalCondition(sc.GetCondition()); res.Value {
		case condition.False:
			return result(&safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE,
				Reason: fmt.Sprintf("On the facts given, the applicant is outside %s: %s", a.GetTitle(), sentence(sc.GetDescription()))}), nil
		case condition.Unknown:
			return result(&safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_NEEDS_FACTS, MissingFacts: res.Missing,
				Reason: fmt.Sprintf("Whether the applicant is within %s depends on facts not given: %s. %s", a.GetTitle(), strings.Join(res.Missing, ", "), sentence(sc.GetDescription()))}), scopePremises(sc)
		}
	}
	country := b.q.country.GetCode()
	premises := scopePremises(sc)
	lastPresence := ""
	if sc.GetRequiresLastPresence() {
		switch {
		case b.q.lastPresence == "":
			premise := fmt.Sprintf("%s (%s) is taken to be the country of last presence, which %s requires; the answer assumes it. AssessRoute decides it from the countries crossed.",
				b.q.country.GetName(), country, a.GetTitle())
			premises = append(premises, premise)
			lastPresence = premise
		case b.q.lastPresence != country:
			return result(&safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE,
				Reason: fmt.Sprintf("%s covers only claimants whose country of last presence is the partner; on this route it is %s, not %s.",
					a.GetTitle(), b.q.lastPresence, country)}), nil
		default:
			lastPresence = fmt.Sprintf("%s is the country of last presence on this route.", country)
		}
	}
	if len(sc.GetRules()) > 0 {
		if out := b.entryRules(a, sc); out != nil {
			return result(out), premises
		}
	}
	within := fmt.Sprintf("On %s, %s covered the applicant's way of entering. %s", b.q.asOf, a.GetTitle(), lastPresence)
	if len(sc.GetRules()) == 0 {
		within = fmt.Sprintf("On %s, the applicant meets what the sources give of the scope of %s: %s %s", b.q.asOf, a.GetTitle(), sentence(sc.GetDescription()), lastPresence)
	}
	within = strings.TrimSpace(within)
	if !a.GetScopeKnown() {
		return result(unknownRest(within)), premises
	}
	return result(&safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_WITHIN, Reason: strings.TrimSpace(within)}), premises
}

// scopePremises are the parts of a scope no fact of the Applicant decides,
// each as the premise the answer takes, naming the fact.
func scopePremises(sc *safethirdv1.AgreementScope) []string {
	var out []string
	for _, p := range sc.GetPremises() {
		out = append(out, fmt.Sprintf("%s (Not among the facts an applicant can give: %s.)", sentence(p.GetPremise()), p.GetFact()))
	}
	return out
}

// entryRules checks the applicant's way of entering against a scope's
// rules; nil means they are covered.
func (b *builder) entryRules(a *safethirdv1.Agreement, sc *safethirdv1.AgreementScope) *safethirdv1.ScopeResult {
	app := b.q.applicant
	b.read |= entryFacts
	if app.EntryType == nil {
		return &safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_NEEDS_FACTS, MissingFacts: []string{"entry_type"},
			Reason: fmt.Sprintf("%s covers only some ways of entering (%s); the entry type was not given.", a.GetTitle(), ruleList(sc))}
	}
	ri := slices.IndexFunc(sc.GetRules(), func(r *safethirdv1.ScopeRule) bool { return r.GetEntryType() == app.GetEntryType() })
	if ri < 0 {
		return &safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE,
			Reason: fmt.Sprintf("On %s, %s covered only %s; the applicant's entry type is not among them.", b.q.asOf, a.GetTitle(), ruleList(sc))}
	}
	rule := sc.GetRules()[ri]
	if max := rule.GetMaxDaysFromCrossingToClaim(); max > 0 {
		if app.DaysFromCrossingToClaim == nil {
			return &safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_NEEDS_FACTS, MissingFacts: []string{"days_from_crossing_to_claim"},
				Reason: fmt.Sprintf("For this entry type %s covers only claims made within %d days after crossing; the number of days was not given.", a.GetTitle(), max)}
		}
		if app.GetDaysFromCrossingToClaim() > max {
			return &safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE,
				Reason: fmt.Sprintf("For this entry type %s covers only claims made within %d days after crossing; this claim was made later.", a.GetTitle(), max)}
		}
	}
	return nil
}

func ruleList(sc *safethirdv1.AgreementScope) string {
	var parts []string
	for _, r := range sc.GetRules() {
		p := entryTypeName(r.GetEntryType())
		if r.GetMaxDaysFromCrossingToClaim() > 0 {
			p += fmt.Sprintf(" (claim within %d days)", r.GetMaxDaysFromCrossingToClaim())
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

func entryTypeName(t safethirdv1.EntryType) string {
	switch t {
	case safethirdv1.EntryType_ENTRY_TYPE_LAND_PORT_OF_ENTRY:
		return "land ports of entry"
	case safethirdv1.EntryType_ENTRY_TYPE_BETWEEN_PORTS:
		return "crossings between ports of entry"
	case safethirdv1.EntryType_ENTRY_TYPE_AIRPORT:
		return "airports"
	case safethirdv1.EntryType_ENTRY_TYPE_MARINE_PORT:
		return "marine ports"
	case safethirdv1.EntryType_ENTRY_TYPE_IN_TRANSIT:
		return "in-transit removals"
	default:
		return t.String()
	}
}
