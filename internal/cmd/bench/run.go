//go:build linux

package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/onetimego/onetime/internal/loadgen"
	"github.com/onetimego/onetime/internal/pgtest"
	"github.com/onetimego/onetime/internal/proc"
	"github.com/onetimego/onetime/internal/redistest"
)

// The load generator's targets: the bare handler, or the example server on
// a store.
const bare = "bare"

// metered is the example server on the memory store with -metrics-addr:
// the SDK MeterProvider and the Prometheus exporter installed, as an
// operator runs it. It is measured beside "memory" (the same server
// without) in the bare handler's rounds: issue 20's instrumentation cost
// on a share, over HTTP.
const metered = "memory+metrics"

// runKey names a set of HTTP runs.
type runKey struct {
	Target string // bare, memory, sqlite, redis or postgres; for peers: onetime, yopass or ots
	Mode   string // share, reveal or pair
	Conc   int
}

// httpRun is one run of the load generator and the CPU time that the
// processes involved used during its timed phase: the server's, the load
// generator's, and the backend's (redis-server, or every process of the
// PostgreSQL server) when the store has one.
type httpRun struct {
	Rep                               *loadgen.Report
	Requests                          int64 // HTTP requests of the timed phase's operations
	ServerCPU, LoadgenCPU, BackendCPU float64
	RedisCalls                        int64 // Redis commands of the timed phase (INFO commandstats), for targets on Redis
}

// CPUPerOp returns the server's and the backend's CPU time per operation
// (a pair, in pair mode), in µs.
func (r *httpRun) CPUPerOp() (server, backend float64) {
	if r.Rep.Ops == 0 {
		return nan, nan
	}
	return r.ServerCPU / float64(r.Rep.Ops) * 1e6, r.BackendCPU / float64(r.Rep.Ops) * 1e6
}

// RPS returns the requests per second of the timed phase.
func (r *httpRun) RPS() float64 {
	if r.Rep.ElapsedS <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Rep.ElapsedS
}

// CPUPerRequest returns the server's CPU time per request, in µs.
func (r *httpRun) CPUPerRequest() float64 {
	if r.Requests == 0 {
		return 0
	}
	return r.ServerCPU / float64(r.Requests) * 1e6
}

type burstRun struct {
	Rep   *loadgen.Report
	HWMKB int64 // the server's VmHWM after the run
}

type scaleKey struct {
	Store  string
	Stored int
}

type scaleResult struct {
	Fill     float64 // shares/s of the second fill step
	BytesPer float64 // growth per secret over the second fill step
	Pairs    []*httpRun
}

// results is everything a run measured.
type results struct {
	Start, End           time.Time
	LoadStart, LoadEnd   string
	RedisVersion         string
	PostgresVersion      string
	RB                   map[string][]rbResult   // by command: SET, GET
	RawPair              map[int][]rawPair       // the raw Redis pair, by clients
	Pgbench              map[int][]pgbenchResult // the pgbench pair, by clients
	Peers                map[runKey][]*httpRun   // onetime (Redis store), yopass and ots on one Redis
	PeerBytes            map[string]float64      // Redis bytes per stored secret, by peer
	PeerMissing          map[string]string       // why a peer was not measured
	PeerBuilt            map[string]string       // how each peer's binary was had
	Cmp                  map[runKey][]*httpRun   // bare handler against the memory store, interleaved
	HTTP                 map[runKey][]*httpRun
	HTTPFail             map[runKey]string // why a set of runs is missing
	Bursts               map[string][]burstRun
	Scale                map[scaleKey]*scaleResult
	Go                   []*benchRow
	Telemetry            []*benchRow // telemetryBenchmarks' cases
	GoRaw                []byte      // go test's output, every package
	Failures             []string
	Commands             []string
	ServerArgs           map[string]string // by store, as run
	Steps, StepsFinished int
}

