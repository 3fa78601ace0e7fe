package condition_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// Groups names the groups a condition tests, or says it may turn on any.
func TestGroups(t *testing.T) {
	env, err := condition.NewEnv(0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		expr      string
		want      []safethirdv1.ApplicantGroup
		wantEvery bool
	}{
		{`applicant.age < 18`, nil, false},
		{lgbtqi + ` || ApplicantGroup.APPLICANT_GROUP_WOMEN_AND_GIRLS in applicant.groups`, []safethirdv1.ApplicantGroup{lgbtqiGroup, women}, false},
		{`size(applicant.groups) > 0 && ` + lgbtqi, []safethirdv1.ApplicantGroup{lgbtqiGroup}, true},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			prg, err := env.Compile(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, every := prg.Groups()
			if diff := cmp.Diff(tt.want, got); diff != "" || every != tt.wantEvery {
				t.Errorf("Groups() = %v, %v; want %v, %v", got, every, tt.want, tt.wantEvery)
			}
		})
	}
}
