package connlimit

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Defaults for Limits.
const (
	// DefaultMaxConnections bounds the connections past their preface
	// served at once, on both doors together. An idle connection costs
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
	// warnInterval spaces the warnings about connections refused or
	// closed to make room, which an attacker can make by the thousand.
	warnInterval = 10 * time.Second
)

// Limits are the bounds a Limiter holds connections to.
type Limits struct {
	// MaxConnections bounds the connections past their preface, and
	// separately those not yet past it.
	MaxConnections int
	// MaxPerSource is one source address's share: at the cap, an address
	// over it gives up its oldest connection not yet past its preface, or
	// its connection idle longest, first; 0 means no share.
	MaxPerSource int
	// Trusted are the source addresses (a proxy's, say) that the share
	// does not bound.
	Trusted []netip.Prefix
	// UnreadBudget bounds the bytes of responses queued for all clients.
	UnreadBudget int64
	// StallTimeout closes a connection whose queued responses have not
	// been taken for this long.
	StallTimeout time.Duration
}

// Limiter limits the connections its listeners serve and tracks, for
// each, whether it is past its preface, the calls running on it, when it
// was last active, and the bytes of responses handed to it and taken by
// its client.
type Limiter struct {
	lim     Limits
	logger  *zap.Logger
	metrics *Metrics

	mu sync.Mutex
	// conns are every connection open, of both doors.
	conns map[*Conn]struct{}
	// pending and established count the connections before and past
	// their preface, in all and by source.
	pending, established int
	bySource             map[string]*sourceCount
	// closedSince counts, by why, the connections closed since the last
	// warning.
	closedSince map[string]int
	lastWarn    time.Time

	// lingering counts the connections closed and still reading their
	// clients (linger.go); lingers waits for them.
	lingering atomic.Int64
	lingers   sync.WaitGroup
}

// sourceCount counts one source address's connections.
type sourceCount struct {
	pending, established int
}

// New returns a Limiter holding connections to lim.
func New(lim Limits, logger *zap.Logger, m *Metrics) *Limiter {
	return &Limiter{lim: lim, logger: logger, metrics: m, conns: map[*Conn]struct{}{},
		bySource: map[string]*sourceCount{}, closedSince: map[string]int{}}
}

// listener is one door's listener, served within its Limiter's limits.
type listener struct {
	net.Listener
	l    *Limiter
	door string
}

// Listen returns lis served within the Limiter's limits; door names it
// in the metrics ("grpc", "http").
func (l *Limiter) Listen(lis net.Listener, door string) net.Listener {
	return &listener{Listener: lis, l: l, door: door}
}

// Accept returns the next connection. It counts as not yet past its
// preface; when that makes too many such connections (of its source, or
// in all), the oldest is closed to make room.
func (ln *listener) Accept() (net.Conn, error) {
	raw, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l := ln.l
	c := &Conn{Conn: raw, l: l, door: ln.door, source: sourceOf(raw.RemoteAddr())}
	c.addr = &Addr{Addr: raw.RemoteAddr(), conn: c}
	c.trusted = l.trusted(c.source)
	now := time.Now()
	c.active = now
	c.progress.Store(now.UnixNano())
	l.mu.Lock()
	l.conns[c] = struct{}{}
	l.pending++
	sc := l.source(c.source)
	sc.pending++
	// Handshake places are held to the cap as connections past their
	// preface are: at the cap, an address over its share gives up its
	// oldest first (a pool that dials more than the share at once keeps
	// them while there is room).
	var victim *Conn
	if l.pending > l.lim.MaxConnections {
		if victim = l.oldestPending(l.overPendingShare); victim == nil {
			victim = l.oldestPending(nil)
		}
	}
	closing := l.release(victim, "handshake")
	l.mu.Unlock()
	l.metrics.open.WithLabelValues(ln.door).Inc()
	l.finish(closing)
	return c, nil
}

