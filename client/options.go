package client

import (
	"time"

	"google.golang.org/grpc"
)

// Defaults applied by New unless an option overrides them.
const (
	// DefaultTimeout is the deadline given to a call whose context has none.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxAttempts is how many times a call is tried when the server
	// is UNAVAILABLE, the first attempt included.
	DefaultMaxAttempts = 4
	// KeepaliveTime is how long an idle connection waits before it pings.
	// The server refuses pings more often than every 10s (and tolerates
	// them with no call in flight), so this stays well above that.
	KeepaliveTime = 30 * time.Second
	// KeepaliveTimeout is how long a ping may go unanswered before the
	// connection is considered dead.
	KeepaliveTimeout = 10 * time.Second
)

// Option configures New.
type Option func(*config)

type config struct {
	tls         bool
	caFile      string // empty with tls: the system roots
	certFile    string
	keyFile     string
	serverName  string
	token       string
	timeout     time.Duration
	maxAttempts int
	// waitForReady is the gRPC wait-for-ready call option, on every call.
	waitForReady bool
	// startupWait is how long a call waits for a ready connection before
	// it fails at once; 0 means it does not wait.
	startupWait time.Duration
	block       bool
	extra       []grpc.DialOption
}

func defaultConfig() config {
	return config{timeout: DefaultTimeout, maxAttempts: DefaultMaxAttempts}
}

// WithTLS turns on TLS and verifies the server against the CA certificates
// in the PEM file caFile, or against the system roots when caFile is empty.
// Without it (or WithClientCertificate) the connection is plaintext.
func WithTLS(caFile string) Option {
	return func(c *config) {
		c.tls = true
		c.caFile = caFile
	}
}

// WithClientCertificate presents the PEM certificate and key to the server
// (mutual TLS). It turns on TLS; combine it with WithTLS to name a CA file.
func WithClientCertificate(certFile, keyFile string) Option {
	return func(c *config) {
		c.tls = true
		c.certFile = certFile
		c.keyFile = keyFile
	}
}

// WithServerName overrides the name the server's certificate is checked
// against, for servers reached by an address their certificate does not name.
func WithServerName(name string) Option {
	return func(c *config) { c.serverName = name }
}

// WithToken sends token as a bearer token on every call. New refuses a
// token over plaintext unless every address is a loopback address, so a
// token never crosses a network in the clear.
func WithToken(token string) Option {
	return func(c *config) { c.token = token }
}

// WithTimeout sets the deadline given to calls whose context has none; 0
// leaves such calls without a deadline. The default is DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithMaxAttempts sets how many times a call is tried while the server is
// UNAVAILABLE, the first attempt included; 1 turns retries off. gRPC caps
// it at 5. The default is DefaultMaxAttempts. Every safethird method is
// free of side effects, so retrying is always safe.
func WithMaxAttempts(n int) Option {
	return func(c *config) { c.maxAttempts = n }
}

// WithWaitForReady makes calls wait, until their deadline, for a ready
// connection instead of failing at once with UNAVAILABLE while no server
// answers: for callers that may start before the server does, such as a
// script that has just launched it. A server that never comes up then
// costs the whole deadline.
func WithWaitForReady() Option {
	return func(c *config) { c.waitForReady = true }
}

// WithStartupWait makes a call wait up to d, within its deadline, for a
// ready connection, and then fail at once with UNAVAILABLE and the
// connection's error (NoServer tells a refused connection); and, while the
// server answers that its dataset is still loading, try again until the
// deadline. It is for a command run right after starting the server, which
// should neither fail while the server starts nor wait out its whole
// deadline when there is no server. Meanwhile the connection is retried
// every 100 ms or so, not after gRPC's default backoff of a second, which
// would take most of d.
func WithStartupWait(d time.Duration) Option {
	return func(c *config) { c.startupWait = d }
}

// WithBlock makes New connect at once and return only when a connection
// is ready, or fail when its context ends, so a wrong address fails in New
// rather than in the first call.
func WithBlock() Option {
	return func(c *config) { c.block = true }
}

// WithDialOptions appends gRPC dial options after the ones New builds, for
// needs this package does not cover (a custom dialer, stats handlers).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *config) { c.extra = append(c.extra, opts...) }
}
