//go:build linux

package main

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/onetimego/onetime/internal/yardstick"
)

// agg is a set of HTTP runs summarized: medians, and what adds up.
type agg struct {
	N                                  int
	Ops, RPS, P50, P90, P99, Max, CPUs float64 // CPUs: server CPU µs per request
	ServerOp, BackendOp                float64 // CPU µs per operation (a pair, in pair mode): server, backend
	CallsOp                            float64 // Redis commands per operation, NaN when not counted
	Bad                                int64   // errors + wrong values, all runs
	Runs                               string  // ops/s of each run
	Split                              string  // CPU % server / loadgen (/ backend)
}

func aggregate(runs []*httpRun) agg {
	a := agg{N: len(runs)}
	var ops, rps, p50, p90, p99, mx, cpu, sop, bop, calls []float64
	var runList []string
	var s, l, r float64
	for _, x := range runs {
		ops = append(ops, x.Rep.OpsPerSec)
		rps = append(rps, x.RPS())
		p50 = append(p50, x.Rep.Latency.P50)
		p90 = append(p90, x.Rep.Latency.P90)
		p99 = append(p99, x.Rep.Latency.P99)
		mx = append(mx, x.Rep.Latency.Max)
		cpu = append(cpu, x.CPUPerRequest())
		so, bo := x.CPUPerOp()
		sop, bop = append(sop, so), append(bop, bo)
		if x.RedisCalls > 0 && x.Rep.Ops > 0 {
			calls = append(calls, float64(x.RedisCalls)/float64(x.Rep.Ops))
		}
		runList = append(runList, fmtFloat(x.Rep.OpsPerSec, 0))
		a.Bad += x.Rep.Errors + x.Rep.WrongValues
		s, l, r = s+x.ServerCPU, l+x.LoadgenCPU, r+x.BackendCPU
	}
	a.Ops, a.RPS, a.P50, a.P90, a.P99, a.Max, a.CPUs = median(ops), median(rps), median(p50), median(p90), median(p99), median(mx), median(cpu)
	a.ServerOp, a.BackendOp, a.CallsOp = median(sop), median(bop), median(calls)
	if r <= 0 {
		a.BackendOp = nan
	}
	a.Runs = strings.Join(runList, " / ")
	a.Split = cpuSplit(s, l, r)
	return a
}

// cpuSplit returns each one's share of the CPU seconds used, in percent:
// "server / loadgen", and " / backend" when the store's backend
// (redis-server, PostgreSQL) used some.
func cpuSplit(server, loadgen, backend float64) string {
	t := server + loadgen + backend
	if t <= 0 {
		return "n/a"
	}
	s := fmtFloat(100*server/t, 0) + " / " + fmtFloat(100*loadgen/t, 0)
	if backend > 0 {
		s += " / " + fmtFloat(100*backend/t, 0)
	}
	return s
}

// ratio returns a/b in percent, "n/a" when either is missing.
func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "n/a"
	}
	return fmtFloat(100*a/b, 0) + "%"
}

// pct1 returns v in percent with one decimal, "n/a" when it is NaN.
func pct1(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmtFloat(100*v, 1) + "%"
}

// verdict says whether a target is met; "not measured" when v is NaN.
func verdict(v float64, ok bool) string {
	switch {
	case math.IsNaN(v):
		return "not measured"
	case ok:
		return "met"
	default:
		return "**missed**"
	}
}

// goMedian returns the median of unit of a Go benchmark, NaN when absent.
func (r *results) goMedian(pkg, name, unit string) float64 {
	for _, row := range r.Go {
		if row.Pkg == pkg && row.Name == name {
			return row.Summary(unit).Center
		}
	}
	return nan
}

func perSecond(ns float64) float64 { return 1e9 / ns }

// rbMedian returns the median requests/s of a redis-benchmark command.
func (r *results) rbMedian(cmd string) float64 {
	var xs []float64
	for _, x := range r.RB[cmd] {
		xs = append(xs, x.RPS)
	}
	return median(xs)
}

