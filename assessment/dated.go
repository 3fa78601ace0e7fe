package assessment

// This file is the engine's one home for what a dated record says on a
// date: whether an agreement or designation stands in force, the practice
// its timeline records, which scope period and which findings hold, whether
// evidence is stale, and whether a dated fact (a note, a bar, a limit, a
// review date, a source's publication, the end of the known-complete list)
// has been reached. Every comparison of a record's date with the date
// assessed is made here, through reached and passed, so the answer can
// change only on the days those two are asked about: a date given to
// reached (an event's date or earliest date, a window's start, a bar's
// dates, a limit's start, a note's date, a source's publication) and the
// day after a date given to passed (a window's end, a review date, the end
// of the known-complete list, the last day before evidence turns stale).
// Those are the change points a timeline of answers is cut at.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// reached reports whether a dated fact taking effect on date holds on
// asOf: the answer can change on date.
func reached(date, asOf string) bool { return date <= asOf }

// passed reports whether asOf is later than date: the answer can change
// on the day after date.
func passed(date, asOf string) bool { return asOf > date }

// inWindow reports whether asOf falls in the window from..until, both
// days included; an empty until leaves the window open.
func inWindow(from, until, asOf string) bool {
	return reached(from, asOf) && (until == "" || !passed(until, asOf))
}

// findingValidOn reports whether a finding holds on asOf.
func findingValidOn(f *safethirdv1.Finding, asOf string) bool {
	return inWindow(f.GetValidFrom(), f.GetValidUntil(), asOf)
}

// scopeOn returns the agreement's scope period in force on asOf, or nil.
func scopeOn(a *safethirdv1.Agreement, asOf string) *safethirdv1.AgreementScope {
	for _, s := range a.GetScopes() {
		if inWindow(s.GetValidFrom(), s.GetValidUntil(), asOf) {
			return s
		}
	}
	return nil
}

// defaultStaleMonths is how old a decisive finding's evidence may grow,
// past the date assessed, before the answer flags it, where the framework
// does not say (stale_after_months).
const defaultStaleMonths = 24

// staleMonths is a framework's allowance for the age of decisive evidence.
func staleMonths(f *safethirdv1.Framework) int {
	if m := int(f.GetStaleAfterMonths()); m > 0 {
		return m
	}
	return defaultStaleMonths
}

// staleOn reports whether evidence describing conditions up to through is
// older on asOf than the framework allows.
func staleOn(f *safethirdv1.Framework, through, asOf string) bool {
	return through != "" && passed(addMonths(through, staleMonths(f)), asOf)
}

// addMonths adds n months to a validated YYYY-MM-DD date as a string. The
// result is only compared with other dates, so a day past the month's end
// (2024-02-31) compares as it should without being a real date.
func addMonths(date string, n int) string {
	y, _ := strconv.Atoi(date[:4])
	m, _ := strconv.Atoi(date[5:7])
	m += n
	y += (m - 1) / 12
	m = (m-1)%12 + 1
	return fmt.Sprintf("%04d-%02d%s", y, m, date[7:])
}

// pastCompleteOn reports whether asOf is later than the framework's list
// of agreements and designations is known to be complete.
func pastCompleteOn(f *safethirdv1.Framework, asOf string) bool {
	return passed(f.GetAgreementsCompleteAsOf(), asOf)
}

// standing is what a timeline says of one date.
type standing int

const (
	notInForce standing = iota
	inForce
	undecided // the timeline cannot decide the date
)

