package redis_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/proc"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/redis"
	"github.com/onetimego/onetime/store/storetest"
)

// Benchmarks run against one redis-server for the whole binary
// (redistest.Shared), or the one ONETIME_REDIS_ADDR names. Run them as
//
//	go test -run '^$' -bench . -benchtime 3s ./store/redis/
//
// BenchmarkStore runs the benchmarks that every store runs.
// BenchmarkYardstick then runs redis-benchmark on the same server, 32
// clients, and BenchmarkModes compares the Store's ways of sending
// commands with it: Share and Reveal through the Service report their
// throughput ("ops/s", all goroutines together) and, as "%SET", that
// throughput over redis-benchmark's SET requests per second; "%SET-near"
// compares it with short redis-benchmark runs just before and just after
// it instead.
//
// The machine is often shared, so each also reports the CPU time one
// operation costs: "client-us/op" in this process (or in redis-benchmark)
// and "redis-us/op" in redis-server, and, as "%SET-cpu", redis-benchmark's
// CPU time per request over the operation's: the %SET that a machine
// busy with nothing else would show if client and server were both
// CPU-bound. It moves much less than %SET with the machine's load.

// concurrency is the number of goroutines (and connections) that the
// throughput benchmarks use, as redis-benchmark -c.
const concurrency = storetest.Callers

// BenchmarkStore runs the benchmarks that every store runs, in the
// default mode (no auto-pipelining).
func BenchmarkStore(b *testing.B) {
	c := benchClient(b)
	storetest.RunBenchmarks(b, func(b *testing.B) onetime.Store { return newStore(b, c) })
}

var (
	yardstickSET atomic.Uint64 // SET/s in milli-requests; 0 until measured
	yardstickCPU atomic.Int64  // CPU ns per request, client and server; 0 until measured
)

// parallel sets b's parallelism so that RunParallel uses concurrency
// goroutines (a multiple of GOMAXPROCS, so at least concurrency).
func parallel(b *testing.B) {
	p := runtime.GOMAXPROCS(0)
	b.SetParallelism((concurrency + p - 1) / p)
}

func benchClient(b *testing.B) *goredis.Client {
	srv := redistest.Shared(b)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, PoolSize: concurrency})
	b.Cleanup(func() { c.Close() })
	return c
}

// benchService returns a Service on a Store over c.
func benchService(b *testing.B, c goredis.UniversalClient, m mode) *onetime.Service {
	st, err := redis.New(c, &redis.Options{Prefix: redistest.Prefix(b), Pipeline: !m.direct})
	if err != nil {
		b.Fatal(err)
	}
	if m.pipelineAll {
		redis.PipelineAll(st)
	}
	svc, err := onetime.New(st, bytes.Repeat([]byte("s"), 32), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	return svc
}

// BenchmarkYardstick runs `redis-benchmark -c 32 -n 200000 -t set,get -q`
// on the benchmarks' server. Its ns/op is that of one raw SET (so ops/s is
// SET requests per second); GET/s is reported beside it.
func BenchmarkYardstick(b *testing.B) {
	if _, err := exec.LookPath(redistest.BenchmarkBinary); err != nil {
		b.Skip("redis-benchmark not on PATH")
	}
	srv := redistest.Shared(b)
	const requests = 200000
	m := startCPU(b, benchClient(b))
	set, get, err := redistest.Yardstick(srv.Addr, concurrency, requests)
	if err != nil {
		b.Fatal(err)
	}
	// SET and GET requests together: their costs differ little.
	if client, server, ok := m.stop(b, 2*requests, true); ok {
		yardstickCPU.Store(int64(client + server))
	}
	yardstickSET.Store(uint64(set * 1000)) // milli-requests, to keep it an integer
	b.ReportMetric(1e9/set, "ns/op")
	b.ReportMetric(set, "SET/s")
	b.ReportMetric(get, "GET/s")
}

// cpuMeter measures the CPU time of this process (or of its children)
// and of the redis-server behind c.
type cpuMeter struct {
	c                   *goredis.Client
	self, child, server time.Duration
	ok                  bool
}

func startCPU(b *testing.B, c *goredis.Client) *cpuMeter {
	m := &cpuMeter{c: c}
	m.server, m.ok = serverCPU(b, c)
	self, child, ok := proc.CPU()
	m.self, m.child, m.ok = self, child, m.ok && ok
	return m
}

// stop reports the CPU time per operation over n operations, of the
// client (this process, or with children its ended children) and of the
// server, as client-us/op and redis-us/op, and returns them in ns.
func (m *cpuMeter) stop(b *testing.B, n int, children bool) (client, server float64, ok bool) {
	self, child, ok1 := proc.CPU()
	srv, ok2 := serverCPU(b, m.c)
	if !m.ok || !ok1 || !ok2 || n == 0 {
		return 0, 0, false
	}
	c := self - m.self
	if children {
		c = child - m.child
	}
	client = float64(c.Nanoseconds()) / float64(n)
	server = float64((srv - m.server).Nanoseconds()) / float64(n)
	b.ReportMetric(client/1e3, "client-us/op")
	b.ReportMetric(server/1e3, "redis-us/op")
	return client, server, true
}

// serverCPU returns the CPU time (used_cpu_user + used_cpu_sys) that the
// redis-server behind c has used so far.
func serverCPU(b *testing.B, c *goredis.Client) (time.Duration, bool) {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var sum float64
	n := 0
	for _, line := range strings.Split(info, "\n") {
		name, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if name == "used_cpu_user" || name == "used_cpu_sys" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, false
			}
			sum += f
			n++
		}
	}
	return time.Duration(sum * 1e9), n == 2
}

