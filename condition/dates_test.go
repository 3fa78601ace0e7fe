package condition_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// The days a condition's value may change on as the date assessed moves,
// from the conditions of the shapes the dataset holds (eu-apd-38's
// repeal, ca-irpa-102's one-year bar).
func TestChangeDates(t *testing.T) {
	env, err := condition.NewEnv(0)
	if err != nil {
		t.Fatal(err)
	}
	entered := &safethirdv1.Applicant{EntryDate: proto.String("2024-02-29")}
	tests := []struct {
		name string
		expr string
		give *safethirdv1.Applicant
		want []string
	}{
		{"no as_of: the value does not move", `applicant.entry_date >= "2019-11-19"`, entered, nil},
		{"a date literal, strict or not", `as_of >= "2026-06-12"`, nil, []string{"2026-06-12", "2026-06-13"}},
		{"one year after entry, and a year before", `as_of > add_years(applicant.entry_date, 1)`, entered,
			[]string{"2023-03-01", "2023-03-02", "2024-02-29", "2024-03-01", "2025-03-01", "2025-03-02"}},
		{"entry date not given", `as_of > add_years(applicant.entry_date, 1)`, &safethirdv1.Applicant{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prg, err := env.Compile(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got := prg.ChangeDates(condition.Input{Applicant: tt.give})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ChangeDates (-want +got):\n%s", diff)
			}
			// Every day the value changes on, over the years around the
			// dates, is one it lists.
			day := time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
			var last condition.Value
			for i := 0; day.Year() < 2028; i, day = i+1, day.AddDate(0, 0, 1) {
				res, err := prg.Eval(context.Background(), condition.Input{Applicant: tt.give, AsOf: day.Format(time.DateOnly)})
				if err != nil {
					t.Fatal(err)
				}
				if i > 0 && res.Value != last && !slices.Contains(got, day.Format(time.DateOnly)) {
					t.Errorf("the value changes on %s, which ChangeDates does not list", day.Format(time.DateOnly))
				}
				last = res.Value
			}
		})
	}
}
