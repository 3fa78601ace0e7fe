package assessment

import (
	"context"
	"errors"
	"slices"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// The list limits, read from the protos' field rules, which state them.
var (
	MaxBatchItems = maxItems((&safethirdv1.BatchAssessCountriesRequest{}).ProtoReflect().Descriptor(), "requests")
	MaxRouteLegs  = maxItems((&safethirdv1.AssessRouteRequest{}).ProtoReflect().Descriptor(), "legs")
)

func maxItems(m protoreflect.MessageDescriptor, field protoreflect.Name) int {
	rules, _ := proto.GetExtension(m.Fields().ByName(field).Options(), validate.E_Field).(*validate.FieldRules)
	return int(rules.GetRepeated().GetMaxItems())
}

// checkRules checks a request against the field rules in the protos
// (protovalidate): the shapes, ranges and enums a request must have before
// the dataset is consulted. It returns the violations, and whether a list
// is over its limit; the error is for rules that do not compile, a bug the
// tests catch.
func checkRules(req proto.Message) (v violations, tooMany bool, err error) {
	err = protovalidate.Validate(req)
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return nil, false, err
	}
	for _, pv := range verr.Violations {
		v = append(v, FieldViolation{Field: protovalidate.FieldPathString(pv.Proto.GetField()), Description: pv.Proto.GetMessage()})
		tooMany = tooMany || pv.Proto.GetRuleId() == "repeated.max_items"
	}
	return v, tooMany, nil
}

// maxVerdictBytes bounds the requests an Engine keeps the verdict of, by
// their encoded size: a few thousand requests with an applicant.
const maxVerdictBytes = 512 << 10

// verdictKey is a request: its message type and its deterministic
// encoding, the same bytes for the same content, presence and unknown
// fields included.
type verdictKey struct {
	message protoreflect.FullName
	enc     string
}

// verdict is what checkRules found of a request.
type verdict struct {
	v       violations
	tooMany bool
	err     error
}

// checkRules is checkRules through the Engine's memo of verdicts. The
// rules are the protos', fixed when the binary is built, and read nothing
// but the request, so a request's verdict is the same every time it is
// asked; and protovalidate evaluates each rule's CEL for every call, about
// 15 µs a request on a busy server (the interpreter and the goroutine stack
// it grows), against well under one to encode the request and find it.
func (e *Engine) checkRules(ctx context.Context, req proto.Message) (violations, bool, error) {
	enc, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return checkRules(req) // protovalidate reports what is wrong with it
	}
	key := verdictKey{req.ProtoReflect().Descriptor().FullName(), string(enc)}
	r := e.verdicts.get(ctx, key, func() verdict {
		v, tooMany, err := checkRules(req)
		return verdict{v, tooMany, err}
	}, func(verdict) int { return len(key.enc) }, maxVerdictBytes)
	// The callers add to the violations: each gets its own.
	return slices.Clone(r.v), r.tooMany, r.err
}
