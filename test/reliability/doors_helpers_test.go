package reliability_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// Helpers for the tests of issue 25 (doors_test.go): both doors attacked
// as a hostile client would, and probed by a new, honest client meanwhile.

// attackerIP is the loopback address the attacks come from, so the
// server's per-address share can tell them from the probes, which come
// from 127.0.0.1 (Linux routes all of 127/8 to the loopback).
const attackerIP = "127.0.0.2"

// dialFrom connects to addr from the loopback address ip.
func dialFrom(ip, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", addr)
}

// fdCount is the number of file descriptors the process holds open.
func fdCount(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("read fds of %d: %v", pid, err)
	}
	return len(entries)
}

// gzipped compresses b.
func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// httpClient is a client of the HTTP door that keeps no connection
// between requests, so every request is a new connection.
func httpClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, ExpectContinueTimeout: 5 * time.Second}}
}

// httpCall makes one request to the HTTP door and returns its status and
// body; headers are name, value pairs.
func httpCall(c *http.Client, method, url string, body []byte, headers ...string) (int, []byte, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// probes is what a stream of new, honest clients saw: each probe dials
// anew, and counts only when answered within probeLimit.
type probes struct {
	mu       sync.Mutex
	ok, all  int
	slowest  time.Duration
	failures []string
}

// probeLimit is how soon a probe must be answered to count.
const probeLimit = 2 * time.Second

func (p *probes) record(what string, took time.Duration, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.all++
	if took > p.slowest {
		p.slowest = took
	}
	switch {
	case err != nil:
		if len(p.failures) < 5 {
			p.failures = append(p.failures, fmt.Sprintf("%s: %v", what, err))
		}
	case took > probeLimit:
		if len(p.failures) < 5 {
			p.failures = append(p.failures, fmt.Sprintf("%s: answered after %v", what, took.Round(time.Millisecond)))
		}
	default:
		p.ok++
	}
}

// share is the share of probes answered in time.
func (p *probes) share() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.all == 0 {
		return 0
	}
	return float64(p.ok) / float64(p.all)
}

func (p *probes) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("%d of %d answered within %v (slowest %v)", p.ok, p.all, probeLimit, p.slowest.Round(time.Millisecond))
}

// probeGRPC makes a health check and an AssessCountry from a new gRPC
// client connection, each within probeLimit.
func (p *probes) probeGRPC(addr string) {
	start := time.Now()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		p.record("dial", 0, err)
		return
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), probeLimit)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	p.record("gRPC health", time.Since(start), err)
	start = time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), probeLimit)
	defer cancel()
	_, err = pb.NewAssessmentServiceClient(conn).AssessCountry(ctx, &pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01", View: basic})
	p.record("gRPC assess", time.Since(start), err)
}

// probeHTTP makes a GET /healthz and a REST assess from new connections.
func (p *probes) probeHTTP(addr string) {
	c := httpClient()
	c.Timeout = probeLimit
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/healthz", ""},
		{"POST", "/v1/countries/MX:assess", `{"as_of":"2019-01-01","view":"ASSESSMENT_VIEW_BASIC"}`},
	} {
		start := time.Now()
		code, _, err := httpCall(c, r.method, "http://"+addr+r.path, []byte(r.body))
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("HTTP %d", code)
		}
		p.record("HTTP "+r.path, time.Since(start), err)
	}
}

// run probes with probe every interval until ctx is done.
func (p *probes) run(ctx context.Context, interval time.Duration, probe func()) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			probe()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return &wg
}

// attack runs n attackers, each opening a connection with open and, when
// the server closes it, opening another, until ctx is done; it returns
// once all are stopped and their connections closed, with the number of
// connections opened.
func attack(ctx context.Context, n int, open func() (net.Conn, error)) func() int64 {
	var wg sync.WaitGroup
	var opened atomic.Int64
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				conn, err := open()
				if err != nil {
					select {
					case <-ctx.Done():
					case <-time.After(50 * time.Millisecond):
					}
					continue
				}
				opened.Add(1)
				closed := make(chan struct{})
				go func() {
					_, _ = io.Copy(io.Discard, conn) // until the server closes it
					close(closed)
				}()
				select {
				case <-ctx.Done():
				case <-closed:
				}
				_ = conn.Close()
				<-closed
			}
		})
	}
	return func() int64 {
		wg.Wait()
		return opened.Load()
	}
}

