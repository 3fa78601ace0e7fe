package assessment

import (
	"fmt"
	"slices"
	"strings"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

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
		case e.GetDate() != "" && asOf >= e.GetDate():
			possible = []S{v}
			decisive = e
		case e.GetEarliestDate() != "" && asOf >= e.GetEarliestDate() && !slices.Contains(possible, v):
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
		if e.GetWarning() != "" && asOf >= eventStart(e) {
			out = append(out, e.GetWarning())
		}
	}
	return out
}

// eventsBy returns the events that have begun by asOf.
func eventsBy(events []*safethirdv1.AgreementEvent, asOf string) []*safethirdv1.AgreementEvent {
	var out []*safethirdv1.AgreementEvent
	for _, e := range events {
		if asOf >= eventStart(e) {
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
