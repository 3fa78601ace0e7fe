package server

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/safethird/safethird/data"
	"github.com/safethird/safethird/internal/connlimit"
	"github.com/safethird/safethird/server/limits"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultShutdownGrace   = 10 * time.Second
	DefaultMaxCallDuration = 30 * time.Second
	DefaultWatchInterval   = 2 * time.Second
	DefaultMaxConnections  = connlimit.DefaultMaxConnections
	DefaultRequestTimeout  = limits.DefaultRequestTimeout
)

// Config configures a Server. The zero value serves the embedded dataset in
// plaintext without auth, reflection or a metrics endpoint.
type Config struct {
	// DatasetDir, when set, is the dataset directory to load and watch for
	// changes. When empty, DatasetFS is loaded and never watched.
	DatasetDir string
	// DatasetFS is the dataset when DatasetDir is empty; nil means the
	// dataset embedded in the binary (data.FS).
	DatasetFS fs.FS
	// DatasetUnsealed loads the dataset without its seal (manifest.json),
	// for a copy being edited. By default a dataset is loaded only when
	// every file matches its seal.
	DatasetUnsealed bool
	// DatasetPublicKey, when set, is the ed25519 key the seal's signature
	// must verify with.
	DatasetPublicKey ed25519.PublicKey
	// DatasetArchive, when set, is a directory of older sealed releases,
	// each a dataset directory directly inside it: a call pinning one's
	// revision is answered from it, loaded on demand and checked like the
	// live dataset (seal, signature, expectations).
	DatasetArchive string
	// ArchiveMax is how many archived releases are kept loaded, the least
	// recently used evicted; 0 means archive.DefaultMax.
	ArchiveMax int
	// MaxConditionCost bounds each CEL condition of the dataset, estimated
	// at load and enforced at evaluation; 0 means condition.DefaultMaxCost.
	MaxConditionCost uint64
	// WatchInterval is how often DatasetDir is polled for changes; 0 means
	// DefaultWatchInterval, negative turns watching off.
	WatchInterval time.Duration
	// ReloadSignals, when set, triggers a reload on each value received;
	// cmd wires SIGHUP to it. Serve stops reading it when it returns.
	ReloadSignals <-chan os.Signal

	// TLSCertFile and TLSKeyFile are the PEM server certificate and key;
	// both or neither. Without them the server speaks plaintext.
	TLSCertFile, TLSKeyFile string
	// ClientCAFile, when set, is the PEM bundle of CAs that client
	// certificates must chain to (mTLS); it needs TLSCertFile.
	ClientCAFile string
	// AuthTokens, when not empty, are the bearer tokens accepted: every RPC
	// but grpc.health.v1 then needs "authorization: Bearer <token>".
	AuthTokens []string
	// AuthTokensFile, instead of AuthTokens, is a file of tokens
	// (internal/tokenfile): New reads it, and each reload signal reads it
	// again; a file that breaks a rule at a reload is refused and the
	// tokens in force stay.
	AuthTokensFile string
	// AllowPlaintextTokens lets AuthTokens be used without TLS, where
	// tokens cross the network in the clear; for tests and local use.
	AllowPlaintextTokens bool

	// HTTPAddr, when set, is the host:port of the HTTP door: the same
	// services as REST/JSON, Connect and gRPC-Web, with /openapi.yaml,
	// /healthz and /readyz, behind the same TLS, tokens and limits.
	HTTPAddr string

	// Reflection registers server reflection (v1 and v1alpha).
	Reflection bool
	// MetricsAddr, when set, is the host:port of the HTTP server that
	// serves /metrics from Registry.
	MetricsAddr string
	// Registry receives the server's metrics; nil means a new private
	// registry. The global registry is never used.
	Registry *prometheus.Registry

	// ShutdownGrace is how long in-flight calls may run after shutdown
	// starts before they are cut; 0 means DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// MaxCallDuration caps every call's deadline; 0 means DefaultMaxCallDuration.
	MaxCallDuration time.Duration
	// RequestTimeout bounds the time a call's request takes to arrive,
	// from its headers, on both doors; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// MaxConnections bounds the client connections past their preface
	// served at once, on both doors together; 0 means
	// DefaultMaxConnections. At the cap, the connection idle longest is
	// closed to make room for a new one (internal/connlimit).
	MaxConnections int
	// MaxConnectionsPerSource is the share of MaxConnections one source
	// address keeps when the cap is reached (below it, it may open more);
	// 0 means half of MaxConnections.
	MaxConnectionsPerSource int
	// TrustedProxies are the source addresses (a proxy's, a load
	// balancer's) the per-source share does not bound; none by default.
	TrustedProxies []netip.Prefix
	// Now is the clock; nil means time.Now. Today's date (UTC) is the
	// default as_of.
	Now func() time.Time

	// beforeHandler, when set, runs innermost in the unary chain, just
	// before the handler. Only tests set it (export_test.go), to make a
	// handler panic without a fake service.
	beforeHandler grpc.UnaryServerInterceptor
}

// withDefaults returns cfg with defaults applied, or an error naming the
// first field that is out of range.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.ShutdownGrace < 0:
		return cfg, errors.New("shutdown grace must not be negative")
	case cfg.MaxCallDuration < 0:
		return cfg, errors.New("max call duration must not be negative")
	case cfg.MaxConnections < 0:
		return cfg, errors.New("max connections must not be negative")
	case cfg.RequestTimeout < 0:
		return cfg, errors.New("request timeout must not be negative")
	case cfg.MaxConnectionsPerSource < 0:
		return cfg, errors.New("max connections per source must not be negative")
	case cfg.ArchiveMax < 0:
		return cfg, errors.New("archive max must not be negative")
	case (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == ""):
		return cfg, errors.New("TLS needs both a certificate and a key file")
	case cfg.ClientCAFile != "" && cfg.TLSCertFile == "":
		return cfg, errors.New("a client CA needs TLS: set the certificate and key files")
	case cfg.DatasetUnsealed && cfg.DatasetPublicKey != nil:
		return cfg, errors.New("a dataset public key checks the seal, which an unsealed dataset skips: set one or the other")
	case len(cfg.AuthTokens) > 0 && cfg.AuthTokensFile != "":
		return cfg, errors.New("auth tokens come from a list or a file: set one")
	case (len(cfg.AuthTokens) > 0 || cfg.AuthTokensFile != "") && cfg.TLSCertFile == "" && !cfg.AllowPlaintextTokens:
		return cfg, errors.New("auth tokens without TLS would cross the network in the clear: set TLS or allow plaintext tokens")
	}
	for i, tok := range cfg.AuthTokens {
		if tok == "" {
			return cfg, fmt.Errorf("auth token %d is empty", i+1)
		}
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.MaxCallDuration == 0 {
		cfg.MaxCallDuration = DefaultMaxCallDuration
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.MaxConnectionsPerSource == 0 {
		cfg.MaxConnectionsPerSource = max(1, cfg.MaxConnections/2)
	}
	if cfg.WatchInterval == 0 {
		cfg.WatchInterval = DefaultWatchInterval
	}
	if cfg.DatasetDir == "" && cfg.DatasetFS == nil {
		cfg.DatasetFS = data.FS
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	return cfg, nil
}
