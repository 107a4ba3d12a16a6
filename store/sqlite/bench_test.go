package sqlite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/sqlite"
)

var value100 = bytes.Repeat([]byte("v"), 100)

// service returns a Service over st with no sweeper, as the benchmarks
// measure the request path only.
func service(b testing.TB, st onetime.Store) *onetime.Service {
	svc, err := onetime.New(st, bytes.Repeat([]byte("k"), 32), nil) // no sweeper: SweepInterval 0
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	return svc
}

func benchStore(b *testing.B) (*sqlite.Store, *onetime.Service) {
	st := open(b, nil)
	b.Cleanup(func() { st.Close() })
	return st, service(b, st)
}

func share(b testing.TB, svc *onetime.Service) *onetime.Metadata {
	r, err := svc.Share(context.Background(), onetime.ShareRequest{Value: value100})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func reveal(b testing.TB, svc *onetime.Service, key onetime.SecretKey) {
	if _, err := svc.Reveal(context.Background(), key, ""); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkShare(b *testing.B) {
	_, svc := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		share(b, svc)
	}
}

func BenchmarkShareParallel(b *testing.B) {
	_, svc := benchStore(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			share(b, svc)
		}
	})
}

// keys shares n secrets outside the timer and returns their keys.
func keys(b *testing.B, svc *onetime.Service, n int) []onetime.SecretKey {
	b.StopTimer()
	defer b.StartTimer()
	out := make([]onetime.SecretKey, n)
	for i := range out {
		out[i] = share(b, svc).SecretKey
	}
	return out
}

func BenchmarkReveal(b *testing.B) {
	_, svc := benchStore(b)
	ks := keys(b, svc, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		reveal(b, svc, ks[i])
	}
}

func BenchmarkRevealParallel(b *testing.B) {
	_, svc := benchStore(b)
	ks := keys(b, svc, b.N)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reveal(b, svc, ks[next.Add(1)-1])
		}
	})
}

// reportPairs reports pairs per second and CPU per pair since cpu0.
func reportPairs(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/pair")
}

// BenchmarkPair is one Share followed by the Reveal of the secret: the
// life of a one-time secret.
func BenchmarkPair(b *testing.B) {
	_, svc := benchStore(b)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		reveal(b, svc, share(b, svc).SecretKey)
	}
	reportPairs(b, cpu0)
}

func BenchmarkPairParallel(b *testing.B) {
	_, svc := benchStore(b)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reveal(b, svc, share(b, svc).SecretKey)
		}
	})
	reportPairs(b, cpu0)
}

// synthetic returns a pair shaped like the service's for a 100-byte value,
// with random ids, for filling a store without the service's cost.
func synthetic(now time.Time, owner string) (*onetime.SealedSecret, *onetime.SealedMetadata) {
	var b [64]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	sid, mid := onetime.ID(h[:40]), onetime.ID(h[:8]+h[40:72])
	sealed := make([]byte, 128+85) // 100 bytes + nonce + tag; the receipt's payload sealed
	rand.Read(sealed)
	s := &onetime.SealedSecret{ID: sid, MetadataID: mid, Sealed: sealed[:128], MaxAttempts: 10,
		ExpiresAt: now.Add(7 * 24 * time.Hour)}
	m := &onetime.SealedMetadata{ID: mid, SecretID: sid, Owner: owner, State: onetime.StateNew,
		Created: now, Updated: now, SecretExpiresAt: s.ExpiresAt, ExpiresAt: now.Add(14 * 24 * time.Hour),
		Sealed: sealed[128:]}
	return s, m
}

// BenchmarkPairParallelHighConcurrency is BenchmarkPairParallel with 8
// goroutines per CPU, closer to a server with many clients at once: more
// operations share each commit. maxbatch=1 turns group commit off.
func BenchmarkPairParallelHighConcurrency(b *testing.B) {
	for _, maxBatch := range []int{0, 1} {
		name := "maxbatch=default"
		if maxBatch > 0 {
			name = fmt.Sprintf("maxbatch=%d", maxBatch)
		}
		b.Run(name, func(b *testing.B) { pairsManyCallers(b, &sqlite.Options{MaxBatch: maxBatch}) })
	}
}

// pairsManyCallers makes Share+Reveal pairs from 8 goroutines per CPU on
// a store opened with opts, reporting pairs/s, CPU per pair and how many
// operations each commit carried.
func pairsManyCallers(b *testing.B, opts *sqlite.Options) {
	st := open(b, opts)
	b.Cleanup(func() { st.Close() })
	svc := service(b, st)
	b.SetParallelism(8)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reveal(b, svc, share(b, svc).SecretKey)
		}
	})
	reportPairs(b, cpu0)
	batches, ops := st.BatchStats()
	b.ReportMetric(float64(ops)/float64(batches), "ops/commit")
}