// bench is one run of the tool.
type bench struct {
	o        options
	log      io.Writer
	work     string
	env      []string // for children: ONETIME_SECRET, ONETIME_REDIS_ADDR
	server   string   // example server binary
	yard     string   // yardstick binary
	redis    *redistest.Server
	redisPID int
	rdb      *goredis.Client
	pg       *pgtest.Server
	pgPID    int    // the postmaster
	pgDB     string // the database of the current run of the PostgreSQL store
	pgSeq    int
	peerBins map[string]string // binary of each peer that can be run
	res      *results
	t0       time.Time
	cmp      map[string]*child // the comparison's two servers, started once and loaded in turn
}

// step is a phase of the run, with an estimate of how long it takes.
type step struct {
	name  string
	est   time.Duration
	fatal bool // the run cannot go on without it
	fn    func(ctx context.Context) error
}

func run(ctx context.Context, o options, logw io.Writer) error {
	if _, err := os.Stat("go.mod"); err != nil {
		return fmt.Errorf("run me from the module's root directory (no go.mod here)")
	}
	work, err := os.MkdirTemp("", "onetime-bench.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	secret := make([]byte, 32)
	rand.Read(secret)
	b := &bench{
		o: o, log: logw, work: work, t0: time.Now(), cmp: map[string]*child{},
		// A throwaway server secret, so that the example server writes
		// no key file.
		env: append(os.Environ(), "ONETIME_SECRET="+hex.EncodeToString(secret)),
		res: &results{
			Start: time.Now(), LoadStart: loadavg(),
			RB: map[string][]rbResult{}, Cmp: map[runKey][]*httpRun{}, HTTP: map[runKey][]*httpRun{},
			HTTPFail: map[runKey]string{}, Bursts: map[string][]burstRun{}, Scale: map[scaleKey]*scaleResult{},
			ServerArgs: map[string]string{}, RawPair: map[int][]rawPair{}, Pgbench: map[int][]pgbenchResult{},
			Peers: map[runKey][]*httpRun{}, PeerBytes: map[string]float64{}, PeerMissing: map[string]string{}, PeerBuilt: map[string]string{},
		},
	}
	defer b.stopRedis()
	defer b.stopPostgres()
	defer b.stopCmp(ctx)
	steps := b.plan()
	b.res.Steps = len(steps)
	var remaining time.Duration
	for _, s := range steps {
		remaining += s.est
	}
	for i, s := range steps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		el := time.Since(b.t0)
		b.logf("[%d/%d, %s elapsed, ~%s left] %s", i+1, len(steps), el.Round(time.Second), remaining.Round(time.Second), s.name)
		remaining -= s.est
		if err := s.fn(ctx); err != nil {
			if s.fatal || ctx.Err() != nil {
				return fmt.Errorf("%s: %v", s.name, err)
			}
			b.fail("%s: %v", s.name, err)
		}
		b.res.StepsFinished++
	}
	b.res.End, b.res.LoadEnd = time.Now(), loadavg()
	if err := b.write(); err != nil {
		return err
	}
	b.logf("wrote %s in %s", b.o.Out, time.Since(b.t0).Round(time.Second))
	if n := len(b.res.Failures); n > 0 {
		return fmt.Errorf("%d step(s) reported errors (listed at the end of %s)", n, b.o.Out)
	}
	return nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s bench: %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// fail records a failure: the run goes on, and the report lists it.
func (b *bench) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > 600 {
		msg = msg[:600] + "..."
	}
	b.res.Failures = append(b.res.Failures, msg)
	b.logf("FAILED: %s", msg)
}

// note records a command for the report's list, once.
func (b *bench) note(args ...string) {
	c := strings.ReplaceAll(shellQuote(args), b.work, "$TMP")
	if b.redis != nil {
		c = strings.ReplaceAll(c, b.redis.Addr, "127.0.0.1:REDIS_PORT")
	}
	if !contains(b.res.Commands, c) {
		b.res.Commands = append(b.res.Commands, c)
	}
}

