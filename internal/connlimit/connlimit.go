package connlimit

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Defaults for Limits. HTTP/2 flow control stops a server sending more
// than the client's window, so a client that never reads leaves every
// response it asked for queued in the server's memory; the protocols bound
// that by nothing but the number of streams. The Limiter counts those
// bytes itself.
const (
	// DefaultMaxConnections bounds the connections served at once; one
	// more is closed as soon as it is accepted. An idle connection costs
	// about 25 KB, but each can carry 64 calls at once, and every call in
	// flight costs its goroutine, its request and its response: 64 x 64
	// calls that are never read peak at about 100 MB of resident memory,
	// 100 x 64 at up to 190 MB (test/reliability's TestNeverReadingFlood,
	// with the CPU busy).
	DefaultMaxConnections = 64
	// DefaultUnreadBudget bounds the bytes of responses queued for all
	// clients together. Past it, the connection with the most unread is
	// closed. A client that reads takes its responses in a moment; 16 MiB
	// is sixteen full batches of 100 in flight to slow readers.
	DefaultUnreadBudget = 16 << 20
	// DefaultStallTimeout closes a connection that has had responses
	// queued and not taken one byte of them for this long, whatever their
	// size: a client that answers pings but never grants flow-control
	// window.
	DefaultStallTimeout = 30 * time.Second
	// refusalLogInterval spaces the warnings about refused connections.
	refusalLogInterval = 10 * time.Second
)

// Limits are the bounds a Limiter holds connections to.
type Limits struct {
	// MaxConnections bounds the connections served at once.
	MaxConnections int
	// UnreadBudget bounds the bytes of responses queued for all clients.
	UnreadBudget int64
	// StallTimeout closes a connection whose queued responses have not
	// been taken for this long.
	StallTimeout time.Duration
}

// Limiter limits the connections its listeners serve and tracks, for
// each, the bytes of responses handed to it and those taken by the client.
type Limiter struct {
	max     int
	logger  *zap.Logger
	metrics *Metrics
	// budget and stall are the limits; fields so a test can shrink them.
	budget int64
	stall  time.Duration

	mu sync.Mutex
	// byAddr finds a connection by its remote address, for a gRPC stats
	// handler's TagConn, which gets only addresses. An address shared by
	// two connections (bufconn, some unix sockets) maps to nil: their
	// calls are not tracked.
	byAddr   map[string]*Conn
	open     int
	refused  int64
	lastWarn time.Time
}

// New returns a Limiter holding connections to lim.
func New(lim Limits, logger *zap.Logger, m *Metrics) *Limiter {
	return &Limiter{max: lim.MaxConnections, logger: logger, metrics: m, budget: lim.UnreadBudget, stall: lim.StallTimeout,
		byAddr: map[string]*Conn{}}
}

// listener is one listener a Limiter serves.
type listener struct {
	net.Listener
	l *Limiter
}

// Listen returns lis served within the Limiter's limits.
func (l *Limiter) Listen(lis net.Listener) net.Listener {
	return &listener{Listener: lis, l: l}
}

// Accept returns the next connection within the limit; one past it is
// closed at once, counted, and warned of at most every refusalLogInterval.
func (ln *listener) Accept() (net.Conn, error) {
	l := ln.l
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.open >= l.max {
			l.refused++
			warn := time.Since(l.lastWarn) >= refusalLogInterval
			if warn {
				l.lastWarn = time.Now()
			}
			refused := l.refused
			l.mu.Unlock()
			_ = c.Close()
			l.metrics.Refused.Inc()
			if warn {
				l.logger.Warn("connection refused: at --max-connections", zap.Int("max_connections", l.max),
					zap.Int64("refused_so_far", refused), zap.String("peer", c.RemoteAddr().String()))
			}
			continue
		}
		l.open++
		tc := &Conn{Conn: c, l: l, key: c.RemoteAddr().String()}
		tc.progress.Store(time.Now().UnixNano())
		if _, dup := l.byAddr[tc.key]; dup {
			l.byAddr[tc.key] = nil
		} else {
			l.byAddr[tc.key] = tc
		}
		l.mu.Unlock()
		l.metrics.Open.Inc()
		return tc, nil
	}
}

// Lookup returns the tracked connection with the remote address, or nil.
func (l *Limiter) Lookup(addr net.Addr) *Conn {
	if addr == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byAddr[addr.String()]
}

