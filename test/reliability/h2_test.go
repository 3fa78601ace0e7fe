package reliability_test

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/proto"
)

// h2Client is a raw HTTP/2 connection to the server, framed by hand with
// golang.org/x/net/http2, for what a well-behaved gRPC client never does:
// hold a request half-sent, flood pings, open and reset streams. A reader
// goroutine answers the server's SETTINGS and PINGs, grants flow control
// for what it receives, and records every frame.
type h2Client struct {
	conn      net.Conn
	fr        *http2.Framer
	authority string
	scheme    string
	token     string

	wmu    sync.Mutex // serializes writes, the header encoder and stream ids
	hbuf   bytes.Buffer
	henc   *hpack.Encoder
	nextID uint32

	mu       sync.Mutex
	streams  map[uint32]*h2Stream
	frames   map[http2.FrameType]int
	rsts     map[http2.ErrCode]int
	goAways  []goAway
	settings chan struct{} // closed at the server's first SETTINGS
	readDone chan struct{} // closed when the reader stops: the connection is closed
	readErr  error
}

// goAway is a GOAWAY frame received.
type goAway struct {
	code       http2.ErrCode
	lastStream uint32
	debug      string
}

func (g goAway) String() string {
	return fmt.Sprintf("GOAWAY(%v, last stream %d, %q)", g.code, g.lastStream, g.debug)
}

// h2Stream is one stream's response.
type h2Stream struct {
	headers, trailers map[string]string
	data              []byte
	reset             *http2.ErrCode
	done              chan struct{} // closed at END_STREAM, RST_STREAM or connection end
}

// Flow-control windows the raw client grants the server: large, so a
// response never waits on the test.
const h2Window = 1 << 20

// dialH2 connects to addr (with TLS and ALPN h2 when tlsCfg is set), sends
// the client preface and SETTINGS and starts the reader. token, when set,
// goes in every request's authorization header.
func dialH2(t *testing.T, addr string, tlsCfg *tls.Config, token string) *h2Client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	scheme := "http"
	if tlsCfg != nil {
		tc := tls.Client(conn, tlsCfg)
		_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			_ = conn.Close()
			t.Fatalf("TLS handshake with %s: %v", addr, err)
		}
		_ = tc.SetDeadline(time.Time{})
		conn, scheme = tc, "https"
	}
	c := &h2Client{
		conn: conn, authority: addr, scheme: scheme, token: token, nextID: 1,
		streams: map[uint32]*h2Stream{}, frames: map[http2.FrameType]int{}, rsts: map[http2.ErrCode]int{},
		settings: make(chan struct{}), readDone: make(chan struct{}),
	}
	c.fr = http2.NewFramer(conn, conn)
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = 1 << 20
	c.henc = hpack.NewEncoder(&c.hbuf)
	err = c.write(func() error {
		if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
			return err
		}
		if err := c.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2Window}); err != nil {
			return err
		}
		return c.fr.WriteWindowUpdate(0, h2Window)
	})
	if err != nil {
		_ = conn.Close()
		t.Fatalf("HTTP/2 preface to %s: %v", addr, err)
	}
	go c.read()
	t.Cleanup(c.close)
	select {
	case <-c.settings:
	case <-c.readDone:
		t.Fatalf("the server closed the connection before its SETTINGS: %v", c.readErr)
	case <-time.After(5 * time.Second):
		t.Fatal("no SETTINGS from the server in 5s")
	}
	return c
}

// write runs f holding the write lock, with a write deadline so a server
// that stops reading cannot hang the test.
func (c *h2Client) write(f func() error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return f()
}

// close closes the connection and waits for the reader.
func (c *h2Client) close() {
	_ = c.conn.Close()
	<-c.readDone
}

