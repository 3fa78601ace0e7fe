// Package middleware holds the links of the gRPC interceptor chain that
// every call of both doors passes (request id, accounting, recovery, auth,
// validation, response accounting, deadline cap), in their order, and the
// stats handler that accounts for the calls grpc-go answers before the
// chain. Its parts are handed in as values (the limits, the error mapper,
// the connection limiter, a response's size); it must not reach into the
// services, the store or the doors.
package middleware

import (
	"context"
	"fmt"
	"time"

	"buf.build/go/protovalidate"
	grpcmiddleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/internal/connlimit"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server/callinfo"
	"github.com/safethird/safethird/server/rpcstatus"
)

// Config is what the chain's links are built from.
type Config struct {
	Logger  *zap.Logger
	Metrics *Metrics
	Errors  rpcstatus.Mapper
	// Tokens are the bearer tokens auth checks.
	Tokens *Tokens
	// Validator checks requests against the rules in the protos.
	Validator protovalidate.Validator
	// Conns tracks each connection's unread responses.
	Conns *connlimit.Limiter
	// Size is the encoded size of a response, as the codec will send it.
	Size func(proto.Message) int
	// MaxCallDuration caps every unary call's deadline.
	MaxCallDuration time.Duration
	// RequestTimeout bounds the time a call's single request takes to
	// arrive, on the gRPC port (guard.go).
	RequestTimeout time.Duration
	// Known reports whether a full method name is one the server serves.
	Known func(fullMethod string) bool
	// SingleRequest reports whether a method takes a single request
	// (unary or server-streaming).
	SingleRequest func(fullMethod string) bool
	// DecodeError takes the error of a request the codec could not
	// decode (nil for one it did); the codec leaves such a request empty
	// rather than fail it, because grpc-go would make any codec error
	// INTERNAL, before auth and without ErrorInfo.
	DecodeError func(req any) error
	// BeforeHandler, when set, runs innermost in the unary chain, just
	// before the handler; only tests set it.
	BeforeHandler grpc.UnaryServerInterceptor
}

// Chain is the interceptor chain and the stats handler around it.
type Chain struct {
	cfg Config
	// cancelled samples the log lines of calls cancelled before their
	// request arrived, without a token.
	cancelled sampler
}

// New returns the chain built from cfg.
func New(cfg Config) *Chain {
	return &Chain{cfg: cfg, cancelled: sampler{period: time.Second}}
}

// link is one named link of the interceptor chain, for unary calls and
// streams; a link may leave one of them nil.
type link struct {
	name   string
	unary  grpc.UnaryServerInterceptor
	stream grpc.StreamServerInterceptor
}

// links is the interceptor chain, outermost first. Recovery, auth and the
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
//  5. decode: a request the codec could not decode is INVALID_ARGUMENT,
//     with ErrorInfo and the field, once the caller is known.
//  6. validate: the field rules declared in the protos, once the caller
//     is known (validate.go), on every request but the AssessmentService's:
//     the engine checks those itself, so that each item of a batch fails
//     alone and Go callers of the engine get the same checks.
//  7. responses: counts each response for its connection, so the bytes
//     queued for clients that do not read stay bounded (responses.go).
//  8. deadline: caps only authenticated, valid calls, right around the
//     handler. Unary only: grpc-go gives an interceptor no way to end a
//     stream whose handler ignores its context (reflection's does), so
//     streams are bounded by the connection's maximum age and its grace.
//
// TestChainOrder holds the chain to this order.
func (c *Chain) links() []link {
	reporter := interceptors.CommonReportableFunc(c.reporter)
	recovered := recovery.WithRecoveryHandlerContext(c.recovered)
	tokens := selector.MatchFunc(needsToken)
	rules := selector.MatchFunc(rulesCheckedHere)
	decodeUnary, decodeStream := c.checkRequests(c.cfg.DecodeError)
	validateUnary, validateStream := c.checkRequests(c.validate)
	links := []link{
		{"request-id", c.requestIDUnary, requestIDStream},
		{"accounting", interceptors.UnaryServerInterceptor(reporter), interceptors.StreamServerInterceptor(reporter)},
		{"recovery", recovery.UnaryServerInterceptor(recovered), recovery.StreamServerInterceptor(recovered)},
		{"auth", selector.UnaryServerInterceptor(auth.UnaryServerInterceptor(c.authenticate), tokens),
			selector.StreamServerInterceptor(auth.StreamServerInterceptor(c.authenticate), tokens)},
		{"decode", decodeUnary, decodeStream},
		{"validate", selector.UnaryServerInterceptor(validateUnary, rules), selector.StreamServerInterceptor(validateStream, rules)},
		{"responses", c.responsesUnary, c.responsesStream},
		{"deadline", c.deadlineUnary, nil},
	}
	if c.cfg.BeforeHandler != nil {
		links = append(links, link{"test-hook", c.cfg.BeforeHandler, nil})
	}
	return links
}