// write writes the report and its charts.
func (b *bench) write() error {
	md, charts := b.render()
	dir := filepath.Join(filepath.Dir(b.o.Out), chartDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if len(b.res.GoRaw) > 0 {
		charts[goRawFile] = b.res.GoRaw
	}
	// A file of an earlier run that this one did not measure would be
	// stale: remove it.
	for _, name := range append(chartFiles, goRawFile) {
		if _, ok := charts[name]; !ok {
			os.Remove(filepath.Join(dir, name))
		}
	}
	for name, svg := range charts {
		if err := os.WriteFile(filepath.Join(dir, name), svg, 0o644); err != nil {
			return err
		}
	}
	tmp := b.o.Out + ".tmp"
	if err := os.WriteFile(tmp, md, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, b.o.Out)
}

// chartDir is where the charts go, beside the Markdown file.
const chartDir = "benchmarks"

// chartFiles are the charts a run may write in chartDir.
var chartFiles = []string{"bare-vs-server.svg", "http-latency.svg", "pairs-by-concurrency.svg", "cpu-per-pair.svg",
	"backend-cpu-per-pair.svg", "p99-by-concurrency.svg", "vs-raw-pair.svg", "peers.svg", "pairs-by-stored.svg"}

// goRawFile is the file in chartDir of the Go benchmarks' raw output.
const goRawFile = "go-bench.txt"

// render returns the Markdown report and its charts by file name.
func (b *bench) render() ([]byte, map[string][]byte) {
	charts := map[string][]byte{}
	var w bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&w, format+"\n", args...) }
	img := func(name, alt string, svg []byte) {
		charts[name] = svg
		p("![%s](%s/%s)", alt, chartDir, name)
		p("")
	}
	setRPS := b.res.rbMedian("SET")

	b.renderHeader(p)
	b.renderMachine(p)
	b.renderTargets(p)
	b.renderYardstick(p)
	b.renderBare(p, img)
	b.renderHTTP(p, img, setRPS)
	b.renderPeers(p, img)
	b.renderBurst(p)
	b.renderScale(p, img)
	b.renderTelemetry(p)
	b.renderGo(p, setRPS)
	b.renderCommands(p)
	return w.Bytes(), charts
}

func (b *bench) renderHeader(p printer) {
	o, r := b.o, b.res
	p("# Benchmarks")
	p("")
	if o.Quick {
		p("> QUICK RUN (`-quick`): short runs for smoke testing, not figures to publish.")
		p("")
	}
	p("Written by `go run ./internal/cmd/bench%s` on %s; every figure below is that run's own output.", flagsNote(o), r.Start.UTC().Format("2006-01-02 15:04 UTC"))
	if o.Runs > 1 {
		p("Do not edit by hand: run it again. Medians of %d runs unless said otherwise.", o.Runs)
	} else {
		p("Do not edit by hand: run it again. One run of each HTTP measurement unless said otherwise.")
	}
	p("")
}

func (b *bench) renderMachine(p printer) {
	r := b.res
	p("## Machine")
	p("")
	p("| | |")
	p("|---|---|")
	p("| CPUs | %d |", runtime.NumCPU())
	p("| CPU | %s |", cpuModel())
	p("| memory | %s |", memTotal())
	p("| kernel | %s |", kernel())
	p("| Go | %s %s/%s |", goVersion(), runtime.GOOS, runtime.GOARCH)
	p("| Redis | %s |", orNA(r.RedisVersion))
	p("| PostgreSQL | %s |", orNA(r.PostgresVersion))
	p("| onetime | %s |", commit())
	p("| load average (1, 5, 15 min) | at start %s; at end %s |", r.LoadStart, r.LoadEnd)
	p("| duration of the run | %s |", r.End.Sub(r.Start).Round(1e9))
	p("")
	p("Load generator, servers, Redis and PostgreSQL share these CPUs: the figures are for one box doing everything. Ratios measured in the same run are the figures to compare across machines.")
	p("")
}

