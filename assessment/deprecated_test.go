package assessment

import (
	"testing"

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
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		if seen[md.FullName()] {
			return
		}
		seen[md.FullName()] = true
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			if isDeprecated(fd.Options()) {
				out = append(out, fd)
			}
			if ed := fd.Enum(); ed != nil {
				for j := range ed.Values().Len() {
					if ev := ed.Values().Get(j); isDeprecated(ev.Options()) {
						out = append(out, ev)
					}
				}
			}
			if fd.Message() != nil {
				walk(fd.Message())
			}
		}
	}
	walk((&safethirdv1.Applicant{}).ProtoReflect().Descriptor())
	return out
}
