package server

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Limits on connections, and on responses written for clients that do not
// read them. HTTP/2 flow control stops the server sending more than the
// client's window, so a client that never reads leaves every response it
// asked for queued in the server's memory; grpc-go bounds that by nothing
// but the number of streams. The server counts those bytes itself.
const (
	// DefaultMaxConnections bounds the connections served at once; one
	// more is closed as soon as it is accepted. An idle connection costs
	// about 25 KB, but each can carry maxConcurrentStreams calls at once,
	// and every call in flight costs its goroutine, its request and its
	// response: 64 x 64 calls that are never read peak at about 100 MB of
	// resident memory, 100 x 64 at up to 190 MB (test/reliability's
	// TestNeverReadingFlood, with the CPU busy).
	DefaultMaxConnections = 64
	// unreadBudget bounds the bytes of responses queued for all clients
	// together. Past it, the connection with the most unread is closed. A
	// client that reads takes its responses in a moment; 16 MiB is sixteen
	// full batches of 100 in flight to slow readers.
	unreadBudget = 16 << 20
	// stallTimeout closes a connection that has had responses queued and
	// not taken one byte of them for this long, whatever their size: a
	// client that answers pings but never grants flow-control window.
	stallTimeout = 30 * time.Second
	// responseOverhead is counted with each response beside its message:
	// only the gRPC prefix, which is surely written. Headers, trailers and
	// HTTP/2 framing are written too, but their size varies (HPACK), and a
	// count that ran ahead of what is written would never be given back
	// on a connection that is never idle: it grew by the difference with
	// every call until the budget cut a client that read everything.
	responseOverhead = grpcPrefix
	// grpcPrefix is the length of the prefix of a gRPC message: a flag
	// byte and a four-byte length.
	grpcPrefix = 5
	// refusalLogInterval spaces the warnings about refused connections.
	refusalLogInterval = 10 * time.Second
)

// Flow-control windows the server grants. Set, they turn off grpc-go's
// window growth (BDP estimation, up to 16 MiB a connection), which would
// let a client make the server buffer that much of requests it has not yet
// read: requests are at most 256 KiB, and a window of 64 KiB a stream and
// 1 MiB a connection keeps a fast link busy.
const (
	streamWindow = 64 << 10
	connWindow   = 1 << 20
)

// conns is the listener that limits the connections served and tracks, for
// each, the bytes of responses written to it and those taken by the client.
type conns struct {
	net.Listener
	max     int
	logger  *zap.Logger
	metrics *metrics
	// budget and stall are unreadBudget and stallTimeout; fields so a test
	// can shrink them.
	budget int64
	stall  time.Duration

	mu sync.Mutex
	// byAddr finds a connection by its remote address, for the stats
	// handler's TagConn, which gets only addresses. An address shared by two
	// connections (bufconn, some unix sockets) maps to nil: their calls are
	// not tracked.
	byAddr   map[string]*trackedConn
	open     int
	refused  int64
	lastWarn time.Time
}

func newConns(lis net.Listener, max int, logger *zap.Logger, m *metrics) *conns {
	return &conns{Listener: lis, max: max, logger: logger, metrics: m, budget: unreadBudget, stall: stallTimeout,
		byAddr: map[string]*trackedConn{}}
}

// Accept returns the next connection within the limit; one past it is
// closed at once, counted, and warned of at most every refusalLogInterval.
func (l *conns) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
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
			l.metrics.connRefused.Inc()
			if warn {
				l.logger.Warn("connection refused: at --max-connections", zap.Int("max_connections", l.max),
					zap.Int64("refused_so_far", refused), zap.String("peer", c.RemoteAddr().String()))
			}
			continue
		}
		l.open++
		tc := &trackedConn{Conn: c, l: l, key: c.RemoteAddr().String()}
		tc.progress.Store(time.Now().UnixNano())
		if _, dup := l.byAddr[tc.key]; dup {
			l.byAddr[tc.key] = nil
		} else {
			l.byAddr[tc.key] = tc
		}
		l.mu.Unlock()
		l.metrics.connOpen.Inc()
		return tc, nil
	}
}

// lookup returns the tracked connection with the remote address, or nil.
func (l *conns) lookup(addr net.Addr) *trackedConn {
	if addr == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byAddr[addr.String()]
}

