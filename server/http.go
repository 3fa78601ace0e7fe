package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/vanguard"
	"connectrpc.com/vanguard/vanguardgrpc"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/safethird/safethird/openapi"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
)

// HTTP paths the door serves itself; every other path goes to vanguard.
const (
	openAPIPath = "/openapi.yaml"
	healthzPath = "/healthz"
	readyzPath  = "/readyz"
)

// httpDoor is the second door to the same house: on one HTTP port, the
// services as REST/JSON (paths from the protos' google.api.http
// annotations), the Connect protocol and gRPC-Web, transcoded by vanguard
// into gRPC for a gRPC server that has the same service implementations,
// limits and interceptor chain as the one on the gRPC port. Auth, request
// ids, deadlines, logging, metrics and errors are therefore the gRPC
// server's own. The door adds /openapi.yaml, /healthz and /readyz.
//
// The door has gRPC servers of its own, not the gRPC port's, so that each
// drains on its own at shutdown: gRPC's graceful stop would close the
// door's calls in flight at once instead of letting them finish. It has
// two: the REST paths go to one that speaks the door's JSON, so vanguard
// passes its answers through as they come instead of decoding them from
// proto and encoding them as JSON for each call; Connect, gRPC-Web and
// gRPC go to one that speaks proto, as the gRPC port does.
type httpDoor struct {
	srv *http.Server
	// grpc are the gRPC servers behind the door: proto's, then JSON's.
	grpc []*grpc.Server
	lis  net.Listener // set by listen
}

// newHTTPDoor builds the door in front of gRPC servers for svc; tlsCfg nil
// means plaintext, where HTTP/2 is offered without TLS (h2c) beside
// HTTP/1.1.
func (s *Server) newHTTPDoor(svc services, tlsCfg *tls.Config) (*httpDoor, error) {
	restJSON := func(res vanguard.TypeResolver) vanguard.Codec { return newRESTCodec(res, s.errs) }
	protoServer := s.newGRPCServer(svc, s.codec)
	jsonServer := s.newGRPCServer(svc, jsonAnswerCodec{rest: restJSON(protoregistry.GlobalTypes), encoded: s.store.encoded})
	transcoder, err := vanguardgrpc.NewTranscoder(protoServer, vanguard.WithCodec(restJSON))
	if err != nil {
		return nil, err
	}
	restTranscoder, err := vanguardgrpc.NewTranscoder(jsonServer, vanguard.WithCodec(restJSON),
		vanguard.WithDefaultServiceOptions(vanguard.WithTargetCodecs(vanguard.CodecJSON)))
	if err != nil {
		return nil, err
	}
	calls := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, restPrefix) {
			restTranscoder.ServeHTTP(w, r)
			return
		}
		transcoder.ServeHTTP(w, r)
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+healthzPath, s.healthz)
	mux.HandleFunc("GET "+readyzPath, s.readyz)
	mux.HandleFunc("GET "+openAPIPath, serveOpenAPI)
	routes, err := bodyRoutes(safethirdv1.AssessmentService_ServiceDesc.ServiceName, safethirdv1.CatalogService_ServiceDesc.ServiceName)
	if err != nil {
		return nil, err
	}
	mux.Handle("/", s.restErrors(s.requestDefaults(s.restBodies(routes, s.memoOr(calls)))))

	// net/http logs only broken connections and failed handshakes: the
	// client's trouble, not the server's, so at debug.
	errLog, _ := zap.NewStdLogAt(s.logger.Named("http"), zapcore.DebugLevel) // fails only for an invalid level
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(tlsCfg == nil)
	srv := &http.Server{
		Handler:   withRequestID(s.limitBody(mux)),
		TLSConfig: tlsCfg,
		Protocols: protocols,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams: maxConcurrentStreams,
		},
		// The gRPC port's limits, in HTTP terms: the handshake and the
		// headers within handshakeTimeout, a whole request within the
		// call cap, the answer within the cap and the same grace the
		// gRPC port gives, idle connections closed after 5 minutes.
		ReadHeaderTimeout: handshakeTimeout,
		ReadTimeout:       s.cfg.MaxCallDuration,
		WriteTimeout:      s.cfg.MaxCallDuration + 5*time.Second,
		IdleTimeout:       5 * time.Minute,
		MaxHeaderBytes:    maxHeaderListSize,
		ErrorLog:          errLog,
	}
	return &httpDoor{srv: srv, grpc: []*grpc.Server{protoServer, jsonServer}}, nil
}

func (d *httpDoor) listen(addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	d.lis = lis
	return nil
}

// addr is where the door listens; "" when it is off or not yet listening.
func (d *httpDoor) addr() string {
	if d == nil || d.lis == nil {
		return ""
	}
	return d.lis.Addr().String()
}

// serve blocks until shutdown; it reports nothing once shutdown has begun.
func (d *httpDoor) serve() error {
	var err error
	if d.srv.TLSConfig != nil {
		err = d.srv.ServeTLS(d.lis, "", "") // the certificate is in TLSConfig
	} else {
		err = d.srv.Serve(d.lis)
	}
	if !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown stops accepting requests and waits for those in flight until
// ctx ends, then cuts the rest; it reports whether none had to be cut.
// The gRPC server behind the door has nothing left in flight by then.
func (d *httpDoor) shutdown(ctx context.Context) bool {
	graceful := true
	if err := d.srv.Shutdown(ctx); err != nil {
		graceful = false
		_ = d.srv.Close() // cuts what is still open; its error adds nothing
	}
	for _, g := range d.grpc {
		g.Stop()
	}
	return graceful
}

// healthz is liveness: 200 whenever the process answers, with the gRPC
// health status in the body. It stays 200 while the dataset loads and
// while the server drains, when restarting the process would not help.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	resp, err := s.health.Check(r.Context(), &healthpb.HealthCheckRequest{})
	if err != nil {
		s.writeStatus(w, status.Convert(err))
		return
	}
	writeProtoJSON(w, http.StatusOK, resp)
}

// readyz is readiness, grpc.health.v1 over HTTP: 200 while the server (or
// the service named by ?service=) is SERVING, 503 otherwise, and 404 for
// a service it does not know, as the gRPC health check answers NOT_FOUND.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	resp, err := s.health.Check(r.Context(), &healthpb.HealthCheckRequest{Service: r.URL.Query().Get("service")})
	if err != nil {
		s.writeStatus(w, status.Convert(err))
		return
	}
	code := http.StatusOK
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		code = http.StatusServiceUnavailable
	}
	writeProtoJSON(w, code, resp)
}

// serveOpenAPI serves the OpenAPI document of the REST paths. It needs no
// token: it is the contract, with no data in it.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write([]byte(openapi.Document())) // a failed write is the client gone
}
