package server_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server"
)

var mx = &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"}

func withToken(token string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
}

func TestAuth(t *testing.T) {
	cfg := serverConfig()
	cfg.AuthTokens = []string{"first-token", "second-token"}
	cfg.AllowPlaintextTokens = true // bufconn: nothing crosses a network
	ts := startServer(t, cfg)

	tests := []struct {
		name     string
		ctx      context.Context
		wantCode codes.Code
	}{
		{"no token", context.Background(), codes.Unauthenticated},
		{"wrong token", withToken("third-token"), codes.Unauthenticated},
		{"prefix of a token", withToken("first"), codes.Unauthenticated},
		{"not bearer", metadata.AppendToOutgoingContext(context.Background(), "authorization", "Basic Zmlyc3QtdG9rZW4="), codes.Unauthenticated},
		{"first token", withToken("first-token"), codes.OK},
		{"second token", withToken("second-token"), codes.OK},
		{"scheme in lower case", metadata.AppendToOutgoingContext(context.Background(), "authorization", "bearer second-token"), codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ts.assess.AssessCountry(tt.ctx, mx)
			if tt.wantCode == codes.OK {
				if err != nil {
					t.Fatalf("AssessCountry: %v", err)
				}
				return
			}
			wantStatus(t, err, tt.wantCode, "ERROR_REASON_UNAUTHENTICATED")
		})
	}

	t.Run("health needs no token", func(t *testing.T) {
		resp, err := ts.health.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("Check = %v, %v; want SERVING", resp, err)
		}
	})
	t.Run("streams need a token", func(t *testing.T) {
		if _, err := listServices(context.Background(), ts.conn); !isStatus(err, codes.Unauthenticated) {
			t.Fatalf("reflection without a token: %v, want Unauthenticated", err)
		}
		if _, err := listServices(withToken("first-token"), ts.conn); err != nil {
			t.Fatalf("reflection with a token: %v", err)
		}
	})
}

func TestAuthOff(t *testing.T) {
	ts := startServer(t, serverConfig())
	if _, err := ts.assess.AssessCountry(context.Background(), mx); err != nil {
		t.Fatalf("AssessCountry without a token: %v", err)
	}
	if _, err := ts.assess.AssessCountry(withToken("anything"), mx); err != nil {
		t.Fatalf("AssessCountry with an unneeded token: %v", err)
	}
}

// Tokens without TLS are refused unless explicitly allowed.
func TestNewRefusesPlaintextTokens(t *testing.T) {
	cfg := serverConfig()
	cfg.AuthTokens = []string{"a-token"}
	if _, err := server.New(cfg, nil); err == nil {
		t.Fatal("New accepted tokens without TLS")
	}
}

// listServices lists services over server reflection, a stream.
func listServices(ctx context.Context, conn *grpc.ClientConn) ([]string, error) {
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		return nil, err
	}
	// Send fails with io.EOF when the server has ended the stream; Recv
	// then gives the status.
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil && err != io.EOF {
		return nil, err
	}
	resp, err := stream.Recv()
	if err != nil {
		return nil, err
	}
	_ = stream.CloseSend()
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return names, nil
}

