package memory_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/proc"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/store/storetest"
)

// BenchmarkStore runs the benchmarks that every store runs.
func BenchmarkStore(b *testing.B) {
	storetest.RunBenchmarks(b, func(*testing.B) onetime.Store { return memory.New() })
}

// BenchmarkStoredBytes measures what stored secrets cost the Go heap, with
// 1,000 pairs stored (and 1,000,000, about 1 GiB of heap, with
// ONETIME_BENCH_1M=1): bytes/secret is the growth of the live heap per
// pair (a secret of 100 bytes sealed and its receipt), gc-cpu-ms/cycle the
// CPU time of one full collection of that heap, which a busy program pays
// once per GOGC% of its live heap that it allocates.
//
// Its sub-benchmarks then make Share+Reveal pairs through a Service on all
// cores ("service"), and again allocating 16 KiB per pair as a server does
// per request ("service+garbage=16KiB"): collections then happen during
// the run, about once per live heap allocated, and their cost shows in
// cpu-ns/op (the process's CPU time per pair; on a shared machine, compare
// it rather than ns/op). gc-ns/op is the runtime's estimate of the
// collector's part. The pairs expire quickly on a simulated clock and are
// reclaimed by later Creates, so that the store keeps its size;
// expired/op counts the few that expire before their Reveal while their
// goroutine waits for a core.
//
//	ONETIME_BENCH_1M=1 go test -run '^$' -bench StoredBytes -count 5 ./store/memory/
func BenchmarkStoredBytes(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		name := fmt.Sprintf("stored=%d", n)
		if n >= 1_000_000 && os.Getenv("ONETIME_BENCH_1M") == "" {
			b.Run(name, func(b *testing.B) {
				b.Skip("set ONETIME_BENCH_1M=1 to fill a store with 1,000,000 pairs")
			})
			continue
		}
		storedBytes(b, name, n)
	}
}

func storedBytes(b *testing.B, name string, n int) {
	ctx := context.Background()
	heap0 := liveHeap()
	st := memory.New()
	defer st.Close()
	start := time.Now()
	for range n {
		s, m := storetest.NewPair("", t0, 7*24*time.Hour)
		if err := st.Create(ctx, s, m); err != nil {
			b.Fatal(err)
		}
	}
	perSecret := float64(liveHeap()-heap0) / float64(n)
	gcCycle := gcCPU()
	b.Logf("%d pairs stored in %v, %.0f heap bytes each; a collection takes %v of CPU",
		n, time.Since(start).Round(time.Millisecond), perSecret, gcCycle)

	var clock atomic.Int64 // microseconds after t0
	now := func() time.Time { return t0.Add(time.Duration(clock.Load()) * time.Microsecond) }
	svc, err := onetime.New(st, bytes.Repeat([]byte{7}, 32), &onetime.Options{Now: now, MinTTL: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	value := bytes.Repeat([]byte("v"), 100)
	for _, garbage := range []int{0, 16 << 10} {
		sub := name + "/service"
		if garbage > 0 {
			sub += fmt.Sprintf("+garbage=%dKiB", garbage>>10)
		}
		b.Run(sub, func(b *testing.B) {
			var lost atomic.Int64
			b.ReportAllocs()
			measure(b, func() {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						// 10 ms per pair, 1 s secrets: about 200 receipts alive.
						clock.Add(10_000)
						r, err := svc.Share(ctx, onetime.ShareRequest{Value: value, TTL: time.Second})
						if err != nil {
							b.Fatal(err)
						}
						if _, err := svc.Reveal(ctx, r.SecretKey, ""); errors.Is(err, onetime.ErrNotFound) {
							lost.Add(1)
						} else if err != nil {
							b.Fatal(err)
						}
						if garbage > 0 {
							g := make([]byte, garbage)
							garbageSink.Store(&g)
						}
					}
				})
			})
			b.ReportMetric(perSecret, "bytes/secret")
			b.ReportMetric(gcCycle.Seconds()*1e3, "gc-cpu-ms/cycle")
			b.ReportMetric(float64(lost.Load())/float64(b.N), "expired/op")
		})
	}
}

// measure runs f and reports, per op, the CPU time of the process (user
// and system) and the part of it the runtime counts as garbage collection.
func measure(b *testing.B, f func()) {
	sample := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(sample)
	gc0, cpu0 := sample[0].Value.Float64(), proc.SelfCPU()
	b.ResetTimer()
	f()
	b.StopTimer()
	metrics.Read(sample)
	b.ReportMetric(float64(proc.SelfCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric((sample[0].Value.Float64()-gc0)*1e9/float64(b.N), "gc-ns/op")
}

// garbageSink keeps the garbage of the service+garbage benchmarks from
// being optimised away.
var garbageSink atomic.Pointer[[]byte]

// gcCPU returns the CPU time of a full collection, the least of three.
func gcCPU() time.Duration {
	least := time.Duration(math.MaxInt64)
	for range 3 {
		cpu0 := proc.SelfCPU()
		runtime.GC()
		least = min(least, proc.SelfCPU()-cpu0)
	}
	return least
}

// liveHeap collects garbage and returns the bytes of the heap in use.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
