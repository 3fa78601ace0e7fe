package assessment

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/safethird/safethird/condition"
	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// staleAfter is how long after the date its evidence describes a finding
// is flagged as stale.
const staleAfter = 3

// builder accumulates one assessment's parts.
type builder struct {
	engine    *Engine
	snap      *dataset.Snapshot
	q         *query
	warnings  []string
	sourceIDs []string // may repeat; sorted and deduplicated when the answer is finished
	// agreement is the agreement relied on, and its standing.
	agreement         *safethirdv1.Agreement
	agreementStanding standing
	// groupSensitive is set when a finding for a group was valid on the date.
	groupSensitive bool
}

// evaluateCriteria evaluates the framework's criteria in order.
func (b *builder) evaluateCriteria() []*safethirdv1.CriterionResult {
	criteria := b.q.framework.GetCriteria()
	out := make([]*safethirdv1.CriterionResult, len(criteria))
	for i, c := range criteria {
		out[i] = b.criterion(c)
	}
	return out
}

func (b *builder) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, w := range b.warnings {
		if w == msg {
			return
		}
	}
	b.warnings = append(b.warnings, msg)
}

// cite records the sources of evidence and returns it for the FULL view.
func (b *builder) cite(evidence []*safethirdv1.Evidence) []*safethirdv1.Evidence {
	for _, e := range evidence {
		b.sourceIDs = append(b.sourceIDs, e.GetSourceId())
	}
	return evidence
}

func (b *builder) criterion(c *safethirdv1.Criterion) *safethirdv1.CriterionResult {
	r := &safethirdv1.CriterionResult{CriterionId: c.GetId(), Title: c.GetTitle()}
	switch c.GetKind() {
	case safethirdv1.CriterionKind_CRITERION_KIND_AGREEMENT:
		b.agreementCriterion(r)
	case safethirdv1.CriterionKind_CRITERION_KIND_DESIGNATION:
		b.designationCriterion(r)
	default:
		b.findingsCriterion(r)
	}
	return r
}

func statusOf(s standing) safethirdv1.CriterionStatus {
	switch s {
	case inForce:
		return safethirdv1.CriterionStatus_CRITERION_STATUS_MET
	case undecided:
		return safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE
	default:
		return safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
	}
}

func (b *builder) completeness() {
	f := b.q.framework
	if b.q.asOf > f.GetAgreementsCompleteAsOf() {
		b.warn("The dataset's list of agreements and designations for %s is known to be complete only up to %s; %s is later.",
			f.GetId(), f.GetAgreementsCompleteAsOf(), b.q.asOf)
	}
}

func (b *builder) agreementCriterion(r *safethirdv1.CriterionResult) {
	j, c := b.q.framework.GetJurisdictionCode(), b.q.country.GetCode()
	b.completeness()
	agreements := b.snap.AgreementsWith(j, c)
	if len(agreements) == 0 {
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
		r.Rationale = fmt.Sprintf("The dataset records no agreement between %s and %s; its list is complete up to %s.",
			j, c, b.q.framework.GetAgreementsCompleteAsOf())
		return
	}
	best, bestStanding, bestEvent := mostInForce(agreements, b.q.asOf)
	r.Status = statusOf(bestStanding)
	r.Rationale = timelineRationale(best.GetTitle(), bestStanding, bestEvent, b.q.asOf)
	if bestEvent != nil {
		r.Evidence = b.cite(bestEvent.GetEvidence())
	}
	if bestStanding != notInForce {
		b.agreement, b.agreementStanding = best, bestStanding
		for _, w := range eventWarnings(best.GetEvents(), b.q.asOf) {
			b.warn("%s", w)
		}
	}
}

// timeline is a record with a dated timeline: an agreement or a designation.
type timeline interface {
	GetEvents() []*safethirdv1.AgreementEvent
}