// shellQuote joins args as one shell command line, quoting where needed.
func shellQuote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		plain := a != ""
		for _, c := range a {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:=@%+,-", c)) {
				plain = false
				break
			}
		}
		if plain {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// plan lists the steps of the run.
func (b *bench) plan() []step {
	o := b.o
	var steps []step
	add := func(name string, est time.Duration, fn func(context.Context) error) {
		steps = append(steps, step{name: name, est: est, fn: fn})
	}
	steps = append(steps,
		step{name: "building the example server and the yardstick", est: 20 * time.Second, fatal: true, fn: b.build},
		step{name: "starting a private redis-server", est: time.Second, fatal: true, fn: b.startRedis})
	httpRun := o.Warmup + o.Dur + 300*time.Millisecond
	if contains(o.Stores, "postgres") || contains(o.BurstStores, "postgres") || !o.Skip["pgbench"] {
		add("starting a private PostgreSQL server", 5*time.Second, b.startPostgres)
	}
	if !o.Skip["redis"] {
		for r := range o.Runs {
			add(fmt.Sprintf("redis-benchmark SET and GET, run %d/%d", r+1, o.Runs), time.Duration(o.RBRequests/20)*time.Millisecond, b.redisBenchmark)
		}
	}
	if !o.Skip["bare"] {
		add("starting the bare handler and the example server on the memory store", time.Second, b.startCmp)
		for r := range o.cmpRounds() {
			for _, mode := range []string{"share", "reveal"} {
				targets := b.cmpTargets(mode)
				if r%2 == 1 && len(targets) == 3 {
					// The server with metrics before the one without, every
					// other round: an order that favoured one would cancel.
					targets[1], targets[2] = targets[2], targets[1]
				}
				for _, t := range targets {
					est := httpRun
					if mode == "reveal" {
						est = 2*o.Dur + 300*time.Millisecond
					}
					add(fmt.Sprintf("%s: %s, %d clients, round %d/%d", targetName(t), mode, o.Clients, r+1, o.cmpRounds()), est,
						func(ctx context.Context) error { return b.cmpRun(ctx, t, mode) })
				}
			}
		}
		add("stopping the comparison's servers", time.Second, b.stopCmp)
	}
	// The yardsticks of the sweep run just before the store they measure
	// the Redis and PostgreSQL stores against.
	rawPair := func() {
		if !o.Skip["redis"] {
			per := time.Duration(o.RawRequests/25)*time.Millisecond + time.Duration(o.RawRequests*rawPairKeys/200)*time.Millisecond
			add(fmt.Sprintf("raw Redis pair (redis-benchmark SET EX, GETDEL) at %s clients, %d round(s)", joinInts(o.Concs), o.Runs),
				time.Duration(o.Runs*len(o.Concs))*per, b.rawPairRounds)
		}
	}
	pgbench := func() {
		if !o.Skip["pgbench"] {
			add(fmt.Sprintf("pgbench pair (INSERT, DELETE RETURNING) at %s clients, %d round(s)", joinInts(o.Concs), o.Runs),
				time.Duration(o.Runs)*pgbenchEstimate(o), b.pgbenchRounds)
		}
	}
	if !o.Skip["http"] {
		for _, t := range append([]string{bare}, o.Stores...) {
			switch t {
			case "redis":
				rawPair()
			case "postgres":
				pgbench()
			}
			add(fmt.Sprintf("%s: share, %d clients, %d run(s)", t, o.Clients, o.Runs), time.Duration(o.Runs)*httpRun+time.Second,
				func(ctx context.Context) error { return b.httpRuns(ctx, t, "share", []int{o.Clients}) })
			add(fmt.Sprintf("%s: pairs at %s clients, %d round(s)", t, joinInts(o.Concs), o.Runs), time.Duration(o.Runs*len(o.Concs))*httpRun+time.Second,
				func(ctx context.Context) error { return b.httpRuns(ctx, t, "pair", o.Concs) })
		}
	}
	if o.Skip["http"] || !contains(o.Stores, "redis") {
		rawPair()
	}
	if o.Skip["http"] || !contains(o.Stores, "postgres") {
		pgbench()
	}
	if !o.Skip["peers"] {
		add("peers: finding or building "+strings.Join(peerNames(), ", "), 10*time.Second, b.findPeers)
		for r := range o.Runs {
			add(fmt.Sprintf("peers: onetime, %s on one Redis, pairs at %s clients, round %d/%d", strings.Join(peerNames(), ", "), joinInts(peerConcs), r+1, o.Runs),
				time.Duration(len(peerDefs)+1)*(2*time.Second+time.Duration(len(peerConcs))*httpRun),
				func(ctx context.Context) error { return b.peerRound(ctx) })
		}
		add(fmt.Sprintf("peers: Redis bytes per stored secret (%d stored)", peerStored), time.Duration(len(peerDefs)+1)*5*time.Second, b.peerBytes)
	}
	if !o.Skip["burst"] {
		for _, s := range o.BurstStores {
			add(fmt.Sprintf("%s: passphrase burst (%d wrong-passphrase workers + %d pair clients), %d run(s)", s, o.Burst, o.Clients, o.Runs),
				time.Duration(o.Runs)*(httpRun+3*time.Second), func(ctx context.Context) error { return b.burst(ctx, s) })
		}
	}
	if !o.Skip["scale"] {
		for _, s := range o.Stores {
			for _, n := range o.ScaleSizes {
				add(fmt.Sprintf("%s: %d secrets stored, fill then pairs", s, n), time.Duration(n/10)*time.Millisecond+time.Duration(o.Runs)*httpRun+time.Second,
					func(ctx context.Context) error { return b.scale(ctx, s, n) })
			}
		}
	}
	if !o.Skip["telemetry"] {
		// Rounds of 3 go test runs, of 10 cases and a start each.
		n := max(o.GoCount, telemetryCount)
		est := time.Duration(n) * (10*time.Second + 3*2*time.Second)
		add("instrumentation cost: telemetry off and on, "+strconv.Itoa(n)+" rounds", est, b.telemetryBench)
	}
	if !o.Skip["go"] {
		for _, p := range o.GoPkgs {
			if _, err := os.Stat(p); err != nil {
				continue // store/postgres "if present"
			}
			est := map[bool]time.Duration{false: 70 * time.Second, true: 20 * time.Second}[o.Quick]
			add("go benchmarks of "+p, est, func(ctx context.Context) error { return b.goBench(ctx, p) })
		}
	}
	return steps
}

// pgbenchEstimate is how long a round of pgbench runs takes.
func pgbenchEstimate(o options) time.Duration {
	var d time.Duration
	for _, c := range o.Concs {
		d += time.Duration(pgbenchSeconds(o.Dur, c))*time.Second + time.Second
	}
	return d
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func (b *bench) build(ctx context.Context) error {
	b.server = filepath.Join(b.work, "bin", "server")
	b.yard = filepath.Join(b.work, "bin", "yardstick")
	for _, x := range [][2]string{{b.server, "./cmd/onetime-server"}, {b.yard, "./internal/cmd/yardstick"}} {
		args := []string{"go", "build", "-o", x[0], x[1]}
		b.note(args...)
		if out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", x[1], err, out)
		}
	}
	return nil
}

func (b *bench) startRedis(ctx context.Context) error {
	s, err := redistest.StartServer(filepath.Join(b.work, "redis"))
	if err != nil {
		return err
	}
	b.redis = s
	b.note(redistest.ServerBinary, "--port", "PORT", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	b.rdb = goredis.NewClient(&goredis.Options{Addr: s.Addr})
	info, err := b.rdb.Info(ctx, "server").Result()
	if err != nil {
		return err
	}
	if b.redisPID, err = strconv.Atoi(infoField(info, "process_id")); err != nil {
		return fmt.Errorf("redis INFO server: no process_id")
	}
	b.res.RedisVersion = infoField(info, "redis_version")
	b.env = append(b.env, redistest.EnvAddr+"="+s.Addr)
	return nil
}

func (b *bench) stopRedis() {
	if b.rdb != nil {
		b.rdb.Close()
	}
	if b.redis != nil {
		b.redis.Stop()
	}
}

// infoField returns a field of the text of Redis's INFO.
func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && k == name {
			return v
		}
	}
	return ""
}

