package dataset

import (
	"cmp"
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
	// quotes holds the sources' archived texts, normalized for matching.
	quotes map[string]quoteText
	// findingRecords remembers where each finding came from, for overlap problems.
	findingRecords map[*safethirdv1.Finding]*record
}

// countryCode checks that a code the field rules let through (two
// letters, when set) is on the ISO list.
func (v *validator) countryCode(r *record, p []any, code string) {
	if code == "" {
		return
	}
	if _, ok := v.snap.countries[code]; !ok {
		v.at(r, p, "%s %q is not an ISO 3166-1 alpha-2 country code", pathString(p), code)
	}
}

// evidence checks each item against its source: the source exists, the
// mark is one the source can bear, and the quote is in the text read. Items
// that conflict with one are evidence too, checked alike.
func (v *validator) evidence(r *record, p []any, items []*safethirdv1.Evidence) {
	for i, e := range items {
		ip := append(slices.Clone(p), i)
		src, ok := v.snap.sources[e.GetSourceId()]
		if !ok {
			if e.GetSourceId() != "" && !v.broken["sources/"+e.GetSourceId()] {
				sp := append(slices.Clone(ip), "source_id")
				v.at(r, sp, "%s %q names no source in sources/", pathString(sp), e.GetSourceId())
			}
			continue
		}
		v.mark(r, ip, e, src)
		v.quote(r, ip, e)
		v.evidence(r, append(ip, "conflicts_with"), e.GetConflictsWith())
	}
}

// mark refuses a confirmation the source cannot give: only the primary
// text (or a faithful copy of it, naming the original), read and archived,
// confirms a statement; anything else supports it as secondary.
func (v *validator) mark(r *record, p []any, e *safethirdv1.Evidence, src *safethirdv1.Source) {
	if e.GetSupport() != safethirdv1.Support_SUPPORT_CONFIRMED || src.GetKind() == safethirdv1.SourceKind_SOURCE_KIND_UNSPECIFIED {
		return // an unset kind is the field rules' problem, not each citation's
	}
	sp := append(slices.Clone(p), "support")
	switch _, archived := v.quotes[src.GetId()]; {
	case src.GetKind() != safethirdv1.SourceKind_SOURCE_KIND_PRIMARY:
		v.at(r, sp, "%s SUPPORT_CONFIRMED, but source %q is %s: only the primary text confirms; use SUPPORT_SECONDARY and name the source as secondary",
			pathString(sp), src.GetId(), src.GetKind())
	case !archived:
		v.at(r, sp, "%s SUPPORT_CONFIRMED, but source %q has no archived text (sources/%s%s): a statement is confirmed only by a text read",
			pathString(sp), src.GetId(), src.GetId(), textSuffix)
	}
}

// quote checks that a quote is in its source's archived text, each segment
// between omission marks in order.
func (v *validator) quote(r *record, p []any, e *safethirdv1.Evidence) {
	if e.GetQuote() == "" {
		return
	}
	qp := append(slices.Clone(p), "quote")
	text, ok := v.quotes[e.GetSourceId()]
	if !ok {
		v.at(r, qp, "%s cannot be checked: source %q has no archived text (sources/%s%s); archive the passage read, or remove the quote",
			pathString(qp), e.GetSourceId(), e.GetSourceId(), textSuffix)
		return
	}
	if seg := text.missing(e.GetQuote()); seg != "" {
		v.at(r, qp, "%s is not in the text of source %q (sources/%s%s): not found: %q",
			pathString(qp), e.GetSourceId(), e.GetSourceId(), textSuffix, clip(seg, 120))
	}
}

// clip shortens s to at most n runes for a problem's message.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
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
		// A treaty date may be a year alone, which the field rules' date
		// does not take; so this one date is checked here.
		if d := t.GetDate(); d != "" && !yearShape.MatchString(d) {
			if _, ok := ParseDate(d); !ok {
				v.at(r, append(tp, "date"), "%s %q is neither a year (YYYY) nor a real date (YYYY-MM-DD)", pathString(append(tp, "date")), d)
			}
		}
		v.evidence(r, append(tp, "evidence"), t.GetEvidence())
	}
	if a := c.GetAsylumAuthority(); a != nil {
		v.evidence(r, []any{"asylum_authority", "evidence"}, a.GetEvidence())
	}
	prev := ""
	for i, n := range c.GetAgreementNotes() {
		np := []any{"agreement_notes", i}
		if n.GetDate() < prev {
			v.at(r, append(np, "date"), "%s %s is before the previous note's %s: notes must be in order", pathString(append(np, "date")), n.GetDate(), prev)
		}
		prev = n.GetDate()
		v.evidence(r, append(np, "evidence"), n.GetEvidence())
	}
	v.snap.countries[c.GetCode()] = c
}

