package middleware

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc/tap"

	"github.com/safethird/safethird/internal/connlimit"
)

// callGuard follows one call on the gRPC port from its headers: until its
// request arrives the call does not keep its connection busy, and a unary
// call's request must arrive within the limits' RequestTimeout, or the
// call is cancelled. A call whose request never arrives would otherwise
// hold its stream, and its connection, until the connection's maximum
// age: grpc-go runs no deadline until the handler.
type callGuard struct {
	conn *connlimit.Conn
	// timer cancels the call when its request is late; nil for a call
	// that may stream requests.
	timer *time.Timer
	// got is set once the request has arrived: the call then runs on
	// conn, from Begin to End.
	got bool
}

type guardKey struct{}

// guardFrom returns the call's guard, or nil (a call through the HTTP
// door, which guards its own).
func guardFrom(ctx context.Context) *callGuard {
	g, _ := ctx.Value(guardKey{}).(*callGuard)
	return g
}

// tap is the gRPC port's InTapHandle: it runs on a call's headers, before
// grpc-go reads its request, and returns the context the call runs in.
func (c *Chain) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	g := &callGuard{conn: connlimit.ConnFrom(ctx)}
	if c.cfg.SingleRequest(info.FullMethodName) {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		g.timer = time.AfterFunc(c.cfg.RequestTimeout, cancel)
	}
	return context.WithValue(ctx, guardKey{}, g), nil
}

// arrived notes the request's arrival (the first, of a stream): the
// deadline for it is met, and the call now keeps its connection busy.
// grpc-go reports a call's events from one goroutine, so no lock.
func (g *callGuard) arrived() {
	if g == nil || g.got {
		return
	}
	g.got = true
	if g.timer != nil {
		g.timer.Stop()
	}
	if g.conn != nil {
		g.conn.Begin()
	}
}

// ended notes the call's end and reports whether its request had arrived.
func (g *callGuard) ended() bool {
	if g == nil {
		return true
	}
	if g.timer != nil {
		g.timer.Stop()
	}
	if g.got && g.conn != nil {
		g.conn.End()
	}
	return g.got
}

// sampler lets through one event a period, and counts those it left out.
type sampler struct {
	period time.Duration
	mu     sync.Mutex
	next   time.Time
	left   int64
}

// allow reports whether an event may be logged now, and how many were
// left out since the last one that was.
func (s *sampler) allow() (bool, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if now.Before(s.next) {
		s.left++
		return false, 0
	}
	s.next = now.Add(s.period)
	left := s.left
	s.left = 0
	return true, left
}