// reportThroughput reports ops/s over elapsed and, when the yardstick ran,
// the ratio to raw SET; and the CPU time per operation that m measured,
// with its ratio to the yardstick's. With before, the SET/s of a short
// yardstick run just before the operations, it runs another just after
// and reports ops/s over their mean as "%SET-near": on a shared machine,
// the fairest comparison.
func reportThroughput(b *testing.B, elapsed time.Duration, m *cpuMeter, before float64) {
	ops := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(ops, "ops/s")
	if set := float64(yardstickSET.Load()) / 1000; set > 0 {
		b.ReportMetric(100*ops/set, "%SET")
	}
	client, server, ok := m.stop(b, b.N, false)
	if y := yardstickCPU.Load(); ok && y > 0 {
		b.ReportMetric(100*float64(y)/(client+server), "%SET-cpu")
	}
	if before > 0 {
		if after := nearSET(b); after > 0 {
			b.ReportMetric(100*ops/((before+after)/2), "%SET-near")
		}
	}
}

// nearSET runs a short yardstick (redis-benchmark, 32 clients, 20,000
// SETs and GETs) on the benchmarks' server and returns its SET/s: 0
// without redis-benchmark, or for the small b.N of a first probe.
func nearSET(b *testing.B) float64 {
	if b.N < 1000 {
		return 0
	}
	if _, err := exec.LookPath(redistest.BenchmarkBinary); err != nil {
		return 0
	}
	set, _, err := redistest.Yardstick(redistest.Shared(b).Addr, concurrency, 20000)
	if err != nil {
		b.Fatal(err)
	}
	return set
}

var value100 = bytes.Repeat([]byte("0123456789"), 10)

// A mode is a way the Store can send its commands.
type mode struct {
	name        string
	direct      bool // not Options.Pipeline
	pipelineAll bool // every command through the pipeliner
}

// modes are the ways the Store can send its commands: one round trip per
// command on the client's pool ("direct", the default), every command
// through go-redis's automatic pipeliner ("pipelined", what the old
// AutoPipeline option did), and Options.Pipeline, the pipeliner only while
// other commands are in flight ("adaptive").
var modes = []mode{{"direct", true, false}, {"pipelined", false, true}, {"adaptive", false, false}}

