package middleware

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"sync/atomic"

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

// allows reports whether a call carries a token in force; with auth off,
// no call does.
func (t *Tokens) allows(ctx context.Context) bool {
	a := t.current.Load()
	return a != nil && a.check(authorization(ctx)) == nil
}

// Admits reports whether a request with these Authorization header values
// would pass auth: with auth off, every one does. The HTTP door asks before
// it reads a request's body, so that a caller without a token costs it no
// decompression and no decoding.
func (t *Tokens) Admits(authorization []string) bool {
	return t.current.Load().check(authorization) == nil
}

// authorization returns the call's authorization metadata.
func authorization(ctx context.Context) []string {
	return metadata.ValueFromIncomingContext(ctx, "authorization")
}

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
	if err := c.cfg.Tokens.current.Load().check(authorization(ctx)); err != nil {
		return nil, c.cfg.Errors.Err(ctx, err)
	}
	return ctx, nil
}

// check returns nil when a call with these authorization values may
// proceed, else ErrNoToken or ErrBadToken. It reads the value as
// go-grpc-middleware's auth.AuthFromMD does: "bearer", any case, a space,
// the token.
func (a *authenticator) check(authorization []string) error {
	if a == nil {
		return nil
	}
	if len(authorization) > 1 {
		return rpcstatus.ErrBadToken
	}
	if len(authorization) == 0 {
		return rpcstatus.ErrNoToken
	}
	scheme, token, found := strings.Cut(authorization[0], " ")
	token = strings.TrimSpace(token)
	if !found || !strings.EqualFold(scheme, "bearer") || token == "" {
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
