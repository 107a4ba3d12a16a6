package redis_test

import (
	"testing"

	"github.com/onetimego/onetime/internal/redistest"
)

// TestMain starts the shared Redis Cluster once for the whole binary.
func TestMain(m *testing.M) { redistest.Main(m) }
