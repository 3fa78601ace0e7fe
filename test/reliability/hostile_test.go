package reliability_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	pb "github.com/safethird/safethird/proto/safethird/v1"
)

// handshakeTimeout is the server's limit on a new connection's TLS and
// HTTP/2 handshake (server.handshakeTimeout).
const handshakeTimeout = 5 * time.Second

// closedAfter waits, until limit after start, for the server to close
// conn, and returns when it did; it fails if the server sends anything but
// a close (a TLS alert counts as a close).
func closedAfter(conn net.Conn, start time.Time, limit time.Duration) (time.Duration, error) {
	_ = conn.SetReadDeadline(start.Add(limit))
	buf := make([]byte, 512)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue // a TLS record, e.g. the server's session tickets
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return 0, fmt.Errorf("still open %v after connecting", limit)
		}
		return time.Since(start), nil // EOF, reset or a TLS alert: closed
	}
}

// hostileResult is one kind of hostile connection's outcome.
type hostileResult struct {
	name   string
	report string
	err    error
}

// TestHostileConnections opens, against the real binary serving TLS with
// tokens, connections that misbehave: many idle TCP connections, TLS
// connections that never send the HTTP/2 preface or only part of it, a
// ping flood, and streams opened past the concurrent-stream limit and
// reset by the thousand. Each must be closed or refused by the configured
// limit while a load of real calls keeps 0 failures.
func TestHostileConnections(t *testing.T) {
	t.Parallel()
	keys := newPKI(t)
	// Room for the 240 silent connections below, all from one address,
	// each to be closed at the handshake timeout, not evicted at
	// --max-connections or at the address's share (TestNeverReadingFlood,
	// the doors tests).
	srv := startServer(t, serverOptions{pki: keys, tokensFile: keys.tokensFile, dropCallLines: true,
		env: []string{"SAFETHIRD_MAX_CONNECTIONS=400", "SAFETHIRD_MAX_CONNECTIONS_PER_SOURCE=400"}})
	c := newClient(t, srv.addr, keys.clientOptions()...)
	items := workItems()
	load := startLoad(t, 4, func(ctx context.Context, w, i int) error {
		_, err := items[(w+i)%len(items)].call(ctx, c)
		return err
	})
	waitFor(t, "the load to start", 20*time.Second, func() bool { return load.calls.Load() >= 20 })
	goBefore := srv.goroutines(t)
	tlsCfg := keys.tlsConfig(t)

	// Connections that never finish their handshake, each closed by the
	// server at its handshake timeout. Started first: they take longest.
	type silent struct {
		name string
		n    int
		open func() (net.Conn, error)
	}
	dialTLS := func(send string) func() (net.Conn, error) {
		return func() (net.Conn, error) {
			conn, err := net.DialTimeout("tcp", srv.addr, 5*time.Second)
			if err != nil {
				return nil, err
			}
			tc := tls.Client(conn, tlsCfg)
			if err := tc.Handshake(); err != nil {
				_ = conn.Close()
				return nil, err
			}
			if _, err := io.WriteString(tc, send); err != nil {
				_ = conn.Close()
				return nil, err
			}
			return tc, nil
		}
	}
	silents := []silent{
		{"idle TCP connections", 200, func() (net.Conn, error) { return net.DialTimeout("tcp", srv.addr, 5*time.Second) }},
		{"TLS connections that never send the HTTP/2 preface", 20, dialTLS("")},
		{"TLS connections that send half the preface", 20, dialTLS(http2.ClientPreface[:12])},
	}
	results := make(chan hostileResult, len(silents)+2)
	var wg sync.WaitGroup
	for _, s := range silents {
		type opened struct {
			conn net.Conn
			at   time.Time
		}
		var conns []opened
		for range s.n {
			at := time.Now()
			conn, err := s.open()
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			t.Cleanup(func() { _ = conn.Close() })
			conns = append(conns, opened{conn, at})
		}
		wg.Go(func() {
			var (
				mu        sync.Mutex
				min, max  time.Duration
				firstErr  error
				closedAll sync.WaitGroup
			)
			for _, o := range conns {
				closedAll.Go(func() {
					d, err := closedAfter(o.conn, o.at, handshakeTimeout+3*time.Second)
					mu.Lock()
					defer mu.Unlock()
					if err == nil && d < handshakeTimeout-500*time.Millisecond {
						err = fmt.Errorf("closed after %v, before the handshake timeout", d)
					}
					if err != nil && firstErr == nil {
						firstErr = err
					}
					if min == 0 || d < min {
						min = d
					}
					max = maxDuration(max, d)
				})
			}
			closedAll.Wait()
			results <- hostileResult{s.name, fmt.Sprintf("%d/%d closed by the server %v to %v after connecting",
				len(conns), s.n, min.Round(10*time.Millisecond), max.Round(10*time.Millisecond)), firstErr}
		})
	}

	// A ping flood: the keepalive policy allows a ping every 10s.
	pings := dialH2(t, srv.addr, tlsCfg, keys.token)
	wg.Go(func() { results <- pingFlood(pings) })
	// Streams past the limit, then opened and reset by the thousand.
	streams := dialH2(t, srv.addr, tlsCfg, keys.token)
	listFrameworks := grpcFrame(t, &pb.ListFrameworksRequest{})
	wg.Go(func() { results <- resetFlood(streams, listFrameworks) })
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			t.Errorf("%s: %v (%s)", r.name, r.err, r.report)
			continue
		}
		figure(t, "%s: %s", r.name, r.report)
	}

	calls := load.wantNoFailures(t, "the load during hostile connections")
	streams.close() // the one hostile connection the server kept
	fresh := newClient(t, srv.addr, keys.clientOptions()...)
	wantServing(t, fresh.Conn())
	_ = fresh.Close()
	// Every hostile connection is gone, and so must its goroutines be.
	goAfter := srv.goroutines(t)
	deadline := time.Now().Add(15 * time.Second)
	for goAfter > goBefore+5 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		goAfter = srv.goroutines(t)
	}
	if goAfter > goBefore+5 {
		t.Errorf("server goroutines: %d before the hostile connections, %d 15s after they ended", goBefore, goAfter)
	}
	figure(t, "%d calls of the concurrent load, 0 failed; server goroutines %d before, %d after", calls, goBefore, goAfter)
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// pingFlood sends pings back to back on an HTTP/2 connection until the
// server answers GOAWAY ENHANCE_YOUR_CALM "too_many_pings" and closes it.
func pingFlood(h *h2Client) hostileResult {
	r := hostileResult{name: "ping flood"}
	const maxPings = 1000
	sent := 0
	for ; sent < maxPings; sent++ {
		if goAways, _ := h.received(); len(goAways) > 0 {
			break
		}
		if err := h.write(func() error { return h.fr.WritePing(false, [8]byte{byte(sent)}) }); err != nil {
			break // closed by the server
		}
	}
	select {
	case <-h.readDone:
	case <-time.After(5 * time.Second):
		r.err = fmt.Errorf("connection still open 5s after %d pings", sent)
		return r
	}
	goAways, _ := h.received()
	r.report = fmt.Sprintf("%d pings sent back to back; server answered %v and closed the connection", sent, goAways)
	if len(goAways) != 1 || goAways[0].code != http2.ErrCodeEnhanceYourCalm || goAways[0].debug != "too_many_pings" {
		r.err = fmt.Errorf("got %v, want one GOAWAY ENHANCE_YOUR_CALM too_many_pings", goAways)
	}
	return r
}

