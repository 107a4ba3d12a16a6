package redis_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime/internal/redistest"
)

// TestMain starts the shared Redis Cluster (and benchmark server) once for
// the whole binary, and stops them at the end.
func TestMain(m *testing.M) {
	flag.Parse()
	if redistest.Available() != nil && os.Getenv("CI") != "true" &&
		os.Getenv(redistest.EnvAddr) == "" && os.Getenv(redistest.EnvCluster) == "" {
		// Examples cannot skip: without redis-server, run only the tests,
		// which skip with a message (and fail under CI=true).
		fmt.Fprintln(os.Stderr, "store/redis: redis-server not on PATH: examples not run, tests skipped")
		flag.Set("test.skip", "^Example")
	}
	if !testing.Verbose() {
		// The fault tests make goredis log every failed dial; the tests
		// check those errors themselves.
		goredis.SetLogger(quiet{})
	}
	redistest.Main(m)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