func (b *bench) redisBenchmark(ctx context.Context) error {
	b.note(redisBenchmarkArgs("127.0.0.1:PORT", b.o.Clients, b.o.Size, b.o.RBRequests)...)
	res, err := runRedisBenchmark(ctx, b.redis.Addr, b.o.Clients, b.o.Size, b.o.RBRequests)
	if err != nil {
		return err
	}
	for k, v := range res {
		b.res.RB[k] = append(b.res.RB[k], v)
	}
	b.logf("redis-benchmark: SET %.0f/s, GET %.0f/s", res["SET"].RPS, res["GET"].RPS)
	return b.rdb.FlushAll(ctx).Err()
}

// startTarget starts the bare handler or the example server on a store.
func (b *bench) startTarget(ctx context.Context, target string) (*child, error) {
	logPath := filepath.Join(b.work, target+".log")
	if target == bare {
		b.note("yardstick", "-addr", "127.0.0.1:PORT")
		return startChild(b.yard, func(addr string) []string { return []string{"-addr", addr} }, b.env, logPath)
	}
	var args []string
	switch target {
	case "memory":
		args = []string{"-store", "memory"}
	case metered:
		ports, err := proc.FreePorts(1)
		if err != nil {
			return nil, err
		}
		args = []string{"-store", "memory", "-metrics-addr", "127.0.0.1:" + strconv.Itoa(ports[0])}
	case "sqlite":
		db := filepath.Join(b.work, "bench.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suffix)
		}
		args = []string{"-store", "sqlite", "-db", db}
	case "redis":
		if err := b.rdb.FlushAll(ctx).Err(); err != nil {
			return nil, err
		}
		args = []string{"-store", "redis", "-redis", "redis://" + b.redis.Addr + "/0"}
	case "postgres":
		db, err := b.freshDatabase(ctx)
		if err != nil {
			return nil, err
		}
		args = []string{"-store", "postgres", "-postgres", b.pg.URL(db)}
	default:
		return nil, fmt.Errorf("unknown store %q", target)
	}
	// Every load client connects from 127.0.0.1, one address with more
	// connections (up to 128 clients, plus 200 of the burst) than the
	// server's default cap per address: off, unless -server-args say.
	args = append(args, "-max-conns-per-addr", "0")
	// The burst's wrong passphrases, all from 127.0.0.1, would be held
	// back by the guess limit; the other phases fail nothing.
	args = append(args, "-guess-limit=false")
	args = append(args, b.o.ServerArgs...)
	noted := slices.Clone(args)
	switch target {
	case "postgres":
		noted[3] = "postgres://postgres@127.0.0.1:PGPORT/bench_N?sslmode=disable"
	case metered:
		noted[3] = "127.0.0.1:METRICSPORT"
	}
	b.note(append([]string{"server", "-addr", "127.0.0.1:PORT"}, noted...)...)
	b.res.ServerArgs[target] = strings.Join(args, " ")
	return startChild(b.server, func(addr string) []string { return append([]string{"-addr", addr}, args...) }, b.env, logPath)
}

