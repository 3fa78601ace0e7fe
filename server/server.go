package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"buf.build/go/protovalidate"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	// gzip for requests and responses on both doors: a client that
	// compresses must be answered, within the same size limit after
	// decompression (grpc-go's MaxRecvMsgSize applies to the decompressed
	// message).
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	"github.com/safethird/safethird/dataset"
	"github.com/safethird/safethird/internal/connlimit"
	"github.com/safethird/safethird/internal/resetguard"
	"github.com/safethird/safethird/internal/tokenfile"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server/codec"
	"github.com/safethird/safethird/server/httpdoor"
	"github.com/safethird/safethird/server/limits"
	"github.com/safethird/safethird/server/middleware"
	"github.com/safethird/safethird/server/rpcstatus"
	"github.com/safethird/safethird/server/service"
	"github.com/safethird/safethird/server/store"
)

// MaxRecvMsgSize is the largest request accepted, on both doors.
const MaxRecvMsgSize = limits.MaxRecvMsgSize

const (
	// metricsShutdownTimeout bounds the metrics server's own shutdown,
	// after which its connections are closed.
	metricsShutdownTimeout = 250 * time.Millisecond
	// cutWait bounds how long shutdown waits for calls it has cut, past the
	// grace: every call stops on its context (conditions included), so this
	// only guards the grace against one that does not.
	cutWait = 500 * time.Millisecond
)

// keepaliveEnforcement refuses clients that ping more often than every
// 10 s, which would keep idle connections busy.
var keepaliveEnforcement = keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}

// keepaliveParams closes idle connections, recycles old ones so clients
// rebalance over replicas, and detects dead peers.
func keepaliveParams(lim limits.Limits) keepalive.ServerParameters {
	return keepalive.ServerParameters{
		MaxConnectionIdle: lim.IdleTimeout,
		MaxConnectionAge:  30 * time.Minute,
		// Long enough for a call started just before the age to finish.
		MaxConnectionAgeGrace: lim.MaxCallDuration + 5*time.Second,
		Time:                  2 * time.Minute,
		Timeout:               20 * time.Second,
	}
}

// Server is the safethird server: the gRPC door and, when configured, the
// HTTP door, over one store and one interceptor chain.
type Server struct {
	cfg    Config
	limits limits.Limits
	logger *zap.Logger
	store  *store.Store
	// codec encodes the gRPC servers' messages, memoized answers as the
	// bytes they were encoded to once, and gives the responses link their
	// size the same way.
	codec codec.Answer
	// tokens are the bearer tokens in force; a reload signal swaps them
	// when the tokens file changed (reloadTokens).
	tokens *middleware.Tokens
	chain  *middleware.Chain
	// conns hold both doors' connections to the cap and the budget.
	conns  *connlimit.Limiter
	svc    service.Services
	grpc   *grpc.Server
	health *health.Server
	// methods are the methods served, by full name, set once in New.
	methods map[string]grpc.MethodInfo
	// door is the HTTP door; nil when HTTPAddr is empty.
	door *httpdoor.Door

	started atomic.Bool
	// metricsSrv is set by Serve when MetricsAddr is set.
	metricsSrv *metricsServer
}

// healthNames are the names health reports on: the whole server ("") and
// each service.
var healthNames = []string{"", safethirdv1.AssessmentService_ServiceDesc.ServiceName, safethirdv1.CatalogService_ServiceDesc.ServiceName}

