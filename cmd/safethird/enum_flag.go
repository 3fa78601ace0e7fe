package main

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// choices maps a protobuf enum's values to the kebab-case names flags
// accept: ENTRY_TYPE_AIRPORT is "airport". The names come from the
// generated descriptor, so a value added to the schema is a flag value
// without a change here.
type choices struct {
	desc   protoreflect.EnumDescriptor
	prefix string
	// short renames values whose full name is long, e.g. land-port for
	// ENTRY_TYPE_LAND_PORT_OF_ENTRY; the full name is still accepted.
	short map[protoreflect.EnumNumber]string
	// typeName is the placeholder help shows for the flag's value.
	typeName string
}

func newChoices(e protoreflect.Enum, typeName string, short map[protoreflect.EnumNumber]string) choices {
	d := e.Descriptor()
	zero := string(d.Values().ByNumber(0).Name())
	return choices{desc: d, prefix: strings.TrimSuffix(zero, "UNSPECIFIED"), short: short, typeName: typeName}
}

// list is the accepted names for help text: "a|b|c".
func (c choices) list() string { return strings.Join(c.names(), "|") }

// name is the kebab-case name of n: its short name if it has one.
func (c choices) name(n protoreflect.EnumNumber) string {
	if s, ok := c.short[n]; ok {
		return s
	}
	return c.long(n)
}

func (c choices) long(n protoreflect.EnumNumber) string {
	v := c.desc.Values().ByNumber(n)
	if v == nil {
		return fmt.Sprintf("%d", n)
	}
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(string(v.Name()), c.prefix)), "_", "-")
}

// offered reports whether a value is one a flag takes: not UNSPECIFIED,
// and not deprecated (the engine no longer reads those).
func offered(v protoreflect.EnumValueDescriptor) bool {
	return v.Number() != 0 && !v.Options().(*descriptorpb.EnumValueOptions).GetDeprecated()
}

// names lists the accepted names in schema order.
func (c choices) names() []string {
	var out []string
	vals := c.desc.Values()
	for i := range vals.Len() {
		if v := vals.Get(i); offered(v) {
			out = append(out, c.name(v.Number()))
		}
	}
	return out
}

// parse reads a name (case-insensitive, short or long); the error lists the names.
func (c choices) parse(s string) (protoreflect.EnumNumber, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	vals := c.desc.Values()
	for i := range vals.Len() {
		n := vals.Get(i).Number()
		if offered(vals.Get(i)) && (s == c.name(n) || s == c.long(n)) {
			return n, nil
		}
	}
	return 0, fmt.Errorf("must be one of %s", strings.Join(c.names(), ", "))
}

// enumFlag is a pflag.Value for one enum value; set reports whether the
// flag was given.
type enumFlag struct {
	choices
	value protoreflect.EnumNumber
	set   bool
}

func (f *enumFlag) String() string {
	if !f.set {
		return ""
	}
	return f.name(f.value)
}

func (f *enumFlag) Set(s string) error {
	n, err := f.parse(s)
	if err != nil {
		return err
	}
	f.value, f.set = n, true
	return nil
}

func (f *enumFlag) Type() string { return f.typeName }

// enumListFlag is a repeatable enum flag; each use may also hold a
// comma-separated list.
type enumListFlag struct {
	choices
	values []protoreflect.EnumNumber
}

func (f *enumListFlag) String() string {
	names := make([]string, len(f.values))
	for i, v := range f.values {
		names[i] = f.name(v)
	}
	return strings.Join(names, ",")
}

func (f *enumListFlag) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		n, err := f.parse(part)
		if err != nil {
			return err
		}
		f.values = append(f.values, n)
	}
	return nil
}

func (f *enumListFlag) Type() string { return f.typeName }

// enumsOf converts parsed numbers to a generated enum type.
func enumsOf[E ~int32](ns []protoreflect.EnumNumber) []E {
	out := make([]E, len(ns))
	for i, n := range ns {
		out[i] = E(n)
	}
	return out
}
