package middleware

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"sync/atomic"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/auth"
	"google.golang.org/grpc/metadata"

	"github.com/safethird/safethird/server/rpcstatus"
)

// Tokens are the bearer tokens in force; a reload swaps them at once for
// every call that starts after it.
type Tokens struct {
	current atomic.Pointer[authenticator]
}

// NewTokens returns tokens in force; none means auth is off.
func NewTokens(tokens []string) *Tokens {
	t := &Tokens{}
	t.Set(tokens)
	return t
}

// Set puts tokens in force in place of the last ones: a token left out
// stops working.
func (t *Tokens) Set(tokens []string) {
	t.current.Store(newAuthenticator(tokens))
}

// On reports whether calls need a token.
func (t *Tokens) On() bool { return t.current.Load() != nil }

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
func (c *Chain) authenticate(ctx context.Context) (context.Context, error) {
	if err := c.cfg.Tokens.current.Load().check(ctx); err != nil {
		return nil, c.cfg.Errors.Err(ctx, err)
	}
	return ctx, nil
}

// check returns nil when the call may proceed, else ErrNoToken or ErrBadToken.
func (a *authenticator) check(ctx context.Context) error {
	if a == nil {
		return nil
	}
	if len(metadata.ValueFromIncomingContext(ctx, "authorization")) > 1 {
		return rpcstatus.ErrBadToken
	}
	token, err := auth.AuthFromMD(ctx, "bearer")
	token = strings.TrimSpace(token)
	if err != nil || token == "" {
		return rpcstatus.ErrNoToken
	}
	got := sha256.Sum256([]byte(token))
	// Compare against every token, without stopping at a match.
	match := 0
	for _, want := range a.hashes {
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	if match != 1 {
		return rpcstatus.ErrBadToken
	}
	return nil
}
