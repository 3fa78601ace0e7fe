package safethirdv1_test

import (
	"errors"
	"slices"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// violations validates msg and returns each violation as "field: rule id".
func violations(t *testing.T, msg proto.Message) []string {
	t.Helper()
	err := protovalidate.Validate(msg)
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Validate: %v, want a *ValidationError or nil", err)
	}
	var out []string
	for _, v := range verr.Violations {
		out = append(out, protovalidate.FieldPathString(v.Proto.GetField())+": "+v.Proto.GetRuleId())
	}
	return out
}

// TestSharedRules checks the predefined rules of rules.proto at their
// edges, through the request fields that use them.
func TestSharedRules(t *testing.T) {
	for _, tt := range []struct {
		name string
		give *safethirdv1.AssessCountryRequest
		want []string
	}{
		{"lower-case code", &safethirdv1.AssessCountryRequest{CountryCode: "mx"}, nil},
		{"alpha-3 code", &safethirdv1.AssessCountryRequest{CountryCode: "MEX"}, []string{"country_code: string.alpha2"}},
		{"non-ASCII code", &safethirdv1.AssessCountryRequest{CountryCode: "MÉ"}, []string{"country_code: string.alpha2"}},
		{"missing code", &safethirdv1.AssessCountryRequest{}, []string{"country_code: required"}},
		{"leap day 2000", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2000-02-29"}, nil},
		{"leap day 2024", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-02-29"}, nil},
		{"no leap day 1900", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "1900-02-29"}, []string{"as_of: string.date"}},
		{"no leap day 2023", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2023-02-29"}, []string{"as_of: string.date"}},
		{"30 February", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-02-30"}, []string{"as_of: string.date"}},
		{"31 April", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2024-04-31"}, []string{"as_of: string.date"}},
		{"31 December 2100", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2100-12-31"}, nil},
		{"2101", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2101-01-01"}, []string{"as_of: string.date"}},
		{"1899", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "1899-12-31"}, []string{"as_of: string.date"}},
		{"another form", &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "01/02/2023"}, []string{"as_of: string.date"}},
		{"framework id", &safethirdv1.AssessCountryRequest{CountryCode: "MX", FrameworkId: "eu-apr-59"}, nil},
		{"framework id in capitals", &safethirdv1.AssessCountryRequest{CountryCode: "MX", FrameworkId: "EU-APR-59"}, []string{"framework_id: string.id"}},
		{"revision", &safethirdv1.AssessCountryRequest{CountryCode: "MX", DatasetRevision: "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, nil},
		{"short revision", &safethirdv1.AssessCountryRequest{CountryCode: "MX", DatasetRevision: "sha256:0123"}, []string{"dataset_revision: string.revision"}},
		{"undefined view", &safethirdv1.AssessCountryRequest{CountryCode: "MX", View: 9}, []string{"view: enum.defined_only"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := violations(t, tt.give); !slices.Equal(got, tt.want) {
				t.Errorf("violations = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestApplicantRules checks the Applicant's rules, each violation named by
// its path.
func TestApplicantRules(t *testing.T) {
	for _, tt := range []struct {
		name string
		give *safethirdv1.Applicant
		want []string
	}{
		{"every fact unknown", &safethirdv1.Applicant{}, nil},
		{"stateless with a nationality", &safethirdv1.Applicant{NationalityCode: proto.String("SY"), Stateless: proto.Bool(true)},
			[]string{": applicant.stateless_with_nationality"}},
		{"not stateless with a nationality", &safethirdv1.Applicant{NationalityCode: proto.String("SY"), Stateless: proto.Bool(false)}, nil},
		{"age 151", &safethirdv1.Applicant{Age: proto.Int32(151)}, []string{"age: int32.gte_lte"}},
		{"unspecified group", &safethirdv1.Applicant{Groups: []safethirdv1.ApplicantGroup{0}}, []string{"groups[0]: enum.not_in"}},
		{"unspecified relationship", &safethirdv1.Applicant{Family: &safethirdv1.FamilyTies{Members: []*safethirdv1.FamilyMember{{Status: safethirdv1.FamilyStatus_FAMILY_STATUS_CITIZEN}}}},
			[]string{"family.members[0].relationship: required"}},
		{"empty country in a list", &safethirdv1.Applicant{CountriesCrossed: &safethirdv1.CountryList{CountryCodes: []string{""}}},
			[]string{"countries_crossed.country_codes[0]: string.min_len"}},
		{"entry type out of the enum", &safethirdv1.Applicant{EntryType: safethirdv1.EntryType(42).Enum()}, []string{"entry_type: enum.defined_only"}},
		{"negative days", &safethirdv1.Applicant{DaysFromCrossingToClaim: proto.Int32(-3)}, []string{"days_from_crossing_to_claim: int32.gte_lte"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := violations(t, tt.give); !slices.Equal(got, tt.want) {
				t.Errorf("violations = %q, want %q", got, tt.want)
			}
		})
	}
}
