package connlimit

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"time"
)

// A lingering close. When a server closes a TCP connection whose client
// has sent bytes the server has not read, the kernel answers with a reset
// and throws away what the server had queued and not yet sent: the end of
// the last responses. grpc-go closes a drained connection one second after
// its last response is queued, whether or not its client has read it, and
// a client still reading sends flow-control updates all the while; a slow
// client (busy, far, or taking a large batch answer) then loses the end of
// an answer the server logged as sent (TestDrain, with the machine busy).
// So Close shuts the write side, which sends what is queued and then the
// end of the stream, and keeps reading, and dropping, what the client
// sends until the client closes its side or lingerTimeout passes; only
// then is the socket closed. Connections the Limiter closes itself (cut
// for not reading, evicted, refused) are closed at once: their clients
// are not owed their responses.

// lingerTimeout bounds how long a closed connection keeps reading its
// client. A gRPC client closes its side as soon as its calls are done
// after a GOAWAY; one that does not is closed at the timeout.
const lingerTimeout = 5 * time.Second

// halfCloser is a connection whose write side can be shut alone (TCP and
// Unix sockets).
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// lingerState is a connection's part in a lingering close.
type lingerState struct {
	// closing is set when the connection is closed: reads from the
	// server fail from then on, as after a close.
	closing atomic.Bool
	// reading counts the server's reads under way, which closing must
	// wake before it reads the socket itself.
	reading atomic.Int32
}

func (c *Conn) Read(b []byte) (int, error) {
	c.reading.Add(1)
	defer c.reading.Add(-1)
	if c.closing.Load() {
		return 0, net.ErrClosed
	}
	return c.Conn.Read(b)
}

// closeLingering closes c's socket once its client has read what was
// queued for it (see above), or at once when the socket cannot be half
// closed or too many connections are lingering already. It returns at
// once; Limiter.WaitClosed waits for the lingering.
func (l *Limiter) closeLingering(c *Conn) error {
	hc, ok := c.Conn.(halfCloser)
	if !ok || l.lingering.Add(1) > int64(l.lim.MaxConnections) {
		if ok {
			l.lingering.Add(-1)
		}
		return c.Conn.Close()
	}
	c.closing.Store(true)
	if err := hc.CloseWrite(); err != nil {
		l.lingering.Add(-1)
		return c.Conn.Close()
	}
	// Wakes a server read under way; it then fails as after a close.
	_ = hc.SetReadDeadline(time.Now())
	l.lingers.Add(1)
	go func() {
		defer l.lingers.Done()
		defer l.lingering.Add(-1)
		// A timer, not a deadline, bounds the linger: a server may still
		// set deadlines on a connection it has closed (grpc-go clears
		// the handshake's after a failed handshake has closed it).
		timer := time.AfterFunc(lingerTimeout, func() { _ = hc.Close() })
		defer timer.Stop()
		// A read the deadline does not wake is not waited for past a
		// second.
		for i := 0; c.reading.Load() > 0 && i < 1000; i++ {
			time.Sleep(time.Millisecond)
		}
		_ = hc.SetReadDeadline(time.Time{})
		_, _ = io.Copy(io.Discard, hc) // until the client's end, an error or the timer
		_ = hc.Close()
	}()
	return nil
}

// SetDeadline and SetReadDeadline do nothing once c is closed: the
// lingering close owns the socket's deadlines then.
func (c *Conn) SetDeadline(t time.Time) error {
	if c.closing.Load() {
		return net.ErrClosed
	}
	return c.Conn.SetDeadline(t)
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	if c.closing.Load() {
		return net.ErrClosed
	}
	return c.Conn.SetReadDeadline(t)
}

// WaitClosed waits until the connections closed so far have finished
// closing (their clients have read what was queued for them) or ctx ends;
// it reports whether they all had. A server calls it before it exits,
// since an exit closes every socket at once.
func (l *Limiter) WaitClosed(ctx context.Context) bool {
	done := make(chan struct{})
	go func() {
		l.lingers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}
