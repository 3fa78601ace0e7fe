package httpdoor

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/safethird/safethird/server/callinfo"
	"github.com/safethird/safethird/server/rpcstatus"
)

// withRequestID picks the request id as the gRPC chain would (the
// caller's x-request-id when valid, else a new one), puts it on the request
// for the chain to keep, and on the response, so every HTTP answer carries
// it, errors raised before the chain included.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := callinfo.PickRequestID(r.Header.Values(callinfo.Header))
		r.Header.Set(callinfo.Header, id)
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
		w.Header()[http.CanonicalHeaderKey(callinfo.Header)] = []string{w.id}
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

// limitBody holds request bodies to the limits' MaxRecvMsgSize, the gRPC
// port's limit, refusing a larger one with RESOURCE_EXHAUSTED before any call
// begins: 413 and a google.rpc.Status on the REST paths, 413 in plain
// text on the Connect and gRPC-Web paths. A body of unknown length is read
// up to the limit first, except in the streaming protocols, which could
// hold a stream open: there the limit cuts the body. gRPC itself, passed
// through to the gRPC server, is held to the limit by it, message by
// message, as on the gRPC port.
func (d *Door) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		switch {
		case r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 || isGRPC(ct):
		case r.ContentLength > int64(d.limits.MaxRecvMsgSize):
			d.tooLarge(w, r)
			return
		case r.ContentLength < 0 && !strings.HasPrefix(ct, "application/connect+"):
			body, err := io.ReadAll(io.LimitReader(r.Body, int64(d.limits.MaxRecvMsgSize)+1))
			if err != nil {
				// The client went away or sent a broken body: nothing to answer.
				return
			}
			if len(body) > d.limits.MaxRecvMsgSize {
				d.tooLarge(w, r)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		default:
			r.Body = http.MaxBytesReader(w, r.Body, int64(d.limits.MaxRecvMsgSize))
		}
		next.ServeHTTP(w, r)
	})
}

// isGRPC reports whether a content type is gRPC's own (not gRPC-Web's).
func isGRPC(contentType string) bool {
	return strings.HasPrefix(contentType, "application/grpc") && !strings.HasPrefix(contentType, "application/grpc-web")
}

// tooLarge refuses a request over the size limit.
func (d *Door) tooLarge(w http.ResponseWriter, r *http.Request) {
	st := d.errs.Status(r.Context(), &rpcstatus.TooLargeError{Limit: d.limits.MaxRecvMsgSize})
	if strings.HasPrefix(r.URL.Path, restPrefix) {
		d.writeStatus(w, st)
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
func (d *Door) requestDefaults(next http.Handler) http.Handler {
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
			d.writeStatus(w, d.errs.Status(r.Context(), &rpcstatus.RequestError{
				Msg: "POST " + restPrefix + "... takes its fields in the JSON body, not in the query string: a URL is kept in access logs, and applicant facts must not be",
			}))
			return
		}
		if ct == formType || ct == "" && r.ContentLength != 0 {
			r.Header.Set("Content-Type", jsonType)
		}
		next.ServeHTTP(w, r)
	})
}