// fill stores n synthetic pairs (one in ten owned, by 1,000 owners) from
// 128 goroutines, so that group commit packs them into large transactions.
func fill(b *testing.B, st *sqlite.Store, n int) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 128 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				owner := ""
				if i%10 == 0 {
					owner = fmt.Sprintf("customer-%d", i%1000)
				}
				s, m := synthetic(now, owner)
				if err := st.Create(context.Background(), s, m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// fileSize is the size of the database and its write-ahead log.
func fileSize(path string) int64 {
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
		}
	}
	return total
}

// BenchmarkScale measures pair throughput with 1,000 and with 1,000,000
// secrets already stored: the cost of a pair must not grow with the number
// stored. The 1,000,000 case takes minutes to fill and runs only with
// ONETIME_BENCH_1M=1 (ONETIME_BENCH_SCALE=n runs n alone).
func BenchmarkScale(b *testing.B) {
	sizes := []int{1_000, 1_000_000}
	if v := os.Getenv("ONETIME_BENCH_SCALE"); v != "" {
		var n int
		fmt.Sscan(v, &n)
		sizes = []int{n}
	}
	for _, n := range sizes {
		name := fmt.Sprintf("stored=%d", n)
		if n == 1_000_000 && os.Getenv("ONETIME_BENCH_1M") == "" {
			b.Run(name, func(b *testing.B) {
				b.Skip("set ONETIME_BENCH_1M=1 to fill a store with 1,000,000 secrets")
			})
			continue
		}
		// Fill once, without syncing; the sub-benchmark, which the
		// testing package runs more than once, reopens the file at the
		// default durability. ONETIME_BENCH_DIR keeps the large filled
		// files for later runs (each run adds the receipts of its pairs).
		path := filepath.Join(b.TempDir(), "onetime.db")
		if dir := os.Getenv("ONETIME_BENCH_DIR"); dir != "" && n >= 100_000 {
			path = filepath.Join(dir, fmt.Sprintf("onetime-scale-%d.db", n))
		}
		if _, err := os.Stat(path); err != nil {
			st, err := sqlite.Open(context.Background(), path, &sqlite.Options{Synchronous: sqlite.SyncOff})
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			fill(b, st, n)
			b.Logf("%d secrets stored in %v", n, time.Since(start).Round(time.Millisecond))
			st.Close()
		}
		size := checkpoint(b, path)
		b.Logf("%d bytes on disk, %.0f per secret", size, float64(size)/float64(n))

		b.Run(name, func(b *testing.B) {
			st := open2(b, path)
			svc := service(b, st)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					reveal(b, svc, share(b, svc).SecretKey)
				}
			})
			reportPairs(b, cpu0)
			b.ReportMetric(float64(size)/float64(n), "file-bytes/secret")
		})
	}
}

// checkpoint moves the write-ahead log into the database file and returns
// the size of the files.
func checkpoint(b *testing.B, path string) int64 {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	return fileSize(path)
}

// BenchmarkDiskBytes shares b.N 100-byte secrets through the service and
// reports the growth of the file per secret (secret, receipt and index
// entries), after a checkpoint. Run it with a fixed count, e.g.
// -benchtime=20000x.
func BenchmarkDiskBytes(b *testing.B) {
	path := filepath.Join(b.TempDir(), "onetime.db")
	st := open2(b, path)
	svc := service(b, st)
	empty := checkpoint(b, path)
	for b.Loop() {
		share(b, svc)
	}
	b.StopTimer()
	b.ReportMetric(float64(checkpoint(b, path)-empty)/float64(b.N), "bytes/secret")
}

// BenchmarkPairParallelSyncFull is BenchmarkPairParallelHighConcurrency
// at SyncFull: an fsync per commit, shared by the operations in it.
func BenchmarkPairParallelSyncFull(b *testing.B) {
	pairsManyCallers(b, &sqlite.Options{Synchronous: sqlite.SyncFull})
}

// BenchmarkReceiptParallel reads receipts straight from the store, with
// one read connection and with the default pool, while nothing writes.
func BenchmarkReceiptParallel(b *testing.B) {
	for _, conns := range []int{1, 0} {
		name := "readconns=default"
		if conns > 0 {
			name = fmt.Sprintf("readconns=%d", conns)
		}
		b.Run(name, func(b *testing.B) {
			st := open(b, &sqlite.Options{MaxReadConns: conns})
			b.Cleanup(func() { st.Close() })
			now := time.Now().UTC().Truncate(time.Microsecond)
			ids := make([]onetime.ID, 1000)
			for i := range ids {
				s, m := synthetic(now, "")
				if err := st.Create(context.Background(), s, m); err != nil {
					b.Fatal(err)
				}
				ids[i] = m.ID
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := st.Receipt(context.Background(), ids[next.Add(1)%1000], now); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
