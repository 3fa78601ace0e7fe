package expectation

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// step is one segment of a path: a field, and for a repeated message the
// key of the element.
type step struct {
	field  string
	key    string
	keyed  bool
	source string // the segment as written
}

// parsePath splits "criteria[agreement].status" into its steps.
func parsePath(path string) ([]step, error) {
	var out []step
	for rest := path; ; {
		seg, after, more := cutSegment(rest)
		s := step{field: seg, source: seg}
		if i := strings.IndexByte(seg, '['); i >= 0 {
			if !strings.HasSuffix(seg, "]") || i == 0 {
				return nil, fmt.Errorf("%q: want name[key]", seg)
			}
			s.field, s.key, s.keyed = seg[:i], seg[i+1:len(seg)-1], true
			if s.key == "" {
				return nil, fmt.Errorf("%q: the key in [] is empty", seg)
			}
		}
		if s.field == "" {
			return nil, fmt.Errorf("an empty field name in %q", path)
		}
		out = append(out, s)
		if !more {
			return out, nil
		}
		rest = after
	}
}

// cutSegment cuts s at the first dot outside brackets.
func cutSegment(s string) (seg, rest string, found bool) {
	depth := 0
	for i, r := range s {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case '.':
			if depth == 0 {
				return s[:i], s[i+1:], true
			}
		}
	}
	return s, "", false
}

// value is what a path names in an answer: a field of a message, or, for
// a keyed step, the message picked.
type value struct {
	msg protoreflect.Message
	fd  protoreflect.FieldDescriptor
}

// resolve follows path from the answer m. An error says which step does
// not name anything, and what does.
func resolve(m protoreflect.Message, steps []step) (value, error) {
	for i, s := range steps {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(s.field))
		if fd == nil {
			return value{}, fmt.Errorf("%s has no field %q; its fields: %s", m.Descriptor().FullName(), s.field, fieldNames(m.Descriptor()))
		}
		last := i == len(steps)-1
		switch {
		case s.keyed:
			if !fd.IsList() || fd.Message() == nil {
				return value{}, fmt.Errorf("%s[%s]: [key] picks an element of a repeated message, and %s is not one", s.field, s.key, s.field)
			}
			el, err := element(m.Get(fd).List(), fd, s.key)
			if err != nil {
				return value{}, err
			}
			if last {
				return value{}, fmt.Errorf("%s names a message: name one of its fields (%s)", s.source, fieldNames(fd.Message()))
			}
			m = el
		case last:
			return value{msg: m, fd: fd}, nil
		case fd.IsList() || fd.IsMap() || fd.Message() == nil:
			return value{}, fmt.Errorf("%s is not a message: name it last, or pick an element with %s[key]", s.field, s.field)
		default:
			m = m.Get(fd).Message()
		}
	}
	return value{}, fmt.Errorf("an empty path")
}

// keyField is the field that identifies an element of a repeated message:
// its first field, when a string (an id, a country's code).
func keyField(md protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	fd := md.Fields().ByNumber(1)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return nil
	}
	return fd
}

// element returns the element of list whose key is key.
func element(list protoreflect.List, fd protoreflect.FieldDescriptor, key string) (protoreflect.Message, error) {
	kf := keyField(fd.Message())
	if kf == nil {
		return nil, fmt.Errorf("%s: the elements of %s have no key to pick one by", fd.Name(), fd.Message().FullName())
	}
	var keys []string
	for i := range list.Len() {
		el := list.Get(i).Message()
		k := el.Get(kf).String()
		if k == key {
			return el, nil
		}
		keys = append(keys, k)
	}
	return nil, fmt.Errorf("%s has no element with %s %q; it has %s", fd.Name(), kf.Name(), key, listOrNone(keys))
}

// got renders what a path names, as a want is written: a scalar, or a
// list of values (of keys, for messages).
func (v value) got() (string, []string, bool) {
	if v.fd.IsList() {
		list := v.msg.Get(v.fd).List()
		out := make([]string, list.Len())
		for i := range list.Len() {
			if v.fd.Message() != nil {
				kf := keyField(v.fd.Message())
				if kf == nil {
					return "", nil, false
				}
				out[i] = list.Get(i).Message().Get(kf).String()
				continue
			}
			out[i] = scalar(v.fd, list.Get(i))
		}
		return "", out, true
	}
	if v.fd.IsMap() || v.fd.Message() != nil {
		return "", nil, false
	}
	return scalar(v.fd, v.msg.Get(v.fd)), nil, true
}

