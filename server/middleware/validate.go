package middleware

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// The validate link checks every request against the field rules declared
// in the protos (buf.validate annotations) with a protovalidate.Validator:
// the rules are the schema's, so the CLI and generated clients can check
// the same ones. A request that breaks one is INVALID_ARGUMENT with
// ErrorInfo and one BadRequest field violation per rule broken
// (rpcstatus). go-grpc-middleware's protovalidate interceptor is not used:
// it details the error as buf.validate.Violations, where this API's error
// contract is google.rpc.BadRequest.

// checkRequests is the link that refuses each request check finds fault
// with, unary or streamed, with the chain's error for it: the decode link
// (a request the codec could not decode) and the validate link (the field
// rules) differ only in the check.
func (c *Chain) checkRequests(check func(any) error) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := check(req); err != nil {
			return nil, c.cfg.Errors.Err(ctx, err)
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &checkedStream{ServerStream: ss, c: c, check: check})
	}
	return unary, stream
}

// checkedStream refuses each request of a stream its check finds fault with.
type checkedStream struct {
	grpc.ServerStream
	c     *Chain
	check func(any) error
}

func (s *checkedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := s.check(m); err != nil {
		return s.c.cfg.Errors.Err(s.Context(), err)
	}
	return nil
}

func (c *Chain) validate(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return fmt.Errorf("validate: request of type %T is not a proto message", m)
	}
	return c.cfg.Validator.Validate(msg)
}
