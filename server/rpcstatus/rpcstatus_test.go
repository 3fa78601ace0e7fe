package rpcstatus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/safethird/safethird/assessment"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server/callinfo"
	"github.com/safethird/safethird/server/store"
)

// TestToStatus covers the mapping table, including the cases the API tests
// cannot reach: context errors, statuses passed through and unknown errors.
func TestToStatus(t *testing.T) {
	tests := []struct {
		name        string
		give        error
		wantCode    codes.Code
		wantReason  string
		wantMessage string
		wantLogged  bool
	}{
		{"invalid argument", &assessment.InvalidArgumentError{Violations: []assessment.FieldViolation{{Field: "as_of", Description: "must be a date"}}},
			codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "invalid request: as_of: must be a date", false},
		{"too many", &assessment.InvalidArgumentError{TooMany: true, Violations: []assessment.FieldViolation{{Field: "legs", Description: "too many"}}},
			codes.InvalidArgument, "ERROR_REASON_TOO_MANY_ITEMS", "invalid request: legs: too many", false},
		{"country not found", &assessment.NotFoundError{Kind: assessment.KindCountry, ID: "XX"}, codes.NotFound, "ERROR_REASON_COUNTRY_NOT_FOUND", `country "XX" not found`, false},
		{"agreement not found", &assessment.NotFoundError{Kind: assessment.KindAgreement, ID: "a"}, codes.NotFound, "ERROR_REASON_AGREEMENT_NOT_FOUND", `agreement "a" not found`, false},
		{"long id is cut", &assessment.NotFoundError{Kind: assessment.KindFramework, ID: strings.Repeat("f", 100)}, codes.NotFound, "ERROR_REASON_FRAMEWORK_NOT_FOUND",
			`framework "` + strings.Repeat("f", 64) + `..." not found`, false},
		{"unknown kind is a bug", &assessment.NotFoundError{Kind: "planet", ID: "x"}, codes.Internal, "ERROR_REASON_INTERNAL", "internal error", true},
		{"wrapped not found", fmt.Errorf("lookup: %w", &assessment.NotFoundError{Kind: assessment.KindCountry, ID: "XX"}), codes.NotFound, "ERROR_REASON_COUNTRY_NOT_FOUND", `country "XX" not found`, false},
		{"revision", &store.RevisionError{Current: "sha256:abc"}, codes.FailedPrecondition, "ERROR_REASON_DATASET_REVISION_MISMATCH",
			"dataset revision not held by this server; it serves sha256:abc", false},
		{"not loaded", store.ErrNotLoaded, codes.Unavailable, "ERROR_REASON_DATASET_NOT_LOADED", "no dataset is loaded yet; retry shortly", false},
		{"page size", &RequestError{Field: "page_size", Rule: "must be 0 to 1000", Msg: "invalid request: page_size: must be 0 to 1000"}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT",
			"invalid request: page_size: must be 0 to 1000", false},
		{"no token", ErrNoToken, codes.Unauthenticated, "ERROR_REASON_UNAUTHENTICATED", ErrNoToken.Error(), false},
		{"bad token", ErrBadToken, codes.Unauthenticated, "ERROR_REASON_UNAUTHENTICATED", "invalid bearer token", false},
		{"canceled", context.Canceled, codes.Canceled, "", context.Canceled.Error(), false},
		{"deadline, wrapped", fmt.Errorf("batch: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "", "batch: " + context.DeadlineExceeded.Error(), false},
		{"status passes through", status.Error(codes.ResourceExhausted, "too big"), codes.ResourceExhausted, "", "too big", false},
		{"anything else", errors.New("disk on fire at /secret/path"), codes.Internal, "ERROR_REASON_INTERNAL", "internal error", true},
		{"body too large", &TooLargeError{Limit: 256 << 10}, codes.ResourceExhausted, "ERROR_REASON_MESSAGE_TOO_LARGE", "request body larger than the limit of 262144 bytes", false},
		{"bad HTTP request", &RequestError{Field: "as_off", Rule: "unknown field", Msg: "unknown field"}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "unknown field", false},
		{"no such record", RecordNotFound(safethirdv1.ErrorReason_ERROR_REASON_AGREEMENT_NOT_FOUND, "agreement", strings.Repeat("a", 100)), codes.NotFound,
			"ERROR_REASON_AGREEMENT_NOT_FOUND", `agreement "` + strings.Repeat("a", 64) + `..." not found`, false},
		{"no such REST path", &RequestError{NotFound: true, Msg: "no path"}, codes.NotFound, "ERROR_REASON_INVALID_ARGUMENT", "no path", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			m := Mapper{Logger: zap.New(core)}
			ctx := callinfo.With(context.Background(), &callinfo.Info{RequestID: "rid"})
			st := status.Convert(m.Err(ctx, tt.give))
			if st.Code() != tt.wantCode || st.Message() != tt.wantMessage {
				t.Errorf("status = %s %q, want %s %q", st.Code(), st.Message(), tt.wantCode, tt.wantMessage)
			}
			if got := ReasonOf(st); got != tt.wantReason {
				t.Errorf("reason = %q, want %q", got, tt.wantReason)
			}
			logged := logs.FilterMessage("internal error").All()
			if tt.wantLogged != (len(logged) == 1) || len(logged) > 1 {
				t.Fatalf("%d internal error lines, want logged=%v", len(logged), tt.wantLogged)
			}
			if tt.wantLogged {
				if diff := cmp.Diff(map[string]any{"request_id": "rid", "error": tt.give.Error()}, logged[0].ContextMap()); diff != "" {
					t.Errorf("log fields (-want +got):\n%s", diff)
				}
			}
		})
	}
	if m := (Mapper{Logger: zap.NewNop()}); m.Err(context.Background(), nil) != nil {
		t.Error("Err(nil) is not nil")
	}
}

// TestViolations covers the BadRequest field violations of each kind of bad
// input: the engine's, the protos' rules and the server's own; the message
// lists them, and neither repeats the value found in a field.
func TestViolations(t *testing.T) {
	const secret = "secret-fact"
	path := func(names ...string) *validate.FieldPath {
		p := &validate.FieldPath{}
		for _, n := range names {
			p.Elements = append(p.Elements, &validate.FieldPathElement{FieldName: proto.String(n)})
		}
		return p
	}
	tests := []struct {
		name        string
		give        error
		wantMessage string
		want        []string // "field: description"
	}{
		{"engine", &assessment.InvalidArgumentError{Violations: []assessment.FieldViolation{{Field: "as_of", Description: "must be a date"}, {Field: "applicant.age", Description: "must be 0 to 150"}}},
			"invalid request: as_of: must be a date; applicant.age: must be 0 to 150", []string{"as_of: must be a date", "applicant.age: must be 0 to 150"}},
		{"rules", &protovalidate.ValidationError{Violations: []*protovalidate.Violation{
			{Proto: &validate.Violation{Field: path("applicant", "nationality_code"), RuleId: proto.String("country_code.alpha2"), Message: proto.String("must be two letters")},
				FieldValue: protoreflect.ValueOfString(secret)},
			{Proto: &validate.Violation{Field: path("as_of"), RuleId: proto.String("as_of.date")}, FieldValue: protoreflect.ValueOfString(secret)},
		}}, "invalid request: applicant.nationality_code: must be two letters; as_of: breaks the rule as_of.date",
			[]string{"applicant.nationality_code: must be two letters", "as_of: breaks the rule as_of.date"}},
		{"the server's own", &RequestError{Field: "page_size", Rule: "must be 0 to 1000", Msg: "invalid request: page_size: must be 0 to 1000"}, "invalid request: page_size: must be 0 to 1000", []string{"page_size: must be 0 to 1000"}},
		{"a REST path", &RequestError{NotFound: true, Msg: "no REST path"}, "no REST path", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := (Mapper{Logger: zap.NewNop()}).Status(context.Background(), tt.give)
			if st.Message() != tt.wantMessage {
				t.Errorf("message %q, want %q", st.Message(), tt.wantMessage)
			}
			var got []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.GetFieldViolations() {
						got = append(got, v.GetField()+": "+v.GetDescription())
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("field violations (-want +got):\n%s", diff)
			}
			if b, _ := protojson.Marshal(st.Proto()); strings.Contains(string(b), secret) {
				t.Errorf("the status repeats a field's value: %s", b)
			}
		})
	}
}

