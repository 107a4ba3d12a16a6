package httpapi

import (
	"container/list"
	"context"
	"errors"
	"math"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// A RateLimiter decides whether a client may make one more request. client
// is the address the handler attributes the request to (see
// Options.ClientIPHeader). A limited client gets the v1 error "Cripes! You
// have been rate limited.". An error is logged and the request is let
// through: a limiter that is down does not take the service down with it.
type RateLimiter interface {
	Allow(ctx context.Context, client string) (bool, error)
}

// DefaultMaxClients bounds the clients a [LocalLimiter] remembers.
const DefaultMaxClients = 10000

// LocalLimiter is an in-process [RateLimiter]: a token bucket per client
// (golang.org/x/time/rate), for a service that runs as one process. It
// remembers at most a bounded number of clients, least recently seen
// first out; a client idle long enough for its bucket to refill is
// forgotten, which loses nothing.
type LocalLimiter struct {
	limit rate.Limit
	burst int
	max   int
	idle  time.Duration
	now   func() time.Time

	mu      sync.Mutex
	lru     *list.List // of *localClient, most recent at the front
	clients map[string]*list.Element
}

type localClient struct {
	key  string
	lim  *rate.Limiter
	seen time.Time
}

// NewLocalLimiter returns a LocalLimiter allowing each client perSecond
// requests a second on average and bursts of burst requests (at least 1),
// remembering at most maxClients clients (0 means [DefaultMaxClients]).
// perSecond should be positive: with 0 a bucket never refills, and a
// client gets burst requests until it has been forgotten (an hour idle,
// or pushed out by others).
func NewLocalLimiter(perSecond float64, burst, maxClients int) *LocalLimiter {
	if burst < 1 {
		burst = 1
	}
	if maxClients <= 0 {
		maxClients = DefaultMaxClients
	}
	idle := time.Hour
	if perSecond > 0 {
		idle = time.Duration(math.Min(float64(burst)/perSecond*float64(time.Second), float64(time.Hour)))
	}
	return &LocalLimiter{
		limit: rate.Limit(perSecond), burst: burst, max: maxClients, idle: idle,
		now: time.Now, lru: list.New(), clients: make(map[string]*list.Element),
	}
}

// Allow implements [RateLimiter]. It never fails.
func (l *LocalLimiter) Allow(_ context.Context, client string) (bool, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	// Forget clients whose buckets are full again, oldest first.
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		if c := e.Value.(*localClient); now.Sub(c.seen) >= l.idle {
			l.lru.Remove(e)
			delete(l.clients, c.key)
			continue
		}
		break
	}
	var c *localClient
	if e, ok := l.clients[client]; ok {
		c = e.Value.(*localClient)
		l.lru.MoveToFront(e)
	} else {
		if l.lru.Len() >= l.max {
			// Full of active clients: the least recent one starts over.
			e := l.lru.Back()
			l.lru.Remove(e)
			delete(l.clients, e.Value.(*localClient).key)
		}
		c = &localClient{key: client, lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[client] = l.lru.PushFront(c)
	}
	c.seen = now
	return c.lim.AllowN(now, 1), nil
}

// clientCount reports how many clients are remembered (for tests).
func (l *LocalLimiter) clientCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// RedisLimiter is a [RateLimiter] shared by every process that uses the
// same Redis: a fixed window per client, counted by one Lua script (INCR,
// and PEXPIRE when the window starts) in one round trip. Each client is one
// key, so it works on a Redis Cluster too.
type RedisLimiter struct {
	client goredis.UniversalClient
	limit  int64
	window time.Duration
	prefix string
}

// RedisLimiterOptions configure a [RedisLimiter]; nil means defaults.
type RedisLimiterOptions struct {
	// Prefix is put before every key ("onetime:rate:").
	Prefix string
}

// NewRedisLimiter returns a RedisLimiter allowing each client limit
// requests per window. It uses client as given and never closes it.
func NewRedisLimiter(client goredis.UniversalClient, limit int, window time.Duration, opts *RedisLimiterOptions) (*RedisLimiter, error) {
	if client == nil {
		return nil, errors.New("httpapi: nil Redis client")
	}
	if limit < 1 || window < time.Millisecond {
		return nil, errors.New("httpapi: a Redis rate limit needs limit >= 1 and window >= 1ms")
	}
	l := &RedisLimiter{client: client, limit: int64(limit), window: window, prefix: "onetime:rate:"}
	if opts != nil && opts.Prefix != "" {
		l.prefix = opts.Prefix
	}
	return l, nil
}

// The window starts with the first request; a key left without an expiry
// (which INCR alone could leave) is given one.
var windowScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// Allow implements [RateLimiter].
func (l *RedisLimiter) Allow(ctx context.Context, client string) (bool, error) {
	n, err := windowScript.Run(ctx, l.client, []string{l.prefix + client}, l.window.Milliseconds()).Int64()
	if err != nil {
		return false, err
	}
	return n <= l.limit, nil
}
