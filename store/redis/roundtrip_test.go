package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/storetest"
)

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 891011000, time.UTC)

// newStore returns a Store on client under a prefix unique to t.
func newStore(t testing.TB, client goredis.UniversalClient) *Store {
	t.Helper()
	s, err := New(client, &Options{Prefix: redistest.Prefix(t)})
	require.NoError(t, err)
	return s
}

// counter is a goredis hook counting the commands a client sends.
type counter struct {
	mu       sync.Mutex
	commands int
}

func (c *counter) n() int { c.mu.Lock(); defer c.mu.Unlock(); return c.commands }

func (c *counter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *counter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.mu.Lock()
		c.commands++
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (c *counter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.mu.Lock()
		c.commands += len(cmds)
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

// inScript are the commands the scripts call; they show in commandstats
// as well as the EVALSHA that ran them.
var inScript = map[string]bool{
	"get": true, "mget": true, "getrange": true, "set": true, "setrange": true, "del": true, "exists": true,
	"time": true, "zadd": true, "zcard": true, "zrange": true, "zrevrange": true,
	"zrevrangebyscore": true, "zrem": true, "zremrangebyrank": true, "pexpiretime": true, "pexpireat": true,
}

// commandStats sums INFO commandstats calls over the given nodes.
func commandStats(t *testing.T, nodes []*goredis.Client) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, n := range nodes {
		info, err := n.Info(context.Background(), "commandstats").Result()
		require.NoError(t, err)
		for _, line := range strings.Split(info, "\n") {
			name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok || !strings.HasPrefix(name, "cmdstat_") {
				continue
			}
			calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
			c, _ := strconv.ParseInt(calls, 10, 64)
			out[strings.TrimPrefix(name, "cmdstat_")] += c
		}
	}
	return out
}

// commandsDuring returns the commands the servers ran during f, by name,
// leaving out INFO (the measurement itself).
func commandsDuring(t *testing.T, nodes []*goredis.Client, f func()) map[string]int64 {
	t.Helper()
	before := commandStats(t, nodes)
	f()
	after := commandStats(t, nodes)
	diff := map[string]int64{}
	for name, n := range after {
		if d := n - before[name]; d != 0 && name != "info" {
			diff[name] = d
		}
	}
	return diff
}

// TestOneRoundTrip proves that each Store method costs exactly one
// command on the caller's path: INFO commandstats shows at most one
// EVALSHA (no EVAL, no command that is not run by the scripts
// themselves), and a hook on the client shows that one command was sent.
// Create is one SET NX and no script; Peek and Receipt one MGET. Where
// Reveal and Burn changed something, one DEL follows their script's
// answer, off the caller's path (dropping the outcome kept for a retry;
// see outcome.go): the count waits for it. On a Cluster, Create with an
// owner costs two (index script, then the pair's SET) and Recent one for
// the index plus one MGET per receipt, sent as one pipeline.
func TestOneRoundTrip(t *testing.T) {
	t.Run("Standalone", func(t *testing.T) {
		srv := redistest.Standalone(t)
		if srv.External() {
			t.Skip("needs a server of its own: other clients would show in its stats")
		}
		testRoundTrips(t, srv.Client(t), []*goredis.Client{srv.Client(t)}, false)
	})
	t.Run("Cluster", func(t *testing.T) {
		cl := redistest.Cluster(t)
		var nodes []*goredis.Client
		for _, a := range cl.Addrs {
			n := goredis.NewClient(&goredis.Options{Addr: a})
			t.Cleanup(func() { n.Close() })
			nodes = append(nodes, n)
		}
		testRoundTrips(t, cl.Client(t), nodes, true)
	})
}

func testRoundTrips(t *testing.T, c goredis.UniversalClient, nodes []*goredis.Client, cluster bool) {
	ctx := context.Background()
	st := newStore(t, c)
	now := t0.Add(time.Second)
	sent := &counter{}
	c.AddHook(sent)
	for _, sc := range allScripts {
		require.NoError(t, sc.Load(ctx, c).Err()) // on a Cluster: on every master
	}

	// Warm up: the first run of each script may be EVALSHA, NOSCRIPT, EVAL;
	// and goredis opens its connections (HELLO, CLIENT SETINFO ...).
	for range 2 {
		s, m := storetest.NewPair("warm", t0, time.Hour)
		require.NoError(t, st.Create(ctx, s, m))
		st.Receipt(ctx, m.ID, now)
		st.View(ctx, m.ID, now)
		st.Peek(ctx, s.ID, now)
		st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("x")}, now, nil)
		st.Burn(ctx, m.ID, now, nil)
		st.Recent(ctx, "warm", now, 10)
		s, m = storetest.NewPair("", t0, time.Hour)
		st.Create(ctx, s, m)
		st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
	}
	st.settle(false)

	// one runs f, which must succeed, and checks that the client sent
	// `commands` commands of which `scripts` were EVALSHA, and that the
	// server ran nothing else but what the scripts run.
	one := func(what string, commands, scripts int64, f func() error) {
		t.Helper()
		var err error
		n := sent.n()
		diff := commandsDuring(t, nodes, func() { err = f(); st.settle(false) })
		require.NoError(t, err, what)
		assert.Equal(t, int(commands), sent.n()-n, "%s: commands the client sent", what)
		assert.Equal(t, scripts, diff["evalsha"], "%s: EVALSHA the server ran", what)
		for name, k := range diff {
			// A new pooled connection says HELLO (and CLIENT SETINFO) once;
			// a cluster client refreshes its slot map now and then.
			if name != "evalsha" && !inScript[name] && name != "hello" && name != "client" && !(cluster && name == "cluster") {
				t.Errorf("%s: the server ran %s x %d besides the script", what, name, k)
			}
		}
	}

	s, m := storetest.NewPair("", t0, time.Hour)
	one("Create", 1, 0, func() error { return st.Create(ctx, s, m) })
	one("Peek", 1, 0, func() error { _, err := st.Peek(ctx, s.ID, now); return err })
	one("Receipt", 1, 0, func() error { _, err := st.Receipt(ctx, m.ID, now); return err })
	one("View", 1, 1, func() error { _, err := st.View(ctx, m.ID, now); return err })
	one("Reveal", 2, 1, func() error { _, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil); return err })
	one("Reveal (gone)", 1, 1, func() error {
		if _, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil); !errors.Is(err, onetime.ErrNotFound) {
			return err
		}
		return nil
	})
	one("Peek (gone)", 1, 0, func() error {
		if _, err := st.Peek(ctx, s.ID, now); !errors.Is(err, onetime.ErrNotFound) {
			return err
		}
		return nil
	})

	s, m = storetest.NewPair("", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	one("Burn", 2, 1, func() error { _, err := st.Burn(ctx, m.ID, now, nil); return err })
	one("Burn (gone)", 1, 1, func() error {
		if _, err := st.Burn(ctx, m.ID, now, nil); !errors.Is(err, onetime.ErrNotFound) {
			return err
		}
		return nil
	})

	s, m = storetest.NewPair("", t0, time.Hour)
	s.Check = []byte("right")
	require.NoError(t, st.Create(ctx, s, m))
	one("Reveal (wrong passphrase)", 2, 1, func() error {
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
		assert.ErrorIs(t, err, onetime.ErrWrongPassphrase)
		return nil
	})
	one("Sweep", 0, 0, func() error { _, err := st.Sweep(ctx, now); return err }) // native expiry: nothing to do

	owned := int64(1)
	if cluster {
		owned = 2
	}
	for i := range 3 {
		s, m = storetest.NewPair("alice", t0.Add(time.Duration(i)*time.Second), time.Hour)
		one("Create with an owner", owned, 1, func() error { return st.Create(ctx, s, m) })
	}
	recent := int64(1)
	if cluster {
		recent = 1 + 3
	}
	one("Recent", recent, 1, func() error {
		list, err := st.Recent(ctx, "alice", now.Add(3*time.Second), 10)
		if err == nil {
			assert.Len(t, list, 3, "Recent")
		}
		return err
	})
}

