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

// responsesUnary counts each response for its connection, and does no work
// for a call on a connection already closed for not reading.
func (c *Chain) responsesUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	conn := connlimit.ConnFrom(ctx)
	if conn == nil {
		return handler(ctx, req)
	}
	if conn.Cut() {
		return nil, errCut
	}
	resp, err := handler(ctx, req)
	if m, ok := resp.(proto.Message); ok && err == nil && !c.cfg.Conns.Account(conn, grpcPrefix+c.cfg.Size(m)) {
		return nil, errCut
	}
	return resp, err
}

// responsesStream counts each message a stream sends for its connection.
func (c *Chain) responsesStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	conn := connlimit.ConnFrom(ss.Context())
	if conn == nil {
		return handler(srv, ss)
	}
	return handler(srv, &countingStream{ServerStream: ss, c: c, conn: conn})
}

// countingStream counts the messages a stream sends.
type countingStream struct {
	grpc.ServerStream
	c    *Chain
	conn *connlimit.Conn
}

func (cs *countingStream) SendMsg(m any) error {
	if cs.conn.Cut() {
		return errCut
	}
	if pm, ok := m.(proto.Message); ok && !cs.c.cfg.Conns.Account(cs.conn, grpcPrefix+cs.c.cfg.Size(pm)) {
		return errCut
	}
	return cs.ServerStream.SendMsg(m)
}
