package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zapgrpc"
	"google.golang.org/grpc/grpclog"

	"github.com/safethird/safethird/archive"
	"github.com/safethird/safethird/condition"
	"github.com/safethird/safethird/internal/tokenfile"
	"github.com/safethird/safethird/server"
)

// envPrefix prefixes the environment variable of each serve flag:
// --tls-cert is also read from SAFETHIRD_TLS_CERT. A flag given wins.
const envPrefix = "SAFETHIRD_"

// serveFlags are the values of `safethird serve`'s flags.
type serveFlags struct {
	addr, httpAddr, dataset        string
	datasetUnsealed                bool
	datasetPublicKey               string
	datasetArchive                 string
	archiveMax                     int
	maxConditionCost               uint64
	tlsCert, tlsKey, clientCA      string
	authTokensFile                 string
	insecurePlaintextTokens        bool
	metricsAddr                    string
	logLevel, logFormat            string
	shutdownGrace, maxCallDuration time.Duration
	requestTimeout                 time.Duration
	maxConnections                 int
	maxConnectionsPerSource        int
	trustedProxies                 []string
	reflection                     bool
}

func newServeCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the gRPC API and its HTTP door",
		Long: `serve starts the gRPC server: AssessmentService, CatalogService, grpc.health.v1
and server reflection. On --http-addr it serves the same services as REST/JSON
(e.g. POST /v1/countries/MX:assess; with "Accept: text/markdown", the memo),
the Connect protocol and gRPC-Web, with /openapi.yaml, /healthz and /readyz,
behind the same TLS and tokens. SIGHUP, or a change in the --dataset
directory, reloads the dataset; a dataset that fails validation or its
expectations (tests/) is refused and the last good one keeps serving. With
--dataset-public-key, a dataset whose release sequence is lower than the one
served is refused too (a rollback). With --dataset-archive, a call that pins an
older release's dataset_revision is answered from the archive; SIGHUP scans the
archive again. SIGTERM or SIGINT shuts down gracefully.

Every flag can also be set with an environment variable: SAFETHIRD_ and the
flag's name in upper snake case, e.g. SAFETHIRD_TLS_CERT. A flag given wins.`,
		Example: `  safethird serve
  safethird serve --addr 0.0.0.0:50051 --dataset /srv/safethird/dataset \
    --tls-cert server.crt --tls-key server.key --auth-tokens-file tokens.txt \
    --metrics-addr 127.0.0.1:9090`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), os.LookupEnv); err != nil {
				return err
			}
			return runServe(cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:50051", "host:port to listen on; port 0 picks a free port, logged in the \"serving\" line")
	fl.StringVar(&f.httpAddr, "http-addr", "127.0.0.1:8080", "host:port of the HTTP door (REST/JSON, Connect, gRPC-Web, /openapi.yaml, /healthz, /readyz); empty turns it off")
	fl.StringVar(&f.dataset, "dataset", "", "sealed dataset directory to load and watch (default: the dataset embedded in the binary)")
	fl.BoolVar(&f.datasetUnsealed, "dataset-unsealed", false, "load the dataset without checking its seal (manifest.json): for a copy being edited")
	fl.StringVar(&f.datasetPublicKey, "dataset-public-key", "", "PEM ed25519 public key the dataset's seal must be signed with; a live dataset of a lower release sequence is then refused (a rollback)")
	fl.StringVar(&f.datasetArchive, "dataset-archive", "", "directory of older sealed releases, each a dataset directory inside it: a call pinning one's dataset_revision is answered from it (loaded when first pinned, checked like the live dataset)")
	fl.IntVar(&f.archiveMax, "archive-max", archive.DefaultMax, "archived releases kept loaded at once, the least recently used evicted")
	maxCostFlag(fl, &f.maxConditionCost)
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM server certificate file; with --tls-key, serves TLS 1.2+")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM server private key file")
	fl.StringVar(&f.clientCA, "client-ca", "", "PEM CA bundle that client certificates must chain to (mTLS); needs TLS")
	fl.StringVar(&f.authTokensFile, "auth-tokens-file", "", "file of bearer tokens, one a line (# comments); every RPC but health then needs one")
	fl.BoolVar(&f.insecurePlaintextTokens, "insecure-allow-plaintext-tokens", false, "allow --auth-tokens-file without TLS (tokens cross the network in the clear)")
	fl.StringVar(&f.metricsAddr, "metrics-addr", "", "host:port of the HTTP server for Prometheus /metrics (off when empty)")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fl.StringVar(&f.logFormat, "log-format", "json", "log format: json or console")
	fl.DurationVar(&f.shutdownGrace, "shutdown-grace", server.DefaultShutdownGrace, "time calls in flight get to finish on shutdown")
	fl.BoolVar(&f.reflection, "reflection", true, "serve gRPC server reflection (v1 and v1alpha)")
	fl.DurationVar(&f.maxCallDuration, "max-call-duration", server.DefaultMaxCallDuration, "cap on every call's deadline")
	fl.DurationVar(&f.requestTimeout, "request-timeout", server.DefaultRequestTimeout, "time a call's request has to arrive, from its headers, on both doors")
	fl.IntVar(&f.maxConnections, "max-connections", server.DefaultMaxConnections, "client connections past their preface served at once, both doors together; at the cap the one idle longest is closed for a new one")
	fl.IntVar(&f.maxConnectionsPerSource, "max-connections-per-source", 0, "the share of --max-connections one client address keeps when the cap is reached (default half of it)")
	fl.StringSliceVar(&f.trustedProxies, "trusted-proxies", nil, "addresses or CIDR ranges of proxies in front of the server, not held to --max-connections-per-source (default none)")
	return cmd
}

