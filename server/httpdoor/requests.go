package httpdoor

import (
	"encoding/base64"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/safethird/safethird/server/codec"
	"github.com/safethird/safethird/server/rpcstatus"
)

// requestDefaults reads every REST body as JSON, the only kind the REST
// paths take: one sent without a type, or with the form type curl -d sends
// by default, is read as the JSON it must be, so that
// `curl -d '{"as_of":"2019-01-01"}'` works as it reads. It refuses a query
// string on a REST POST, and a Connect GET of the AssessmentService: those
// calls carry applicant facts, which belong in the body, not in a URL that
// proxies and access logs keep. It takes a POST of JSON or proto to a
// procedure's path for the Connect unary call it is, as connect-go's own
// servers do, with or without the Connect-Protocol-Version header that
// vanguard wants to tell it from REST. It decompresses a Connect GET's
// message through the size limit, and holds a deadline header to the
// server's call cap.
func (d *Door) requestDefaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := d.capTimeouts(r.Header); err != nil {
			d.refuse(w, r, err)
			return
		}
		ct := r.Header.Get("Content-Type")
		if !strings.HasPrefix(r.URL.Path, restPrefix) {
			if r.Method == http.MethodGet {
				if err := d.connectGET(r); err != nil {
					d.refuse(w, r, err)
					return
				}
			}
			if r.Method == http.MethodPost && (ct == jsonType || ct == protoType) && r.Header.Get(connectVersionHeader) == "" {
				r.Header.Set(connectVersionHeader, "1")
			}
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodPost && r.URL.RawQuery != "" {
			d.refuse(w, r, &rpcstatus.RequestError{
				Msg: "POST " + restPrefix + "... takes its fields in the JSON body, not in the query string: a URL is kept in access logs, and applicant facts must not be",
			})
			return
		}
		if ct == formType || ct == "" && r.ContentLength != 0 {
			r.Header.Set("Content-Type", jsonType)
		}
		next.ServeHTTP(w, r)
	})
}

// assessmentPrefix starts the paths of the AssessmentService's procedures,
// whose requests carry applicant facts.
const assessmentPrefix = "/safethird.v1.AssessmentService/"

// connectGET checks a Connect GET (the request message in the URL): never
// for the AssessmentService, its message valid base64 when it says so, and
// a compressed message decompressed here, through the size limit, rather
// than by vanguard, which has none.
func (d *Door) connectGET(r *http.Request) error {
	if strings.HasPrefix(r.URL.Path, assessmentPrefix) {
		return &rpcstatus.RequestError{Msg: "invalid request: the AssessmentService takes POST only: its requests carry applicant facts, and a GET carries its request in the URL, which proxies and access logs keep"}
	}
	q := r.URL.Query()
	if !q.Has("message") {
		return nil
	}
	msg := []byte(q.Get("message"))
	if q.Get("base64") == "1" {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(string(msg), "="))
		if err != nil {
			return &rpcstatus.RequestError{Field: "message", Rule: "must be base64url, as base64=1 says", Msg: "invalid request: message: must be base64url, as base64=1 says"}
		}
		msg = b
	}
	if c := q.Get("compression"); c == "" || c == "identity" {
		return nil
	} else if c != gzipName {
		return &rpcstatus.RequestError{Field: "compression", Rule: "must be gzip or identity", Msg: "invalid request: compression: must be gzip or identity"}
	}
	out, err := d.gunzip(msg)
	if err != nil {
		return err
	}
	q.Del("compression")
	q.Set("base64", "1")
	q.Set("message", base64.RawURLEncoding.EncodeToString(out))
	r.URL.RawQuery = q.Encode()
	return nil
}

// capTimeouts holds the deadline a request asks for to the server's call
// cap: vanguard reads X-Server-Timeout (seconds) into a time.Duration that
// overflows past 292 years, to a deadline already passed. A deadline that
// is not a positive number is refused.
func (d *Door) capTimeouts(h http.Header) error {
	maxCall := d.limits.MaxCallDuration
	if v := h.Get(serverTimeoutHeader); v != "" {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(secs) || secs <= 0 {
			return &rpcstatus.RequestError{Field: serverTimeoutHeader, Rule: "must be a positive number of seconds",
				Msg: "invalid request: " + serverTimeoutHeader + ": must be a positive number of seconds"}
		}
		if secs > maxCall.Seconds() {
			h.Set(serverTimeoutHeader, strconv.FormatFloat(maxCall.Seconds(), 'f', -1, 64))
		}
	}
	if v := h.Get(connectTimeoutHeader); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms > maxCall.Milliseconds() {
			h.Set(connectTimeoutHeader, strconv.FormatInt(maxCall.Milliseconds(), 10))
		}
	}
	return nil
}

// Deadline headers: REST's (vanguard's), in seconds, and Connect's.
const (
	serverTimeoutHeader  = "X-Server-Timeout"
	connectTimeoutHeader = "Connect-Timeout-Ms"
)

// refuse answers a request the door refuses itself with err's status, in
// the request's protocol (a google.rpc.Status as JSON on the REST paths,
// the protocol's own error on the others), and keeps the status for the
// request's log line and metrics.
func (d *Door) refuse(w http.ResponseWriter, r *http.Request, err error) {
	st := d.errs.Status(r.Context(), err)
	noteRefusal(r, st)
	switch {
	case strings.HasPrefix(r.URL.Path, restPrefix):
		writeRESTError(w, st, 0)
	case d.errorWriter.IsSupported(r):
		_ = d.errorWriter.Write(w, r, codec.ConnectError(st)) // a failed write is the client gone
	default:
		http.Error(w, st.Message(), rpcstatus.HTTPStatus(st))
	}
}