func (b *bench) renderYardstick(p printer) {
	o, r := b.o, b.res
	p("## Yardsticks: redis-benchmark and pgbench on the same Redis and PostgreSQL, same run")
	p("")
	p("### redis-benchmark SET and GET")
	p("")
	p("`redis-benchmark -c %d -t set,get -d %d -n %d` against the private redis-server the Redis store uses below.", o.Clients, o.Size, o.RBRequests)
	p("")
	defer b.renderRawPairs(p)
	if len(r.RB) == 0 {
		p("Not measured in this run.")
		p("")
		return
	}
	p("| command | requests/s (median) | p99 ms (median) | runs (requests/s) |")
	p("|---|---:|---:|---|")
	for _, c := range []string{"SET", "GET"} {
		var rps, p99 []float64
		var runs []string
		for _, x := range r.RB[c] {
			rps, p99 = append(rps, x.RPS), append(p99, x.P99MS)
			runs = append(runs, fmtFloat(x.RPS, 0))
		}
		p("| %s | %s | %s | %s |", c, fmtFloat(median(rps), 0), fmtFloat(median(p99), 3), strings.Join(runs, " / "))
	}
	p("")
}

// renderCommands lists the commands the run ran, and what failed.
func (b *bench) renderCommands(p printer) {
	r := b.res
	p("## Commands")
	p("")
	p("Ports are free loopback ports chosen at run time (PORT, REDIS_PORT, PGPORT); $TMP is the run's temporary directory, $PGBIN the directory of PostgreSQL's binaries (internal/pgtest runs initdb once and starts each server from a copy of its data directory). The `loadgen` lines ran in the tool's own process, with the code of `internal/loadgen` (the same as `go run ./internal/cmd/loadgen` with these flags); `server` is `cmd/onetime-server`, `yardstick` is `internal/cmd/yardstick`, `yopass` and `ots` the peers' servers.")
	p("")
	p("```")
	for _, c := range r.Commands {
		p("%s", c)
	}
	p("```")
	if len(r.Failures) == 0 && r.StepsFinished >= r.Steps {
		return
	}
	p("")
	p("## Failures")
	p("")
	if r.StepsFinished < r.Steps {
		p("**The run stopped after %d of its %d steps.**", r.StepsFinished, r.Steps)
		p("")
	}
	if len(r.Failures) > 0 {
		p("**%d step(s) of this run reported errors:**", len(r.Failures))
		p("")
	}
	for _, f := range r.Failures {
		p("- %s", strings.ReplaceAll(strings.ReplaceAll(f, "\n", " "), b.work, "$TMP"))
	}
}

// flagsNote returns the flags the run was given that change what it
// measures, for the header.
func flagsNote(o options) string {
	var f []string
	if o.Quick {
		f = append(f, "-quick")
	}
	if o.Scale {
		f = append(f, "-scale")
	}
	if len(o.ServerArgs) > 0 {
		f = append(f, shellQuote([]string{"-server-args", strings.Join(o.ServerArgs, " ")}))
	}
	if len(f) == 0 {
		return ""
	}
	return " " + strings.Join(f, " ")
}

type printer = func(format string, args ...any)
type imager = func(name, alt string, svg []byte)