// TestCreateRetried: goredis re-sends a script whose reply it lost. A
// Create that was carried out and is sent again with the same records
// succeeds (it was the same call), while different records under a stored
// id are still a duplicate.
func TestCreateRetried(t *testing.T) {
	ctx := context.Background()
	for name, c := range map[string]goredis.UniversalClient{
		"standalone": redistest.Shared(t).Client(t),
		"cluster":    redistest.Cluster(t).Client(t),
	} {
		t.Run(name, func(t *testing.T) {
			st := newStore(t, c)
			s, m := storetest.NewPair("owner", t0, time.Hour)
			require.NoError(t, st.Create(ctx, s, m))
			require.NoError(t, st.Create(ctx, s, m), "the same Create again")
			s2 := *s
			s2.Sealed = append([]byte{}, s.Sealed...)
			s2.Sealed[0] ^= 1
			require.ErrorIs(t, st.Create(ctx, &s2, m), onetime.ErrExists, "other records under stored ids")
			list, err := st.Recent(ctx, "owner", t0, 10)
			require.NoError(t, err)
			require.Len(t, list, 1, "Recent after a repeated Create")
			got, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
			require.NoError(t, err, "Reveal after a repeated Create")
			require.Equal(t, s.Sealed, got.Sealed, "Reveal after a repeated Create")
		})
	}
}
