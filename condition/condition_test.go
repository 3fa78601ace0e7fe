package condition_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

const (
	unaccompaniedMinor = `applicant.age < 18 && !applicant.married && !applicant.parent_or_guardian_present`
	// ownCountry is the shape of the INA's rule on the person's own country.
	ownCountry = `(!applicant.stateless && applicant.nationality_code == country_code) ||
		(applicant.stateless && applicant.last_habitual_residence_code == country_code)`
)

func TestEval(t *testing.T) {
	env, err := condition.NewEnv()
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
			condition.Result{Value: condition.Unknown, Missing: []string{"age", "married", "parent_or_guardian_present"}}},
		{"adult decides it alone", unaccompaniedMinor, &safethirdv1.Applicant{Age: proto.Int32(30)}, "",
			condition.Result{Value: condition.False}},
		{"minor, other facts unknown", unaccompaniedMinor, &safethirdv1.Applicant{Age: proto.Int32(15)}, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"married", "parent_or_guardian_present"}}},
		{"all facts given", unaccompaniedMinor, &safethirdv1.Applicant{Age: proto.Int32(15), Married: proto.Bool(false), ParentOrGuardianPresent: proto.Bool(false)}, "",
			condition.Result{Value: condition.True}},
		{"unset family is unknown", `applicant.family.members.exists(m, m.status == FamilyStatus.FAMILY_STATUS_CITIZEN)`, &safethirdv1.Applicant{}, "",
			condition.Result{Value: condition.Unknown, Missing: []string{"family"}}},
		{"empty family is known", `applicant.family.members.exists(m, m.status == safethird.v1.FamilyStatus.FAMILY_STATUS_CITIZEN)`, &safethirdv1.Applicant{Family: &safethirdv1.FamilyTies{}}, "",
			condition.Result{Value: condition.False}},
		{"groups are declared, never unknown", `safethird.v1.ApplicantGroup.APPLICANT_GROUP_LGBTQI in applicant.groups`, &safethirdv1.Applicant{}, "",
			condition.Result{Value: condition.False}},
		{"group member", `ApplicantGroup.APPLICANT_GROUP_LGBTQI in applicant.groups`, &safethirdv1.Applicant{Groups: []safethirdv1.ApplicantGroup{safethirdv1.ApplicantGroup_APPLICANT_GROUP_LGBTQI}}, "",
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
			got, err := prg.Eval(condition.Input{Applicant: tt.give, CountryCode: tt.country, AsOf: "2026-06-01"})
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
	env, err := condition.NewEnv()
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
