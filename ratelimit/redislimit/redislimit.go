// Package redislimit is a rate limiter shared by every process that uses
// the same Redis: a token bucket per client, kept in Redis with the
// generic cell rate algorithm (GCRA) of [redis_rate]. Its [Limiter]
// satisfies [github.com/onetimego/onetime/access.RateLimiter] (the
// interface httpapi and webui take), so that app servers behind one load
// balancer give each client one budget between them rather than one each.
// Its [GuessLimiter] does the same for the budget of failures of
// [github.com/onetimego/onetime/access.GuessLimiter], which holds back a
// client that guesses keys, passphrases or tokens.
//
// # How it works
//
// A client's bucket holds at most Burst tokens and gains PerSecond tokens
// a second; each request takes one, and a request that finds the bucket
// empty is refused. GCRA keeps the whole bucket in one number per client,
// its theoretical arrival time (TAT): the instant at which the bucket would
// be full again. A request at time now is allowed when
// max(TAT, now) + 1/PerSecond is no more than Burst/PerSecond ahead of
// now, and then moves TAT there.
//
// Each check is one EVALSHA of redis_rate's Lua script, so it is atomic
// and takes one round trip. The script reads the time with Redis's TIME:
// every app server's request is judged on the one clock of the Redis
// server that holds the key, so servers whose own clocks disagree still
// share one budget fairly. A client's key expires when its bucket is full
// again (rounded up to the second), so an idle client costs nothing and a
// missing key means a full bucket.
//
// Each client is one key, so the limiter works on a Redis Cluster as well
// as on a single server or behind Sentinel (any [goredis.UniversalClient]).
// A key is redis_rate's "rate:", then the prefix (see [Options]), then the
// client string.
//
// [redis_rate]: https://pkg.go.dev/github.com/go-redis/redis_rate/v10
package redislimit

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix is put before every client (after redis_rate's own
// "rate:") unless [Options] say otherwise.
const DefaultPrefix = "onetime:"

// MaxRefill bounds how long an empty bucket may take to fill again
// (Burst/PerSecond): Redis keeps a client's key that long.
const MaxRefill = 30 * 24 * time.Hour

// MaxPerSecond is the highest rate New accepts: one token a microsecond,
// the resolution of Redis's clock.
const MaxPerSecond = 1e6

// Options configure a [Limiter]. PerSecond and Burst are the policy and
// have no default; they are named fields so that they cannot be swapped.
type Options struct {
	// PerSecond is how many requests a second each client may make on
	// average, shared by all Limiters with the same Prefix: above 0 and at
	// most [MaxPerSecond].
	PerSecond float64

	// Burst is how many requests a client may make at once: at least 1,
	// and Burst/PerSecond at most [MaxRefill].
	Burst int

	// Prefix is put before every client in its key ([DefaultPrefix] when
	// empty). Limiters on one Redis with the same prefix share their
	// clients' budgets.
	Prefix string
}

// A Limiter is a rate limiter kept in Redis: a token bucket per client,
// shared by every Limiter on the same Redis with the same key prefix.
// It is safe for concurrent use.
type Limiter struct {
	rl     *redis_rate.Limiter
	limit  redis_rate.Limit
	prefix string
}

// New returns a Limiter allowing each client opts.PerSecond requests a
// second on average and bursts of opts.Burst requests, with its buckets in
// the Redis of client. It uses client as given and never closes it.
func New(client goredis.UniversalClient, opts Options) (*Limiter, error) {
	if client == nil {
		return nil, errors.New("redislimit: nil Redis client")
	}
	if !(opts.PerSecond > 0 && opts.PerSecond <= MaxPerSecond) {
		return nil, errors.New("redislimit: the rate must be above 0 and at most 1e6 a second")
	}
	if opts.Burst < 1 {
		return nil, errors.New("redislimit: the burst must be at least 1")
	}
	// One token per interval: redis_rate counts Rate tokens per Period,
	// in whole tokens, so a rate below one a second is 1 per a longer
	// Period.
	interval := time.Duration(math.Round(float64(time.Second) / opts.PerSecond))
	if float64(interval)*float64(opts.Burst) > float64(MaxRefill) {
		return nil, errors.New("redislimit: burst/rate must be at most 30 days")
	}
	l := &Limiter{
		rl:     redis_rate.NewLimiter(client),
		limit:  redis_rate.Limit{Rate: 1, Period: interval, Burst: opts.Burst},
		prefix: DefaultPrefix,
	}
	if opts.Prefix != "" {
		l.prefix = opts.Prefix
	}
	return l, nil
}

// Allow reports whether client may make one more request now, and takes a
// token from its bucket if so. client is any string that identifies the
// client, such as its IP address. The error is Redis's (or ctx's); the
// handlers of httpapi and webui let the request through then, so that a
// Redis outage does not take the service down.
func (l *Limiter) Allow(ctx context.Context, client string) (bool, error) {
	res, err := l.rl.Allow(ctx, l.prefix+client, l.limit)
	if err != nil {
		return false, err
	}
	return res.Allowed > 0, nil
}
