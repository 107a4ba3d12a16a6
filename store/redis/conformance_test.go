package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/redis"
	"github.com/onetimego/onetime/store/storetest"
)

// newStore returns a Store on client under a prefix unique to t.
func newStore(t testing.TB, client goredis.UniversalClient) *redis.Store {
	t.Helper()
	s, err := redis.New(client, &redis.Options{Prefix: redistest.Prefix(t)})
	require.NoError(t, err)
	return s
}

func TestConformanceStandalone(t *testing.T) {
	c := redistest.Standalone(t).Client(t)
	storetest.Run(t, func(t *testing.T) onetime.Store { return newStore(t, c) })
}

func TestConformanceCluster(t *testing.T) {
	c := redistest.Cluster(t).Client(t)
	storetest.Run(t, func(t *testing.T) onetime.Store { return newStore(t, c) })
}

// TestConformanceModes runs the suite in the Store's other ways of
// sending commands: through the client's auto-pipeliner when other
// commands are in flight (Options.Pipeline), and every command through
// it, on one server and on the Cluster (the default sends each command on
// its own round trip). Batching commands must change nothing that a caller can
// see.
func TestConformanceModes(t *testing.T) {
	standalone, cluster := redistest.Standalone(t).Client(t), redistest.Cluster(t).Client(t)
	for _, tc := range []struct {
		name     string
		client   goredis.UniversalClient
		adaptive bool
	}{
		{"adaptive/standalone", standalone, true},
		{"adaptive/cluster", cluster, true},
		{"pipelined/standalone", standalone, false},
		{"pipelined/cluster", cluster, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) onetime.Store {
				s, err := redis.New(tc.client, &redis.Options{Prefix: redistest.Prefix(t), Pipeline: true})
				require.NoError(t, err)
				if !tc.adaptive {
					redis.PipelineAll(s)
				}
				return s
			})
		})
	}
}

// TestCloseSharedClient: Stores share their client's pipeliner (go-redis
// keeps one per client); closing one Store leaves the others working.
func TestCloseSharedClient(t *testing.T) {
	ctx := context.Background()
	c := redistest.Shared(t).Client(t)
	o := &redis.Options{Prefix: redistest.Prefix(t), Pipeline: true}
	a, err := redis.New(c, o)
	require.NoError(t, err)
	b, err := redis.New(c, o)
	require.NoError(t, err)
	redis.PipelineAll(a)
	redis.PipelineAll(b)
	s, m := storetest.NewPair("", time.Now(), time.Hour)
	require.NoError(t, a.Create(ctx, s, m))
	require.NoError(t, a.Close())
	got, err := b.Reveal(ctx, s.ID, onetime.Credentials{}, time.Now(), nil)
	require.NoError(t, err, "Reveal after the other Store's Close")
	assert.Equal(t, s.Sealed, got.Sealed)
	s, m = storetest.NewPair("", time.Now(), time.Hour)
	require.NoError(t, b.Create(ctx, s, m), "Create after the other Store's Close")
	require.NoError(t, b.Close())
}
