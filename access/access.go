// Package access holds what a program provides to the handlers of packages
// httpapi and webui to decide who may call: an [Authenticator] that tells
// who is calling, and a [RateLimiter] that decides whether a client may
// make one more request. Both handlers take the same ones, so that a
// program configures each once and hands it to both: a client limited on
// the API is limited on the pages too, and a customer signed in on one is
// the same customer on the other.
//
// [BasicAuth] is an Authenticator for HTTP Basic credentials from a static
// table. Package github.com/onetimego/onetime/ratelimit has a RateLimiter
// for a service that runs as one process, and its redislimit subpackage one
// shared by every app server on a Redis. This package imports neither, so
// that a program that uses neither does not link them (nor go-redis).
package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
)

// ErrUnauthorized is what an [Authenticator] returns for credentials that
// do not verify. The API answers it with the v1 error "Not authorized", the
// pages with a 401 page; any other error from an Authenticator is answered
// as an unexpected error, and logged.
var ErrUnauthorized = errors.New("access: not authorized")

// An Authenticator tells who is calling. It returns the customer id of a
// caller whose credentials verify, "" and a nil error for an anonymous
// caller (one that presents no credentials), and [ErrUnauthorized] (or an
// error wrapping it) for credentials that do not verify. It never falls
// back to anonymous for bad credentials. The customer id is stored as the
// owner of what the caller creates; avoid "anon", which is how the API
// shows anonymous callers.
//
// The handlers call it after the [RateLimiter], so that guessing
// credentials counts against the guesser's limit.
type Authenticator interface {
	Authenticate(r *http.Request) (customer string, err error)
}

// AuthenticatorFunc adapts a function to [Authenticator].
type AuthenticatorFunc func(r *http.Request) (customer string, err error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (string, error) { return f(r) }

// A RateLimiter decides whether a client may make one more request. client
// is the address the handler attributes the request to (the connection's,
// or that of a header set by a trusted proxy: see the handlers'
// ClientIPHeader option), IPv6 addresses grouped by /64. A limited client
// is refused (intended status 429). An error is logged and the request let
// through: a limiter that is down does not take the service down with it.
type RateLimiter interface {
	Allow(ctx context.Context, client string) (bool, error)
}

// BasicAuth authenticates HTTP Basic "custid:apitoken" against a static
// table. A request without an Authorization header is anonymous; a header
// of another scheme, a malformed one, more than one, an unknown customer
// or a wrong token is [ErrUnauthorized]. Tokens are compared in constant
// time through their SHA-256 digests, and an unknown customer is compared
// against a dummy digest, so that the time taken tells nothing about which
// customers exist or how much of a token was right.
type BasicAuth struct {
	tokens map[string][sha256.Size]byte
	dummy  [sha256.Size]byte
}

// NewBasicAuth returns a BasicAuth for the given table of customer ids to
// API tokens. The table is copied. An entry with an empty id or an empty
// token never verifies.
func NewBasicAuth(tokens map[string]string) *BasicAuth {
	a := &BasicAuth{tokens: make(map[string][sha256.Size]byte, len(tokens))}
	for id, tok := range tokens {
		if id == "" || tok == "" {
			continue
		}
		a.tokens[id] = sha256.Sum256([]byte(tok))
	}
	a.dummy = sha256.Sum256([]byte("onetime: no such customer"))
	return a
}

// Authenticate implements [Authenticator].
func (a *BasicAuth) Authenticate(r *http.Request) (string, error) {
	h := r.Header.Values("Authorization")
	if len(h) == 0 {
		return "", nil
	}
	if len(h) > 1 {
		return "", ErrUnauthorized
	}
	id, tok, ok := r.BasicAuth()
	if !ok || id == "" {
		return "", ErrUnauthorized
	}
	want, known := a.tokens[id]
	if !known {
		want = a.dummy
	}
	got := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !known {
		return "", ErrUnauthorized
	}
	return id, nil
}