// mostInForce returns, of items (at least one), the one whose standing on
// asOf is most favourable to "in force" (one in force is enough), with its
// standing and the event that decided it; ties go to the first.
func mostInForce[T timeline](items []T, asOf string) (T, standing, *safethirdv1.AgreementEvent) {
	best := items[0]
	bestStanding, bestEvent := standingOn(best.GetEvents(), asOf)
	for _, it := range items[1:] {
		if s, e := standingOn(it.GetEvents(), asOf); rank(s) > rank(bestStanding) {
			best, bestStanding, bestEvent = it, s, e
		}
	}
	return best, bestStanding, bestEvent
}

// rank orders standings from least to most favourable to "in force".
func rank(s standing) int {
	switch s {
	case inForce:
		return 2
	case undecided:
		return 1
	default:
		return 0
	}
}

func timelineRationale(title string, s standing, e *safethirdv1.AgreementEvent, asOf string) string {
	when := func(e *safethirdv1.AgreementEvent) string {
		if e.GetEarliestDate() != "" {
			return fmt.Sprintf("between %s and %s (the exact date is not in the sources)", e.GetEarliestDate(), e.GetDate())
		}
		return "on " + e.GetDate()
	}
	switch {
	case e == nil:
		return fmt.Sprintf("%s was not in force on %s: no event of its timeline had brought it into force by then.", title, asOf)
	case s == inForce:
		return fmt.Sprintf("%s was in force on %s: %s %s.", title, asOf, strings.TrimSuffix(e.GetDescription(), "."), when(e))
	case s == undecided:
		return fmt.Sprintf("The sources cannot tell whether %s was in force on %s: %s %s.", title, asOf, strings.TrimSuffix(e.GetDescription(), "."), when(e))
	default:
		return fmt.Sprintf("%s was not in force on %s: %s %s.", title, asOf, strings.TrimSuffix(e.GetDescription(), "."), when(e))
	}
}

func (b *builder) designationCriterion(r *safethirdv1.CriterionResult) {
	f, c := b.q.framework, b.q.country.GetCode()
	b.completeness()
	ds := b.snap.Designations(f.GetId(), c)
	if len(ds) == 0 {
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
		r.Rationale = fmt.Sprintf("The dataset records no designation of %s by %s; its list is complete up to %s.",
			c, f.GetJurisdictionCode(), f.GetAgreementsCompleteAsOf())
		return
	}
	best, bestStanding, bestEvent := mostInForce(ds, b.q.asOf)
	r.Status = statusOf(bestStanding)
	r.Rationale = timelineRationale(best.GetTitle()+" ("+best.GetCitation()+")", bestStanding, bestEvent, b.q.asOf)
	if bestEvent != nil {
		r.Evidence = b.cite(bestEvent.GetEvidence())
	} else {
		r.Evidence = b.cite(best.GetEvidence())
	}
}

// adversity orders finding statuses: the most adverse wins.
func adversity(s safethirdv1.CriterionStatus) int {
	switch s {
	case safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET:
		return 2
	case safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE:
		return 1
	default:
		return 0
	}
}

func validOn(f *safethirdv1.Finding, asOf string) bool {
	return f.GetValidFrom() <= asOf && (f.GetValidUntil() == "" || asOf <= f.GetValidUntil())
}

