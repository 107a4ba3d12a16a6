// Package access holds what a program provides to the handlers of packages
// httpapi and webui to decide who may call: an [Authenticator] that tells
// who is calling, a [RateLimiter] that decides whether a client may make
// one more request, and a [GuessLimiter] that holds back a client that
// fails too often, as one that guesses keys, passphrases or tokens does.
// Both handlers take the same ones, so that a program configures each
// once and hands it to both: a client limited on the API is limited on
// the pages too, and a customer signed in on one is the same customer on
// the other.
//
// [BasicAuth] is an Authenticator for HTTP Basic credentials from a static
// table. Package github.com/onetimego/onetime/ratelimit has a RateLimiter
// and a GuessLimiter for a service that runs as one process, and its
// redislimit subpackage ones shared by every app server on a Redis. This
// package imports neither, so that a program that does not use Redis does
// not link go-redis.
package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"time"
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
// The handlers call it after the [RateLimiter] and the [GuessLimiter], so
// that guessing credentials counts against the guesser's limits, and count
// every ErrUnauthorized as a failed guess.
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
// ClientIPHeader and TrustedProxies options), IPv6 addresses grouped by
// /64. A limited client
// is refused (intended status 429). An error is logged and the request let
// through: a limiter that is down does not take the service down with it.
type RateLimiter interface {
	Allow(ctx context.Context, client string) (bool, error)
}

// A GuessLimiter holds back a client that fails too often. Keys, API
// tokens and passphrases are too long to guess, but only as long as
// guessing is slow: without a limit, one address could try some two
// million keys or tokens a minute. Honest clients rarely fail, so the
// limit counts only failures, and a client that succeeds costs nothing
// however busy it is.
//
// The handlers of httpapi and webui ask RetryAfter before any work, and
// refuse a client that must wait (intended status 429, with a Retry-After
// header). They call Failed for every request answered with what only a
// wrong guess produces: credentials that do not verify (the API's and the
// pages' sign-in), a reveal answered "Unknown secret" (an unknown key,
// or a wrong passphrase, which the API reports alike), a receipt or burn
// of an unknown metadata key, and the pages' confirmation page of an
// unknown key.
//
// client is as for [RateLimiter]. The implementations of package
// github.com/onetimego/onetime/ratelimit (in process) and its redislimit
// subpackage (shared on a Redis) give each client a budget of failures
// that refills at a steady rate, by default [DefaultGuessBurst] refilling
// at [DefaultGuessPerSecond]: after a burst, about one guess a second.
//
// Implementations must be safe for concurrent use and keep these
// contracts:
//   - RetryAfter only looks: it takes nothing from the budget, so that
//     successes cost nothing, and for a client never seen it allocates
//     nothing that outlives the call.
//   - Failed counts every failure, atomically, even one that takes the
//     budget below empty (a debt to wait out): requests that passed
//     RetryAfter at once and all failed are all counted, so that many
//     connections guessing in parallel gain nothing over one.
//
// An error from either is logged by the handlers and the request goes on
// as if there were no limit: a limiter that is down does not take the
// service down with it.
type GuessLimiter interface {
	// RetryAfter reports how long client must wait before it may try
	// again: 0 when it may go on now.
	RetryAfter(ctx context.Context, client string) (time.Duration, error)

	// Failed counts one failure of client against its budget.
	Failed(ctx context.Context, client string) error
}

// The default budget of the GuessLimiters of package ratelimit and its
// redislimit subpackage: 20 failures at once, then one a second. A 20,000
// pair load run of shares and reveals from one address never meets it,
// since successes cost nothing; a guesser is held to about 3,600 guesses
// an hour, where without it one address made some two million a minute.
const (
	DefaultGuessBurst     = 20
	DefaultGuessPerSecond = 1.0
)

// NoGuessLimit is a GuessLimiter that never holds a client back and counts
// nothing. The handlers of httpapi and webui take a nil GuessLimiter to
// mean a default one, so that guessing is limited unless a program says
// otherwise: set their GuessLimiter to NoGuessLimit to turn the limit off
// (for a load test that reveals what is gone on purpose, or behind a
// proxy that limits guessing itself).
var NoGuessLimit GuessLimiter = noGuessLimit{}

type noGuessLimit struct{}

func (noGuessLimit) RetryAfter(context.Context, string) (time.Duration, error) { return 0, nil }
func (noGuessLimit) Failed(context.Context, string) error                      { return nil }

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
