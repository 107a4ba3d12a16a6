package redis_test

import (
	"context"
	"fmt"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/redis"
)

// ownServer starts a redis-server of the test's own with the given
// persistence arguments; a server named by ONETIME_REDIS_ADDR cannot be
// configured, so the test is skipped then.
func ownServer(t *testing.T, args ...string) *redistest.Server {
	t.Helper()
	srv := redistest.Standalone(t, args...)
	if srv.External() {
		t.Skip("needs a redis-server of its own, with chosen persistence")
	}
	return srv
}

func TestPersistenceDetect(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		args    []string
		want    redis.ServerPersistence // Addr filled in below
		replays bool
	}{
		{"none", nil, redis.ServerPersistence{AppendFsync: "everysec"}, false},
		{"rdb only", []string{"--save", "900 1"},
			redis.ServerPersistence{AppendFsync: "everysec", SavePoints: "900 1"}, true},
		{"redis 7 default save points", []string{"--save", "3600 1 300 100 60 10000"},
			redis.ServerPersistence{AppendFsync: "everysec", SavePoints: "3600 1 300 100 60 10000"}, true},
		{"aof everysec", []string{"--appendonly", "yes", "--appendfsync", "everysec"},
			redis.ServerPersistence{AOF: true, AppendFsync: "everysec"}, false},
		{"aof always", []string{"--appendonly", "yes", "--appendfsync", "always"},
			redis.ServerPersistence{AOF: true, AppendFsync: "always"}, false},
		{"aof and rdb", []string{"--appendonly", "yes", "--appendfsync", "always", "--save", "900 1"},
			redis.ServerPersistence{AOF: true, AppendFsync: "always", SavePoints: "900 1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ownServer(t, tc.args...)
			p, err := redis.CheckPersistence(ctx, srv.Client(t))
			require.NoError(t, err)
			want := tc.want
			want.Addr = srv.Addr
			require.Equal(t, []redis.ServerPersistence{want}, p.Servers)
			assert.Equal(t, tc.replays, p.ReplaysReveals())
			if !tc.replays {
				assert.NoError(t, p.Risk())
				return
			}
			err = p.Risk()
			require.ErrorIs(t, err, redis.ErrReplaysReveals)
			for _, s := range []string{srv.Addr, "save " + tc.want.SavePoints, "appendonly yes", `save ""`} {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

// A server without save points still replays reveals once a snapshot is
// on disk (a manual SAVE, an old configuration): it loads dump.rdb when it
// starts.
func TestPersistenceSnapshotOnDisk(t *testing.T) {
	ctx := context.Background()
	srv := ownServer(t)
	c := srv.Client(t)
	p, err := redis.CheckPersistence(ctx, c)
	require.NoError(t, err)
	require.False(t, p.ReplaysReveals())

	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	require.NoError(t, c.Save(ctx).Err())
	p, err = redis.CheckPersistence(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, int64(1), p.Servers[0].SnapshotsTaken)
	assert.True(t, p.ReplaysReveals())
	require.ErrorIs(t, p.Risk(), redis.ErrReplaysReveals)

	// After a crash it loads the snapshot and says so.
	srv.Restart(t)
	p, err = redis.CheckPersistence(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, int64(0), p.Servers[0].SnapshotsTaken)
	assert.Equal(t, int64(1), p.Servers[0].KeysLoaded)
	assert.True(t, p.ReplaysReveals())
}

// Where CONFIG is refused (an ACL without it, a managed Redis), INFO still
// tells whether AOF is on; the save points are unknown, so a server
// without AOF is assumed to take snapshots.
func TestPersistenceConfigRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		args    []string
		replays bool
	}{
		{"no aof", nil, true},
		{"aof", []string{"--appendonly", "yes"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ownServer(t, tc.args...)
			admin := srv.Client(t)
			require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", "app", "on", ">app-password", "~*", "&*", "+@all", "-config").Err())
			c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, Username: "app", Password: "app-password"})
			t.Cleanup(func() { c.Close() })
			require.Error(t, c.ConfigGet(ctx, "save").Err(), "the ACL should refuse CONFIG")

			p, err := redis.CheckPersistence(ctx, c)
			require.NoError(t, err)
			require.Len(t, p.Servers, 1)
			s := p.Servers[0]
			assert.True(t, s.ConfigRefused)
			assert.Empty(t, s.AppendFsync)
			assert.Empty(t, s.SavePoints)
			assert.Equal(t, !tc.replays, s.AOF)
			assert.Equal(t, tc.replays, p.ReplaysReveals())
			if tc.replays {
				require.ErrorIs(t, p.Risk(), redis.ErrReplaysReveals)
				assert.Contains(t, p.Risk().Error(), "CONFIG refused")
			} else {
				assert.NoError(t, p.Risk())
			}
		})
	}
}

func TestPersistenceUnreachable(t *testing.T) {
	srv := ownServer(t)
	c := srv.Client(t)
	srv.Stop()
	c.Options().MaxRetries = -1
	_, err := redis.CheckPersistence(context.Background(), c)
	require.Error(t, err)
	assert.NotErrorIs(t, err, redis.ErrReplaysReveals)

	_, err = redis.CheckPersistence(context.Background(), nil)
	require.Error(t, err)
}

