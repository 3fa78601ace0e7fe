package middleware

import (
	"context"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/safethird/safethird/internal/connlimit"
	"github.com/safethird/safethird/server/callinfo"
	"github.com/safethird/safethird/server/rpcstatus"
)

// maxLoggedMethodLen bounds an unknown method name in the log: the caller
// chose it, up to the 64 KiB header limit.
const maxLoggedMethodLen = 128

// Every call is accounted for once, by account: one "call" log line and
// grpc_server_handled_total / grpc_server_handling_seconds. A call that
// reaches the interceptor chain is accounted for by the chain's accounting
// link, whose frame is go-grpc-middleware's reporter (the one its logging
// and Prometheus providers are built on); a call grpc-go answers before any
// interceptor runs is accounted for by the stats handler below.
//
// The log line and the metrics stay hand-written because go-grpc-middleware
// offers them only as interceptors: its logging and its Prometheus provider
// (providers/prometheus) cannot see the calls grpc-go refuses before the
// chain, nor record a call with the duration grpc-go measured, and using
// them for the rest would write each call's line and count in two ways.

// Account logs and counts one finished call. label is the method the
// metrics name: the method, or "/unknown/unknown" for one not served.
func (c *Chain) Account(ctx context.Context, method, label string, d time.Duration, err error, extra ...zap.Field) {
	c.logCall(ctx, method, d, err, extra...)
	c.cfg.Metrics.observeCall(label, status.Code(err), d)
}

// logCall writes the one line per call: method, code, reason, duration,
// request id, peer and the dataset revision served. Never a request or
// response body: those hold applicant facts.
func (c *Chain) logCall(ctx context.Context, method string, d time.Duration, err error, extra ...zap.Field) {
	level := zapcore.InfoLevel
	if strings.HasPrefix(method, healthPrefix) {
		level = zapcore.DebugLevel
	}
	ce := c.cfg.Logger.Check(level, "call")
	if ce == nil {
		return
	}
	st := status.Convert(err)
	fields := []zap.Field{
		zap.String("method", method),
		zap.String("code", st.Code().String()),
		zap.Duration("duration", d),
		zap.String("request_id", callinfo.RequestID(ctx)),
	}
	if reason := rpcstatus.ReasonOf(st); reason != "" {
		fields = append(fields, zap.String("reason", reason))
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		fields = append(fields, zap.String("peer", p.Addr.String()))
	}
	if ci := callinfo.From(ctx); ci != nil {
		if revisions := ci.RevisionsServed(); revisions != "" {
			fields = append(fields, zap.String("dataset_revision", revisions))
		}
	}
	ce.Write(append(fields, extra...)...)
}

// reporter is the accounting link's go-grpc-middleware reporter: it marks
// the call as accounted for by the chain, so the stats handler leaves it
// alone, and accounts for it when it ends.
func (c *Chain) reporter(ctx context.Context, m interceptors.CallMeta) (interceptors.Reporter, context.Context) {
	if ci := callinfo.From(ctx); ci != nil {
		ci.Chained = true
	}
	return callReporter{c: c, ctx: ctx, method: m.FullMethod()}, ctx
}

// callReporter accounts for one call of the chain when it ends.
type callReporter struct {
	interceptors.NoopReporter
	c      *Chain
	ctx    context.Context
	method string
}

func (r callReporter) PostCall(err error, d time.Duration) {
	r.c.Account(r.ctx, r.method, r.method, d, err)
}

// healthPrefix is the method prefix of grpc.health.v1, whose calls are
// logged at debug: probes call it every few seconds.
const healthPrefix = "/grpc.health.v1.Health/"

// accounting is a grpc stats.Handler that sees every call grpc-go starts,
// including those it answers before any interceptor runs: a request that
// does not decode (INTERNAL), one over the size limit (RESOURCE_EXHAUSTED),
// a call cancelled before its request arrived (CANCELLED), an unknown
// method (UNIMPLEMENTED). It accounts for those; the chain's accounting
// link, for the rest.
type accounting struct {
	c *Chain
}

func (a accounting) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	// The call's record starts here, so the chain's interceptors and the
	// handler share it with End, which sees only this context.
	return callinfo.With(ctx, &callinfo.Info{Method: info.FullMethodName})
}

func (a accounting) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	ci := callinfo.From(ctx)
	if ci == nil {
		return
	}
	switch rs := rs.(type) {
	case *stats.InHeader:
		// grpc-go answers an unknown method without a Begin or an End.
		if !a.c.cfg.Known(rs.FullMethod) {
			a.refused(ctx, ci, status.New(codes.Unimplemented, "unknown method").Err(), 0)
		}
	case *stats.End:
		if !ci.Chained {
			a.refused(ctx, ci, rs.Error, rs.EndTime.Sub(rs.BeginTime))
		}
	}
}

// refused accounts for a call the interceptor chain never saw.
func (a accounting) refused(ctx context.Context, ci *callinfo.Info, err error, d time.Duration) {
	if ci.RequestID == "" {
		ci.RequestID = requestID(ctx)
	}
	method, label := ci.Method, ci.Method
	if !a.c.cfg.Known(method) {
		label = "/unknown/unknown"
		if len(method) > maxLoggedMethodLen {
			method = method[:maxLoggedMethodLen] + "..."
		}
	}
	a.c.Account(ctx, method, label, d, err, zap.String("refused_by", "grpc"))
}

// TagConn records the connection, as tracked by the listener, for its
// calls: their responses count against it (responses.go).
func (a accounting) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	if c := a.c.cfg.Conns.Lookup(info.RemoteAddr); c != nil {
		return connlimit.WithConn(ctx, c)
	}
	return ctx
}

func (accounting) HandleConn(context.Context, stats.ConnStats) {}
