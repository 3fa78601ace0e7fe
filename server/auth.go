package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/grpc/metadata"

	"github.com/safethird/safethird/internal/tokenfile"
)

// healthPrefix is the method prefix of grpc.health.v1, which needs no
// token: probes from Kubernetes or a load balancer carry none.
const healthPrefix = "/grpc.health.v1.Health/"

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

// check returns nil when the call may proceed, else errNoToken or errBadToken.
func (a *authenticator) check(ctx context.Context, fullMethod string) error {
	if a == nil || strings.HasPrefix(fullMethod, healthPrefix) {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get("authorization")
	switch {
	case len(values) == 0:
		return errNoToken
	case len(values) > 1:
		return errBadToken
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errNoToken
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
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