// Every master of a Cluster is checked: one master taking snapshots makes
// the deployment replay reveals, and the error names it.
func TestPersistenceCluster(t *testing.T) {
	ctx := context.Background()
	cl := redistest.Cluster(t)
	c := cl.Client(t)
	p, err := redis.CheckPersistence(ctx, c)
	require.NoError(t, err)
	require.Len(t, p.Servers, len(cl.Addrs))
	var addrs []string
	for _, s := range p.Servers {
		addrs = append(addrs, s.Addr)
	}
	assert.ElementsMatch(t, cl.Addrs, addrs)
	if len(cl.Nodes()) == 0 {
		return // an external cluster: leave its configuration alone
	}
	require.False(t, p.ReplaysReveals(), "the test cluster runs without persistence")

	// One master takes snapshots (set back when the test ends).
	node := goredis.NewClient(&goredis.Options{Addr: cl.Addrs[1]})
	defer node.Close()
	before, err := node.ConfigGet(ctx, "save").Result()
	require.NoError(t, err)
	require.NoError(t, node.ConfigSet(ctx, "save", "900 1").Err())
	t.Cleanup(func() { node.ConfigSet(context.Background(), "save", before["save"]) })

	p, err = redis.CheckPersistence(ctx, c)
	require.NoError(t, err)
	require.True(t, p.ReplaysReveals())
	err = p.Risk()
	require.ErrorIs(t, err, redis.ErrReplaysReveals)
	assert.Contains(t, err.Error(), cl.Addrs[1]+": rdb snapshots (save 900 1), no aof")
	for _, other := range []string{cl.Addrs[0], cl.Addrs[2]} {
		assert.NotContains(t, err.Error(), other)
	}
}

// A Sentinel failover client is checked on its current primary.
func TestPersistenceSentinel(t *testing.T) {
	ctx := context.Background()
	primary := ownServer(t, "--save", "900 1")
	sentinel := redistest.Sentinel(t, "persist", primary)
	c := goredis.NewFailoverClient(&goredis.FailoverOptions{MasterName: "persist", SentinelAddrs: []string{sentinel.Addr}})
	t.Cleanup(func() { c.Close() })
	p, err := redis.CheckPersistence(ctx, c)
	require.NoError(t, err)
	require.Len(t, p.Servers, 1)
	assert.Equal(t, "900 1", p.Servers[0].SavePoints)
	assert.Empty(t, p.Servers[0].Addr, "go-redis does not say which server a failover client reaches")
	require.ErrorIs(t, p.Risk(), redis.ErrReplaysReveals)
	assert.Contains(t, p.Risk().Error(), "the server: rdb snapshots (save 900 1), no aof")
}

// TestReplayAfterCrash is why Risk exists. Secrets are shared through a
// Service on Redis, Redis writes its state to disk as its setup does, all
// the secrets are revealed, Redis is killed (SIGKILL) and started again on
// the same directory. On a Redis with RDB snapshots and no AOF (Redis 7's
// default and Debian's) every revealed secret reveals a SECOND time. With
// AOF none does; without persistence none does either, but unread secrets
// are lost.
func TestReplayAfterCrash(t *testing.T) {
	const revealed, unread = 500, 20
	for _, tc := range []struct {
		name string
		args []string
		// after the crash
		wantReplayed, wantUnreadKept int
	}{
		{"rdb only", []string{"--save", "900 1"}, revealed, unread},
		{"aof always", []string{"--appendonly", "yes", "--appendfsync", "always"}, 0, unread},
		{"no persistence", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			srv := ownServer(t, tc.args...)
			c := srv.Client(t)
			st, err := redis.New(c, nil)
			require.NoError(t, err)
			svc, err := onetime.New(st, []byte("0123456789abcdef0123456789abcdef"), nil)
			require.NoError(t, err)
			t.Cleanup(func() { svc.Close(); st.Close() })

			share := func(n int, tag string) []onetime.SecretKey {
				keys := make([]onetime.SecretKey, n)
				for i := range keys {
					m, err := svc.Share(ctx, onetime.ShareRequest{Value: fmt.Appendf(nil, "%s %d", tag, i)})
					require.NoError(t, err)
					keys[i] = m.SecretKey
				}
				return keys
			}
			reveal := func(keys []onetime.SecretKey, tag string) (n int) {
				for i, k := range keys {
					s, err := svc.Reveal(ctx, k, "")
					if err == nil {
						require.Equal(t, fmt.Sprintf("%s %d", tag, i), string(s.Value))
						n++
						continue
					}
					require.ErrorIs(t, err, onetime.ErrNotFound)
				}
				return n
			}

			keys := share(revealed, "revealed")
			kept := share(unread, "unread")
			p, err := redis.CheckPersistence(ctx, c)
			require.NoError(t, err)
			if p.ReplaysReveals() {
				// What a scheduled snapshot does, without waiting for it.
				require.NoError(t, c.Save(ctx).Err())
			}
			require.Equal(t, revealed, reveal(keys, "revealed"))
			require.Zero(t, reveal(keys, "revealed"), "revealed twice before the crash")

			srv.Restart(t) // SIGKILL, then start on the same directory
			require.NoError(t, svc.Ping(ctx))

			assert.Equal(t, tc.wantReplayed, reveal(keys, "revealed"), "secrets revealed again after the crash")
			assert.Equal(t, tc.wantUnreadKept, reveal(kept, "unread"), "unread secrets that survived the crash")
			assert.Equal(t, tc.wantReplayed > 0, p.ReplaysReveals(), "CheckPersistence before the crash")
		})
	}
}