// Backends of load: the store's own server, whose CPU time is measured
// beside the example server's.
const (
	noBackend       = ""
	redisBackend    = "redis"
	postgresBackend = "postgres"
)

// backendOf returns the backend of a target of the example server.
func backendOf(target string) string {
	switch target {
	case "redis":
		return redisBackend
	case "postgres":
		return postgresBackend
	}
	return noBackend
}

// backendCPU returns the CPU time that backend has used so far.
func (b *bench) backendCPU(backend string) (float64, error) {
	switch backend {
	case redisBackend:
		return cpuSeconds(b.redisPID)
	case postgresBackend:
		return b.pgCPU()
	}
	return 0, nil
}

// load runs the load generator against c with the loadgen command line
// args, reading the CPU time of the server (and of its backend, when it
// has one) at the start and end of the timed phase. On Redis it also
// counts the commands of the timed phase.
func (b *bench) load(ctx context.Context, c *child, backend string, args ...string) (*httpRun, error) {
	b.note(append([]string{"loadgen", "-url", "http://127.0.0.1:PORT"}, args...)...)
	cfg, err := loadgen.ParseFlags(append([]string{"-url", c.URL}, args...), nil)
	if err != nil {
		return nil, err
	}
	r := &httpRun{}
	var s0, r0, l0 float64
	var cpuErr error
	cfg.OnTimed = func(start bool) {
		if start && backend == redisBackend {
			cpuErr = errors.Join(cpuErr, b.rdb.ConfigResetStat(ctx).Err())
		}
		s, err := cpuSeconds(c.PID())
		rs, rerr := b.backendCPU(backend)
		cpuErr = errors.Join(cpuErr, err, rerr)
		l := proc.SelfCPU().Seconds()
		if start {
			s0, r0, l0 = s, rs, l
			return
		}
		r.ServerCPU, r.BackendCPU, r.LoadgenCPU = s-s0, rs-r0, l-l0
		if backend == redisBackend {
			info, err := b.rdb.Info(ctx, "commandstats").Result()
			cpuErr = errors.Join(cpuErr, err)
			r.RedisCalls = commandCalls(info)
		}
	}
	rep, err := loadgen.Run(ctx, cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("%v%s", err, c.LogTail())
	}
	if cpuErr != nil {
		return nil, fmt.Errorf("reading the CPU time of the server or its backend: %v", cpuErr)
	}
	r.Rep = rep
	r.Requests = rep.Ops
	if cfg.Mode == "pair" {
		r.Requests *= 2
	}
	if !rep.OK() {
		b.fail("loadgen %s: %d errors, %d wrong values: %v%s", strings.Join(args, " "), rep.Errors, rep.WrongValues, rep.ErrorKinds, c.LogTail())
	}
	return r, nil
}

