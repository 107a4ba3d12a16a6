package storetest

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/proc"
)

// Callers is how many goroutines the parallel benchmarks run at once: the
// clients of a busy server, and the connections of the redis-benchmark
// run that BENCHMARKS.md compares the Redis store with.
const Callers = 32

// RunBenchmarks runs the benchmarks that every store runs, under one set
// of names, so that BENCHMARKS.md compares the stores line by line. A
// backend's bench_test.go calls it from one benchmark, BenchmarkStore:
//
//	func BenchmarkStore(b *testing.B) {
//		storetest.RunBenchmarks(b, func(b *testing.B) onetime.Store { return memory.New() })
//	}
//
// newStore returns a fresh, empty store; RunBenchmarks closes it when the
// sub-benchmark that asked for it ends (the testing package may run a
// sub-benchmark, and so call newStore, more than once). The sub-benchmarks
// call the Store itself, with pairs shaped like the Service's for a
// 100-byte value (see [NewPair]):
//
//	Create/serial, Create/parallel  Create, from one caller and from Callers at once
//	Reveal/serial                   Reveal of pairs created beforehand, off the clock
//	Pair/serial, Pair/parallel      Create then Reveal of that secret: the life of a one-time secret
//	Receipt/parallel                Receipt of 1,000 stored receipts while nothing writes
//	BusyOwner/live=N                Create for an owner who has N live receipts (1,000 and 30,000)
//	                                while the owner's short-lived ones expire
//	Scale/stored=N                  Pair/parallel with N pairs stored already: 1,000, and
//	                                1,000,000 with ONETIME_BENCH_1M=1 (ONETIME_BENCH_SCALE=n runs n alone)
//
// Their pairs are created on a clock that moves 10 µs per pair, with
// secrets that live one second: a store that reclaims expired records as
// it goes (the memory store) keeps about 100,000 pairs, however long the
// run. Each reports, besides ns/op and allocations, cpu-ns/op: the CPU
// time of this process per operation, which varies much less than wall
// time on a shared machine (for a store with a server, the client's part
// alone).
//
// Backends add benchmarks of their own for what is theirs alone: the
// bytes a stored secret takes (BenchmarkStoredBytes), their options, a
// yardstick of the raw database.
func RunBenchmarks(b *testing.B, newStore func(b *testing.B) onetime.Store) {
	open := func(b *testing.B) onetime.Store {
		st := newStore(b)
		b.Cleanup(func() {
			if err := st.Close(); err != nil {
				b.Error("Close: ", err)
			}
		})
		return st
	}
	ctx := context.Background()
	b.Run("Create/serial", func(b *testing.B) {
		st, clock := open(b), new(benchClock)
		serial(b, func() error { return benchCreate(ctx, st, "", clock.next(), benchTTL) })
	})
	b.Run("Create/parallel", func(b *testing.B) {
		st, clock := open(b), new(benchClock)
		Parallel(b, func() error { return benchCreate(ctx, st, "", clock.next(), benchTTL) })
	})
	b.Run("Reveal/serial", func(b *testing.B) { benchReveal(b, open(b)) })
	b.Run("Pair/serial", func(b *testing.B) {
		st, clock := open(b), new(benchClock)
		serial(b, func() error { return benchLife(ctx, st, clock) })
	})
	b.Run("Pair/parallel", func(b *testing.B) {
		st, clock := open(b), new(benchClock)
		Parallel(b, func() error { return benchLife(ctx, st, clock) })
	})
	b.Run("Receipt/parallel", func(b *testing.B) {
		st := open(b)
		ids := fill(b, st, 1000, func(int) string { return "" })
		var next atomic.Int64
		Parallel(b, func() error {
			_, err := st.Receipt(ctx, ids[next.Add(1)%int64(len(ids))], t0)
			return err
		})
	})
	for _, live := range []int{1_000, 30_000} {
		b.Run(fmt.Sprintf("BusyOwner/live=%d", live), func(b *testing.B) { benchBusyOwner(b, open(b), live) })
	}
	b.Run("Scale", func(b *testing.B) { benchScale(b, open) })
}

