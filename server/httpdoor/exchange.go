package httpdoor

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/safethird/safethird/internal/connlimit"
	"github.com/safethird/safethird/server/callinfo"
	"github.com/safethird/safethird/server/rpcstatus"
)

type connKey struct{}

// connFrom returns the connection a request came on, or nil.
func connFrom(ctx context.Context) *connlimit.Conn {
	c, _ := ctx.Value(connKey{}).(*connlimit.Conn)
	return c
}

// exchange is what the door knows of one request while it serves it.
type exchange struct {
	conn *connlimit.Conn
	// refusal is the status of a request the door refused itself.
	refusal *status.Status
	// stage is waiting, then arrived once the request has arrived whole
	// (the call then keeps its connection busy), then ended. The body may
	// be read on another goroutine (gRPC's handler reads it on its own),
	// even after the handler has returned.
	stage atomic.Int32
}

// An exchange's stages.
const (
	waiting int32 = iota
	arrived
	ended
)

type exchangeKey struct{}

func exchangeFrom(ctx context.Context) *exchange {
	x, _ := ctx.Value(exchangeKey{}).(*exchange)
	return x
}

// exchange wraps the door's handler for each request: it picks the request
// id as the gRPC chain would (the caller's x-request-id when valid, else a
// new one) and begins the call's record under it, so the chain behind
// keeps both; it counts every byte of the response against the connection
// (the unread-response budget, as on the gRPC port); it marks the
// connection busy from the request's arrival to the response's end; and it
// accounts for a request the chain never took (one the door, vanguard or
// grpc-go refused), as the stats handler does on the gRPC port.
func (d *Door) exchange(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		method, path := r.Method, r.URL.Path // vanguard rewrites the request
		x := &exchange{conn: connFrom(r.Context())}
		if x.conn != nil && x.conn.Cut() {
			return // closed for not reading its responses: nothing to answer
		}
		id := callinfo.PickRequestID(r.Header.Values(callinfo.Header))
		r.Header.Set(callinfo.Header, id)
		ci := &callinfo.Info{RequestID: id, Door: "http"}
		ctx := context.WithValue(callinfo.With(r.Context(), ci), exchangeKey{}, x)
		ew := &exchangeWriter{ResponseWriter: w, id: id}
		if x.conn != nil {
			// The chain counts the response's encoded size before it is
			// encoded, sparing the work for a connection over its share;
			// the writer counts the bytes beyond it.
			ew.charge = x.conn.Reservation(heldCopies)
			ctx = connlimit.WithReservation(ctx, ew.charge)
		}
		r = r.WithContext(ctx)
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			x.arrive()
		} else {
			r.Body = &arrivingBody{ReadCloser: r.Body, x: x}
		}
		defer func() {
			if ew.charge != nil {
				ew.charge.Close()
			}
			if x.stage.Swap(ended) == arrived && x.conn != nil {
				x.conn.End()
			}
			// A call the chain took is accounted for by the chain; any
			// other, the door or vanguard refused, or grpc-go before the
			// chain, and is accounted for here.
			if !ci.Chained {
				d.accountRefusal(ctx, method, path, x, ew.code, time.Since(start))
			}
		}()
		next.ServeHTTP(ew, r)
	})
}

// arrive notes that the request has arrived whole.
func (x *exchange) arrive() {
	if x.stage.CompareAndSwap(waiting, arrived) && x.conn != nil {
		x.conn.Begin()
	}
}

// arrivingBody notes the request's arrival when its body has been read to
// its end.
type arrivingBody struct {
	io.ReadCloser
	x *exchange
}

func (b *arrivingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.x.arrive()
	}
	return n, err
}

// accountRefusal logs and counts a request the chain never saw: the method
// is the request's, and the metrics' label its procedure when it names one
// the server serves.
func (d *Door) accountRefusal(ctx context.Context, method, path string, x *exchange, httpCode int, took time.Duration) {
	label := "/unknown/unknown"
	if d.known(path) {
		label = path
	}
	st := x.refusal
	if st == nil {
		st = status.New(codeOfHTTP(httpCode), http.StatusText(httpCode))
	}
	d.account(ctx, method+" "+rpcstatus.Clip(path), label, took, st.Err(),
		zap.String("refused_by", "http"), zap.Int("http_status", httpCode))
}

// codeOfHTTP is the code of a request answered with an HTTP status but no
// status of its own (vanguard's plain-text answer to a path, method or
// media type no procedure takes): the inverse of the usual mapping.
func codeOfHTTP(httpCode int) codes.Code {
	switch httpCode {
	case 0, http.StatusOK:
		return codes.OK
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound:
		return codes.NotFound
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return codes.Unimplemented
	case http.StatusConflict:
		return codes.Aborted
	case http.StatusPreconditionFailed:
		return codes.FailedPrecondition
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case 499:
		return codes.Canceled
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusGatewayTimeout, http.StatusRequestTimeout:
		return codes.DeadlineExceeded
	}
	return codes.Unknown
}

// heldCopies is what a call's response costs the door, in copies of it,
// while its client does not read it: vanguard's buffer of the response
// (pooled, grown by doubling to hold it: up to twice its size) and the gRPC
// server's pieces of it. 4 never-reading HTTP/2 connections of 64 REST
// batches each took the process from 46 MiB to 84-98 MiB counted once,
// 66-94 MiB counted twice, 68-81 MiB counted three times, under the 16 MiB
// budget.
const heldCopies = 3

// errCut fails a write to a connection closed for not reading.
var errCut = errors.New("connection closed: its client did not read its responses")

// exchangeWriter sets the request id header, once, as the response header
// is written (the gRPC chain adds the same id to the response of a call
// that succeeds, and an HTTP answer must carry it once), keeps the status,
// and counts each byte written against the connection's unread budget.
type exchangeWriter struct {
	http.ResponseWriter
	id     string
	charge *connlimit.Reservation // nil without a tracked connection
	code   int                    // 0 until the header is written
}

func (w *exchangeWriter) setID() {
	if w.code == 0 {
		w.Header()[http.CanonicalHeaderKey(callinfo.Header)] = []string{w.id}
	}
}

func (w *exchangeWriter) WriteHeader(code int) {
	w.setID()
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *exchangeWriter) Write(p []byte) (int, error) {
	w.setID()
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if w.charge != nil && !w.charge.Write(len(p)) {
		return 0, errCut
	}
	return w.ResponseWriter.Write(p)
}

func (w *exchangeWriter) Flush() {
	w.setID()
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *exchangeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