// stateOn reads one dimension of a timeline (legal state, practice) on a
// date. read gives an event's value in that dimension, or false for events
// that do not change it; initial is the value before any event. An event
// whose day is known sets the value from that day. An event known only to
// have happened by its date, no earlier than earliest_date, may or may not
// have happened inside that window: its value joins the possible ones
// there. Without a date the window stays open. It returns the possible values, in the order they became
// possible, and the event that decided them, if any.
func stateOn[S comparable](events []*safethirdv1.AgreementEvent, asOf string, initial S, read func(*safethirdv1.AgreementEvent) (S, bool)) ([]S, *safethirdv1.AgreementEvent) {
	possible := []S{initial}
	var decisive *safethirdv1.AgreementEvent
	for _, e := range events {
		v, ok := read(e)
		if !ok {
			continue
		}
		switch {
		case e.GetDate() != "" && reached(e.GetDate(), asOf):
			possible = []S{v}
			decisive = e
		case e.GetEarliestDate() != "" && reached(e.GetEarliestDate(), asOf) && !slices.Contains(possible, v):
			possible = append(possible, v)
			decisive = e
		}
	}
	return possible, decisive
}

// standingOn reads whether a timeline is in force on a date: in force when
// every possible state is, not in force when none is, undecided otherwise.
func standingOn(events []*safethirdv1.AgreementEvent, asOf string) (standing, *safethirdv1.AgreementEvent) {
	possible, decisive := stateOn(events, asOf, false, func(e *safethirdv1.AgreementEvent) (bool, bool) {
		if e.GetState() == safethirdv1.AgreementState_AGREEMENT_STATE_UNSPECIFIED {
			return false, false
		}
		return e.GetState() == safethirdv1.AgreementState_AGREEMENT_STATE_IN_FORCE, true
	})
	switch {
	case len(possible) > 1:
		return undecided, decisive
	case possible[0]:
		return inForce, decisive
	default:
		return notInForce, decisive
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

// practiceOn reads the practice a timeline records on a date:
// PRACTICE_STATUS_UNSPECIFIED when no event speaks to it yet, and
// PRACTICE_STATUS_INDETERMINATE when the date falls inside an event's window.
func practiceOn(events []*safethirdv1.AgreementEvent, asOf string) (safethirdv1.PracticeStatus, *safethirdv1.AgreementEvent) {
	possible, decisive := stateOn(events, asOf, safethirdv1.PracticeStatus_PRACTICE_STATUS_UNSPECIFIED,
		func(e *safethirdv1.AgreementEvent) (safethirdv1.PracticeStatus, bool) {
			return e.GetPractice(), e.GetPractice() != safethirdv1.PracticeStatus_PRACTICE_STATUS_UNSPECIFIED
		})
	if len(possible) > 1 {
		return safethirdv1.PracticeStatus_PRACTICE_STATUS_INDETERMINATE, decisive
	}
	return possible[0], decisive
}

// eventStart is the first day an event can have happened.
func eventStart(e *safethirdv1.AgreementEvent) string {
	if e.GetEarliestDate() != "" {
		return e.GetEarliestDate()
	}
	return e.GetDate()
}

// eventWarnings returns the warnings of the events that have begun by asOf.
func eventWarnings(events []*safethirdv1.AgreementEvent, asOf string) []string {
	var out []string
	for _, e := range events {
		if e.GetWarning() != "" && reached(eventStart(e), asOf) {
			out = append(out, e.GetWarning())
		}
	}
	return out
}

// eventsBy returns the events that have begun by asOf.
func eventsBy(events []*safethirdv1.AgreementEvent, asOf string) []*safethirdv1.AgreementEvent {
	var out []*safethirdv1.AgreementEvent
	for _, e := range events {
		if reached(eventStart(e), asOf) {
			out = append(out, e)
		}
	}
	return out
}

// when says when an event happened, or the window it happened in.
func when(e *safethirdv1.AgreementEvent) string {
	if e.GetEarliestDate() != "" && e.GetDate() == "" {
		return fmt.Sprintf("at a date the sources do not give, not before %s", e.GetEarliestDate())
	}
	if e.GetEarliestDate() != "" {
		return fmt.Sprintf("between %s and %s (the exact date is not in the sources)", e.GetEarliestDate(), e.GetDate())
	}
	return "on " + e.GetDate()
}

// eventClause is an event as a clause: its description and when.
func eventClause(e *safethirdv1.AgreementEvent) string {
	return strings.TrimSuffix(e.GetDescription(), ".") + " " + when(e)
}
