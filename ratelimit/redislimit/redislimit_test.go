package redislimit

import (
	"context"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func newLimiter(t *testing.T, rdb goredis.UniversalClient, perSecond float64, burst int, prefix string) *Limiter {
	t.Helper()
	l, err := New(rdb, perSecond, burst, &Options{Prefix: prefix})
	require.NoError(t, err)
	return l
}

func allow(t *testing.T, l *Limiter, client string) bool {
	t.Helper()
	ok, err := l.Allow(context.Background(), client)
	require.NoError(t, err)
	return ok
}

// atOnce makes n requests of client in one pipeline, so that Redis judges
// them back to back, microseconds apart on its clock, however slow the
// test machine; it returns which were allowed.
func atOnce(t *testing.T, l *Limiter, client string, n int) []bool {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, gcra.Load(ctx, l.client).Err()) // EVALSHA in a pipeline cannot fall back to EVAL
	pipe := l.client.Pipeline()
	cmds := make([]*goredis.Cmd, n)
	for i := range cmds {
		cmds[i] = l.check(ctx, pipe, client)
	}
	_, err := pipe.Exec(ctx)
	require.NoError(t, err)
	got := make([]bool, n)
	for i, c := range cmds {
		got[i], err = c.Bool()
		require.NoError(t, err)
	}
	return got
}