// trusted reports whether a source is one the share does not bound.
func (l *Limiter) trusted(source string) bool {
	ip, err := netip.ParseAddr(source)
	if err != nil {
		return false
	}
	for _, p := range l.lim.Trusted {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// source returns the counts of a source address, creating them.
func (l *Limiter) source(src string) *sourceCount {
	sc := l.bySource[src]
	if sc == nil {
		sc = &sourceCount{}
		l.bySource[src] = sc
	}
	return sc
}

// oldestPending is the connection not yet past its preface accepted
// first, of those where says so when where is given. Called with l.mu
// held.
func (l *Limiter) oldestPending(where func(*Conn) bool) *Conn {
	var oldest *Conn
	for c := range l.conns {
		if c.established || where != nil && !where(c) {
			continue
		}
		if oldest == nil || c.active.Before(oldest.active) {
			oldest = c
		}
	}
	return oldest
}

// idleLongest is the connection past its preface with no call running that
// was active least recently, of those where says so when where is given,
// other than except; nil when there is none. Called with l.mu held.
func (l *Limiter) idleLongest(where func(*Conn) bool, except *Conn) *Conn {
	var idle *Conn
	for c := range l.conns {
		if !c.established || c.running > 0 || c == except || where != nil && !where(c) {
			continue
		}
		if idle == nil || c.active.Before(idle.active) {
			idle = c
		}
	}
	return idle
}

// closing is a connection released from the counts, to be closed, and why.
type closing struct {
	c   *Conn
	why string
}

// release counts c out (nil does nothing) and returns it with why, to be
// closed once l.mu is unlocked. Called with l.mu held.
func (l *Limiter) release(c *Conn, why string) closing {
	if c == nil || c.gone {
		return closing{}
	}
	c.gone = true
	delete(l.conns, c)
	sc := l.bySource[c.source]
	if c.established {
		l.established--
		sc.established--
	} else {
		l.pending--
		sc.pending--
	}
	if sc.pending == 0 && sc.established == 0 {
		delete(l.bySource, c.source)
	}
	if why != "" {
		l.closedSince[why]++
	}
	return closing{c: c, why: why}
}

// finish closes what release returned, counts it and warns of it, at most
// every warnInterval.
func (l *Limiter) finish(cl closing) {
	if cl.c == nil {
		return
	}
	_ = cl.c.Conn.Close()
	l.metrics.open.WithLabelValues(cl.c.door).Dec()
	switch cl.why {
	case "refused":
		l.metrics.refused.WithLabelValues(cl.c.door).Inc()
	case "cut":
		l.metrics.cut.WithLabelValues(cl.c.door).Inc()
		return // warned of by cut, with its own figures
	case "":
		return
	default:
		l.metrics.evicted.WithLabelValues(cl.c.door, cl.why).Inc()
	}
	l.mu.Lock()
	if time.Since(l.lastWarn) < warnInterval {
		l.mu.Unlock()
		return
	}
	l.lastWarn = time.Now()
	counts := l.closedSince
	l.closedSince = map[string]int{}
	open, pending := l.established, l.pending
	l.mu.Unlock()
	l.logger.Warn("connections closed to keep within --max-connections",
		zap.Int("max_connections", l.lim.MaxConnections), zap.Int("max_connections_per_source", l.lim.MaxPerSource),
		zap.Int("past_preface", open), zap.Int("in_handshake", pending),
		zap.Int("refused", counts["refused"]), zap.Int("evicted_in_handshake", counts["handshake"]),
		zap.Int("evicted_idle", counts["idle"]), zap.Int("evicted_at_source_share", counts["source"]),
		zap.String("last_peer", cl.c.source))
}

// Conn is a connection a Limiter serves. It counts what the server hands
// the client (reserved) and what the socket takes (written): the
// difference is queued in the server.
type Conn struct {
	net.Conn
	l       *Limiter
	door    string
	source  string
	trusted bool
	addr    *Addr

	// Guarded by l.mu.
	established bool
	gone        bool
	running     int
	active      time.Time

	counters
	lingerState
}

// RemoteAddr is the client's address, as an Addr that leads back to c.
func (c *Conn) RemoteAddr() net.Addr { return c.addr }

// Close counts the connection out and closes it once its client has read
// what was queued for it (linger.go).
func (c *Conn) Close() error {
	c.l.mu.Lock()
	cl := c.l.release(c, "")
	c.l.mu.Unlock()
	if cl.c == nil {
		return nil // closed already, by the Limiter or before
	}
	c.l.metrics.open.WithLabelValues(c.door).Dec()
	return c.l.closeLingering(c)
}

// Established counts c past its preface: from now on it counts against
// the cap. When that takes all over the cap, a connection idle longest is
// closed to make room: one of an address over its share first, else the
// one idle longest of all. When none is idle, c itself is refused: closed
// at once.
//
// The share bounds what one address keeps against others at the cap, not
// what it may open while there is room: an honest client whose pool of
// HTTP/1.1 connections is a few over the share would otherwise have its
// idle connections closed under it as it reuses them, and a POST on a
// reused connection the server closed is an error no client retries.
func (c *Conn) Established() {
	l := c.l
	l.mu.Lock()
	if c.established || c.gone {
		l.mu.Unlock()
		return
	}
	c.established = true
	c.active = time.Now()
	l.pending--
	l.established++
	sc := l.bySource[c.source]
	sc.pending--
	sc.established++
	var out closing
	if l.established > l.lim.MaxConnections {
		if v := l.idleLongest(l.overShare, c); v != nil {
			out = l.release(v, "source")
		} else if v := l.idleLongest(nil, c); v != nil {
			out = l.release(v, "idle")
		} else {
			out = l.release(c, "refused")
		}
	}
	l.mu.Unlock()
	l.finish(out)
}

// overPendingShare reports whether c's address holds more than its share
// of the handshake places. Called with l.mu held.
func (l *Limiter) overPendingShare(c *Conn) bool {
	return !c.trusted && l.lim.MaxPerSource > 0 && l.bySource[c.source].pending > l.lim.MaxPerSource
}

// overShare reports whether c's address holds more than its share of the
// cap. Called with l.mu held.
func (l *Limiter) overShare(c *Conn) bool {
	return !c.trusted && l.lim.MaxPerSource > 0 && l.bySource[c.source].established > l.lim.MaxPerSource
}

// Begin marks a call running on c: its request has arrived, and c is not
// idle until End.
func (c *Conn) Begin() {
	c.l.mu.Lock()
	c.running++
	c.active = time.Now()
	c.l.mu.Unlock()
}

// End marks a call begun with Begin as finished.
func (c *Conn) End() {
	c.l.mu.Lock()
	c.running--
	c.active = time.Now()
	c.l.mu.Unlock()
}

// CloseFor closes c for an abuse a door found on it (why names it in the
// metrics: "resets", say), and counts it.
func (c *Conn) CloseFor(why string) {
	c.l.mu.Lock()
	cl := c.l.release(c, why)
	c.l.mu.Unlock()
	c.l.finish(cl)
}

// NetConn is the connection c wraps, for a layer that needs the TCP
// connection itself (to shut its write side alone).
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Door names the door c came through.
func (c *Conn) Door() string { return c.door }

// Addr is a connection's remote address that leads back to the connection:
// a gRPC stats handler, given only addresses, finds the connection from it
// rather than by address, which two connections may share (behind a
// proxy, or a port reused).
type Addr struct {
	net.Addr
	conn *Conn
}

// FromAddr returns the connection whose remote address addr is, or nil.
func FromAddr(addr net.Addr) *Conn {
	if a, ok := addr.(*Addr); ok {
		return a.conn
	}
	return nil
}

// Of returns the Conn a door's connection wraps (through TLS too), or nil.
func Of(c net.Conn) *Conn {
	for {
		switch v := c.(type) {
		case *Conn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
}

// sourceOf is the IP of a remote address, or the whole address when it
// has none (a unix socket).
func sourceOf(addr net.Addr) string {
	if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
		return ap.Addr().Unmap().String()
	}
	return addr.String()
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