func (b *bench) renderBare(p printer, img imager) {
	o, r := b.o, b.res
	p("## The bare handler against the example server (memory store)")
	p("")
	p("The yardstick `internal/yardstick`: a bare net/http handler that parses the same forms (POST /api/v1/share with secret=...&ttl=..., POST /api/v1/secret/KEY) and writes a %d-byte JSON receipt (the value, for a reveal), keeping secrets in a map; run as a process of its own, like the example server on the memory store. Both were loaded in turn, %d rounds, with the same load: %d clients, %d-byte values, %v per run (share: after %v of untimed warm-up; reveal: of secrets shared beforehand, untimed); medians of the rounds.", yardstick.ReceiptSize, o.cmpRounds(), o.Clients, o.Size, o.Dur, o.Warmup)
	if _, ok := r.Cmp[runKey{metered, "share", o.Clients}]; ok {
		p("In each round's shares, %s is the same example server started with -metrics-addr (the OpenTelemetry SDK's MeterProvider and the Prometheus exporter installed, as an operator runs it; nothing scrapes it during the runs), loaded right after the one without (right before it every other round): the instrumentation's cost over HTTP (issue 20).", targetName(metered))
	}
	p("Server CPU per request is the server process's CPU time (user + system, /proc/PID/stat) over the timed phase, divided by its requests.")
	p("")
	if len(r.Cmp) == 0 {
		p("Not measured in this run.")
		p("")
		return
	}
	p("| server | request | requests/s (median) | server CPU µs/request (median) | p50 ms | p99 ms | errors + wrong values | runs (requests/s) |")
	p("|---|---|---:|---:|---:|---:|---:|---|")
	for _, mode := range []string{"share", "reveal"} {
		for _, t := range b.cmpTargets(mode) {
			if _, ok := r.Cmp[runKey{t, mode, o.Clients}]; !ok {
				continue
			}
			a := aggregate(r.Cmp[runKey{t, mode, o.Clients}])
			p("| %s | %s | %s | %s | %s | %s | %d | %s |", targetName(t), mode, fmtFloat(a.RPS, 0), fmtFloat(a.CPUs, 1), fmtFloat(a.P50, 3), fmtFloat(a.P99, 3), a.Bad, a.Runs)
		}
	}
	p("")
	var sv, mv []float64
	for _, mode := range []string{"share", "reveal"} {
		sv = append(sv, aggregate(r.Cmp[runKey{bare, mode, o.Clients}]).RPS)
		mv = append(mv, aggregate(r.Cmp[runKey{"memory", mode, o.Clients}]).RPS)
	}
	img("bare-vs-server.svg", "requests/s of the bare handler and of the example server", chart{
		Title: "Requests/s: bare handler vs example server (memory store)", YLabel: "requests/s",
		Groups: []string{"share", "reveal"},
		Series: []series{{targetName(bare), sv}, {"example server, memory", mv}},
	}.BarSVG())
}

func targetName(t string) string {
	switch t {
	case bare:
		return "bare handler"
	case metered:
		return "memory, -metrics-addr"
	}
	return t
}

func (b *bench) renderHTTP(p printer, img imager, setRPS float64) {
	o, r := b.o, b.res
	targets := append([]string{bare}, o.Stores...)
	p("## HTTP: the example server on each store")
	p("")
	p("The load generator (`internal/loadgen`), %d clients, %d-byte values, no passphrase, %v per run after %v of untimed warm-up, a fresh server per mode; the bare handler (above) for comparison.", o.Clients, o.Size, o.Dur, o.Warmup)
	p("A pair is a share and a reveal of the same secret (two requests); every revealed value is checked byte for byte.")
	p("\"vs SET\" is ops/s over redis-benchmark SET requests/s; \"vs bare\" over the bare handler's ops/s in the same mode. CPU figures are over the timed phases: server CPU per HTTP request, and the split of the CPU time used between the server, the load generator and, for the Redis and PostgreSQL stores, their backend (redis-server, every PostgreSQL process): on a small box the load generator's share is capacity the server did not get.")
	p("")
	if len(r.HTTP) == 0 && len(r.HTTPFail) == 0 {
		p("Not measured in this run.")
		p("")
		return
	}
	p("| server | mode | ops/s (median) | p50 ms | p90 ms | p99 ms | max ms | vs SET | vs bare | server CPU µs/request | errors + wrong values | runs (ops/s) | CPU %% server / loadgen (/ backend) |")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
	var lat [3][]float64
	var latGroups []string
	for _, t := range targets {
		for _, mode := range []string{"share", "pair"} {
			k := runKey{t, mode, o.Clients}
			if why, ok := r.HTTPFail[k]; ok && len(r.HTTP[k]) == 0 {
				p("| %s | %s | %s | | | | | | | | | | |", targetName(t), mode, why)
				continue
			}
			if len(r.HTTP[k]) == 0 {
				continue
			}
			a := aggregate(r.HTTP[k])
			p("%s", b.httpRow(t, mode, a, setRPS))
			latGroups = append(latGroups, t+" "+mode)
			for i, v := range []float64{a.P50, a.P90, a.P99} {
				lat[i] = append(lat[i], v)
			}
		}
	}
	p("")
	img("http-latency.svg", "latency percentiles per server and mode", chart{
		Title: fmt.Sprintf("Latency percentiles, %d clients (ms; a pair is two requests)", o.Clients), YLabel: "ms", Groups: latGroups,
		Series: []series{{"p50", lat[0]}, {"p90", lat[1]}, {"p99", lat[2]}},
	}.BarSVG())
	b.renderSweep(p, img, targets)
}

