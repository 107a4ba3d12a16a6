package redistest_test

import (
	"context"
	"strings"
	"testing"

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
