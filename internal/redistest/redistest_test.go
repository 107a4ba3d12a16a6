package redistest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func TestStandalone(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Standalone(t, "--appendonly", "yes")
	if srv.External() {
		t.Skip("external server")
	}
	if strings.HasSuffix(srv.Addr, ":6379") || !strings.HasPrefix(srv.Addr, "127.0.0.1:") {
		t.Fatalf("Addr = %s, want a free loopback port", srv.Addr)
	}
	c := srv.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Restart(t) // appendonly: the data survives a kill
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after Restart: %q, %v", v, err)
	}
	srv.Stop()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING answered after Stop")
	}
}

// TestPause: a paused server takes a command but answers only once
// resumed, and then runs it.
func TestPause(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Standalone(t)
	if srv.External() {
		t.Skip("external server")
	}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, ReadTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.Ping(ctx).Err())

	srv.Pause(t)
	start := time.Now()
	err := c.Set(ctx, "k", "v", 0).Err()
	require.Error(t, err, "SET answered by a paused server")
	assert.Less(t, time.Since(start), 2*time.Second, "the client's read timeout did not end the wait")
	srv.Resume(t)
	// The SET that the paused server received runs once it is resumed.
	require.Eventually(t, func() bool {
		v, err := c.Get(ctx, "k").Result()
		return err == nil && v == "v"
	}, 5*time.Second, 20*time.Millisecond, "the SET sent while paused did not run after Resume")
}

func TestCluster(t *testing.T) {
	ctx := context.Background()
	cl := redistest.Cluster(t)
	if again := redistest.Cluster(t); again != cl && len(cl.Nodes()) > 0 {
		t.Error("the cluster is not shared within the test binary")
	}
	c := cl.Client(t)
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_size:3") {
		t.Fatalf("CLUSTER INFO: %v\n%s", err, info)
	}
	p := redistest.Prefix(t)
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} { // spread over the masters
		if err := c.Set(ctx, p+k, k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPrefix(t *testing.T) {
	a, b := redistest.Prefix(t), redistest.Prefix(t)
	if a == b || strings.ContainsAny(a, "{}") {
		t.Errorf("Prefix gave %q and %q", a, b)
	}
}