func TestReflection(t *testing.T) {
	on := startServer(t, serverConfig())
	got, err := listServices(context.Background(), on.conn)
	if err != nil {
		t.Fatalf("reflection: %v", err)
	}
	want := []string{"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "safethird.v1.AssessmentService", "safethird.v1.CatalogService"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	off := startServer(t, server.Config{Reflection: false})
	if _, err := listServices(context.Background(), off.conn); !isStatus(err, codes.Unimplemented) {
		t.Errorf("reflection off: %v, want Unimplemented", err)
	}
}

func TestRequestID(t *testing.T) {
	ts := startServer(t, serverConfig())
	random := regexp.MustCompile(`^[0-9a-f]{32}$`)
	tests := []struct {
		name string
		give []string // x-request-id values sent
		want func(string) bool
	}{
		{"kept", []string{"case-42/abc"}, func(id string) bool { return id == "case-42/abc" }},
		{"none sent", nil, random.MatchString},
		{"too long", []string{strings.Repeat("a", 129)}, random.MatchString},
		{"128 is fine", []string{strings.Repeat("b", 128)}, func(id string) bool { return id == strings.Repeat("b", 128) }},
		{"two sent", []string{"one", "two"}, random.MatchString},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			for _, v := range tt.give {
				ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", v)
			}
			var header, trailer metadata.MD
			// The id comes back on errors too, in the trailer.
			_, _ = ts.assess.AssessCountry(ctx, &safethirdv1.AssessCountryRequest{CountryCode: "M1"}, grpc.Header(&header), grpc.Trailer(&trailer))
			if got := header.Get("x-request-id"); len(got) != 0 {
				t.Errorf("a failed call has x-request-id %q in its header, which stops clients retrying it", got)
			}
			got := trailer.Get("x-request-id")
			if len(got) != 1 || !tt.want(got[0]) {
				t.Fatalf("x-request-id = %q", got)
			}
			// And in the header of a call that succeeds.
			if _, err := ts.assess.AssessCountry(ctx, mx, grpc.Header(&header)); err != nil {
				t.Fatalf("AssessCountry: %v", err)
			}
			if ok := header.Get("x-request-id"); len(ok) != 1 || !tt.want(ok[0]) {
				t.Fatalf("x-request-id of a call that succeeded = %q", ok)
			}
		})
	}
}

// Each call logs one line with method, code, duration, request id, peer
// and revision; no field carries a request or response body.
func TestLogging(t *testing.T) {
	ts := startServer(t, serverConfig())
	ts.logs.TakeAll()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-request-id", "log-test")
	req := &safethirdv1.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01",
		Applicant: &safethirdv1.Applicant{NationalityCode: ptr("SV"), Age: ptr[int32](41)}}
	if _, err := ts.assess.AssessCountry(ctx, req); err != nil {
		t.Fatalf("AssessCountry: %v", err)
	}
	_, _ = ts.assess.AssessCountry(ctx, &safethirdv1.AssessCountryRequest{CountryCode: "M1"})
	if _, err := ts.health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("Check: %v", err)
	}

	calls := ts.logs.FilterMessage("call").All()
	if len(calls) != 3 {
		t.Fatalf("%d call lines, want 3: %v", len(calls), calls)
	}
	rev := embedded(t).Revision()
	wantFields := []map[string]any{
		{"method": "/safethird.v1.AssessmentService/AssessCountry", "code": "OK", "request_id": "log-test", "peer": "bufconn", "dataset_revision": rev},
		{"method": "/safethird.v1.AssessmentService/AssessCountry", "code": "InvalidArgument", "reason": "ERROR_REASON_INVALID_ARGUMENT", "request_id": "log-test", "peer": "bufconn", "dataset_revision": rev},
		{"method": "/grpc.health.v1.Health/Check", "code": "OK", "request_id": "log-test", "peer": "bufconn"},
	}
	wantLevels := []string{"info", "info", "debug"}
	for i, c := range calls {
		got := c.ContextMap()
		if _, ok := got["duration"].(time.Duration); !ok {
			t.Errorf("line %d has no duration: %v", i, got)
		}
		delete(got, "duration")
		if diff := cmp.Diff(wantFields[i], got); diff != "" {
			t.Errorf("line %d fields (-want +got):\n%s", i, diff)
		}
		if c.Level.String() != wantLevels[i] {
			t.Errorf("line %d at %s, want %s", i, c.Level, wantLevels[i])
		}
	}
}

