package redis_test

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"
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

// TestConformanceAutoPipeline runs the suite with Options.AutoPipeline, on
// one server and on the Cluster: batching commands must change nothing
// that a caller can see.
func TestConformanceAutoPipeline(t *testing.T) {
	for name, c := range map[string]goredis.UniversalClient{
		"standalone": redistest.Standalone(t).Client(t),
		"cluster":    redistest.Cluster(t).Client(t),
	} {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) onetime.Store {
				s, err := redis.New(c, &redis.Options{Prefix: redistest.Prefix(t), AutoPipeline: true})
				require.NoError(t, err)
				return s
			})
		})
	}
}
