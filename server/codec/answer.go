// Package codec holds the server's message codecs: gRPC's proto codec that
// sends an answer the engine memoized as the bytes it was encoded to once,
// the HTTP door's JSON (strict, with errors that name the field and rule),
// and the JSON codec of the gRPC server behind the door's REST paths. It
// reaches the stored encodings through an Encodings function it is handed;
// it must not resolve revisions or map errors other than a body's.
package codec

import (
	"cmp"
	"fmt"
	"slices"

	"connectrpc.com/vanguard"
	"google.golang.org/grpc/encoding"
	protocodec "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// Encodings returns the stored encoding of an answer that the Engine of its
// revision memoized, in the named format, made by encode the first time;
// false when there is none (an answer not memoized, a revision not held).
type Encodings func(a *safethirdv1.Assessment, format string, encode func(*safethirdv1.Assessment) ([]byte, error)) ([]byte, bool)

// Answer is gRPC's proto codec, except that an answer the engine
// memoized goes out as the bytes it was encoded to once: a response that
// holds one (AssessCountry's, a batch's items, a route's countries) is
// sent as the encoding of its other fields around those bytes, pieces of
// a mem.BufferSlice that are never copied or encoded again. The bytes are
// those proto.Marshal writes for the same response: fields in its order
// (wireOrder), unknown fields last, a message field as its tag, its length
// and its content.
type Answer struct {
	encoding.CodecV2 // gRPC's own proto codec, for everything else
	encodings        Encodings
	malformed        *Malformed
}

// assessmentName is the message whose encodings are stored.
var assessmentName = (&safethirdv1.Assessment{}).ProtoReflect().Descriptor().FullName()

// NewAnswer returns the proto codec that sends the stored encodings and
// leaves a request it cannot decode to malformed.
func NewAnswer(encodings Encodings, malformed *Malformed) Answer {
	return Answer{CodecV2: encoding.GetCodecV2(protocodec.Name), encodings: encodings, malformed: malformed}
}

// Unmarshal decodes a request; one that does not decode is left empty and
// its error to the chain (Malformed).
func (c Answer) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if m, ok := v.(proto.Message); ok && err != nil {
		c.malformed.note(m, protoError(err))
		return nil
	}
	return err
}

// encoded returns the stored proto encoding of a memoized answer.
func (c Answer) encoded(a *safethirdv1.Assessment) ([]byte, bool) {
	return c.encodings(a, protocodec.Name, func(a *safethirdv1.Assessment) ([]byte, error) { return proto.Marshal(a) })
}

// Numbers of the fields that hold an answer alone.
var (
	responseAnswerField = (&safethirdv1.AssessCountryResponse{}).ProtoReflect().Descriptor().Fields().ByName("assessment").Number()
	itemAnswerField     = (&safethirdv1.BatchAssessResult{}).ProtoReflect().Descriptor().Fields().ByName("assessment").Number()
)

// answerOnly returns the stored encoding of a memoized answer that m holds
// as its only field, and that field's number: AssessCountry's response,
// the one sent most, and each answered item of a batch. Such a message is
// only its field's tag and length before the stored bytes, written so
// without walking it.
func (c Answer) answerOnly(m proto.Message) (protowire.Number, []byte, bool) {
	var a *safethirdv1.Assessment
	var num protowire.Number
	switch r := m.(type) {
	case *safethirdv1.AssessCountryResponse:
		a, num = r.GetAssessment(), responseAnswerField
	case *safethirdv1.BatchAssessResult:
		a, num = r.GetAssessment(), itemAnswerField
	}
	if a == nil || !alone(m.ProtoReflect(), num) {
		return 0, nil, false
	}
	enc, ok := c.encoded(a)
	return num, enc, ok
}

// alone reports whether m holds no field but num, known or unknown.
func alone(m protoreflect.Message, num protowire.Number) bool {
	if len(m.GetUnknown()) > 0 {
		return false
	}
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		if fd := fields.Get(i); fd.Number() != num && m.Has(fd) {
			return false
		}
	}
	return true
}

// appendHead appends a message field's tag and length.
func appendHead(b []byte, num protowire.Number, n int) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.BytesType), uint64(n))
}

// sizeHead is the size of a message field's tag and length.
func sizeHead(num protowire.Number, n int) int {
	return protowire.SizeTag(num) + protowire.SizeVarint(uint64(n))
}

func (c Answer) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return c.CodecV2.Marshal(v)
	}
	if num, enc, ok := c.answerOnly(m); ok {
		return mem.BufferSlice{mem.SliceBuffer(appendHead(make([]byte, 0, 8), num, len(enc))), mem.SliceBuffer(enc)}, nil
	}
	if !c.holdsEncoded(m.ProtoReflect()) {
		return c.CodecV2.Marshal(v)
	}
	var out pieces
	if err := c.appendMessage(&out, m.ProtoReflect()); err != nil {
		return nil, err
	}
	return out.slice, nil
}

