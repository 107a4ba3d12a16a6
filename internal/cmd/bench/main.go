//go:build linux

// Command bench measures onetime on this machine and writes BENCHMARKS.md
// with SVG charts beside its tables. Every figure in the file comes from
// one run of it:
//
//  1. a private redis-server and a private PostgreSQL server on free
//     loopback ports (internal/redistest, internal/pgtest; never the
//     machine's own on 6379 or 5432);
//  2. redis-benchmark -c 32 -t set,get -d 100 on that Redis: a yardstick,
//     same run, same value size as the load;
//  3. the bare handler (internal/yardstick, a process of its own) against
//     the example server on the memory store, share and reveal, their runs
//     interleaved (5 rounds; 3 with -quick): requests/s and server CPU time
//     per request, the targets of issues 14 and 22 as ratios measured in
//     the same run; and for shares the same server with -metrics-addr
//     next to it in each round (after it, then before it), issue 20's
//     instrumentation cost over HTTP;
//  4. a concurrency sweep (-c, default 1,8,32,128 clients): pairs over HTTP
//     of the example server (built with go build, a child process) on
//     every store (memory, sqlite, redis, postgres) and of the bare
//     handler, driven in this process by the load generator's code
//     (internal/loadgen), with the server's CPU time per pair, its
//     backend's (redis-server, or every process of the PostgreSQL server),
//     Redis commands per pair, p50 and p99; each backed store against the
//     raw pair of its backend at the same number of clients, measured just
//     before it: redis-benchmark of SET EX then GETDEL, and pgbench of a
//     script of an INSERT then a DELETE ... RETURNING;
//  5. peers on the same Redis: jhaals/yopass's server and Luzifer/ots
//     (binaries named by -peers, or built by go install where the Go
//     module proxy serves them; a peer that cannot be had is reported as
//     not measured), driven through their own APIs (loadgen -api), side
//     by side with the example server on the Redis store: pairs/s at 8 and
//     32 clients, CPU and Redis commands per pair, Redis bytes per secret;
//  6. a passphrase burst: 200 concurrent wrong-passphrase reveals while 32
//     other clients make pairs; their p99 and the server's peak RSS;
//  7. pairs/s and bytes per secret with secrets already stored, per store;
//  8. the cost of the OpenTelemetry instrumentation on a share: the
//     benchmarks that run a share with telemetry off and on in turn
//     (cmd/onetime-server's BenchmarkShareMetrics, the server as it runs
//     with and without -metrics-addr, and the library's own), at least 10
//     rounds of 1s runs even with -quick, each a go test run of the cases
//     in turn, compared pair by pair;
//  9. the Go benchmarks of the root package and of store/... (go test
//     -bench -count N), medians and 95% confidence intervals computed as
//     benchstat does;
//  10. the targets of issues 6, 14, 20 and 22: met, missed or not measured.
//
// Usage, from the module's root directory:
//
//	go run ./internal/cmd/bench            full run (about 16 minutes on 2 quiet cores), rewrites BENCHMARKS.md
//	go run ./internal/cmd/bench -quick     a pass of about 7 minutes: short runs, figures not to publish
//	go run ./internal/cmd/bench -scale     also 1,000,000 stored and the Go *Scale* benchmarks (slow)
//	go run ./internal/cmd/bench -peers yopass=BIN,ots=BIN   the peers' binaries, built elsewhere
//
// The charts (SVG) go to benchmarks/ beside BENCHMARKS.md, with go test's
// raw output of the Go benchmarks (benchmarks/go-bench.txt, for benchstat).
//
// It runs on Linux only: it reads the CPU time and memory of the processes
// it starts from /proc.
//
// It prints a progress line per phase: the step, its rank, the time spent
// and an estimate of the time left. It needs Go, redis-server and
// redis-benchmark (Debian: redis-server, redis-tools), and PostgreSQL's
// initdb, postgres and pgbench (Debian: postgresql). Everything it starts
// listens on 127.0.0.1 only and is stopped on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

// options are the command's flags.
type options struct {
	Quick       bool
	Scale       bool
	Out         string
	Runs        int
	Dur         time.Duration
	Warmup      time.Duration
	Clients     int
	Size        int
	Concs       []int
	Stores      []string
	BurstStores []string
	Burst       int
	ScaleSizes  []int
	GoCount     int
	BenchTime   string
	GoPkgs      []string
	RBRequests  int
	RawRequests int               // requests of each redis-benchmark run of the raw pair
	ServerArgs  []string          // added to every example server's command line
	Peers       map[string]string // binary of each peer, by name; "" to try go install
	Skip        map[string]bool   // phases left out: see phases
}

// phases are the names -skip accepts.
var phases = []string{"redis", "pgbench", "bare", "http", "peers", "burst", "scale", "telemetry", "go"}