func (b *builder) findingsCriterion(r *safethirdv1.CriterionResult) {
	c := b.q.country
	var applied []*safethirdv1.Finding
	var couldApply []string // group findings that would apply to some applicants
	for _, f := range b.snap.Findings(c.GetCode(), b.q.framework.GetId(), r.GetCriterionId()) {
		if !validOn(f, b.q.asOf) {
			continue
		}
		if f.GetGroupCondition() == "" {
			applied = append(applied, f)
			continue
		}
		b.groupSensitive = true
		if b.q.applicant == nil {
			couldApply = append(couldApply, groupNote(f))
			continue
		}
		res := b.evalCondition(f.GetGroupCondition())
		switch res.Value {
		case condition.True:
			applied = append(applied, f)
		case condition.Unknown:
			couldApply = append(couldApply, groupNote(f)+" (facts not given: "+strings.Join(res.Missing, ", ")+")")
		}
	}
	if len(applied) == 0 {
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE
		r.Rationale = fmt.Sprintf("The dataset holds no curated finding on this criterion for %s valid on %s, so the evidence does not decide it.", c.GetName(), b.q.asOf)
		if len(couldApply) > 0 {
			r.Rationale += " Findings for particular groups would apply to some applicants: " + strings.Join(couldApply, "; ") + "."
		}
		return
	}
	decisive := applied[0]
	for _, f := range applied[1:] {
		if adversity(f.GetStatus()) > adversity(decisive.GetStatus()) {
			decisive = f
		}
	}
	r.Status = decisive.GetStatus()
	var parts []string
	for _, f := range applied {
		who := "everyone"
		if f.GetGroupLabel() != "" {
			who = f.GetGroupLabel()
		}
		parts = append(parts, fmt.Sprintf("%s for %s (finding %s, %s–%s)", statusWord(f.GetStatus()), who, f.GetId(), f.GetValidFrom(), openEnd(f.GetValidUntil())))
		r.FindingIds = append(r.FindingIds, f.GetId())
		r.Evidence = append(r.Evidence, b.cite(f.GetEvidence())...)
		b.findingWarnings(f)
	}
	r.Rationale = fmt.Sprintf("%s Decided by the most adverse of the findings that apply: %s.", decisive.GetSummary(), strings.Join(parts, "; "))
	if len(couldApply) > 0 {
		r.Rationale += " Findings for particular groups would apply to some applicants: " + strings.Join(couldApply, "; ") + "."
	}
}

func groupNote(f *safethirdv1.Finding) string {
	return fmt.Sprintf("%s for %s (finding %s)", statusWord(f.GetStatus()), f.GetGroupLabel(), f.GetId())
}

func statusWord(s safethirdv1.CriterionStatus) string {
	switch s {
	case safethirdv1.CriterionStatus_CRITERION_STATUS_MET:
		return "met"
	case safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET:
		return "not met"
	default:
		return "indeterminate"
	}
}

func openEnd(until string) string {
	if until == "" {
		return "open"
	}
	return until
}

func (b *builder) findingWarnings(f *safethirdv1.Finding) {
	if through := f.GetEvidenceThrough(); through != "" && b.q.asOf > addYears(through, staleAfter) {
		b.warn("Finding %s rests on evidence describing conditions up to %s, more than %d years before %s; conditions may have changed.",
			f.GetId(), through, staleAfter, b.q.asOf)
	}
	secondaryOnly := len(f.GetEvidence()) > 0
	for _, e := range f.GetEvidence() {
		if e.GetSupport() != safethirdv1.Support_SUPPORT_SECONDARY {
			secondaryOnly = false
		}
	}
	if secondaryOnly {
		b.warn("Finding %s rests only on secondary sources.", f.GetId())
	}
}

// addYears adds n years to a validated YYYY-MM-DD date as a string. The
// result is only compared with other dates, so 29 February may become a
// day that does not exist without harm.
func addYears(date string, n int) string {
	year, _ := strconv.Atoi(date[:4])
	return strconv.Itoa(year+n) + date[4:]
}

// evalCondition evaluates a condition the snapshot compiled. A condition
// missing from the snapshot or failing at run time is a bug in the data or
// the engine; it is reported as unknown rather than guessed.
func (b *builder) evalCondition(expr string) condition.Result {
	prg, ok := b.snap.Program(expr)
	if !ok {
		return condition.Result{Value: condition.Unknown}
	}
	res, err := prg.Eval(b.q.applicant)
	if err != nil {
		b.warn("A condition in the dataset could not be evaluated; its result is treated as unknown.")
		return condition.Result{Value: condition.Unknown}
	}
	return res
}
