package server

import (
	"context"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
)

// maxLoggedMethodLen bounds an unknown method name in the log: the caller
// chose it, up to the 64 KiB header limit.
const maxLoggedMethodLen = 128

// accounting is a grpc stats.Handler that sees every call grpc-go starts,
// including those it answers before any interceptor runs: a request that
// does not decode (INTERNAL), one over the size limit (RESOURCE_EXHAUSTED),
// a call cancelled before its request arrived (CANCELLED), an unknown
// method (UNIMPLEMENTED). The logging and metrics interceptors account for
// every call that reaches the chain; this handler logs and counts the rest
// the same way, so no call goes unlogged or uncounted.
type accounting struct {
	s *Server
}

func (a accounting) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	// The call's record starts here, so the chain's interceptors and the
	// handler share it with End, which sees only this context.
	return withCallInfo(ctx, &callInfo{method: info.FullMethodName})
}

func (a accounting) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	ci := callInfoFrom(ctx)
	if ci == nil {
		return
	}
	switch rs := rs.(type) {
	case *stats.InHeader:
		// grpc-go answers an unknown method without a Begin or an End.
		if !a.s.knownMethod(rs.FullMethod) {
			a.refused(ctx, ci, status.New(codes.Unimplemented, "unknown method").Err(), 0)
		}
	case *stats.End:
		if !ci.chained {
			a.refused(ctx, ci, rs.Error, rs.EndTime.Sub(rs.BeginTime))
		}
	}
}

// refused logs and counts a call the interceptor chain never saw.
func (a accounting) refused(ctx context.Context, ci *callInfo, err error, d time.Duration) {
	if ci.requestID == "" {
		ci.requestID = requestID(ctx)
	}
	method, label := ci.method, ci.method
	if !a.s.knownMethod(method) {
		label = "/unknown/unknown"
		if len(method) > maxLoggedMethodLen {
			method = method[:maxLoggedMethodLen] + "..."
		}
	}
	a.s.logCall(ctx, method, d, err, zap.String("refused_by", "grpc"))
	a.s.metrics.observeCall(label, status.Code(err), d)
}

// TagConn records the connection, as tracked by the listener, for its
// calls: their responses count against it (conns.go).
func (a accounting) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	if a.s.conns == nil {
		return ctx
	}
	if c := a.s.conns.lookup(info.RemoteAddr); c != nil {
		return withConn(ctx, c)
	}
	return ctx
}

func (accounting) HandleConn(context.Context, stats.ConnStats) {}

// knownMethod reports whether fullMethod is a method the server serves.
func (s *Server) knownMethod(fullMethod string) bool {
	return s.methods[fullMethod]
}
