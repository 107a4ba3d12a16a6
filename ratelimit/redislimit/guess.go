package redislimit

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime/access"
)

// DefaultGuessPrefix starts every key of a [GuessLimiter] unless
// [GuessOptions] say otherwise.
const DefaultGuessPrefix = "onetime:guess:"

// DefaultGuessCache is how long a [GuessLimiter] goes by what it last
// learned of a client from Redis unless [GuessOptions] say otherwise.
const DefaultGuessCache = time.Second

// maxCached bounds the clients a GuessLimiter remembers what it learned
// of; past it, it forgets them all (and asks Redis again).
const maxCached = 10000

// GuessOptions configure a [GuessLimiter]. A nil *GuessOptions, and every
// zero field, means the default.
type GuessOptions struct {
	// Burst is how many failures a client may make at once: the budget
	// of a client that has not failed for a while. 0 means
	// [access.DefaultGuessBurst] (20).
	Burst int

	// PerSecond is how many failures a second the budget regains, at
	// most [MaxPerSecond]; Burst/PerSecond at most [MaxRefill]. 0 means
	// [access.DefaultGuessPerSecond] (1).
	PerSecond float64

	// Prefix starts every client's key ([DefaultGuessPrefix] when
	// empty). GuessLimiters on one Redis with the same prefix share their
	// clients' budgets.
	Prefix string

	// Cache is how long RetryAfter goes by what this GuessLimiter last
	// learned of a client from Redis, before it asks again: 0 means
	// [DefaultGuessCache] (1 s), a negative value asks Redis every time.
	// See [GuessLimiter] for what it saves and what it costs.
	Cache time.Duration
}

// A GuessLimiter is an [access.GuessLimiter] kept in Redis, shared by
// every GuessLimiter on the same Redis with the same key prefix: app
// servers behind one load balancer hold a guesser to one budget between
// them, not one each.
//
// A client's budget of failures is a token bucket that holds Burst tokens
// and regains PerSecond a second, kept as one number, its theoretical
// arrival time (TAT, as in the generic cell rate algorithm of [Limiter]):
// the instant at which the bucket would be full again, in microseconds of
// Redis's clock. RetryAfter reads it; Failed moves it one interval later,
// even past the budget (a debt: failures of requests let in at once all
// count, and the client waits each of them out, where redis_rate's
// AllowN would drop those it refuses). Each call is one EVALSHA of a
// short Lua script, atomic, judged on the one clock of the Redis server
// that holds the key. A client's key is prefix + client, and expires when
// its bucket is full again: a client that never fails has no key, and
// RetryAfter then writes nothing. One key per client works on a Redis
// Cluster as well as on one server or behind Sentinel.
//
// # What it caches
//
// Asking Redis before every request would cost every request a round
// trip (a quarter of cmd/onetime-server's share-and-reveal throughput on
// Redis). So RetryAfter goes by what the GuessLimiter last learned of a
// client, from either call, for GuessOptions.Cache (1 s): an honest
// client costs Redis one look a second per app server. Failed always goes
// to Redis and learns the client's state anew, so a guesser on one server
// is refused as soon as it has spent its budget. What the cache costs is
// a second of staleness across servers: a guesser whose budget was spent
// through other servers may be let in by this one until it fails here
// once (or the second ends). Every failure still counts in Redis, as a
// debt past the budget, so over time a guesser is held to the same rate.
// At most 10,000 clients are cached; past that, all are forgotten.
//
// It is safe for concurrent use.
type GuessLimiter struct {
	rdb      goredis.UniversalClient
	interval int64 // microseconds between two tokens
	span     int64 // Burst intervals: how far ahead TAT may be for a full bucket's worth
	prefix   string
	cacheFor time.Duration    // <= 0: no cache
	now      func() time.Time // time.Now; tests replace it

	mu     sync.Mutex
	cached map[string]learned
}

// learned is what a GuessLimiter learned of a client from Redis.
type learned struct {
	until time.Time // believed until then
	wait  time.Time // the client waits until then
}

