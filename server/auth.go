package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"go.uber.org/zap"
	"google.golang.org/grpc/metadata"

	"github.com/safethird/safethird/internal/tokenfile"
)

// authenticator checks bearer tokens. It keeps only their SHA-256 hashes:
// comparing hashes makes every comparison the same length, so its time
// reveals neither a token's length nor its content.
type authenticator struct {
	hashes [][sha256.Size]byte
}

// newAuthenticator returns nil, meaning auth is off, when there are no tokens.
func newAuthenticator(tokens []string) *authenticator {
	if len(tokens) == 0 {
		return nil
	}
	a := &authenticator{}
	for _, t := range tokens {
		a.hashes = append(a.hashes, sha256.Sum256([]byte(t)))
	}
	return a
}

// authenticate is auth's AuthFunc (go-grpc-middleware), run for every
// call but grpc.health.v1: it lets the call proceed when auth is off or
// the call carries exactly one bearer token in force, and refuses it
// UNAUTHENTICATED otherwise. Two authorization values are refused even
// when one holds a good token: which one a proxy acts on is not defined.
func (s *Server) authenticate(ctx context.Context) (context.Context, error) {
	if err := s.auth.Load().check(ctx); err != nil {
		return nil, s.errs.toStatus(ctx, err)
	}
	return ctx, nil
}

// check returns nil when the call may proceed, else errNoToken or errBadToken.
func (a *authenticator) check(ctx context.Context) error {
	if a == nil {
		return nil
	}
	if len(metadata.ValueFromIncomingContext(ctx, "authorization")) > 1 {
		return errBadToken
	}
	token, err := auth.AuthFromMD(ctx, "bearer")
	token = strings.TrimSpace(token)
	if err != nil || token == "" {
		return errNoToken
	}
	got := sha256.Sum256([]byte(token))
	// Compare against every token, without stopping at a match.
	match := 0
	for _, want := range a.hashes {
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	if match != 1 {
		return errBadToken
	}
	return nil
}

// reloadTokens reads the tokens file again, when there is one, and puts its
// tokens in force: a token removed from the file stops working. A file that
// breaks a rule is refused, logged with its line and the rule (never a
// token), and the tokens in force stay.
func (s *Server) reloadTokens() {
	if s.cfg.AuthTokensFile == "" {
		return
	}
	tokens, err := tokenfile.Read(s.cfg.AuthTokensFile)
	if err != nil {
		s.logger.Error("tokens file refused; the tokens in force stay", zap.Error(err))
		return
	}
	s.auth.Store(newAuthenticator(tokens))
	s.logger.Info("tokens reloaded", zap.Int("tokens", len(tokens)))
}
