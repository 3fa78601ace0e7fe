package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// requestIDHeader carries the request id in and out.
const requestIDHeader = "x-request-id"

// maxRequestIDLen bounds a caller's request id; a longer one is replaced.
const maxRequestIDLen = 128

// link is one named link of the interceptor chain, for unary calls and
// streams; a link may leave one of them nil.
type link struct {
	name   string
	unary  grpc.UnaryServerInterceptor
	stream grpc.StreamServerInterceptor
}

// chain is the interceptor chain, outermost first. Recovery, auth and the
// accounting link's frame are go-grpc-middleware's; the rest is particular
// to this service, in the same shape.
//
//  1. request-id: first, so every later link, the log line and the error
//     log carry the id, and the caller gets it back even when refused.
//  2. accounting: the one log line and the metrics of each call, outside
//     everything that can fail, so it sees the final code of every call,
//     auth failures and panics included (accounting.go).
//  3. recovery: inside accounting, so a panic is logged and counted as
//     the INTERNAL it becomes; outside auth and the handler, so a panic in
//     either is caught.
//  4. auth: before any work is done for the caller; grpc.health.v1 needs
//     no token, since probes carry none.
//  5. validate: the field rules declared in the protos, once the caller
//     is known (validate.go), on every request but the AssessmentService's:
//     the engine checks those itself, so that each item of a batch fails
//     alone and Go callers of the engine get the same checks.
//  6. responses: counts each response for its connection, so the bytes
//     queued for clients that do not read stay bounded (conns.go).
//  7. deadline: caps only authenticated, valid calls, right around the
//     handler. Unary only: grpc-go gives an interceptor no way to end a
//     stream whose handler ignores its context (reflection's does), so
//     streams are bounded by the connection's maximum age and its grace.
//
// TestChainOrder holds the chain to this order.
func (s *Server) chain() []link {
	reporter := interceptors.CommonReportableFunc(s.reporter)
	recovered := recovery.WithRecoveryHandlerContext(s.recovered)
	tokens := selector.MatchFunc(needsToken)
	rules := selector.MatchFunc(rulesCheckedHere)
	links := []link{
		{"request-id", requestIDUnary, requestIDStream},
		{"accounting", interceptors.UnaryServerInterceptor(reporter), interceptors.StreamServerInterceptor(reporter)},
		{"recovery", recovery.UnaryServerInterceptor(recovered), recovery.StreamServerInterceptor(recovered)},
		{"auth", selector.UnaryServerInterceptor(auth.UnaryServerInterceptor(s.authenticate), tokens),
			selector.StreamServerInterceptor(auth.StreamServerInterceptor(s.authenticate), tokens)},
		{"validate", selector.UnaryServerInterceptor(s.validateUnary, rules), selector.StreamServerInterceptor(s.validateStream, rules)},
		{"responses", s.responsesUnary, s.responsesStream},
		{"deadline", s.deadlineUnary, nil},
	}
	if s.cfg.beforeHandler != nil {
		links = append(links, link{"test-hook", s.cfg.beforeHandler, nil})
	}
	return links
}

// chainOptions turns the chain into grpc.ServerOptions.
func (s *Server) chainOptions() []grpc.ServerOption {
	var unary []grpc.UnaryServerInterceptor
	var stream []grpc.StreamServerInterceptor
	var names []string
	for _, l := range s.chain() {
		names = append(names, l.name)
		if l.unary != nil {
			unary = append(unary, l.unary)
		}
		if l.stream != nil {
			stream = append(stream, l.stream)
		}
	}
	s.logger.Debug("interceptor chain", zap.Strings("outermost_first", names))
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...)}
}

// needsToken selects the calls auth checks: all but grpc.health.v1.
func needsToken(_ context.Context, c interceptors.CallMeta) bool {
	return c.Service != healthpb.Health_ServiceDesc.ServiceName
}

// rulesCheckedHere selects the calls whose field rules the validate link
// checks: all but the AssessmentService's, which the engine checks.
func rulesCheckedHere(_ context.Context, c interceptors.CallMeta) bool {
	return c.Service != safethirdv1.AssessmentService_ServiceDesc.ServiceName
}

// --- request id

// requestID returns the caller's x-request-id when it is 1 to 128
// printable ASCII characters, else a new random one.
func requestID(ctx context.Context) string {
	return pickRequestID(metadata.ValueFromIncomingContext(ctx, requestIDHeader))
}

// pickRequestID returns the one value given when it is a valid id, else a
// new random one. The HTTP door picks the id with it before transcoding, so
// the gRPC chain behind it keeps the same one.
func pickRequestID(values []string) string {
	if len(values) == 1 && validRequestID(values[0]) {
		return values[0]
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestIDUnary returns the id in the response header, or in the trailer
// when the call fails: a failed call must end with trailers only, because a
// gRPC client never retries a call once it has received headers, and the
// client retries UNAVAILABLE (e.g. a replica still loading its dataset).
func requestIDUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	id := requestID(ctx)
	ctx = recordRequestID(ctx, id)
	resp, err := handler(ctx, req)
	// Neither fails: headers are sent only after the chain returns.
	if err != nil {
		_ = grpc.SetTrailer(ctx, metadata.Pairs(requestIDHeader, id))
	} else {
		_ = grpc.SetHeader(ctx, metadata.Pairs(requestIDHeader, id))
	}
	return resp, err
}

func requestIDStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	id := requestID(ss.Context())
	_ = ss.SetHeader(metadata.Pairs(requestIDHeader, id))
	wrapped := middleware.WrapServerStream(ss)
	wrapped.WrappedContext = recordRequestID(ss.Context(), id)
	return handler(srv, wrapped)
}

// recordRequestID puts the id in the call's record, made by the stats
// handler, or here when there is none.
func recordRequestID(ctx context.Context, id string) context.Context {
	ci := callInfoFrom(ctx)
	if ci == nil {
		ci = &callInfo{}
		ctx = withCallInfo(ctx, ci)
	}
	ci.requestID = id
	return ctx
}

// --- recovery

// recovered is recovery's handler: it turns a panic into INTERNAL with a
// generic message, logging the panic once with its stack (taken here, in
// the deferred call, so it still holds the frames that panicked). The
// panic value is logged as text: the engine's panics carry no applicant
// facts.
func (s *Server) recovered(ctx context.Context, p any) error {
	method, _ := grpc.Method(ctx)
	s.logger.Error("panic in call", zap.String("method", method), zap.String("request_id", requestIDFrom(ctx)),
		zap.String("panic", fmt.Sprint(p)), zap.Stack("stack"))
	return internalStatus().Err()
}

// --- deadline cap

// deadlineUnary caps the call's deadline at MaxCallDuration; an earlier
// deadline from the caller still wins.
func (s *Server) deadlineUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.MaxCallDuration)
	defer cancel()
	return handler(ctx, req)
}