// Size is the length of m's encoding, Marshal's: for a message that holds
// memoized answers, counted from their stored encodings instead of
// walking them as proto.Size does (20 answers of a batch, each some
// thousands of fields).
func (c Answer) Size(m proto.Message) int {
	if num, enc, ok := c.answerOnly(m); ok {
		return sizeHead(num, len(enc)) + len(enc)
	}
	if !c.holdsEncoded(m.ProtoReflect()) {
		return proto.Size(m)
	}
	var out pieces
	if err := c.appendMessage(&out, m.ProtoReflect()); err != nil {
		return proto.Size(m) // Marshal fails on it too
	}
	return out.n
}

// holdsEncoded reports whether m is, or holds, an answer with a stored
// encoding; only the response messages that can hold one are walked.
func (c Answer) holdsEncoded(m protoreflect.Message) bool {
	if a, ok := m.Interface().(*safethirdv1.Assessment); ok {
		_, ok := c.encoded(a)
		return ok
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !mayHoldAnswer(fd) {
			return true
		}
		if fd.IsList() {
			for i := range v.List().Len() {
				if found = c.holdsEncoded(v.List().Get(i).Message()); found {
					break
				}
			}
		} else {
			found = c.holdsEncoded(v.Message())
		}
		return !found
	})
	return found
}

// mayHoldAnswer reports whether a field can hold an Assessment: is one, or
// one of the response messages around one.
func mayHoldAnswer(fd protoreflect.FieldDescriptor) bool {
	if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
		return false
	}
	switch fd.Message().FullName() {
	case assessmentName, batchResultName:
		return true
	}
	return false
}

var batchResultName = (&safethirdv1.BatchAssessResult{}).ProtoReflect().Descriptor().FullName()

// wireOrder is the order proto.Marshal writes a message's fields in:
// extensions first, then the fields outside any oneof, then each oneof's
// (a oneof's fields last, as protobuf-go keeps golang/protobuf's historic
// output), each group by number.
func wireOrder(a, b protoreflect.FieldDescriptor) int {
	group := func(fd protoreflect.FieldDescriptor) int {
		switch od := fd.ContainingOneof(); {
		case fd.IsExtension():
			return -1
		case od == nil || od.IsSynthetic():
			return 0
		default:
			return 1 + od.Index()
		}
	}
	return cmp.Or(cmp.Compare(group(a), group(b)), cmp.Compare(a.Number(), b.Number()))
}

// pieces is an encoding being assembled, and its length.
type pieces struct {
	slice mem.BufferSlice
	n     int
}

func (p *pieces) add(b []byte) {
	if len(b) > 0 {
		p.slice = append(p.slice, mem.SliceBuffer(b))
		p.n += len(b)
	}
}

// appendMessage appends m's encoding: an answer with a stored encoding as
// those bytes, the fields that may hold one piece by piece, every other
// field marshaled on its own.
func (c Answer) appendMessage(out *pieces, m protoreflect.Message) error {
	if a, ok := m.Interface().(*safethirdv1.Assessment); ok {
		if enc, ok := c.encoded(a); ok {
			out.add(enc)
			return nil
		}
		enc, err := proto.Marshal(a)
		out.add(enc)
		return err
	}
	var fields []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		fields = append(fields, fd)
		return true
	})
	slices.SortFunc(fields, wireOrder)
	for _, fd := range fields {
		v := m.Get(fd)
		if !mayHoldAnswer(fd) {
			one := m.New()
			one.Set(fd, v)
			b, err := proto.Marshal(one.Interface())
			if err != nil {
				return err
			}
			out.add(b)
			continue
		}
		if !fd.IsList() {
			if err := c.appendField(out, fd, v.Message()); err != nil {
				return err
			}
			continue
		}
		for i := range v.List().Len() {
			if err := c.appendField(out, fd, v.List().Get(i).Message()); err != nil {
				return err
			}
		}
	}
	out.add(m.GetUnknown())
	return nil
}

// appendField appends one message field: its tag, its length, its content.
func (c Answer) appendField(out *pieces, fd protoreflect.FieldDescriptor, m protoreflect.Message) error {
	if num, enc, ok := c.answerOnly(m.Interface()); ok {
		content := sizeHead(num, len(enc)) + len(enc)
		out.add(appendHead(appendHead(make([]byte, 0, 16), fd.Number(), content), num, len(enc)))
		out.add(enc)
		return nil
	}
	var content pieces
	if err := c.appendMessage(&content, m); err != nil {
		return err
	}
	head := protowire.AppendTag(nil, fd.Number(), protowire.BytesType)
	out.add(protowire.AppendVarint(head, uint64(content.n)))
	out.slice = append(out.slice, content.slice...)
	out.n += content.n
	return nil
}

