package postgres_test

import (
	"testing"

	"github.com/onetimego/onetime/internal/pgtest"
)

// TestMain starts one PostgreSQL server for the whole test binary and
// stops it at the end; tests isolate themselves in schemas of their own.
func TestMain(m *testing.M) { pgtest.Main(m) }
