package assessment

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// facts is a set of the Applicant's top-level fields, by index: those an
// answer read. The answer for an applicant depends on the applicant only
// through them: whether an applicant was given at all, the conditions'
// values, the way of entering a scope's rules check (entryRules), and the
// deprecated facts warned of (deprecatableFacts). Two applicants who agree
// on every fact an answer read therefore get the same answer, as the
// evaluation takes the same path for both.
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

// encodeFacts is the deterministic encoding of an applicant's facts, from
// which canonical takes those an answer read.
func encodeFacts(a *safethirdv1.Applicant) ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(a)
}

// canonical encodes the values of the facts f of an applicant, from its
// encodeFacts: the records of those fields, a field not given left out
// (so a fact not given differs from one given as false or zero). The
// deterministic encoding writes each field on its own, in the order of
// their numbers, so these are the bytes of an Applicant holding only
// those facts; for all facts, the applicant's whole encoding, unknown
// fields included.
func canonical(enc []byte, f facts) []byte {
	if f == allFacts {
		return enc
	}
	var out []byte
	for rest := enc; len(rest) > 0; {
		num, _, n := protowire.ConsumeField(rest)
		if n < 0 {
			return enc // not from encodeFacts; the whole of it is a safe key
		}
		if fd := applicantFields.ByNumber(num); fd != nil && f&(1<<fd.Index()) != 0 {
			out = append(out, rest[:n]...)
		}
		rest = rest[n:]
	}
	return out
}