// New builds a Server from cfg; a nil logger logs nothing. It checks the configuration and reads the
// TLS files; the dataset is loaded by Serve.
func New(cfg Config, logger *zap.Logger) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("server config: %w", err)
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	tlsCfg, err := tlsConfig(cfg.TLSCertFile, cfg.TLSKeyFile, cfg.ClientCAFile)
	if err != nil {
		return nil, err
	}
	callMetrics, err := middleware.NewMetrics(cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	storeMetrics, err := store.NewMetrics(cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	connMetrics, err := connlimit.NewMetrics(cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	tokens := cfg.AuthTokens
	if cfg.AuthTokensFile != "" {
		if tokens, err = tokenfile.Read(cfg.AuthTokensFile); err != nil {
			return nil, fmt.Errorf("auth tokens: %w", err)
		}
	}
	errs := rpcstatus.Mapper{Logger: logger}
	lim := limits.New(limits.Tunable{MaxCallDuration: cfg.MaxCallDuration, RequestTimeout: cfg.RequestTimeout,
		MaxConnections: cfg.MaxConnections, MaxPerSource: cfg.MaxConnectionsPerSource, TrustedProxies: cfg.TrustedProxies})
	st, err := store.New(store.Source{Dir: cfg.DatasetDir, FS: cfg.DatasetFS, Archive: cfg.DatasetArchive, ArchiveMax: cfg.ArchiveMax,
		Options: dataset.LoadOptions{Sealed: !cfg.DatasetUnsealed, PublicKey: cfg.DatasetPublicKey, MaxConditionCost: cfg.MaxConditionCost}},
		logger, storeMetrics)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:    cfg,
		limits: lim,
		logger: logger,
		store:  st,
		tokens: middleware.NewTokens(tokens),
		conns:  connlimit.New(lim.Conns, logger, connMetrics),
		health: health.NewServer(),
	}
	malformed := &codec.Malformed{}
	s.codec = codec.NewAnswer(s.store.Encoded, malformed)
	s.chain = middleware.New(middleware.Config{
		Logger:  logger,
		Metrics: callMetrics,
		Errors:  errs,
		Tokens:  s.tokens,
		// The validator the engine and the dataset's load use: one CEL
		// environment in the process, and the requests' rules, compiled by
		// the expectations at load, ready for the first call.
		Validator:       protovalidate.GlobalValidator,
		Conns:           s.conns,
		Size:            s.codec.Size,
		MaxCallDuration: lim.MaxCallDuration,
		RequestTimeout:  lim.RequestTimeout,
		Known:           s.known,
		SingleRequest:   s.singleRequest,
		DecodeError:     malformed.Take,
		BeforeHandler:   cfg.beforeHandler,
	})
	today := func() string { return cfg.Now().UTC().Format(time.DateOnly) }
	s.svc = service.New(s.store, errs, today)
	creds := insecure.NewCredentials()
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	creds = resetguard.Credentials(creds, lim.Resets, func(raw net.Conn) {
		if c := connlimit.Of(raw); c != nil {
			c.CloseFor("resets")
		}
	})
	s.grpc = s.newGRPCServer(s.codec, grpc.Creds(creds))
	s.methods = map[string]grpc.MethodInfo{}
	for service, info := range s.grpc.GetServiceInfo() {
		for _, m := range info.Methods {
			s.methods["/"+service+"/"+m.Name] = m
		}
	}
	if cfg.HTTPAddr != "" {
		// The door's gRPC servers have no credentials of their own: TLS
		// ends at the HTTP server, which hands the gRPC server its
		// connection state.
		s.door, err = httpdoor.New(httpdoor.Options{
			Logger:        logger,
			Errors:        errs,
			Limits:        lim,
			TLS:           tlsCfg,
			NewGRPC:       func(c encoding.CodecV2) *grpc.Server { return s.newGRPCServer(c) },
			AnswerCodec:   s.codec,
			Encodings:     s.store.Encoded,
			Malformed:     malformed,
			Health:        s.health,
			Framework:     s.framework,
			Conns:         s.conns,
			Known:         s.known,
			SingleRequest: s.singleRequest,
			Admits:        s.tokens.Admits,
			Account:       s.chain.Account,
		})
		if err != nil {
			return nil, fmt.Errorf("HTTP door: %w", err)
		}
	}
	for _, name := range healthNames {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_NOT_SERVING)
	}
	return s, nil
}

