package codec

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/server/rpcstatus"
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
	errs rpcstatus.Mapper
}

// NewREST returns the HTTP door's JSON codec, resolving types with res and
// mapping a body that does not decode with errs.
func NewREST(res vanguard.TypeResolver, errs rpcstatus.Mapper) vanguard.Codec {
	return &restCodec{
		JSONCodec: vanguard.JSONCodec{
			MarshalOptions:   protojson.MarshalOptions{Resolver: res},
			UnmarshalOptions: protojson.UnmarshalOptions{Resolver: res},
		},
		errs: errs,
	}
}

func (c *restCodec) Unmarshal(data []byte, msg proto.Message) error {
	if err := c.decode(data, msg); err != nil {
		return ConnectError(c.errs.Status(context.Background(), err))
	}
	return nil
}

// decode decodes data into msg, or returns what is wrong with it: the
// problem bodyProblem finds, with its field's whole path, or else what
// protojson's error says.
func (c *restCodec) decode(data []byte, msg proto.Message) *rpcstatus.RequestError {
	if err := c.JSONCodec.Unmarshal(data, msg); err != nil {
		if p := bodyProblem(data, msg.ProtoReflect().Descriptor()); p != nil {
			return p
		}
		return bodyError(err)
	}
	return nil
}

func (c *restCodec) UnmarshalField(data []byte, msg proto.Message, field protoreflect.FieldDescriptor) error {
	if err := c.JSONCodec.UnmarshalField(data, msg, field); err != nil {
		found := fieldProblem(field, data, string(field.Name()))
		if found == nil {
			found = bodyError(err)
		}
		// No call context exists at this depth, and the mapper needs one
		// only to log errors it does not know.
		return ConnectError(c.errs.Status(context.Background(), found))
	}
	return nil
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

// wholeRequest names, in a field violation, the request as a whole: a body
// that does not parse at all names no field of its own.
const wholeRequest = "request"

// bodyError keeps of a protojson error only its position, the rule and,
// for the rules that name one, the field's name (else the request's).
func bodyError(err error) *rpcstatus.RequestError {
	const head = bodyHead
	m := protojsonError.FindStringSubmatch(err.Error())
	if m == nil {
		return &rpcstatus.RequestError{Field: wholeRequest, Rule: head + ": malformed JSON", Msg: head + ": malformed JSON"}
	}
	e := &rpcstatus.RequestError{Field: wholeRequest}
	rule := "malformed JSON" // a syntax error, whose token may be a value
	if v := invalidValue.FindStringSubmatch(m[3]); v != nil {
		e.Field, rule = v[2], "invalid value for the "+v[1]+" field"
	} else if v := namedField.FindStringSubmatch(m[3]); v != nil {
		e.Field, rule = v[2], v[1]+" field"
	}
	e.Msg = fmt.Sprintf("%s at line %s, column %s: %s", head, m[1], m[2], rule)
	if e.Field != wholeRequest {
		e.Msg += fmt.Sprintf(" %q", e.Field)
	}
	e.Rule = e.Msg
	return e
}

// ConnectError is st as a connect error with the same code, message and
// details, which vanguard answers in the client's protocol.
func ConnectError(st *status.Status) *connect.Error {
	ce := connect.NewError(connect.Code(st.Code()), errors.New(st.Message()))
	for _, d := range st.Proto().GetDetails() {
		if detail, err := connect.NewErrorDetail(d); err == nil {
			ce.AddDetail(detail)
		}
	}
	return ce
}
