package redislimit

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/internal/redistest"
)

func newGuessLimiter(t *testing.T, rdb goredis.UniversalClient, opts *GuessOptions) *GuessLimiter {
	t.Helper()
	l, err := NewGuessLimiter(rdb, opts)
	require.NoError(t, err)
	return l
}

func guessWait(t *testing.T, l *GuessLimiter, client string) time.Duration {
	t.Helper()
	d, err := l.RetryAfter(context.Background(), client)
	require.NoError(t, err)
	return d
}

func guessFail(t *testing.T, l *GuessLimiter, client string, n int) {
	t.Helper()
	for range n {
		require.NoError(t, l.Failed(context.Background(), client))
	}
}

// TestGuessShared runs two GuessLimiters, as two app servers would, each
// with its own connection to one Redis and no cache: a client's failures
// on either count against one budget, looking takes nothing, and the
// budget refills on Redis's clock.
func TestGuessShared(t *testing.T) {
	srv := redistest.Standalone(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	opts := &GuessOptions{Burst: 4, PerSecond: 0.001, Prefix: redistest.Prefix(t), Cache: -1} // no token back during the test
	a, b := newGuessLimiter(t, srv.Client(t), opts), newGuessLimiter(t, srv.Client(t), opts)

	for range 100 {
		require.Zero(t, guessWait(t, a, "192.0.2.1"), "looking takes nothing")
	}
	n, err := rdb.Exists(ctx, opts.Prefix+"192.0.2.1").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "a client that has not failed has no key")

	var waits []bool
	for i := range 4 {
		l := []*GuessLimiter{a, b}[i%2]
		guessFail(t, l, "192.0.2.1", 1)
		waits = append(waits, guessWait(t, []*GuessLimiter{b, a}[i%2], "192.0.2.1") > 0)
	}
	assert.Equal(t, []bool{false, false, false, true}, waits, "a budget of 4 between both")
	wait := guessWait(t, a, "192.0.2.1")
	assert.InDelta(t, float64(1000*time.Second), float64(wait), float64(time.Second), "one refill to wait")
	assert.Zero(t, guessWait(t, b, "192.0.2.2"), "another client has its own budget")

	other := newGuessLimiter(t, rdb, &GuessOptions{Burst: 4, PerSecond: 0.001, Prefix: opts.Prefix + "other:"})
	assert.Zero(t, guessWait(t, other, "192.0.2.1"), "another prefix is another budget")

	_, err = rdb.Get(ctx, opts.Prefix+"192.0.2.1").Int64()
	require.NoError(t, err, "the TAT is kept as whole microseconds")
	// The key expires when the bucket is full again: 4 tokens at one per
	// 1000 s.
	ttl, err := rdb.PTTL(ctx, opts.Prefix+"192.0.2.1").Result()
	require.NoError(t, err)
	assert.InDelta(t, float64(4000*time.Second), float64(ttl), float64(2*time.Second))
}

// TestGuessRefill: the budget comes back at PerSecond on Redis's clock
// (hence a real wait, short).
func TestGuessRefill(t *testing.T) {
	srv := redistest.Standalone(t)
	l := newGuessLimiter(t, srv.Client(t), &GuessOptions{Burst: 2, PerSecond: 10, Prefix: redistest.Prefix(t)})
	guessFail(t, l, "c", 2)
	wait := guessWait(t, l, "c")
	assert.Positive(t, wait)
	assert.LessOrEqual(t, wait, 100*time.Millisecond)
	time.Sleep(wait)
	assert.Zero(t, guessWait(t, l, "c"), "a token back after 1/rate")
}

// TestGuessDebtConcurrent lets two GuessLimiters, on their own clients,
// count failures at once: every one counts, past the budget too, and the
// client waits them all out.
func TestGuessDebtConcurrent(t *testing.T) {
	srv := redistest.Standalone(t)
	opts := &GuessOptions{Burst: 5, PerSecond: 0.01, Prefix: redistest.Prefix(t), Cache: -1} // 100 s a token
	ls := []*GuessLimiter{newGuessLimiter(t, srv.Client(t), opts), newGuessLimiter(t, srv.Client(t), opts)}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 10 {
				assert.NoError(t, ls[g%2].Failed(context.Background(), "shared"))
			}
		})
	}
	wg.Wait()
	// 80 failures against a budget of 5: 76 tokens to regain before one
	// more try, 7,600 s.
	wait := guessWait(t, ls[0], "shared")
	assert.InDelta(t, float64(7600*time.Second), float64(wait), float64(2*time.Second))
}

func TestGuessCluster(t *testing.T) {
	cl := redistest.Cluster(t)
	opts := &GuessOptions{Burst: 2, PerSecond: 0.001, Prefix: redistest.Prefix(t), Cache: -1}
	a, b := newGuessLimiter(t, cl.Client(t), opts), newGuessLimiter(t, cl.Client(t), opts)
	for i := range 20 { // keys in every slot range
		c := "198.51.100." + strconv.Itoa(i)
		guessFail(t, a, c, 1)
		assert.Zero(t, guessWait(t, b, c), c)
		guessFail(t, b, c, 1)
		assert.Positive(t, guessWait(t, a, c), c)
	}
}

