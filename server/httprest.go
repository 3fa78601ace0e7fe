package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/munnerz/goautoneg"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/memo"
	safethirdv1 "github.com/safethird/safethird/proto/safethird/v1"
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

// withRequestID picks the request id as the gRPC chain would (the
// caller's x-request-id when valid, else a new one), puts it on the request
// for the chain to keep, and on the response, so every HTTP answer carries
// it, errors raised before the chain included.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := pickRequestID(r.Header.Values(requestIDHeader))
		r.Header.Set(requestIDHeader, id)
		next.ServeHTTP(&idWriter{ResponseWriter: w, id: id}, r)
	})
}

// idWriter sets the request id header, once, as the response header is
// written: the gRPC chain adds the same id to the response of a call that
// succeeds, and an HTTP answer must carry it once.
type idWriter struct {
	http.ResponseWriter
	id      string
	written bool
}

func (w *idWriter) setID() {
	if !w.written {
		w.written = true
		w.Header()[http.CanonicalHeaderKey(requestIDHeader)] = []string{w.id}
	}
}

func (w *idWriter) WriteHeader(code int) {
	w.setID()
	w.ResponseWriter.WriteHeader(code)
}

func (w *idWriter) Write(p []byte) (int, error) {
	w.setID()
	return w.ResponseWriter.Write(p)
}

func (w *idWriter) Flush() {
	w.setID()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *idWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// limitBody holds request bodies to MaxRecvMsgSize, the gRPC port's
// limit, refusing a larger one with RESOURCE_EXHAUSTED before any call
// begins: 413 and a google.rpc.Status on the REST paths, 413 in plain
// text on the Connect and gRPC-Web paths. A body of unknown length is read
// up to the limit first, except in the streaming protocols, which could
// hold a stream open: there the limit cuts the body. gRPC itself, passed
// through to the gRPC server, is held to the limit by it, message by
// message, as on the gRPC port.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		switch {
		case r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || isGRPC(ct):
		case r.ContentLength > MaxRecvMsgSize:
			s.tooLarge(w, r)
			return
		case r.ContentLength < 0 && !strings.HasPrefix(ct, "application/connect+"):
			body, err := io.ReadAll(io.LimitReader(r.Body, MaxRecvMsgSize+1))
			if err != nil {
				// The client went away or sent a broken body: nothing to answer.
				return
			}
			if len(body) > MaxRecvMsgSize {
				s.tooLarge(w, r)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		default:
			r.Body = http.MaxBytesReader(w, r.Body, MaxRecvMsgSize)
		}
		next.ServeHTTP(w, r)
	})
}

// isGRPC reports whether a content type is gRPC's own (not gRPC-Web's).
func isGRPC(contentType string) bool {
	return strings.HasPrefix(contentType, "application/grpc") && !strings.HasPrefix(contentType, "application/grpc-web")
}

// tooLarge refuses a request over the size limit.
func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request) {
	st := s.errs.status(r.Context(), errTooLarge)
	if strings.HasPrefix(r.URL.Path, restPrefix) {
		s.writeStatus(w, st)
		return
	}
	http.Error(w, st.Message(), http.StatusRequestEntityTooLarge)
}

// requestDefaults reads every REST body as JSON, the only kind the REST
// paths take: one sent without a type, or with the form type curl -d sends
// by default, is read as the JSON it must be, so that
// `curl -d '{"as_of":"2019-01-01"}'` works as it reads. It refuses a query
// string on a REST POST: those calls carry applicant facts, which belong in
// the body, not in a URL that proxies and access logs keep. And it takes a
// POST of JSON or proto to a procedure's path for the Connect unary call it
// is, as connect-go's own servers do, with or without the
// Connect-Protocol-Version header that vanguard wants to tell it from REST.
func (s *Server) requestDefaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if !strings.HasPrefix(r.URL.Path, restPrefix) {
			if r.Method == http.MethodPost && (ct == jsonType || ct == protoType) && r.Header.Get(connectVersionHeader) == "" {
				r.Header.Set(connectVersionHeader, "1")
			}
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodPost && r.URL.RawQuery != "" {
			s.writeStatus(w, s.errs.status(r.Context(), &requestError{
				msg: "POST " + restPrefix + "... takes its fields in the JSON body, not in the query string: a URL is kept in access logs, and applicant facts must not be",
			}))
			return
		}
		if ct == formType || ct == "" && r.ContentLength != 0 {
			r.Header.Set("Content-Type", jsonType)
		}
		next.ServeHTTP(w, r)
	})
}

