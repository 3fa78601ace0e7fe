package service

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"

	"github.com/safethird/safethird/server/rpcstatus"
)

// A page_token not issued for the listing is INVALID_ARGUMENT with its own
// reason and a field violation naming page_token, never the token itself.
func TestPageTokenError(t *testing.T) {
	for _, token := range []string{"not-base64!", "e30", pageToken{Listing: "agreements", After: "x"}.encode()} {
		_, err := parsePage("countries", 0, token)
		st := (rpcstatus.Mapper{Logger: zap.NewNop()}).Status(context.Background(), err)
		const wantMessage = "invalid request: page_token: was not issued by a previous call to this method with the same filters"
		if st.Code() != codes.InvalidArgument || st.Message() != wantMessage {
			t.Errorf("token %q: status = %s %q, want %s %q", token, st.Code(), st.Message(), codes.InvalidArgument, wantMessage)
		}
		if got := rpcstatus.ReasonOf(st); got != "ERROR_REASON_INVALID_PAGE_TOKEN" {
			t.Errorf("token %q: reason = %q, want ERROR_REASON_INVALID_PAGE_TOKEN", token, got)
		}
		var got []string
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok {
				for _, v := range br.GetFieldViolations() {
					got = append(got, v.GetField()+": "+v.GetDescription())
				}
			}
		}
		if diff := cmp.Diff([]string{"page_token: " + errPageToken.Rule}, got); diff != "" {
			t.Errorf("token %q: field violations (-want +got):\n%s", token, diff)
		}
	}
}