// TestGuessOddKey: a key that holds no number is a full bucket, and the
// next failure overwrites it.
func TestGuessOddKey(t *testing.T) {
	srv := redistest.Standalone(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	opts := &GuessOptions{Burst: 1, PerSecond: 0.001, Prefix: redistest.Prefix(t)}
	l := newGuessLimiter(t, rdb, opts)
	require.NoError(t, rdb.Set(ctx, opts.Prefix+"odd", "garbage", 0).Err())
	assert.Zero(t, guessWait(t, l, "odd"))
	guessFail(t, l, "odd", 1)
	assert.Positive(t, guessWait(t, l, "odd"))
	ttl, err := rdb.PTTL(ctx, opts.Prefix+"odd").Result()
	require.NoError(t, err)
	assert.Positive(t, ttl, "the key expires")
}

// TestGuessRedisDown: both calls say when Redis cannot be reached.
func TestGuessRedisDown(t *testing.T) {
	srv := redistest.Standalone(t)
	if srv.External() {
		t.Skip("cannot stop an external server")
	}
	rdb := goredis.NewClient(&goredis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	l := newGuessLimiter(t, rdb, &GuessOptions{Prefix: redistest.Prefix(t), Cache: -1})
	guessFail(t, l, "c", 1)
	srv.Stop()
	_, err := l.RetryAfter(context.Background(), "c")
	assert.Error(t, err)
	assert.Error(t, l.Failed(context.Background(), "c"))
	require.NoError(t, srv.Start())
	assert.Zero(t, guessWait(t, l, "c"))
}

// TestGuessCache: RetryAfter goes by what the limiter learned within
// Cache, from a look or a failure, so that an honest client costs Redis
// one look per Cache; a failure always goes to Redis, and learns the
// failures made through other limiters.
func TestGuessCache(t *testing.T) {
	srv := redistest.Standalone(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	opts := &GuessOptions{Burst: 3, PerSecond: 0.001, Prefix: redistest.Prefix(t), Cache: time.Hour}
	a, b := newGuessLimiter(t, srv.Client(t), opts), newGuessLimiter(t, srv.Client(t), opts)
	clock := time.Now()
	a.now = func() time.Time { return clock }

	require.Zero(t, guessWait(t, a, "c"), "learned: no wait")
	guessFail(t, b, "c", 3) // the budget spent through b
	assert.Positive(t, guessWait(t, b, "c"), "b learned it from its failures")
	assert.Zero(t, guessWait(t, a, "c"), "a goes by what it learned")
	guessFail(t, a, "c", 1) // one failure more, through a
	wait := guessWait(t, a, "c")
	assert.InDelta(t, float64(2000*time.Second), float64(wait), float64(2*time.Second), "a failure learns the debt")
	clock = clock.Add(time.Hour)
	assert.InDelta(t, float64(2000*time.Second), float64(guessWait(t, a, "c")), float64(2*time.Second), "asked again after Cache")

	// Redis is asked once per Cache for a client that never fails.
	before, err := rdb.Info(ctx, "stats").Result()
	require.NoError(t, err)
	for range 1000 {
		require.Zero(t, guessWait(t, a, "honest"))
	}
	after, err := rdb.Info(ctx, "stats").Result()
	require.NoError(t, err)
	assert.Less(t, commands(t, after)-commands(t, before), 10.0, "a few commands (one EVALSHA, the INFO) for 1000 looks")

	a.cached = make(map[string]learned, maxCached)
	for i := range maxCached + 1 {
		a.cached[strconv.Itoa(i)] = learned{}
	}
	guessWait(t, a, "new")
	assert.Len(t, a.cached, 1, "bounded: forgotten all at once")
}

// commands reads total_commands_processed from INFO stats.
func commands(t *testing.T, info string) float64 {
	t.Helper()
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
			n, err := strconv.Atoi(v)
			require.NoError(t, err)
			return float64(n)
		}
	}
	t.Fatal("no total_commands_processed")
	return 0
}

func TestNewGuessLimiter(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { rdb.Close() })

	for _, o := range []*GuessOptions{nil, {}} {
		l, err := NewGuessLimiter(rdb, o)
		require.NoError(t, err)
		assert.Equal(t, DefaultGuessPrefix, l.prefix)
		assert.Equal(t, int64(1e6/access.DefaultGuessPerSecond), l.interval)
		assert.Equal(t, l.interval*access.DefaultGuessBurst, l.span)
		assert.Equal(t, DefaultGuessCache, l.cacheFor)
	}
	l, err := NewGuessLimiter(rdb, &GuessOptions{Burst: 3, PerSecond: 4, Prefix: "p:"})
	require.NoError(t, err)
	assert.Equal(t, "p:", l.prefix)
	assert.Equal(t, int64(250_000), l.interval)
	assert.Equal(t, int64(750_000), l.span)

	for _, c := range []struct {
		name   string
		client goredis.UniversalClient
		o      GuessOptions
	}{
		{"nil client", nil, GuessOptions{}},
		{"negative rate", rdb, GuessOptions{PerSecond: -1}},
		{"NaN rate", rdb, GuessOptions{PerSecond: math.NaN()}},
		{"infinite rate", rdb, GuessOptions{PerSecond: math.Inf(1)}},
		{"rate above 1e6", rdb, GuessOptions{PerSecond: 2e6}},
		{"negative burst", rdb, GuessOptions{Burst: -1}},
		{"refill over 30 days", rdb, GuessOptions{PerSecond: 1e-6, Burst: 3}},
	} {
		_, err := NewGuessLimiter(c.client, &c.o)
		assert.Error(t, err, c.name)
	}
}

// A GuessLimiter is what the handlers of httpapi and webui take.
var _ access.GuessLimiter = (*GuessLimiter)(nil)