// envName is the environment variable of a flag: --tls-cert is SAFETHIRD_TLS_CERT.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets each flag not given on the command line from its
// environment variable, when set. A variable set but empty is an error,
// not a way to turn something off: SAFETHIRD_AUTH_TOKENS_FILE= left by a
// broken template must not start the server without auth. A flag given
// empty on the command line is refused for the same reason.
func applyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Name == "help" {
			return
		}
		if fl.Changed {
			if fl.Value.Type() == "string" && fl.Value.String() == "" {
				err = usageError("--%s is given but empty: leave it out for its default", fl.Name)
			}
			return
		}
		name := envName(fl.Name)
		v, ok := lookup(name)
		if !ok {
			return
		}
		if v == "" {
			err = usageError("%s is set but empty: unset it for the default of --%s, or give a value", name, fl.Name)
			return
		}
		if serr := fs.Set(fl.Name, v); serr != nil {
			err = usageError("invalid value %q for %s (--%s): %v", v, name, fl.Name, serr)
		}
	})
	return err
}

// serverConfig checks the flags and turns them into a server.Config. Each
// error is one line naming the flag, with the usage exit code.
func (f serveFlags) serverConfig() (server.Config, error) {
	cfg := server.Config{
		DatasetDir:              f.dataset,
		HTTPAddr:                f.httpAddr,
		TLSCertFile:             f.tlsCert,
		TLSKeyFile:              f.tlsKey,
		ClientCAFile:            f.clientCA,
		AllowPlaintextTokens:    f.insecurePlaintextTokens,
		Reflection:              f.reflection,
		MetricsAddr:             f.metricsAddr,
		ShutdownGrace:           f.shutdownGrace,
		MaxCallDuration:         f.maxCallDuration,
		RequestTimeout:          f.requestTimeout,
		DatasetUnsealed:         f.datasetUnsealed,
		MaxConditionCost:        f.maxConditionCost,
		MaxConnections:          f.maxConnections,
		MaxConnectionsPerSource: f.maxConnectionsPerSource,
		DatasetArchive:          f.datasetArchive,
		ArchiveMax:              f.archiveMax,
	}
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return cfg, usageError("--addr %q: want host:port: %v", f.addr, err)
	}
	for _, a := range []struct{ flag, value string }{{"http-addr", f.httpAddr}, {"metrics-addr", f.metricsAddr}} {
		if a.value == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(a.value); err != nil {
			return cfg, usageError("--%s %q: want host:port: %v", a.flag, a.value, err)
		}
	}
	if f.shutdownGrace <= 0 {
		return cfg, usageError("--shutdown-grace %s: must be positive, e.g. 10s", f.shutdownGrace)
	}
	if f.maxCallDuration <= 0 {
		return cfg, usageError("--max-call-duration %s: must be positive, e.g. 30s", f.maxCallDuration)
	}
	if f.requestTimeout <= 0 {
		return cfg, usageError("--request-timeout %s: must be positive, e.g. 10s", f.requestTimeout)
	}
	if f.maxConnections <= 0 {
		return cfg, usageError("--max-connections %d: must be positive, e.g. %d", f.maxConnections, server.DefaultMaxConnections)
	}
	if f.maxConnectionsPerSource < 0 || f.maxConnectionsPerSource > f.maxConnections {
		return cfg, usageError("--max-connections-per-source %d: must be 1 to --max-connections (%d), or 0 for half of it", f.maxConnectionsPerSource, f.maxConnections)
	}
	for _, p := range f.trustedProxies {
		prefix, err := parsePrefix(p)
		if err != nil {
			return cfg, usageError("--trusted-proxies %q: want an IP address or a CIDR range, e.g. 10.0.0.0/8", p)
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, prefix)
	}
	if f.dataset != "" {
		if info, err := os.Stat(f.dataset); err != nil || !info.IsDir() {
			return cfg, usageError("--dataset %s: not a readable directory", f.dataset)
		}
	}
	if f.datasetArchive != "" {
		if info, err := os.Stat(f.datasetArchive); err != nil || !info.IsDir() {
			return cfg, usageError("--dataset-archive %s: not a readable directory", f.datasetArchive)
		}
	}
	if f.archiveMax <= 0 {
		return cfg, usageError("--archive-max %d: must be positive, e.g. %d", f.archiveMax, archive.DefaultMax)
	}
	if f.datasetPublicKey != "" {
		if f.datasetUnsealed {
			return cfg, usageError("--dataset-public-key checks the dataset's seal, which --dataset-unsealed skips: give one or the other")
		}
		pub, err := readPublicKey(f.datasetPublicKey)
		if err != nil {
			return cfg, usageError("--dataset-public-key: %v", err)
		}
		cfg.DatasetPublicKey = pub
	}
	if f.maxConditionCost == 0 {
		return cfg, usageError("--max-condition-cost 0: must be positive, e.g. %d", condition.DefaultMaxCost)
	}
	if err := f.checkTLS(); err != nil {
		return cfg, err
	}
	if f.authTokensFile != "" {
		// Read here for an error naming the flag; the server reads it
		// again, and on each SIGHUP.
		if _, err := tokenfile.Read(f.authTokensFile); err != nil {
			return cfg, usageError("--auth-tokens-file: %v", err)
		}
		if f.tlsCert == "" && !f.insecurePlaintextTokens {
			return cfg, usageError("--auth-tokens-file needs TLS (--tls-cert, --tls-key) so tokens are not sent in the clear; --insecure-allow-plaintext-tokens overrides")
		}
		cfg.AuthTokensFile = f.authTokensFile
	}
	return cfg, nil
}

