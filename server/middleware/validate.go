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

func (c *Chain) validateUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := c.validate(req); err != nil {
		return nil, c.cfg.Errors.Err(ctx, err)
	}
	return handler(ctx, req)
}

func (c *Chain) validateStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &validatingStream{ServerStream: ss, c: c})
}

// validatingStream checks each request a stream receives.
type validatingStream struct {
	grpc.ServerStream
	c *Chain
}

func (v *validatingStream) RecvMsg(m any) error {
	if err := v.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := v.c.validate(m); err != nil {
		return v.c.cfg.Errors.Err(v.Context(), err)
	}
	return nil
}

// decodeUnary refuses a request the codec could not decode.
func (c *Chain) decodeUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := c.cfg.DecodeError(req); err != nil {
		return nil, c.cfg.Errors.Err(ctx, err)
	}
	return handler(ctx, req)
}

func (c *Chain) decodeStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &decodingStream{ServerStream: ss, c: c})
}

// decodingStream refuses each request of a stream the codec could not
// decode.
type decodingStream struct {
	grpc.ServerStream
	c *Chain
}

func (d *decodingStream) RecvMsg(m any) error {
	if err := d.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := d.c.cfg.DecodeError(m); err != nil {
		return d.c.cfg.Errors.Err(d.Context(), err)
	}
	return nil
}

// validate returns nil, a *protovalidate.ValidationError naming the rules
// broken, or an error of the rules themselves (INTERNAL, logged).
func (c *Chain) validate(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return fmt.Errorf("validate: request of type %T is not a proto message", m)
	}
	return c.cfg.Validator.Validate(msg)
}