// commandCalls returns the number of commands that INFO commandstats
// counts, but for INFO and CONFIG themselves (the tool's own).
func commandCalls(info string) int64 {
	var n int64
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		cmd, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd || cmd == "info" || cmd == "config" || strings.HasPrefix(cmd, "config|") {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(kv, "calls="); ok {
				c, _ := strconv.ParseInt(v, 10, 64)
				n += c
			}
		}
	}
	return n
}

func (b *bench) loadArgs(mode string, conc int) []string {
	args := []string{"-mode", mode, "-c", strconv.Itoa(conc), "-size", strconv.Itoa(b.o.Size), "-d", b.o.Dur.String()}
	if mode == "reveal" {
		// Shares for up to -d (untimed), then reveals them all or for -d.
		return append(args, "-pool", "2000000")
	}
	return append(args, "-warmup", b.o.Warmup.String())
}

// cmpRounds is the number of rounds of the bare handler against the
// example server: at least 3 even with -quick (a single pair of runs on a
// noisy machine says little), and 5 in a full run, where the
// instrumentation's cost, a few percent, is among them.
func (o options) cmpRounds() int {
	if o.Quick {
		return max(o.Runs, 3)
	}
	return max(o.Runs, 5)
}

// cmpTargets are the servers of the comparison's rounds in mode, in the
// order they run: the bare handler, the example server on the memory
// store, and for shares the same server with -metrics-addr (unless the
// phase "telemetry" is skipped).
func (b *bench) cmpTargets(mode string) []string {
	if mode == "share" && !b.o.Skip["telemetry"] {
		return []string{bare, "memory", metered}
	}
	return []string{bare, "memory"}
}

func (b *bench) startCmp(ctx context.Context) error {
	for _, t := range b.cmpTargets("share") {
		c, err := b.startTarget(ctx, t)
		if err != nil {
			b.stopCmp(ctx)
			return err
		}
		b.cmp[t] = c
	}
	return nil
}

