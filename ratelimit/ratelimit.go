// Package ratelimit limits how often each client may make a request: a
// token bucket per client, held in process memory. Its [Limiter] satisfies
// httpapi.RateLimiter (set it as httpapi.Options.RateLimiter) without this
// package importing httpapi.
//
// A Limiter counts the requests of one process. Several app servers behind
// one load balancer each count their own, so a client gets the budget once
// per server; to share one budget across servers, use the Redis limiter of
// package [github.com/onetimego/onetime/ratelimit/redislimit] instead.
package ratelimit

import (
	"container/list"
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxClients bounds the clients a [Limiter] remembers when New is
// given 0.
const DefaultMaxClients = 10000

// maxIdle bounds how long a client is remembered: a bucket that would take
// longer to refill (or never refills) is forgotten after an hour idle.
const maxIdle = time.Hour

// A Limiter is an in-process rate limiter: a token bucket per client
// (golang.org/x/time/rate) that holds at most burst tokens and gains
// perSecond tokens a second; each request takes one, and a request that
// finds the bucket empty is refused.
//
// It remembers a bounded number of clients, least recently seen first
// out. A client idle long enough for its bucket to be full again is
// forgotten, which loses nothing; a client pushed out by others while its
// bucket was not full starts over with a full one.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	limit rate.Limit
	burst int
	max   int
	idle  time.Duration
	now   func() time.Time // time.Now; tests replace it

	mu      sync.Mutex
	lru     *list.List // of *client, most recently seen at the front
	clients map[string]*list.Element
}

type client struct {
	key  string
	lim  *rate.Limiter
	seen time.Time
}

// New returns a Limiter allowing each client perSecond requests a second
// on average and bursts of burst requests (at least 1), remembering at
// most maxClients clients (0 or less means [DefaultMaxClients]).
//
// perSecond should be positive: with 0 a bucket never refills, and a
// client gets burst requests until it has been forgotten (an hour idle,
// or pushed out by others).
func New(perSecond float64, burst, maxClients int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	if maxClients <= 0 {
		maxClients = DefaultMaxClients
	}
	idle := maxIdle
	if perSecond > 0 {
		idle = time.Duration(math.Min(float64(burst)/perSecond*float64(time.Second), float64(maxIdle)))
	}
	return &Limiter{
		limit:   rate.Limit(perSecond),
		burst:   burst,
		max:     maxClients,
		idle:    idle,
		now:     time.Now,
		lru:     list.New(),
		clients: make(map[string]*list.Element),
	}
}

// Allow reports whether client may make one more request now, and takes a
// token from its bucket if so. client is any string that identifies the
// client, such as its IP address. Allow never returns an error; the error
// result is there to satisfy httpapi.RateLimiter.
func (l *Limiter) Allow(_ context.Context, client string) (bool, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forgetIdle(now)
	c := l.lookup(client)
	c.seen = now
	return c.lim.AllowN(now, 1), nil
}

// forgetIdle drops the clients whose buckets are full again, least
// recently seen first.
func (l *Limiter) forgetIdle(now time.Time) {
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		c := e.Value.(*client)
		if now.Sub(c.seen) < l.idle {
			return
		}
		l.lru.Remove(e)
		delete(l.clients, c.key)
	}
}

// lookup returns the bucket of key, making one (and pushing out the least
// recently seen client if the Limiter is full) if there is none.
func (l *Limiter) lookup(key string) *client {
	if e, ok := l.clients[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*client)
	}
	if l.lru.Len() >= l.max {
		// Full of active clients: the least recent one starts over.
		e := l.lru.Back()
		l.lru.Remove(e)
		delete(l.clients, e.Value.(*client).key)
	}
	c := &client{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
	l.clients[key] = l.lru.PushFront(c)
	return c
}

// Len reports how many clients the Limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
