package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
)

// restCodec is the JSON of the HTTP door: protojson as grpcurl and
// `safethird -o json` write it (fields at their zero value left out), and
// strict where vanguard's default is lenient: an unknown field is an error
// naming it, not silently dropped (a misspelt "as_of" would otherwise
// assess today). A body that does not decode is INVALID_ARGUMENT, with the
// details errorMapper gives every bad request, and not the UNKNOWN that
// vanguard makes of a codec's plain error.
type restCodec struct {
	vanguard.JSONCodec
	errs errorMapper
}

func newRESTCodec(res vanguard.TypeResolver, errs errorMapper) vanguard.Codec {
	return &restCodec{
		JSONCodec: vanguard.JSONCodec{
			MarshalOptions:   protojson.MarshalOptions{Resolver: res},
			UnmarshalOptions: protojson.UnmarshalOptions{Resolver: res},
		},
		errs: errs,
	}
}

func (c *restCodec) Unmarshal(data []byte, msg proto.Message) error {
	if err := c.JSONCodec.Unmarshal(data, msg); err != nil {
		return c.invalid(err, bodyProblem(data, msg.ProtoReflect().Descriptor()))
	}
	return nil
}

func (c *restCodec) UnmarshalField(data []byte, msg proto.Message, field protoreflect.FieldDescriptor) error {
	if err := c.JSONCodec.UnmarshalField(data, msg, field); err != nil {
		return c.invalid(err, fieldProblem(field, data, string(field.Name())))
	}
	return nil
}

// invalid maps a decoding error: the problem bodyProblem found, with its
// field's whole path, or else what protojson's error says. No call context
// exists at this depth, and errorMapper needs one only to log errors it
// does not know.
func (c *restCodec) invalid(err error, found *requestError) error {
	if found == nil {
		found = bodyError(err)
	}
	return connectErrorOf(c.errs.status(context.Background(), found))
}

// decodeProblem is the error of data, a body that does not decode into
// md, as invalid gives it.
func decodeProblem(data []byte, md protoreflect.MessageDescriptor) *requestError {
	if p := bodyProblem(data, md); p != nil {
		return p
	}
	err := protojson.Unmarshal(data, dynamicpb.NewMessage(md))
	if err == nil {
		return &requestError{msg: bodyHead}
	}
	return bodyError(err)
}

// protojsonError picks apart protojson's error text, "proto: (line 1:2):
// unknown field \"as_off\"", "proto: (line 1:9): invalid value for int32
// field age: \"x\"" or "proto: syntax error (line 1:5): unexpected token".
var protojsonError = regexp.MustCompile(`\(line (\d+):(\d+)\):? (.*)$`)

// Values and tokens of protojson's messages that may hold what the caller
// sent, matched to be cut out.
var (
	invalidValue = regexp.MustCompile(`^invalid value for (\w+) field (\w+)`)
	namedField   = regexp.MustCompile(`^(unknown|duplicate) field "([^"]{0,64})"`)
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
func bodyProblem(data []byte, md protoreflect.MessageDescriptor) *requestError {
	return messageProblem(md, data, "")
}

// messageProblem checks raw, the JSON of a message of type md at path.
func messageProblem(md protoreflect.MessageDescriptor, raw []byte, path string) *requestError {
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
			if len(name) > maxIDInMessage {
				name = name[:maxIDInMessage] + "..."
			}
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
func fieldProblem(fd protoreflect.FieldDescriptor, raw []byte, path string) *requestError {
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
func valueProblem(fd protoreflect.FieldDescriptor, raw []byte, path string) *requestError {
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
		return shapeProblem(path, "must be one of "+enumNames(fd.Enum()))
	}
	return shapeProblem(path, "must be "+valueShape(fd, false))
}

func shapeProblem(path, rule string) *requestError {
	if path == "" { // the body itself
		return &requestError{msg: bodyHead + ": it " + rule}
	}
	return &requestError{field: path, rule: rule, msg: bodyHead + ": " + path + ": " + rule}
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
		one, many = "one of "+enumNames(fd.Enum()), "names from "+enumNames(fd.Enum())
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

// enumNames lists the names an enum field accepts.
func enumNames(ed protoreflect.EnumDescriptor) string {
	names := make([]string, ed.Values().Len())
	for i := range names {
		names[i] = string(ed.Values().Get(i).Name())
	}
	return strings.Join(names, ", ")
}

// bodyError keeps of a protojson error only its position, the rule and,
// for the rules that name one, the field's name.
func bodyError(err error) *requestError {
	const head = bodyHead
	m := protojsonError.FindStringSubmatch(err.Error())
	if m == nil {
		return &requestError{msg: head + ": malformed JSON"}
	}
	e := &requestError{}
	rule := "malformed JSON" // a syntax error, whose token may be a value
	if v := invalidValue.FindStringSubmatch(m[3]); v != nil {
		e.field, rule = v[2], "invalid value for the "+v[1]+" field"
	} else if v := namedField.FindStringSubmatch(m[3]); v != nil {
		e.field, rule = v[2], v[1]+" field"
	}
	e.msg = fmt.Sprintf("%s at line %s, column %s: %s", head, m[1], m[2], rule)
	if e.field != "" {
		e.msg += fmt.Sprintf(" %q", e.field)
	}
	e.rule = e.msg
	return e
}

// connectErrorOf is st as a connect error with the same code, message and
// details, which vanguard answers in the client's protocol.
func connectErrorOf(st *status.Status) *connect.Error {
	ce := connect.NewError(connect.Code(st.Code()), errors.New(st.Message()))
	for _, d := range st.Proto().GetDetails() {
		if detail, err := connect.NewErrorDetail(d); err == nil {
			ce.AddDetail(detail)
		}
	}
	return ce
}

// bodyRoute is a REST route that takes the whole request but its path's
// fields in its body (body "*" in its google.api.http rule).
type bodyRoute struct {
	template string                         // as in the rule
	path     *regexp.Regexp                 // the template, each {field} a group
	input    protoreflect.MessageDescriptor // the request message
	fields   []protoreflect.FieldDescriptor // the path's fields, in the groups' order
}

// pathVariable is a {field} of a path template, and the same once quoted
// by regexp.QuoteMeta.
var (
	pathVariable       = regexp.MustCompile(`\{([a-z_]+)\}`)
	quotedPathVariable = regexp.MustCompile(`\\\{[a-z_]+\\\}`)
)

// bodyRoutes are those routes, from the google.api.http rules of services.
func bodyRoutes(services ...string) ([]bodyRoute, error) {
	var routes []bodyRoute
	for _, name := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", name, err)
		}
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			return nil, fmt.Errorf("%s is not a service", name)
		}
		for i := range sd.Methods().Len() {
			method := sd.Methods().Get(i)
			rule, _ := proto.GetExtension(method.Options(), annotations.E_Http).(*annotations.HttpRule)
			template := rule.GetPost()
			if rule.GetBody() != "*" || template == "" {
				continue
			}
			if strings.ContainsAny(pathVariable.ReplaceAllString(template, ""), "{}") {
				return nil, fmt.Errorf("%s: path template %q: only {field} variables are supported", method.FullName(), template)
			}
			r := bodyRoute{
				template: template,
				path:     regexp.MustCompile("^" + quotedPathVariable.ReplaceAllString(regexp.QuoteMeta(template), "([^/]+)") + "$"),
				input:    method.Input(),
			}
			for _, m := range pathVariable.FindAllStringSubmatch(template, -1) {
				fd := method.Input().Fields().ByName(protoreflect.Name(m[1]))
				if fd == nil {
					return nil, fmt.Errorf("%s: path template %q: %s has no field %s", method.FullName(), template, method.Input().FullName(), m[1])
				}
				r.fields = append(r.fields, fd)
			}
			routes = append(routes, r)
		}
	}
	return routes, nil
}