func (b *bench) stopCmp(context.Context) error {
	for t, c := range b.cmp {
		c.Stop()
		delete(b.cmp, t)
	}
	return nil
}

func (b *bench) cmpRun(ctx context.Context, target, mode string) error {
	c := b.cmp[target]
	if c == nil {
		return fmt.Errorf("the %s server is not running", target)
	}
	r, err := b.load(ctx, c, noBackend, b.loadArgs(mode, b.o.Clients)...)
	if err != nil {
		return err
	}
	k := runKey{target, mode, b.o.Clients}
	b.res.Cmp[k] = append(b.res.Cmp[k], r)
	b.logf("%s %s: %.0f requests/s, %.1f µs server CPU per request", target, mode, r.RPS(), r.CPUPerRequest())
	return nil
}

// httpRuns measures target in mode at each client count, on a fresh
// server.
func (b *bench) httpRuns(ctx context.Context, target, mode string, concs []int) error {
	c, err := b.startTarget(ctx, target)
	if err != nil {
		for _, n := range concs {
			b.res.HTTPFail[runKey{target, mode, n}] = "server did not start"
		}
		return err
	}
	defer c.Stop()
	// Rounds outside, client counts inside: a machine whose load drifts
	// affects every count alike.
	for r := range b.o.Runs {
		for _, n := range concs {
			k := runKey{target, mode, n}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			run, err := b.load(ctx, c, backendOf(target), b.loadArgs(mode, n)...)
			if err != nil {
				b.res.HTTPFail[k] = "load generator failed"
				return err
			}
			b.res.HTTP[k] = append(b.res.HTTP[k], run)
			srv, be := run.CPUPerOp()
			b.logf("  %s %s, %s, round %d/%d: %.0f ops/s, p99 %.3f ms, CPU per op %.1f µs server, %.1f µs backend", target, mode, clientsLabel(n), r+1, b.o.Runs, run.Rep.OpsPerSec, run.Rep.Latency.P99, srv, be)
		}
	}
	return nil
}

func (b *bench) burst(ctx context.Context, store string) error {
	for r := range b.o.Runs {
		// A fresh process per run: VmHWM is this run's peak.
		c, err := b.startTarget(ctx, store)
		if err != nil {
			return err
		}
		run, err := b.load(ctx, c, noBackend, append(b.loadArgs("pair", b.o.Clients), "-burst", strconv.Itoa(b.o.Burst))...)
		var hwm int64
		if err == nil {
			hwm, err = statusKB(c.PID(), "VmHWM")
		}
		c.Stop()
		if err != nil {
			return err
		}
		b.res.Bursts[store] = append(b.res.Bursts[store], burstRun{run.Rep, hwm})
		b.logf("  %s burst, run %d/%d: pair p99 %.3f ms, server peak RSS %d MiB", store, r+1, b.o.Runs, run.Rep.Latency.P99, hwm/1024)
	}
	return nil
}

// storeBytes returns what the records of store take: the server's RSS
// (memory), the database files (sqlite: db + WAL + shm), used_memory
// (redis), pg_database_size (postgres).
func (b *bench) storeBytes(ctx context.Context, store string, c *child) (float64, error) {
	switch store {
	case "memory":
		kb, err := statusKB(c.PID(), "VmRSS")
		return float64(kb) * 1024, err
	case "sqlite":
		var n int64
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if fi, err := os.Stat(filepath.Join(b.work, "bench.db") + suffix); err == nil {
				n += fi.Size()
			}
		}
		return float64(n), nil
	case "postgres":
		return b.databaseSize(ctx)
	default:
		return b.redisUsedMemory(ctx)
	}
}

// redisUsedMemory returns Redis's used_memory.
func (b *bench) redisUsedMemory(ctx context.Context) (float64, error) {
	info, err := b.rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(infoField(info, "used_memory"), 64)
}

