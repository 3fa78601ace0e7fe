package client

import (
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// serviceConfig is the gRPC service config New installs as the default: a
// server-provided one (from DNS) would override it, which is the point of
// a default.
//
// round_robin spreads calls over every address the resolver returns (each
// replica, for dns:/// or a list). Every safethird method has no side
// effects, so retrying UNAVAILABLE is safe for all of them.
func serviceConfig(maxAttempts int) (string, error) {
	type retryPolicy struct {
		MaxAttempts          int      `json:"maxAttempts"`
		InitialBackoff       string   `json:"initialBackoff"`
		MaxBackoff           string   `json:"maxBackoff"`
		BackoffMultiplier    float64  `json:"backoffMultiplier"`
		RetryableStatusCodes []string `json:"retryableStatusCodes"`
	}
	type name struct {
		Service string `json:"service"`
	}
	type methodConfig struct {
		Name        []name       `json:"name"`
		RetryPolicy *retryPolicy `json:"retryPolicy,omitempty"`
	}
	mc := methodConfig{Name: []name{
		{Service: "safethird.v1.AssessmentService"},
		{Service: "safethird.v1.CatalogService"},
	}}
	switch {
	case maxAttempts < 1:
		return "", fmt.Errorf("max attempts %d: want 1 or more", maxAttempts)
	case maxAttempts > 1: // gRPC wants at least 2 in a retry policy
		mc.RetryPolicy = &retryPolicy{
			MaxAttempts:          maxAttempts,
			InitialBackoff:       "0.1s",
			MaxBackoff:           "2s",
			BackoffMultiplier:    2,
			RetryableStatusCodes: []string{"UNAVAILABLE"},
		}
	}
	sc := map[string]any{
		"loadBalancingConfig": []any{map[string]any{"round_robin": map[string]any{}}},
		"methodConfig":        []methodConfig{mc},
	}
	b, err := json.Marshal(sc)
	if err != nil {
		return "", fmt.Errorf("encode service config: %w", err)
	}
	return string(b), nil
}

// retryAfterHeaders retries, as a new call, a call that failed UNAVAILABLE
// after response headers had arrived, up to maxAttempts calls in all. gRPC's
// own retries stop once headers arrive; a replica that dies between sending
// its headers and its message (a crash, a kill) leaves such a call. Every
// safethird method is free of side effects, so retrying it is safe.
func retryAfterHeaders(maxAttempts int) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		for attempt := 1; ; attempt++ {
			var header metadata.MD
			err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Header(&header))...)
			if status.Code(err) != codes.Unavailable || len(header) == 0 || attempt >= maxAttempts || ctx.Err() != nil {
				return err
			}
		}
	}
}
