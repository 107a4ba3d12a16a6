package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
)

// ErrUnauthorized is what an [Authenticator] returns for credentials that
// do not verify. The handler answers it with the v1 error "Not authorized";
// any other error from an Authenticator is answered as unexpected.
var ErrUnauthorized = errors.New("httpapi: not authorized")

// An Authenticator tells who is calling. It returns the customer id of a
// caller whose credentials verify, "" and a nil error for an anonymous
// caller (one that presents no credentials), and [ErrUnauthorized] for
// credentials that do not verify. It never falls back to anonymous for bad
// credentials. The customer id is stored as the owner of what the caller
// creates.
type Authenticator interface {
	Authenticate(r *http.Request) (customer string, err error)
}

// AuthenticatorFunc adapts a function to [Authenticator].
type AuthenticatorFunc func(r *http.Request) (string, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (string, error) { return f(r) }

// BasicAuth authenticates HTTP Basic "custid:apitoken" against a static
// table. A request without an Authorization header is anonymous; a header
// of another scheme, a malformed one, an unknown customer or a wrong token
// is [ErrUnauthorized]. Tokens are compared in constant time through their
// SHA-256 digests, and an unknown customer is compared against a dummy
// digest, so that the time taken tells nothing about which customers exist
// or how much of a token was right.
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