// Names names the links of the chain, outermost first.
func (c *Chain) Names() []string {
	var names []string
	for _, l := range c.links() {
		names = append(names, l.name)
	}
	return names
}

// ServerOptions are the chain and its stats handler as grpc.ServerOptions.
func (c *Chain) ServerOptions() []grpc.ServerOption {
	var unary []grpc.UnaryServerInterceptor
	var stream []grpc.StreamServerInterceptor
	var names []string
	for _, l := range c.links() {
		names = append(names, l.name)
		if l.unary != nil {
			unary = append(unary, l.unary)
		}
		if l.stream != nil {
			stream = append(stream, l.stream)
		}
	}
	c.cfg.Logger.Debug("interceptor chain", zap.Strings("outermost_first", names))
	return []grpc.ServerOption{
		grpc.StatsHandler(accounting{c}),
		grpc.InTapHandle(c.tap),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	}
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
	return callinfo.PickRequestID(metadata.ValueFromIncomingContext(ctx, callinfo.Header))
}

// requestIDUnary returns the id in the response header, or in the trailer
// when the call fails: a failed call must end with trailers only, because a
// gRPC client never retries a call once it has received headers, and the
// client retries UNAVAILABLE (e.g. a replica still loading its dataset).
//
// Being outermost, it also lets go of a decode error no later link took
// (a call refused by auth), so none is kept past its call.
func (c *Chain) requestIDUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	defer func() { _ = c.cfg.DecodeError(req) }()
	id := requestID(ctx)
	ctx = recordRequestID(ctx, id)
	resp, err := handler(ctx, req)
	// Neither fails: headers are sent only after the chain returns.
	if err != nil {
		_ = grpc.SetTrailer(ctx, metadata.Pairs(callinfo.Header, id))
	} else {
		_ = grpc.SetHeader(ctx, metadata.Pairs(callinfo.Header, id))
	}
	return resp, err
}

func requestIDStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	id := requestID(ss.Context())
	_ = ss.SetHeader(metadata.Pairs(callinfo.Header, id))
	wrapped := grpcmiddleware.WrapServerStream(ss)
	wrapped.WrappedContext = recordRequestID(ss.Context(), id)
	return handler(srv, wrapped)
}

// recordRequestID puts the id in the call's record, made by the stats
// handler, or here when there is none.
func recordRequestID(ctx context.Context, id string) context.Context {
	ci := callinfo.From(ctx)
	if ci == nil {
		ci = &callinfo.Info{}
		ctx = callinfo.With(ctx, ci)
	}
	ci.RequestID = id
	return ctx
}

// --- recovery

// recovered is recovery's handler: it turns a panic into INTERNAL with a
// generic message, logging the panic once with its stack (taken here, in
// the deferred call, so it still holds the frames that panicked). The
// panic value is logged as text: the engine's panics carry no applicant
// facts.
func (c *Chain) recovered(ctx context.Context, p any) error {
	method, _ := grpc.Method(ctx)
	c.cfg.Logger.Error("panic in call", zap.String("method", method), zap.String("request_id", callinfo.RequestID(ctx)),
		zap.String("panic", fmt.Sprint(p)), zap.Stack("stack"))
	return rpcstatus.Internal().Err()
}

// --- deadline cap

// deadlineUnary caps the call's deadline at MaxCallDuration; an earlier
// deadline from the caller still wins.
func (c *Chain) deadlineUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.MaxCallDuration)
	defer cancel()
	return handler(ctx, req)
}