// guessScript looks at (ARGV[3] "0") or counts a failure of (ARGV[3] "1")
// the client of KEYS[1], whose bucket regains a token every ARGV[1]
// microseconds and holds ARGV[2]/ARGV[1] tokens; it returns the
// microseconds the client must wait before it may try again, 0 when it may
// now. A key that holds no number is a full bucket (and is overwritten by
// the next failure). TIME is read before a write, which Redis 5 and later
// replicate by effect; replicate_commands asks for that on older ones.
var guessScript = goredis.NewScript(`
redis.replicate_commands()
local interval = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call("GET", KEYS[1]))
if not tat or tat < now then
  tat = now
end
if ARGV[3] == "1" then
  tat = tat + interval
  redis.call("SET", KEYS[1], string.format("%d", tat), "PX", math.ceil((tat - now) / 1000))
end
local wait = tat + interval - span - now
if wait < 0 then
  return 0
end
return wait
`)

// NewGuessLimiter returns a GuessLimiter with the budget opts say (the
// default with nil opts), kept in the Redis of client. It uses client as
// given and never closes it.
func NewGuessLimiter(client goredis.UniversalClient, opts *GuessOptions) (*GuessLimiter, error) {
	if client == nil {
		return nil, errors.New("redislimit: nil Redis client")
	}
	var o GuessOptions
	if opts != nil {
		o = *opts
	}
	if o.Burst == 0 {
		o.Burst = access.DefaultGuessBurst
	}
	if o.PerSecond == 0 {
		o.PerSecond = access.DefaultGuessPerSecond
	}
	if o.Prefix == "" {
		o.Prefix = DefaultGuessPrefix
	}
	if o.Cache == 0 {
		o.Cache = DefaultGuessCache
	}
	if !(o.PerSecond > 0 && o.PerSecond <= MaxPerSecond) {
		return nil, errors.New("redislimit: the guess rate must be above 0 and at most 1e6 a second")
	}
	if o.Burst < 1 {
		return nil, errors.New("redislimit: the guess burst must be at least 1")
	}
	interval := int64(math.Round(1e6 / o.PerSecond))
	if float64(interval)*float64(o.Burst) > float64(MaxRefill/time.Microsecond) {
		return nil, errors.New("redislimit: guess burst/rate must be at most 30 days")
	}
	return &GuessLimiter{rdb: client, interval: interval, span: interval * int64(o.Burst), prefix: o.Prefix,
		cacheFor: o.Cache, now: time.Now, cached: make(map[string]learned)}, nil
}

// RetryAfter reports how long client must wait before it may try again: 0
// when its bucket holds a whole token. It takes nothing, and goes by what
// the GuessLimiter learned of client within GuessOptions.Cache if it can.
// The error is Redis's (or ctx's); the handlers of httpapi and webui let
// the request through then.
func (l *GuessLimiter) RetryAfter(ctx context.Context, client string) (time.Duration, error) {
	now := l.now()
	if l.cacheFor > 0 {
		l.mu.Lock()
		c, ok := l.cached[client]
		l.mu.Unlock()
		if ok && now.Before(c.until) {
			return max(c.wait.Sub(now), 0), nil
		}
	}
	return l.run(ctx, now, client, "0")
}

// Failed counts one failure of client in Redis: it takes a token from its
// bucket, leaving it in debt if it was empty.
func (l *GuessLimiter) Failed(ctx context.Context, client string) error {
	_, err := l.run(ctx, l.now(), client, "1")
	return err
}

// run runs the script for client, begun at now, and caches what it says.
func (l *GuessLimiter) run(ctx context.Context, now time.Time, client, fail string) (time.Duration, error) {
	us, err := guessScript.Run(ctx, l.rdb, []string{l.prefix + client}, l.interval, l.span, fail).Int64()
	if err != nil {
		return 0, err
	}
	wait := time.Duration(us) * time.Microsecond
	if l.cacheFor > 0 {
		l.mu.Lock()
		if len(l.cached) >= maxCached {
			clear(l.cached)
		}
		l.cached[client] = learned{until: now.Add(l.cacheFor), wait: now.Add(wait)}
		l.mu.Unlock()
	}
	return wait, nil
}
