package server

import "google.golang.org/grpc"

// SetBeforeHandler installs h innermost in the unary chain, just before
// the handler, so tests can make a handler panic or block.
func SetBeforeHandler(cfg *Config, h grpc.UnaryServerInterceptor) {
	cfg.beforeHandler = h
}
