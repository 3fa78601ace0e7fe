package httpdoor

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/safethird/safethird/server/codec"
	"github.com/safethird/safethird/server/rpcstatus"
)

// The request body, before vanguard reads it: held to the gRPC port's size
// limit before and after decompression, not read at all for a caller
// without a token, and one message for a procedure that takes one.

// limitBody holds request bodies to the limits' MaxRecvMsgSize, the gRPC
// port's limit, refusing a larger one with RESOURCE_EXHAUSTED before any
// call begins. A unary body (REST, Connect unary) is read whole, up to the
// limit, and decompressed here (Content-Encoding: gzip) through the same
// limit; an enveloped one (gRPC-Web, Connect streaming, gRPC) keeps its
// per-message compression, which vanguard or grpc-go undoes through it.
// A procedure that takes one request gets one: a body of more messages is
// refused. gRPC itself, passed through to the gRPC server, is held to the
// limit by it, message by message, as on the gRPC port.
//
// Before any of that, a request for a procedure that needs a token and
// carries none in force has its body replaced by an empty message: the
// chain refuses it UNAUTHENTICATED, logged and counted, in its protocol,
// and the body is never read, decompressed or decoded.
func (d *Door) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		ct := r.Header.Get("Content-Type")
		enveloped := isEnveloped(ct)
		if needsToken(r.URL.Path) && !d.admits(r.Header.Values("Authorization")) {
			dropBody(r, enveloped, ct)
			next.ServeHTTP(w, r)
			return
		}
		limit := d.limits.MaxRecvMsgSize
		if enveloped {
			// The wire may hold a message of the limit and its prefix.
			limit += envelopePrefix
		}
		if r.ContentLength > int64(limit) && !isGRPC(ct) { // grpc-go holds gRPC to the limit message by message
			d.refuse(w, r, d.tooLarge())
			return
		}
		switch {
		case enveloped && d.singleRequest(r.URL.Path):
			body, ok := d.readBody(w, r, limit)
			if !ok {
				return
			}
			if n, err := countMessages(body, ct); err != nil || n > 1 {
				d.refuse(w, r, &rpcstatus.RequestError{Msg: fmt.Sprintf(
					"invalid request: %s takes one request message; the body holds %s", r.URL.Path, countWords(n, err))})
				return
			}
			setBody(r, body)
		case enveloped && !isGRPC(ct):
			r.Body = http.MaxBytesReader(w, r.Body, int64(limit))
		case !enveloped:
			body, ok := d.readBody(w, r, limit)
			if !ok {
				return
			}
			if body, ok = d.decompress(w, r, body); !ok {
				return
			}
			setBody(r, body)
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads a body of at most limit bytes, refusing a larger one.
func (d *Door) readBody(w http.ResponseWriter, r *http.Request, limit int) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, false // the client went away or sent a broken body: nothing to answer
	}
	if len(body) > limit {
		d.refuse(w, r, d.tooLarge())
		return nil, false
	}
	return body, true
}

// decompress undoes a unary body's Content-Encoding: gzip through the size
// limit, and leaves any other for vanguard to refuse.
func (d *Door) decompress(w http.ResponseWriter, r *http.Request, body []byte) ([]byte, bool) {
	if !strings.EqualFold(r.Header.Get("Content-Encoding"), gzipName) {
		return body, true
	}
	out, err := d.gunzip(body)
	if err != nil {
		d.refuse(w, r, err)
		return nil, false
	}
	r.Header.Del("Content-Encoding")
	return out, true
}

// gunzip decompresses b through the size limit: past it, the error is the
// RESOURCE_EXHAUSTED of a request too large; bytes that are not gzip are
// INVALID_ARGUMENT.
func (d *Door) gunzip(b []byte) ([]byte, error) {
	zr := d.newGzipReader()
	if err := zr.Reset(bytes.NewReader(b)); err != nil {
		return nil, &rpcstatus.RequestError{Msg: "invalid request: the body is not gzip, as its Content-Encoding says"}
	}
	out, err := io.ReadAll(zr)
	var ce *connect.Error
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &ce):
		return nil, d.tooLarge()
	default:
		return nil, &rpcstatus.RequestError{Msg: "invalid request: the body is not gzip, as its Content-Encoding says"}
	}
}

