package server

import "google.golang.org/grpc"

// SetBeforeHandler installs h innermost in the unary chain, just before
// the handler, so tests can make a handler panic or block.
func SetBeforeHandler(cfg *Config, h grpc.UnaryServerInterceptor) {
	cfg.beforeHandler = h
}

// ChainNames names the links of the interceptor chain s was built with,
// outermost first.
func ChainNames(s *Server) []string {
	var names []string
	for _, l := range s.chain() {
		names = append(names, l.name)
	}
	return names
}
