package httpapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/ratelimit"
	"github.com/onetimego/onetime/ratelimit/redislimit"
)

// TestRateLimitBurst: a ratelimit.Limiter in the handler lets a client's
// burst through, then refuses it, and leaves other clients and the status
// check alone.
func TestRateLimitBurst(t *testing.T) {
	e := newEnv(t, nil, &Options{RateLimiter: ratelimit.New(ratelimit.Options{PerSecond: 0.001, Burst: 3}), ClientIPHeader: "X-Forwarded-For", TrustedProxies: loopbackProxy})
	from := func(ip string) int {
		return e.do(req{method: "POST", path: "/api/v1/share", ctype: "application/x-www-form-urlencoded",
			body: "secret=x", header: map[string]string{"X-Forwarded-For": ip}}).status
	}
	codes := []int{}
	for range 4 {
		codes = append(codes, from("192.0.2.1"))
	}
	assert.Equal(t, []int{200, 200, 200, http.StatusNotFound}, codes, "v1 answers 404 to a limited client")
	assert.Equal(t, 200, from("192.0.2.2"))
	e.get("/api/v1/status").ok(t)
}

// TestRedisLimiterShared runs two handlers, as two app servers would, each
// with its own redislimit.Limiter on one Redis: a client's burst is
// shared between them.
func TestRedisLimiterShared(t *testing.T) {
	srv := redistest.Standalone(t)
	prefix := redistest.Prefix(t)
	var envs []*env
	for range 2 {
		l, err := redislimit.New(srv.Client(t), redislimit.Options{PerSecond: 0.001, Burst: 3, Prefix: prefix})
		require.NoError(t, err)
		envs = append(envs, newEnv(t, nil, &Options{RateLimiter: l, IntendedStatus: true}))
	}
	codes := []int{}
	for i := range 4 {
		codes = append(codes, envs[i%2].post("/api/v1/share", "secret=x").status)
	}
	assert.Equal(t, []int{200, 200, 200, http.StatusTooManyRequests}, codes)
	envs[0].get("/api/v1/status").ok(t)

	// A Redis that is gone lets requests through.
	srv.Stop()
	envs[1].share("secret=y")
}
