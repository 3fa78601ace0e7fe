package connlimit

import (
	"context"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// The unread-response budget. HTTP/2 flow control stops a server sending
// more than the client's window, so a client that never reads leaves every
// response it asked for queued in the server's memory; the protocols bound
// that by nothing but the number of streams. The doors count those bytes
// here: what they hand a connection (Account) against what its socket
// takes (Write).

// counters are a connection's byte counts.
type counters struct {
	reserved atomic.Int64
	written  atomic.Int64
	// progress is when (UnixNano) the client last took bytes, or began to
	// wait for some: a stall is measured from it.
	progress atomic.Int64
	// cut is set when the connection is closed for not reading, so the
	// calls still on it are not worked for.
	cut atomic.Bool
}

func (c *Conn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.written.Add(int64(n))
		c.progress.Store(time.Now().UnixNano())
	}
	return n, err
}

// Cut reports whether the connection was closed for not reading: the calls
// still on it need no more work.
func (c *Conn) Cut() bool { return c.cut.Load() }

// unread is the bytes handed to the connection and not yet written to it.
func (c *Conn) unread() int64 {
	return max(0, c.reserved.Load()-c.written.Load())
}

// reserve counts n bytes about to be queued. Bytes written beyond those
// reserved (pings, settings, headers, TLS framing) do not count as credit.
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
	if c.unread() <= l.lim.UnreadBudget/int64(l.lim.MaxConnections) {
		return !c.cut.Load()
	}
	for {
		l.mu.Lock()
		var total int64
		var worst *Conn
		for tc := range l.conns {
			u := tc.unread()
			total += u
			if worst == nil || u > worst.unread() {
				worst = tc
			}
		}
		l.mu.Unlock()
		if total <= l.lim.UnreadBudget || worst == nil {
			return !c.cut.Load()
		}
		l.cutConn(worst, "the responses unread on all connections are over the server's budget")
	}
}

// Account counts n bytes of a response about to be queued for c, as
// Limiter.Account does.
func (c *Conn) Account(n int) bool { return c.l.Account(c, n) }

// cutConn closes a connection that does not read its responses: the
// server then drops what it had queued for it, and its calls fail, which
// clients retry on a new connection.
func (l *Limiter) cutConn(c *Conn, why string) {
	if !c.cut.CompareAndSwap(false, true) {
		return // cut already, by another call
	}
	unread := c.unread()
	l.mu.Lock()
	cl := l.release(c, "cut") // counted out at once, so the caller's loop ends
	l.mu.Unlock()
	l.finish(cl)
	l.logger.Warn("connection closed: its client does not read its responses", zap.String("reason", why),
		zap.Int64("unread_bytes", unread), zap.String("door", c.door), zap.String("peer", c.addr.String()))
}

// WatchStalls closes the connections whose responses have waited the stall
// timeout without a byte written, checking thirty times per timeout. It
// returns when ctx is done.
func (l *Limiter) WatchStalls(ctx context.Context) {
	t := time.NewTicker(l.lim.StallTimeout / 30)
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
		for c := range l.conns {
			if c.unread() > 0 && time.Duration(now-c.progress.Load()) > l.lim.StallTimeout {
				stalled = append(stalled, c)
			}
		}
		l.mu.Unlock()
		for _, c := range stalled {
			l.cutConn(c, "no byte of its responses taken for "+l.lim.StallTimeout.String())
		}
	}
}

// Reservation is what one response has counted on its connection so far.
// A door that counts a response twice over (the interceptor chain its
// encoded size before it is written, which spares the encoding of one
// that would take the connection over the budget; the HTTP door every byte
// it writes, errors and its own pages included) counts each byte once.
//
// A response the door holds in more than one copy while it waits for the
// client (the HTTP door's: the gRPC server's encoding behind the door and
// the transcoder's buffer of it) is counted at that cost, as the memory it
// takes: the copies beyond the one written are counted when the chain
// reserves the response and given back when the response ends (Close),
// since the writes give back only the bytes the socket takes.
type Reservation struct {
	c      *Conn
	copies int64
	ahead  atomic.Int64 // bytes counted before they were written
	held   atomic.Int64 // bytes counted for the copies beyond the written one
}

// Reservation starts counting one response on c, held in copies copies
// (at least one) until it is written.
func (c *Conn) Reservation(copies int) *Reservation {
	return &Reservation{c: c, copies: int64(max(1, copies))}
}

// Cut reports whether the response's connection was closed for not reading.
func (r *Reservation) Cut() bool { return r.c.Cut() }

// Reserve counts n bytes about to be written, ahead of the writes, in all
// their copies; it reports whether the connection is still open.
func (r *Reservation) Reserve(n int) bool {
	r.ahead.Add(int64(n))
	extra := int64(n) * (r.copies - 1)
	r.held.Add(extra)
	return r.c.Account(int(int64(n) + extra))
}

// Write counts the n bytes of a write, but those counted ahead; it reports
// whether the connection is still open.
func (r *Reservation) Write(n int) bool {
	for {
		ahead := r.ahead.Load()
		covered := min(ahead, int64(n))
		if r.ahead.CompareAndSwap(ahead, ahead-covered) {
			if rest := int64(n) - covered; rest > 0 {
				return r.c.Account(int(rest))
			}
			return !r.c.Cut()
		}
	}
}

// Close gives back what was counted ahead and never written (a response
// that failed, or came out smaller than its estimate): it was never queued,
// so it must not stay counted as unread; and the copies the response was
// held in, freed once it has ended.
func (r *Reservation) Close() {
	left := r.ahead.Swap(0) + r.held.Swap(0)
	for left > 0 {
		res, w := r.c.reserved.Load(), r.c.written.Load()
		if r.c.reserved.CompareAndSwap(res, max(w, res-left)) {
			return
		}
	}
}

type reservationKey struct{}

// WithReservation records the reservation of the response to a request;
// ReservationFrom finds it.
func WithReservation(ctx context.Context, r *Reservation) context.Context {
	return context.WithValue(ctx, reservationKey{}, r)
}

// ReservationFrom returns the reservation WithReservation recorded, or nil.
func ReservationFrom(ctx context.Context) *Reservation {
	r, _ := ctx.Value(reservationKey{}).(*Reservation)
	return r
}
