package reliability_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/safethird/safethird/client"
)

// Finding 8: bytes that are not a valid request got INTERNAL, even without a
// token, and were neither logged nor counted; nor were oversized requests.
// Every call now has its log line and its count. A request that does not
// decode is refused by the chain, after auth, as the INVALID_ARGUMENT it
// is (issue 25: the codec leaves it to the chain); grpc-go still refuses
// an oversized request and an unknown method before any interceptor.
func TestEveryCallIsLoggedAndCounted(t *testing.T) {
	t.Parallel()
	keys := newPKI(t)
	srv := startServer(t, serverOptions{pki: keys, tokensFile: keys.tokensFile})
	// No token: these calls are refused before auth could refuse them.
	c := newClient(t, srv.addr, client.WithTLS(keys.CAFile), client.WithMaxAttempts(1))
	withToken := newClient(t, srv.addr, append(keys.clientOptions(), client.WithMaxAttempts(1))...)
	const (
		assessCountry = "/safethird.v1.AssessmentService/AssessCountry"
		getCountry    = "/safethird.v1.CatalogService/GetCountry"
	)
	calls := []struct {
		name, method string
		body         []byte
		conn         *client.Client
		code         codes.Code
	}{
		{"bytes that are not protobuf", assessCountry, []byte{0x0a, 0xff, 0xff, 0xff}, c, codes.Unauthenticated},
		{"invalid UTF-8", getCountry, stringField(1, []byte("M\xff")), c, codes.Unauthenticated},
		{"over 256 KiB", assessCountry, stringField(2, make([]byte, 300<<10)), c, codes.ResourceExhausted},
		{"unknown method", "/safethird.v1.AssessmentService/Nope", nil, c, codes.Unimplemented},
		{"with a token: not protobuf", assessCountry, []byte{0x0a, 0xff, 0xff, 0xff}, withToken, codes.InvalidArgument},
		{"with a token: invalid UTF-8", getCountry, stringField(1, []byte("M\xff")), withToken, codes.InvalidArgument},
		{"no token, well formed", assessCountry, stringField(1, []byte("MX")), c, codes.Unauthenticated},
		{"with a token, well formed", assessCountry, stringField(1, []byte("MX")), withToken, codes.OK},
	}
	before := srv.scrape(t)
	var rows []string
	for _, call := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		err := invokeRaw(ctx, call.conn.Conn(), call.method, call.body)
		cancel()
		if got := status.Code(err); got != call.code {
			t.Errorf("%s: code %v (%v), want %v", call.name, got, err, call.code)
		}
		rows = append(rows, fmt.Sprintf("%s: %v", call.name, status.Code(err)))
	}
	// Each call has its line; those grpc-go refused are marked so.
	var logged []map[string]any
	waitFor(t, "a log line for every call", 10*time.Second, func() bool {
		logged = nil
		for _, l := range srv.logLines("call") {
			if strings.HasPrefix(fmt.Sprint(l["method"]), "/safethird.v1.") {
				logged = append(logged, l)
			}
		}
		return len(logged) >= len(calls)
	})
	if len(logged) != len(calls) {
		t.Errorf("%d call lines for %d calls", len(logged), len(calls))
	}
	refusedByGRPC := 0
	for _, l := range logged {
		if l["refused_by"] == "grpc" {
			refusedByGRPC++
		}
	}
	if refusedByGRPC != 2 {
		t.Errorf("%d call lines marked refused_by grpc, want 2 (the oversized and unknown-method calls)", refusedByGRPC)
	}
	// And each is counted.
	after := srv.scrape(t)
	counted := metric(after, "grpc_server_handled_total") - metric(before, "grpc_server_handled_total")
	// Health checks by the clients are counted too; count only ours.
	counted -= metric(after, "grpc_server_handled_total", "grpc_service", "grpc.health.v1.Health") -
		metric(before, "grpc_server_handled_total", "grpc_service", "grpc.health.v1.Health")
	if int(counted) != len(calls) {
		t.Errorf("grpc_server_handled_total grew by %v for %d calls", counted, len(calls))
	}
	for _, want := range []string{"InvalidArgument", "ResourceExhausted", "Unimplemented"} {
		if metric(after, "grpc_server_handled_total", "grpc_code", want) == 0 {
			t.Errorf("no %s call counted", want)
		}
	}
	if n := metric(after, "grpc_server_handled_total", "grpc_code", "Internal"); n != 0 {
		t.Errorf("%v calls counted Internal, want none: a malformed request is the caller's error", n)
	}
	figure(t, "%d calls, %d logged (%d refused by grpc-go before the interceptors, marked refused_by=grpc), %v counted, 0 unlogged:\n\t%s",
		len(calls), len(logged), refusedByGRPC, counted, strings.Join(rows, "\n\t"))
}