// httpRow is the row of the HTTP table for target t in mode, whose runs
// aggregate to a.
func (b *bench) httpRow(t, mode string, a agg, setRPS float64) string {
	vsBare := ""
	if t != bare {
		vsBare = ratio(a.Ops, aggregate(b.res.HTTP[runKey{bare, mode, b.o.Clients}]).Ops)
	}
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s | %s |", targetName(t), mode, fmtFloat(a.Ops, 0), fmtFloat(a.P50, 3), fmtFloat(a.P90, 3), fmtFloat(a.P99, 3), fmtFloat(a.Max, 3),
		ratio(a.Ops, setRPS), vsBare, fmtFloat(a.CPUs, 1), a.Bad, a.Runs, a.Split)
}

func (b *bench) renderBurst(p printer) {
	o, r := b.o, b.res
	p("## Passphrase burst")
	p("")
	p("%d workers reveal passphrase secrets with a wrong passphrase (each secret 5 times, then once with the right one, which must still open it) while %d other clients make pairs without passphrase. A fresh server per run; peak RSS is its VmHWM.", o.Burst, o.Clients)
	p("For comparison, the pair p99 of the same store without the burst (HTTP table above, %d clients).", o.Clients)
	p("")
	if len(r.Bursts) == 0 {
		p("Not measured in this run.")
		p("")
		return
	}
	p("| store | pair p99 ms (median) | without burst | pairs/s | wrong-passphrase reveals per run | server peak RSS MiB (median) | runs (MiB) | errors + wrong values |")
	p("|---|---:|---:|---:|---:|---:|---|---:|")
	for _, s := range o.BurstStores {
		runs := r.Bursts[s]
		if len(runs) == 0 {
			p("| %s | not measured | | | | | | |", s)
			continue
		}
		var p99, ops, tries, hwm []float64
		var hwmRuns []string
		var bad int64
		for _, x := range runs {
			p99, ops = append(p99, x.Rep.Latency.P99), append(ops, x.Rep.OpsPerSec)
			if x.Rep.Burst != nil {
				tries = append(tries, float64(x.Rep.Burst.WrongAttempts))
				bad += x.Rep.Burst.Errors + x.Rep.Burst.WrongValues
			}
			hwm = append(hwm, float64(x.HWMKB)/1024)
			hwmRuns = append(hwmRuns, fmtFloat(float64(x.HWMKB)/1024, 0))
			bad += x.Rep.Errors + x.Rep.WrongValues
		}
		without := aggregate(r.HTTP[runKey{s, "pair", o.Clients}]).P99
		p("| %s | %s | %s | %s | %s | %s | %s | %d |", s, fmtFloat(median(p99), 3), fmtFloat(without, 3), fmtFloat(median(ops), 0), fmtFloat(median(tries), 0), fmtFloat(median(hwm), 0), strings.Join(hwmRuns, " / "), bad)
	}
	p("")
}

func (b *bench) renderScale(p printer, img imager) {
	o, r := b.o, b.res
	p("## Scale: secrets already stored")
	p("")
	p("Per store and size N: a fresh server filled with N shares of %d-byte values (N/10, then the rest: fill rate of the rest shown), then pair runs (%d clients).", o.Size, o.Clients)
	p("Bytes per secret (each with its receipt) is the growth over the second fill step, divided by its 9N/10 secrets: of process RSS (memory), of the database files (sqlite: db + WAL + shm), of used_memory (redis).")
	p("")
	if len(r.Scale) == 0 {
		p("Not measured in this run.")
		p("")
		return
	}
	p("| store | stored | fill shares/s | pairs/s (median) | pair p99 ms | vs smallest | bytes per secret |")
	p("|---|---:|---:|---:|---:|---:|---:|")
	var groups []string
	for _, n := range o.ScaleSizes {
		groups = append(groups, fmt.Sprint(n))
	}
	var ser []series
	for _, s := range o.Stores {
		first := nan
		var vals []float64
		for _, n := range o.ScaleSizes {
			x := r.Scale[scaleKey{s, n}]
			if x == nil {
				p("| %s | %d | not measured | | | | |", s, n)
				vals = append(vals, nan)
				continue
			}
			a := aggregate(x.Pairs)
			if math.IsNaN(first) {
				first = a.Ops
			}
			vals = append(vals, a.Ops)
			p("| %s | %d | %s | %s | %s | %s | %s |", s, n, fmtFloat(x.Fill, 0), fmtFloat(a.Ops, 0), fmtFloat(a.P99, 3), ratio(a.Ops, first), fmtFloat(x.BytesPer, 0))
		}
		ser = append(ser, series{s, vals})
	}
	p("")
	img("pairs-by-stored.svg", "pairs per second by secrets stored", chart{
		Title: "Pairs/s by secrets already stored", YLabel: "pairs/s", Groups: groups, Series: ser,
	}.LineSVG())
}

