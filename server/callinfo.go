package server

import (
	"context"
	"slices"
	"strings"
)

// callInfo is the per-call record that the interceptors and the handler
// share: the request id, set first, and the dataset revisions the handler
// served, read by the accounting link when the call ends. A handler
// runs on the goroutine of its interceptors, so it needs no lock.
type callInfo struct {
	// method is the full method name, from the stats handler.
	method    string
	requestID string
	revisions []string
	// chained is set when the call reaches the interceptor chain, whose
	// accounting link then accounts for it.
	chained bool
}

type callInfoKey struct{}

func withCallInfo(ctx context.Context, ci *callInfo) context.Context {
	return context.WithValue(ctx, callInfoKey{}, ci)
}

func callInfoFrom(ctx context.Context) *callInfo {
	ci, _ := ctx.Value(callInfoKey{}).(*callInfo)
	return ci
}

// requestIDFrom returns the call's request id, or "" outside a call.
func requestIDFrom(ctx context.Context) string {
	if ci := callInfoFrom(ctx); ci != nil {
		return ci.requestID
	}
	return ""
}

// recordRevision notes that the call served the dataset revision.
func recordRevision(ctx context.Context, revision string) {
	ci := callInfoFrom(ctx)
	if ci == nil || slices.Contains(ci.revisions, revision) {
		return
	}
	ci.revisions = append(ci.revisions, revision)
}

// revisionsServed lists the revisions the call served, comma-separated:
// more than one only for a batch whose items pin different revisions.
func (ci *callInfo) revisionsServed() string {
	return strings.Join(ci.revisions, ",")
}