// Parallel runs op b.N times in all from [Callers] goroutines, as the
// parallel benchmarks of [RunBenchmarks] do, failing b on the first error
// of each goroutine, and reports this process's CPU time per op as
// cpu-ns/op. Backends use it for parallel benchmarks of their own.
func Parallel(b *testing.B, op func() error) {
	p := runtime.GOMAXPROCS(0)
	b.SetParallelism((Callers + p - 1) / p)
	b.ReportAllocs()
	var cpu cpuMeter
	b.ResetTimer()
	cpu.start()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.stop()
	b.StopTimer()
	cpu.report(b)
}

// serial runs op in a b.Loop and reports cpu-ns/op.
func serial(b *testing.B, op func() error) {
	b.ReportAllocs()
	var cpu cpuMeter
	cpu.start()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	cpu.stop()
	cpu.report(b)
}

// A cpuMeter adds up this process's CPU time between start and stop.
type cpuMeter struct {
	total, since time.Duration
}

func (m *cpuMeter) start() { m.since = proc.SelfCPU() }
func (m *cpuMeter) stop()  { m.total += proc.SelfCPU() - m.since }

// report reports the CPU time per op as cpu-ns/op, where it is measured.
func (m *cpuMeter) report(b *testing.B) {
	if _, _, ok := proc.CPU(); ok && b.N > 0 {
		b.ReportMetric(float64(m.total.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// benchTTL is the lifetime of the benchmarks' secrets on a benchClock.
const benchTTL = time.Second

// A benchClock is the benchmarks' clock: each call of next moves it 10 µs
// after t0. A secret lives benchTTL, 100,000 pairs: a parallel caller
// descheduled for that many of the others' pairs would find its own
// expired. At 10,000 pairs (100 µs a pair), a memory store's caller did,
// on a loaded 2-core machine (10 ms of its pairs).
type benchClock struct{ us atomic.Int64 }

func (c *benchClock) next() time.Time {
	return t0.Add(time.Duration(c.us.Add(10)) * time.Microsecond)
}

// benchPair is NewPair for the benchmarks' loops: ids from math/rand/v2,
// which costs next to nothing beside a store, and sealed bytes shared by
// every pair (a Store copies what it keeps and never changes its input).
func benchPair(owner string, created time.Time, ttl time.Duration) (*onetime.SealedSecret, *onetime.SealedMetadata) {
	var raw [36]byte
	for i := 0; i < len(raw); i += 4 {
		binary.LittleEndian.PutUint32(raw[i:], rand.Uint32())
	}
	var sid, mid [40]byte
	hex.Encode(sid[:], raw[:20])
	copy(mid[:], sid[:onetime.SlotLen])
	hex.Encode(mid[onetime.SlotLen:], raw[20:])
	s := &onetime.SealedSecret{
		ID: onetime.ID(sid[:]), MetadataID: onetime.ID(mid[:]), Sealed: benchSealed, MaxAttempts: 10,
		ExpiresAt: created.Add(ttl),
	}
	m := &onetime.SealedMetadata{
		ID: s.MetadataID, SecretID: s.ID, Owner: owner, State: onetime.StateNew,
		Created: created, Updated: created, SecretExpiresAt: s.ExpiresAt, ExpiresAt: created.Add(2 * ttl),
		Sealed: benchReceipt,
	}
	if owner != "" {
		m.OwnerSealed = benchReceipt
	}
	return s, m
}

var (
	benchSealed  = randomBytes(sealedLen)
	benchReceipt = randomBytes(receiptLen)
)

// benchCreate creates a pair of owner at created, living ttl.
func benchCreate(ctx context.Context, st onetime.Store, owner string, created time.Time, ttl time.Duration) error {
	s, m := benchPair(owner, created, ttl)
	return st.Create(ctx, s, m)
}

// benchLife creates a pair on clock and reveals it at once.
func benchLife(ctx context.Context, st onetime.Store, clock *benchClock) error {
	at := clock.next()
	s, m := benchPair("", at, benchTTL)
	if err := st.Create(ctx, s, m); err != nil {
		return err
	}
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, at, nil)
	if errors.Is(err, onetime.ErrNotFound) {
		return errors.New("a pair expired before its Reveal: a caller waited for the 100,000 pairs of a secret's life")
	}
	return err
}

// benchReveal reveals, one at a time, pairs that it creates a thousand at
// a time with the timer (and the CPU meter) stopped.
func benchReveal(b *testing.B, st onetime.Store) {
	ctx := context.Background()
	clock := new(benchClock)
	type made struct {
		id onetime.ID
		at time.Time
	}
	var batch []made
	b.ReportAllocs()
	var cpu cpuMeter
	cpu.start()
	for b.Loop() {
		if len(batch) == 0 {
			b.StopTimer()
			cpu.stop()
			for range 1000 {
				at := clock.next()
				s, m := benchPair("", at, benchTTL)
				if err := st.Create(ctx, s, m); err != nil {
					b.Fatal(err)
				}
				batch = append(batch, made{s.ID, at})
			}
			cpu.start()
			b.StartTimer()
		}
		p := batch[len(batch)-1]
		batch = batch[:len(batch)-1]
		if _, err := st.Reveal(ctx, p.id, onetime.Credentials{}, p.at, nil); err != nil {
			b.Fatal(err)
		}
	}
	cpu.stop()
	cpu.report(b)
}

// benchBusyOwner creates pairs for an owner who has live receipts already,
// one a second of the pairs' clock, each living a minute: the store keeps
// the owner's live list and a minute's worth of expired ones.
func benchBusyOwner(b *testing.B, st onetime.Store, live int) {
	ctx := context.Background()
	fill(b, st, live, func(int) string { return "busy" })
	now := t0
	serial(b, func() error {
		now = now.Add(time.Second)
		return benchCreate(ctx, st, "busy", now, time.Minute)
	})
}

// benchScale runs Pair/parallel on stores filled with many pairs already.
func benchScale(b *testing.B, open func(*testing.B) onetime.Store) {
	sizes := []int{1_000, 1_000_000}
	if v := os.Getenv("ONETIME_BENCH_SCALE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.Fatalf("ONETIME_BENCH_SCALE=%q: want a number of pairs", v)
		}
		sizes = []int{n}
	}
	for _, n := range sizes {
		name := fmt.Sprintf("stored=%d", n)
		if n >= 1_000_000 && os.Getenv("ONETIME_BENCH_1M") == "" {
			b.Run(name, func(b *testing.B) {
				b.Skip("set ONETIME_BENCH_1M=1 to fill a store with 1,000,000 pairs")
			})
			continue
		}
		// Fill once: the testing package runs the sub-benchmark more
		// than once, and each run adds its receipts.
		st := open(b)
		start := time.Now()
		fill(b, st, n, func(i int) string {
			if i%10 == 0 {
				return fmt.Sprintf("customer-%d", i%1000)
			}
			return ""
		})
		b.Logf("%d pairs stored in %v", n, time.Since(start).Round(time.Millisecond))
		clock := new(benchClock)
		b.Run(name, func(b *testing.B) {
			Parallel(b, func() error { return benchLife(context.Background(), st, clock) })
		})
		if err := st.Close(); err != nil {
			b.Error("Close: ", err)
		}
	}
}

// fill stores n pairs created at t0 that live a year, from Callers
// goroutines, the i-th owned by owner(i), and returns their receipts'
// ids.
func fill(b *testing.B, st onetime.Store, n int, owner func(i int) string) []onetime.ID {
	b.Helper()
	ids := make([]onetime.ID, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(Callers, n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				s, m := benchPair(owner(i), t0, 365*24*time.Hour)
				if err := st.Create(context.Background(), s, m); err != nil {
					b.Error("filling the store: ", err)
					return
				}
				ids[i] = m.ID
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return ids
}
