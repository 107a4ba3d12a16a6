package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/access"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func allow(t *testing.T, l *Limiter, c string) bool {
	t.Helper()
	ok, err := l.Allow(context.Background(), c)
	require.NoError(t, err)
	return ok
}

// allowed counts the requests of client c that pass out of n made at
// once.
func allowed(t *testing.T, l *Limiter, c string, n int) int {
	t.Helper()
	k := 0
	for range n {
		if allow(t, l, c) {
			k++
		}
	}
	return k
}

func TestBurstThenRate(t *testing.T) {
	clock := newClock()
	l := New(Options{PerSecond: 5, Burst: 10})
	l.now = clock.now

	assert.Equal(t, 10, allowed(t, l, "a", 11), "a full bucket holds the burst, no more")
	clock.add(200 * time.Millisecond)
	assert.Equal(t, 1, allowed(t, l, "a", 3), "one token refills every 1/5 s")
	clock.add(time.Second)
	assert.Equal(t, 5, allowed(t, l, "a", 10), "five tokens refill in a second")
	clock.add(time.Hour)
	assert.Equal(t, 10, allowed(t, l, "a", 11), "a bucket holds no more than the burst")
	assert.Equal(t, 10, allowed(t, l, "b", 11), "every client has its own bucket")
}

func TestBounded(t *testing.T) {
	clock := newClock()
	l := New(Options{PerSecond: 1, Burst: 2, MaxClients: 3}) // full again after 2 s idle
	l.now = clock.now

	assert.Equal(t, 2, allowed(t, l, "a", 3))
	for _, c := range []string{"b", "c", "d"} {
		allow(t, l, c)
	}
	assert.Equal(t, 3, l.Len(), "at most maxClients remembered")
	assert.Nil(t, l.clients.peek("a"), "the least recently seen client is pushed out")
	assert.Equal(t, 2, allowed(t, l, "a", 3), "a client pushed out starts over with a full bucket")

	// Clients idle long enough for their buckets to refill are forgotten.
	clock.add(2 * time.Second)
	allow(t, l, "e")
	assert.Equal(t, 1, l.Len())

	for i := range 10000 {
		allow(t, l, fmt.Sprint(i))
	}
	assert.Equal(t, 3, l.Len())
}

func TestNewDefaults(t *testing.T) {
	l := New(Options{PerSecond: 1})
	assert.Equal(t, DefaultMaxClients, l.clients.max)
	assert.Equal(t, 1, l.clients.burst, "burst is at least 1")
	assert.Equal(t, time.Second, l.idle)

	// A bucket that never refills is remembered for an hour at most.
	clock := newClock()
	l = New(Options{Burst: 2})
	l.now = clock.now
	assert.Equal(t, maxIdle, l.idle)
	assert.Equal(t, 2, allowed(t, l, "a", 3))
	clock.add(maxIdle - time.Second)
	assert.False(t, allow(t, l, "a"), "a rate of 0 never refills")
	clock.add(maxIdle)
	assert.True(t, allow(t, l, "a"), "forgotten after an hour idle")
}

// TestConcurrent lets many goroutines draw from one bucket at one instant:
// exactly the burst passes, whatever the interleaving.
func TestConcurrent(t *testing.T) {
	clock := newClock()
	l := New(Options{PerSecond: 1, Burst: 50})
	l.now = clock.now
	var passed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 20 {
				if ok, _ := l.Allow(context.Background(), "shared"); ok {
					passed.Add(1)
				}
				_, _ = l.Allow(context.Background(), fmt.Sprint("own", g))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(50), passed.Load())
	assert.Equal(t, 9, l.Len())
}

// A Limiter is what the handlers of httpapi and webui take.
var _ access.RateLimiter = (*Limiter)(nil)
