// Package redislimit is a rate limiter shared by every process that uses
// the same Redis: a token bucket per client, kept in Redis with the
// generic cell rate algorithm (GCRA). Its [Limiter] satisfies
// httpapi.RateLimiter (set it as httpapi.Options.RateLimiter), so that app
// servers behind one load balancer give each client one budget between
// them rather than one each.
//
// # How it works
//
// A client's bucket holds at most burst tokens and gains perSecond tokens
// a second; each request takes one, and a request that finds the bucket
// empty is refused. GCRA keeps the whole bucket in one number per client,
// its theoretical arrival time (TAT): the instant at which the bucket would
// be full again. A request at time now is allowed when
// max(TAT, now) + 1/perSecond is no more than burst/perSecond ahead of
// now, and then moves TAT there.
//
// Each check is one EVALSHA of a Lua script, so it is atomic and takes one
// round trip. The script reads the time with Redis's TIME: every app
// server's request is judged on the one clock of the Redis server that
// holds the key, so servers whose own clocks disagree still share one
// budget fairly. A client's key expires (PX) when its bucket is full
// again, so an idle client costs nothing and a missing key means a full
// bucket.
//
// Each client is one key, so the limiter works on a Redis Cluster as well
// as on a single server or behind Sentinel (any [goredis.UniversalClient]).
// A key is the prefix (see [Options]) followed by the client string.
package redislimit

import (
	"context"
	"errors"
	"math"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix is put before every key unless [Options] say otherwise.
const DefaultPrefix = "onetime:rate:"

// MaxRefill bounds how long an empty bucket may take to fill again
// (burst/perSecond): Redis keeps a client's key that long.
const MaxRefill = 30 * 24 * time.Hour

// MaxPerSecond is the highest rate New accepts: the script counts time in
// microseconds, one token per microsecond at most.
const MaxPerSecond = 1e6

// Options configure a [Limiter]; nil means defaults.
type Options struct {
	// Prefix is put before every key ([DefaultPrefix] when empty). Limiters
	// on one Redis with the same prefix share their clients' budgets.
	Prefix string
}

// A Limiter is a rate limiter kept in Redis: a token bucket per client,
// shared by every Limiter on the same Redis with the same key prefix.
// It is safe for concurrent use.
type Limiter struct {
	client   goredis.UniversalClient
	prefix   string
	interval int64 // microseconds between tokens (1/perSecond)
	tau      int64 // microseconds to fill an empty bucket (burst/perSecond)
}

// New returns a Limiter allowing each client perSecond requests a second
// on average and bursts of burst requests, with its buckets in the Redis
// of client. It uses client as given and never closes it.
//
// perSecond must be positive and at most [MaxPerSecond], burst at least 1,
// and burst/perSecond at most [MaxRefill].
func New(client goredis.UniversalClient, perSecond float64, burst int, opts *Options) (*Limiter, error) {
	if client == nil {
		return nil, errors.New("redislimit: nil Redis client")
	}
	if !(perSecond > 0 && perSecond <= MaxPerSecond) {
		return nil, errors.New("redislimit: the rate must be above 0 and at most 1e6 a second")
	}
	if burst < 1 {
		return nil, errors.New("redislimit: the burst must be at least 1")
	}
	interval := math.Round(1e6 / perSecond)
	if tau := interval * float64(burst); tau > float64(MaxRefill.Microseconds()) {
		return nil, errors.New("redislimit: burst/rate must be at most 30 days")
	}
	l := &Limiter{
		client:   client,
		prefix:   DefaultPrefix,
		interval: int64(interval),
		tau:      int64(interval) * int64(burst),
	}
	if opts != nil && opts.Prefix != "" {
		l.prefix = opts.Prefix
	}
	return l, nil
}

// gcra checks one request of the client whose key is KEYS[1]. ARGV[1] is
// the emission interval T (microseconds per token), ARGV[2] the tolerance
// tau = burst*T (microseconds to fill an empty bucket). The key holds the
// client's TAT in microseconds of Redis's clock and expires when the
// bucket is full again. It returns 1 when the request is allowed, else 0.
//
// Numbers go to Redis through string.format('%d'): Redis may write a Lua
// number in exponent notation, or with too few digits for a time in
// microseconds.
var gcra = goredis.NewScript(`
redis.replicate_commands() -- TIME before a write; a no-op since Redis 5
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat ~= tat or tat < now then
  -- No key (or not a number): a full bucket.
  tat = now
elseif tat > now + tau then
  -- Further ahead than a full wait: the clock stepped back, or the burst
  -- was made smaller. Hold the client to one full wait.
  tat = now + tau
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', string.format('%d', math.ceil(tau / 1000)))
end
local new = tat + interval
if new - now > tau then
  return 0
end
redis.call('SET', KEYS[1], string.format('%d', new), 'PX', string.format('%d', math.ceil((new - now) / 1000)))
return 1
`)

// Allow reports whether client may make one more request now, and takes a
// token from its bucket if so. client is any string that identifies the
// client, such as its IP address. The error is Redis's (or ctx's); a
// caller such as httpapi lets the request through then, so that a Redis
// outage does not take the service down.
func (l *Limiter) Allow(ctx context.Context, client string) (bool, error) {
	return l.check(ctx, l.client, client).Bool()
}

// check runs the script for one request of client on s (the Limiter's
// client, or a pipeline in tests).
func (l *Limiter) check(ctx context.Context, s goredis.Scripter, client string) *goredis.Cmd {
	return gcra.Run(ctx, s, []string{l.prefix + client}, l.interval, l.tau)
}
