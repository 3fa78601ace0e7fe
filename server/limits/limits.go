// Package limits is the one place where the bounds the server puts on its
// clients are set, for both doors: message and header sizes, streams per
// connection, flow-control windows, handshake, idle and call timeouts, and
// the connection cap and unread-response budget (internal/connlimit). The
// gRPC door and the HTTP door each read them from a Limits value; neither
// holds a bound of its own. It must not enforce anything itself.
package limits

import (
	"time"

	"github.com/safethird/safethird/internal/connlimit"
)

// Defaults of the bounds that no flag sets.
const (
	// MaxRecvMsgSize is the largest request accepted; a batch of 100 full
	// requests fits well within it. grpc-go answers a larger one with
	// RESOURCE_EXHAUSTED before any handler runs; the HTTP door, with 413.
	MaxRecvMsgSize = 256 << 10
	// maxConcurrentStreams caps the calls in flight on one connection.
	maxConcurrentStreams = 64
	// maxHeaderListSize caps request metadata; tokens and ids are small.
	maxHeaderListSize = 64 << 10
	// handshakeTimeout bounds the TLS and HTTP/2 handshake of a new
	// connection, and the request headers on the HTTP door.
	handshakeTimeout = 5 * time.Second
	// idleTimeout closes a connection with no call for this long.
	idleTimeout = 5 * time.Minute
	// Flow-control windows the server grants. Set, they turn off grpc-go's
	// window growth (BDP estimation, up to 16 MiB a connection), which
	// would let a client make the server buffer that much of requests it
	// has not yet read: requests are at most 256 KiB, and a window of
	// 64 KiB a stream and 1 MiB a connection keeps a fast link busy.
	streamWindow = 64 << 10
	connWindow   = 1 << 20
)

// Limits are the bounds of one server, for both doors.
type Limits struct {
	// MaxRecvMsgSize is the largest request message (after any
	// decompression) accepted.
	MaxRecvMsgSize int
	// MaxConcurrentStreams caps the calls in flight on one HTTP/2
	// connection.
	MaxConcurrentStreams uint32
	// MaxHeaderListSize caps a request's headers.
	MaxHeaderListSize uint32
	// HandshakeTimeout bounds a new connection's TLS and HTTP/2 handshake
	// and, on the HTTP door, the request headers.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection with no call for this long.
	IdleTimeout time.Duration
	// MaxCallDuration caps every call's deadline.
	MaxCallDuration time.Duration
	// StreamWindow and ConnWindow are the HTTP/2 flow-control windows the
	// server grants, a stream's and a connection's.
	StreamWindow, ConnWindow int32
	// Conns are the connection cap and the unread-response budget.
	Conns connlimit.Limits
}

// New returns the default limits with the call cap and connection cap
// given.
func New(maxCallDuration time.Duration, maxConnections int) Limits {
	return Limits{
		MaxRecvMsgSize:       MaxRecvMsgSize,
		MaxConcurrentStreams: maxConcurrentStreams,
		MaxHeaderListSize:    maxHeaderListSize,
		HandshakeTimeout:     handshakeTimeout,
		IdleTimeout:          idleTimeout,
		MaxCallDuration:      maxCallDuration,
		StreamWindow:         streamWindow,
		ConnWindow:           connWindow,
		Conns: connlimit.Limits{
			MaxConnections: maxConnections,
			UnreadBudget:   connlimit.DefaultUnreadBudget,
			StallTimeout:   connlimit.DefaultStallTimeout,
		},
	}
}
