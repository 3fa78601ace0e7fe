package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/safethird/safethird/server/rpcstatus"
)

// bodyHead starts the message of every body that does not decode.
const bodyHead = "request body is not the JSON of the request message"

// bodyProblem finds, in the order written, the first field of a body that
// protojson would not read into md, and names it by its whole path in the
// request (applicant.countries_crossed, not countries_crossed, which is
// all protojson's error gives) with what it must be: the shape, for a
// value of the wrong JSON type; the accepted names, for an enum. It
// returns nil when it finds nothing, as for JSON that does not parse.
// Never the value sent, which may be an applicant's fact.
func bodyProblem(data []byte, md protoreflect.MessageDescriptor) *rpcstatus.RequestError {
	return messageProblem(md, data, "")
}

// messageProblem checks raw, the JSON of a message of type md at path.
func messageProblem(md protoreflect.MessageDescriptor, raw []byte, path string) *rpcstatus.RequestError {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return nil
	}
	if len(raw) == 0 || raw[0] != '{' {
		return shapeProblem(path, "must be a JSON object: "+messageShape(md))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the {
		return nil
	}
	seen := map[protoreflect.FieldNumber]bool{}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		name, _ := key.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil
		}
		fields := md.Fields()
		fd := fields.ByJSONName(name)
		if fd == nil {
			fd = fields.ByTextName(name)
		}
		if fd == nil {
			name = rpcstatus.Clip(name)
			return shapeProblem(join(path, name), fmt.Sprintf("unknown field: %s has the fields %s", md.FullName(), fieldNames(md)))
		}
		if seen[fd.Number()] {
			return shapeProblem(join(path, string(fd.Name())), "given twice")
		}
		seen[fd.Number()] = true
		if p := fieldProblem(fd, value, join(path, string(fd.Name()))); p != nil {
			return p
		}
	}
	return nil
}

// fieldProblem checks raw, the JSON of field fd at path.
func fieldProblem(fd protoreflect.FieldDescriptor, raw []byte, path string) *rpcstatus.RequestError {
	raw = bytes.TrimSpace(raw)
	if !fd.IsList() || string(raw) == "null" {
		return valueProblem(fd, raw, path)
	}
	var items []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return shapeProblem(path, "must be a JSON array of "+valueShape(fd, true))
	}
	for i, item := range items {
		if p := valueProblem(fd, item, fmt.Sprintf("%s[%d]", path, i)); p != nil {
			return p
		}
	}
	return nil
}

// valueProblem checks one value of fd (an item, for a list): a message's
// fields one by one; anything else by protojson itself, for exactly the
// values it takes.
func valueProblem(fd protoreflect.FieldDescriptor, raw []byte, path string) *rpcstatus.RequestError {
	if fd.Message() != nil && !fd.IsMap() && !isWellKnown(fd.Message()) {
		return messageProblem(fd.Message(), raw, path)
	}
	value := raw
	if fd.IsList() {
		value = append(append([]byte("["), raw...), ']')
	}
	probe := append(append([]byte(fmt.Sprintf("{%q:", fd.JSONName())), value...), '}')
	if (protojson.UnmarshalOptions{AllowPartial: true}).Unmarshal(probe, dynamicpb.NewMessage(fd.ContainingMessage())) == nil {
		return nil
	}
	if fd.Enum() != nil {
		return shapeProblem(path, "must be one of "+rpcstatus.EnumNames(fd.Enum()))
	}
	return shapeProblem(path, "must be "+valueShape(fd, false))
}

func shapeProblem(path, rule string) *rpcstatus.RequestError {
	if path == "" { // the body itself
		return &rpcstatus.RequestError{Field: wholeRequest, Rule: rule, Msg: bodyHead + ": it " + rule}
	}
	return &rpcstatus.RequestError{Field: path, Rule: rule, Msg: bodyHead + ": " + path + ": " + rule}
}

// join appends a field's name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// isWellKnown reports whether md is one of protobuf's well-known types,
// which have JSON forms of their own (a Timestamp is a string).
func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf"
}

// messageShape writes a message's JSON with its fields and the shape of
// each: {"country_codes": [...]}.
func messageShape(md protoreflect.MessageDescriptor) string {
	parts := make([]string, md.Fields().Len())
	for i := range parts {
		fd := md.Fields().Get(i)
		shape := "..."
		switch {
		case fd.IsList():
			shape = "[...]"
		case fd.Message() != nil && !isWellKnown(fd.Message()):
			shape = "{...}"
		}
		parts[i] = fmt.Sprintf("%q: %s", fd.Name(), shape)
	}
	return fmt.Sprintf("%s, {%s}", md.FullName(), strings.Join(parts, ", "))
}

// fieldNames lists a message's fields by their proto names.
func fieldNames(md protoreflect.MessageDescriptor) string {
	names := make([]string, md.Fields().Len())
	for i := range names {
		names[i] = string(md.Fields().Get(i).Name())
	}
	return strings.Join(names, ", ")
}

// valueShape says what JSON one value of fd takes; plural for a list's.
func valueShape(fd protoreflect.FieldDescriptor, plural bool) string {
	var one, many string
	switch {
	case fd.Message() != nil && !isWellKnown(fd.Message()):
		one, many = "a JSON object, a "+string(fd.Message().FullName()), "JSON objects, each a "+string(fd.Message().FullName())
	case fd.Message() != nil:
		one, many = "the JSON form of "+string(fd.Message().FullName()), "the JSON forms of "+string(fd.Message().FullName())
	case fd.Enum() != nil:
		one, many = "one of "+rpcstatus.EnumNames(fd.Enum()), "names from "+rpcstatus.EnumNames(fd.Enum())
	case fd.Kind() == protoreflect.StringKind:
		one, many = "a JSON string", "JSON strings"
	case fd.Kind() == protoreflect.BoolKind:
		one, many = "true or false", "true or false"
	case fd.Kind() == protoreflect.BytesKind:
		one, many = "a base64 string", "base64 strings"
	case fd.Kind() == protoreflect.FloatKind || fd.Kind() == protoreflect.DoubleKind:
		one, many = "a number", "numbers"
	default:
		one, many = "a whole number ("+fd.Kind().String()+")", "whole numbers ("+fd.Kind().String()+")"
	}
	if plural {
		return many
	}
	return one
}