func (b *bench) renderGo(p printer, setRPS float64) {
	o, r := b.o, b.res
	p("## Go benchmarks (no HTTP)")
	p("")
	p("`go test -run '^$' -bench ... -benchmem -count %d -benchtime %s` on the root package and store/...; medians of the %d counts, and the 95%% confidence interval of ns/op as benchstat computes it (golang.org/x/perf/benchmath; it needs 6 counts or more).", o.GoCount, o.BenchTime, o.GoCount)
	p("go test's output is kept in [%s/%s](%s/%s): compare two runs with `benchstat old.txt new.txt` (golang.org/x/perf/cmd/benchstat).", chartDir, goRawFile, chartDir, goRawFile)
	p("ops/s is 10^9 / ns/op (for parallel benchmarks, the throughput of all goroutines together); \"vs redis SET\" is shown for Redis-backed benchmarks.")
	if !o.Scale || o.Quick {
		p("Benchmarks named *Scale*, *Stored*, *Growth* or *Million* fill stores to scale and ran only with `-scale`.")
	}
	p("store/redis's BenchmarkYardstick is left out: it runs redis-benchmark, which the section \"Yardsticks\" measures on the same Redis.")
	p("")
	if len(r.Go) == 0 {
		p("Not measured in this run.")
		p("")
		return
	}
	p("| package | benchmark | ns/op | ± | ops/s | vs redis SET | B/op | allocs/op | other (median) | n |")
	p("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
	for _, row := range r.Go {
		p("%s", goRow(row, setRPS))
	}
	p("")
}

// goRow is the row of the Go benchmarks' table for row: medians, the
// confidence interval of ns/op, and ops/s against redis-benchmark's SET
// for the Redis store's benchmarks.
func goRow(row *benchRow, setRPS float64) string {
	ns := row.Summary("ns/op")
	ops, vs := nan, ""
	if ns.N > 0 && ns.Center > 0 {
		ops = perSecond(ns.Center)
		if strings.Contains(row.Pkg, "redis") {
			vs = ratio(ops, setRPS)
		}
	}
	var other []string
	for _, u := range row.Units {
		if u == "ns/op" || u == "B/op" || u == "allocs/op" {
			continue
		}
		other = append(other, fmtFloat(row.Summary(u).Center, 4)+" "+u)
	}
	pkg := cmp.Or(row.Pkg, "onetime")
	return fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |", pkg, row.Name, fmtFloat(ns.Center, 0), ns.pctRange(), fmtFloat(ops, 0), vs,
		fmtFloat(row.Summary("B/op").Center, 0), fmtFloat(row.Summary("allocs/op").Center, 0), strings.Join(other, ", "), ns.N)
}

// renderTargets says, for each target the project set itself, what this
// run measured and whether it is met.
func (b *bench) renderTargets(p printer) {
	p("## Targets as measured here")
	p("")
	p("| target | measured | |")
	p("|---|---|---|")
	b.bareTargets(p)
	b.issue22Targets(p)
	b.redisHTTPTargets(p)
	b.burstTargets(p)
	b.scaleTargets(p)
	b.goTargets(p)
	b.telemetryTargets(p)
	p("")
	p("Rows from Go benchmarks read them by their current names; \"not measured\" means a name has changed or the phase did not run. The bare-handler target rows compare the rounds of the section \"The bare handler against the example server\" below: the median of each round's ratio. Rows marked \"check\" measure a target's quantity another way and have no verdict of their own.")
	p("")
}

