package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/access"
)

func retryAfter(t *testing.T, l *GuessLimiter, c string) time.Duration {
	t.Helper()
	d, err := l.RetryAfter(context.Background(), c)
	require.NoError(t, err)
	return d
}

func fail(t *testing.T, l *GuessLimiter, c string, n int) {
	t.Helper()
	for range n {
		require.NoError(t, l.Failed(context.Background(), c))
	}
}

func newGuessLimiter(clock *fakeClock, opts *GuessOptions) *GuessLimiter {
	l := NewGuessLimiter(opts)
	l.now = clock.now
	return l
}

// TestGuessBudget: a client may fail Burst times, then must wait one
// refill a failure; looking takes nothing, and other clients have their
// own budget.
func TestGuessBudget(t *testing.T) {
	clock := newClock()
	l := newGuessLimiter(clock, nil)
	assert.Equal(t, access.DefaultGuessBurst, l.clients.burst)
	assert.InDelta(t, access.DefaultGuessPerSecond, float64(l.clients.limit), 0)

	for range 1000 {
		require.Zero(t, retryAfter(t, l, "a"), "looking takes nothing")
	}
	assert.Zero(t, l.Len(), "a client that has not failed is not remembered")

	fail(t, l, "a", access.DefaultGuessBurst-1)
	assert.Zero(t, retryAfter(t, l, "a"), "one failure left")
	fail(t, l, "a", 1)
	assert.Equal(t, time.Second, retryAfter(t, l, "a"), "the budget spent: one refill to wait")
	clock.add(400 * time.Millisecond)
	assert.Equal(t, 600*time.Millisecond, retryAfter(t, l, "a"))
	clock.add(600 * time.Millisecond)
	assert.Zero(t, retryAfter(t, l, "a"), "a token regained: one more try")
	fail(t, l, "a", 1)
	assert.Equal(t, time.Second, retryAfter(t, l, "a"))

	assert.Zero(t, retryAfter(t, l, "b"), "another client has its own budget")
}

// TestGuessDebt: failures of requests let in at once all count, even past
// the budget, and the client waits each of them out.
func TestGuessDebt(t *testing.T) {
	clock := newClock()
	l := newGuessLimiter(clock, &GuessOptions{Burst: 3, PerSecond: 2})
	fail(t, l, "a", 3+10) // 10 more were in flight when the budget ran out
	assert.Equal(t, 5500*time.Millisecond, retryAfter(t, l, "a"), "11 tokens to regain at 2 a second")
	clock.add(5 * time.Second)
	assert.Equal(t, 500*time.Millisecond, retryAfter(t, l, "a"))
	clock.add(500 * time.Millisecond)
	assert.Zero(t, retryAfter(t, l, "a"))
}

// TestGuessConcurrent: failures counted from many goroutines at once are
// all counted.
func TestGuessConcurrent(t *testing.T) {
	clock := newClock()
	l := newGuessLimiter(clock, &GuessOptions{Burst: 10, PerSecond: 1})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				assert.NoError(t, l.Failed(context.Background(), "a"))
				_, err := l.RetryAfter(context.Background(), "a")
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 791*time.Second, retryAfter(t, l, "a"), "800 failures against a budget of 10")
}

// TestGuessBounded: the clients remembered are bounded, and one whose
// bucket is full again is forgotten.
func TestGuessBounded(t *testing.T) {
	clock := newClock()
	l := newGuessLimiter(clock, &GuessOptions{Burst: 2, PerSecond: 1, MaxClients: 3})
	fail(t, l, "a", 2)
	for _, c := range []string{"b", "c", "d"} {
		fail(t, l, c, 1)
	}
	assert.Equal(t, 3, l.Len(), "at most MaxClients remembered")
	assert.Nil(t, l.clients.peek("a"), "the least recently failed client is pushed out")
	assert.Zero(t, retryAfter(t, l, "a"), "a client pushed out starts over")

	// Full again after 1 s (one token taken of 2): forgotten.
	clock.add(time.Second)
	fail(t, l, "e", 1)
	assert.Equal(t, 1, l.Len())

	for i := range 10000 {
		fail(t, l, fmt.Sprint(i), 1)
	}
	assert.Equal(t, 3, l.Len())
}

func TestGuessOptions(t *testing.T) {
	for _, o := range []*GuessOptions{nil, {}, {Burst: -1, PerSecond: -1}} {
		l := NewGuessLimiter(o)
		assert.Equal(t, access.DefaultGuessBurst, l.clients.burst)
		assert.InDelta(t, access.DefaultGuessPerSecond, float64(l.clients.limit), 0)
		assert.Equal(t, DefaultMaxClients, l.clients.max)
	}
	l := NewGuessLimiter(&GuessOptions{Burst: 5, PerSecond: 0.5, MaxClients: 7})
	assert.Equal(t, 5, l.clients.burst)
	assert.InDelta(t, 0.5, float64(l.clients.limit), 0)
	assert.Equal(t, 7, l.clients.max)
}

// A GuessLimiter is what the handlers of httpapi and webui take.
var _ access.GuessLimiter = (*GuessLimiter)(nil)

// TestGuessForgetsOnLook: RetryAfter forgets the buckets full again, as
// Failed does, so that once every client that failed has waited out its
// debt the limiter remembers no one (and answers without its lock), and a
// client that fails afterwards starts from a full budget.
func TestGuessForgetsOnLook(t *testing.T) {
	clock := newClock()
	l := newGuessLimiter(clock, nil)
	fail(t, l, "b", 1)
	fail(t, l, "a", access.DefaultGuessBurst+2) // the most recent: forgotten last
	require.Equal(t, 2, l.Len())
	assert.Equal(t, 3*time.Second, retryAfter(t, l, "a"))
	assert.Zero(t, retryAfter(t, l, "b"))
	assert.Equal(t, 2, l.Len(), "buckets not yet full are kept")

	clock.add(time.Second) // b's bucket is full again, a's not
	assert.Zero(t, retryAfter(t, l, "c"))
	assert.Equal(t, 1, l.Len(), "b forgotten by a look at another client")
	assert.Equal(t, 2*time.Second, retryAfter(t, l, "a"))

	clock.add(time.Duration(access.DefaultGuessBurst+2) * time.Second)
	assert.Zero(t, retryAfter(t, l, "a"))
	assert.Zero(t, l.Len(), "every bucket full again: no one remembered")
	assert.Zero(t, l.remembered.Load())

	fail(t, l, "a", access.DefaultGuessBurst)
	assert.Equal(t, time.Second, retryAfter(t, l, "a"), "a full budget again after it was forgotten")
}
