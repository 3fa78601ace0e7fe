package condition

import (
	"regexp"
	"slices"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
)

// datesOf is what a condition that reads `as_of` compares it with: the
// date literals it holds and the year offsets it gives add_years. A
// condition that does not read as_of has none: its value does not move
// with the date assessed.
type datesOf struct {
	readsAsOf bool
	literals  []string
	years     []int64
}

// dateLiteral is the shape of a YYYY-MM-DD string constant.
var dateLiteral = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// conditionDates finds what a checked expression compares as_of with.
func conditionDates(checked *cel.Ast) datesOf {
	root := celast.NavigateAST(checked.NativeRep())
	var d datesOf
	for _, e := range celast.MatchDescendants(root, celast.KindMatcher(celast.IdentKind)) {
		d.readsAsOf = d.readsAsOf || e.AsIdent() == asOfVariable
	}
	if !d.readsAsOf {
		return datesOf{}
	}
	for _, e := range celast.MatchDescendants(root, celast.KindMatcher(celast.LiteralKind)) {
		switch v := e.AsLiteral().(type) {
		case types.String:
			if s := string(v); dateLiteral.MatchString(s) && !slices.Contains(d.literals, s) {
				d.literals = append(d.literals, s)
			}
		case types.Int:
			if !slices.Contains(d.years, int64(v)) {
				d.years = append(d.years, int64(v))
			}
		}
	}
	return d
}

// ChangeDates returns, sorted and once each, days on which the condition's
// value may change as the date assessed moves, for the applicant in in: the
// date literals it compares as_of with, the applicant's entry date, and
// those moved by the years it adds with add_years, each with the day after
// (a comparison may be strict or not). It is a superset: the value may stay
// the same on some of them, never change on another day. A condition that
// does not read as_of returns none.
func (p *Program) ChangeDates(in Input) []string {
	if !p.dates.readsAsOf {
		return nil
	}
	bases := slices.Clone(p.dates.literals)
	if in.Applicant.GetEntryDate() != "" {
		bases = append(bases, in.Applicant.GetEntryDate())
	}
	var out []string
	for _, b := range bases {
		t, err := time.Parse(time.DateOnly, b)
		if err != nil {
			continue // not a date: it cannot be a day the value changes on
		}
		for _, n := range append([]int64{0}, p.dates.years...) {
			for _, sign := range []int64{1, -1} {
				day := t.AddDate(int(sign*n), 0, 0)
				out = append(out, day.Format(time.DateOnly), day.AddDate(0, 0, 1).Format(time.DateOnly))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ReadsAsOf reports whether the condition reads the date assessed: one
// that does not has the same value on every date.
func (p *Program) ReadsAsOf() bool { return p.dates.readsAsOf }
