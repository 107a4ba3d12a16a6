// Package ratelimit limits, per client and in process memory, how often a
// client may make a request ([Limiter], an
// [github.com/onetimego/onetime/access.RateLimiter]) and how often it may
// fail ([GuessLimiter], an
// [github.com/onetimego/onetime/access.GuessLimiter]): each a token bucket
// per client. Packages httpapi and webui both take them: hand one of each
// to both, and a client has one budget for the API and the pages. The
// handlers make a GuessLimiter of their own when given none, so that
// guessing keys, passphrases and tokens is limited by default.
//
// Both count what one process sees. Several app servers behind one load
// balancer each count their own, so a client gets the budget once per
// server; to share one budget across servers, use the Redis limiters of
// package [github.com/onetimego/onetime/ratelimit/redislimit] instead.
package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxClients bounds the clients a [Limiter] remembers unless
// [Options] say otherwise.
const DefaultMaxClients = 10000

// maxIdle bounds how long a client is remembered: a bucket that would take
// longer to refill (or never refills) is forgotten after an hour idle.
const maxIdle = time.Hour

// Options configure a [Limiter]. PerSecond and Burst are the policy and
// have no default; they are named fields so that they cannot be swapped.
type Options struct {
	// PerSecond is how many requests a second each client may make on
	// average: the tokens its bucket gains a second. It should be
	// positive: with 0 a bucket never refills, and a client gets Burst
	// requests until it has been forgotten (an hour idle, or pushed out by
	// others).
	PerSecond float64

	// Burst is how many requests a client may make at once: the tokens a
	// full bucket holds. Less than 1 means 1.
	Burst int

	// MaxClients bounds the clients remembered at once (0 or less means
	// [DefaultMaxClients]), so that a flood of addresses cannot make the
	// Limiter grow without bound.
	MaxClients int
}

// A Limiter is an in-process rate limiter: a token bucket per client
// (golang.org/x/time/rate) that holds at most Burst tokens and gains
// PerSecond tokens a second (see [Options]); each request takes one, and a
// request that finds the bucket empty is refused.
//
// It remembers a bounded number of clients, least recently seen first
// out. A client idle long enough for its bucket to be full again is
// forgotten, which loses nothing; a client pushed out by others while its
// bucket was not full starts over with a full one.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	idle time.Duration
	now  func() time.Time // time.Now; tests replace it

	mu      sync.Mutex
	clients buckets // most recently seen at the front
}

// New returns a Limiter allowing each client opts.PerSecond requests a
// second on average and bursts of opts.Burst requests.
func New(opts Options) *Limiter {
	burst, maxClients := max(opts.Burst, 1), opts.MaxClients
	if maxClients <= 0 {
		maxClients = DefaultMaxClients
	}
	idle := maxIdle
	if opts.PerSecond > 0 {
		idle = time.Duration(math.Min(float64(burst)/opts.PerSecond*float64(time.Second), float64(maxIdle)))
	}
	return &Limiter{
		idle:    idle,
		now:     time.Now,
		clients: newBuckets(rate.Limit(opts.PerSecond), burst, maxClients),
	}
}

// Allow reports whether client may make one more request now, and takes a
// token from its bucket if so. client is any string that identifies the
// client, such as its IP address. Allow never returns an error; the error
// result is there to satisfy access.RateLimiter.
func (l *Limiter) Allow(_ context.Context, client string) (bool, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clients.forget(now)
	c := l.clients.get(client)
	c.until = now.Add(l.idle)
	return c.lim.AllowN(now, 1), nil
}

// Len reports how many clients the Limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clients.len()
}
