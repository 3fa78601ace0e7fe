// Package resetguard answers a flood of HTTP/2 stream resets with GOAWAY.
// A client that opens streams and resets them at once (HEADERS then
// RST_STREAM, as in CVE-2023-44487) costs itself two frames a call and the
// server a call's setup, accounting and log line; grpc-go bounds the
// streams open at once, not those opened and reset. Wrapped around a gRPC
// server's transport credentials, it watches the frame headers each
// connection's client sends, and when one resets more streams in a window
// than the limit allows, it sends GOAWAY ENHANCE_YOUR_CALM, between two of
// the server's own frames, and closes the connection.
//
// It reads frame headers only, never a frame's payload, and must not
// change a byte the connection carries.
package resetguard

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc/credentials"
)

// Limits are how many streams a client may reset in a window.
type Limits struct {
	MaxResets int
	Window    time.Duration
}

// Credentials returns inner, with each connection it hands the server
// watched: past lim, the connection gets GOAWAY and is closed, and
// onClose is called with the raw connection (to count it).
func Credentials(inner credentials.TransportCredentials, lim Limits, onClose func(raw net.Conn)) credentials.TransportCredentials {
	return &guarded{TransportCredentials: inner, lim: lim, onClose: onClose}
}

type guarded struct {
	credentials.TransportCredentials
	lim     Limits
	onClose func(net.Conn)
}

func (g *guarded) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	inner, info, err := g.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		return nil, nil, err
	}
	c := &conn{Conn: inner, raw: raw, lim: g.lim, onClose: g.onClose}
	c.in.skip = len(http2.ClientPreface)
	c.in.frame = c.received
	return c, info, nil
}

func (g *guarded) Clone() credentials.TransportCredentials {
	return &guarded{TransportCredentials: g.TransportCredentials.Clone(), lim: g.lim, onClose: g.onClose}
}

// conn is a server connection whose client's frames are watched.
type conn struct {
	net.Conn
	raw     net.Conn
	lim     Limits
	onClose func(net.Conn)

	// Read side: only the transport's reader goroutine reads.
	in          scanner
	lastStream  uint32 // the highest stream the client opened
	windowStart time.Time
	resets      int

	// Write side: the transport's writes, and the GOAWAY between two of
	// its frames.
	wmu     sync.Mutex
	out     scanner
	pending atomic.Bool // GOAWAY due, at the next frame boundary
	done    bool        // GOAWAY sent: nothing more is written

	// gone is set once GOAWAY is sent: the reader lingers, then closes.
	gone      atomic.Bool
	closeOnce sync.Once
}

func (c *conn) Read(p []byte) (int, error) {
	if c.gone.Load() {
		return 0, c.linger()
	}
	n, err := c.Conn.Read(p)
	c.in.scan(p[:n])
	if c.gone.Load() {
		return 0, c.linger()
	}
	return n, err
}

// lingerTime is how long a connection sent GOAWAY keeps reading (and
// dropping) what its client still sends before it is closed. Closed at
// once, with the client's flood unread, the kernel would answer with a
// reset, and a reset makes the client's kernel drop what it has not yet
// read: the GOAWAY itself.
const lingerTime = time.Second

// linger drops what the client sends until it closes its side or
// lingerTime has passed (sendGoAway set the deadline), then closes the
// connection. It runs on the transport's reader goroutine, which is
// reading anyway; it returns the error the reader then stops on.
func (c *conn) linger() error {
	buf := make([]byte, 16<<10)
	for {
		if _, err := c.Conn.Read(buf); err != nil {
			break
		}
	}
	c.closeOnce.Do(func() {
		_ = c.Conn.Close()
		c.onClose(c.raw)
	})
	return io.EOF
}

// received watches one frame header from the client.
func (c *conn) received(typ http2.FrameType, stream uint32) {
	switch typ {
	case http2.FrameHeaders:
		c.lastStream = max(c.lastStream, stream)
	case http2.FrameRSTStream:
		now := time.Now()
		if now.Sub(c.windowStart) > c.lim.Window {
			c.windowStart, c.resets = now, 0
		}
		c.resets++
		if c.resets == c.lim.MaxResets+1 {
			c.goAway()
		}
	}
}

func (c *conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.done {
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Write(p)
	c.out.scan(p[:n])
	if c.pending.Load() && c.out.atBoundary() {
		c.sendGoAway()
	}
	return n, err
}

// goAway sends GOAWAY now, when no frame of the server's is being
// written, or else as soon as the write under way leaves none half
// written. It never waits for a write: one to a client that does not read
// can block until the connection closes.
func (c *conn) goAway() {
	c.pending.Store(true)
	if !c.wmu.TryLock() {
		return
	}
	defer c.wmu.Unlock()
	if c.out.atBoundary() {
		c.sendGoAway()
	}
}

// sendGoAway writes GOAWAY ENHANCE_YOUR_CALM, ends the server's side of
// the connection (the client reads the GOAWAY, then its end) and leaves
// the reader to linger and close it. Called with wmu held.
func (c *conn) sendGoAway() {
	if c.done {
		return
	}
	c.done = true
	var b bytes.Buffer
	// Writing to a buffer does not fail.
	_ = http2.NewFramer(&b, nil).WriteGoAway(c.lastStream, http2.ErrCodeEnhanceYourCalm, []byte("too many streams reset"))
	deadline := time.Now().Add(lingerTime)
	_ = c.Conn.SetWriteDeadline(deadline)
	_, _ = c.Conn.Write(b.Bytes()) // the client may be gone: it is closed either way
	if cw, ok := tcpOf(c.raw).(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	// Wakes the reader, when it waits for a client gone quiet.
	_ = c.Conn.SetReadDeadline(deadline)
	c.gone.Store(true)
}

// tcpOf unwraps the connections around a raw one (the connection limit's)
// down to the TCP connection, whose write side can be shut alone.
func tcpOf(c net.Conn) net.Conn {
	for {
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return c
		}
		c = w.NetConn()
	}
}

// scanner follows the frame boundaries of one direction of a connection.
type scanner struct {
	skip  int     // bytes left of a frame's payload, or of the preface
	hdr   [9]byte // a frame header being read
	n     int     // bytes of hdr read
	frame func(http2.FrameType, uint32)
}

// scan reads b, calling frame for each frame header completed.
func (s *scanner) scan(b []byte) {
	for len(b) > 0 {
		if s.skip > 0 {
			k := min(s.skip, len(b))
			s.skip -= k
			b = b[k:]
			continue
		}
		k := copy(s.hdr[s.n:], b)
		s.n += k
		b = b[k:]
		if s.n < len(s.hdr) {
			return
		}
		s.n = 0
		s.skip = int(s.hdr[0])<<16 | int(s.hdr[1])<<8 | int(s.hdr[2])
		if s.frame != nil {
			s.frame(http2.FrameType(s.hdr[3]), binary.BigEndian.Uint32(s.hdr[5:])&(1<<31-1))
		}
	}
}

// atBoundary reports whether no frame is half scanned.
func (s *scanner) atBoundary() bool { return s.skip == 0 && s.n == 0 }
