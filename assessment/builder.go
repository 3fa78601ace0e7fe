package assessment

import (
	"fmt"

	"github.com/safethird/safethird/condition"
	"github.com/safethird/safethird/dataset"
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

func (b *builder) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, w := range b.warnings {
		if w == msg {
			return
		}
	}
	b.warnings = append(b.warnings, msg)
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
	read := conditionFacts(prg)
	b.read |= read
	if b.q.applicant != nil && read != 0 {
		return b.conditionResult(b.evalProgram(prg))
	}
	// Without an applicant, or for a condition that reads nothing of
	// one, the result is a function of the condition, the country, the
	// jurisdiction and, if the condition reads it, the date: kept, so that
	// a new date asks again only what reads it.
	key := condKey{expr: expr, country: b.q.country.GetCode(), jurisdiction: b.q.jurisdiction}
	if prg.ReadsAsOf() {
		key.asOf = b.q.asOf
	}
	return b.conditionResult(b.engine.conds.get(b.q.ctx, key, func() condResult { return b.evalProgram(prg) }, condResult.size, maxCondBytes))
}

// condResult is a condition's result, or failed when it could not be
// evaluated.
type condResult struct {
	res    condition.Result
	failed bool
}

// size is a condResult's weight in the memo: its missing facts' names and
// a fixed part for the key and the rest.
func (r condResult) size() int {
	n := 128
	for _, m := range r.res.Missing {
		n += len(m) + 16
	}
	return n
}

// evalProgram evaluates prg on the query.
func (b *builder) evalProgram(prg *condition.Program) condResult {
	res, err := prg.Eval(b.q.ctx, condition.Input{Applicant: b.q.applicant, CountryCode: b.q.country.GetCode(), JurisdictionCode: b.q.jurisdiction, AsOf: b.q.asOf})
	if err != nil {
		return condResult{res: condition.Result{Value: condition.Unknown}, failed: true}
	}
	return condResult{res: res}
}

// conditionResult is r's result, with the warning of one that failed.
func (b *builder) conditionResult(r condResult) condition.Result {
	if r.failed {
		b.warn("A condition in the dataset could not be evaluated; its result is treated as unknown.")
	}
	return r.res
}
