package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// requestIDHeader carries the request id in and out.
const requestIDHeader = "x-request-id"

// maxRequestIDLen bounds a caller's request id; a longer one is replaced.
const maxRequestIDLen = 128

// interceptor is one named link of the chain, for unary calls and streams;
// a link may leave one of them nil.
type interceptor struct {
	name   string
	unary  grpc.UnaryServerInterceptor
	stream grpc.StreamServerInterceptor
}

// chain is the interceptor chain, outermost first:
//
//  1. request-id: first, so every later link, the log line and the error
//     log carry the id, and the caller gets it back even when rejected.
//  2. logging and 3. metrics: outside everything that can fail, so they
//     see the final code of every call, auth failures and panics included.
//  4. recovery: inside the observers, so a panic is logged and counted as
//     the INTERNAL it becomes; outside auth and the handler, so a panic in
//     either is caught.
//  5. auth: before any work is done for the caller.
//  6. responses: counts each response for its connection, so the bytes
//     queued for clients that do not read stay bounded (conns.go).
//  7. deadline: caps only authenticated calls, right around the handler.
//     Unary only: grpc-go gives an interceptor no way to end a stream whose
//     handler ignores its context (reflection's does), so streams are
//     bounded by the connection's maximum age and its grace instead.
func (s *Server) chain() []interceptor {
	links := []interceptor{
		{"request-id", requestIDUnary, requestIDStream},
		{"logging", s.loggingUnary, s.loggingStream},
		{"metrics", s.metricsUnary, s.metricsStream},
		{"recovery", s.recoveryUnary, s.recoveryStream},
		{"auth", s.authUnary, s.authStream},
		{"responses", s.responsesUnary, s.responsesStream},
		{"deadline", s.deadlineUnary, nil},
	}
	if s.cfg.beforeHandler != nil {
		links = append(links, interceptor{"test-hook", s.cfg.beforeHandler, nil})
	}
	return links
}

// chainOptions turns the chain into grpc.ServerOptions.
func (s *Server) chainOptions() []grpc.ServerOption {
	var unary []grpc.UnaryServerInterceptor
	var stream []grpc.StreamServerInterceptor
	var names []string
	for _, link := range s.chain() {
		names = append(names, link.name)
		if link.unary != nil {
			unary = append(unary, link.unary)
		}
		if link.stream != nil {
			stream = append(stream, link.stream)
		}
	}
	s.logger.Debug("interceptor chain", zap.Strings("outermost_first", names))
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...)}
}

// contextStream is a ServerStream with a replaced context.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *contextStream) Context() context.Context { return c.ctx }

// --- request id

// requestID returns the caller's x-request-id when it is 1 to 128
// printable ASCII characters, else a new random one.
func requestID(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	return pickRequestID(md.Get(requestIDHeader))
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
	ctx = chained(ctx, id)
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
	return handler(srv, &contextStream{ss, chained(ss.Context(), id)})
}

// chained marks the call's record (made by the stats handler, or here when
// there is none) as accounted for by the chain, with its request id.
func chained(ctx context.Context, id string) context.Context {
	ci := callInfoFrom(ctx)
	if ci == nil {
		ci = &callInfo{}
		ctx = withCallInfo(ctx, ci)
	}
	ci.requestID, ci.chained = id, true
	return ctx
}

// --- logging

// logCall writes the one line per call: method, code, reason, duration,
// request id, peer and the dataset revision served. Never a request or
// response body: those hold applicant facts.
func (s *Server) logCall(ctx context.Context, method string, d time.Duration, err error, extra ...zap.Field) {
	level := zapcore.InfoLevel
	if strings.HasPrefix(method, healthPrefix) {
		level = zapcore.DebugLevel
	}
	ce := s.logger.Check(level, "call")
	if ce == nil {
		return
	}
	st := status.Convert(err)
	fields := []zap.Field{
		zap.String("method", method),
		zap.String("code", st.Code().String()),
		zap.Duration("duration", d),
		zap.String("request_id", requestIDFrom(ctx)),
	}
	if reason := reasonOf(st); reason != "" {
		fields = append(fields, zap.String("reason", reason))
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		fields = append(fields, zap.String("peer", p.Addr.String()))
	}
	if ci := callInfoFrom(ctx); ci != nil && len(ci.revisions) > 0 {
		fields = append(fields, zap.String("dataset_revision", ci.revisionsServed()))
	}
	ce.Write(append(fields, extra...)...)
}

func (s *Server) loggingUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	s.logCall(ctx, info.FullMethod, time.Since(start), err)
	return resp, err
}

func (s *Server) loggingStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	s.logCall(ss.Context(), info.FullMethod, time.Since(start), err)
	return err
}

// --- metrics

func (s *Server) metricsUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	s.metrics.observeCall(info.FullMethod, status.Code(err), time.Since(start))
	return resp, err
}

func (s *Server) metricsStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	s.metrics.observeCall(info.FullMethod, status.Code(err), time.Since(start))
	return err
}

// --- recovery

// recovered turns a panic into INTERNAL with a generic message, logging
// the panic once with its stack. The panic value is logged as text: the
// engine's panics carry no applicant facts.
func (s *Server) recovered(ctx context.Context, method string, r any) error {
	s.logger.Error("panic in call", zap.String("method", method), zap.String("request_id", requestIDFrom(ctx)),
		zap.String("panic", fmt.Sprint(r)), zap.Stack("stack"))
	return internalStatus().Err()
}

func (s *Server) recoveryUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, s.recovered(ctx, info.FullMethod, r)
		}
	}()
	return handler(ctx, req)
}

func (s *Server) recoveryStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.recovered(ss.Context(), info.FullMethod, r)
		}
	}()
	return handler(srv, ss)
}

// --- auth

func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := s.auth.Load().check(ctx, info.FullMethod); err != nil {
		return nil, s.errs.toStatus(ctx, err)
	}
	return handler(ctx, req)
}

func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := s.auth.Load().check(ss.Context(), info.FullMethod); err != nil {
		return s.errs.toStatus(ss.Context(), err)
	}
	return handler(srv, ss)
}

// --- deadline cap

// deadlineUnary caps the call's deadline at MaxCallDuration; an earlier
// deadline from the caller still wins.
func (s *Server) deadlineUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.MaxCallDuration)
	defer cancel()
	return handler(ctx, req)
}
