package assessment

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/reflect/protoreflect"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// TestEveryDeprecatedFactIsReplaced holds replacedBy to the protos: each
// deprecated field or enum value an Applicant can hold names what replaces
// it, and each replacement is a field of the Applicant.
func TestEveryDeprecatedFactIsReplaced(t *testing.T) {
	fields := (&safethirdv1.Applicant{}).ProtoReflect().Descriptor().Fields()
	found := deprecatedApplicantFacts()
	if len(found) != len(replacedBy) {
		t.Errorf("the protos deprecate %d applicant facts, replacedBy names %d", len(found), len(replacedBy))
	}
	for _, d := range found {
		r, ok := replacedBy[d.FullName()]
		if !ok {
			t.Errorf("%s is deprecated but replacedBy names nothing for it", d.FullName())
		} else if fields.ByName(protoreflect.Name(r)) == nil {
			t.Errorf("%s is replaced by %q, which is not an Applicant field", d.FullName(), r)
		}
	}
}

// deprecatedApplicantFacts lists every deprecated field and enum value an
// Applicant can hold, for the test that each has a replacement named.
func deprecatedApplicantFacts() []protoreflect.Descriptor {
	var out []protoreflect.Descriptor
	seen := map[protoreflect.FullName]bool{}
	for i := range applicantFields.Len() {
		deprecatedWithin(applicantFields.Get(i), seen, func(d protoreflect.Descriptor) { out = append(out, d) })
	}
	return out
}

// The memo of answers keys an applicant's answer by the facts it read:
// the warnings of deprecated facts read those that can hold one.
func TestDeprecatableFacts(t *testing.T) {
	var got []string
	for i := range applicantFields.Len() {
		if fd := applicantFields.Get(i); deprecatableFacts&(1<<fd.Index()) != 0 {
			got = append(got, string(fd.Name()))
		}
	}
	want := []string{"parent_or_guardian_present", "documents"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("facts that can hold a deprecated one (-want +got):\n%s", diff)
	}
}
