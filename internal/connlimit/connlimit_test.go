package connlimit

import (
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// testConns serves a real TCP listener on 127.0.0.1 through a Limiter with
// lim, accepting in the background; it returns the Limiter and the
// connections accepted, in order.
func testConns(t *testing.T, lim Limits) (*served, <-chan *Conn) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	l := New(lim, zap.NewNop(), m)
	ln := l.Listen(lis, "test")
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
	return &served{Limiter: l, addr: lis.Addr().String(), accepted: accepted}, accepted
}

// served is a Limiter serving one listener, at addr.
type served struct {
	*Limiter
	addr     string
	accepted <-chan *Conn
}

func dial(t *testing.T, l *served) net.Conn {
	t.Helper()
	return dialFrom(t, l, "127.0.0.1")
}

// dialFrom connects to l from the loopback address ip (127.0.0.2, say),
// so tests can stand for clients at several addresses.
func dialFrom(t *testing.T, l *served, ip string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c, err := d.Dial("tcp", l.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// next is the next connection accepted.
func (l *served) next(t *testing.T) *Conn {
	t.Helper()
	select {
	case c := <-l.accepted:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no connection accepted in 5s")
		return nil
	}
}

// closedByServer reports whether the server closed c within limit.
func closedByServer(c net.Conn, limit time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(limit))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF
}

// open reports whether the server keeps c open for a moment.
func open(c net.Conn) bool { return !closedByServer(c, 100*time.Millisecond) }

func limits(max, perSource int) Limits {
	return Limits{MaxConnections: max, MaxPerSource: perSource, UnreadBudget: DefaultUnreadBudget, StallTimeout: DefaultStallTimeout}
}

// Connections that never speak their preface hold handshake places only:
// the oldest is closed to make room for a new one, so silent sockets never
// lock a new client out.
func TestSilentConnectionsMakeRoom(t *testing.T) {
	l, _ := testConns(t, limits(2, 0))
	a := dial(t, l)
	l.next(t)
	b := dial(t, l)
	l.next(t)
	c := dial(t, l)
	l.next(t)
	if !closedByServer(a, 5*time.Second) {
		t.Error("the oldest silent connection was not closed to make room")
	}
	if !open(b) || !open(c) {
		t.Error("a newer silent connection was closed")
	}
}

// Past their preface, connections count against the cap; at the cap, the
// one idle longest makes room for a new one, one with a call running
// never does, and when every one has a call running a new one is refused.
func TestCapClosesTheIdleLongest(t *testing.T) {
	l, _ := testConns(t, limits(2, 0))
	a, b := dial(t, l), dial(t, l)
	ac, bc := l.next(t), l.next(t)
	ac.Established()
	bc.Established()
	ac.Begin() // a call running on a
	c := dial(t, l)
	cc := l.next(t)
	cc.Established()
	if !closedByServer(b, 5*time.Second) {
		t.Error("the idle connection was not closed to make room at the cap")
	}
	if !open(a) || !open(c) {
		t.Error("a busy or new connection was closed")
	}
	cc.Begin()
	d := dial(t, l)
	l.next(t).Established()
	if !closedByServer(d, 5*time.Second) {
		t.Error("a new connection was served though every connection at the cap was busy")
	}
	ac.End()
	e := dial(t, l)
	l.next(t).Established()
	if !closedByServer(a, 5*time.Second) || !open(e) {
		t.Error("the connection idle again did not make room")
	}
}

// At the cap, an address over its share gives up its own connection idle
// longest, and other addresses keep theirs; below the cap it keeps all it
// opens. A trusted address (a proxy's) is not held to the share.
func TestSourceShare(t *testing.T) {
	lim := limits(6, 2)
	lim.Trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")}
	l, _ := testConns(t, lim)
	var mine []net.Conn
	for range 3 {
		mine = append(mine, dialFrom(t, l, "127.0.0.2"))
		l.next(t).Established()
	}
	if !open(mine[0]) {
		t.Error("an address over its share lost a connection while the server had room")
	}
	other := dialFrom(t, l, "127.0.0.1")
	l.next(t).Established()
	var proxy []net.Conn
	for range 3 {
		proxy = append(proxy, dialFrom(t, l, "127.0.0.3"))
		l.next(t).Established()
	}
	// The seventh connection took all over the cap of 6: the address over
	// its share gave up its connection idle longest, though the trusted
	// proxy's and the other address's were idle longer.
	if !closedByServer(mine[0], 5*time.Second) {
		t.Error("at the cap, the address over its share kept its connection idle longest")
	}
	for i, c := range append([]net.Conn{mine[1], mine[2], other}, proxy...) {
		if !open(c) {
			t.Errorf("connection %d, within its share or trusted, was closed", i)
		}
	}
}

// Handshake places too: an address may dial more than its share at once
// while there is room, and at the cap its oldest makes room first.
func TestSourceShareOfHandshakes(t *testing.T) {
	l, _ := testConns(t, limits(4, 1))
	var mine []net.Conn
	for range 3 {
		mine = append(mine, dialFrom(t, l, "127.0.0.2"))
		l.next(t)
	}
	for i, c := range mine {
		if !open(c) {
			t.Errorf("handshake %d of an address over its share was closed while there was room", i)
		}
	}
	var others []net.Conn
	for range 2 {
		others = append(others, dialFrom(t, l, "127.0.0.1"))
		l.next(t)
	}
	if !closedByServer(mine[0], 5*time.Second) {
		t.Error("at the cap, the address over its share kept its oldest handshake")
	}
	for i, c := range append(others, mine[1:]...) {
		if !open(c) {
			t.Errorf("handshake %d was closed, though the first of the address over its share made the room", i)
		}
	}
}

// A connection's remote address leads back to it, so two connections from
// the same address are never taken for each other.
func TestAddrLeadsBackToTheConnection(t *testing.T) {
	l, _ := testConns(t, limits(4, 0))
	dial(t, l)
	dial(t, l)
	a, b := l.next(t), l.next(t)
	if FromAddr(a.RemoteAddr()) != a || FromAddr(b.RemoteAddr()) != b {
		t.Error("a connection's address does not lead back to it")
	}
	if a.RemoteAddr().String() == "" || FromAddr(&net.TCPAddr{}) != nil {
		t.Error("an address that is not a connection's leads to one")
	}
}

// Past the budget of unread responses, the connection with the most is
// closed, and only it.
func TestUnreadBudgetClosesTheWorst(t *testing.T) {
	l, accepted := testConns(t, Limits{MaxConnections: 4, UnreadBudget: 10_000, StallTimeout: DefaultStallTimeout})
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
	l, accepted := testConns(t, Limits{MaxConnections: 4, UnreadBudget: DefaultUnreadBudget, StallTimeout: 300 * time.Millisecond})
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
	time.Sleep(2 * l.lim.StallTimeout) // long idle, nothing waiting: not a stall
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
	l, accepted := testConns(t, Limits{MaxConnections: 4, UnreadBudget: 1 << 20, StallTimeout: DefaultStallTimeout})
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

// A response held in two copies counts twice until it has ended: the
// writes give back the copy the socket takes, Close the other and what
// was reserved beyond the bytes written.
func TestReservationCountsItsCopies(t *testing.T) {
	l, accepted := testConns(t, limits(4, 4))
	_ = dial(t, l)
	c := <-accepted
	r := c.Reservation(2)
	if !r.Reserve(1000) {
		t.Fatal("a response within the budget cut its connection")
	}
	if got := c.unread(); got != 2000 {
		t.Errorf("unread after reserving 1000 bytes in 2 copies = %d, want 2000", got)
	}
	if !r.Write(600) {
		t.Fatal("a write within the budget cut its connection")
	}
	if _, err := c.Write(make([]byte, 600)); err != nil {
		t.Fatal(err)
	}
	if got := c.unread(); got != 1400 {
		t.Errorf("unread after 600 bytes written = %d, want 1400", got)
	}
	r.Close()
	if got := c.unread(); got != 0 {
		t.Errorf("unread after the response ended = %d, want 0", got)
	}
}
