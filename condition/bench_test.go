package condition_test

import (
	"context"
	"errors"
	"testing"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// BenchmarkEvalToCostLimit measures the longest any condition can run: one
// that is cheap for the sizes the estimate assumes, given an applicant far
// beyond them, runs until it reaches DefaultMaxCost.
func BenchmarkEvalToCostLimit(b *testing.B) {
	env, err := condition.NewEnv(0)
	if err != nil {
		b.Fatal(err)
	}
	prg, err := env.Compile(`applicant.family.members.all(m, applicant.family.members.all(n, m.age >= 0))`)
	if err != nil {
		b.Fatal(err)
	}
	members := make([]*safethirdv1.FamilyMember, 5000)
	for i := range members {
		members[i] = &safethirdv1.FamilyMember{}
	}
	a := &safethirdv1.Applicant{Family: &safethirdv1.FamilyTies{Members: members}}
	ctx := context.Background()
	for b.Loop() {
		if _, err := prg.Eval(ctx, condition.Input{Applicant: a, CountryCode: "MX"}); !errors.Is(err, condition.ErrCostLimit) {
			b.Fatalf("Eval = %v, want ErrCostLimit", err)
		}
	}
}
