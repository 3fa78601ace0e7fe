// Package limits is the one place where the bounds the server puts on its
// clients are set, for both doors: message and header sizes, streams per
// connection, flow-control windows, handshake, idle and call timeouts, and
// the connection cap and unread-response budget (internal/connlimit). The
// gRPC door and the HTTP door each read them from a Limits value; neither
// holds a bound of its own. It must not enforce anything itself.
package limits

import (
	"net/netip"
	"time"

	"github.com/safethird/safethird/internal/connlimit"
	"github.com/safethird/safethird/internal/resetguard"
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
	// DefaultRequestTimeout bounds the time a call's request takes to
	// arrive, from its headers: a 256 KiB request in 10 s is 26 KB/s. A
	// call whose request never arrives would otherwise hold its stream,
	// and its connection, until the connection's maximum age.
	DefaultRequestTimeout = 10 * time.Second
	// maxResets streams reset by a client within resetWindow earn its
	// connection GOAWAY ENHANCE_YOUR_CALM (internal/resetguard): a client
	// that cancels a hundred calls a second for ten seconds is not a
	// client, and each reset costs the server a call's setup.
	maxResets   = 1000
	resetWindow = 10 * time.Second
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
	// RequestTimeout bounds the time a unary call's request takes to
	// arrive, from its headers.
	RequestTimeout time.Duration
	// StreamWindow and ConnWindow are the HTTP/2 flow-control windows the
	// server grants, a stream's and a connection's.
	StreamWindow, ConnWindow int32
	// Conns are the connection cap and the unread-response budget.
	Conns connlimit.Limits
	// Resets bound the streams a client may reset, on the gRPC port.
	Resets resetguard.Limits
}

// Tunable are the bounds an operator sets (serve's flags).
type Tunable struct {
	MaxCallDuration, RequestTimeout time.Duration
	MaxConnections, MaxPerSource    int
	TrustedProxies                  []netip.Prefix
}

// New returns the default limits with the operator's.
func New(t Tunable) Limits {
	return Limits{
		MaxRecvMsgSize:       MaxRecvMsgSize,
		MaxConcurrentStreams: maxConcurrentStreams,
		MaxHeaderListSize:    maxHeaderListSize,
		HandshakeTimeout:     handshakeTimeout,
		IdleTimeout:          idleTimeout,
		MaxCallDuration:      t.MaxCallDuration,
		RequestTimeout:       t.RequestTimeout,
		StreamWindow:         streamWindow,
		ConnWindow:           connWindow,
		Resets:               resetguard.Limits{MaxResets: maxResets, Window: resetWindow},
		Conns: connlimit.Limits{
			MaxConnections: t.MaxConnections,
			MaxPerSource:   t.MaxPerSource,
			Trusted:        t.TrustedProxies,
			UnreadBudget:   connlimit.DefaultUnreadBudget,
			StallTimeout:   connlimit.DefaultStallTimeout,
		},
	}
}
