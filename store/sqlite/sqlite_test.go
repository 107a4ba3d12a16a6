package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/sqlite"
	"github.com/onetimego/onetime/store/storetest"
)

// open returns a Store on a fresh file in a temporary directory.
func open(t testing.TB, opts *sqlite.Options) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "onetime.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) onetime.Store { return open(t, nil) })
}

// Without group commit every operation is a transaction of its own; the
// store must be just as correct.
func TestConformanceNoBatching(t *testing.T) {
	storetest.Run(t, func(t *testing.T) onetime.Store {
		st := open(t, &sqlite.Options{MaxBatch: 1})
		t.Cleanup(func() {
			if batches, ops := st.BatchStats(); batches != ops {
				t.Errorf("MaxBatch 1: %d operations in %d transactions", ops, batches)
			}
		})
		return st
	})
}