// JSONAnswer is the codec of the gRPC server behind the HTTP door's REST
// paths: the door's own JSON (NewREST), so that vanguard, which
// speaks the same JSON to the client, passes the answer through as it
// comes, without decoding it from proto and encoding it as JSON for each
// call. A memoized answer to AssessCountry goes out as the JSON encoded
// once of its whole response (protojson's spacing around the answer is
// its own to choose, so the answer's JSON alone could not be framed).
type JSONAnswer struct {
	rest      vanguard.Codec
	encodings Encodings
	malformed *Malformed
}

// NewJSONAnswer returns the JSON codec that speaks rest, sends the stored
// JSON of an answer's response and leaves a request it cannot decode to
// malformed.
func NewJSONAnswer(rest vanguard.Codec, encodings Encodings, malformed *Malformed) JSONAnswer {
	return JSONAnswer{rest: rest, encodings: encodings, malformed: malformed}
}

// jsonResponseFormat names the stored encoding: an AssessCountryResponse
// around the answer, as JSON.
const jsonResponseFormat = "json AssessCountryResponse"

func (c JSONAnswer) Name() string { return c.rest.Name() }

func (c JSONAnswer) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("json: marshal %T, want a proto.Message", v)
	}
	switch r := m.(type) {
	case *safethirdv1.AssessCountryResponse:
		if len(r.ProtoReflect().GetUnknown()) == 0 && r.GetAssessment() != nil {
			if b, ok := c.encodings(r.GetAssessment(), jsonResponseFormat, c.responseJSON); ok {
				return mem.BufferSlice{mem.SliceBuffer(b)}, nil
			}
		}
	case *safethirdv1.BatchAssessCountriesResponse:
		if len(r.GetResults()) > 0 && alone(r.ProtoReflect(), batchResultsField.Number()) {
			return c.batchJSON(r)
		}
	}
	b, err := c.rest.MarshalAppend(nil, m)
	return mem.BufferSlice{mem.SliceBuffer(b)}, err
}

// batchJSON is the JSON of a batch's response, the list of its items
// framed around them: an item that holds only a memoized answer is the
// same JSON as AssessCountry's response around it ({"assessment": ...}),
// sent as those stored bytes; any other item is encoded on its own. A
// batch of 100 answers is then not encoded afresh on every call (1.8 MB
// of JSON, and as much again of a buffer grown to hold it), and holds no
// copy of its answers while its client reads it.
func (c JSONAnswer) batchJSON(r *safethirdv1.BatchAssessCountriesResponse) (mem.BufferSlice, error) {
	var out pieces
	out.add([]byte(`{"` + batchResultsField.JSONName() + `":[`))
	for i, item := range r.GetResults() {
		if i > 0 {
			out.add(jsonComma)
		}
		if a := item.GetAssessment(); a != nil && alone(item.ProtoReflect(), itemAnswerField) {
			if b, ok := c.encodings(a, jsonResponseFormat, c.responseJSON); ok {
				out.add(b)
				continue
			}
		}
		b, err := c.rest.MarshalAppend(nil, item)
		if err != nil {
			return nil, err
		}
		out.add(b)
	}
	out.add([]byte(`]}`))
	return out.slice, nil
}

// batchResultsField is a batch response's list of items, framed by
// batchJSON when it is the only field set. A BatchAssessResult that holds
// only an answer has the JSON of an AssessCountryResponse because their
// answer fields have one name (TestBatchItemIsResponseJSON).
var batchResultsField = (&safethirdv1.BatchAssessCountriesResponse{}).ProtoReflect().Descriptor().Fields().ByName("results")

var jsonComma = []byte(",")

// responseJSON is the JSON of the AssessCountryResponse that holds a, and
// only a.
func (c JSONAnswer) responseJSON(a *safethirdv1.Assessment) ([]byte, error) {
	return c.rest.MarshalAppend(nil, &safethirdv1.AssessCountryResponse{Assessment: a})
}

func (c JSONAnswer) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("json: unmarshal into %T, want a proto.Message", v)
	}
	if rc, ok := c.rest.(*restCodec); ok {
		if err := rc.decode(data.Materialize(), m); err != nil {
			c.malformed.note(m, err)
		}
		return nil
	}
	return c.rest.Unmarshal(data.Materialize(), m)
}
