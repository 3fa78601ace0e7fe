package condition_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/safethird/safethird/condition"
)

// Reads must name every Applicant field a condition can read, and say
// Whole when the applicant is used otherwise than to select a field: a
// memo of answers keyed by the facts read relies on it.
func TestReads(t *testing.T) {
	env, err := condition.NewEnv(0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		give       string
		wantFields []string
		wantWhole  bool
	}{
		{give: `country_code == "MX"`},
		{give: unaccompaniedMinor, wantFields: []string{"age", "married", "parent_or_guardian_countries"}},
		{give: ownCountry, wantFields: []string{"last_habitual_residence_code", "nationality_code", "stateless"}},
		{give: `has(applicant.entry_date) && applicant.entry_date < add_years(as_of, -1)`, wantFields: []string{"entry_date"}},
		{give: `applicant.groups.exists(g, g == ApplicantGroup.APPLICANT_GROUP_LGBTQI)`, wantFields: []string{"declared_groups", "groups"}},
		{give: `applicant.family.members.exists(m, m.age > 18 && m.relationship == Relationship.RELATIONSHIP_SIBLING)`, wantFields: []string{"family"}},
		{give: `[applicant][0].age > 18`, wantWhole: true},
		{give: `[1].exists(applicant, applicant > 0) || applicant.age > 3`, wantFields: []string{"age"}, wantWhole: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			prg, err := env.Compile(tt.give)
			if err != nil {
				t.Fatal(err)
			}
			r := prg.Reads()
			var got []string
			for _, fd := range r.Fields {
				got = append(got, string(fd.Name()))
			}
			slices.Sort(got)
			if diff := cmp.Diff(tt.wantFields, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if r.Whole != tt.wantWhole {
				t.Errorf("whole = %v, want %v", r.Whole, tt.wantWhole)
			}
		})
	}
}
