package memory_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

// BenchmarkCreateBusyOwner measures Create for a customer who already has
// many live receipts, while that customer's short-lived ones expire and
// are reclaimed by the Creates: the cost per Create should not grow with
// the size of the customer's list.
func BenchmarkCreateBusyOwner(b *testing.B) {
	ctx := context.Background()
	for _, live := range []int{1_000, 30_000} {
		b.Run(fmt.Sprintf("live=%d", live), func(b *testing.B) {
			st := memory.New()
			defer st.Close()
			for range live {
				s, m := pair("busy", t0, 365*24*time.Hour)
				if err := st.Create(ctx, s, m); err != nil {
					b.Fatal(err)
				}
			}
			now := t0
			for b.Loop() {
				now = now.Add(time.Second)
				s, m := pair("busy", now, time.Minute)
				if err := st.Create(ctx, s, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScale measures a pair (a secret stored, then revealed) with
// 1,000 and with 1,000,000 secrets already stored, each with its receipt:
// the cost of a pair must not grow with the number stored, as it does when
// every stored record is one more object for the garbage collector to
// trace. Each size is filled once per run of the benchmark (so -count N
// interleaves the sizes) with records of the sizes a Service makes for a
// 100-byte value (128 sealed bytes, a 96-byte receipt), and reports
// bytes/secret: the growth of the live heap over the fill, after a
// collection, divided by the secrets stored (each with its receipt).
//
// "store" runs Create then Reveal on the Store directly, "service"
// Share then Reveal through a Service (sealing included), both on all
// cores. "service+garbage=16KiB" also allocates 16 KiB per pair, as a
// server does for each request: collections then happen during the run,
// about once per live heap allocated, and their cost shows in cpu-ns/op. The pairs of the benchmark itself expire quickly on a simulated
// clock and are reclaimed by later Creates, so that the store keeps its
// size; expired/op counts the few that expire before their Reveal while
// their goroutine waits for a core (the clock runs on). On a shared
// machine compare cpu-ns/op (CPU time of the process, collector included)
// rather than ns/op; gc-ns/op is the runtime's estimate of the collector's
// part, which counts time its workers wait for a core and only the
// collections that end during the run: with a large heap, often none.
// gc-cpu-ms/cycle is the CPU time of one full collection of the filled
// store, the work that a busy program pays once per GOGC% of the live
// heap it allocates. The 1,000,000 case needs about 2 GiB and runs only with
// ONETIME_BENCH_1M=1; ONETIME_BENCH_SCALE=n runs size n alone.
//
//	ONETIME_BENCH_1M=1 go test -run '^$' -bench Scale -count 5 ./store/memory/
func BenchmarkScale(b *testing.B) {
	sizes := []int{1_000, 1_000_000}
	if v := os.Getenv("ONETIME_BENCH_SCALE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal("ONETIME_BENCH_SCALE: ", err)
		}
		sizes = []int{n}
	}
	for _, n := range sizes {
		name := fmt.Sprintf("stored=%d", n)
		if n >= 1_000_000 && os.Getenv("ONETIME_BENCH_1M") == "" {
			b.Run(name, func(b *testing.B) {
				b.Skip("set ONETIME_BENCH_1M=1 to fill a store with 1,000,000 secrets")
			})
			continue
		}
		runScale(b, name, n)
	}
}

func runScale(b *testing.B, name string, n int) {
	ctx := context.Background()
	var clock atomic.Int64 // microseconds after t0
	// lost counts the secrets that expired before their Reveal: the
	// simulated clock runs on while a goroutine waits for a core.
	var lost atomic.Int64
	now := func() time.Time { return t0.Add(time.Duration(clock.Load()) * time.Microsecond) }
	heap0 := liveHeap()
	st := memory.New()
	defer st.Close()
	svc, err := onetime.New(st, bytes.Repeat([]byte{7}, 32), &onetime.Options{Now: now, MinTTL: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	value := bytes.Repeat([]byte("v"), 100)
	start := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		s, m := fastPair(rng, t0, 7*24*time.Hour)
		if err := st.Create(ctx, s, m); err != nil {
			b.Fatal(err)
		}
	}
	perSecret := float64(liveHeap()-heap0) / float64(n)
	gcCycle := gcCPU()
	b.Logf("a collection takes %v of CPU", gcCycle)
	b.Logf("%d secrets stored in %v, %.0f heap bytes each", n, time.Since(start).Round(time.Millisecond), perSecret)

	b.Run(name+"/store", func(b *testing.B) {
		b.ReportAllocs()
		measure(b, func() {
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
				for pb.Next() {
					// 10 µs per pair; secrets live 1 ms and receipts 2 ms:
					// about 200 of the benchmark's receipts are alive.
					at := t0.Add(time.Duration(clock.Add(10)) * time.Microsecond)
					s, m := fastPair(rng, at, time.Millisecond)
					if err := st.Create(ctx, s, m); err != nil {
						b.Fatal(err)
					}
					if _, err := st.Reveal(ctx, s.ID, nil, at); errors.Is(err, onetime.ErrNotFound) {
						lost.Add(1)
					} else if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
		b.ReportMetric(perSecret, "bytes/secret")
		b.ReportMetric(gcCycle.Seconds()*1e3, "gc-cpu-ms/cycle")
		b.ReportMetric(float64(lost.Swap(0))/float64(b.N), "expired/op")
	})
	for _, garbage := range []int{0, 16 << 10} {
		sub := name + "/service"
		if garbage > 0 {
			sub += fmt.Sprintf("+garbage=%dKiB", garbage>>10)
		}
		b.Run(sub, func(b *testing.B) {
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
			b.ReportMetric(float64(lost.Swap(0))/float64(b.N), "expired/op")
		})
	}
	secrets, receipts := st.Len()
	b.Logf("after the pairs: %d secrets, %d receipts held", secrets, receipts)
}

// measure runs f and reports, per op, the CPU time of the process (user
// and system: on a shared machine it varies much less than wall time) and
// the part of it the runtime counts as garbage collection.
func measure(b *testing.B, f func()) {
	sample := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(sample)
	gc0, cpu0 := sample[0].Value.Float64(), cpuTime()
	b.ResetTimer()
	f()
	b.StopTimer()
	metrics.Read(sample)
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric((sample[0].Value.Float64()-gc0)*1e9/float64(b.N), "gc-ns/op")
}

// garbageSink keeps the garbage of the service+garbage benchmarks from
// being optimised away.
var garbageSink atomic.Pointer[[]byte]

// gcCPU returns the CPU time of a full collection, the least of three.
func gcCPU() time.Duration {
	least := time.Duration(math.MaxInt64)
	for range 3 {
		cpu0 := cpuTime()
		runtime.GC()
		least = min(least, cpuTime()-cpu0)
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

// fastPair is pair without crypto/rand or an owner, for the benchmarks' loops.
func fastPair(rng *rand.Rand, created time.Time, ttl time.Duration) (*onetime.SealedSecret, *onetime.SealedMetadata) {
	var raw [36]byte
	for i := 0; i < len(raw); i += 4 {
		binary.LittleEndian.PutUint32(raw[i:], rng.Uint32())
	}
	var sid, mid [40]byte
	hex.Encode(sid[:], raw[:20])
	copy(mid[:], sid[:onetime.SlotLen])
	hex.Encode(mid[onetime.SlotLen:], raw[20:36])
	s := &onetime.SealedSecret{
		ID: onetime.ID(sid[:]), MetadataID: onetime.ID(mid[:]), Sealed: benchSealed, MaxAttempts: 10,
		ExpiresAt: created.Add(ttl),
	}
	m := &onetime.SealedMetadata{
		ID: s.MetadataID, SecretID: s.ID, State: onetime.StateNew,
		Created: created, Updated: created,
		SecretExpiresAt: s.ExpiresAt, ExpiresAt: created.Add(2 * ttl),
		Sealed: benchReceipt,
	}
	return s, m
}

var (
	benchSealed  = bytes.Repeat([]byte("s"), 128)
	benchReceipt = bytes.Repeat([]byte("r"), 96)
)
