package assessment

import (
	"fmt"
	"slices"
	"strings"

	"github.com/safethird/safethird/condition"
	"github.com/safethird/safethird/dataset"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// builder accumulates one assessment's warnings and cited sources.
type builder struct {
	engine    *Engine
	snap      *dataset.Snapshot
	q         *query
	warnings  []string
	sourceIDs []string // may repeat; sorted and deduplicated when the answer is finished
	// applicantSensitive is set when a criterion's result depends on the
	// applicant: a finding for a group valid on the date, or a criterion
	// decided by a condition.
	applicantSensitive bool
	// stale holds, per criterion id, a note that the evidence deciding it
	// describes conditions long before the date.
	stale map[string]string
	// read are the facts of the applicant read so far: every read of
	// them goes through evalCondition or entryRules, which note it.
	read facts
}

// evaluation is what the criteria found on the date: their results and,
// for the computed ones, the record each relied on.
type evaluation struct {
	criteria []*safethirdv1.CriterionResult
	// records are the findings of the computed criteria, in framework order.
	records []recordStanding
	// stale holds, per criterion id, a note on stale decisive evidence.
	stale map[string]string
}

// agreement is the agreement relied on (in force or undecided on the
// date), or nil.
func (ev *evaluation) agreement() *safethirdv1.Agreement {
	for _, r := range ev.records {
		if r.agreement != nil && r.standing != notInForce {
			return r.agreement
		}
	}
	return nil
}

// recordStanding is what one computed criterion found: the agreement or
// designation most in force on the date, or that there is none.
type recordStanding struct {
	kind      safethirdv1.CriterionKind
	agreement *safethirdv1.Agreement // for CRITERION_KIND_AGREEMENT
	title     string                 // the record's title, with its citation for a designation
	events    []*safethirdv1.AgreementEvent
	standing  standing
	event     *safethirdv1.AgreementEvent // the event that decided the standing, if any
	none      bool                        // no record at all
	// pastComplete is set when the date is later than the framework's
	// list of agreements and designations is known to be complete.
	pastComplete bool
	// leavesPractice is set for a designation criterion: where its
	// timeline records no practice, the agreement's says it.
	leavesPractice bool
	// optional is set for a designation under a framework that needs
	// none: its lapse alone does not show that the bar was not applied.
	optional bool
}

// evaluateCriteria evaluates the framework's criteria in order.
func (b *builder) evaluateCriteria() evaluation {
	criteria := b.q.framework.GetCriteria()
	ev := evaluation{criteria: make([]*safethirdv1.CriterionResult, len(criteria))}
	for i, c := range criteria {
		r := &safethirdv1.CriterionResult{CriterionId: c.GetId(), Title: c.GetTitle()}
		switch c.GetKind() {
		case safethirdv1.CriterionKind_CRITERION_KIND_AGREEMENT, safethirdv1.CriterionKind_CRITERION_KIND_DESIGNATION:
			rs := b.recordCriterion(c.GetKind(), r)
			ev.records = append(ev.records, rs)
		case safethirdv1.CriterionKind_CRITERION_KIND_CONDITION:
			b.conditionCriterion(c, r)
		default:
			b.findingsCriterion(r)
		}
		ev.criteria[i] = r
	}
	ev.stale = b.stale
	return ev
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

// pastComplete reports whether the date is later than the framework's list
// of agreements and designations is known to be complete, and warns so.
func (b *builder) pastComplete() bool {
	f := b.q.framework
	if b.q.asOf <= f.GetAgreementsCompleteAsOf() {
		return false
	}
	b.warn("The dataset's list of agreements and designations for %s is known to be complete only up to %s; %s is later.",
		f.GetId(), f.GetAgreementsCompleteAsOf(), b.q.asOf)
	return true
}

// timeline is a record with a dated timeline: an agreement or a designation.
type timeline interface {
	GetEvents() []*safethirdv1.AgreementEvent
}

// recordCriterion decides a criterion computed from agreements or
// designations: met when one is in force on the date. Past the date up to
// which the list is known to be complete, the absence of one in force is
// not knowledge, so the criterion is indeterminate rather than not met.
func (b *builder) recordCriterion(kind safethirdv1.CriterionKind, r *safethirdv1.CriterionResult) recordStanding {
	f, j, c := b.q.framework, b.q.jurisdiction, b.q.country.GetCode()
	rs := recordStanding{kind: kind, pastComplete: b.pastComplete()}
	var what string
	switch kind {
	case safethirdv1.CriterionKind_CRITERION_KIND_AGREEMENT:
		what = fmt.Sprintf("agreement between %s and %s", j, c)
		if as := b.snap.AgreementsWith(j, c); len(as) > 0 {
			best, s, e := mostInForce(as, b.q.asOf)
			rs.agreement, rs.title, rs.events, rs.standing, rs.event = best, best.GetTitle(), best.GetEvents(), s, e
		} else {
			rs.none = true
		}
	default:
		what = fmt.Sprintf("designation of %s by %s", c, j)
		if ds := b.snap.Designations(f.GetId(), j, c); len(ds) > 0 {
			rs = designationStanding(ds, b.q.asOf, rs.pastComplete)
			rs.leavesPractice = true
			if rs.event == nil {
				r.Evidence = b.cite(ds[0].GetEvidence())
			}
		} else {
			rs.none = true
		}
	}
	complete := fmt.Sprintf("its list is complete up to %s", f.GetAgreementsCompleteAsOf())
	switch {
	case rs.none && rs.pastComplete:
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE
		r.Rationale = fmt.Sprintf("The dataset records no %s, but %s and %s is later, so it cannot say that none was in force.", what, complete, b.q.asOf)
		return rs
	case rs.none:
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_NOT_MET
		r.Rationale = fmt.Sprintf("The dataset records no %s; %s.", what, complete)
		return rs
	}
	r.Status = statusOf(rs.standing)
	r.Rationale = timelineRationale(rs.title, rs.standing, rs.event, b.q.asOf)
	if rs.standing == notInForce && rs.pastComplete {
		r.Status = safethirdv1.CriterionStatus_CRITERION_STATUS_INDETERMINATE
		r.Rationale += fmt.Sprintf(" The dataset's list is complete only up to %s, so it cannot say that no %s was in force on %s.", f.GetAgreementsCompleteAsOf(), what, b.q.asOf)
	}
	if rs.event != nil {
		r.Evidence = b.cite(rs.event.GetEvidence())
	}
	if rs.standing != notInForce {
		for _, w := range eventWarnings(rs.events, b.q.asOf) {
			b.warn("%s", w)
		}
	}
	b.agreementNotes(kind, r)
	return rs
}

// agreementNotes adds to an agreement criterion what the sources say, by
// the date, of agreements the dataset does not record (announced but
// denied, disputed), so the answer can say why none is recorded.
func (b *builder) agreementNotes(kind safethirdv1.CriterionKind, r *safethirdv1.CriterionResult) {
	if kind != safethirdv1.CriterionKind_CRITERION_KIND_AGREEMENT {
		return
	}
	var notes []string
	for _, n := range b.q.country.GetAgreementNotes() {
		if n.GetDate() > b.q.asOf {
			continue
		}
		notes = append(notes, fmt.Sprintf("on %s, %s", n.GetDate(), strings.TrimSuffix(n.GetDescription(), ".")))
		// The evidence may be the snapshot's own slice: build a new one.
		r.Evidence = slices.Concat(r.GetEvidence(), b.cite(n.GetEvidence()))
	}
	if len(notes) > 0 {
		r.Rationale += " Also on record, of an agreement the dataset does not record: " + strings.Join(notes, "; ") + "."
	}
}

// designationStanding is what the designations of a country say on the
// date: the one most in force, with its standing and deciding event.
func designationStanding(ds []*safethirdv1.Designation, asOf string, pastComplete bool) recordStanding {
	best, s, e := mostInForce(ds, asOf)
	return recordStanding{kind: safethirdv1.CriterionKind_CRITERION_KIND_DESIGNATION, title: best.GetTitle() + " (" + best.GetCitation() + ")",
		events: best.GetEvents(), standing: s, event: e, pastComplete: pastComplete}
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
	switch {
	case e == nil:
		return fmt.Sprintf("%s was not in force on %s: no event of its timeline had brought it into force by then.", title, asOf)
	case s == inForce:
		return fmt.Sprintf("%s was in force on %s: %s.", title, asOf, eventClause(e))
	case s == undecided:
		return fmt.Sprintf("The sources cannot tell whether %s was in force on %s: %s.", title, asOf, eventClause(e))
	default:
		return fmt.Sprintf("%s was not in force on %s: %s.", title, asOf, eventClause(e))
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
		b.applicantSensitive = true
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
	b.earned(r, decisive, applied)
	if r.GetStale() != "" {
		if b.stale == nil {
			b.stale = map[string]string{}
		}
		b.stale[r.GetCriterionId()] = fmt.Sprintf("For %q: %s", r.GetTitle(), r.GetStale())
	}
	r.Rationale += b.reviewNotes(applied)
	if len(couldApply) > 0 {
		r.Rationale += " Findings for particular groups would apply to some applicants: " + strings.Join(couldApply, "; ") + "."
	}
}

// reviewNotes says, in the rationale, which findings are past their review
// date, and which findings of safety rest on evidence older than the review
// window: a country found safe must be shown safe on current evidence.
func (b *builder) reviewNotes(applied []*safethirdv1.Finding) string {
	var out strings.Builder
	for _, f := range applied {
		if by := f.GetReviewBy(); by != "" && b.q.asOf > by {
			fmt.Fprintf(&out, " Finding %s was due for review by %s; it may no longer hold.", f.GetId(), by)
		}
		if through := f.GetEvidenceThrough(); f.GetStatus() == safethirdv1.CriterionStatus_CRITERION_STATUS_MET && b.isStale(through) {
			fmt.Fprintf(&out, " The evidence of finding %s describes conditions up to %s, more than %d months before %s: it is older than the review window.",
				f.GetId(), through, b.staleMonths(), b.q.asOf)
		}
	}
	return out.String()
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
	if through := f.GetEvidenceThrough(); b.isStale(through) {
		b.warn("Finding %s rests on evidence describing conditions up to %s, more than %d months before %s; conditions may have changed.",
			f.GetId(), through, b.staleMonths(), b.q.asOf)
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

// evalCondition evaluates a condition the snapshot compiled, for the
// applicant and the assessed country. A condition missing from the
// snapshot or failing at run time is a bug in the data or the engine; it
// is reported as unknown rather than guessed.
func (b *builder) evalCondition(expr string) condition.Result {
	prg, ok := b.snap.Program(expr)
	if !ok {
		return condition.Result{Value: condition.Unknown}
	}
	b.read |= conditionFacts(prg)
	res, err := prg.Eval(b.q.ctx, condition.Input{Applicant: b.q.applicant, CountryCode: b.q.country.GetCode(), JurisdictionCode: b.q.jurisdiction, AsOf: b.q.asOf})
	if err != nil {
		b.warn("A condition in the dataset could not be evaluated; its result is treated as unknown.")
		return condition.Result{Value: condition.Unknown}
	}
	return res
}
