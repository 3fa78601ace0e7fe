package codec

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// A body that does not decode is named by the whole path of its first
// field at fault, with the shape that field takes or the names it accepts,
// and never the value sent.
func TestBodyProblem(t *testing.T) {
	tests := []struct {
		give, wantField, wantRule string
	}{
		{`{"applicant":{"countries_crossed":["SECRET"]}}`, "applicant.countries_crossed",
			`must be a JSON object: safethird.v1.CountryList, {"country_codes": [...]}`},
		{`{"view":"SECRET"}`, "view", "must be one of ASSESSMENT_VIEW_UNSPECIFIED, ASSESSMENT_VIEW_BASIC, ASSESSMENT_VIEW_FULL"},
		{`{"applicant":{"family":{"members":[{"relationship":"RELATIONSHIP_SPOUSE"},{"relationship":"SECRET"}]}}}`,
			"applicant.family.members[1].relationship", "must be one of RELATIONSHIP_UNSPECIFIED, RELATIONSHIP_SPOUSE"},
		{`{"applicant":{"age":"sixteen"}}`, "applicant.age", "must be a whole number (int32)"},
		{`{"applicant":{"age":99999999999}}`, "applicant.age", "must be a whole number (int32)"},
		{`{"asOf":2019}`, "as_of", "must be a JSON string"},
		{`{"applicant":{"groups":"SECRET"}}`, "applicant.groups", "must be a JSON array of names from APPLICANT_GROUP_UNSPECIFIED"},
		{`{"applicant":{"documents":{"kinds":[1,"SECRET"]}}}`, "applicant.documents.kinds[1]", "must be one of DOCUMENT_KIND_UNSPECIFIED"},
		{`{"applicant":{"as_off":1}}`, "applicant.as_off", "unknown field: safethird.v1.Applicant has the fields nationality_code, "},
		{`{"as_of":"2019-01-01","asOf":"2019-01-02"}`, "as_of", "given twice"},
		{`{"applicant":true}`, "applicant", "must be a JSON object: safethird.v1.Applicant, {"},
	}
	md := (&safethirdv1.AssessCountryRequest{}).ProtoReflect().Descriptor()
	for _, tt := range tests {
		if err := protojson.Unmarshal([]byte(tt.give), &safethirdv1.AssessCountryRequest{}); err == nil {
			t.Fatalf("%s decoded", tt.give)
		}
		got := bodyProblem([]byte(tt.give), md)
		if got == nil {
			t.Errorf("bodyProblem(%s) = nil", tt.give)
			continue
		}
		if got.Field != tt.wantField || !strings.HasPrefix(got.Rule, tt.wantRule) {
			t.Errorf("bodyProblem(%s) = %q: %q; want %q: %q...", tt.give, got.Field, got.Rule, tt.wantField, tt.wantRule)
		}
		if want := bodyHead + ": " + got.Field + ": " + got.Rule; got.Msg != want {
			t.Errorf("bodyProblem(%s) message %q, want %q", tt.give, got.Msg, want)
		}
		for _, secret := range []string{"SECRET", "sixteen", "9999"} {
			if strings.Contains(got.Msg, secret) {
				t.Errorf("bodyProblem(%s) repeats the value: %q", tt.give, got.Msg)
			}
		}
	}
	// Malformed JSON is left to protojson's error, which has its position.
	if got := bodyProblem([]byte(`{"as_of": secret}`), md); got != nil {
		t.Errorf("bodyProblem of malformed JSON = %+v, want nil", got)
	}
}