// TestHTTPStatus covers every code, including those the API never raises
// today, and the two places the door is more exact than the standard table.
func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		give *status.Status
		want int
	}{
		{status.New(codes.OK, ""), 200},
		{status.New(codes.Canceled, ""), 499},
		{status.New(codes.Unknown, ""), 500},
		{status.New(codes.InvalidArgument, ""), 400},
		{status.New(codes.DeadlineExceeded, ""), 504},
		{status.New(codes.NotFound, ""), 404},
		{status.New(codes.AlreadyExists, ""), 409},
		{status.New(codes.PermissionDenied, ""), 403},
		{status.New(codes.ResourceExhausted, "too many calls"), 429},
		{newStatus(codes.ResourceExhausted, safethirdv1.ErrorReason_ERROR_REASON_MESSAGE_TOO_LARGE, "too big", nil, nil), 413},
		{status.New(codes.FailedPrecondition, ""), 412},
		{status.New(codes.Aborted, ""), 409},
		{status.New(codes.OutOfRange, ""), 400},
		{status.New(codes.Unimplemented, ""), 501},
		{status.New(codes.Internal, ""), 500},
		{status.New(codes.Unavailable, ""), 503},
		{status.New(codes.DataLoss, ""), 500},
		{status.New(codes.Unauthenticated, ""), 401},
	}
	for _, tt := range tests {
		if got := HTTPStatus(tt.give); got != tt.want {
			t.Errorf("HTTPStatus(%s) = %d, want %d", tt.give.Code(), got, tt.want)
		}
	}
}
