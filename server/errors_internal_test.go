package server

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
		{"revision", &revisionError{current: "sha256:abc"}, codes.FailedPrecondition, "ERROR_REASON_DATASET_REVISION_MISMATCH",
			"dataset revision not held by this server; it serves sha256:abc", false},
		{"not loaded", errNotLoaded, codes.Unavailable, "ERROR_REASON_DATASET_NOT_LOADED", "no dataset is loaded yet; retry shortly", false},
		{"page token", errPageToken, codes.InvalidArgument, "ERROR_REASON_INVALID_PAGE_TOKEN",
			"invalid request: page_token: was not issued by a previous call to this method with the same filters", false},
		{"page size", &requestError{field: "page_size", rule: "must be 0 to 1000", msg: "invalid request: page_size: must be 0 to 1000"}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT",
			"invalid request: page_size: must be 0 to 1000", false},
		{"no token", errNoToken, codes.Unauthenticated, "ERROR_REASON_UNAUTHENTICATED", errNoToken.Error(), false},
		{"bad token", errBadToken, codes.Unauthenticated, "ERROR_REASON_UNAUTHENTICATED", "invalid bearer token", false},
		{"canceled", context.Canceled, codes.Canceled, "", context.Canceled.Error(), false},
		{"deadline, wrapped", fmt.Errorf("batch: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "", "batch: " + context.DeadlineExceeded.Error(), false},
		{"status passes through", status.Error(codes.ResourceExhausted, "too big"), codes.ResourceExhausted, "", "too big", false},
		{"anything else", errors.New("disk on fire at /secret/path"), codes.Internal, "ERROR_REASON_INTERNAL", "internal error", true},
		{"body too large", errTooLarge, codes.ResourceExhausted, "ERROR_REASON_MESSAGE_TOO_LARGE", errTooLarge.Error(), false},
		{"bad HTTP request", &requestError{field: "as_off", rule: "unknown field", msg: "unknown field"}, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT", "unknown field", false},
		{"no such record", recordNotFound(safethirdv1.ErrorReason_ERROR_REASON_AGREEMENT_NOT_FOUND, "agreement", strings.Repeat("a", 100)), codes.NotFound,
			"ERROR_REASON_AGREEMENT_NOT_FOUND", `agreement "` + strings.Repeat("a", 64) + `..." not found`, false},
		{"no such REST path", &requestError{notFound: true, msg: "no path"}, codes.NotFound, "ERROR_REASON_INVALID_ARGUMENT", "no path", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			m := errorMapper{logger: zap.New(core)}
			ctx := withCallInfo(context.Background(), &callInfo{requestID: "rid"})
			st := status.Convert(m.toStatus(ctx, tt.give))
			if st.Code() != tt.wantCode || st.Message() != tt.wantMessage {
				t.Errorf("status = %s %q, want %s %q", st.Code(), st.Message(), tt.wantCode, tt.wantMessage)
			}
			if got := reasonOf(st); got != tt.wantReason {
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
	if m := (errorMapper{logger: zap.NewNop()}); m.toStatus(context.Background(), nil) != nil {
		t.Error("toStatus(nil) is not nil")
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
		{"the server's own", &requestError{field: "page_size", rule: "must be 0 to 1000", msg: "invalid request: page_size: must be 0 to 1000"}, "invalid request: page_size: must be 0 to 1000", []string{"page_size: must be 0 to 1000"}},
		{"page token", errPageToken, errPageToken.msg, []string{"page_token: " + errPageToken.rule}},
		{"a REST path", &requestError{notFound: true, msg: "no REST path"}, "no REST path", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := (errorMapper{logger: zap.NewNop()}).status(context.Background(), tt.give)
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

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		give string
		want bool
	}{
		{"", false},
		{"a", true},
		{"with space and /:=", true},
		{strings.Repeat("x", 128), true},
		{strings.Repeat("x", 129), false},
		{"tab\there", false},
		{"del\x7f", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := validRequestID(tt.give); got != tt.want {
			t.Errorf("validRequestID(%q) = %v, want %v", tt.give, got, tt.want)
		}
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
		if got := httpStatus(tt.give); got != tt.want {
			t.Errorf("httpStatus(%s) = %d, want %d", tt.give.Code(), got, tt.want)
		}
	}
}

// A protojson error keeps its position, rule and field name, never the
// value the caller sent.
func TestBodyError(t *testing.T) {
	tests := []struct {
		give      string
		wantField string
		wantMsg   string
	}{
		{`{"as_off":"2019-01-01"}`, "as_off", `request body is not the JSON of the request message at line 1, column 2: unknown field "as_off"`},
		{`{"applicant":{"age":"sixteen"}}`, "age", `request body is not the JSON of the request message at line 1, column 21: invalid value for the int32 field "age"`},
		{`{"view":"SECRET_VALUE"}`, "view", `request body is not the JSON of the request message at line 1, column 9: invalid value for the enum field "view"`},
		{`{"as_of":"a","as_of":"b"}`, "as_of", `request body is not the JSON of the request message at line 1, column 14: duplicate field "as_of"`},
		{`{"as_of": secret}`, "", `request body is not the JSON of the request message at line 1, column 11: malformed JSON`},
	}
	for _, tt := range tests {
		err := protojson.Unmarshal([]byte(tt.give), &safethirdv1.AssessCountryRequest{})
		if err == nil {
			t.Fatalf("%s decoded", tt.give)
		}
		got := bodyError(err)
		if got.field != tt.wantField || got.msg != tt.wantMsg {
			t.Errorf("bodyError(%s) = %q, %q; want %q, %q", tt.give, got.field, got.msg, tt.wantField, tt.wantMsg)
		}
		for _, secret := range []string{"sixteen", "SECRET", "secret", "2019"} {
			if strings.Contains(got.msg, secret) {
				t.Errorf("bodyError(%s) repeats the value: %q", tt.give, got.msg)
			}
		}
	}
}

// A body that does not decode is named by the whole path of its first
// field at fault, with the shape that field takes or the names it accepts,
// and never the value sent.
func TestBodyProblem(t *testing.T) {
	tests := []struct {
		give, wantField, wantRule string
	}{
		{`{"applicant":{"countries_crossed":["SECRET"]}}`, "applicant.countries_crossed",
			`must be a JSON object: safethird.v1.CountryList, {"country_codes": [...]}`},
		{`{"view":"SECRET"}`, "view", "must be one of ASSESSMENT_VIEW_UNSPECIFIED, ASSESSMENT_VIEW_BASIC, ASSESSMENT_VIEW_FULL"},
		{`{"applicant":{"family":{"members":[{"relationship":"RELATIONSHIP_SPOUSE"},{"relationship":"SECRET"}]}}}`,
			"applicant.family.members[1].relationship", "must be one of RELATIONSHIP_UNSPECIFIED, RELATIONSHIP_SPOUSE"},
		{`{"applicant":{"age":"sixteen"}}`, "applicant.age", "must be a whole number (int32)"},
		{`{"applicant":{"age":99999999999}}`, "applicant.age", "must be a whole number (int32)"},
		{`{"asOf":2019}`, "as_of", "must be a JSON string"},
		{`{"applicant":{"groups":"SECRET"}}`, "applicant.groups", "must be a JSON array of names from APPLICANT_GROUP_UNSPECIFIED"},
		{`{"applicant":{"documents":{"kinds":[1,"SECRET"]}}}`, "applicant.documents.kinds[1]", "must be one of DOCUMENT_KIND_UNSPECIFIED"},
		{`{"applicant":{"as_off":1}}`, "applicant.as_off", "unknown field: safethird.v1.Applicant has the fields nationality_code, "},
		{`{"as_of":"2019-01-01","asOf":"2019-01-02"}`, "as_of", "given twice"},
		{`{"applicant":true}`, "applicant", "must be a JSON object: safethird.v1.Applicant, {"},
	}
	md := (&safethirdv1.AssessCountryRequest{}).ProtoReflect().Descriptor()
	for _, tt := range tests {
		if err := protojson.Unmarshal([]byte(tt.give), &safethirdv1.AssessCountryRequest{}); err == nil {
			t.Fatalf("%s decoded", tt.give)
		}
		got := bodyProblem([]byte(tt.give), md)
		if got == nil {
			t.Errorf("bodyProblem(%s) = nil", tt.give)
			continue
		}
		if got.field != tt.wantField || !strings.HasPrefix(got.rule, tt.wantRule) {
			t.Errorf("bodyProblem(%s) = %q: %q; want %q: %q...", tt.give, got.field, got.rule, tt.wantField, tt.wantRule)
		}
		if want := bodyHead + ": " + got.field + ": " + got.rule; got.msg != want {
			t.Errorf("bodyProblem(%s) message %q, want %q", tt.give, got.msg, want)
		}
		for _, secret := range []string{"SECRET", "sixteen", "9999"} {
			if strings.Contains(got.msg, secret) {
				t.Errorf("bodyProblem(%s) repeats the value: %q", tt.give, got.msg)
			}
		}
	}
	// Malformed JSON is left to protojson's error, which has its position.
	if got := bodyProblem([]byte(`{"as_of": secret}`), md); got != nil {
		t.Errorf("bodyProblem of malformed JSON = %+v, want nil", got)
	}
}

// The REST routes with a body, and the fields of their paths that the body
// could repeat, come from the protos' google.api.http rules.
func TestBodyRoutes(t *testing.T) {
	routes, err := bodyRoutes(safethirdv1.AssessmentService_ServiceDesc.ServiceName, safethirdv1.CatalogService_ServiceDesc.ServiceName)
	if err != nil {
		t.Fatal(err)
	}
	var templates []string
	for _, r := range routes {
		templates = append(templates, r.template)
	}
	want := []string{"/v1/countries/{country_code}:assess", "/v1/countries:batchAssess", "/v1/routes:assess", "/v1/countries/{country_code}:timeline"}
	if !cmp.Equal(templates, want) || len(routes[0].fields) != 1 || len(routes[1].fields)+len(routes[2].fields) != 0 || len(routes[3].fields) != 1 {
		t.Fatalf("routes = %v, want %v, the first and last with a field in their paths", templates, want)
	}
	for path, want := range map[string]string{"/v1/countries/MX:assess": "MX", "/v1/countries/m%20x:assess": "m%20x", "/v1/countries/MX": "", "/v1/countries/a/b:assess": ""} {
		got := ""
		if m := routes[0].path.FindStringSubmatch(path); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("%s: country_code %q, want %q", path, got, want)
		}
	}
}
