package condition_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

const (
	lgbtqi      = `safethird.v1.ApplicantGroup.APPLICANT_GROUP_LGBTQI in applicant.groups`
	lgbtqiGroup = safethirdv1.ApplicantGroup_APPLICANT_GROUP_LGBTQI
	women       = safethirdv1.ApplicantGroup_APPLICANT_GROUP_WOMEN_AND_GIRLS

	unaccompaniedMinor = `applicant.age < 18 && !applicant.married &&
		!applicant.parent_or_guardian_countries.country_codes.exists(c, c in ["CA", "US"])`
	// ownCountry is the shape of the INA's rule on the person's own country.
	ownCountry = `(!applicant.stateless && applicant.nationality_code == country_code) ||
		(applicant.stateless && applicant.last_habitual_residence_code == country_code)`
)

func TestEval(t *testing.T) {
	env, err := condition.NewEnv(0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		expr    string
		give    *safethirdv1.Applicant
		country string
		want    condition.Result
	}{
		{"no applicant: every fact unknown", unaccompaniedMinor, nil, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"age", "married", "parent_or_guardian_countries"}}},
		{"adult decides it alone", unaccompaniedMinor, &safethirdv1.Applicant{Age: proto.Int32(30)}, "",
			condition.Result{Value: condition.False}},
		{"minor, other facts unknown", unaccompaniedMinor, &safethirdv1.Applicant{Age: proto.Int32(15)}, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"married", "parent_or_guardian_countries"}}},
		{"all facts given", unaccompaniedMinor, &safethirdv1.Applicant{Age: proto.Int32(15), Married: proto.Bool(false), ParentOrGuardianCountries: &safethirdv1.CountryList{CountryCodes: []string{"MX"}}}, "",
			condition.Result{Value: condition.True}},
		{"unset family is unknown", `applicant.family.members.exists(m, m.status == FamilyStatus.FAMILY_STATUS_CITIZEN)`, &safethirdv1.Applicant{}, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"family"}}},
		{"empty family is known", `applicant.family.members.exists(m, m.status == safethird.v1.FamilyStatus.FAMILY_STATUS_CITIZEN)`, &safethirdv1.Applicant{Family: &safethirdv1.FamilyTies{}}, "",
			condition.Result{Value: condition.False}},
		{"groups not declared are unknown", lgbtqi, &safethirdv1.Applicant{}, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"declared_groups"}}},
		{"another group listed leaves this one unknown", lgbtqi, &safethirdv1.Applicant{Groups: []safethirdv1.ApplicantGroup{women}}, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"declared_groups"}}},
		{"group member", `ApplicantGroup.APPLICANT_GROUP_LGBTQI in applicant.groups`, &safethirdv1.Applicant{Groups: []safethirdv1.ApplicantGroup{lgbtqiGroup}}, "",
			condition.Result{Value: condition.True}},
		{"declared none", lgbtqi, &safethirdv1.Applicant{DeclaredGroups: &safethirdv1.GroupList{}}, "",
			condition.Result{Value: condition.False}},
		{"declared others", lgbtqi, &safethirdv1.Applicant{Groups: []safethirdv1.ApplicantGroup{women}, DeclaredGroups: &safethirdv1.GroupList{}}, "",
			condition.Result{Value: condition.False}},
		{"declared member", lgbtqi, &safethirdv1.Applicant{DeclaredGroups: &safethirdv1.GroupList{Groups: []safethirdv1.ApplicantGroup{lgbtqiGroup}}}, "",
			condition.Result{Value: condition.True}},
		{"not a member, either way", `!(ApplicantGroup.APPLICANT_GROUP_LGBTQI in applicant.groups) || ApplicantGroup.APPLICANT_GROUP_LGBTQI in applicant.groups`, &safethirdv1.Applicant{}, "",
			condition.Result{Value: condition.True}},
		{"two open groups", lgbtqi + ` && ApplicantGroup.APPLICANT_GROUP_WOMEN_AND_GIRLS in applicant.groups`, &safethirdv1.Applicant{Groups: []safethirdv1.ApplicantGroup{women}}, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"declared_groups"}}},
		{"a group and another fact open", lgbtqi + ` || applicant.age < 18`, &safethirdv1.Applicant{}, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"age", "declared_groups"}}},
		{"a group open, another fact decides", lgbtqi + ` || applicant.age < 18`, &safethirdv1.Applicant{Age: proto.Int32(12)}, "",
			condition.Result{Value: condition.True}},
		{"groups read whole, not declared", `size(applicant.groups) > 0`, &safethirdv1.Applicant{Groups: []safethirdv1.ApplicantGroup{women}}, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"declared_groups"}}},
		{"groups read whole, declared", `size(applicant.groups) > 1`, &safethirdv1.Applicant{Groups: []safethirdv1.ApplicantGroup{women}, DeclaredGroups: &safethirdv1.GroupList{Groups: []safethirdv1.ApplicantGroup{lgbtqiGroup}}}, "",
			condition.Result{Value: condition.True}},
		{"country_code is the assessed country", `country_code == "GT"`, nil, "GT",
			condition.Result{Value: condition.True}},
		{"as_of and add_years: one year after entry has passed", `as_of > add_years(applicant.entry_date, 1)`, &safethirdv1.Applicant{EntryDate: proto.String("2025-05-31")}, "",
			condition.Result{Value: condition.True}},
		{"as_of and add_years: exactly one year is not more", `as_of > add_years(applicant.entry_date, 1)`, &safethirdv1.Applicant{EntryDate: proto.String("2025-06-01")}, "",
			condition.Result{Value: condition.False}},
		{"add_years on an unknown entry date", `as_of > add_years(applicant.entry_date, 1)`, &safethirdv1.Applicant{}, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"entry_date"}}},
		{"own country: a national of another country", ownCountry, &safethirdv1.Applicant{NationalityCode: proto.String("HN"), Stateless: proto.Bool(false)}, "GT",
			condition.Result{Value: condition.False}},
		{"own country: a national", ownCountry, &safethirdv1.Applicant{NationalityCode: proto.String("GT"), Stateless: proto.Bool(false)}, "GT",
			condition.Result{Value: condition.True}},
		{"own country: stateless, last habitual residence", ownCountry, &safethirdv1.Applicant{Stateless: proto.Bool(true), LastHabitualResidenceCode: proto.String("GT")}, "GT",
			condition.Result{Value: condition.True}},
		{"own country: stateless, residence elsewhere", ownCountry, &safethirdv1.Applicant{Stateless: proto.Bool(true), LastHabitualResidenceCode: proto.String("MX")}, "GT",
			condition.Result{Value: condition.False}},
		{"own country: nothing given", ownCountry, &safethirdv1.Applicant{}, "GT",
			condition.Result{Value: condition.Unknown, Missing: []string{"last_habitual_residence_code", "nationality_code", "stateless"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prg, err := env.Compile(tt.expr)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := prg.Eval(context.Background(), condition.Input{Applicant: tt.give, CountryCode: tt.country, AsOf: "2026-06-01"})
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Eval (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompileRejects(t *testing.T) {
	env, err := condition.NewEnv(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, give := range []string{
		`applicant.age +`,         // syntax
		`applicant.no_such_field`, // unknown field
		`applicant.age`,           // not bool
		`nobody.age < 18`,         // undeclared variable
	} {
		if _, err := env.Compile(give); err == nil {
			t.Errorf("Compile(%q) = nil error, want one", give)
		}
	}
}

// nested100 is the shape of an expensive condition found by an attacker:
// comprehensions nested over a literal list of 100 numbers, 10^8
// iterations in all.
var nested100 = `[` + strings.TrimSuffix(strings.Repeat("1,", 100), ",") + `].all(a, [` +
	strings.TrimSuffix(strings.Repeat("1,", 100), ",") + `].all(b, [` +
	strings.TrimSuffix(strings.Repeat("1,", 100), ",") + `].all(c, [` +
	strings.TrimSuffix(strings.Repeat("1,", 100), ",") + `].all(d, a + b + c + d > 0))))`

// Regression: a condition with nested comprehensions was accepted, and one
// call then ran for minutes. Its estimated cost is now over the limit.
func TestCompileRefusesExpensiveConditions(t *testing.T) {
	env, err := condition.NewEnv(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, give := range []string{
		nested100,
		// Two lists the applicant sends, nested: 100 x 100 x 100.
		`applicant.family.members.all(m, applicant.family.members.all(n, applicant.groups.all(g, m.age >= n.age)))`,
	} {
		_, err := env.Compile(give)
		var ce *condition.CostError
		if !errors.As(err, &ce) || ce.Limit != condition.DefaultMaxCost || ce.Estimate <= ce.Limit {
			t.Errorf("Compile(%.60q...) = %v, want a *CostError over %d", give, err, condition.DefaultMaxCost)
		}
	}
	// The dataset's own shapes stay far below it.
	for _, give := range []string{
		unaccompaniedMinor,
		ownCountry,
		`applicant.family.members.exists(m, m.status in [safethird.v1.FamilyStatus.FAMILY_STATUS_CITIZEN, safethird.v1.FamilyStatus.FAMILY_STATUS_PERMANENT_RESIDENT] && (!has(m.age) || m.age >= 18))`,
		`applicant.documents.kinds.exists(k, k in [safethird.v1.DocumentKind.DOCUMENT_KIND_DESTINATION_VISA])`,
		`applicant.entry_date >= "2019-11-19"`,
	} {
		if _, err := env.Compile(give); err != nil {
			t.Errorf("Compile(%.60q...) = %v", give, err)
		}
	}
}

// An applicant beyond the sizes the estimate assumes (2,000 groups where it
// assumes 100) cannot take a condition past the limit: it stops there with
// ErrCostLimit.
func TestEvalStopsAtCostLimit(t *testing.T) {
	env, err := condition.NewEnv(5_000)
	if err != nil {
		t.Fatal(err)
	}
	prg, err := env.Compile(`applicant.groups.all(g, g != ApplicantGroup.APPLICANT_GROUP_UNSPECIFIED)`)
	if err != nil {
		t.Fatal(err)
	}
	groups := make([]safethirdv1.ApplicantGroup, 2000)
	for i := range groups {
		groups[i] = safethirdv1.ApplicantGroup_APPLICANT_GROUP_LGBTQI
	}
	_, err = prg.Eval(context.Background(), condition.Input{Applicant: &safethirdv1.Applicant{Groups: groups, DeclaredGroups: &safethirdv1.GroupList{}}, CountryCode: "MX"})
	if !errors.Is(err, condition.ErrCostLimit) {
		t.Errorf("Eval with 2,000 groups = %v, want ErrCostLimit", err)
	}
}

// Regression: an expensive condition ran to its end whatever the call's
// deadline. Eval now stops when its context is done.
func TestEvalStopsWhenContextIsDone(t *testing.T) {
	env, err := condition.NewEnv(1 << 62)
	if err != nil {
		t.Fatal(err)
	}
	prg, err := env.Compile(nested100)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = prg.Eval(ctx, condition.Input{CountryCode: "MX"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Eval = %v, want an error wrapping context.DeadlineExceeded", err)
	}
	// A generous bound: without the interruption this runs for minutes.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Eval returned %v after the deadline", d)
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := prg.Eval(cancelled, condition.Input{CountryCode: "MX"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Eval on a cancelled context = %v, want context.Canceled", err)
	}
}
