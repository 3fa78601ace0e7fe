package assessment

import (
	"slices"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/condition"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// replacedBy names, for each deprecated applicant fact, the facts that
// replace it. The deprecations themselves are the protos' (the
// `deprecated` option); TestEveryDeprecatedFactIsReplaced holds the two
// together.
var replacedBy = map[protoreflect.FullName]string{
	"safethird.v1.Applicant.parent_or_guardian_present":       "parent_or_guardian_countries",
	"safethird.v1.DOCUMENT_KIND_VISA_EXEMPT_DESTINATION_ONLY": "visa_free_countries",
}

// deprecatedFacts warns of each deprecated field or enum value the
// applicant gives: no condition reads it, so without the warning a caller
// would see it silently ignored. The warning names the field or value,
// never what the applicant gave.
func (b *builder) deprecatedFacts() {
	if b.q.applicant != nil {
		// The warnings read the applicant too: an answer memoized for
		// one applicant must go only to those who gave the same
		// deprecated facts.
		b.read |= deprecatableFacts
		deprecatedIn(b.q.applicant.ProtoReflect(), func(d protoreflect.Descriptor) {
			b.warn("The applicant fact %s is deprecated and no longer read; give %s instead.", d.Name(), replacedBy[d.FullName()])
		})
	}
}

// deprecatedIn calls found for each deprecated field set in m, and each
// deprecated enum value m holds, in m and the messages it holds.
func deprecatedIn(m protoreflect.Message, found func(protoreflect.Descriptor)) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if isDeprecated(fd.Options()) {
			found(fd)
		}
		var values []protoreflect.Value
		if fd.IsList() {
			for i := range v.List().Len() {
				values = append(values, v.List().Get(i))
			}
		} else if !fd.IsMap() {
			values = []protoreflect.Value{v}
		}
		for _, v := range values {
			switch fd.Kind() {
			case protoreflect.EnumKind:
				if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil && isDeprecated(ev.Options()) {
					found(ev)
				}
			case protoreflect.MessageKind:
				deprecatedIn(v.Message(), found)
			}
		}
		return true
	})
}

// deprecatableFacts are the facts in which a deprecated field or enum value
// can be given, those deprecatedIn reads.
var deprecatableFacts = func() facts {
	var fields []protoreflect.FieldDescriptor
	for i := range applicantFields.Len() {
		fd := applicantFields.Get(i)
		can := false
		deprecatedWithin(fd, map[protoreflect.FullName]bool{}, func(protoreflect.Descriptor) { can = true })
		if can {
			fields = append(fields, fd)
		}
	}
	return factsOf(fields, false)
}()

// deprecatedWithin calls found for each deprecated field or enum value
// that a value of fd can be or hold, looking in no message of seen twice.
func deprecatedWithin(fd protoreflect.FieldDescriptor, seen map[protoreflect.FullName]bool, found func(protoreflect.Descriptor)) {
	if isDeprecated(fd.Options()) {
		found(fd)
	}
	if ed := fd.Enum(); ed != nil {
		for i := range ed.Values().Len() {
			if ev := ed.Values().Get(i); isDeprecated(ev.Options()) {
				found(ev)
			}
		}
	}
	if md := fd.Message(); md != nil && !seen[md.FullName()] {
		seen[md.FullName()] = true
		for i := range md.Fields().Len() {
			deprecatedWithin(md.Fields().Get(i), seen, found)
		}
	}
}

// isDeprecated reports whether a descriptor's options mark it deprecated.
func isDeprecated(opts protoreflect.ProtoMessage) bool {
	d, ok := opts.(interface{ GetDeprecated() bool })
	return ok && d.GetDeprecated()
}

// groupsNotComplete says, in an answer that asks for declared_groups, that
// an applicant's groups list is no longer read as complete. Before
// declared_groups, an empty or partial groups list meant "no other group";
// that meaning could not be carried over (a list that says nothing of a
// group cannot be told from one that denies it), so a caller still relying
// on it is told why the answer asks. The missing facts it reads are
// already part of the answer, so memoized answers stay exact.
func groupsNotComplete(a *safethirdv1.Assessment) (string, bool) {
	for _, c := range a.GetCriteria() {
		if slices.Contains(c.GetMissingFacts(), condition.DeclaredGroups) {
			return "The applicant's groups are read as groups the person belongs to, not as the complete list (as they were before declared_groups): a group not listed is unknown. Set declared_groups to every group the person belongs to, or to none, to decide it.", true
		}
	}
	return "", false
}
