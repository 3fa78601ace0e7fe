package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// rawCodec sends pre-encoded bytes, for what generated code never sends.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }

func (rawCodec) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// Regression: calls grpc-go refuses before the interceptors (a request
// over the limit, an unknown method) were neither logged nor counted. Each
// now has its "call" line, marked refused_by grpc, and is counted by code,
// with or without a token.
func TestCallsRefusedBeforeTheChainAreAccounted(t *testing.T) {
	cfg := serverConfig()
	cfg.AuthTokens, cfg.AllowPlaintextTokens = []string{"accounting-test-token"}, true
	ts := startServer(t, cfg)
	ts.logs.TakeAll()
	tests := []struct {
		name, method string
		body         []byte
		code         codes.Code
		label        []string // grpc_service, grpc_method of the metric
	}{
		{"oversized", "/safethird.v1.AssessmentService/AssessRoute", make([]byte, 300<<10), codes.ResourceExhausted,
			[]string{"safethird.v1.AssessmentService", "AssessRoute"}},
		{"unknown method", "/safethird.v1.AssessmentService/" + strings.Repeat("X", 500), nil, codes.Unimplemented,
			[]string{"unknown", "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.logs.TakeAll()
			before := metricValue(t, ts.reg, "grpc_server_handled_total", map[string]string{
				"grpc_service": tt.label[0], "grpc_method": tt.label[1], "grpc_code": tt.code.String()})
			var resp []byte
			err := ts.conn.Invoke(context.Background(), tt.method, &tt.body, &resp, grpc.ForceCodec(rawCodec{}))
			if got := status.Code(err); got != tt.code {
				t.Fatalf("code %s (%v), want %s", got, err, tt.code)
			}
			waitFor(t, "the call line", func() bool { return ts.logs.FilterMessage("call").Len() == 1 })
			line := ts.logs.FilterMessage("call").All()[0].ContextMap()
			if line["code"] != tt.code.String() || line["refused_by"] != "grpc" || line["request_id"] == "" {
				t.Errorf("call line %v; want code %s, refused_by grpc and a request id", line, tt.code)
			}
			if m := fmt.Sprint(line["method"]); len(m) > 131 || !strings.HasPrefix(tt.method, strings.TrimSuffix(m, "...")) {
				t.Errorf("logged method %q (%d bytes), want the method, cut at 128 bytes", m, len(m))
			}
			after := metricValue(t, ts.reg, "grpc_server_handled_total", map[string]string{
				"grpc_service": tt.label[0], "grpc_method": tt.label[1], "grpc_code": tt.code.String()})
			if after != before+1 {
				t.Errorf("grpc_server_handled_total %v -> %v, want one more", before, after)
			}
		})
	}
	// A call the chain sees is logged once, by the chain.
	ts.logs.TakeAll()
	_, err := ts.health.Check(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ts.logs.FilterMessage("call").All(); len(got) != 1 || got[0].ContextMap()["refused_by"] != nil {
		t.Errorf("a health check's call lines: %v; want one, not marked refused", got)
	}
}

// Bytes that do not decode as the request were INTERNAL without ErrorInfo,
// from grpc-go before any interceptor, so before auth. They reach the chain
// now: UNAUTHENTICATED without a token, and with one INVALID_ARGUMENT with
// ErrorInfo, logged and counted with their real code.
func TestMalformedMessagesAreInvalidArgument(t *testing.T) {
	const token = "accounting-test-token"
	cfg := serverConfig()
	cfg.AuthTokens, cfg.AllowPlaintextTokens = []string{token}, true
	ts := startServer(t, cfg)
	invalidUTF8 := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte{0xff, 0xfe})
	tests := []struct {
		name, method string
		body         []byte
	}{
		{"malformed bytes", "/safethird.v1.AssessmentService/AssessCountry", []byte{0x0a, 0xff, 0x01}},
		{"invalid UTF-8", "/safethird.v1.CatalogService/GetCountry", invalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				ctx    context.Context
				code   codes.Code
				reason string
			}{
				{context.Background(), codes.Unauthenticated, "ERROR_REASON_UNAUTHENTICATED"},
				{withToken(token), codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT"},
			} {
				ts.logs.TakeAll()
				var resp []byte
				err := ts.conn.Invoke(c.ctx, tt.method, &tt.body, &resp, grpc.ForceCodec(rawCodec{}))
				wantStatus(t, err, c.code, c.reason)
				waitFor(t, "the call line", func() bool { return ts.logs.FilterMessage("call").Len() == 1 })
				line := ts.logs.FilterMessage("call").All()[0].ContextMap()
				if line["code"] != c.code.String() || line["refused_by"] != nil {
					t.Errorf("call line %v; want code %s, from the chain", line, c.code)
				}
			}
		})
	}
}