// resetFlood opens streams past the server's limit of 64 concurrent
// streams on one connection (the excess must be refused), then opens and
// resets streams by the thousand, and finally makes a real call on the
// same connection: req, a framed ListFrameworksRequest.
func resetFlood(h *h2Client, req []byte) hostileResult {
	r := hostileResult{name: "streams opened past the limit and reset"}
	const (
		limit  = 64
		opened = 200
		resets = 10_000
		method = "/safethird.v1.CatalogService/ListFrameworks"
	)
	var ids []uint32
	for range opened {
		id, _, err := h.open(method, false, false)
		if err != nil {
			r.err = fmt.Errorf("open stream: %v", err)
			return r
		}
		ids = append(ids, id)
	}
	deadline := time.Now().Add(5 * time.Second)
	refused := 0
	for time.Now().Before(deadline) {
		_, rsts := h.received()
		if refused = rsts[http2.ErrCodeRefusedStream]; refused >= opened-limit {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if refused != opened-limit {
		r.err = fmt.Errorf("%d of %d streams refused, want %d past the limit of %d", refused, opened, opened-limit, limit)
		return r
	}
	for _, id := range ids {
		if err := h.write(func() error { return h.fr.WriteRSTStream(id, http2.ErrCodeCancel) }); err != nil {
			r.err = fmt.Errorf("reset stream: %v", err)
			return r
		}
	}
	start := time.Now()
	sent := 0
	for ; sent < resets; sent++ {
		id, _, err := h.open(method, false, false)
		if err == nil {
			err = h.write(func() error { return h.fr.WriteRSTStream(id, http2.ErrCodeCancel) })
		}
		if err != nil {
			break // the server closed the connection
		}
	}
	floodTook := time.Since(start)
	// Then a real call on the same connection, if the server kept it.
	var outcome string
	id, s, err := h.open(method, false, true)
	if err == nil {
		err = h.data(id, req, true)
	}
	var resp pb.ListFrameworksResponse
	if err == nil {
		err = h.result(s, 10*time.Second, &resp)
	}
	goAways, rsts := h.received()
	switch {
	case err == nil && len(resp.GetFrameworks()) > 0:
		outcome = fmt.Sprintf("a real call on the same connection then answered OK (%d frameworks)", len(resp.GetFrameworks()))
	case len(goAways) > 0:
		outcome = fmt.Sprintf("the server closed the connection with %v", goAways)
	default:
		r.err = fmt.Errorf("after the flood, neither an answer nor a GOAWAY: %v", err)
	}
	r.report = fmt.Sprintf("%d streams opened at once: %d refused with RST_STREAM REFUSED_STREAM past the limit of %d; then %d streams opened and reset in %v (RST_STREAMs from the server: %v); %s",
		opened, refused, limit, sent, floodTook.Round(time.Millisecond), rsts, outcome)
	if sent < resets && len(goAways) == 0 {
		r.err = fmt.Errorf("the flood stopped after %d streams without a GOAWAY", sent)
	}
	return r
}
