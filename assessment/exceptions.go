package assessment

import (
	"fmt"
	"slices"
	"strings"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// exceptions evaluates the relied-on agreement's exceptions that the
// framework's jurisdiction applies.
func (b *builder) exceptions() []*safethirdv1.ExceptionResult {
	if b.agreement == nil {
		return nil
	}
	var out []*safethirdv1.ExceptionResult
	for _, x := range b.agreement.GetExceptions() {
		if x.GetDestinationCode() != b.q.framework.GetJurisdictionCode() {
			continue
		}
		out = append(out, b.exception(x))
	}
	return out
}

// exception evaluates one exception for the applicant. The result depends
// only on the exception, its outcome and the facts missing, so identical
// results are built once per Engine and shared.
func (b *builder) exception(x *safethirdv1.AgreementException) *safethirdv1.ExceptionResult {
	b.cite(x.GetEvidence())
	key := exceptionKey{x: x}
	switch {
	case x.GetDiscretionary():
		key.outcome = discretionary
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
	switch key.outcome {
	case discretionary:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_DISCRETIONARY
		r.Reason = "A decision-maker's discretion that no data decides. " + sentence(x.GetDescription()) + provisionNote(x)
	case necessaryNotMet:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_DOES_NOT_APPLY
		r.Reason = "On the facts given, a requirement the sources confirm for this exception is not met. " + sentence(x.GetDescription())
	case needsFacts:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_NEEDS_FACTS
		r.MissingFacts = strings.Split(key.missing, ", ")
		r.Reason = "Depends on facts not given: " + key.missing + ". " + sentence(x.GetDescription())
	case testNotInData:
		r.Status = safethirdv1.ExceptionStatus_EXCEPTION_STATUS_TEST_NOT_IN_DATA
		r.Reason = "The sources hold this category of exception but not its precise test; check " + x.GetTestProvision() + ". " + sentence(x.GetDescription())
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
// scope on the date.
func (b *builder) scope() *safethirdv1.ScopeResult {
	a, app := b.agreement, b.q.applicant
	if a == nil || app == nil {
		return nil
	}
	if !a.GetScopeKnown() {
		return &safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_UNKNOWN,
			Reason: fmt.Sprintf("The sources do not say whom %s covers.", a.GetTitle())}
	}
	i := slices.IndexFunc(a.GetScopes(), func(s *safethirdv1.AgreementScope) bool {
		return s.GetValidFrom() <= b.q.asOf && (s.GetValidUntil() == "" || b.q.asOf <= s.GetValidUntil())
	})
	if i < 0 {
		return &safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE,
			Reason: fmt.Sprintf("%s covered no one on %s.", a.GetTitle(), b.q.asOf)}
	}
	sc := a.GetScopes()[i]
	b.cite(sc.GetEvidence())
	country := b.q.country.GetCode()
	lastPresence := fmt.Sprintf("%s is taken to be the country of last presence.", country)
	if sc.GetRequiresLastPresence() && b.q.lastPresence != "" {
		if b.q.lastPresence != country {
			return &safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_OUTSIDE,
				Reason: fmt.Sprintf("%s covers only claimants whose country of last presence is the partner; on this route it is %s, not %s.",
					a.GetTitle(), b.q.lastPresence, country)}
		}
		lastPresence = fmt.Sprintf("%s is the country of last presence on this route.", country)
	}
	if !sc.GetRequiresLastPresence() {
		lastPresence = ""
	}
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
	return &safethirdv1.ScopeResult{Status: safethirdv1.ScopeStatus_SCOPE_STATUS_WITHIN,
		Reason: strings.TrimSpace(fmt.Sprintf("On %s, %s covered the applicant's way of entering. %s", b.q.asOf, a.GetTitle(), lastPresence))}
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