// parsePrefix reads an address (a range of one) or a CIDR range.
func parsePrefix(s string) (netip.Prefix, error) {
	if addr, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(addr, addr.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err
}

// checkTLS checks the TLS files here, rather than leaving it to
// server.New, so that a bad file is reported against its flag.
func (f serveFlags) checkTLS() error {
	switch {
	case f.tlsCert == "" && f.tlsKey == "":
		if f.clientCA != "" {
			return usageError("--client-ca needs TLS: set --tls-cert and --tls-key")
		}
		return nil
	case f.tlsCert == "" || f.tlsKey == "":
		return usageError("--tls-cert and --tls-key go together: set both or neither")
	}
	if _, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey); err != nil {
		return usageError("--tls-cert/--tls-key: %v", err)
	}
	if f.clientCA != "" {
		pem, err := os.ReadFile(f.clientCA)
		if err != nil {
			return usageError("--client-ca: %v", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			return usageError("--client-ca %s: no PEM certificate in it", f.clientCA)
		}
	}
	return nil
}

// logFlushInterval bounds how long a log line waits in the buffer. A line
// per call written straight through costs a system call per call, a large
// share of a small call's time; buffering keeps lines in order and costs at
// most this much delay, or the buffer's content if the process is killed
// outright (SIGTERM and SIGINT flush it).
const logFlushInterval = 100 * time.Millisecond

// newLogger builds the zap logger for --log-level and --log-format, and the
// function that flushes it and stops its flushing goroutine.
func newLogger(w io.Writer, level, format string) (*zap.Logger, func(), error) {
	var lvl zapcore.Level
	switch level {
	case "debug", "info", "warn", "error":
		_ = lvl.Set(level) // every case above parses
	default:
		return nil, nil, usageError("--log-level %q: want debug, info, warn or error", level)
	}
	var enc zapcore.Encoder
	switch format {
	case "json":
		ec := zap.NewProductionEncoderConfig()
		ec.EncodeTime = zapcore.ISO8601TimeEncoder
		enc = zapcore.NewJSONEncoder(ec)
	case "console":
		enc = zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	default:
		return nil, nil, usageError("--log-format %q: want json or console", format)
	}
	out := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(w), FlushInterval: logFlushInterval}
	stop := func() { _ = out.Stop() } // Stop flushes; stderr may refuse a sync, which loses nothing
	return zap.New(zapcore.NewCore(enc, out, lvl), zap.ErrorOutput(out)), stop, nil
}

func runServe(cmd *cobra.Command, f serveFlags) error {
	logger, stopLogger, err := newLogger(cmd.ErrOrStderr(), f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	defer stopLogger()
	cfg, err := f.serverConfig()
	if err != nil {
		return err
	}
	// grpc-go's own logs go through zap; below debug only its warnings
	// and errors, as grpc-go itself does by default.
	grpcLogger := logger.Named("grpc")
	if f.logLevel != "debug" {
		grpcLogger = grpcLogger.WithOptions(zap.IncreaseLevel(zapcore.WarnLevel))
	}
	grpclog.SetLoggerV2(zapgrpc.NewLogger(grpcLogger))

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg.Registry = reg

	// Registered before the server starts, so an early SIGHUP reloads
	// rather than killing the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	cfg.ReloadSignals = hup

	srv, err := server.New(cfg, logger)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// SIGTERM and SIGINT cancel cmd.Context (see main.go): Serve then
	// shuts down gracefully and returns.
	return srv.Serve(cmd.Context(), lis)
}
