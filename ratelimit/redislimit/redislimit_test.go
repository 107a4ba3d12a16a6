package redislimit

import (
	"context"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func newLimiter(t *testing.T, rdb goredis.UniversalClient, perSecond float64, burst int, prefix string) *Limiter {
	t.Helper()
	l, err := New(rdb, Options{PerSecond: perSecond, Burst: burst, Prefix: prefix})
	require.NoError(t, err)
	return l
}

func allow(t *testing.T, l *Limiter, client string) bool {
	t.Helper()
	ok, err := l.Allow(context.Background(), client)
	require.NoError(t, err)
	return ok
}

// allowN makes n requests of client one after the other and returns which
// were allowed.
func allowN(t *testing.T, l *Limiter, client string, n int) []bool {
	t.Helper()
	got := make([]bool, n)
	for i := range got {
		got[i] = allow(t, l, client)
	}
	return got
}

// key is where l keeps the bucket of client.
func key(l *Limiter, client string) string { return "rate:" + l.prefix + client }

// onTime runs f, which makes requests of the client it is given and
// returns which were allowed, until Redis's clock (the only one the
// limiter reads) says that f took less than d: a test machine that stalls
// can stretch a sequence of requests past a refill. Each try is another
// client, a fresh bucket; onTime returns the client of the try it kept.
func onTime(t *testing.T, rdb goredis.UniversalClient, d time.Duration, f func(client string) []bool) (string, []bool) {
	t.Helper()
	ctx := context.Background()
	for try := range 5 {
		client := "192.0.2." + strconv.Itoa(try+1)
		before, err := rdb.Time(ctx).Result()
		require.NoError(t, err)
		got := f(client)
		after, err := rdb.Time(ctx).Result()
		require.NoError(t, err)
		took := after.Sub(before)
		if took < d {
			return client, got
		}
		t.Logf("try %d took %v on Redis's clock, less than %v wanted: again", try, took, d)
	}
	t.Fatalf("five tries took %v or more", d)
	return "", nil
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
	l := newLimiter(t, rdb, 5, 10, redistest.Prefix(t))

	// Twelve requests at once, then two more 200 ms later: all within
	// 400 ms, so that the first twelve came within one token's 200 ms.
	_, got := onTime(t, rdb, 400*time.Millisecond, func(c string) []bool {
		first := allowN(t, l, c, 12)
		// One token comes back every 200 ms, on Redis's clock (the only
		// clock the limiter reads, hence a real wait).
		time.Sleep(200 * time.Millisecond)
		return append(first, allowN(t, l, c, 2)...)
	})
	assert.Equal(t, append(repeat(true, 10), false, false), got[:12], "exactly the burst of 10 passes at once")
	assert.Equal(t, []bool{true, false}, got[12:], "one token after 1/rate")
	assert.True(t, allow(t, l, "198.51.100.1"), "another client has its own bucket")
}

// TestKeys checks that a client's key expires when its bucket is full
// again, so that an idle client costs Redis nothing, and that a refused
// request writes nothing.
func TestKeys(t *testing.T) {
	srv := redistest.Standalone(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	l := newLimiter(t, rdb, 5, 10, redistest.Prefix(t))
	k := key(l, "c")

	require.True(t, allow(t, l, "c"))
	ttl, err := rdb.PTTL(ctx, k).Result()
	require.NoError(t, err)
	assert.Positive(t, ttl)
	assert.LessOrEqual(t, ttl, time.Second, "one token taken: full again in 1/rate, rounded up to the second")

	empty, got := onTime(t, rdb, 200*time.Millisecond, func(c string) []bool { return allowN(t, l, c, 10) })
	assert.Equal(t, repeat(true, 10), got)
	ttl, err = rdb.PTTL(ctx, key(l, empty)).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, time.Second, "bucket empty: full again in burst/rate, 2 s")
	assert.LessOrEqual(t, ttl, 2*time.Second)

	// A refused request writes nothing.
	tat, err := rdb.Get(ctx, key(l, empty)).Result()
	require.NoError(t, err)
	require.False(t, allow(t, l, empty))
	again, err := rdb.Get(ctx, key(l, empty)).Result()
	require.NoError(t, err)
	assert.Equal(t, tat, again)
}

// TestOddKeys: what a key holds that the limiter did not write. A number
// in the past is a full bucket, and the key is left expiring. A key that
// holds no number makes Allow fail, saying so, rather than refuse: a
// caller such as httpapi lets the request through then (redis_rate does
// not repair such a key; the hand-written script that came before did).
func TestOddKeys(t *testing.T) {
	srv := redistest.Standalone(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	l := newLimiter(t, rdb, 5, 10, redistest.Prefix(t))

	require.NoError(t, rdb.Set(ctx, key(l, "old"), "-5", 0).Err())
	assert.True(t, allow(t, l, "old"), "a TAT long past is a full bucket")
	ttl := rdb.PTTL(ctx, key(l, "old")).Val()
	assert.Positive(t, ttl, "the key expires")
	assert.LessOrEqual(t, ttl, time.Second)

	for _, v := range []string{"garbage", ""} {
		require.NoError(t, rdb.Set(ctx, key(l, "odd"), v, 0).Err())
		ok, err := l.Allow(ctx, "odd")
		assert.Error(t, err, "%q", v)
		assert.False(t, ok, "%q", v)
	}
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

	l, err := New(rdb, Options{PerSecond: 5, Burst: 10})
	require.NoError(t, err)
	assert.Equal(t, DefaultPrefix, l.prefix)
	assert.Equal(t, redis_rate.Limit{Rate: 1, Period: 200 * time.Millisecond, Burst: 10}, l.limit)
	l, err = New(rdb, Options{PerSecond: 3, Burst: 1, Prefix: "p:"})
	require.NoError(t, err)
	assert.Equal(t, "p:", l.prefix)
	assert.Equal(t, 333_333_333*time.Nanosecond, l.limit.Period)
	l, err = New(rdb, Options{PerSecond: 0.001, Burst: 3})
	require.NoError(t, err)
	assert.Equal(t, 1000*time.Second, l.limit.Period, "a rate below one a second")

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
		_, err := New(c.client, Options{PerSecond: c.perSecond, Burst: c.burst})
		assert.Error(t, err, c.name)
	}
	_, err = New(rdb, Options{PerSecond: 1e-6, Burst: 2}) // 2e6 s, about 23 days
	assert.NoError(t, err)
}

// A Limiter is what the handlers of httpapi and webui take.
var _ access.RateLimiter = (*Limiter)(nil)
