package client

import (
	"context"
	"time"

	"google.golang.org/grpc"
)

// defaultDeadline gives a call whose context has no deadline one of d, so a
// forgotten deadline cannot hang a caller on a stuck server. A deadline the
// caller set is left alone, shorter or longer.
func defaultDeadline(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}
