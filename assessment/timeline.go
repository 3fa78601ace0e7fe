package assessment

import (
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// standing is what a timeline says of one date.
type standing int

const (
	notInForce standing = iota
	inForce
	undecided // the timeline cannot decide the date
)

// standingOn reads a timeline of events on a date. An event whose day is
// known changes the state from that day. An event known only to have
// happened by its date, no earlier than earliest_date, may or may not have
// happened inside that window: the states it could leave are all possible
// there. The agreement is in force when every possible state is in force,
// not in force when none is, and undecided otherwise. It also returns the
// event that decided the answer, if any.
func standingOn(events []*safethirdv1.AgreementEvent, asOf string) (standing, *safethirdv1.AgreementEvent) {
	possible := map[bool]bool{false: true} // in force? -> possible
	var decisive *safethirdv1.AgreementEvent
	for _, e := range events {
		if e.GetState() == safethirdv1.AgreementState_AGREEMENT_STATE_UNSPECIFIED {
			continue
		}
		in := e.GetState() == safethirdv1.AgreementState_AGREEMENT_STATE_IN_FORCE
		switch {
		case asOf >= e.GetDate():
			possible = map[bool]bool{in: true}
			decisive = e
		case e.GetEarliestDate() != "" && asOf >= e.GetEarliestDate():
			if !possible[in] {
				possible[in] = true
				decisive = e
			}
		}
	}
	switch {
	case possible[true] && possible[false]:
		return undecided, decisive
	case possible[true]:
		return inForce, decisive
	default:
		return notInForce, decisive
	}
}

// eventWarnings returns the warnings of the events that have begun by asOf.
func eventWarnings(events []*safethirdv1.AgreementEvent, asOf string) []string {
	var out []string
	for _, e := range events {
		start := e.GetEarliestDate()
		if start == "" {
			start = e.GetDate()
		}
		if e.GetWarning() != "" && asOf >= start {
			out = append(out, e.GetWarning())
		}
	}
	return out
}
