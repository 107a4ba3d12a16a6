package ratelimit

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/onetimego/onetime/access"
)

// GuessOptions configure a [GuessLimiter]. A nil *GuessOptions, and every
// zero field, means the default.
type GuessOptions struct {
	// Burst is how many failures a client may make at once: the budget
	// of a client that has not failed for a while. 0 or less means
	// [access.DefaultGuessBurst] (20).
	Burst int

	// PerSecond is how many failures a second the budget regains: after
	// a burst, a guesser is held to about that many guesses a second.
	// 0 or less, NaN or infinite means [access.DefaultGuessPerSecond]
	// (1).
	PerSecond float64

	// MaxClients bounds the clients remembered at once (0 or less means
	// [DefaultMaxClients]), so that failures from a flood of addresses
	// cannot make the GuessLimiter grow without bound.
	MaxClients int
}

// A GuessLimiter is the in-process [access.GuessLimiter]: a budget of
// failures per client, a token bucket (golang.org/x/time/rate) that holds
// Burst tokens and regains PerSecond a second (see [GuessOptions]). Each
// failure takes a token, even from an empty bucket, which is then in debt:
// failures of requests that were let in at once all count, and the client
// waits each of them out. A client may try while its bucket holds a whole
// token.
//
// Only failures are remembered: looking up a client that has not failed
// stores nothing, and while no client is remembered it takes one atomic
// load (else a lock and a map lookup), so that honest traffic costs next
// to nothing. At most MaxClients are remembered, least
// recently failed first out; a client whose bucket is full again is
// forgotten, which loses nothing, and a client pushed out by others while
// its bucket was not full starts over with a full one.
//
// A GuessLimiter counts the failures of one process. Several app servers
// behind one load balancer each count their own, so a guesser gets the
// budget once per server; to share one budget across servers, use the
// GuessLimiter of package
// [github.com/onetimego/onetime/ratelimit/redislimit] instead.
//
// A GuessLimiter is safe for concurrent use.
type GuessLimiter struct {
	now func() time.Time // time.Now; tests replace it

	// remembered is clients.len(), stored under mu and read without it:
	// while it is zero, no client can have to wait.
	remembered atomic.Int64

	mu      sync.Mutex
	clients buckets // of clients that failed, most recently at the front
}

// NewGuessLimiter returns a GuessLimiter with the budget opts say (the
// default with nil opts).
func NewGuessLimiter(opts *GuessOptions) *GuessLimiter {
	var o GuessOptions
	if opts != nil {
		o = *opts
	}
	if o.Burst <= 0 {
		o.Burst = access.DefaultGuessBurst
	}
	if !(o.PerSecond > 0) || math.IsInf(o.PerSecond, 1) {
		o.PerSecond = access.DefaultGuessPerSecond
	}
	if o.MaxClients <= 0 {
		o.MaxClients = DefaultMaxClients
	}
	return &GuessLimiter{
		now:     time.Now,
		clients: newBuckets(rate.Limit(o.PerSecond), o.Burst, o.MaxClients),
	}
}

// RetryAfter reports how long client must wait before it may try again: 0
// when its bucket holds a whole token. It takes nothing (it may forget
// buckets full again, as Failed does) and never returns an error; the
// error result is there to satisfy access.GuessLimiter.
func (l *GuessLimiter) RetryAfter(_ context.Context, client string) (time.Duration, error) {
	if l.remembered.Load() == 0 {
		return 0, nil // no one has failed lately: no lock, no clock
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	// Buckets full again are forgotten here too (which changes no
	// answer), so that the lock-free answer above comes back once the
	// last client that failed has waited out its debt.
	l.clients.forget(now)
	l.remembered.Store(int64(l.clients.len()))
	g := l.clients.peek(client)
	if g == nil {
		return 0, nil
	}
	tokens := g.lim.TokensAt(now)
	if tokens >= 1 {
		return 0, nil
	}
	return l.refill(1 - tokens), nil
}

// Failed counts one failure of client: it takes a token from its bucket,
// leaving it in debt if it was empty. It never returns an error; the
// error result is there to satisfy access.GuessLimiter.
func (l *GuessLimiter) Failed(_ context.Context, client string) error {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clients.forget(now)
	g := l.clients.get(client)
	g.lim.ReserveN(now, 1) // n <= burst: always granted, in debt if need be
	g.until = now.Add(l.refill(float64(l.clients.burst) - g.lim.TokensAt(now)))
	l.remembered.Store(int64(l.clients.len()))
	return nil
}

// refill returns how long the bucket takes to regain tokens, rounded up.
func (l *GuessLimiter) refill(tokens float64) time.Duration {
	return time.Duration(math.Ceil(tokens / float64(l.clients.limit) * float64(time.Second)))
}

// Len reports how many clients the GuessLimiter remembers.
func (l *GuessLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clients.len()
}