// newGRPCServer builds a gRPC server with the limits, the interceptor
// chain, the services, health and (when configured) reflection, that
// encodes messages with codec.
func (s *Server) newGRPCServer(codec encoding.CodecV2, extra ...grpc.ServerOption) *grpc.Server {
	lim := s.limits
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(lim.MaxRecvMsgSize),
		grpc.MaxConcurrentStreams(lim.MaxConcurrentStreams),
		grpc.MaxHeaderListSize(lim.MaxHeaderListSize),
		grpc.ConnectionTimeout(lim.HandshakeTimeout),
		grpc.KeepaliveEnforcementPolicy(keepaliveEnforcement),
		grpc.KeepaliveParams(keepaliveParams(lim)),
		grpc.InitialWindowSize(lim.StreamWindow),
		grpc.InitialConnWindowSize(lim.ConnWindow),
		grpc.ForceServerCodecV2(codec),
	}
	opts = append(opts, extra...)
	opts = append(opts, s.chain.ServerOptions()...)
	g := grpc.NewServer(opts...)
	s.svc.Register(g)
	healthpb.RegisterHealthServer(g, s.health)
	if s.cfg.Reflection {
		reflection.Register(g) // v1, and v1alpha for older clients
	}
	return g
}

// known reports whether a full method name is one the server serves.
func (s *Server) known(fullMethod string) bool {
	_, ok := s.methods[fullMethod]
	return ok
}

// singleRequest reports whether a method served takes a single request.
func (s *Server) singleRequest(fullMethod string) bool {
	m, ok := s.methods[fullMethod]
	return ok && !m.IsClientStream
}

// framework finds a framework of a dataset revision the store holds, or
// nil.
func (s *Server) framework(revision, id string) *safethirdv1.Framework {
	eng, err := s.store.Resolve(revision)
	if err != nil {
		return nil
	}
	f, _ := eng.Snapshot().Framework(id)
	return f
}

// Reload loads the dataset again and, when it validates, makes it the
// current one; a dataset that fails validation is refused, with a
// *dataset.ValidationError, and the last good one keeps serving.
func (s *Server) Reload() error {
	_, err := s.store.Reload()
	return err
}

// Serve serves gRPC on lis until ctx is done, then shuts down gracefully:
// health turns NOT_SERVING, no new calls are accepted, calls in flight get
// ShutdownGrace to finish and are then cut. It loads the dataset first,
// reporting NOT_SERVING until then, and fails if that load fails. It
// returns once everything it started has stopped; it can be called once.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("serve: already called")
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errc := make(chan error, 3) // one from each of the gRPC, HTTP and metrics servers
	wg.Go(func() { s.conns.WatchStalls(ctx) })
	wg.Go(func() {
		if err := s.grpc.Serve(s.conns.Listen(lis, "grpc")); err != nil {
			errc <- fmt.Errorf("serve gRPC: %w", err)
		}
	})
	err := s.start(ctx, lis.Addr().String(), &wg, errc)
	if err == nil {
		select {
		case <-ctx.Done():
		case err = <-errc:
		}
	}
	s.stop()
	cancel()
	wg.Wait()
	return err
}