// restErrors answers every failed REST call with a google.rpc.Status as
// JSON, under the HTTP status httpStatus maps it to. Vanguard answers REST
// errors from its own fixed table of statuses, which has no 412 or 413,
// and answers a path, method or media type no RPC takes in plain text;
// the status of a call is kept as it is. Connect and gRPC-Web errors follow
// their own protocols' rules and pass untouched.
func (s *Server) restErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, restPrefix) {
			next.ServeHTTP(w, r)
			return
		}
		sw := &statusRewriter{ResponseWriter: w}
		body := &restBody{}
		r = r.WithContext(context.WithValue(r.Context(), restBodyKey{}, body))
		next.ServeHTTP(sw, r)
		if sw.held {
			s.rewriteError(sw, r, body)
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

// unmarshalFailed starts the message of the INTERNAL status grpc-go gives
// a request its codec could not decode, which it gives before any of the
// server's own code runs: on the REST paths whose JSON vanguard passes
// through to the gRPC server as it is, that is a body at fault.
const unmarshalFailed = "grpc: error unmarshalling request"

// rewriteError writes the error sw held; body is the call's, when
// restBodies kept it.
func (s *Server) rewriteError(sw *statusRewriter, r *http.Request, body *restBody) {
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
		writeRESTError(sw.ResponseWriter, s.errs.status(r.Context(), routeError(sw.code, r)), sw.code)
		return
	}
	st := status.FromProto(&p)
	if st.Code() == codes.Internal && strings.HasPrefix(st.Message(), unmarshalFailed) && body.input != nil {
		st = s.errs.status(r.Context(), decodeProblem(body.data, body.input))
	}
	if reasonOf(st) == "" && (st.Code() == codes.Unknown || st.Code() == codes.InvalidArgument) {
		// Every status of a call carries ErrorInfo (errorMapper sees to
		// it), so one without is vanguard's own: a path segment, query
		// parameter or body it could not read into the request message.
		st = s.errs.status(r.Context(), &requestError{msg: "invalid request: " + st.Message()})
	}
	writeRESTError(sw.ResponseWriter, st, 0)
}

// routeError is the error of a request that vanguard answered with code
// before any RPC: no RPC has its path, or takes its method or media type.
func routeError(code int, r *http.Request) *requestError {
	path := r.URL.Path
	if len(path) > maxIDInMessage {
		path = path[:maxIDInMessage] + "..."
	}
	switch code {
	case http.StatusNotFound:
		return &requestError{notFound: true, msg: fmt.Sprintf("no REST path %q: /openapi.yaml lists them", path)}
	case http.StatusMethodNotAllowed:
		return &requestError{msg: fmt.Sprintf("%s is not allowed on %q; the Allow header lists the methods that are", r.Method, path)}
	case http.StatusUnsupportedMediaType:
		return &requestError{msg: "the REST paths take application/json bodies only"}
	default:
		return &requestError{msg: http.StatusText(code)}
	}
}

// writeStatus writes st as a REST error: google.rpc.Status as JSON, under
// the HTTP status httpStatus maps it to.
func (s *Server) writeStatus(w http.ResponseWriter, st *status.Status) {
	writeRESTError(w, st, 0)
}

