package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/sqlite"
	"github.com/onetimego/onetime/store/storetest"
)

// BenchmarkStore runs the benchmarks that every store runs, each on a
// fresh file opened with the default options.
func BenchmarkStore(b *testing.B) {
	storetest.RunBenchmarks(b, func(b *testing.B) onetime.Store { return open(b, nil) })
}

// BenchmarkStoredBytes shares b.N 100-byte secrets through the Service and
// reports the growth of the database file per secret (the secret, its
// receipt and their index entries), after a checkpoint has moved the log
// into the file. Run it with a fixed count, e.g. -benchtime=20000x.
func BenchmarkStoredBytes(b *testing.B) {
	path := filepath.Join(b.TempDir(), "onetime.db")
	st := open2(b, path)
	svc, err := onetime.New(st, bytes.Repeat([]byte("k"), 32), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	empty := checkpoint(b, path)
	value := bytes.Repeat([]byte("v"), 100)
	for b.Loop() {
		if _, err := svc.Share(context.Background(), onetime.ShareRequest{Value: value}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(checkpoint(b, path)-empty)/float64(b.N), "bytes/secret")
}

// checkpoint moves the write-ahead log into the database file and returns
// the size of the database and its log.
func checkpoint(b *testing.B, path string) int64 {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
		}
	}
	return total
}

// BenchmarkGroupCommit makes Create+Reveal pairs from storetest.Callers
// goroutines, as BenchmarkStore/Pair/parallel does, and reports how many
// operations each commit carried: with the default MaxBatch, with
// maxbatch=1 (group commit off: a transaction per operation), and at
// SyncFull (an fsync per commit, shared by the operations in it).
func BenchmarkGroupCommit(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts sqlite.Options
	}{
		{"maxbatch=default", sqlite.Options{}},
		{"maxbatch=1", sqlite.Options{MaxBatch: 1}},
		{"sync=full", sqlite.Options{Synchronous: sqlite.SyncFull}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			st := open(b, &bc.opts)
			b.Cleanup(func() { st.Close() })
			ctx := context.Background()
			batches0, ops0 := st.BatchStats()
			storetest.Parallel(b, func() error {
				s, m := storetest.NewPair("", t0, time.Hour)
				if err := st.Create(ctx, s, m); err != nil {
					return err
				}
				_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
				return err
			})
			batches, ops := st.BatchStats()
			b.ReportMetric(float64(ops-ops0)/float64(batches-batches0), "ops/commit")
		})
	}
}

// BenchmarkReadConns reads receipts from storetest.Callers goroutines
// while nothing writes, with one read connection and with the default
// pool (Options.MaxReadConns).
func BenchmarkReadConns(b *testing.B) {
	for _, conns := range []int{1, 0} {
		name := "readconns=default"
		if conns > 0 {
			name = fmt.Sprintf("readconns=%d", conns)
		}
		b.Run(name, func(b *testing.B) {
			st := open(b, &sqlite.Options{MaxReadConns: conns})
			b.Cleanup(func() { st.Close() })
			ctx := context.Background()
			ids := make([]onetime.ID, 1000)
			for i := range ids {
				_, m := mustCreate(b, st, "")
				ids[i] = m.ID
			}
			var next atomic.Int64
			storetest.Parallel(b, func() error {
				_, err := st.Receipt(ctx, ids[next.Add(1)%int64(len(ids))], t0)
				return err
			})
		})
	}
}
