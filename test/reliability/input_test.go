package reliability_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/safethird/safethird/client"
	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// rawCodec sends and receives pre-encoded bytes, so a test can put on the
// wire what the generated code would never encode (invalid UTF-8) or call
// a method by name with an empty message.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec marshals *[]byte, not %T", v)
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec unmarshals into *[]byte, not %T", v)
	}
	*b = append([]byte(nil), data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// invokeRaw calls method with body as the request's wire bytes.
func invokeRaw(ctx context.Context, conn *grpc.ClientConn, method string, body []byte) error {
	var resp []byte
	return conn.Invoke(ctx, method, &body, &resp, grpc.ForceCodec(rawCodec{}))
}

// stringField encodes one length-delimited field.
func stringField(num protowire.Number, v []byte) []byte {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

// badInput is one malformed request and the error it must get.
type badInput struct {
	name     string
	call     func(ctx context.Context, c *client.Client) error
	code     codes.Code
	reason   string // ErrorInfo reason; "" when grpc-go itself refuses
	field    string // a BadRequest field violation it must name
	inText   string // text the message must hold
	altCodes []codes.Code
}

// TestOversizedAndMalformedInput sends requests over the size limit, with
// invalid UTF-8, unknown enum numbers, too many route legs or batch items
// and dates out of range: each gets a clear error, and the server is
// unharmed, SERVING and answering, after each.
func TestOversizedAndMalformedInput(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	c := newClient(t, srv.addr, client.WithMaxAttempts(1))
	assess := func(req *pb.AssessCountryRequest) func(context.Context, *client.Client) error {
		return func(ctx context.Context, c *client.Client) error {
			_, err := c.Assessment().AssessCountry(ctx, req)
			return err
		}
	}
	route := func(req *pb.AssessRouteRequest) func(context.Context, *client.Client) error {
		return func(ctx context.Context, c *client.Client) error {
			_, err := c.Assessment().AssessRoute(ctx, req)
			return err
		}
	}
	raw := func(method string, body []byte) func(context.Context, *client.Client) error {
		return func(ctx context.Context, c *client.Client) error { return invokeRaw(ctx, c.Conn(), method, body) }
	}
	const (
		assessCountry = "/safethird.v1.AssessmentService/AssessCountry"
		assessRoute   = "/safethird.v1.AssessmentService/AssessRoute"
	)
	legs := make([]*pb.RouteLeg, 10_000)
	for i := range legs {
		legs[i] = &pb.RouteLeg{CountryCode: "MX"}
	}
	batch := &pb.BatchAssessCountriesRequest{}
	for range 101 {
		batch.Requests = append(batch.Requests, &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
	}
	badUTF8 := []byte("M\xff")
	applicantWithBadUTF8 := stringField(1, []byte("\xc3\x28")) // nationality_code
	tests := []badInput{
		{name: "message over 256 KiB", code: codes.ResourceExhausted, inText: "larger than max",
			call: assess(&pb.AssessCountryRequest{CountryCode: "MX", FrameworkId: strings.Repeat("x", 300<<10)})},
		{name: "invalid UTF-8 in country_code", code: codes.Internal, altCodes: []codes.Code{codes.InvalidArgument}, inText: "UTF-8",
			call: raw(assessCountry, stringField(1, badUTF8))},
		{name: "invalid UTF-8 in applicant.nationality_code", code: codes.Internal, altCodes: []codes.Code{codes.InvalidArgument}, inText: "UTF-8",
			call: raw(assessCountry, append(stringField(1, []byte("MX")), stringField(4, applicantWithBadUTF8)...))},
		{name: "invalid UTF-8 in a route leg", code: codes.Internal, altCodes: []codes.Code{codes.InvalidArgument}, inText: "UTF-8",
			call: raw(assessRoute, stringField(2, stringField(1, badUTF8)))},
		{name: "unknown view", code: codes.InvalidArgument, reason: "ERROR_REASON_INVALID_ARGUMENT", field: "view",
			call: assess(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01", View: pb.AssessmentView(99)})},
		{name: "unknown applicant group", code: codes.InvalidArgument, reason: "ERROR_REASON_INVALID_ARGUMENT", field: "applicant.groups[1]",
			call: assess(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01", Applicant: &pb.Applicant{
				Groups: []pb.ApplicantGroup{pb.ApplicantGroup_APPLICANT_GROUP_LGBTQI, pb.ApplicantGroup(77)}}})},
		{name: "unknown entry type", code: codes.InvalidArgument, reason: "ERROR_REASON_INVALID_ARGUMENT", field: "applicant.entry_type",
			call: assess(&pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: &pb.Applicant{EntryType: pb.EntryType(42).Enum()}})},
		{name: "unknown family relationship", code: codes.InvalidArgument, reason: "ERROR_REASON_INVALID_ARGUMENT", field: "applicant.family.members[0].relationship",
			call: assess(&pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: &pb.Applicant{Family: &pb.FamilyTies{
				Members: []*pb.FamilyMember{{Relationship: pb.Relationship(99), Status: pb.FamilyStatus_FAMILY_STATUS_CITIZEN}}}}})},
		{name: "unknown document kind", code: codes.InvalidArgument, reason: "ERROR_REASON_INVALID_ARGUMENT", field: "applicant.documents.kinds[0]",
			call: assess(&pb.AssessCountryRequest{CountryCode: "CA", AsOf: "2024-06-01", Applicant: &pb.Applicant{
				Documents: &pb.DocumentsHeld{Kinds: []pb.DocumentKind{pb.DocumentKind(-3)}}}})},
		{name: "10,000 route legs", code: codes.InvalidArgument, reason: "ERROR_REASON_TOO_MANY_ITEMS", field: "legs",
			call: route(&pb.AssessRouteRequest{Legs: legs, AsOf: "2019-01-01"})},
		{name: "101-item batch", code: codes.InvalidArgument, reason: "ERROR_REASON_TOO_MANY_ITEMS", field: "requests",
			call: func(ctx context.Context, c *client.Client) error {
				_, err := c.Assessment().BatchAssessCountries(ctx, batch)
				return err
			}},
	}
	for _, date := range []string{"1899-12-31", "2101-01-01", "0000-01-01", "9999-12-31", "2019-02-30", "2019-13-01", "2019-1-1", "20190101", "2019-01-01T00:00:00Z", " 2019-01-01"} {
		tests = append(tests, badInput{name: "as_of " + date, code: codes.InvalidArgument, reason: "ERROR_REASON_INVALID_ARGUMENT", field: "as_of",
			call: assess(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: date})})
	}
	tests = append(tests, badInput{name: "route as_of out of range", code: codes.InvalidArgument, reason: "ERROR_REASON_INVALID_ARGUMENT", field: "as_of",
		call: route(&pb.AssessRouteRequest{Legs: []*pb.RouteLeg{{CountryCode: "MX"}}, AsOf: "2200-01-01"})})

	var rows []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			err := tt.call(ctx, c)
			st, ok := status.FromError(err)
			if !ok || err == nil {
				t.Fatalf("got %v, want a status error", err)
			}
			if st.Code() != tt.code && !slices.Contains(tt.altCodes, st.Code()) {
				t.Errorf("code %v (%q), want %v", st.Code(), st.Message(), tt.code)
			}
			if st.Message() == "" || len(st.Message()) > 1024 {
				t.Errorf("message %q: want a short, clear one", st.Message())
			}
			if tt.inText != "" && !strings.Contains(st.Message(), tt.inText) {
				t.Errorf("message %q lacks %q", st.Message(), tt.inText)
			}
			reason, fields := details(st)
			if tt.reason != "" && reason != tt.reason {
				t.Errorf("reason %q, want %q", reason, tt.reason)
			}
			if tt.field != "" && !slices.Contains(fields, tt.field) {
				t.Errorf("field violations %v lack %q", fields, tt.field)
			}
			rows = append(rows, fmt.Sprintf("%s: %v %s %v", tt.name, st.Code(), reason, fields))
			// The server is unharmed: SERVING, and a good call answers.
			wantServing(t, c.Conn())
			if _, err := workItems()[0].call(ctx, c); err != nil {
				t.Errorf("a good call after it: %v", err)
			}
		})
	}
	if got := srv.goroutines(t); got > 30 {
		t.Errorf("%d server goroutines after the bad input", got)
	}
	figure(t, "%d malformed or oversized requests, each a clear error, server SERVING and answering after each:\n\t%s",
		len(rows), strings.Join(rows, "\n\t"))
	if d, err := srv.terminate(t, 30*time.Second); err != nil {
		t.Errorf("exit after %v: %v", d, err)
	}
}

// details returns a status's ErrorInfo reason and BadRequest fields.
func details(st *status.Status) (string, []string) {
	var reason string
	var fields []string
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			reason = d.GetReason()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return reason, fields
}