// start starts the metrics server, loads the dataset, starts the reload
// triggers and reports SERVING.
func (s *Server) start(ctx context.Context, addr string, wg *sync.WaitGroup, errc chan<- error) error {
	if s.cfg.MetricsAddr != "" {
		ms, err := newMetricsServer(s.cfg.MetricsAddr, s.cfg.Registry)
		if err != nil {
			return fmt.Errorf("metrics: listen %s: %w", s.cfg.MetricsAddr, err)
		}
		s.metricsSrv = ms
		wg.Go(func() {
			if err := ms.serve(); err != nil {
				errc <- fmt.Errorf("serve metrics: %w", err)
			}
		})
	}
	if s.door != nil {
		// Listening before the load, like the gRPC port: /healthz answers
		// and /readyz says 503 while the dataset loads.
		if err := s.door.Listen(s.cfg.HTTPAddr); err != nil {
			return fmt.Errorf("HTTP door: listen %s: %w", s.cfg.HTTPAddr, err)
		}
		wg.Go(func() {
			if err := s.door.Serve(); err != nil {
				errc <- fmt.Errorf("serve HTTP: %w", err)
			}
		})
	}
	watching := s.cfg.DatasetDir != "" && s.cfg.WatchInterval > 0
	var fp string
	if watching {
		// Taken before the load, so a change made during it is seen.
		fp, _ = store.Fingerprint(s.cfg.DatasetDir)
	}
	res, err := s.store.Reload()
	if err != nil {
		var verr *dataset.ValidationError
		if errors.As(err, &verr) {
			store.LogLoadError(s.logger, err)
			return fmt.Errorf("load dataset: %d problem(s), each logged", len(verr.Problems))
		}
		return err
	}
	if watching {
		wg.Go(func() { s.store.Watch(ctx, s.cfg.DatasetDir, s.cfg.WatchInterval, fp) })
	}
	if sig := s.cfg.ReloadSignals; sig != nil {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-sig:
					s.store.ReloadAndLog("signal")
					s.reloadTokens()
				}
			}
		})
	}
	for _, name := range healthNames {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	if s.cfg.DatasetUnsealed {
		s.logger.Warn("the dataset's seal is not checked (unsealed): serve an unsealed dataset only to edit it")
	}
	s.logger.Info("serving", zap.String("addr", addr), zap.String("dataset_revision", res.Revision),
		zap.Bool("dataset_sealed", !s.cfg.DatasetUnsealed), zap.Bool("dataset_signed", s.cfg.DatasetPublicKey != nil),
		zap.Duration("load_duration", res.Duration), zap.Bool("tls", s.cfg.TLSCertFile != ""),
		zap.Bool("mtls", s.cfg.ClientCAFile != ""), zap.Bool("auth", s.tokens.On()),
		zap.Bool("reflection", s.cfg.Reflection), zap.String("metrics_addr", s.metricsAddr()),
		zap.String("http_addr", s.door.Addr()))
	return nil
}

func (s *Server) metricsAddr() string {
	if s.metricsSrv == nil {
		return ""
	}
	return s.metricsSrv.lis.Addr().String()
}

// stop shuts down: health NOT_SERVING first so probes and balancers move
// away, then a graceful stop of the gRPC server and the HTTP door side by
// side, each cut short after ShutdownGrace, and the wait for their
// connections' clients to take the end of their responses, within the
// same grace; then metrics.
func (s *Server) stop() {
	s.health.Shutdown()
	s.logger.Info("shutting down", zap.Duration("grace", s.cfg.ShutdownGrace))
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	var cut atomic.Bool
	wg.Go(func() {
		if !gracefulStop(ctx, s.grpc) {
			cut.Store(true)
		}
	})
	if s.door != nil {
		wg.Go(func() {
			if !s.door.Shutdown(ctx) {
				cut.Store(true)
			}
		})
	}
	wg.Wait()
	if cut.Load() {
		s.logger.Warn("shutdown grace over; cut the calls still in flight")
	}
	// The connections closed last may still be sending their clients the
	// end of their responses; exiting would cut them.
	if !s.conns.WaitClosed(ctx) {
		s.logger.Warn("shutdown grace over; closed connections whose clients had not read all their responses")
	}
	if s.metricsSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), metricsShutdownTimeout)
		defer cancel()
		if err := s.metricsSrv.shutdown(ctx); err != nil {
			s.logger.Warn("metrics server shutdown", zap.Error(err))
		}
	}
	s.logger.Info("stopped")
}

// gracefulStop stops g gracefully, or cuts its calls when ctx ends first;
// it reports whether the stop was graceful.
func gracefulStop(ctx context.Context, g *grpc.Server) bool {
	done := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		g.Stop()
		// A handler that ignores its context keeps running after the cut;
		// shutdown does not wait for it past cutWait.
		select {
		case <-done:
		case <-time.After(cutWait):
		}
		return false
	}
}

// reloadTokens reads the tokens file again, when there is one, and puts its
// tokens in force: a token removed from the file stops working. A file that
// breaks a rule is refused, logged with its line and the rule (never a
// token), and the tokens in force stay.
func (s *Server) reloadTokens() {
	if s.cfg.AuthTokensFile == "" {
		return
	}
	tokens, err := tokenfile.Read(s.cfg.AuthTokensFile)
	if err != nil {
		s.logger.Error("tokens file refused; the tokens in force stay", zap.Error(err))
		return
	}
	s.tokens.Set(tokens)
	s.logger.Info("tokens reloaded", zap.Int("tokens", len(tokens)))
}
