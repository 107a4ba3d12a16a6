package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/pgtest"
	"github.com/onetimego/onetime/store/postgres"
	"github.com/onetimego/onetime/store/storetest"
)

// newStore returns a store in a fresh schema of the shared server, on a
// pool of its own that is closed when t ends.
func newStore(t *testing.T, opts *postgres.Options) (*postgres.Store, *pgtest.Server) {
	t.Helper()
	srv := pgtest.Shared(t)
	o := postgres.Options{}
	if opts != nil {
		o = *opts
	}
	if o.Schema == "" {
		o.Schema = srv.Schema(t)
	}
	st, err := postgres.New(context.Background(), srv.Pool(t, "postgres", nil), &o)
	require.NoError(t, err)
	return st, srv
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) onetime.Store {
		st, _ := newStore(t, nil)
		return st
	})
}

// The conformance suite with named prepared statements.
func TestConformanceStatementCache(t *testing.T) {
	if testing.Short() {
		t.Skip("the default mode runs in TestConformance")
	}
	storetest.Run(t, func(t *testing.T) onetime.Store {
		st, _ := newStore(t, &postgres.Options{StatementCache: true})
		return st
	})
}