// h2Preface opens a plaintext HTTP/2 connection from ip: the client
// preface and empty SETTINGS, nothing more.
func h2Preface(ip, addr string) (net.Conn, *http2.Framer, error) {
	conn, err := dialFrom(ip, addr)
	if err != nil {
		return nil, nil, err
	}
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fr := http2.NewFramer(conn, nil)
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	if err := fr.WriteSettings(); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	return conn, fr, nil
}

// halfSent opens an HTTP/2 connection from ip whose one call sends its
// headers and half its request, and nothing more.
func halfSent(ip, addr string) (net.Conn, error) {
	conn, fr, err := h2Preface(ip, addr)
	if err != nil {
		return nil, err
	}
	var hbuf bytes.Buffer
	henc := hpack.NewEncoder(&hbuf)
	for _, f := range grpcHeaders(addr, "/safethird.v1.AssessmentService/AssessCountry") {
		_ = henc.WriteField(f)
	}
	body := grpcFrameBytes(&pb.AssessCountryRequest{CountryCode: "MX", AsOf: "2019-01-01"})
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hbuf.Bytes(), EndHeaders: true}); err != nil {
		_ = conn.Close()
		return nil, err
	}
	if err := fr.WriteData(1, false, body[:len(body)/2]); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// grpcHeaders are the headers of a gRPC call to path, without a token.
func grpcHeaders(authority, path string) []hpack.HeaderField {
	return []hpack.HeaderField{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: path},
		{Name: ":authority", Value: authority}, {Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	}
}

// grpcFrameBytes is m in gRPC's length-prefixed framing.
func grpcFrameBytes(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err) // a request message built by the test always marshals
	}
	out := make([]byte, 5, 5+len(b))
	binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
	return append(out, b...)
}

// zeroWindow is an HTTP/2 connection that grants the server no
// flow-control window: the server may send a response's headers, never a
// byte of its body. It answers the server's SETTINGS and PINGs and reads
// every frame, so the connection is no stalled socket: flow control alone
// holds the responses in the server.
type zeroWindow struct {
	conn      net.Conn
	authority string
	wmu       sync.Mutex // serializes writes, the header encoder and stream ids
	fr        *http2.Framer
	hbuf      bytes.Buffer
	henc      *hpack.Encoder
	next      uint32
	done      chan struct{}
}

// dialZeroWindow opens a plaintext HTTP/2 connection granting window 0.
func dialZeroWindow(addr string) (*zeroWindow, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	z := &zeroWindow{conn: conn, authority: addr, fr: http2.NewFramer(conn, nil), next: 1, done: make(chan struct{})}
	z.henc = hpack.NewEncoder(&z.hbuf)
	err = z.write(func() error {
		if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
			return err
		}
		return z.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	})
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	go z.read()
	return z, nil
}

func (z *zeroWindow) write(f func() error) error {
	z.wmu.Lock()
	defer z.wmu.Unlock()
	_ = z.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return f()
}

func (z *zeroWindow) read() {
	defer close(z.done)
	rf := http2.NewFramer(nil, z.conn)
	rf.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	for {
		f, err := rf.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = z.write(z.fr.WriteSettingsAck)
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = z.write(func() error { return z.fr.WritePing(true, f.Data) })
			}
		}
	}
}

// request sends a request on a new stream: method and path, with body
// (nil for none) of the content type, and extra headers as name, value
// pairs.
func (z *zeroWindow) request(method, path, contentType string, body []byte, extra ...string) error {
	return z.write(func() error {
		id := z.next
		z.next += 2
		z.hbuf.Reset()
		fields := []hpack.HeaderField{
			{Name: ":method", Value: method}, {Name: ":scheme", Value: "http"}, {Name: ":path", Value: path},
			{Name: ":authority", Value: z.authority},
		}
		if contentType != "" {
			fields = append(fields, hpack.HeaderField{Name: "content-type", Value: contentType})
		}
		for i := 0; i+1 < len(extra); i += 2 {
			fields = append(fields, hpack.HeaderField{Name: extra[i], Value: extra[i+1]})
		}
		for _, f := range fields {
			if err := z.henc.WriteField(f); err != nil {
				return err
			}
		}
		if err := z.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: z.hbuf.Bytes(), EndHeaders: true, EndStream: body == nil}); err != nil {
			return err
		}
		if body == nil {
			return nil
		}
		return z.fr.WriteData(id, true, body)
	})
}

// close closes the connection and waits for its reader.
func (z *zeroWindow) close() {
	_ = z.conn.Close()
	<-z.done
}

// sortedKeys returns m's keys, sorted, for a stable report.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
