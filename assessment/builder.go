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
	b.read |= conditionFacts(prg)
	res, err := prg.Eval(b.q.ctx, condition.Input{Applicant: b.q.applicant, CountryCode: b.q.country.GetCode(), JurisdictionCode: b.q.jurisdiction, AsOf: b.q.asOf})
	if err != nil {
		b.warn("A condition in the dataset could not be evaluated; its result is treated as unknown.")
		return condition.Result{Value: condition.Unknown}
	}
	return res
}
