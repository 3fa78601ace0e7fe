package assessment

import (
	"google.golang.org/protobuf/reflect/protoreflect"
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

// isDeprecated reports whether a descriptor's options mark it deprecated.
func isDeprecated(opts protoreflect.ProtoMessage) bool {
	d, ok := opts.(interface{ GetDeprecated() bool })
	return ok && d.GetDeprecated()
}