func (c *h2Client) read() {
	defer close(c.readDone)
	var settingsOnce sync.Once
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			for _, s := range c.streams {
				select {
				case <-s.done:
				default:
					close(s.done)
				}
			}
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		c.frames[f.Header().Type]++
		s := c.streams[f.Header().StreamID]
		c.mu.Unlock()
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = c.write(c.fr.WriteSettingsAck)
				settingsOnce.Do(func() { close(c.settings) })
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = c.write(func() error { return c.fr.WritePing(true, f.Data) })
			}
		case *http2.DataFrame:
			n := uint32(len(f.Data()))
			c.mu.Lock()
			if s != nil {
				s.data = append(s.data, f.Data()...)
			}
			c.mu.Unlock()
			if n > 0 {
				_ = c.write(func() error {
					if err := c.fr.WriteWindowUpdate(0, n); err != nil {
						return err
					}
					if f.StreamEnded() {
						return nil
					}
					return c.fr.WriteWindowUpdate(f.StreamID, n)
				})
			}
			if s != nil && f.StreamEnded() {
				c.end(s, nil)
			}
		case *http2.MetaHeadersFrame:
			fields := map[string]string{}
			for _, hf := range f.Fields {
				fields[hf.Name] = hf.Value
			}
			c.mu.Lock()
			if s != nil {
				if s.headers == nil {
					s.headers = fields
				} else {
					s.trailers = fields
				}
				// A trailers-only response carries the status in its headers.
				if f.StreamEnded() && s.trailers == nil {
					s.trailers = fields
				}
			}
			c.mu.Unlock()
			if s != nil && f.StreamEnded() {
				c.end(s, nil)
			}
		case *http2.RSTStreamFrame:
			c.mu.Lock()
			c.rsts[f.ErrCode]++
			c.mu.Unlock()
			if s != nil {
				code := f.ErrCode
				c.end(s, &code)
			}
		case *http2.GoAwayFrame:
			c.mu.Lock()
			// string() copies the debug data, valid only until the next read.
			c.goAways = append(c.goAways, goAway{code: f.ErrCode, lastStream: f.LastStreamID, debug: string(f.DebugData())})
			c.mu.Unlock()
		}
	}
}

func (c *h2Client) end(s *h2Stream, code *http2.ErrCode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-s.done:
	default:
		s.reset = code
		close(s.done)
	}
}

// open starts a request stream for path (a gRPC method, e.g.
// /pkg.Service/Method) and returns its id and, when track is set, its
// response.
func (c *h2Client) open(path string, endStream, track bool) (uint32, *h2Stream, error) {
	var s *h2Stream
	var id uint32
	err := c.write(func() error {
		id = c.nextID
		c.nextID += 2
		if track {
			s = &h2Stream{done: make(chan struct{})}
			c.mu.Lock()
			c.streams[id] = s
			c.mu.Unlock()
		}
		c.hbuf.Reset()
		fields := []hpack.HeaderField{
			{Name: ":method", Value: "POST"},
			{Name: ":scheme", Value: c.scheme},
			{Name: ":path", Value: path},
			{Name: ":authority", Value: c.authority},
			{Name: "content-type", Value: "application/grpc"},
			{Name: "te", Value: "trailers"},
		}
		if c.token != "" {
			fields = append(fields, hpack.HeaderField{Name: "authorization", Value: "Bearer " + c.token, Sensitive: true})
		}
		for _, f := range fields {
			if err := c.henc.WriteField(f); err != nil {
				return err
			}
		}
		return c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hbuf.Bytes(), EndHeaders: true, EndStream: endStream})
	})
	return id, s, err
}

// data sends b on stream id.
func (c *h2Client) data(id uint32, b []byte, endStream bool) error {
	return c.write(func() error { return c.fr.WriteData(id, endStream, b) })
}

// grpcFrame is m in gRPC's length-prefixed message framing.
func grpcFrame(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 5, 5+len(b))
	binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
	return append(out, b...)
}

// result waits for the stream to end and decodes its response into m: an
// error unless it ended with grpc-status 0 and one message.
func (c *h2Client) result(s *h2Stream, limit time.Duration, m proto.Message) error {
	select {
	case <-s.done:
	case <-time.After(limit):
		return fmt.Errorf("no response in %v", limit)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case s.reset != nil:
		return fmt.Errorf("stream reset: %v", *s.reset)
	case s.trailers == nil:
		return fmt.Errorf("no trailers (connection: %v)", c.readErr)
	case s.trailers["grpc-status"] != "0":
		return fmt.Errorf("grpc-status %s: %s", s.trailers["grpc-status"], s.trailers["grpc-message"])
	case len(s.data) < 5 || int(binary.BigEndian.Uint32(s.data[1:5])) != len(s.data)-5:
		return fmt.Errorf("response is not one gRPC message: %d bytes", len(s.data))
	}
	return proto.Unmarshal(s.data[5:], m)
}

// received returns the GOAWAYs and the RST_STREAM codes received so far.
func (c *h2Client) received() ([]goAway, map[http2.ErrCode]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rsts := map[http2.ErrCode]int{}
	for k, v := range c.rsts {
		rsts[k] = v
	}
	return append([]goAway(nil), c.goAways...), rsts
}

// frameCounts summarizes the frames received, for a report.
func (c *h2Client) frameCounts() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for typ, n := range c.frames {
		parts = append(parts, fmt.Sprintf("%v=%d", typ, n))
	}
	return strings.Join(parts, " ")
}