// trackedConn counts what the server hands the client (reserved) and what
// the socket takes (written): the difference is queued in the server.
type trackedConn struct {
	net.Conn
	l   *conns
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

func (c *trackedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.written.Add(int64(n))
		c.progress.Store(time.Now().UnixNano())
	}
	return n, err
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() {
		l := c.l
		l.mu.Lock()
		l.open--
		if l.byAddr[c.key] == c {
			delete(l.byAddr, c.key)
		}
		l.mu.Unlock()
		l.metrics.connOpen.Dec()
	})
	return err
}

// unread is the bytes handed to the connection and not yet written to it.
func (c *trackedConn) unread() int64 {
	return max(0, c.reserved.Load()-c.written.Load())
}

// reserve counts n bytes about to be queued. Bytes written beyond those
// reserved (pings, settings, TLS framing) do not count as credit.
func (c *trackedConn) reserve(n int64) {
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

// account counts a response of size bytes for connection c and, when the
// responses unread on all connections are over unreadBudget, closes the
// connections with the most until they are not. It reports whether c is
// still open: when it is not, the response need not be encoded at all.
func (l *conns) account(c *trackedConn, size int) bool {
	c.reserve(int64(size + responseOverhead))
	// Below its share of the budget a connection cannot take the total
	// over it, so the common case looks at nothing else.
	if c.unread() <= l.budget/int64(l.max) {
		return true
	}
	for {
		l.mu.Lock()
		var total int64
		var worst *trackedConn
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
		l.cut(worst, "the responses unread on all connections are over the server's budget")
	}
}

// cut closes a connection that does not read its responses: grpc-go then
// drops what it had queued for it, and its calls fail UNAVAILABLE, which
// clients retry on a new connection.
func (l *conns) cut(c *trackedConn, why string) {
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
	l.metrics.connCut.Inc()
	l.logger.Warn("connection closed: its client does not read its responses", zap.String("reason", why),
		zap.Int64("unread_bytes", unread), zap.String("peer", c.key))
}

// watchStalls closes the connections whose responses have waited l.stall
// without a byte written, checking every l.stall/30. It returns when ctx
// is done.
func (l *conns) watchStalls(ctx context.Context) {
	t := time.NewTicker(l.stall / 30)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now().UnixNano()
		var stalled []*trackedConn
		l.mu.Lock()
		for _, c := range l.byAddr {
			if c != nil && c.unread() > 0 && time.Duration(now-c.progress.Load()) > l.stall {
				stalled = append(stalled, c)
			}
		}
		l.mu.Unlock()
		for _, c := range stalled {
			l.cut(c, "no byte of its responses taken for "+l.stall.String())
		}
	}
}

type connKey struct{}

// withConn records the connection a call arrived on; connFrom finds it.
func withConn(ctx context.Context, c *trackedConn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

func connFrom(ctx context.Context) *trackedConn {
	c, _ := ctx.Value(connKey{}).(*trackedConn)
	return c
}

// errCut ends the calls still on a connection closed for not reading.
var errCut = status.Error(codes.Unavailable, "connection closed: its client did not read its responses")

// responsesUnary counts each response for its connection, and does no work
// for a call on a connection already closed for not reading.
func (s *Server) responsesUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	c := connFrom(ctx)
	if c == nil {
		return handler(ctx, req)
	}
	if c.cut.Load() {
		return nil, errCut
	}
	resp, err := handler(ctx, req)
	if m, ok := resp.(proto.Message); ok && err == nil && !s.conns.account(c, s.codec.size(m)) {
		return nil, errCut
	}
	return resp, err
}

// responsesStream counts each message a stream sends for its connection.
func (s *Server) responsesStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	c := connFrom(ss.Context())
	if c == nil {
		return handler(srv, ss)
	}
	return handler(srv, &countingStream{ServerStream: ss, conns: s.conns, conn: c, size: s.codec.size})
}

// countingStream counts the messages a stream sends.
type countingStream struct {
	grpc.ServerStream
	conns *conns
	conn  *trackedConn
	size  func(proto.Message) int
}

func (cs *countingStream) SendMsg(m any) error {
	if cs.conn.cut.Load() {
		return errCut
	}
	if pm, ok := m.(proto.Message); ok && !cs.conns.account(cs.conn, cs.size(pm)) {
		return errCut
	}
	return cs.ServerStream.SendMsg(m)
}