// restBodyKey is the context key of a REST call's *restBody.
type restBodyKey struct{}

// restBody is a REST call's body and the request message it is the JSON
// of, kept by restBodies for restErrors, which explains a body that the
// gRPC server behind the door could not decode.
type restBody struct {
	data  []byte
	input protoreflect.MessageDescriptor
}

// restBodies reads the body of a REST call that has one (limitBody has
// held it to the size limit) and keeps it for restErrors; and it refuses
// a body that gives a field of its path again, with another value: vanguard
// would keep the path's and drop the body's without a word, and the caller
// would be answered about a country other than the one the body names. The
// same value, in any case (codes are read in either), passes.
func (s *Server) restBodies(routes []bodyRoute, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept, _ := r.Context().Value(restBodyKey{}).(*restBody)
		if r.Method != http.MethodPost || r.Body == nil || kept == nil {
			next.ServeHTTP(w, r)
			return
		}
		for _, route := range routes {
			m := route.path.FindStringSubmatch(r.URL.Path)
			if m == nil {
				continue
			}
			body, err := io.ReadAll(r.Body)
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				s.tooLarge(w, r)
				return
			}
			if err != nil {
				return // the client went away: nothing to answer
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			kept.data, kept.input = body, route.input
			if p := repeatedPathField(route, m[1:], body); p != nil {
				s.writeStatus(w, s.errs.status(r.Context(), p))
				return
			}
			break
		}
		next.ServeHTTP(w, r)
	})
}

// repeatedPathField is the error of a body that gives a field of route's
// path, whose values in the path are inPath, another value; nil if none.
func repeatedPathField(route bodyRoute, inPath []string, body []byte) *requestError {
	if !mentionsAny(body, route.fields) {
		return nil // the usual case, found without decoding the body
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		return nil // not an object: decoding it says what is wrong with it
	}
	for i, fd := range route.fields {
		if repeatsDifferently(fields, fd, inPath[i]) {
			name := fd.Name()
			return &requestError{
				field: string(name),
				rule:  fmt.Sprintf("differs from {%s} in the path %s; give it once, in the path", name, route.template),
				msg:   fmt.Sprintf("the body's %s differs from {%s} in the path %s: give it once, in the path", name, name, route.template),
			}
		}
	}
	return nil
}

// mentionsAny reports whether body holds the proto or JSON name of any of
// fields, which it must to repeat one.
func mentionsAny(body []byte, fields []protoreflect.FieldDescriptor) bool {
	for _, fd := range fields {
		if bytes.Contains(body, []byte(fd.Name())) || bytes.Contains(body, []byte(fd.JSONName())) {
			return true
		}
	}
	return false
}

// repeatsDifferently reports whether fields (a body's) give fd, under its
// proto or JSON name, a value other than inPath, escaped as in the URL.
func repeatsDifferently(fields map[string]json.RawMessage, fd protoreflect.FieldDescriptor, inPath string) bool {
	unescaped, err := url.PathUnescape(inPath)
	if err != nil {
		unescaped = inPath
	}
	for _, key := range []string{string(fd.Name()), fd.JSONName()} {
		raw, ok := fields[key]
		if !ok {
			continue
		}
		var value string
		if json.Unmarshal(raw, &value) != nil || !strings.EqualFold(value, unescaped) {
			return true
		}
	}
	return false
}
