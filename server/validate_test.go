package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// A request that breaks a rule declared in the protos (GetCountryRequest's
// country_code) is refused by the validate link with the same
// google.rpc.Status over gRPC and REST: INVALID_ARGUMENT, ErrorInfo, one
// BadRequest field violation per rule broken, and never the value sent.
func TestValidateLink(t *testing.T) {
	hs := startHTTP(t, serverConfig())
	const (
		required = "value is required"
		alpha2   = "must be an ISO 3166-1 alpha-2 code: two letters, such as MX"
	)
	tests := []struct {
		name, give, wantRule string
	}{
		{"nine letters", "MEXSECRET", alpha2},
		{"a digit", "M1", alpha2},
		{"letters that upper-case to ASCII", "ſv", alpha2},
		{"empty", "", required},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "country_code", Description: tt.wantRule}}}
			_, err := hs.catalog.GetCountry(context.Background(), &safethirdv1.GetCountryRequest{CountryCode: tt.give})
			st := wantStatus(t, err, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT")
			checkRuleStatus(t, "gRPC", st, tt.give, want)
			if tt.give == "" {
				return // no REST path has an empty segment
			}
			resp, b := hs.do(t, "GET", "/v1/countries/"+url.PathEscape(tt.give), nil)
			if resp.StatusCode != 400 {
				t.Fatalf("REST: HTTP %d, want 400: %s", resp.StatusCode, b)
			}
			rest := restStatus(t, resp, b)
			checkRuleStatus(t, "REST", rest, tt.give, want)
			if diff := cmp.Diff(st.Proto(), rest.Proto(), protocmp.Transform()); diff != "" {
				t.Errorf("REST and gRPC statuses differ (-gRPC +REST):\n%s", diff)
			}
		})
	}
	// A request that keeps the rules reaches the handler.
	if _, err := hs.catalog.GetCountry(context.Background(), &safethirdv1.GetCountryRequest{CountryCode: "mx"}); err != nil {
		t.Errorf("GetCountry(mx): %v", err)
	}
}

// checkRuleStatus checks the message and field violations of a status
// refused by the rules, and that it does not repeat the value sent.
func checkRuleStatus(t *testing.T, door string, st *status.Status, sent string, want *errdetails.BadRequest) {
	t.Helper()
	var got *errdetails.BadRequest
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			got = br
		}
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("%s: BadRequest (-want +got):\n%s", door, diff)
	}
	v := want.GetFieldViolations()[0]
	if msg := "invalid request: " + v.GetField() + ": " + v.GetDescription(); st.Message() != msg {
		t.Errorf("%s: message %q, want %q", door, st.Message(), msg)
	}
	if b, _ := proto.Marshal(st.Proto()); sent != "" && strings.Contains(string(b), sent) {
		t.Errorf("%s: the status repeats the value sent, %q", door, sent)
	}
}
