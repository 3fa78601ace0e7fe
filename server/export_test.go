package server

import (
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/safethird/safethird/assessment"
)

// SetBeforeHandler installs h innermost in the unary chain, just before
// the handler, so tests can make a handler panic or block.
func SetBeforeHandler(cfg *Config, h grpc.UnaryServerInterceptor) {
	cfg.beforeHandler = h
}

// ChainNames names the links of the interceptor chain s was built with,
// outermost first.
func ChainNames(s *Server) []string { return s.chain.Names() }

// ResponseSize is the size the responses link counts for a response m.
func ResponseSize(s *Server, m proto.Message) int { return s.codec.Size(m) }

// CurrentEngine is the Engine s answers from.
func CurrentEngine(s *Server) (*assessment.Engine, error) { return s.store.Current() }