// allStores are the stores of the example server the tool knows.
var allStores = []string{"memory", "sqlite", "redis", "postgres"}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.Quick, "quick", false, "a pass of about 6 minutes: 1 run of 1s per measurement, fewer sizes, short Go benchmarks (but 10 rounds of 1s for the instrumentation cost)")
	fs.BoolVar(&o.Scale, "scale", false, "also 1,000,000 secrets stored, and the Go benchmarks named *Scale*/*Stored* (slow)")
	fs.StringVar(&o.Out, "out", "BENCHMARKS.md", "Markdown file to write; the charts go to the directory benchmarks/ beside it")
	runs := fs.Int("runs", 0, "runs of each HTTP measurement (default 3; 1 with -quick)")
	dur := fs.Duration("d", 0, "timed phase of one HTTP run (default 3s; 1s with -quick), and of each pgbench run (at least 5s)")
	warm := fs.Duration("warmup", -1, "untimed load before each HTTP run (default 500ms; 300ms with -quick)")
	concs := fs.String("c", "1,8,32,128", "client counts of the concurrency sweep (pairs over HTTP on every store, the raw Redis pair, pgbench), comma-separated")
	stores := fs.String("stores", strings.Join(allStores, ","), "stores of the example server to measure")
	peers := fs.String("peers", "", "peer servers measured on the same Redis, name=binary, comma-separated (yopass=PATH,ots=PATH); a peer not named is built with go install from the Go module proxy if it serves it")
	burstStores := fs.String("burst-stores", "sqlite", "stores of the passphrase burst")
	sizes := fs.String("sizes", "", "secrets stored for the scale runs (default 1000,100000; 1000,10000 with -quick; 1000000 added by -scale)")
	fs.IntVar(&o.GoCount, "count", 0, "go test -count (default 6, the fewest that give a 95% interval; 1 with -quick)")
	fs.StringVar(&o.BenchTime, "benchtime", "", "go test -benchtime (default 100ms)")
	serverArgs := fs.String("server-args", "", "flags added to every example server's command line, space-separated (e.g. -access-log=false)")
	skip := fs.String("skip", "", "phases to leave out, comma-separated: "+strings.Join(phases, ", "))
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	o.Clients, o.Size, o.Burst = 32, 100, 200
	o.GoPkgs = []string{".", "./store/memory", "./store/sqlite", "./store/redis", "./store/postgres"}
	pick := func(set, full, quick string) string {
		if set != "" {
			return set
		}
		if o.Quick {
			return quick
		}
		return full
	}
	o.Runs = *runs
	if o.Runs == 0 {
		o.Runs = map[bool]int{false: 3, true: 1}[o.Quick]
	}
	o.Dur = *dur
	if o.Dur == 0 {
		o.Dur = map[bool]time.Duration{false: 3 * time.Second, true: time.Second}[o.Quick]
	}
	o.Warmup = *warm
	if o.Warmup < 0 {
		o.Warmup = map[bool]time.Duration{false: 500 * time.Millisecond, true: 300 * time.Millisecond}[o.Quick]
	}
	if o.GoCount == 0 {
		o.GoCount = map[bool]int{false: 6, true: 1}[o.Quick]
	}
	o.BenchTime = pick(o.BenchTime, "100ms", "100ms")
	o.RBRequests = map[bool]int{false: 100_000, true: 20_000}[o.Quick]
	o.RawRequests = map[bool]int{false: 100_000, true: 20_000}[o.Quick]
	var err error
	if o.Concs, err = intList(*concs); err != nil {
		return o, fmt.Errorf("-c: %v", err)
	}
	if o.ScaleSizes, err = intList(pick(*sizes, "1000,100000", "1000,10000")); err != nil {
		return o, fmt.Errorf("-sizes: %v", err)
	}
	if o.Scale && *sizes == "" {
		o.ScaleSizes = append(o.ScaleSizes, 1_000_000)
	}
	o.Stores, o.BurstStores = list(*stores), list(*burstStores)
	o.ServerArgs = strings.Fields(*serverArgs)
	for _, s := range append(append([]string{}, o.Stores...), o.BurstStores...) {
		if !contains(allStores, s) {
			return o, fmt.Errorf("unknown store %q: want %s", s, strings.Join(allStores, ", "))
		}
	}
	o.Peers = map[string]string{}
	for _, p := range list(*peers) {
		name, bin, ok := strings.Cut(p, "=")
		if !ok || peerByName(name) == nil || bin == "" {
			return o, fmt.Errorf("-peers: want name=binary with a name of %s, not %q", strings.Join(peerNames(), ", "), p)
		}
		o.Peers[name] = bin
	}
	o.Skip = map[string]bool{}
	for _, p := range list(*skip) {
		if !contains(phases, p) {
			return o, fmt.Errorf("-skip: unknown phase %q (want %s)", p, strings.Join(phases, ", "))
		}
		o.Skip[p] = true
	}
	switch {
	case o.Runs < 1 || o.Dur <= 0 || o.GoCount < 1:
		return o, errors.New("-runs, -d and -count must be positive")
	case len(o.Concs) == 0 || len(o.ScaleSizes) == 0:
		return o, errors.New("-c and -sizes need at least one number")
	}
	return o, nil
}

// intList parses "1,8,32" (positive numbers, ascending order kept as given).
func intList(s string) ([]int, error) {
	var out []int
	for _, f := range list(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// list splits a comma-separated list, dropping empty items.
func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func main() {
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