// scale fills a fresh server with n secrets in two steps and makes pairs.
// Bytes per secret are measured over the second step alone: the marginal
// cost of a secret, without the server's fixed overhead.
func (b *bench) scale(ctx context.Context, store string, n int) error {
	c, err := b.startTarget(ctx, store)
	if err != nil {
		return err
	}
	defer c.Stop()
	first := n / 10
	fill := func(k int) (*httpRun, error) {
		return b.load(ctx, c, noBackend, "-mode", "share", "-c", strconv.Itoa(b.o.Clients), "-size", strconv.Itoa(b.o.Size), "-n", strconv.Itoa(k), "-timeout", "60s")
	}
	if _, err := fill(first); err != nil {
		return err
	}
	before, err := b.storeBytes(ctx, store, c)
	if err != nil {
		return err
	}
	second, err := fill(n - first)
	if err != nil {
		return err
	}
	after, err := b.storeBytes(ctx, store, c)
	if err != nil {
		return err
	}
	res := &scaleResult{Fill: second.Rep.OpsPerSec, BytesPer: (after - before) / float64(n-first)}
	for range b.o.Runs {
		run, err := b.load(ctx, c, noBackend, b.loadArgs("pair", b.o.Clients)...)
		if err != nil {
			return err
		}
		res.Pairs = append(res.Pairs, run)
	}
	b.res.Scale[scaleKey{store, n}] = res
	b.logf("  %s, %d stored: pairs %.0f/s, %.0f bytes per secret", store, n, median(opsPerSec(res.Pairs)), res.BytesPer)
	return nil
}

func opsPerSec(runs []*httpRun) []float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = r.Rep.OpsPerSec
	}
	return xs
}

func (b *bench) goBench(ctx context.Context, pkg string) error {
	env := b.env
	if b.o.Scale && !b.o.Quick {
		env = append(env, "ONETIME_BENCH_1M=1")
	}
	if err := b.rdb.FlushAll(ctx).Err(); err != nil {
		return err
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, "."), "/")
	list := exec.CommandContext(ctx, "go", "test", "-list", "^Benchmark", pkg)
	list.Env = env
	out, err := list.CombinedOutput()
	if err != nil {
		return fmt.Errorf("cannot list the benchmarks (does it build?): %v\n%s", err, tail(string(out), 400))
	}
	var skip = scaleBenchName
	if b.o.Scale && !b.o.Quick {
		skip = nil
	}
	names := selectBenchmarks(string(out), skip)
	// The phase "telemetry" runs those, with counts of their own.
	names = slices.DeleteFunc(names, func(n string) bool { return isTelemetryBench(rel, n) })
	// store/redis's BenchmarkYardstick runs redis-benchmark (200,000
	// requests a count, not bounded by -benchtime): the yardsticks of
	// this run measure the same on the same Redis.
	names = slices.DeleteFunc(names, func(n string) bool { return skipGoBench[rel+"."+n] })
	if len(names) == 0 {
		return nil
	}
	b.logf("  %s: %s", pkg, strings.Join(names, " "))
	outPath := filepath.Join(b.work, "gobench-"+strings.ReplaceAll(rel+"root", "/", "-")+".txt")
	n := 0
	args, runErr := goTestBench(ctx, env, pkg, names, b.o.GoCount, b.o.BenchTime, outPath, func(line string) {
		n++
		b.logf("  %s %s (%d results)", cmp.Or(rel, "onetime"), strings.Fields(line)[0], n)
	})
	b.note(append([]string{"go"}, args...)...)
	raw, err := os.ReadFile(outPath)
	if err != nil {
		return err
	}
	b.res.GoRaw = append(b.res.GoRaw, raw...)
	rows, err := parseGoBench(bytes.NewReader(raw), rel)
	b.res.Go = append(b.res.Go, rows...)
	if runErr != nil {
		data, _ := os.ReadFile(outPath)
		return fmt.Errorf("go test -bench: %v\n%s", runErr, tail(string(data), 600))
	}
	return err
}

// skipGoBench names the Go benchmarks (package.name) that the phase "go"
// leaves out.
var skipGoBench = map[string]bool{"store/redis.BenchmarkYardstick": true}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// loadavg returns the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
