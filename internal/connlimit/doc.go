// Package connlimit bounds what clients can make a server hold at the
// connection level, for every door that accepts them, through one Limiter
// that both doors' listeners share: how many connections are served at
// once, how many of them one source address may hold, and how many bytes of
// responses may wait in the server for clients that do not read them.
//
// A connection counts against the cap only once it has spoken its
// protocol's preface (the door says so: Conn.Established); until then it
// holds one of as many handshake places, the oldest of which is closed to
// make room for a new one. At the cap, the connection idle longest (no call
// running, no request arriving) is closed to make room for a new one, so no
// number of silent or idle sockets can lock a new client out; only when
// every connection is busy is a new one refused.
//
// A connection the server closes is closed lingering: its write side first,
// then its socket once its client has read to the end (linger.go), so a
// client still reading is not sent a reset that would throw away the end of
// its responses; the server waits for those closes before it exits
// (Limiter.WaitClosed).
//
// It wraps a net.Listener and its connections and knows nothing of gRPC or
// HTTP beyond what the doors tell it: a connection identified by the
// connection itself (its RemoteAddr is an Addr that leads back to it),
// never by its address. It must never decide what a call may do.
package connlimit