func TestPanicBecomesInternal(t *testing.T) {
	cfg := serverConfig()
	server.SetBeforeHandler(&cfg, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if info.FullMethod == safethirdv1.AssessmentService_AssessRoute_FullMethodName {
			panic("engine bug")
		}
		return handler(ctx, req)
	})
	ts := startServer(t, cfg)
	ts.logs.TakeAll()
	_, err := ts.assess.AssessRoute(context.Background(), &safethirdv1.AssessRouteRequest{Legs: []*safethirdv1.RouteLeg{{CountryCode: "MX"}}})
	st := wantStatus(t, err, codes.Internal, "ERROR_REASON_INTERNAL")
	if st.Message() != "internal error" {
		t.Errorf("message = %q, want the generic one", st.Message())
	}
	panics := ts.logs.FilterMessage("panic in call").All()
	if len(panics) != 1 {
		t.Fatalf("%d panic lines, want 1", len(panics))
	}
	fields := panics[0].ContextMap()
	if fields["panic"] != "engine bug" || !contains(fields["stack"].(string), "TestPanicBecomesInternal") {
		t.Errorf("panic line lacks the value or the stack: %v", fields)
	}
	// The server keeps serving, and the call line records INTERNAL.
	if _, err := ts.assess.AssessCountry(context.Background(), mx); err != nil {
		t.Fatalf("AssessCountry after a panic: %v", err)
	}
	if n := ts.logs.FilterMessage("call").FilterFieldKey("code").Filter(func(e observer.LoggedEntry) bool {
		return e.ContextMap()["code"] == "Internal"
	}).Len(); n != 1 {
		t.Errorf("%d INTERNAL call lines, want 1", n)
	}
	if got := metricValue(t, ts.reg, "grpc_server_handled_total", map[string]string{"grpc_method": "AssessRoute", "grpc_code": "Internal"}); got != 1 {
		t.Errorf("Internal AssessRoute counted %v times, want 1", got)
	}
}

func TestOversizeMessage(t *testing.T) {
	ts := startServer(t, serverConfig())
	big := &safethirdv1.AssessCountryRequest{CountryCode: "MX", FrameworkId: strings.Repeat("x", server.MaxRecvMsgSize)}
	_, err := ts.assess.AssessCountry(context.Background(), big)
	// grpc-go writes this status itself, before the stats handler, the
	// codec or any interceptor sees the call: nothing can add ErrorInfo
	// (ERROR_REASON_MESSAGE_TOO_LARGE) to it, as the HTTP door does.
	if st := wantStatus(t, err, codes.ResourceExhausted, ""); errorInfo(st) != nil {
		t.Errorf("grpc-go's over-size status now has ErrorInfo %v: say so in errors.proto and the README", errorInfo(st))
	}
	// Just under the limit is read, and fails on its content instead: no
	// framework id is that long.
	under := &safethirdv1.AssessCountryRequest{CountryCode: "MX", FrameworkId: strings.Repeat("x", server.MaxRecvMsgSize-64)}
	_, err = ts.assess.AssessCountry(context.Background(), under)
	st := wantStatus(t, err, codes.InvalidArgument, "ERROR_REASON_INVALID_ARGUMENT")
	if diff := cmp.Diff([]string{"framework_id"}, violationFields(st)); diff != "" {
		t.Errorf("field violations (-want +got):\n%s", diff)
	}
}

func TestDeadlineCap(t *testing.T) {
	cfg := serverConfig()
	cfg.MaxCallDuration = 50 * time.Millisecond
	server.SetBeforeHandler(&cfg, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if info.FullMethod == safethirdv1.CatalogService_ListFrameworks_FullMethodName {
			<-ctx.Done() // a call that takes as long as it is allowed
			return nil, ctx.Err()
		}
		return handler(ctx, req)
	})
	ts := startServer(t, cfg)
	start := time.Now()
	// The caller's own deadline is longer; the server's cap wins.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := ts.catalog.ListFrameworks(ctx, &safethirdv1.ListFrameworksRequest{})
	wantStatus(t, err, codes.DeadlineExceeded, "")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("call took %v; the cap is 50ms", d)
	}
}

