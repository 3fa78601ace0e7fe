// Package callinfo is the record of one call that the links of the
// interceptor chain, the handlers and the error mapper share (its request
// id, the dataset revisions it served), and the rule for picking a request
// id, which both doors apply. It holds no behaviour of its own: it must not
// log, count or decide anything.
package callinfo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
)

// Info is the per-call record: the request id, set first, and the dataset
// revisions the handler served, read by the accounting link when the call
// ends. A handler runs on the goroutine of its interceptors, so it needs
// no lock.
type Info struct {
	// Method is the full method name, from the stats handler.
	Method string
	// Door is "http" for a call through the HTTP door, which accounts
	// for the call itself when the chain does not (a request it or
	// vanguard refused); "" on the gRPC port.
	Door      string
	RequestID string
	revisions []string
	// Chained is set when the call reaches the interceptor chain, whose
	// accounting link then accounts for it.
	Chained bool
}

type infoKey struct{}

// With returns ctx carrying ci.
func With(ctx context.Context, ci *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, ci)
}

// From returns the call's record, or nil outside a call.
func From(ctx context.Context) *Info {
	ci, _ := ctx.Value(infoKey{}).(*Info)
	return ci
}

// RequestID returns the call's request id, or "" outside a call.
func RequestID(ctx context.Context) string {
	if ci := From(ctx); ci != nil {
		return ci.RequestID
	}
	return ""
}

// RecordRevision notes that the call served the dataset revision.
func RecordRevision(ctx context.Context, revision string) {
	ci := From(ctx)
	if ci == nil || slices.Contains(ci.revisions, revision) {
		return
	}
	ci.revisions = append(ci.revisions, revision)
}

// RevisionsServed lists the revisions the call served, comma-separated:
// more than one only for a batch whose items pin different revisions.
func (ci *Info) RevisionsServed() string {
	return strings.Join(ci.revisions, ",")
}

// Header carries the request id in and out, on both doors.
const Header = "x-request-id"

// maxRequestIDLen bounds a caller's request id; a longer one is replaced.
const maxRequestIDLen = 128

// PickRequestID returns the one value given when it is a valid id (1 to
// 128 printable ASCII characters), else a new random one. The HTTP door
// picks the id with it before transcoding, so the gRPC chain behind it
// keeps the same one.
func PickRequestID(values []string) string {
	if len(values) == 1 && validRequestID(values[0]) {
		return values[0]
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}
