package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime/internal/redistest"
)

func TestRedisLimiter(t *testing.T) {
	srv := redistest.Standalone(t)
	client := srv.Client(t)
	prefix := redistest.Prefix(t)
	ctx := context.Background()
	const window = 300 * time.Millisecond
	l, err := NewRedisLimiter(client, 3, window, &RedisLimiterOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	allow := func(c string) bool {
		t.Helper()
		ok, err := l.Allow(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i, want := range []bool{true, true, true, false, false} {
		if got := allow("192.0.2.1"); got != want {
			t.Fatalf("request %d: allowed %v", i, got)
		}
	}
	if !allow("192.0.2.2") {
		t.Fatal("another client limited")
	}
	if ttl := client.PTTL(ctx, prefix+"192.0.2.1").Val(); ttl <= 0 || ttl > window {
		t.Fatalf("window key PTTL %v", ttl)
	}
	// A key left without an expiry gets one.
	client.Set(ctx, prefix+"stuck", 10, 0)
	if allow("stuck") {
		t.Fatal("stuck key allowed")
	}
	if ttl := client.PTTL(ctx, prefix+"stuck").Val(); ttl <= 0 {
		t.Fatalf("stuck key PTTL %v", ttl)
	}
	// A new window starts once the old one expires.
	deadline := time.Now().Add(5 * time.Second)
	for !allow("192.0.2.1") {
		if time.Now().After(deadline) {
			t.Fatal("window never reopened")
		}
		time.Sleep(50 * time.Millisecond)
	}

	if _, err := NewRedisLimiter(nil, 1, time.Second, nil); err == nil {
		t.Fatal("nil client accepted")
	}
	if _, err := NewRedisLimiter(client, 0, time.Second, nil); err == nil {
		t.Fatal("zero limit accepted")
	}
}

// TestRedisLimiterShared runs two handlers, as two app servers would, on
// one Redis: the limit is the clients' across both.
func TestRedisLimiterShared(t *testing.T) {
	srv := redistest.Standalone(t)
	prefix := redistest.Prefix(t)
	var envs []*env
	for i := 0; i < 2; i++ {
		l, err := NewRedisLimiter(srv.Client(t), 3, time.Minute, &RedisLimiterOptions{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, newEnv(t, nil, &Options{RateLimiter: l, IntendedStatus: true}))
	}
	codes := []int{}
	for i := 0; i < 4; i++ {
		codes = append(codes, envs[i%2].post("/api/v1/share", "secret=x").status)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 200 || codes[3] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v", codes)
	}
	envs[0].get("/api/v1/status").ok(t)

	// A Redis that is gone lets requests through (and says so in the log).
	dead := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	dead.Close()
	l, _ := NewRedisLimiter(dead, 1, time.Minute, nil)
	e := newEnv(t, nil, &Options{RateLimiter: l})
	e.share("secret=x")
	e.share("secret=y")
}
