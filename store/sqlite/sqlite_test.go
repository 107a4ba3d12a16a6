package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/sqlite"
	"github.com/onetimego/onetime/store/storetest"
)

// open returns a Store on a fresh file in a temporary directory.
func open(t testing.TB, opts *sqlite.Options) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "onetime.db"), opts)
	require.NoError(t, err)
	return st
}

// plainDB opens path as a program that knows nothing of this package
// would: a plain path, no pragma in the DSN, the driver's defaults. The
// handle is closed when the test ends.
func plainDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// newPlain returns a Store made by New on a plainly opened *sql.DB on a
// fresh file.
func newPlain(t testing.TB, opts *sqlite.Options) *sqlite.Store {
	t.Helper()
	db := plainDB(t, filepath.Join(t.TempDir(), "onetime.db"))
	st, err := sqlite.New(context.Background(), db, opts)
	require.NoError(t, err)
	return st
}

// makers are the ways of making a Store that every guarantee must hold
// for: Open, and New on a handle opened without any pragma.
func makers() map[string]func(testing.TB, *sqlite.Options) *sqlite.Store {
	return map[string]func(testing.TB, *sqlite.Options) *sqlite.Store{"Open": open, "NewPlainDSN": newPlain}
}

func TestConformance(t *testing.T) {
	for name, mk := range makers() {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) onetime.Store { return mk(t, nil) })
		})
	}
}

// Without group commit every operation is a transaction of its own; the
// store must be just as correct.
func TestConformanceNoBatching(t *testing.T) {
	for name, mk := range makers() {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) onetime.Store {
				st := mk(t, &sqlite.Options{MaxBatch: 1})
				t.Cleanup(func() {
					batches, ops := st.BatchStats()
					require.Equal(t, batches, ops, "MaxBatch 1: operations and transactions")
				})
				return st
			})
		})
	}
}

// An in-memory database on one connection: reads go through the writer.
func TestConformanceNewInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) onetime.Store {
		db := plainDB(t, ":memory:")
		db.SetMaxOpenConns(1)
		st, err := sqlite.New(context.Background(), db, nil)
		require.NoError(t, err)
		require.True(t, st.ReadsThroughWriter())
		return st
	})
}