// writeRESTError writes st as JSON under httpCode, or under the status
// httpStatus maps st to when httpCode is 0, with the headers HTTP asks
// for: how to authenticate on a 401, when to retry on a 503.
func writeRESTError(w http.ResponseWriter, st *status.Status, httpCode int) {
	body, err := protojson.Marshal(st.Proto())
	if err != nil {
		// Only a detail that cannot be marshaled fails, and the details are plain messages.
		st, body = internalStatus(), []byte(`{"code":13,"message":"internal error"}`)
	}
	if httpCode == 0 {
		httpCode = httpStatus(st)
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

// memoOr answers POST /v1/countries/{country_code}:assess with the
// brief-ready Markdown memo, the one `safethird assess -o markdown`
// writes, when the client prefers text/markdown to JSON. The call goes
// through next as a JSON call, so auth, limits, logging, metrics and
// errors are those of any call, and the memo is rendered from its answer;
// an error stays JSON. Every other request goes to next untouched.
func (s *Server) memoOr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !isAssessCountryPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Accept")
		if negotiate(r.Header.Values("Accept")) != markdownType {
			next.ServeHTTP(w, r)
			return
		}
		inner := r.Clone(r.Context())
		inner.Header.Set("Accept", jsonType)
		var rec responseBuffer
		next.ServeHTTP(&rec, inner)
		if rec.code != http.StatusOK {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.code)
			_, _ = w.Write(rec.body.Bytes()) // a failed write is the client gone
			return
		}
		doc, err := s.renderMemo(rec.body.Bytes())
		if err != nil {
			s.writeStatus(w, s.errs.status(r.Context(), err))
			return
		}
		w.Header().Set("Content-Type", markdownType+"; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(doc) // a failed write is the client gone
	})
}

// renderMemo renders the memo from the JSON of an AssessCountryResponse,
// naming the law by the framework of the dataset revision the answer
// rests on, as the CLI names it from GetFramework.
func (s *Server) renderMemo(answer []byte) ([]byte, error) {
	var resp safethirdv1.AssessCountryResponse
	if err := protojson.Unmarshal(answer, &resp); err != nil {
		return nil, fmt.Errorf("memo: decode the answer: %w", err)
	}
	a := resp.GetAssessment()
	var f *safethirdv1.Framework
	if eng, err := s.store.Resolve(a.GetDatasetRevision()); err == nil {
		f, _ = eng.Snapshot().Framework(a.GetFrameworkId())
	}
	var b bytes.Buffer
	if err := memo.Assessment(&b, a, f); err != nil {
		return nil, fmt.Errorf("memo: render: %w", err)
	}
	return b.Bytes(), nil
}

// isAssessCountryPath reports whether path is /v1/countries/{code}:assess.
func isAssessCountryPath(path string) bool {
	code, ok := strings.CutPrefix(path, restPrefix+"countries/")
	if !ok {
		return false
	}
	code, ok = strings.CutSuffix(code, ":assess")
	return ok && code != "" && !strings.Contains(code, "/")
}

// negotiate picks JSON or Markdown from Accept headers: the type of the
// most preferred clause that names one (q=0 refuses it); JSON when none
// does, or when there is no Accept header.
func negotiate(accept []string) string {
	for _, c := range goautoneg.ParseAccept(strings.Join(accept, ",")) {
		if c.Q <= 0 {
			continue
		}
		switch {
		case c.Type == "text" && (c.SubType == "markdown" || c.SubType == "*"):
			return markdownType
		case c.Type == "application" && c.SubType == "json", c.Type == "*", c.Type == "application" && c.SubType == "*":
			return jsonType
		}
	}
	return jsonType
}

// responseBuffer is an http.ResponseWriter that keeps the response.
type responseBuffer struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *responseBuffer) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}

func (b *responseBuffer) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

// Flush does nothing: vanguard needs a Flusher, and the buffer holds everything anyway.
func (b *responseBuffer) Flush() {}

func (b *responseBuffer) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}
