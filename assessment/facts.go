package assessment

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// facts is a set of the Applicant's top-level fields, by index: those an
// answer read. The answer for an applicant depends on the applicant only
// through them: whether an applicant was given at all, the conditions'
// values, and the way of entering a scope's rules check (entryRules). Two
// applicants who agree on every fact an answer read therefore get the
// same answer, as the evaluation takes the same path for both.
type facts uint64

// allFacts stands for every fact, the applicant whole.
const allFacts = ^facts(0)

var applicantFields = (&safethirdv1.Applicant{}).ProtoReflect().Descriptor().Fields()

// factsOf are the facts read through fields, or all of them.
func factsOf(fields []protoreflect.FieldDescriptor, whole bool) facts {
	if whole || applicantFields.Len() > 64 {
		return allFacts
	}
	var f facts
	for _, fd := range fields {
		f |= 1 << fd.Index()
	}
	return f
}

// conditionFacts are the facts a condition reads.
func conditionFacts(prg *condition.Program) facts {
	r := prg.Reads()
	return factsOf(r.Fields, r.Whole)
}

// entryFacts are those a scope's rules on the way of entering read.
var entryFacts = factsOf([]protoreflect.FieldDescriptor{
	applicantFields.ByName("entry_type"), applicantFields.ByName("days_from_crossing_to_claim")}, false)

// canonical encodes the values of the facts f of a: the fields' values as
// proto's deterministic encoding writes them, a field not given left out
// (so a fact not given differs from one given as false or zero). For all
// facts it is the applicant's whole encoding, unknown fields included.
func canonical(a *safethirdv1.Applicant, f facts) ([]byte, error) {
	det := proto.MarshalOptions{Deterministic: true}
	if f == allFacts {
		return det.Marshal(a)
	}
	src := a.ProtoReflect()
	dst := (&safethirdv1.Applicant{}).ProtoReflect()
	for i := range applicantFields.Len() {
		if fd := applicantFields.Get(i); f&(1<<i) != 0 && src.Has(fd) {
			dst.Set(fd, src.Get(fd))
		}
	}
	return det.Marshal(dst.Interface())
}