// scalar renders one value: an enum by its name, the rest as YAML writes them.
func scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	if fd.Enum() != nil {
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return strconv.Itoa(int(v.Enum()))
	}
	return v.String()
}

// compare checks a want against what the path names in the answer; it
// returns a failure (the value wanted and got) or an error in the want
// itself (a value the field cannot have).
func compare(v value, want *yaml.Node) (failure string, bad error) {
	gotScalar, gotList, ok := v.got()
	if !ok {
		return "", fmt.Errorf("%s is a message: name one of its fields (%s)", v.fd.Name(), fieldNames(v.fd.Message()))
	}
	if want.Kind == yaml.MappingNode {
		return contains(v, want, gotScalar, gotList)
	}
	if v.fd.IsList() {
		if want.Kind != yaml.SequenceNode {
			return "", fmt.Errorf("%s is a list: want a list ([] for none), or {contains: text}", v.fd.Name())
		}
		var wantList []string
		for _, n := range want.Content {
			if err := checkValue(v.fd, n); err != nil {
				return "", err
			}
			wantList = append(wantList, n.Value)
		}
		if !slices.Equal(wantList, gotList) && !(len(wantList) == 0 && len(gotList) == 0) {
			return fmt.Sprintf("want %s, got %s", listString(wantList), listString(gotList)), nil
		}
		return "", nil
	}
	if want.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("%s is a single value: want a value, or {contains: text}", v.fd.Name())
	}
	if err := checkValue(v.fd, want); err != nil {
		return "", err
	}
	if want.Value != gotScalar {
		return fmt.Sprintf("want %s, got %s", quoteEmpty(want.Value), quoteEmpty(gotScalar)), nil
	}
	return "", nil
}

// contains checks {contains: text} against a string or a list of strings.
func contains(v value, want *yaml.Node, gotScalar string, gotList []string) (string, error) {
	if len(want.Content) != 2 || want.Content[0].Value != "contains" || want.Content[1].Kind != yaml.ScalarNode || want.Content[1].Value == "" {
		return "", fmt.Errorf("a mapping as a value is {contains: text}")
	}
	if v.fd.Kind() != protoreflect.StringKind {
		return "", fmt.Errorf("{contains: ...} is for text, and %s is not", v.fd.Name())
	}
	text := want.Content[1].Value
	if v.fd.IsList() {
		if slices.ContainsFunc(gotList, func(s string) bool { return strings.Contains(s, text) }) {
			return "", nil
		}
		return fmt.Sprintf("want an element containing %q, got %s", text, listString(gotList)), nil
	}
	if strings.Contains(gotScalar, text) {
		return "", nil
	}
	return fmt.Sprintf("want text containing %q, got %q", text, gotScalar), nil
}

// checkValue refuses a want the field can never have: an enum name that
// is not one of its values, a bool that is not true or false. Such a want
// is a mistake in the case, reported as such rather than as a failure.
func checkValue(fd protoreflect.FieldDescriptor, n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s: want a value, not a %s", fd.Name(), kindName(n.Kind))
	}
	switch {
	case fd.Enum() != nil:
		if fd.Enum().Values().ByName(protoreflect.Name(n.Value)) == nil {
			return fmt.Errorf("%q is not a value of %s", n.Value, fd.Enum().FullName())
		}
	case fd.Kind() == protoreflect.BoolKind:
		if n.Value != "true" && n.Value != "false" {
			return fmt.Errorf("%s is true or false, not %q", fd.Name(), n.Value)
		}
	}
	return nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "node"
}

func fieldNames(md protoreflect.MessageDescriptor) string {
	var names []string
	for i := range md.Fields().Len() {
		names = append(names, string(md.Fields().Get(i).Name()))
	}
	return strings.Join(names, ", ")
}

func listString(l []string) string { return "[" + strings.Join(l, ", ") + "]" }

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// quoteEmpty shows an empty value as "" so that a failure never reads
// "want X, got ".
func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
