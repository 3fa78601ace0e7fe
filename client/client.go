package client

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// Client is a connection to a safethird service. It is safe for concurrent
// use; make one and share it. Close it when done.
type Client struct {
	conn       *grpc.ClientConn
	assessment safethirdv1.AssessmentServiceClient
	catalog    safethirdv1.CatalogServiceClient
}

// New returns a client for target: host:port, a gRPC target URI such as
// dns:///safethird.example:443 (every address balanced round-robin), or a
// comma-separated list of host:port addresses (balanced the same way).
//
// New does not wait for a connection unless WithBlock is given; ctx bounds
// that wait and nothing else. It fails when the options do not make
// sense, including a token over plaintext to a non-loopback address
// (ErrTokenOverPlaintext).
func New(ctx context.Context, target string, opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	t, err := parseTarget(target)
	if err != nil {
		return nil, err
	}
	if cfg.token != "" && !cfg.tls && !t.loopback() {
		return nil, ErrTokenOverPlaintext
	}
	dopts, err := cfg.dialOptions(t)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(t.dial, dopts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", target, err)
	}
	c := &Client{
		conn:       conn,
		assessment: safethirdv1.NewAssessmentServiceClient(conn),
		catalog:    safethirdv1.NewCatalogServiceClient(conn),
	}
	if cfg.block {
		if err := waitReady(ctx, c.conn); err != nil {
			conn.Close()
			return nil, fmt.Errorf("connect to %s: %w", target, err)
		}
	}
	return c, nil
}

// dialOptions turns the configuration into gRPC dial options.
func (c *config) dialOptions(t target) ([]grpc.DialOption, error) {
	sc, err := serviceConfig(c.maxAttempts)
	if err != nil {
		return nil, err
	}
	opts := []grpc.DialOption{
		grpc.WithDefaultServiceConfig(sc),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                KeepaliveTime,
			Timeout:             KeepaliveTimeout,
			PermitWithoutStream: true,
		}),
	}
	if c.tls {
		tc, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if c.token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer{token: c.token, requireTLS: c.tls}))
	}
	if c.timeout > 0 {
		opts = append(opts, grpc.WithChainUnaryInterceptor(defaultDeadline(c.timeout)))
	}
	if c.startupWait > 0 {
		// After the deadline is set and before the retries: one wait per call.
		opts = append(opts, grpc.WithChainUnaryInterceptor(startupWait(c.startupWait)),
			grpc.WithConnectParams(grpc.ConnectParams{
				Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
				MinConnectTimeout: 20 * time.Second, // gRPC's default
			}))
	}
	if c.maxAttempts > 1 {
		// Inside the deadline: every attempt shares the call's deadline.
		opts = append(opts, grpc.WithChainUnaryInterceptor(retryAfterHeaders(c.maxAttempts)))
	}
	if c.waitForReady {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.WaitForReady(true)))
	}
	if t.list != nil {
		opts = append(opts, grpc.WithResolvers(t.list))
	}
	return append(opts, c.extra...), nil
}

// waitReady blocks until the connection is READY or ctx ends.
func waitReady(ctx context.Context, conn *grpc.ClientConn) error {
	conn.Connect()
	for {
		s := conn.GetState()
		if s == connectivity.Ready {
			return nil
		}
		if !conn.WaitForStateChange(ctx, s) {
			return fmt.Errorf("not ready (%s): %w", s, ctx.Err())
		}
	}
}

// loadingPoll is how often a call is tried again while the server says
// its dataset is still loading.
const loadingPoll = 200 * time.Millisecond

// startupWait waits up to d for a ready connection before each call that
// finds none, then makes the call, which fails at once if there is still
// no connection. While the server answers that its dataset is still
// loading, as one just started does for a second or two, the call is
// tried again every loadingPoll until its deadline.
func startupWait(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if cc.GetState() != connectivity.Ready {
			wctx, cancel := context.WithTimeout(ctx, d)
			_ = waitReady(wctx, cc) // not ready in time: the call says why
			cancel()
		}
		for {
			err := invoker(ctx, method, req, reply, cc, opts...)
			if Details(err).ErrorReason() != safethirdv1.ErrorReason_ERROR_REASON_DATASET_NOT_LOADED {
				return err
			}
			select {
			case <-ctx.Done():
				return err
			case <-time.After(loadingPoll):
			}
		}
	}
}

// Assessment returns the generated AssessmentService client, for calls the
// helpers do not cover or options they do not pass.
func (c *Client) Assessment() safethirdv1.AssessmentServiceClient { return c.assessment }

// Catalog returns the generated CatalogService client.
func (c *Client) Catalog() safethirdv1.CatalogServiceClient { return c.catalog }

// Conn returns the underlying connection, e.g. for the health service.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection; calls in flight fail with CANCELED.
func (c *Client) Close() error { return c.conn.Close() }
