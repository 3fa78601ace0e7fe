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
	if ci := callinfo.From(ctx); ci != nil && ci.Door != "" {
		fields = append(fields, zap.String("door", ci.Door))
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
	// handler share it with End, which sees only this context. A call
	// through the HTTP door has its record already, from the door, which
	// accounts for the call itself when the chain does not.
	if ci := callinfo.From(ctx); ci != nil && ci.Door != "" {
		ci.Method = info.FullMethodName
		return ctx
	}
	return callinfo.With(ctx, &callinfo.Info{Method: info.FullMethodName})
}

func (a accounting) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	ci := callinfo.From(ctx)
	if ci == nil || ci.Door != "" {
		return // the door accounts for its calls the chain did not
	}
	g := guardFrom(ctx)
	switch rs := rs.(type) {
	case *stats.InHeader:
		// grpc-go answers an unknown method without a Begin or an End.
		if !a.c.cfg.Known(rs.FullMethod) {
			a.refused(ctx, ci, status.New(codes.Unimplemented, "unknown method").Err(), 0, false)
		}
	case *stats.InPayload:
		g.arrived()
	case *stats.End:
		arrived := g.ended()
		if !ci.Chained {
			a.refused(ctx, ci, rs.Error, rs.EndTime.Sub(rs.BeginTime), !arrived)
		}
	}
}

// refused accounts for a call the interceptor chain never saw. A call
// cancelled before its request arrived, without a token in force, is the
// one a client can make by the hundred thousand at the cost of a
// HEADERS and a RST_STREAM frame: it is counted, and logged at most once a
// second, with the number of lines left out since.
func (a accounting) refused(ctx context.Context, ci *callinfo.Info, err error, d time.Duration, beforeRequest bool) {
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
	extra := []zap.Field{zap.String("refused_by", "grpc")}
	if status.Code(err) == codes.Canceled && beforeRequest && !a.c.cfg.Tokens.allows(ctx) {
		logged, left := a.c.cancelled.allow()
		if !logged {
			a.c.cfg.Metrics.observeCall(label, codes.Canceled, d)
			a.c.cfg.Metrics.linesLeftOut.Inc()
			return
		}
		extra = append(extra, zap.String("sampled", "cancelled before its request arrived, without a token: at most one line a second"),
			zap.Int64("lines_left_out", left))
	}
	a.c.Account(ctx, method, label, d, err, extra...)
}

// TagConn records the connection a call arrives on, found from its remote
// address, which leads back to it (connlimit.Addr): its calls' responses
// count against it (responses.go), and its calls keep it from being idle.
func (a accounting) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	if c := connlimit.FromAddr(info.RemoteAddr); c != nil {
		return connlimit.WithConn(ctx, c)
	}
	return ctx
}

// HandleConn counts a connection past its preface once grpc-go has read
// it (and the client's first SETTINGS): from then on it counts against the
// cap.
func (accounting) HandleConn(ctx context.Context, cs stats.ConnStats) {
	if _, ok := cs.(*stats.ConnBegin); ok {
		if c := connlimit.ConnFrom(ctx); c != nil {
			c.Established()
		}
	}
}
