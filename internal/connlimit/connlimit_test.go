package connlimit

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// testConns serves a real TCP listener through conns with max connections,
// accepting in the background; it returns the listener and the connections
// accepted, in order.
func testConns(t *testing.T, max int) (*served, <-chan *Conn) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	l := New(Limits{MaxConnections: max, UnreadBudget: DefaultUnreadBudget, StallTimeout: DefaultStallTimeout}, zap.NewNop(), m)
	ln := l.Listen(lis)
	accepted := make(chan *Conn, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c.(*Conn)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	return &served{Limiter: l, addr: lis.Addr().String()}, accepted
}

// served is a Limiter serving one listener, at addr.
type served struct {
	*Limiter
	addr string
}

func dial(t *testing.T, l *served) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedByServer reports whether the server closed c within limit.
func closedByServer(c net.Conn, limit time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(limit))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF
}

func TestMaxConnections(t *testing.T) {
	l, accepted := testConns(t, 2)
	a, b := dial(t, l), dial(t, l)
	first := <-accepted
	<-accepted
	over := dial(t, l)
	if !closedByServer(over, 5*time.Second) {
		t.Error("a third connection over a limit of 2 was not closed")
	}
	if closedByServer(a, 100*time.Millisecond) || closedByServer(b, 100*time.Millisecond) {
		t.Error("a connection within the limit was closed")
	}
	_ = first.Close() // the server ends a connection: a place frees up
	again := dial(t, l)
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted after one closed")
	}
	if closedByServer(again, 100*time.Millisecond) {
		t.Error("a connection within the limit again was closed")
	}
}

// Past the budget of unread responses, the connection with the most is
// closed, and only it.
func TestUnreadBudgetClosesTheWorst(t *testing.T) {
	l, accepted := testConns(t, 4)
	l.budget = 10_000
	light, heavy := dial(t, l), dial(t, l)
	lightC, heavyC := <-accepted, <-accepted
	if !l.Account(lightC, 100) || !l.Account(heavyC, 100) {
		t.Fatal("responses within the budget cut their connection")
	}
	if l.Account(heavyC, 10_000) {
		t.Error("the response that took its connection over the budget was not refused")
	}
	if !closedByServer(heavy, 5*time.Second) || !heavyC.cut.Load() {
		t.Error("the connection with the most unread was not closed")
	}
	if closedByServer(light, 100*time.Millisecond) || lightC.cut.Load() {
		t.Error("the connection within its share was closed")
	}
	// Bytes written to the client count as read.
	if _, err := lightC.Write(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if got := lightC.unread(); got != 0 {
		t.Errorf("unread after the client took it all = %d, want 0", got)
	}
}

// A connection whose client takes no byte of its responses is closed after
// the stall timeout, however small its responses.
func TestStalledConnectionIsClosed(t *testing.T) {
	l, accepted := testConns(t, 4)
	l.stall = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.WatchStalls(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	idle, stalled := dial(t, l), dial(t, l)
	<-accepted
	stalledC := <-accepted
	time.Sleep(2 * l.stall) // long idle, nothing waiting: not a stall
	l.Account(stalledC, 10)
	if !closedByServer(stalled, 5*time.Second) {
		t.Error("a stalled connection was not closed")
	}
	if closedByServer(idle, 100*time.Millisecond) {
		t.Error("an idle connection was closed")
	}
}

// Regression: a client that read every response, on a connection never
// idle (a call always in flight), was closed as not reading after some
// 35,000 calls: each response reserved 512 bytes for its framing, which
// takes about 60 on the wire, and what was reserved and never written
// was never given back.
func TestBusyReadingConnectionIsNotClosed(t *testing.T) {
	l, accepted := testConns(t, 4)
	l.budget = 1 << 20
	client := dial(t, l)
	c := <-accepted
	read := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, client)
		read <- err
	}()
	// One response for a call always in flight, then each call's: each
	// counted as gRPC counts it, the message and its prefix.
	const calls, size, framing, grpcPrefix = 20_000, 100, 60, 5
	l.Account(c, grpcPrefix+size)
	for i := range calls {
		if !l.Account(c, grpcPrefix+size) {
			t.Fatalf("call %d: a connection whose client reads everything was cut, %d bytes counted unread", i, c.unread())
		}
		if _, err := c.Write(make([]byte, grpcPrefix+size+framing)); err != nil {
			t.Fatal(err)
		}
	}
	if got, most := c.unread(), int64(2*(grpcPrefix+size)); got > most {
		t.Errorf("unread after %d calls = %d, want at most the %d of the calls in flight", calls, got, most)
	}
	_ = client.Close()
	<-read
}