// BenchmarkModes runs, in each of the Store's modes (direct, pipelined
// and adaptive):
//
//   - Share: 100-byte secrets stored through the real Service from 32
//     goroutines, compared with redis-benchmark's SET;
//   - Reveal: 100-byte secrets, shared beforehand off the clock, revealed
//     through the Service from 32 goroutines, compared likewise;
//   - SerialPair: one caller's Share followed by the Reveal of that
//     secret: the latency a lone caller sees.
func BenchmarkModes(b *testing.B) {
	b.Run("Share", func(b *testing.B) {
		throughput(b, func(b *testing.B, svc *onetime.Service) func(context.Context) error {
			return func(ctx context.Context) error {
				_, err := svc.Share(ctx, onetime.ShareRequest{Value: value100})
				return err
			}
		})
	})
	b.Run("Reveal", func(b *testing.B) { throughput(b, revealOp) })
	b.Run("SerialPair", serialPair)
}

// revealOp shares b.N secrets and returns an operation that reveals the
// next one.
func revealOp(b *testing.B, svc *onetime.Service) func(context.Context) error {
	keys := share(b, svc, b.N, "")
	var next atomic.Int64
	return func(ctx context.Context) error {
		r, err := svc.Reveal(ctx, keys[next.Add(1)-1], "")
		if err == nil && len(r.Value) != len(value100) {
			err = fmt.Errorf("Reveal returned %d bytes", len(r.Value))
		}
		return err
	}
}

// throughput runs, in each mode, the operation that setup returns (setup
// runs off the clock) from 32 goroutines, and reports ops/s and %SET.
func throughput(b *testing.B, setup func(*testing.B, *onetime.Service) func(context.Context) error) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			c := benchClient(b)
			svc := benchService(b, c, m)
			op := setup(b, svc)
			ctx := context.Background()
			parallel(b)
			b.ReportAllocs()
			before := nearSET(b)
			b.ResetTimer()
			cpu := startCPU(b, c)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			reportThroughput(b, elapsed, cpu, before)
		})
	}
}

