// Package httpdoor is the HTTP door: on one HTTP port, the services as
// REST/JSON, the Connect protocol and gRPC-Web, transcoded by vanguard
// into gRPC for gRPC servers it is handed (with the same services, limits
// and interceptor chain as the gRPC port), REST errors as google.rpc.Status,
// the Markdown memo, /openapi.yaml, /healthz and /readyz. Its bounds come
// from server/limits and its statuses from server/rpcstatus; it must not
// build a gRPC server, hold a bound or map an error of its own.
package httpdoor

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"connectrpc.com/vanguard/vanguardgrpc"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/safethird/safethird/internal/connlimit"
	"github.com/safethird/safethird/openapi"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
	"github.com/safethird/safethird/server/codec"
	"github.com/safethird/safethird/server/limits"
	"github.com/safethird/safethird/server/rpcstatus"
)

// HTTP paths the door serves itself; every other path goes to vanguard.
const (
	openAPIPath = "/openapi.yaml"
	healthzPath = "/healthz"
	readyzPath  = "/readyz"
)

// restPrefix starts every REST path of the API (see the protos'
// google.api.http annotations); the Connect and gRPC-Web paths start with
// the service name instead.
const restPrefix = "/v1/"

// Media types the REST door negotiates.
const (
	jsonType     = "application/json"
	markdownType = "text/markdown"
	formType     = "application/x-www-form-urlencoded"
	protoType    = "application/proto"
)

// connectVersionHeader marks a Connect protocol request.
const connectVersionHeader = "Connect-Protocol-Version"

// Door is the second door to the same house: on one HTTP port, the
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
//
// The door holds the same line as the gRPC port: its connections count
// against the same cap and unread-response budget (connlimit), a request
// body is held to the same size after decompression, a caller without a
// token costs it no body, and every request it refuses itself is logged
// and counted like a call.
type Door struct {
	srv    *http.Server
	logger *zap.Logger
	errs   rpcstatus.Mapper
	limits limits.Limits
	health HealthChecker
	conns  *connlimit.Limiter
	// framework finds a framework of a dataset revision, for the memo.
	framework func(revision, id string) *safethirdv1.Framework
	// known, singleRequest, admits and account are Options'.
	known         func(fullMethod string) bool
	singleRequest func(fullMethod string) bool
	admits        func(authorization []string) bool
	account       Accounter
	// errorWriter writes an error in the protocol of a Connect, gRPC or
	// gRPC-Web request.
	errorWriter *connect.ErrorWriter
	// openAPI is the OpenAPI document, served as it is.
	openAPI []byte
	// grpc are the gRPC servers behind the door: proto's, then JSON's.
	grpc []*grpc.Server
	lis  net.Listener // set by Listen
}

// Accounter logs and counts one finished call, as the interceptor chain
// does (middleware.Chain.Account).
type Accounter func(ctx context.Context, method, label string, d time.Duration, err error, extra ...zap.Field)

// HealthChecker answers grpc.health.v1 checks: the gRPC port's health
// server, so both doors report the same status.
type HealthChecker interface {
	Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error)
}

// Options are what the door is built from.
type Options struct {
	Logger *zap.Logger
	Errors rpcstatus.Mapper
	Limits limits.Limits
	// TLS is the server's TLS configuration; nil means plaintext, where
	// HTTP/2 is offered without TLS (h2c) beside HTTP/1.1.
	TLS *tls.Config
	// NewGRPC builds a gRPC server for the door, with the services, limits
	// and chain of the gRPC port, that encodes messages with the codec.
	NewGRPC func(encoding.CodecV2) *grpc.Server
	// AnswerCodec is the gRPC port's proto codec.
	AnswerCodec encoding.CodecV2
	// Encodings reach the stored encodings of memoized answers.
	Encodings codec.Encodings
	// Malformed takes the requests the JSON codec cannot decode, for the
	// chain to refuse.
	Malformed *codec.Malformed
	Health    HealthChecker
	// Framework finds a framework of a dataset revision held, or nil.
	Framework func(revision, id string) *safethirdv1.Framework
	// Conns is the connection limiter the gRPC port shares.
	Conns *connlimit.Limiter
	// Known reports whether a full method name is one the server serves;
	// SingleRequest, whether it takes a single request.
	Known, SingleRequest func(fullMethod string) bool
	// Admits reports whether a request's Authorization header would pass
	// auth (middleware.Tokens.Admits).
	Admits func(authorization []string) bool
	// Account logs and counts a request the door refuses itself.
	Account Accounter
}

