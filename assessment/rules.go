package assessment

import (
	"errors"

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