// tooLarge is the error of a request over the size limit.
func (d *Door) tooLarge() error {
	return &rpcstatus.TooLargeError{Limit: d.limits.MaxRecvMsgSize}
}

// setBody makes b the request's body.
func setBody(r *http.Request, b []byte) {
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
}

// dropBody replaces the body of a request that will be refused for its
// token by the empty message of its protocol, unread.
func dropBody(r *http.Request, enveloped bool, ct string) {
	_ = r.Body.Close()
	r.Header.Del("Content-Encoding")
	switch {
	case enveloped:
		setBody(r, make([]byte, envelopePrefix)) // one empty, uncompressed message
	case ct == protoType:
		setBody(r, nil)
	default:
		setBody(r, []byte("{}"))
	}
}

// needsToken reports whether a procedure's path needs a token: all but
// grpc.health.v1, which probes call without one.
func needsToken(path string) bool {
	return !strings.HasPrefix(path, "/grpc.health.v1.Health/")
}

// isGRPC reports whether a content type is gRPC's own (not gRPC-Web's).
func isGRPC(contentType string) bool {
	return strings.HasPrefix(contentType, "application/grpc") && !strings.HasPrefix(contentType, "application/grpc-web")
}

// isEnveloped reports whether a body of the content type is a sequence of
// length-prefixed messages: gRPC, gRPC-Web, Connect streaming.
func isEnveloped(contentType string) bool {
	return strings.HasPrefix(contentType, "application/grpc") || strings.HasPrefix(contentType, "application/connect+")
}

// envelopePrefix is the length of a message's prefix in the enveloped
// protocols: a flag byte and a four-byte length.
const envelopePrefix = 5

// countMessages counts the messages of an enveloped body (base64 for
// gRPC-Web's text form); an error for one that does not parse.
func countMessages(body []byte, contentType string) (int, error) {
	if strings.HasPrefix(contentType, "application/grpc-web-text") {
		decoded, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil {
			return 0, errors.New("not base64")
		}
		body = decoded
	}
	n := 0
	for len(body) > 0 {
		if len(body) < envelopePrefix {
			return n, errHalfMessage
		}
		size := int(binary.BigEndian.Uint32(body[1:envelopePrefix]))
		if len(body)-envelopePrefix < size {
			return n, errHalfMessage
		}
		body = body[envelopePrefix+size:]
		n++
	}
	return n, nil
}

var errHalfMessage = errors.New("a message cut short")

// countWords says what countMessages found.
func countWords(n int, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d", n)
}

// gzipName is the one compression the door takes beside identity.
const gzipName = "gzip"

func newGzipWriter() connect.Compressor { return gzip.NewWriter(io.Discard) }

// boundedGzip is a gzip reader that refuses to give more than limit bytes:
// the decompressed size of a request is held to the same limit as an
// uncompressed one, whoever decompresses it (the door or vanguard).
type boundedGzip struct {
	gzip.Reader
	limit, left int
	tooLarge    *connect.Error
}

// newGzipReader returns a gzip reader bound to the size limit.
func (d *Door) newGzipReader() connect.Decompressor {
	return &boundedGzip{limit: d.limits.MaxRecvMsgSize,
		tooLarge: codec.ConnectError(d.errs.Status(context.Background(), d.tooLarge()))}
}

func (g *boundedGzip) Reset(r io.Reader) error {
	g.left = g.limit
	return g.Reader.Reset(r)
}

func (g *boundedGzip) Read(p []byte) (int, error) {
	if g.left < 0 {
		return 0, g.tooLarge
	}
	if len(p) > g.left+1 {
		p = p[:g.left+1] // one byte past the limit shows it is over
	}
	n, err := g.Reader.Read(p)
	g.left -= n
	if g.left < 0 {
		return 0, g.tooLarge
	}
	return n, err
}
