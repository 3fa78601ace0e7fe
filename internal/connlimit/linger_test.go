package connlimit

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestCloseLetsTheClientReadToTheEnd closes a connection whose client has
// sent bytes the server did not read, with a response still queued in the
// server's socket, as grpc-go closes a drained connection: the client
// must still read the whole response and then its end. A plain close
// answers with a reset, and the client loses what was queued.
func TestCloseLetsTheClientReadToTheEnd(t *testing.T) {
	l, _ := testConns(t, Limits{MaxConnections: 8, UnreadBudget: 1 << 30, StallTimeout: time.Minute})
	client := dial(t, l)
	if err := client.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	srv := l.next(t)
	if err := srv.Conn.(*net.TCPConn).SetWriteBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	// A byte the server never reads, like a flow-control update.
	if _, err := client.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	response := bytes.Repeat([]byte("safethird"), 256<<10/9*8) // 2 MiB, more than the client's buffer takes
	if _, err := srv.Write(response); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the client's byte has arrived
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("a server read after Close: %v, want %v", err, net.ErrClosed)
	}

	// The client reads slowly, and writes as it reads.
	_ = client.SetDeadline(time.Now().Add(30 * time.Second))
	var got bytes.Buffer
	buf := make([]byte, 16<<10)
	for {
		n, err := client.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("client read after %d of %d bytes: %v", got.Len(), len(response), err)
		}
		_, _ = client.Write([]byte{1})
		time.Sleep(time.Millisecond)
	}
	if !bytes.Equal(got.Bytes(), response) {
		t.Fatalf("client read %d bytes, want the %d written", got.Len(), len(response))
	}
	_ = client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !l.WaitClosed(ctx) {
		t.Fatal("WaitClosed: the lingering close did not end once the client closed")
	}
}

// TestLingeringEndsWhenTheClientNeverCloses closes a connection whose
// client never closes its side, then clears its deadlines as grpc-go does
// after a failed handshake has closed it: the close must still end within
// lingerTimeout, and leave no goroutine behind.
func TestLingeringEndsWhenTheClientNeverCloses(t *testing.T) {
	l, _ := testConns(t, Limits{MaxConnections: 8, UnreadBudget: 1 << 30, StallTimeout: time.Minute})
	client := dial(t, l)
	srv := l.next(t)
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetDeadline(time.Time{}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetDeadline after Close: %v, want %v", err, net.ErrClosed)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*lingerTimeout)
	defer cancel()
	if !l.WaitClosed(ctx) {
		t.Fatalf("the lingering close had not ended %v after Close", 2*lingerTimeout)
	}
	if took := time.Since(start); took < lingerTimeout-time.Second {
		t.Errorf("the close ended after %v, before the client closed or %v passed", took, lingerTimeout)
	}
	// The client sees the server's end of the stream.
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err == nil {
		t.Error("the client read a byte from a closed connection")
	}
}
