package access_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/ratelimit"
	"github.com/onetimego/onetime/ratelimit/redislimit"
)

// The limiters of this module satisfy RateLimiter without importing this
// package.
var (
	_ access.RateLimiter = (*ratelimit.Limiter)(nil)
	_ access.RateLimiter = (*redislimit.Limiter)(nil)
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestBasicAuth(t *testing.T) {
	a := access.NewBasicAuth(map[string]string{"alice": "alicetoken", "bob": "bobtoken", "": "x", "empty": ""})
	do := func(headers ...string) (string, error) {
		r := httptest.NewRequest("GET", "/", nil)
		for _, h := range headers {
			r.Header.Add("Authorization", h)
		}
		return a.Authenticate(r)
	}

	customer, err := do()
	require.NoError(t, err, "no credentials: anonymous")
	assert.Empty(t, customer)
	customer, err = do("Basic " + b64("alice:alicetoken"))
	require.NoError(t, err)
	assert.Equal(t, "alice", customer)

	for name, h := range map[string][]string{
		"wrong token":    {"Basic " + b64("alice:bobtoken")},
		"unknown user":   {"Basic " + b64("carol:alicetoken")},
		"empty token":    {"Basic " + b64("alice:")},
		"empty id":       {"Basic " + b64(":x")},
		"empty entry":    {"Basic " + b64("empty:")},
		"no colon":       {"Basic " + b64("alice")},
		"bad base64":     {"Basic !!!"},
		"bearer":         {"Bearer alicetoken"},
		"empty header":   {""},
		"scheme only":    {"Basic"},
		"token and more": {"Basic " + b64("alice:alicetoken") + " x"},
		"two headers":    {"Basic " + b64("alice:alicetoken"), "Basic " + b64("alice:alicetoken")},
	} {
		customer, err := do(h...)
		assert.ErrorIs(t, err, access.ErrUnauthorized, name)
		assert.Empty(t, customer, name)
	}
}

func TestNewBasicAuthCopiesTable(t *testing.T) {
	table := map[string]string{"alice": "alicetoken"}
	a := access.NewBasicAuth(table)
	table["alice"] = "changed"
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth("alice", "alicetoken")
	customer, err := a.Authenticate(r)
	require.NoError(t, err)
	assert.Equal(t, "alice", customer)
}

func TestAuthenticatorFunc(t *testing.T) {
	down := errors.New("directory down")
	var auth access.Authenticator = access.AuthenticatorFunc(func(r *http.Request) (string, error) {
		if r.Header.Get("X-User") == "" {
			return "", down
		}
		return r.Header.Get("X-User"), nil
	})
	r := httptest.NewRequest("GET", "/", nil)
	_, err := auth.Authenticate(r)
	assert.ErrorIs(t, err, down)
	r.Header.Set("X-User", "ada")
	customer, err := auth.Authenticate(r)
	require.NoError(t, err)
	assert.Equal(t, "ada", customer)
}