func (v *validator) framework(r *record) {
	f := r.msg.(*safethirdv1.Framework)
	v.checkID(r, f.GetId())
	v.countryCode(r, []any{"jurisdiction_code"}, f.GetJurisdictionCode())
	seen := map[string]bool{}
	for i, c := range f.GetCriteria() {
		cp := []any{"criteria", i}
		v.uniqueID(r, cp, c.GetId(), seen)
		v.program(r, append(cp, "necessary_condition"), c.GetNecessaryCondition())
		v.program(r, append(cp, "condition"), c.GetCondition())
		v.evidence(r, append(cp, "evidence"), c.GetEvidence())
	}
	ruleIDs := map[string]bool{}
	for i, rule := range f.GetApplicability() {
		rp := []any{"applicability", i}
		v.uniqueID(r, rp, rule.GetId(), ruleIDs)
		v.program(r, append(rp, "condition"), rule.GetCondition())
		v.evidence(r, append(rp, "evidence"), rule.GetEvidence())
	}
	limitIDs := map[string]bool{}
	for i, l := range f.GetContestLimits() {
		lp := []any{"contest_limits", i}
		v.uniqueID(r, lp, l.GetId(), limitIDs)
		for j, id := range l.GetCriterionIds() {
			if !seen[id] {
				v.at(r, append(lp, "criterion_ids", j), "%s %q names no criterion of this framework", pathString(append(lp, "criterion_ids", j)), id)
			}
		}
		v.evidence(r, append(lp, "evidence"), l.GetEvidence())
	}
	barIDs := map[string]bool{}
	for i, bar := range f.GetOtherBars() {
		bp := []any{"other_bars", i}
		v.uniqueID(r, bp, bar.GetId(), barIDs)
		v.program(r, append(bp, "condition"), bar.GetCondition())
		v.evidence(r, append(bp, "evidence"), bar.GetEvidence())
	}
	v.evidence(r, []any{"evidence"}, f.GetEvidence())
	v.snap.frameworks[f.GetId()] = f
}

// uniqueID checks that the id of an item of a list is used once in it.
func (v *validator) uniqueID(r *record, p []any, id string, seen map[string]bool) {
	if seen[id] {
		v.at(r, append(slices.Clone(p), "id"), "%s %q is used twice", pathString(append(slices.Clone(p), "id")), id)
	}
	seen[id] = true
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

// events checks that a timeline's events are in order of their date, or
// of the day an open window opens (no date, an earliest_date: it may have
// happened any day from then on). Each event's own dates are the field
// rules'.
func (v *validator) events(r *record, events []*safethirdv1.AgreementEvent) {
	prev := ""
	for i, e := range events {
		ep := []any{"events", i}
		day := cmp.Or(e.GetDate(), e.GetEarliestDate())
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
	for i, p := range a.GetPartyCodes() {
		v.countryCode(r, []any{"party_codes", i}, p)
	}
	for i, p := range a.GetAppliedByCodes() {
		if !slices.Contains(a.GetPartyCodes(), p) {
			v.at(r, []any{"applied_by_codes", i}, "applied_by_codes[%d] %q is not a party", i, p)
		}
	}
	v.events(r, a.GetEvents())
	prevUntil := ""
	for i, sc := range a.GetScopes() {
		sp := []any{"scopes", i}
		if prevUntil != "" && sc.GetValidFrom() <= prevUntil {
			v.at(r, append(sp, "valid_from"), "scopes[%d] starts %s, before the previous scope ends (%s)", i, sc.GetValidFrom(), prevUntil)
		}
		if i < len(a.GetScopes())-1 && sc.GetValidUntil() == "" {
			v.at(r, sp, "scopes[%d] has no valid_until but a later scope follows", i)
		}
		prevUntil = sc.GetValidUntil()
		v.program(r, append(sp, "condition"), sc.GetCondition())
		v.evidence(r, append(sp, "evidence"), sc.GetEvidence())
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
		v.evidence(r, append(xp, "evidence"), x.GetEvidence())
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
	v.program(r, []any{"group_condition"}, f.GetGroupCondition())
	v.evidence(r, []any{"evidence"}, f.GetEvidence())
	for i, rf := range f.GetRiskFactors() {
		v.evidence(r, []any{"risk_factors", i, "evidence"}, rf.GetEvidence())
	}
	v.earned(r, f)
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