func TestMetrics(t *testing.T) {
	cfg := serverConfig()
	cfg.MetricsAddr = "127.0.0.1:0"
	ts := startServer(t, cfg)
	rev := embedded(t).Revision()
	if _, err := ts.assess.AssessCountry(context.Background(), mx); err != nil {
		t.Fatalf("AssessCountry: %v", err)
	}
	_, _ = ts.catalog.GetCountry(context.Background(), &safethirdv1.GetCountryRequest{CountryCode: "XX"})

	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"grpc_server_handled_total", map[string]string{"grpc_service": "safethird.v1.AssessmentService", "grpc_method": "AssessCountry", "grpc_code": "OK"}, 1},
		{"grpc_server_handled_total", map[string]string{"grpc_method": "GetCountry", "grpc_code": "NotFound"}, 1},
		{"grpc_server_handling_seconds", map[string]string{"grpc_method": "AssessCountry", "grpc_code": "OK"}, 1},
		{"safethird_dataset_info", map[string]string{"revision": rev}, 1},
		{"safethird_dataset_loads_total", map[string]string{"result": "success"}, 1},
		{"safethird_dataset_loads_total", map[string]string{"result": "failure"}, 0},
		{"safethird_dataset_load_duration_seconds", nil, 1},
	} {
		if got := metricValue(t, ts.reg, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}

	// The same registry is served over HTTP at the address in the serving line.
	serving := ts.logs.FilterMessage("serving").All()
	if len(serving) != 1 {
		t.Fatalf("%d serving lines, want 1", len(serving))
	}
	addr, _ := serving[0].ContextMap()["metrics_addr"].(string)
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", resp.StatusCode, err)
	}
	for _, want := range []string{`grpc_server_handled_total{grpc_code="OK",grpc_method="AssessCountry",grpc_service="safethird.v1.AssessmentService"} 1`, `safethird_dataset_info{revision="` + rev + `"} 1`} {
		if !contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	http.DefaultClient.CloseIdleConnections()

	// The metrics server stops with the gRPC server.
	if err := ts.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		_ = resp.Body.Close()
		t.Error("metrics still served after shutdown")
	}
}

