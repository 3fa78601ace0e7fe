package middleware

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/internal/connlimit"
)

// grpcPrefix is the length of the prefix of a gRPC message: a flag byte and
// a four-byte length. It is counted with each response beside its message,
// and nothing else: headers, trailers and HTTP/2 framing are written too,
// but their size varies (HPACK), and a count that ran ahead of what is
// written would never be given back on a connection that is never idle.
const grpcPrefix = 5

// errCut ends the calls still on a connection closed for not reading.
var errCut = status.Error(codes.Unavailable, "connection closed: its client did not read its responses")

// charge counts a call's responses against its connection's share of the
// unread-response budget.
type charge interface {
	// Cut reports whether the connection was closed for not reading.
	Cut() bool
	// Reserve counts a response of n bytes, encoded as the codec sends
	// it, before it is encoded; it reports whether the connection is
	// still open.
	Reserve(n int) bool
}

// portCharge charges a call on the gRPC port: its messages are written as
// they are counted, with their prefix.
type portCharge struct {
	l    *connlimit.Limiter
	conn *connlimit.Conn
}

func (p portCharge) Cut() bool          { return p.conn.Cut() }
func (p portCharge) Reserve(n int) bool { return p.l.Account(p.conn, grpcPrefix+n) }

// chargeOf returns what a call's responses are charged to: its connection
// on the gRPC port, the reservation of its HTTP request on the HTTP door
// (whose writer counts the bytes past it); nil for neither (bufconn).
func (c *Chain) chargeOf(ctx context.Context) charge {
	if conn := connlimit.ConnFrom(ctx); conn != nil {
		return portCharge{l: c.cfg.Conns, conn: conn}
	}
	if r := connlimit.ReservationFrom(ctx); r != nil {
		return r
	}
	return nil
}

// responsesUnary counts each response for its connection, before it is
// encoded, and does no work for a call on a connection already closed for
// not reading.
func (c *Chain) responsesUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ch := c.chargeOf(ctx)
	if ch == nil {
		return handler(ctx, req)
	}
	if ch.Cut() {
		return nil, errCut
	}
	resp, err := handler(ctx, req)
	if m, ok := resp.(proto.Message); ok && err == nil && !ch.Reserve(c.cfg.Size(m)) {
		return nil, errCut
	}
	return resp, err
}

// responsesStream counts each message a stream sends for its connection.
func (c *Chain) responsesStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ch := c.chargeOf(ss.Context())
	if ch == nil {
		return handler(srv, ss)
	}
	return handler(srv, &countingStream{ServerStream: ss, c: c, charge: ch})
}

// countingStream counts the messages a stream sends.
type countingStream struct {
	grpc.ServerStream
	c      *Chain
	charge charge
}

func (cs *countingStream) SendMsg(m any) error {
	if cs.charge.Cut() {
		return errCut
	}
	if pm, ok := m.(proto.Message); ok && !cs.charge.Reserve(cs.c.cfg.Size(pm)) {
		return errCut
	}
	return cs.ServerStream.SendMsg(m)
}