// New builds the door in front of gRPC servers built by o.NewGRPC.
func New(o Options) (*Door, error) {
	d := &Door{logger: o.Logger, errs: o.Errors, limits: o.Limits, health: o.Health, framework: o.Framework,
		conns: o.Conns, known: o.Known, singleRequest: o.SingleRequest, admits: o.Admits, account: o.Account,
		errorWriter: connect.NewErrorWriter(), openAPI: []byte(openapi.Document())}
	restJSON := func(res vanguard.TypeResolver) vanguard.Codec { return codec.NewREST(res, o.Errors) }
	protoServer := o.NewGRPC(o.AnswerCodec)
	jsonServer := o.NewGRPC(codec.NewJSONAnswer(restJSON(protoregistry.GlobalTypes), o.Encodings, o.Malformed))
	// Vanguard decompresses a message of a streaming protocol (gRPC-Web,
	// Connect streaming) itself, with no bound of its own; the door's gzip
	// reader holds it to the size limit, and the gRPC servers are sent
	// messages uncompressed, so that vanguard always decompresses with it.
	// A unary body or URL the door decompresses before vanguard (body.go).
	gzip := vanguard.WithCompression(gzipName, newGzipWriter, d.newGzipReader)
	transcoder, err := vanguardgrpc.NewTranscoder(protoServer, vanguard.WithCodec(restJSON), gzip,
		vanguard.WithDefaultServiceOptions(vanguard.WithNoTargetCompression()))
	if err != nil {
		return nil, err
	}
	restTranscoder, err := vanguardgrpc.NewTranscoder(jsonServer, vanguard.WithCodec(restJSON), gzip,
		vanguard.WithDefaultServiceOptions(vanguard.WithTargetCodecs(vanguard.CodecJSON), vanguard.WithNoTargetCompression()))
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
	mux.HandleFunc("GET "+healthzPath, d.healthz)
	mux.HandleFunc("GET "+readyzPath, d.readyz)
	mux.HandleFunc("GET "+openAPIPath, d.serveOpenAPI)
	routes, err := bodyRoutes(safethirdv1.AssessmentService_ServiceDesc.ServiceName, safethirdv1.CatalogService_ServiceDesc.ServiceName)
	if err != nil {
		return nil, err
	}
	mux.Handle("/", d.restErrors(d.requestDefaults(d.restBodies(routes, d.memoOr(calls)))))

	// net/http logs only broken connections and failed handshakes: the
	// client's trouble, not the server's, so at debug.
	errLog, _ := zap.NewStdLogAt(o.Logger.Named("http"), zapcore.DebugLevel) // fails only for an invalid level
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(o.TLS == nil)
	lim := o.Limits
	d.srv = &http.Server{
		Handler:   d.exchange(d.limitBody(mux)),
		TLSConfig: o.TLS,
		Protocols: protocols,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams: int(lim.MaxConcurrentStreams),
		},
		// The gRPC port's limits, in HTTP terms: the handshake and the
		// headers within the handshake timeout, a whole request within
		// the time a request has to arrive (each stream's, on HTTP/2),
		// the answer within the call cap and the same grace the gRPC port
		// gives, idle connections closed as on the gRPC port.
		ReadHeaderTimeout: lim.HandshakeTimeout,
		ReadTimeout:       lim.RequestTimeout,
		WriteTimeout:      lim.MaxCallDuration + 5*time.Second,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    int(lim.MaxHeaderListSize),
		ErrorLog:          errLog,
		// A connection is past its preface, and counts against the cap,
		// once it has begun a request (HTTP/1.1, h2c) or finished its TLS
		// handshake (HTTP/2 over TLS).
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if lc := connlimit.Of(c); lc != nil {
				return context.WithValue(ctx, connKey{}, lc)
			}
			return ctx
		},
		ConnState: func(c net.Conn, state http.ConnState) {
			if lc := connlimit.Of(c); lc != nil && state == http.StateActive {
				lc.Established()
			}
		},
	}
	d.grpc = []*grpc.Server{protoServer, jsonServer}
	return d, nil
}

// Listen listens on addr, within the connection limits.
func (d *Door) Listen(addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	d.lis = d.conns.Listen(lis, "http")
	return nil
}

// Addr is where the door listens; "" when it is off or not yet listening.
func (d *Door) Addr() string {
	if d == nil || d.lis == nil {
		return ""
	}
	return d.lis.Addr().String()
}

// Serve blocks until shutdown; it reports nothing once shutdown has begun.
func (d *Door) Serve() error {
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

// Shutdown stops accepting requests and waits for those in flight until
// ctx ends, then cuts the rest; it reports whether none had to be cut.
// The gRPC server behind the door has nothing left in flight by then.
func (d *Door) Shutdown(ctx context.Context) bool {
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
func (d *Door) healthz(w http.ResponseWriter, r *http.Request) {
	resp, err := d.health.Check(r.Context(), &healthpb.HealthCheckRequest{})
	if err != nil {
		d.writeStatus(w, status.Convert(err))
		return
	}
	writeProtoJSON(w, http.StatusOK, resp)
}

// readyz is readiness, grpc.health.v1 over HTTP: 200 while the server (or
// the service named by ?service=) is SERVING, 503 otherwise, and 404 for
// a service it does not know, as the gRPC health check answers NOT_FOUND.
func (d *Door) readyz(w http.ResponseWriter, r *http.Request) {
	resp, err := d.health.Check(r.Context(), &healthpb.HealthCheckRequest{Service: r.URL.Query().Get("service")})
	if err != nil {
		d.writeStatus(w, status.Convert(err))
		return
	}
	code := http.StatusOK
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		code = http.StatusServiceUnavailable
	}
	writeProtoJSON(w, code, resp)
}

// serveOpenAPI serves the OpenAPI document of the REST paths. It needs no
// token: it is the contract, with no data in it. Every request is served
// the same bytes: a copy each would cost a client that never reads them
// the document's size per stream.
func (d *Door) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(d.openAPI) // a failed write is the client gone
}