// TestChainOrder holds the interceptor chain to its order: the names of the
// links the server is built with, and for each link a call whose outcome
// depends on where it stands.
func TestChainOrder(t *testing.T) {
	cfg := serverConfig()
	cfg.AuthTokens, cfg.AllowPlaintextTokens = []string{"chain-order-token"}, true
	cfg.MaxCallDuration = time.Minute
	var reached atomic.Int32
	var deadline atomic.Int64 // how far away AssessCountry's deadline is, in the handler
	server.SetBeforeHandler(&cfg, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		reached.Add(1)
		switch info.FullMethod {
		case safethirdv1.CatalogService_ListFrameworks_FullMethodName:
			panic("chain-order panic")
		case safethirdv1.AssessmentService_AssessCountry_FullMethodName:
			if dl, ok := ctx.Deadline(); ok {
				deadline.Store(int64(time.Until(dl)))
			}
		}
		return handler(ctx, req)
	})
	ts := startServer(t, cfg)
	want := []string{"request-id", "accounting", "recovery", "auth", "decode", "validate", "responses", "deadline", "test-hook"}
	if diff := cmp.Diff(want, server.ChainNames(ts.srv)); diff != "" {
		t.Fatalf("chain, outermost first (-want +got):\n%s", diff)
	}

	// call makes one call with the request id "order" and returns its
	// status, the id in its trailer and its one "call" line.
	call := func(t *testing.T, ctx context.Context, invoke func(context.Context, ...grpc.CallOption) error) (codes.Code, string, map[string]any) {
		t.Helper()
		ts.logs.TakeAll()
		reached.Store(0)
		var trailer metadata.MD
		err := invoke(metadata.AppendToOutgoingContext(ctx, "x-request-id", "order"), grpc.Trailer(&trailer))
		lines := ts.logs.FilterMessage("call").All()
		if len(lines) != 1 {
			t.Fatalf("%d call lines, want 1", len(lines))
		}
		return status.Code(err), strings.Join(trailer.Get("x-request-id"), ","), lines[0].ContextMap()
	}
	listFrameworks := func(ctx context.Context, opts ...grpc.CallOption) error {
		_, err := ts.catalog.ListFrameworks(ctx, &safethirdv1.ListFrameworksRequest{}, opts...)
		return err
	}
	authed := withToken("chain-order-token")

	t.Run("request-id and accounting outside auth, auth before the handler", func(t *testing.T) {
		code, id, line := call(t, context.Background(), listFrameworks)
		if code != codes.Unauthenticated || id != "order" || line["code"] != "Unauthenticated" || line["request_id"] != "order" {
			t.Errorf("code %s, trailer id %q, call line %v; want Unauthenticated with the id, logged", code, id, line)
		}
		if n := reached.Load(); n != 0 {
			t.Errorf("the handler's side of the chain ran %d times for a call without a token", n)
		}
	})
	t.Run("request-id and accounting outside recovery", func(t *testing.T) {
		code, id, line := call(t, authed, listFrameworks)
		if code != codes.Internal || id != "order" || line["code"] != "Internal" || line["reason"] != "ERROR_REASON_INTERNAL" {
			t.Errorf("code %s, trailer id %q, call line %v; want the panic as Internal, with the id, logged as Internal", code, id, line)
		}
		panics := ts.logs.FilterMessage("panic in call").All()
		if len(panics) != 1 || panics[0].ContextMap()["request_id"] != "order" {
			t.Errorf("panic lines %v; want one with the request id", panics)
		}
	})
	t.Run("auth before validate, validate before the handler", func(t *testing.T) {
		badCountry := func(ctx context.Context, opts ...grpc.CallOption) error {
			_, err := ts.catalog.GetCountry(ctx, &safethirdv1.GetCountryRequest{CountryCode: "M1"}, opts...)
			return err
		}
		if code, _, _ := call(t, context.Background(), badCountry); code != codes.Unauthenticated {
			t.Errorf("an invalid request without a token: %s, want Unauthenticated", code)
		}
		code, id, line := call(t, authed, badCountry)
		if code != codes.InvalidArgument || id != "order" || line["reason"] != "ERROR_REASON_INVALID_ARGUMENT" {
			t.Errorf("an invalid request with a token: %s, trailer id %q, call line %v; want InvalidArgument with the id", code, id, line)
		}
		if n := reached.Load(); n != 0 {
			t.Errorf("the handler's side of the chain ran %d times for an invalid request", n)
		}
	})
	t.Run("health needs no token", func(t *testing.T) {
		code, _, line := call(t, context.Background(), func(ctx context.Context, opts ...grpc.CallOption) error {
			_, err := ts.health.Check(ctx, &healthpb.HealthCheckRequest{}, opts...)
			return err
		})
		if code != codes.OK || reached.Load() != 1 || line["code"] != "OK" {
			t.Errorf("health without a token: %s, reached the handler %d times; want OK, once", code, reached.Load())
		}
	})
	t.Run("deadline innermost", func(t *testing.T) {
		code, _, _ := call(t, authed, func(ctx context.Context, opts ...grpc.CallOption) error {
			_, err := ts.assess.AssessCountry(ctx, mx, opts...)
			return err
		})
		if code != codes.OK {
			t.Fatalf("AssessCountry: %s", code)
		}
		if d := time.Duration(deadline.Load()); d <= 0 || d > time.Minute {
			t.Errorf("the handler's deadline is %v away; want the cap, 1m, for a call that set none", d)
		}
	})
}