func repeat(v bool, n int) []bool {
	s := make([]bool, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// TestBurst is the bug the fixed window had: with -rate 5 -burst 10 it let
// 50 requests through at once. A token bucket lets exactly the burst pass,
// then one request per 1/rate.
func TestBurst(t *testing.T) {
	srv := redistest.Standalone(t)
	rdb := srv.Client(t)
	prefix := redistest.Prefix(t)
	l := newLimiter(t, rdb, 5, 10, prefix)

	assert.Equal(t, append(repeat(true, 10), false, false), atOnce(t, l, "192.0.2.1", 12),
		"exactly the burst of 10 passes at once")
	assert.True(t, allow(t, l, "192.0.2.2"), "another client has its own bucket")

	// One token comes back every 200 ms, on Redis's clock (the only
	// clock the limiter reads, hence a real wait).
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, []bool{true, false}, atOnce(t, l, "192.0.2.1", 2), "one token after 1/rate")
}

// TestKeys checks what a client's key holds: its TAT in microseconds of
// Redis's clock, expiring when the bucket is full again.
func TestKeys(t *testing.T) {
	srv := redistest.Standalone(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	l := newLimiter(t, rdb, 5, 10, prefix)
	key := prefix + "c"

	before, err := rdb.Time(ctx).Result()
	require.NoError(t, err)
	require.True(t, allow(t, l, "c"))
	ttl, err := rdb.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.Positive(t, ttl)
	assert.LessOrEqual(t, ttl, 200*time.Millisecond, "one token taken: full again in 1/rate")
	tat, err := rdb.Get(ctx, key).Int64()
	require.NoError(t, err, "the TAT is written as an integer")
	assert.GreaterOrEqual(t, tat, before.UnixMicro()+200_000, "TAT = Redis's now + 1/rate")

	assert.Equal(t, repeat(true, 9), atOnce(t, l, "c", 9))
	ttl, err = rdb.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 200*time.Millisecond)
	assert.LessOrEqual(t, ttl, 2*time.Second, "bucket empty: full again in burst/rate")

	// A refused request writes nothing.
	require.False(t, allow(t, l, "c"))
	again, err := rdb.Get(ctx, key).Int64()
	require.NoError(t, err)
	assert.Equal(t, tat+9*200_000, again)
}

// TestOddKeys: whatever a key holds, the limiter neither fails nor locks a
// client out for longer than one full wait, and leaves the key expiring.
func TestOddKeys(t *testing.T) {
	srv := redistest.Standalone(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	l := newLimiter(t, rdb, 5, 10, prefix)

	for _, v := range []string{"garbage", "nan", "-5", ""} {
		require.NoError(t, rdb.Set(ctx, prefix+"odd", v, 0).Err())
		assert.True(t, allow(t, l, "odd"), "%q is a full bucket", v)
		ttl := rdb.PTTL(ctx, prefix+"odd").Val()
		assert.Positive(t, ttl, "%q: the key expires", v)
		assert.LessOrEqual(t, ttl, 200*time.Millisecond, v)
	}

	// A TAT a day ahead (a clock stepped back, a smaller burst): refused,
	// but only until a full bucket's wait, 2 s, and the key expires then.
	now, err := rdb.Time(ctx).Result()
	require.NoError(t, err)
	far := now.Add(24 * time.Hour).UnixMicro()
	require.NoError(t, rdb.Set(ctx, prefix+"far", far, 0).Err())
	assert.False(t, allow(t, l, "far"))
	ttl := rdb.PTTL(ctx, prefix+"far").Val()
	assert.Positive(t, ttl)
	assert.LessOrEqual(t, ttl, 2*time.Second)
	held, err := rdb.Get(ctx, prefix+"far").Int64()
	require.NoError(t, err)
	assert.Less(t, held, now.Add(3*time.Second).UnixMicro(), "TAT held to now + burst/rate")
}

// TestShared runs two limiters, as two app servers would, each with its
// own connection to one Redis: they share each client's budget.
func TestShared(t *testing.T) {
	srv := redistest.Standalone(t)
	prefix := redistest.Prefix(t)
	// One token per 1000 s: no token comes back during the test.
	a := newLimiter(t, srv.Client(t), 0.001, 3, prefix)
	b := newLimiter(t, srv.Client(t), 0.001, 3, prefix)
	got := []bool{}
	for i := range 6 {
		got = append(got, allow(t, []*Limiter{a, b}[i%2], "192.0.2.1"))
	}
	assert.Equal(t, []bool{true, true, true, false, false, false}, got, "a burst of 3 between both")

	other := newLimiter(t, srv.Client(t), 0.001, 3, prefix+"other:")
	assert.True(t, allow(t, other, "192.0.2.1"), "another prefix is another budget")
}

// TestConcurrent lets two limiters, on their own clients, race for one
// budget: exactly the burst passes.
func TestConcurrent(t *testing.T) {
	srv := redistest.Standalone(t)
	prefix := redistest.Prefix(t)
	ls := []*Limiter{
		newLimiter(t, srv.Client(t), 0.001, 25, prefix),
		newLimiter(t, srv.Client(t), 0.001, 25, prefix),
	}
	var passed atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 10 {
				ok, err := ls[g%2].Allow(context.Background(), "shared")
				assert.NoError(t, err)
				if ok {
					passed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(25), passed.Load())
}

func TestCluster(t *testing.T) {
	cl := redistest.Cluster(t)
	prefix := redistest.Prefix(t)
	a := newLimiter(t, cl.Client(t), 0.001, 2, prefix)
	b := newLimiter(t, cl.Client(t), 0.001, 2, prefix)
	for i := range 20 { // keys in every slot range
		c := "198.51.100." + strconv.Itoa(i)
		assert.Equal(t, []bool{true, true, false}, []bool{allow(t, a, c), allow(t, b, c), allow(t, a, c)}, c)
	}
}

// TestRedisDown: Allow says when Redis cannot be reached, and works again
// once it is back (its script cache empty, the script is sent anew).
func TestRedisDown(t *testing.T) {
	srv := redistest.Standalone(t)
	if srv.External() {
		t.Skip("cannot stop an external server")
	}
	rdb := goredis.NewClient(&goredis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	l := newLimiter(t, rdb, 5, 10, redistest.Prefix(t))
	require.True(t, allow(t, l, "c"))

	srv.Stop()
	ok, err := l.Allow(context.Background(), "c")
	assert.Error(t, err)
	assert.False(t, ok)

	require.NoError(t, srv.Start())
	assert.True(t, allow(t, l, "c"))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ok, err = l.Allow(ctx, "c")
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, ok)
}

func TestNew(t *testing.T) {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { rdb.Close() })

	l, err := New(rdb, 5, 10, nil)
	require.NoError(t, err)
	assert.Equal(t, DefaultPrefix, l.prefix)
	assert.Equal(t, int64(200_000), l.interval)
	assert.Equal(t, int64(2_000_000), l.tau)
	l, err = New(rdb, 3, 1, &Options{Prefix: "p:"})
	require.NoError(t, err)
	assert.Equal(t, "p:", l.prefix)
	assert.Equal(t, int64(333_333), l.interval)

	for _, c := range []struct {
		name      string
		client    goredis.UniversalClient
		perSecond float64
		burst     int
	}{
		{"nil client", nil, 5, 10},
		{"zero rate", rdb, 0, 10},
		{"negative rate", rdb, -1, 10},
		{"NaN rate", rdb, math.NaN(), 10},
		{"infinite rate", rdb, math.Inf(1), 10},
		{"rate above 1e6", rdb, 2e6, 10},
		{"zero burst", rdb, 5, 0},
		{"refill over 30 days", rdb, 1e-6, 3},
	} {
		_, err := New(c.client, c.perSecond, c.burst, nil)
		assert.Error(t, err, c.name)
	}
	_, err = New(rdb, 1e-6, 2, nil) // 2e6 s, about 23 days
	assert.NoError(t, err)
}