// bareTargets (issue 14): the example server against the bare handler,
// same run. Round i of each was made one after the other: the ratio of
// each round's pair is less affected by a machine whose load drifts than
// the ratio of medians.
func (b *bench) bareTargets(p printer) {
	o, r := b.o, b.res
	for _, mode := range []string{"share", "reveal"} {
		bs, ms := r.Cmp[runKey{bare, mode, o.Clients}], r.Cmp[runKey{"memory", mode, o.Clients}]
		rr := pairedRatios(ms, bs, (*httpRun).RPS)
		cr := pairedRatios(ms, bs, (*httpRun).CPUPerRequest)
		rv, cv := median(rr), median(cr)
		ba, ma := aggregate(bs), aggregate(ms)
		issues := "issue 14"
		if mode == "share" {
			issues = "issues 14 and 22"
		}
		p("| Example server, memory store, %s: >= 70%% of the bare handler's requests/s | %s (rounds: %s; medians %s / %s requests/s) | %s |", mode, pct1(rv), joinFloats(rr, 100, 1, "%"), fmtFloat(ma.RPS, 0), fmtFloat(ba.RPS, 0), verdict(rv, rv >= 0.7))
		p("| Example server, memory store, %s: server CPU per request <= 1.5x the bare handler's (%s) | %sx (rounds: %s; medians %s / %s µs) | %s |", mode, issues, fmtFloat(cv, 2), joinFloats(cr, 1, 2, "x"), fmtFloat(ma.CPUs, 1), fmtFloat(ba.CPUs, 1), verdict(cv, cv <= 1.5))
	}
}

// redisHTTPTargets (issue 6): the Redis store over HTTP.
func (b *bench) redisHTTPTargets(p printer) {
	o, r := b.o, b.res
	if !contains(o.Stores, "redis") {
		return
	}
	sh, pr := aggregate(r.HTTP[runKey{"redis", "share", o.Clients}]), aggregate(r.HTTP[runKey{"redis", "pair", o.Clients}])
	p("| Redis store over HTTP: >= 15,000 shares/s | %s | %s |", fmtFloat(sh.Ops, 0), verdict(sh.Ops, sh.Ops >= 15000))
	p("| Redis store over HTTP: >= 6,000 pairs/s | %s | %s |", fmtFloat(pr.Ops, 0), verdict(pr.Ops, pr.Ops >= 6000))
	worst := math.Max(sh.P99, pr.P99)
	if math.IsNaN(sh.P99) || math.IsNaN(pr.P99) {
		worst = nan
	}
	p("| Redis store over HTTP: p99 < 20 ms (share / pair) | %s / %s | %s |", fmtFloat(sh.P99, 3), fmtFloat(pr.P99, 3), verdict(worst, worst < 20))
}

// burstTargets: memory and other requests' latency under a burst of
// wrong passphrases.
func (b *bench) burstTargets(p printer) {
	o, r := b.o, b.res
	for _, s := range o.BurstStores {
		var hwm, p99 []float64
		for _, x := range r.Bursts[s] {
			hwm, p99 = append(hwm, float64(x.HWMKB)/1024), append(p99, x.Rep.Latency.P99)
		}
		h, q := median(hwm), median(p99)
		p("| Burst of %d wrong passphrases (%s): server RSS < 512 MiB | %s MiB | %s |", o.Burst, s, fmtFloat(h, 0), verdict(h, h < 512))
		p("| Burst of %d wrong passphrases (%s): other requests' p99 < 100 ms | %s ms | %s |", o.Burst, s, fmtFloat(q, 3), verdict(q, q < 100))
	}
}

