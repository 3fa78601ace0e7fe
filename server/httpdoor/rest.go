package httpdoor

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/server/rpcstatus"
)

// restErrors answers every failed REST call with a google.rpc.Status as
// JSON, under the HTTP status httpStatus maps it to. Vanguard answers REST
// errors from its own fixed table of statuses, which has no 412 or 413,
// and answers a path, method or media type no RPC takes in plain text;
// the status of a call is kept as it is. Connect and gRPC-Web errors follow
// their own protocols' rules and pass untouched.
func (d *Door) restErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, restPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusRewriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.held {
			d.rewriteError(sw, r)
		}
	})
}

// statusRewriter holds back an error response for restErrors; a success
// passes straight through.
type statusRewriter struct {
	http.ResponseWriter
	code int // 0 until the header is written
	held bool
	body bytes.Buffer
}

func (sw *statusRewriter) WriteHeader(code int) {
	if sw.code != 0 {
		return
	}
	sw.code = code
	if code < http.StatusBadRequest {
		sw.ResponseWriter.WriteHeader(code)
		return
	}
	sw.held = true
}

func (sw *statusRewriter) Write(p []byte) (int, error) {
	if sw.code == 0 {
		sw.WriteHeader(http.StatusOK)
	}
	if sw.held {
		return sw.body.Write(p)
	}
	return sw.ResponseWriter.Write(p)
}

// Flush flushes what is not held back.
func (sw *statusRewriter) Flush() {
	if f, ok := sw.ResponseWriter.(http.Flusher); ok && !sw.held {
		f.Flush()
	}
}

func (sw *statusRewriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// rewriteError writes the error sw held.
func (d *Door) rewriteError(sw *statusRewriter, r *http.Request) {
	// A REST error carries no gRPC framing. When vanguard fails a call
	// while decoding its body, the gRPC server behind it has begun the
	// call, and its headers and trailers are in the header map too.
	h := sw.Header()
	for k := range h {
		if k == "Trailer" || strings.HasPrefix(k, "Grpc-") {
			delete(h, k)
		}
	}
	var p spb.Status
	if err := protojson.Unmarshal(sw.body.Bytes(), &p); err != nil {
		// Vanguard's plain-text answer to a path, method or media type
		// that no RPC takes: its HTTP status stays.
		h.Del("X-Content-Type-Options")
		st := d.errs.Status(r.Context(), routeError(sw.code, r))
		noteRefusal(r, st)
		writeRESTError(sw.ResponseWriter, st, sw.code)
		return
	}
	st := status.FromProto(&p)
	if rpcstatus.ReasonOf(st) == "" && (st.Code() == codes.Unknown || st.Code() == codes.InvalidArgument) {
		// Every status of a call carries ErrorInfo (rpcstatus sees to
		// it), so one without is vanguard's own: a path segment, query
		// parameter or body it could not read into the request message.
		st = d.errs.Status(r.Context(), &rpcstatus.RequestError{Msg: "invalid request: " + st.Message()})
	}
	noteRefusal(r, st) // for the log line, when the chain did not take the call
	writeRESTError(sw.ResponseWriter, st, 0)
}

// noteRefusal keeps the status of a request refused before the chain, for
// its log line and metrics.
func noteRefusal(r *http.Request, st *status.Status) {
	if x := exchangeFrom(r.Context()); x != nil {
		x.refusal = st
	}
}

// routeError is the error of a request that vanguard answered with code
// before any RPC: no RPC has its path, or takes its method or media type.
func routeError(code int, r *http.Request) *rpcstatus.RequestError {
	path := rpcstatus.Clip(r.URL.Path)
	switch code {
	case http.StatusNotFound:
		return &rpcstatus.RequestError{NotFound: true, Msg: fmt.Sprintf("no REST path %q: /openapi.yaml lists them", path)}
	case http.StatusMethodNotAllowed:
		return &rpcstatus.RequestError{Msg: fmt.Sprintf("%s is not allowed on %q; the Allow header lists the methods that are", r.Method, path)}
	case http.StatusUnsupportedMediaType:
		return &rpcstatus.RequestError{Msg: "the REST paths take application/json bodies only"}
	default:
		return &rpcstatus.RequestError{Msg: http.StatusText(code)}
	}
}

// writeStatus writes st as a REST error: google.rpc.Status as JSON, under
// the HTTP status httpStatus maps it to.
func (d *Door) writeStatus(w http.ResponseWriter, st *status.Status) {
	writeRESTError(w, st, 0)
}

// writeRESTError writes st as JSON under httpCode, or under the status
// httpStatus maps st to when httpCode is 0, with the headers HTTP asks
// for: how to authenticate on a 401, when to retry on a 503.
func writeRESTError(w http.ResponseWriter, st *status.Status, httpCode int) {
	body, err := protojson.Marshal(st.Proto())
	if err != nil {
		// Only a detail that cannot be marshaled fails, and the details are plain messages.
		st, body = rpcstatus.Internal(), []byte(`{"code":13,"message":"internal error"}`)
	}
	if httpCode == 0 {
		httpCode = rpcstatus.HTTPStatus(st)
	}
	h := w.Header()
	h.Set("Content-Type", jsonType)
	switch st.Code() {
	case codes.Unauthenticated:
		h.Set("WWW-Authenticate", `Bearer realm="safethird"`)
	case codes.Unavailable:
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(httpCode)
	_, _ = w.Write(body) // a failed write is the client gone
}

// writeProtoJSON writes m as protojson under code.
func writeProtoJSON(w http.ResponseWriter, code int, m proto.Message) {
	body, err := protojson.Marshal(m)
	if err != nil {
		code, body = http.StatusInternalServerError, []byte(`{"code":13,"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", jsonType)
	w.WriteHeader(code)
	_, _ = w.Write(body) // a failed write is the client gone
}