// Conn counts what the server hands the client (reserved) and what the
// socket takes (written): the difference is queued in the server.
type Conn struct {
	net.Conn
	l   *Limiter
	key string

	reserved atomic.Int64
	written  atomic.Int64
	// progress is when (UnixNano) the client last took bytes, or began to
	// wait for some: a stall is measured from it.
	progress atomic.Int64
	// cut is set when the connection is closed for not reading, so the
	// calls still on it are not worked for.
	cut       atomic.Bool
	closeOnce sync.Once
}

func (c *Conn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.written.Add(int64(n))
		c.progress.Store(time.Now().UnixNano())
	}
	return n, err
}

func (c *Conn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		l := c.l
		l.mu.Lock()
		l.open--
		if l.byAddr[c.key] == c {
			delete(l.byAddr, c.key)
		}
		l.mu.Unlock()
		l.metrics.Open.Dec()
	})
	return err
}

// Cut reports whether the connection was closed for not reading: the calls
// still on it need no more work.
func (c *Conn) Cut() bool { return c.cut.Load() }

// unread is the bytes handed to the connection and not yet written to it.
func (c *Conn) unread() int64 {
	return max(0, c.reserved.Load()-c.written.Load())
}

// reserve counts n bytes about to be queued. Bytes written beyond those
// reserved (pings, settings, TLS framing) do not count as credit.
func (c *Conn) reserve(n int64) {
	for {
		r, w := c.reserved.Load(), c.written.Load()
		if c.reserved.CompareAndSwap(r, max(r, w)+n) {
			if r <= w {
				c.progress.Store(time.Now().UnixNano()) // nothing was waiting: the wait starts now
			}
			return
		}
	}
}

// Account counts n bytes of a response about to be queued for connection
// c, counting only what is surely written: a count that ran ahead of what
// is written would never be given back on a connection that is never idle.
// When the responses unread on all connections are over the budget, it
// closes the connections with the most until they are not. It reports
// whether c is still open: when it is not, the response need not be
// encoded at all.
func (l *Limiter) Account(c *Conn, n int) bool {
	c.reserve(int64(n))
	// Below its share of the budget a connection cannot take the total
	// over it, so the common case looks at nothing else.
	if c.unread() <= l.budget/int64(l.max) {
		return true
	}
	for {
		l.mu.Lock()
		var total int64
		var worst *Conn
		for _, tc := range l.byAddr {
			if tc == nil {
				continue
			}
			u := tc.unread()
			total += u
			if worst == nil || u > worst.unread() {
				worst = tc
			}
		}
		l.mu.Unlock()
		if total <= l.budget || worst == nil {
			return !c.cut.Load()
		}
		l.cutConn(worst, "the responses unread on all connections are over the server's budget")
	}
}

// cutConn closes a connection that does not read its responses: the
// server then drops what it had queued for it, and its calls fail, which
// clients retry on a new connection.
func (l *Limiter) cutConn(c *Conn, why string) {
	if !c.cut.CompareAndSwap(false, true) {
		return // cut already, by another call
	}
	unread := c.unread()
	l.mu.Lock()
	if l.byAddr[c.key] == c {
		delete(l.byAddr, c.key) // counted out at once, so the caller's loop ends
	}
	l.mu.Unlock()
	_ = c.Close()
	l.metrics.Cut.Inc()
	l.logger.Warn("connection closed: its client does not read its responses", zap.String("reason", why),
		zap.Int64("unread_bytes", unread), zap.String("peer", c.key))
}

// WatchStalls closes the connections whose responses have waited the stall
// timeout without a byte written, checking thirty times per timeout. It
// returns when ctx is done.
func (l *Limiter) WatchStalls(ctx context.Context) {
	t := time.NewTicker(l.stall / 30)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now().UnixNano()
		var stalled []*Conn
		l.mu.Lock()
		for _, c := range l.byAddr {
			if c != nil && c.unread() > 0 && time.Duration(now-c.progress.Load()) > l.stall {
				stalled = append(stalled, c)
			}
		}
		l.mu.Unlock()
		for _, c := range stalled {
			l.cutConn(c, "no byte of its responses taken for "+l.stall.String())
		}
	}
}

type connKey struct{}

// WithConn records the connection a call arrived on; ConnFrom finds it.
func WithConn(ctx context.Context, c *Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// ConnFrom returns the connection WithConn recorded, or nil.
func ConnFrom(ctx context.Context) *Conn {
	c, _ := ctx.Value(connKey{}).(*Conn)
	return c
}
