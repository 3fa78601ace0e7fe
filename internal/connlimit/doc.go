// Package connlimit bounds what clients can make a server hold at the
// connection level, for every door that accepts them: how many connections
// are served at once, and how many bytes of responses may wait in the
// server for clients that do not read them. It wraps a net.Listener and its
// connections, and knows nothing of gRPC or HTTP beyond the byte counts a
// door hands it; it must never decide what a call may do.
package connlimit
