package dataset

import (
	"errors"
	"slices"
	"strings"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// validator checks records against each other while adding them to snap.
type validator struct {
	*loader
	snap *Snapshot
	// findingRecords remembers where each finding came from, for overlap problems.
	findingRecords map[*safethirdv1.Finding]*record
}

func (v *validator) countryCode(r *record, p []any, code string) {
	if code == "" {
		v.at(r, p, "%s is required (ISO 3166-1 alpha-2)", pathString(p))
		return
	}
	if _, ok := v.snap.countries[code]; !ok {
		v.at(r, p, "%s %q is not an ISO 3166-1 alpha-2 country code", pathString(p), code)
	}
}

func (v *validator) evidence(r *record, p []any, items []*safethirdv1.Evidence) {
	for i, e := range items {
		ep := append(slices.Clone(p), i)
		if e.GetSourceId() == "" {
			v.at(r, append(ep, "source_id"), "%s is required", pathString(append(ep, "source_id")))
		} else if _, ok := v.snap.sources[e.GetSourceId()]; !ok && !v.broken["sources/"+e.GetSourceId()] {
			v.at(r, append(ep, "source_id"), "%s %q names no source in sources/", pathString(append(ep, "source_id")), e.GetSourceId())
		}
		if e.GetStatement() == "" {
			v.at(r, append(ep, "statement"), "%s is required", pathString(append(ep, "statement")))
		}
		v.enumSet(r, append(ep, "support"), int32(e.GetSupport()))
	}
}

// program compiles a condition once per snapshot.
func (v *validator) program(r *record, p []any, expression string) {
	if expression == "" {
		return
	}
	if _, ok := v.snap.programs[expression]; ok {
		return
	}
	prg, err := v.env.Compile(expression)
	var costly *condition.CostError
	if errors.As(err, &costly) {
		v.at(r, p, "%s costs too much to evaluate: %v (--max-condition-cost)", pathString(p), err)
		return
	}
	if err != nil {
		// CEL's error carries a source excerpt on further lines; the
		// problem keeps to one line.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		v.at(r, p, "%s does not compile as a bool CEL condition over applicant and country_code: %s", pathString(p), msg)
		return
	}
	v.snap.programs[expression] = prg
}

func (v *validator) country(r *record) {
	c := r.msg.(*safethirdv1.Country)
	if c.GetCode() != r.id {
		v.at(r, []any{"code"}, "code %q does not match the file name %q", c.GetCode(), r.id+".yaml")
	}
	base, ok := v.snap.countries[c.GetCode()]
	if !ok {
		v.at(r, []any{"code"}, "code %q is not an ISO 3166-1 alpha-2 country code", c.GetCode())
		return
	}
	if c.GetName() != base.GetName() {
		v.at(r, []any{"name"}, "name %q differs from the ISO 3166-1 name %q", c.GetName(), base.GetName())
	}
	for i, t := range c.GetTreaties() {
		tp := []any{"treaties", i}
		v.enumSet(r, append(tp, "treaty"), int32(t.GetTreaty()))
		if d := t.GetDate(); d != "" && !yearShape.MatchString(d) {
			v.date(r, append(tp, "date"), d)
		}
		if len(t.GetEvidence()) == 0 {
			v.at(r, tp, "treaties[%d] needs evidence", i)
		}
		v.evidence(r, append(tp, "evidence"), t.GetEvidence())
	}
	if a := c.GetAsylumAuthority(); a != nil {
		v.evidence(r, []any{"asylum_authority", "evidence"}, a.GetEvidence())
	}
	prev := ""
	for i, n := range c.GetAgreementNotes() {
		np := []any{"agreement_notes", i}
		if v.date(r, append(np, "date"), n.GetDate()) && n.GetDate() < prev {
			v.at(r, append(np, "date"), "%s %s is before the previous note's %s: notes must be in order", pathString(append(np, "date")), n.GetDate(), prev)
		}
		prev = n.GetDate()
		v.required(r, pathString(append(np, "description")), n.GetDescription())
		v.needsEvidence(r, np, n.GetEvidence())
	}
	v.snap.countries[c.GetCode()] = c
}

func (v *validator) framework(r *record) {
	f := r.msg.(*safethirdv1.Framework)
	v.checkID(r, f.GetId())
	v.required(r, "title", f.GetTitle())
	v.required(r, "citation", f.GetCitation())
	switch {
	case f.GetApplyingStateRequired() && f.GetJurisdictionCode() != "":
		v.at(r, []any{"jurisdiction_code"}, "jurisdiction_code must be empty when applying_state_required is set: the request names the state")
	case !f.GetApplyingStateRequired():
		v.countryCode(r, []any{"jurisdiction_code"}, f.GetJurisdictionCode())
	}
	v.date(r, []any{"agreements_complete_as_of"}, f.GetAgreementsCompleteAsOf())
	if len(f.GetCriteria()) == 0 {
		v.at(r, nil, "criteria: at least one criterion is required")
	}
	seen := map[string]bool{}
	for i, c := range f.GetCriteria() {
		cp := []any{"criteria", i}
		switch {
		case !idShape.MatchString(c.GetId()):
			v.at(r, append(cp, "id"), "criteria[%d].id %q must be lower-kebab-case", i, c.GetId())
		case seen[c.GetId()]:
			v.at(r, append(cp, "id"), "criteria[%d].id %q is used twice", i, c.GetId())
		}
		seen[c.GetId()] = true
		v.enumSet(r, append(cp, "kind"), int32(c.GetKind()))
		v.program(r, append(cp, "necessary_condition"), c.GetNecessaryCondition())
		v.program(r, append(cp, "condition"), c.GetCondition())
		isCondition := c.GetKind() == safethirdv1.CriterionKind_CRITERION_KIND_CONDITION
		switch {
		case isCondition && c.GetCondition() == "" && c.GetTestProvision() == "":
			v.at(r, cp, "criteria[%d] is decided by a condition but has none: give condition, or name the provision that holds its test in test_provision", i)
		case !isCondition && (c.GetCondition() != "" || c.GetNecessaryCondition() != ""):
			v.at(r, cp, "criteria[%d] has a condition but is not of kind CRITERION_KIND_CONDITION", i)
		}
		v.evidence(r, append(cp, "evidence"), c.GetEvidence())
	}
	ruleIDs := map[string]bool{}
	for i, rule := range f.GetApplicability() {
		rp := []any{"applicability", i}
		v.uniqueID(r, rp, rule.GetId(), ruleIDs)
		if rule.GetCondition() == "" {
			v.at(r, append(rp, "condition"), "%s is required", pathString(append(rp, "condition")))
		}
		v.program(r, append(rp, "condition"), rule.GetCondition())
		v.required(r, pathString(append(rp, "description")), rule.GetDescription())
		v.needsEvidence(r, rp, rule.GetEvidence())
	}
	limitIDs := map[string]bool{}
	for i, l := range f.GetContestLimits() {
		lp := []any{"contest_limits", i}
		v.uniqueID(r, lp, l.GetId(), limitIDs)
		v.date(r, append(lp, "valid_from"), l.GetValidFrom())
		if len(l.GetCriterionIds()) == 0 {
			v.at(r, append(lp, "criterion_ids"), "%s needs at least one criterion", pathString(append(lp, "criterion_ids")))
		}
		for j, id := range l.GetCriterionIds() {
			if !seen[id] {
				v.at(r, append(lp, "criterion_ids", j), "%s %q names no criterion of this framework", pathString(append(lp, "criterion_ids", j)), id)
			}
		}
		v.needsEvidence(r, lp, l.GetEvidence())
	}
	barIDs := map[string]bool{}
	for i, bar := range f.GetOtherBars() {
		bp := []any{"other_bars", i}
		v.uniqueID(r, bp, bar.GetId(), barIDs)
		v.required(r, pathString(append(bp, "title")), bar.GetTitle())
		v.required(r, pathString(append(bp, "citation")), bar.GetCitation())
		v.date(r, append(bp, "applies_from"), bar.GetAppliesFrom())
		v.optionalDate(r, append(bp, "enacted"), bar.GetEnacted())
		if bar.GetCondition() == "" {
			v.at(r, append(bp, "condition"), "%s is required", pathString(append(bp, "condition")))
		}
		v.program(r, append(bp, "condition"), bar.GetCondition())
		v.needsEvidence(r, bp, bar.GetEvidence())
	}
	v.evidence(r, []any{"evidence"}, f.GetEvidence())
	v.snap.frameworks[f.GetId()] = f
}

// uniqueID checks the id of an item of a list: lower-kebab-case and used once.
func (v *validator) uniqueID(r *record, p []any, id string, seen map[string]bool) {
	if !idShape.MatchString(id) || seen[id] {
		v.at(r, append(slices.Clone(p), "id"), "%s %q must be lower-kebab-case and unique", pathString(append(slices.Clone(p), "id")), id)
	}
	seen[id] = true
}

// needsEvidence checks an item's evidence, of which there must be some.
func (v *validator) needsEvidence(r *record, p []any, items []*safethirdv1.Evidence) {
	if len(items) == 0 {
		v.at(r, p, "%s needs evidence", pathString(p))
	}
	v.evidence(r, append(slices.Clone(p), "evidence"), items)
}

// contestLimitAgreements checks, once every agreement is known, that the
// frameworks' contest limits name agreements that exist.
func (v *validator) contestLimitAgreements(records []*record) {
	for _, r := range records {
		f := r.msg.(*safethirdv1.Framework)
		for i, l := range f.GetContestLimits() {
			for j, id := range l.GetAgreementIds() {
				if _, ok := v.snap.agreements[id]; !ok && !v.broken["agreements/"+id] {
					p := []any{"contest_limits", i, "agreement_ids", j}
					v.at(r, p, "%s %q names no agreement in agreements/", pathString(p), id)
				}
			}
		}
	}
}

// events checks a timeline: real dates, a window that closes after it
// opens (or stays open: no date, an earliest_date), and events in order of
// their date, or of the day an open window opens.
func (v *validator) events(r *record, events []*safethirdv1.AgreementEvent) {
	prev := ""
	for i, e := range events {
		ep := []any{"events", i}
		v.enumSet(r, append(ep, "kind"), int32(e.GetKind()))
		day := e.GetDate()
		if day == "" && e.GetEarliestDate() != "" {
			// An open window: it may have happened any day from earliest_date on.
			if !v.date(r, append(ep, "earliest_date"), e.GetEarliestDate()) {
				continue
			}
			day = e.GetEarliestDate()
		} else {
			if !v.date(r, append(ep, "date"), e.GetDate()) {
				continue
			}
			if v.optionalDate(r, append(ep, "earliest_date"), e.GetEarliestDate()) && e.GetEarliestDate() > e.GetDate() {
				v.at(r, append(ep, "earliest_date"), "events[%d].earliest_date %s is after its date %s", i, e.GetEarliestDate(), e.GetDate())
			}
		}
		if day < prev {
			v.at(r, append(ep, "date"), "events[%d].date %s is before the previous event's %s: events must be in order", i, day, prev)
		}
		prev = day
		v.evidence(r, append(ep, "evidence"), e.GetEvidence())
	}
}

func (v *validator) agreement(r *record) {
	a := r.msg.(*safethirdv1.Agreement)
	v.checkID(r, a.GetId())
	v.required(r, "title", a.GetTitle())
	if len(a.GetPartyCodes()) < 2 {
		v.at(r, []any{"party_codes"}, "party_codes needs at least two parties")
	}
	for i, p := range a.GetPartyCodes() {
		v.countryCode(r, []any{"party_codes", i}, p)
	}
	v.events(r, a.GetEvents())
	prevUntil := ""
	for i, sc := range a.GetScopes() {
		sp := []any{"scopes", i}
		if v.date(r, append(sp, "valid_from"), sc.GetValidFrom()) && prevUntil != "" && sc.GetValidFrom() <= prevUntil {
			v.at(r, append(sp, "valid_from"), "scopes[%d] starts %s, before the previous scope ends (%s)", i, sc.GetValidFrom(), prevUntil)
		}
		if v.optionalDate(r, append(sp, "valid_until"), sc.GetValidUntil()) && sc.GetValidUntil() != "" && sc.GetValidUntil() < sc.GetValidFrom() {
			v.at(r, append(sp, "valid_until"), "scopes[%d].valid_until %s is before valid_from %s", i, sc.GetValidUntil(), sc.GetValidFrom())
		}
		if i < len(a.GetScopes())-1 && sc.GetValidUntil() == "" {
			v.at(r, sp, "scopes[%d] has no valid_until but a later scope follows", i)
		}
		prevUntil = sc.GetValidUntil()
		v.program(r, append(sp, "condition"), sc.GetCondition())
		for j, rule := range sc.GetRules() {
			v.enumSet(r, append(sp, "rules", j, "entry_type"), int32(rule.GetEntryType()))
		}
		v.evidence(r, append(sp, "evidence"), sc.GetEvidence())
	}
	if a.GetScopeKnown() && len(a.GetScopes()) == 0 {
		v.at(r, []any{"scope_known"}, "scope_known is true but the agreement has no scopes")
	}
	seen := map[string]bool{}
	for i, x := range a.GetExceptions() {
		xp := []any{"exceptions", i}
		v.uniqueID(r, xp, x.GetId(), seen)
		if !slices.Contains(a.GetPartyCodes(), x.GetDestinationCode()) {
			v.at(r, append(xp, "destination_code"), "exceptions[%d].destination_code %q is not a party", i, x.GetDestinationCode())
		}
		v.program(r, append(xp, "necessary_condition"), x.GetNecessaryCondition())
		v.program(r, append(xp, "condition"), x.GetCondition())
		if x.GetCondition() == "" && !x.GetDiscretionary() && x.GetTestProvision() == "" {
			v.at(r, xp, "exceptions[%d] has no condition: name the provision that holds its test in test_provision", i)
		}
		v.needsEvidence(r, xp, x.GetEvidence())
	}
	for i, d := range a.GetDefinitions() {
		v.evidence(r, []any{"definitions", i, "evidence"}, d.GetEvidence())
	}
	v.evidence(r, []any{"evidence"}, a.GetEvidence())
	v.snap.agreements[a.GetId()] = a
}

func (v *validator) designation(r *record) {
	d := r.msg.(*safethirdv1.Designation)
	v.checkID(r, d.GetId())
	v.required(r, "citation", d.GetCitation())
	if f, ok := v.snap.frameworks[d.GetFrameworkId()]; !ok {
		v.at(r, []any{"framework_id"}, "framework_id %q names no framework", d.GetFrameworkId())
	} else if !f.GetApplyingStateRequired() && f.GetJurisdictionCode() != d.GetDesignatingCode() {
		v.at(r, []any{"designating_code"}, "designating_code %q is not the framework's jurisdiction %q", d.GetDesignatingCode(), f.GetJurisdictionCode())
	}
	v.countryCode(r, []any{"designating_code"}, d.GetDesignatingCode())
	v.countryCode(r, []any{"country_code"}, d.GetCountryCode())
	v.events(r, d.GetEvents())
	v.evidence(r, []any{"evidence"}, d.GetEvidence())
	v.snap.designations = append(v.snap.designations, d)
}

func (v *validator) finding(r *record) {
	f := r.msg.(*safethirdv1.Finding)
	v.checkID(r, f.GetId())
	v.countryCode(r, []any{"country_code"}, f.GetCountryCode())
	fw, ok := v.snap.frameworks[f.GetFrameworkId()]
	if !ok {
		v.at(r, []any{"framework_id"}, "framework_id %q names no framework", f.GetFrameworkId())
	} else {
		i := slices.IndexFunc(fw.GetCriteria(), func(c *safethirdv1.Criterion) bool { return c.GetId() == f.GetCriterionId() })
		switch {
		case i < 0:
			v.at(r, []any{"criterion_id"}, "criterion_id %q names no criterion of framework %q", f.GetCriterionId(), fw.GetId())
		case fw.GetCriteria()[i].GetKind() != safethirdv1.CriterionKind_CRITERION_KIND_FINDINGS:
			v.at(r, []any{"criterion_id"}, "criterion %q of framework %q is computed, not decided by findings", f.GetCriterionId(), fw.GetId())
		}
	}
	v.enumSet(r, []any{"status"}, int32(f.GetStatus()))
	if v.date(r, []any{"valid_from"}, f.GetValidFrom()) && v.optionalDate(r, []any{"valid_until"}, f.GetValidUntil()) &&
		f.GetValidUntil() != "" && f.GetValidUntil() < f.GetValidFrom() {
		v.at(r, []any{"valid_until"}, "valid_until %s is before valid_from %s", f.GetValidUntil(), f.GetValidFrom())
	}
	v.date(r, []any{"reviewed_on"}, f.GetReviewedOn())
	switch {
	case f.GetStatus() == safethirdv1.CriterionStatus_CRITERION_STATUS_MET && f.GetReviewBy() == "":
		v.at(r, []any{"review_by"}, "review_by is required for a finding that concludes MET: conditions can worsen")
	default:
		v.optionalDate(r, []any{"review_by"}, f.GetReviewBy())
	}
	v.optionalDate(r, []any{"evidence_through"}, f.GetEvidenceThrough())
	v.required(r, "summary", f.GetSummary())
	v.program(r, []any{"group_condition"}, f.GetGroupCondition())
	if (f.GetGroupCondition() == "") != (f.GetGroupLabel() == "") {
		v.at(r, []any{"group_label"}, "group_condition and group_label go together: set both or neither")
	}
	if len(f.GetEvidence()) == 0 {
		v.at(r, nil, "a finding must cite at least one source in evidence")
	}
	v.evidence(r, []any{"evidence"}, f.GetEvidence())
	if v.findingRecords == nil {
		v.findingRecords = map[*safethirdv1.Finding]*record{}
	}
	v.findingRecords[f] = r
	key := findingKey{f.GetCountryCode(), f.GetFrameworkId(), f.GetCriterionId()}
	v.snap.findings[key] = append(v.snap.findings[key], f)
}

// findingOverlaps refuses two findings on the same country, framework,
// criterion and group whose periods share a day: the engine could not
// tell which one holds.
func (v *validator) findingOverlaps() {
	for _, fs := range v.snap.findings {
		for i, a := range fs {
			for _, b := range fs[i+1:] {
				if a.GetGroupCondition() != b.GetGroupCondition() || !overlap(a, b) {
					continue
				}
				first, second := a, b
				if v.findingRecords[b].file < v.findingRecords[a].file {
					first, second = b, a
				}
				v.at(v.findingRecords[second], []any{"valid_from"}, "period %s..%s overlaps finding %q (%s..%s) for the same country, framework, criterion and group",
					second.GetValidFrom(), open(second.GetValidUntil()), first.GetId(), first.GetValidFrom(), open(first.GetValidUntil()))
			}
		}
	}
}

func overlap(a, b *safethirdv1.Finding) bool {
	return endsOnOrAfter(a.GetValidUntil(), b.GetValidFrom()) && endsOnOrAfter(b.GetValidUntil(), a.GetValidFrom())
}

// endsOnOrAfter reports whether a period ending on until (empty: open)
// reaches day.
func endsOnOrAfter(until, day string) bool { return until == "" || until >= day }

func open(until string) string {
	if until == "" {
		return "open"
	}
	return until
}