// scaleTargets: pairs/s as secrets pile up, and Redis's bytes per secret.
func (b *bench) scaleTargets(p printer) {
	o, r := b.o, b.res
	n := len(o.ScaleSizes)
	if n < 2 {
		return
	}
	small, large := o.ScaleSizes[0], o.ScaleSizes[n-1]
	for _, s := range o.Stores {
		if s == "memory" {
			// The memory store serves tests and one process; its scale
			// figures are reported in their section without a target
			// (SQLite is the embedded default for real use).
			continue
		}
		a, z := r.Scale[scaleKey{s, small}], r.Scale[scaleKey{s, large}]
		v := nan
		if a != nil && z != nil {
			v = aggregate(z.Pairs).Ops / aggregate(a.Pairs).Ops
		}
		p("| %s: pairs/s with %d stored within 20%% of %d stored | %s | %s |", s, large, small, ratio(v, 1), verdict(v, v >= 0.8))
	}
	if contains(o.Stores, "redis") {
		v, stored := nan, large
		if z := r.Scale[scaleKey{"redis", large}]; z != nil {
			v = z.BytesPer
		} else if x, ok := r.PeerBytes[peerOnetime]; ok {
			v, stored = x, peerStored
		}
		p("| Redis: <= 400 bytes per stored %d-byte secret with its receipt (%d stored; issue 22, was 700) | %s | %s |", o.Size, stored, fmtFloat(v, 0), verdict(v, v <= 400))
	}
}

// goTargets are the targets read from Go benchmarks, by their names:
// store/redis's BenchmarkModes and BenchmarkStore, which
// storetest.RunBenchmarks runs on every store. The memory store has no
// target of its own: it is the reference implementation, kept simple.
func (b *bench) goTargets(p printer) {
	r := b.res
	for _, op := range []string{"Share", "Reveal"} {
		// adaptive: Options.Pipeline (go-redis's pipeliner only while
		// other commands are in flight); direct: the default.
		for _, mode := range []string{"adaptive", "direct"} {
			name := "BenchmarkModes/" + op + "/" + mode
			ops := perSecond(r.goMedian("store/redis", name, "ns/op"))
			v := ops / r.rbMedian("SET")
			p("| Redis store %s, %s (store/redis %s, 32 goroutines) >= 60%% of redis-benchmark SET | %s/s = %s of %s | %s |", op, mode, name, fmtFloat(ops, 0), ratio(v, 1), fmtFloat(r.rbMedian("SET"), 0), verdict(v, v >= 0.6))
		}
	}
	pp := perSecond(r.goMedian("store/sqlite", "BenchmarkStore/Pair/parallel", "ns/op"))
	p("| SQLite >= 10,000 pairs/s in parallel (store/sqlite BenchmarkStore/Pair/parallel, 32 goroutines) | %s | %s |", fmtFloat(pp, 0), verdict(pp, pp >= 10000))
}

// pairedRatios returns f(a[i]) / f(b[i]) for each round i that has both.
func pairedRatios(a, b []*httpRun, f func(*httpRun) float64) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		if d := f(b[i]); d > 0 {
			out = append(out, f(a[i])/d)
		}
	}
	return out
}

// joinFloats formats xs scaled by mul, " / "-separated, each followed by
// suffix; "n/a" for none.
func joinFloats(xs []float64, mul float64, dec int, suffix string) string {
	if len(xs) == 0 {
		return "n/a"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmtFloat(x*mul, dec) + suffix
	}
	return strings.Join(s, " / ")
}

func orNA(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	if kb, err := parseStatusKB(string(b), "MemTotal"); err == nil {
		return fmtFloat(float64(kb)/(1<<20), 1) + " GiB"
	}
	return "unknown"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return runtime.GOOS
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// goVersion is the version of the go command that built the server and
// ran the Go benchmarks.
func goVersion() string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}

// commit returns the commit checked out, read from .git without running
// git; uncommitted changes are not detected.
func commit() string {
	head, err := os.ReadFile(".git/HEAD")
	if err != nil {
		return "unknown"
	}
	h := strings.TrimSpace(string(head))
	if ref, ok := strings.CutPrefix(h, "ref: "); ok {
		h = ""
		if b, err := os.ReadFile(filepath.Join(".git", ref)); err == nil {
			h = strings.TrimSpace(string(b))
		} else if packed, err := os.ReadFile(".git/packed-refs"); err == nil {
			for line := range strings.Lines(string(packed)) {
				if f := strings.Fields(line); len(f) == 2 && f[1] == ref {
					h = f[0]
				}
			}
		}
	}
	if len(h) < 7 {
		return "unknown"
	}
	return h[:7] + " (plus any uncommitted changes)"
}