// serialPair is one caller's Share followed by the Reveal of that secret,
// in each mode.
func serialPair(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			svc := benchService(b, benchClient(b), m)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				r, err := svc.Share(ctx, onetime.ShareRequest{Value: value100})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := svc.Reveal(ctx, r.SecretKey, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// share stores n 100-byte secrets of owner from 32 goroutines and returns
// their secret keys.
func share(b *testing.B, svc *onetime.Service, n int, owner string) []onetime.SecretKey {
	b.Helper()
	keys := make([]onetime.SecretKey, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				r, err := svc.Share(context.Background(), onetime.ShareRequest{Value: value100, Owner: owner})
				if err != nil {
					b.Error(err)
					return
				}
				keys[i] = r.SecretKey
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return keys
}

// usedMemory returns INFO memory's used_memory of the server behind c,
// and what its normal clients' buffers take of it (mem_clients_normal).
func usedMemory(b *testing.B, c *goredis.Client) (used, clients int64) {
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	found := 0
	for _, line := range strings.Split(info, "\n") {
		name, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
		case name == "used_memory":
			used = n
			found++
		case name == "mem_clients_normal":
			clients = n
			found++
		}
	}
	if found != 2 {
		b.Fatal("no used_memory or mem_clients_normal in INFO memory")
	}
	return used, clients
}

// settledMemory is usedMemory once it stays the same for 100 ms (at most
// 3 s): Redis moves its key and expiry tables to larger ones bit by bit
// after they grow, and frees the old ones when done, some 13 bytes per
// secret at 10,000 stored; read in the middle of that, the figure would
// depend on the moment.
func settledMemory(b *testing.B, c *goredis.Client) (used, clients int64) {
	used, clients = usedMemory(b, c)
	for range 30 {
		time.Sleep(100 * time.Millisecond)
		u, cl := usedMemory(b, c)
		if u == used && cl == clients {
			break
		}
		used, clients = u, cl
	}
	return used, clients
}

// BenchmarkStoredBytes reports the growth of Redis's used_memory per
// 100-byte secret (with its receipt, and for an owner its index entry),
// with 10,000 and 100,000 stored, on a fresh server of its own. The owned
// case puts every secret under one owner, whose index keeps the newest
// redis.MaxIndexed.
func BenchmarkStoredBytes(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, owner := range []string{"", "customer-0001"} {
			name := fmt.Sprintf("n=%d/anonymous", n)
			if owner != "" {
				name = fmt.Sprintf("n=%d/owned", n)
			}
			b.Run(name, func(b *testing.B) {
				srv := redistest.Standalone(b)
				c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, PoolSize: concurrency})
				b.Cleanup(func() { c.Close() })
				svc := benchService(b, c, modes[2])
				// Warm up first: open every pooled connection and load the
				// scripts, whose buffers would otherwise count as data.
				keys := share(b, svc, 4*concurrency, owner)
				for _, k := range keys {
					svc.Reveal(context.Background(), k, "")
				}
				before, clientsBefore := settledMemory(b, c)
				share(b, svc, n, owner)
				after, clientsAfter := settledMemory(b, c)
				b.ReportMetric(float64(after-before)/float64(n), "bytes/secret")
				// The connections' buffers grow and shrink on Redis's own
				// schedule, not with the secrets stored.
				b.ReportMetric(float64(after-clientsAfter-before+clientsBefore)/float64(n), "bytes/secret-no-clients")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkConcurrency is the life of a one-time secret, Share then
// Reveal of that secret through the Service (100-byte values), from 1, 8
// and 32 callers at once, in each of the Store's modes. Each caller is a
// goroutine of its own (RunParallel cannot run fewer than GOMAXPROCS), and
// the client's pool holds 32 connections throughout. It reports, per
// pair: pairs/s (all callers together), client-us/pair (the CPU time of
// this process: the Service, the Store and go-redis), redis-us/pair (of
// redis-server, from INFO cpu), cmds/pair (every command Redis ran, those
// inside the scripts included, from INFO commandstats) and the latency of
// a pair as its callers saw it, p50-us and p99-us. ONETIME_BENCH_CALLERS
// (e.g. "1,2,4") runs other numbers of callers instead.
//
//	go test -run '^$' -bench Concurrency -benchtime 5000x ./store/redis/
func BenchmarkConcurrency(b *testing.B) {
	callerCounts := []int{1, 8, 32}
	if env := os.Getenv("ONETIME_BENCH_CALLERS"); env != "" {
		callerCounts = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("ONETIME_BENCH_CALLERS=%q: want numbers of callers, e.g. 1,2,4", env)
			}
			callerCounts = append(callerCounts, n)
		}
	}
	for _, callers := range callerCounts {
		for _, m := range modes {
			b.Run(fmt.Sprintf("c=%d/%s", callers, m.name), func(b *testing.B) {
				c := benchClient(b)
				svc := benchService(b, c, m)
				ctx := context.Background()
				pair := func() error {
					r, err := svc.Share(ctx, onetime.ShareRequest{Value: value100})
					if err != nil {
						return err
					}
					s, err := svc.Reveal(ctx, r.SecretKey, "")
					if err == nil && len(s.Value) != len(value100) {
						err = fmt.Errorf("Reveal returned %d bytes", len(s.Value))
					}
					return err
				}
				// Warm up: every pooled connection open, the scripts loaded.
				var wg sync.WaitGroup
				for range concurrency {
					wg.Go(func() {
						if err := pair(); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
				b.ReportAllocs()
				lat := make([][]time.Duration, callers)
				var next atomic.Int64
				cmds := commandCalls(b, c)
				b.ResetTimer()
				cpu := startCPU(b, c)
				start := time.Now()
				for i := range callers {
					wg.Go(func() {
						for next.Add(1) <= int64(b.N) {
							t := time.Now()
							if err := pair(); err != nil {
								b.Error(err)
								return
							}
							lat[i] = append(lat[i], time.Since(t))
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				cpu.stop(b, b.N, false)
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pairs/s")
				b.ReportMetric(float64(commandCalls(b, c)-cmds)/float64(b.N), "cmds/pair")
				all := slices.Concat(lat...)
				slices.Sort(all)
				if len(all) > 0 {
					b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-us")
					b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-us")
				}
			})
		}
	}
}

// commandCalls is the number of commands the server behind c has run,
// from INFO commandstats (INFO itself left out): the commands that
// scripts call count as well as the EVALSHA that ran them.
func commandCalls(b *testing.B, c *goredis.Client) int64 {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") || name == "cmdstat_info" {
			continue
		}
		calls, _, _ := strings.Cut(strings.TrimPrefix(rest, "calls="), ",")
		k, _ := strconv.ParseInt(calls, 10, 64)
		n += k
	}
	return n
}
