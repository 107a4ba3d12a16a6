package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/ratelimit"
	"github.com/onetimego/onetime/ratelimit/redislimit"
)

// loopbackProxy trusts the test server's client, 127.0.0.1, as a proxy:
// X-Forwarded-For then tells the client's address, so that one test
// plays several clients.
var loopbackProxy = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

const rateLimited = `{"message":"Cripes! You have been rate limited."}`

// from returns r sent on behalf of the client ip (through the trusted
// proxy 127.0.0.1).
func from(ip string, r req) req {
	h := map[string]string{"X-Forwarded-For": ip}
	for k, v := range r.header {
		h[k] = v
	}
	r.header = h
	return r
}

// intended returns the intended status of an answer.
func (r resp) intended(t *testing.T) int {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("X-OTS-Intended-Status"))
	require.NoError(t, err, "X-OTS-Intended-Status of %s", r.body)
	return n
}

// heldBack checks that of the answers to n guesses made after a client
// spent its budget, all were refused with Retry-After, but for those the
// budget regained (one a second) since start: a slow machine may take
// longer than a second.
func heldBack(t *testing.T, start time.Time, n int, guess func() resp) {
	t.Helper()
	refused := 0
	for range n {
		r := guess()
		if r.intended(t) != http.StatusTooManyRequests {
			continue
		}
		refused++
		assert.Contains(t, []int{http.StatusNotFound, http.StatusTooManyRequests}, r.status,
			"404 as v1 answers every error, or the intended status")
		assert.Contains(t, string(r.body), "Cripes! You have been rate limited.")
		after, err := strconv.Atoi(r.header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After in seconds")
		assert.GreaterOrEqual(t, after, 1)
		assert.LessOrEqual(t, after, 1, "one failure's wait at one a second")
	}
	regained := int(time.Since(start) / time.Second)
	assert.GreaterOrEqual(t, refused, n-regained, "guesses past the budget are refused")
}

// TestGuessTokens: by default, guessing API tokens from one address is
// held to the budget (20 failures, then one a second), while other
// addresses are not affected; the held-back address is refused before any
// work, good credentials too, but for the status check.
func TestGuessTokens(t *testing.T) {
	e := newEnv(t, nil, &Options{Auth: access.NewBasicAuth(testUsers), ClientIPHeader: "X-Forwarded-For", TrustedProxies: loopbackProxy})
	guess := func(ip string, i int) resp {
		return e.do(from(ip, req{method: "GET", path: "/api/v1/authcheck", user: "alice", pass: "guess" + strconv.Itoa(i)}))
	}
	start := time.Now()
	for i := range access.DefaultGuessBurst {
		guess("192.0.2.1", i).fails(t, 401, `{"message":"Not authorized"}`)
	}
	heldBack(t, start, 5, func() resp { return guess("192.0.2.1", 99) })
	good := req{method: "GET", path: "/api/v1/authcheck", user: "alice", pass: "alicetoken"}
	if time.Since(start) < time.Second {
		e.do(from("192.0.2.1", good)).fails(t, 429, rateLimited)
		// The status check authenticates what it is sent: no way around.
		e.do(from("192.0.2.1", req{method: "GET", path: "/api/v1/status", user: "alice", pass: "guess"})).fails(t, 429, rateLimited)
	}
	e.do(from("192.0.2.1", req{method: "GET", path: "/api/v1/status"})).ok(t) // health checks send none

	e.do(from("192.0.2.2", good)).ok(t)
	guess("192.0.2.2", 0).fails(t, 401, `{"message":"Not authorized"}`)
	e.do(req{method: "GET", path: "/api/v1/authcheck", user: "bob", pass: "bobtoken"}).ok(t) // the proxy itself
}

// TestGuessSecretKeys: unknown keys on reveal, receipt and burn, and wrong
// passphrases, count alike; a client that succeeds is never held back.
func TestGuessSecretKeys(t *testing.T) {
	e := newEnv(t, nil, &Options{IntendedStatus: true, ClientIPHeader: "X-Forwarded-For", TrustedProxies: loopbackProxy})
	sk := e.share("secret=guard&passphrase=the+right+one").str(t, "secret_key")
	guesses := []req{
		{method: "POST", path: "/api/v1/secret/" + strings.Repeat("a", 56)},
		{method: "GET", path: "/api/v1/private/" + strings.Repeat("b", 56)},
		{method: "POST", path: "/api/v1/private/" + strings.Repeat("c", 56) + "/burn"},
		{method: "POST", path: "/api/v1/secret/" + sk, ctype: "application/x-www-form-urlencoded", body: "passphrase=wrong"},
	}
	start := time.Now()
	for i := range access.DefaultGuessBurst {
		r := e.do(from("192.0.2.1", guesses[i%len(guesses)]))
		require.Equal(t, http.StatusNotFound, r.status, "%s", r.body)
		assert.Contains(t, string(r.body), `"message":"Unknown secret"`)
	}
	heldBack(t, start, 5, func() resp { return e.do(from("192.0.2.1", guesses[0])) })

	// Another address shares and reveals as ever, the guarded secret
	// included: five wrong passphrases did not burn it.
	for i := range 50 {
		share := e.do(from("192.0.2.2", req{method: "POST", path: "/api/v1/share", ctype: "application/x-www-form-urlencoded", body: "secret=v" + strconv.Itoa(i)})).ok(t)
		e.do(from("192.0.2.2", req{method: "POST", path: "/api/v1/secret/" + share.str(t, "secret_key")})).ok(t)
	}
	v := e.do(from("192.0.2.2", req{method: "POST", path: "/api/v1/secret/" + sk, ctype: "application/x-www-form-urlencoded", body: "passphrase=the+right+one"})).ok(t)
	assert.Equal(t, "guard", v.str(t, "value"))
}

// TestGuessSuccessesFree: with a budget of one failure, a client shares,
// reveals, reads receipts and authenticates as much as it likes; its one
// failure then holds it back.
func TestGuessSuccessesFree(t *testing.T) {
	e := newEnv(t, nil, &Options{
		Auth:         access.NewBasicAuth(testUsers),
		GuessLimiter: ratelimit.NewGuessLimiter(&ratelimit.GuessOptions{Burst: 1, PerSecond: 0.001}),
	})
	for i := range 200 {
		share := e.do(req{method: "POST", path: "/api/v1/share", ctype: "application/x-www-form-urlencoded",
			body: "secret=v" + strconv.Itoa(i), user: "alice", pass: "alicetoken"}).ok(t)
		e.get("/api/v1/private/" + share.str(t, "metadata_key")).ok(t)
		e.post("/api/v1/secret/"+share.str(t, "secret_key"), "").ok(t)
	}
	e.post("/api/v1/secret/"+strings.Repeat("a", 56), "").fails(t, 404, unknown(strings.Repeat("a", 56)))
	r := e.post("/api/v1/share", "secret=x")
	r.fails(t, 429, rateLimited)
	assert.Equal(t, "1000", r.header.Get("Retry-After"))
}

// TestGuessForgedHeader: X-Forwarded-For from a peer that is not a
// trusted proxy does not change the client's address, so a guesser
// cannot dodge the limit by making one up for each guess; from a trusted
// proxy it does.
func TestGuessForgedHeader(t *testing.T) {
	untrusted := newEnv(t, nil, &Options{ClientIPHeader: "X-Forwarded-For",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	trusted := newEnv(t, nil, &Options{ClientIPHeader: "X-Forwarded-For", TrustedProxies: loopbackProxy})
	key := strings.Repeat("a", 56)
	var fromUntrusted, fromTrusted []int
	for i := range access.DefaultGuessBurst + 5 {
		forged := "198.51.100." + strconv.Itoa(i)
		guess := from(forged, req{method: "POST", path: "/api/v1/secret/" + key})
		fromUntrusted = append(fromUntrusted, untrusted.do(guess).intended(t))
		fromTrusted = append(fromTrusted, trusted.do(guess).intended(t))
	}
	assert.Equal(t, http.StatusTooManyRequests, fromUntrusted[len(fromUntrusted)-1],
		"every guess counted against the peer, 127.0.0.1, whatever the header said")
	assert.NotContains(t, fromTrusted, http.StatusTooManyRequests, "from a trusted proxy, each header is another client")

	_, err := New(untrusted.svc, &Options{ClientIPHeader: "X-Forwarded-For"})
	assert.ErrorContains(t, err, "TrustedProxies", "a header believed from anyone is refused")
}

// TestNoGuessLimit: access.NoGuessLimit turns the limit off.
func TestNoGuessLimit(t *testing.T) {
	e := newEnv(t, nil, &Options{GuessLimiter: access.NoGuessLimit})
	key := strings.Repeat("a", 56)
	for range 3 * access.DefaultGuessBurst {
		e.post("/api/v1/secret/"+key, "").fails(t, 404, unknown(key))
	}
}

type failingGuessLimiter struct{}

func (failingGuessLimiter) RetryAfter(context.Context, string) (time.Duration, error) {
	return 0, errors.New("guess store down")
}
func (failingGuessLimiter) Failed(context.Context, string) error {
	return errors.New("guess store down")
}

// TestGuessLimiterDown: a guess limiter that fails lets requests through,
// and is logged.
func TestGuessLimiterDown(t *testing.T) {
	var logs bytes.Buffer
	e := newEnv(t, nil, &Options{GuessLimiter: failingGuessLimiter{}, Logger: jsonLogger(&logs)})
	e.share("secret=x")
	key := strings.Repeat("a", 56)
	e.post("/api/v1/secret/"+key, "").fails(t, 404, unknown(key))
	assert.Contains(t, logs.String(), "httpapi: guess limiter failed; request let through")
	assert.Contains(t, logs.String(), "httpapi: guess limiter failed; failure not counted")
	assert.NotContains(t, logs.String(), key)
}

// TestRedisGuessLimiterShared runs two handlers, as two app servers would,
// each with its own redislimit.GuessLimiter on one Redis: a guesser's
// budget is shared between them.
func TestRedisGuessLimiterShared(t *testing.T) {
	srv := redistest.Standalone(t)
	prefix := redistest.Prefix(t)
	var envs []*env
	for range 2 {
		l, err := redislimit.NewGuessLimiter(srv.Client(t), &redislimit.GuessOptions{Prefix: prefix})
		require.NoError(t, err)
		envs = append(envs, newEnv(t, nil, &Options{GuessLimiter: l, IntendedStatus: true}))
	}
	key := strings.Repeat("a", 56)
	start := time.Now()
	for i := range access.DefaultGuessBurst {
		envs[i%2].post("/api/v1/secret/"+key, "").fails(t, 404, unknown(key))
	}
	heldBack(t, start, 4, func() resp { return envs[1].post("/api/v1/secret/"+key, "") })
	envs[0].get("/api/v1/status").ok(t)

	// A Redis that is gone lets requests through (of a limiter that has
	// learned nothing of the client yet: the others go by what they
	// learned for a second).
	l, err := redislimit.NewGuessLimiter(srv.Client(t), &redislimit.GuessOptions{Prefix: prefix})
	require.NoError(t, err)
	down := newEnv(t, nil, &Options{GuessLimiter: l})
	srv.Stop()
	down.share("secret=y")
}
