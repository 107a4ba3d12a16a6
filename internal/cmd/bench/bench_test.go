//go:build linux

package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/loadgen"
)

const goOutput = `goos: linux
goarch: amd64
pkg: github.com/onetimego/onetime/store/sqlite
cpu: AMD EPYC
BenchmarkShare-2                   	   14205	     84861 ns/op	    4136 B/op	      82 allocs/op
BenchmarkShare-2                   	   14000	     80000 ns/op	    4100 B/op	      82 allocs/op
BenchmarkPair/maxbatch=1-2         	    9000	    116006 ns/op	       122.5 cpu-µs/pair	    8620 pairs/s	    8066 B/op	     175 allocs/op
some log line from a benchmark
BenchmarkShare-2                   	   14100	     90000 ns/op	    4200 B/op	      82 allocs/op
PASS
ok  	github.com/onetimego/onetime/store/sqlite	12.3s
`

func TestParseGoBench(t *testing.T) {
	rows, err := parseGoBench(strings.NewReader(goOutput), "store/sqlite")
	require.NoError(t, err)
	require.Len(t, rows, 2)

	share := rows[0]
	assert.Equal(t, "store/sqlite", share.Pkg)
	assert.Equal(t, "BenchmarkShare", share.Name, "the -GOMAXPROCS suffix is dropped")
	assert.Equal(t, []string{"ns/op", "B/op", "allocs/op"}, share.Units)
	assert.Equal(t, []float64{84861, 80000, 90000}, share.Values["ns/op"], "values in go test's own units")
	s := share.Summary("ns/op")
	assert.Equal(t, 3, s.N)
	assert.Equal(t, 84861.0, s.Center)
	assert.False(t, s.hasCI(), "3 values give no 95% interval")

	pair := rows[1]
	assert.Equal(t, "BenchmarkPair/maxbatch=1", pair.Name)
	assert.Equal(t, []string{"ns/op", "cpu-µs/pair", "pairs/s", "B/op", "allocs/op"}, pair.Units)
	assert.Equal(t, 122.5, pair.Summary("cpu-µs/pair").Center)
	assert.Zero(t, pair.Summary("MB/s").N)
}

func TestParseGoBenchSyntaxError(t *testing.T) {
	_, err := parseGoBench(strings.NewReader("BenchmarkX-2 100 12 ns/op 7\n"), "p")
	require.Error(t, err, "a value without a unit")
}

func TestSummarize(t *testing.T) {
	s := summarize([]float64{6, 1, 5, 2, 4, 3})
	assert.Equal(t, 3.5, s.Center)
	require.True(t, s.hasCI(), "6 values are the fewest with a 95% interval")
	assert.Equal(t, 1.0, s.Lo)
	assert.Equal(t, 6.0, s.Hi)
	assert.Equal(t, "±71%", s.pctRange())

	s = summarize([]float64{10, 10, 10, 10, 10, 10, 10, 10})
	assert.Equal(t, "±0%", s.pctRange())

	s = summarize([]float64{3, 1, 2})
	assert.Equal(t, 2.0, s.Center)
	assert.False(t, s.hasCI())
	assert.Empty(t, s.pctRange())

	s = summarize(nil)
	assert.Zero(t, s.N)
	assert.True(t, math.IsNaN(s.Center))
	assert.True(t, math.IsNaN(median(nil)))
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
}

func TestParseRedisCSV(t *testing.T) {
	out := `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","87451.38","0.2","0.1","0.2","0.3","0.367","1.5"
"GET","88613.00","0.2","0.1","0.2","0.3","0.335","1.2"
`
	res, err := parseRedisCSV(out)
	require.NoError(t, err)
	assert.Equal(t, rbResult{87451.38, 0.367}, res["SET"])
	assert.Equal(t, rbResult{88613, 0.335}, res["GET"])

	// Older redis-benchmark: no header, no latencies.
	res, err = parseRedisCSV("\"SET\",\"1000.5\"\n\"GET\",\"2000\"\n")
	require.NoError(t, err)
	assert.Equal(t, 1000.5, res["SET"].RPS)
	assert.True(t, math.IsNaN(res["GET"].P99MS))

	_, err = parseRedisCSV("")
	require.Error(t, err)
	_, err = parseRedisCSV("\"SET\",\"fast\"\n")
	require.Error(t, err)
}

func TestParseStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	stat := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 125 0 0 20 0 9 0 100 1000 50 18446744073709551615\n"
	v, err := parseStatCPU(stat)
	require.NoError(t, err)
	assert.InDelta(t, 3.75, v, 1e-9, "(250 + 125) ticks of 1/100 s")
	_, err = parseStatCPU("4242 (x) S 1 2")
	require.Error(t, err)
	_, err = parseStatCPU("no name")
	require.Error(t, err)

	status := "Name:\tserver\nVmHWM:\t  104580 kB\nVmRSS:\t   99000 kB\n"
	kb, err := parseStatusKB(status, "VmHWM")
	require.NoError(t, err)
	assert.Equal(t, int64(104580), kb)
	_, err = parseStatusKB(status, "VmSwap")
	require.Error(t, err)
}

func TestSelectBenchmarks(t *testing.T) {
	list := "BenchmarkShare\nBenchmarkScale\nBenchmarkStoredMemory\nBenchmarkReveal\nok  \tpkg\t0.01s\n"
	assert.Equal(t, []string{"BenchmarkShare", "BenchmarkReveal"}, selectBenchmarks(list, scaleBenchName))
	all := selectBenchmarks(list, nil)
	assert.Len(t, all, 4)
	re := regexp.MustCompile(benchRegexp(all))
	assert.True(t, re.MatchString("BenchmarkShare"))
	assert.False(t, re.MatchString("BenchmarkShareParallel"), "names match whole")
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-quick"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 1, o.Runs)
	assert.Equal(t, time.Second, o.Dur)
	assert.Equal(t, []int{1, 8, 32, 128}, o.Concs, "the whole sweep, even with -quick")
	assert.Equal(t, []int{1000, 10000}, o.ScaleSizes)
	assert.Equal(t, []string{"memory", "sqlite", "redis", "postgres"}, o.Stores)
	assert.Empty(t, o.Peers)
	assert.Equal(t, 1, o.GoCount)

	o, err = parseOptions([]string{"-scale", "-c", "4,16", "-skip", "go,burst"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 3, o.Runs)
	assert.Equal(t, 6, o.GoCount, "enough counts for benchstat's 95% interval")
	assert.Equal(t, []int{1000, 100000, 1000000}, o.ScaleSizes)
	assert.Equal(t, 3*time.Second, o.Dur)
	assert.Equal(t, "100ms", o.BenchTime)
	assert.Equal(t, 500*time.Millisecond, o.Warmup)
	assert.Equal(t, []int{4, 16}, o.Concs)
	assert.True(t, o.Skip["go"] && o.Skip["burst"] && !o.Skip["http"])
	assert.Empty(t, o.ServerArgs)

	o, err = parseOptions([]string{"-server-args", " -access-log=false  -max-conns 64"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"-access-log=false", "-max-conns", "64"}, o.ServerArgs)
	assert.Equal(t, ` -server-args '-access-log=false -max-conns 64'`, flagsNote(o))

	o, err = parseOptions([]string{"-peers", "yopass=/x/yopass-server, ots=/y/ots", "-skip", "peers,pgbench"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"yopass": "/x/yopass-server", "ots": "/y/ots"}, o.Peers)
	assert.True(t, o.Skip["peers"] && o.Skip["pgbench"])

	for _, bad := range [][]string{{"-stores", "mysql"}, {"-skip", "everything"}, {"-c", "0"}, {"-runs", "-1"}, {"extra"},
		{"-peers", "vault=/bin/vault"}, {"-peers", "yopass"}, {"-peers", "ots="}} {
		_, err := parseOptions(bad, io.Discard)
		require.Error(t, err, "%q", bad)
	}
	_, err = parseOptions([]string{"-h"}, io.Discard)
	require.True(t, errors.Is(err, flag.ErrHelp))
}

func TestShellQuote(t *testing.T) {
	assert.Equal(t, `go test -run '^$' -bench '^(A|B)$' ./x`, shellQuote([]string{"go", "test", "-run", "^$", "-bench", "^(A|B)$", "./x"}))
	assert.Equal(t, `redis-server --save '' 'it'\''s'`, shellQuote([]string{"redis-server", "--save", "", "it's"}))
}

func TestFormatting(t *testing.T) {
	assert.Equal(t, "12", fmtFloat(12.0001, 2))
	assert.Equal(t, "2.5", fmtFloat(2.5, 2))
	assert.Equal(t, "n/a", fmtFloat(nan, 1))
	assert.Equal(t, "0", fmtFloat(-0.0001, 1))
	assert.Equal(t, "70 / 30", cpuSplit(7, 3, 0))
	assert.Equal(t, "50 / 25 / 25", cpuSplit(2, 1, 1))
	assert.Equal(t, "n/a", cpuSplit(0, 0, 0))
	assert.Equal(t, "50%", ratio(1, 2))
	assert.Equal(t, "n/a", ratio(nan, 2))
	assert.Equal(t, "met", verdict(1, true))
	assert.Equal(t, "**missed**", verdict(1, false))
	assert.Equal(t, "not measured", verdict(nan, true))
	assert.Equal(t, "12k", axisLabel(12000))
	assert.Equal(t, "2.5M", axisLabel(2.5e6))
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{1: 1, 1.2: 1.5, 2: 2, 2.2: 2.5, 3: 3, 3.5: 4, 7: 8, 9: 10, 12345: 15000, 116: 150, 0.03: 0.03, 0: 1, -5: 1} {
		assert.InDelta(t, want, niceCeil(in), want*1e-9, "niceCeil(%v)", in)
	}
	assert.Equal(t, 1.0, niceCeil(nan))
}

// svgElements parses an SVG as XML and counts its elements by name.
func svgElements(t *testing.T, svg []byte) map[string]int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	n := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "well-formed XML")
		if s, ok := tok.(xml.StartElement); ok {
			n[s.Name.Local]++
		}
	}
	require.Equal(t, 1, n["svg"])
	return n
}

func TestBarSVG(t *testing.T) {
	c := chart{
		Title: "Pairs/s <by> store & concurrency", YLabel: "pairs/s",
		Groups: []string{"8 clients", "32 clients"},
		Series: []series{{"memory", []float64{100, 200}}, {"sqlite", []float64{50, nan}}, {"redis", []float64{80, 90}}},
	}
	svg := c.BarSVG()
	n := svgElements(t, svg)
	// A background rect, a legend rect per series, a bar per value (the
	// NaN one left out).
	assert.Equal(t, 1+3+5, n["rect"])
	assert.Contains(t, string(svg), "Pairs/s &lt;by&gt; store &amp; concurrency")
	assert.Contains(t, string(svg), "<title>memory, 32 clients: 200</title>")

	// The tallest bar reaches the top of the scale (200 is nice already).
	assert.Contains(t, string(svg), `height="260.0"`, "a full-height bar: plot height 260")
}

func TestLineSVG(t *testing.T) {
	c := chart{
		Title: "Pairs/s by secrets stored", YLabel: "pairs/s",
		Groups: []string{"1000", "100000", "1000000"},
		Series: []series{{"memory", []float64{12000, 11000, 9000}}, {"redis", []float64{nan, nan, nan}}},
	}
	n := svgElements(t, c.LineSVG())
	assert.Equal(t, 1, n["polyline"], "no line for a series without values")
	assert.Equal(t, 3, n["circle"])

	empty := chart{Title: "nothing"}
	svgElements(t, empty.LineSVG())
	svgElements(t, empty.BarSVG())
}

// The report renders every section from a run's results, with verdicts
// computed from the figures, and a chart per figure.
func TestRender(t *testing.T) {
	o, err := parseOptions([]string{"-quick", "-c", "8,32", "-sizes", "1000,10000", "-stores", "memory,redis,postgres"}, io.Discard)
	require.NoError(t, err)
	rep := func(ops, p99 float64) *loadgen.Report {
		return &loadgen.Report{OpsPerSec: ops, ElapsedS: 1, Ops: int64(ops), Latency: loadgen.LatencyMS{P50: p99 / 4, P90: p99 / 2, P99: p99, Max: 2 * p99}}
	}
	run := func(ops, p99, cpu float64, mode string) *httpRun {
		r := &httpRun{Rep: rep(ops, p99), Requests: int64(ops), ServerCPU: cpu, LoadgenCPU: cpu / 2}
		if mode == "pair" {
			r.Requests *= 2
		}
		return r
	}
	// A pair run on a backend: CPU seconds of the server and the backend,
	// and Redis commands.
	backed := func(ops, p99, cpu, backend float64, calls int64) *httpRun {
		r := run(ops, p99, cpu, "pair")
		r.BackendCPU, r.RedisCalls = backend, calls
		return r
	}
	res := &results{
		RB: map[string][]rbResult{"SET": {{80000, 0.4}}, "GET": {{90000, 0.3}}},
		Cmp: map[runKey][]*httpRun{
			// Rounds: 80% then 70% of the bare handler's requests/s, 1.5x its CPU per request.
			{bare, "share", 32}: {run(30000, 2, 0.6, "share"), run(30000, 2, 0.6, "share")}, {"memory", "share", 32}: {run(24000, 3, 0.72, "share"), run(21000, 3, 0.63, "share")},
			{bare, "reveal", 32}: {run(40000, 2, 0.6, "reveal")}, {"memory", "reveal", 32}: {run(20000, 3, 0.6, "reveal")}, // 50%, 2x
		},
		HTTP: map[runKey][]*httpRun{
			{bare, "share", 32}: {run(30000, 2, 1, "share")}, {bare, "pair", 32}: {run(15000, 3, 1, "pair")}, {bare, "pair", 8}: {run(14000, 1, 1, "pair")},
			{"memory", "share", 32}: {run(20000, 3, 1, "share")}, {"memory", "pair", 32}: {run(10000, 5, 1, "pair")}, {"memory", "pair", 8}: {run(9000, 2, 1, "pair")},
			{"redis", "share", 32}: {run(16000, 4, 1, "share")},
			// 200 and 160 µs of server CPU per pair: 25% apart.
			{"redis", "pair", 8}:     {backed(4000, 2, 0.8, 0.24, 40000)},
			{"redis", "pair", 32}:    {backed(8000, 5, 1.28, 0.4, 48000)},
			{"postgres", "pair", 32}: {backed(2000, 20, 0.5, 0.8, 0)},
		},
		HTTPFail: map[runKey]string{{"postgres", "pair", 8}: "server did not start"},
		// Raw pairs: 25000/s at 8 clients, 30000/s at 32.
		RawPair: map[int][]rawPair{8: {{Conc: 8, SetRPS: 50000, GetDelRPS: 50000, HitRate: 0.9, CPUPerPair: 12.5}},
			32: {{Conc: 32, SetRPS: 60000, GetDelRPS: 60000, HitRate: 0.88, CPUPerPair: 10}, {Conc: 32, SetRPS: 40000, GetDelRPS: 40000, HitRate: 0.88, CPUPerPair: 10}, {Conc: 32, SetRPS: 80000, GetDelRPS: 80000, HitRate: 0.88, CPUPerPair: 10}}},
		Pgbench: map[int][]pgbenchResult{32: {{Conc: 32, TPS: 8000, Pairs: 8000, LatencyMS: 4, CPUPerPair: 150}}},
		Peers: map[runKey][]*httpRun{
			{peerOnetime, "pair", 8}: {backed(4000, 2, 0.8, 0.24, 40000)}, {peerOnetime, "pair", 32}: {backed(8000, 5, 1.28, 0.4, 48000)},
			{"yopass", "pair", 8}: {backed(3000, 3, 0.6, 0.2, 15000)}, {"yopass", "pair", 32}: {backed(5000, 9, 1, 0.3, 25000)},
		},
		PeerBytes:   map[string]float64{peerOnetime: 618, "yopass": 390},
		PeerMissing: map[string]string{"ots": "`go install github.com/Luzifer/ots@latest` failed here: 403 Forbidden"},
		PeerBuilt:   map[string]string{"yopass": "given with -peers"},
		Scale: map[scaleKey]*scaleResult{
			{"memory", 1000}:  {Fill: 20000, BytesPer: 1700, Pairs: []*httpRun{run(10000, 5, 1, "pair")}},
			{"memory", 10000}: {Fill: 20000, BytesPer: 1750, Pairs: []*httpRun{run(9000, 5, 1, "pair")}},
			{"redis", 10000}:  {Fill: 15000, BytesPer: 650, Pairs: []*httpRun{run(8000, 5, 1, "pair")}},
		},
		Go: []*benchRow{
			{Pkg: "", Name: "BenchmarkPair/serial", Units: []string{"ns/op"}, Values: map[string][]float64{"ns/op": {7000}}},
			{Pkg: "store/redis", Name: "BenchmarkModes/Share/adaptive", Units: []string{"ns/op", "B/op"}, Values: map[string][]float64{"ns/op": {20000, 20000, 20000, 20000, 20000, 20000}, "B/op": {2767}}},
		},
		Failures: []string{"postgres: pairs: server did not start"},
		Commands: []string{"go build -o $TMP/bin/server ./cmd/onetime-server"},
	}
	b := &bench{o: o, res: res, work: "/tmp/onetime-bench.x"}
	md, charts := b.render()
	s := string(md)

	assert.Contains(t, s, "> QUICK RUN")
	assert.Contains(t, s, "| Example server, memory store, share: >= 70% of the bare handler's requests/s | 75% (rounds: 80% / 70%; medians 22500 / 30000 requests/s) | met |")
	assert.NotContains(t, s, "n/a%", "a missing ratio reads n/a")
	assert.Contains(t, s, "| Example server, memory store, share: server CPU per request <= 1.5x the bare handler's (issues 14 and 22) | 1.5x (rounds: 1.5x / 1.5x; medians 30 / 20 µs) | met |")
	assert.Contains(t, s, "| Example server, memory store, reveal: >= 70% of the bare handler's requests/s | 50% (rounds: 50%; medians 20000 / 40000 requests/s) | **missed** |")
	assert.Contains(t, s, "| Example server, memory store, reveal: server CPU per request <= 1.5x the bare handler's (issue 14) | 2x (rounds: 2x; medians 30 / 15 µs) | **missed** |")
	// Issue 22: ratios to the raw pair at the same number of clients.
	assert.Contains(t, s, "| Redis store over HTTP, 8 clients: pairs/s >= 0.17 of the raw Redis pair (redis-benchmark SET EX + GETDEL, same clients) | 0.16 (4000 / 25000 pairs/s) | **missed** |")
	assert.Contains(t, s, "| Redis store over HTTP, 32 clients: pairs/s >= 0.25 of the raw Redis pair (redis-benchmark SET EX + GETDEL, same clients) | 0.27 (8000 / 30000 pairs/s) | met |")
	assert.Contains(t, s, "| Redis store over HTTP: server CPU per pair within 20% between 8 and 32 clients | 200 / 160 µs: 25% apart | **missed** |")
	assert.Contains(t, s, "| Redis: <= 400 bytes per stored 100-byte secret with its receipt (10000 stored; issue 22, was 700) | 650 | **missed** |")
	assert.NotContains(t, s, "<= 700 bytes", "the older target is superseded")
	assert.Contains(t, s, "| Redis store over HTTP: >= 15,000 shares/s | 16000 | met |")
	assert.Contains(t, s, "| Redis store over HTTP: >= 6,000 pairs/s | 8000 | met |")
	assert.NotContains(t, s, "| memory: pairs/s with", "the memory store has no scale target")
	assert.Contains(t, s, "| memory | 10000 | 20000 | 9000 | 5 | 90% | 1750 |", "its scale figures are still reported")
	assert.Contains(t, s, "| redis: pairs/s with 10000 stored within 20% of 1000 stored | n/a | not measured |")
	assert.Contains(t, s, "| Redis store Share, adaptive (store/redis BenchmarkModes/Share/adaptive, 32 goroutines) >= 60% of redis-benchmark SET | 50000/s = 62% of 80000 | met |")
	assert.Contains(t, s, "| memory | share | 20000 |")

	// The yardsticks, the sweep against them, and the peers.
	assert.Contains(t, s, "| 32 | 60000 | 60000 | 88% | 30000 | 10 | 30000 / 20000 / 40000 |", "medians of the rounds")
	assert.Contains(t, s, "| 8 | not measured | | | | |", "pgbench not measured at 8 clients")
	assert.Contains(t, s, "| 32 | 8000 | 4 | 150 | 0 | 8000 |")
	assert.Contains(t, s, "| redis | 8 | 4000 | 0.5 | 2 | 200 | 60 | 10 | 25000 | 0.16 | 0 | 4000 |")
	assert.Contains(t, s, "| redis | 32 | 8000 | 1.25 | 5 | 160 | 50 | 6 | 30000 | 0.27 | 0 | 8000 |")
	assert.Contains(t, s, "| postgres | 32 | 2000 | 5 | 20 | 250 | 400 |  | 8000 | 0.25 | 0 | 2000 |")
	assert.Contains(t, s, "| postgres | 8 | server did not start |")
	assert.Contains(t, s, "| memory | 8 | 9000 | 0.5 | 2 | 111.1 |  |  |  |  | 0 | 9000 |")
	assert.Contains(t, s, "- **ots** (github.com/Luzifer/ots): **not measured**: `go install github.com/Luzifer/ots@latest` failed here: 403 Forbidden.")
	assert.Contains(t, s, "| pairs/s, 8 clients | 4000 | 3000 | not measured |")
	assert.Contains(t, s, "| pairs/s over the raw Redis pair, 32 clients | 0.27 | 0.17 |  |")
	assert.Contains(t, s, "| server CPU µs per pair, 8,32 clients | 200 / 160 | 200 / 200 |  |")
	assert.Contains(t, s, "| Redis commands per pair, 8,32 clients | 10 / 6 | 5 / 5 |  |")
	assert.Contains(t, s, "| Redis bytes per stored secret | 618 | 390 |  |")
	assert.Contains(t, s, "- postgres: pairs: server did not start")
	for _, name := range chartFiles {
		require.Contains(t, charts, name)
		assert.Contains(t, s, "("+chartDir+"/"+name+")", "the chart is linked beside its table")
		svgElements(t, charts[name])
	}
	assert.Contains(t, string(charts["peers.svg"]), "<title>yopass, 32 clients: 5000</title>")
	assert.NotContains(t, string(charts["peers.svg"]), "ots", "no bar for a peer not measured")
	assert.Contains(t, string(charts["vs-raw-pair.svg"]), "<title>redis, 32 clients: 0.267</title>")
}

// A run that measured nothing (every phase skipped or failed) still
// renders, saying so.
func TestRenderEmpty(t *testing.T) {
	o, err := parseOptions([]string{"-quick"}, io.Discard)
	require.NoError(t, err)
	res := &results{RB: map[string][]rbResult{}, Cmp: map[runKey][]*httpRun{}, HTTP: map[runKey][]*httpRun{}, HTTPFail: map[runKey]string{},
		Bursts: map[string][]burstRun{}, Scale: map[scaleKey]*scaleResult{}, Steps: 3, StepsFinished: 1}
	md, _ := (&bench{o: o, res: res}).render()
	s := string(md)
	assert.Contains(t, s, "| Example server, memory store, share: >= 70% of the bare handler's requests/s | n/a (rounds: n/a; medians n/a / n/a requests/s) | not measured |")
	assert.Contains(t, s, "| Redis store over HTTP: >= 15,000 shares/s | n/a | not measured |")
	assert.NotContains(t, s, "n/a%")
	assert.NotContains(t, s, "met |", "no target is met without figures")
	assert.Contains(t, s, "**The run stopped after 1 of its 3 steps.**")
	assert.NotContains(t, s, "reported errors")
}

// write puts the report at -out and its charts and go test's raw output
// in benchmarks/ beside it.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	o, err := parseOptions([]string{"-quick", "-out", dir + "/B.md"}, io.Discard)
	require.NoError(t, err)
	rows, err := parseGoBench(strings.NewReader(goOutput), "store/sqlite")
	require.NoError(t, err)
	res := &results{RB: map[string][]rbResult{}, Cmp: map[runKey][]*httpRun{}, HTTP: map[runKey][]*httpRun{}, HTTPFail: map[runKey]string{},
		Bursts: map[string][]burstRun{}, Scale: map[scaleKey]*scaleResult{}, Go: rows, GoRaw: []byte(goOutput)}
	require.NoError(t, (&bench{o: o, res: res}).write())

	md, err := os.ReadFile(dir + "/B.md")
	require.NoError(t, err)
	assert.Contains(t, string(md), "| store/sqlite | BenchmarkShare | 84861 |")
	raw, err := os.ReadFile(dir + "/" + chartDir + "/" + goRawFile)
	require.NoError(t, err)
	assert.Equal(t, goOutput, string(raw), "benchstat can read it again")
	for _, name := range chartFiles {
		_, err := os.Stat(dir + "/" + chartDir + "/" + name)
		assert.True(t, os.IsNotExist(err), "no chart of a section not measured: %s", name)
	}

	res.Scale[scaleKey{"memory", 1000}] = &scaleResult{Pairs: []*httpRun{{Rep: &loadgen.Report{OpsPerSec: 1000, ElapsedS: 1}}}}
	require.NoError(t, (&bench{o: o, res: res}).write())
	svg, err := os.ReadFile(dir + "/" + chartDir + "/pairs-by-stored.svg")
	require.NoError(t, err)
	svgElements(t, svg)

	// A later run that measures nothing removes the stale chart.
	delete(res.Scale, scaleKey{"memory", 1000})
	require.NoError(t, (&bench{o: o, res: res}).write())
	_, err = os.Stat(dir + "/" + chartDir + "/pairs-by-stored.svg")
	assert.True(t, os.IsNotExist(err), "a stale chart is removed")
	_, err = os.Stat(dir + "/B.md.tmp")
	assert.True(t, os.IsNotExist(err), "no temporary file left")
}

// pgbench's summary as PostgreSQL 15 prints it.
const pgbenchOutput = `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: /tmp/onetime-bench.1/pair.sql
scaling factor: 1
query mode: prepared
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 2 s
number of transactions actually processed: 17220
number of failed transactions: 3 (0.017%)
latency average = 0.922 ms
initial connection time = 53.443 ms
tps = 8675.744794 (without initial connection time)
`

func TestParsePgbench(t *testing.T) {
	r, err := parsePgbench(pgbenchOutput)
	require.NoError(t, err)
	assert.InDelta(t, 8675.744794, r.TPS, 1e-9)
	assert.Equal(t, int64(17220), r.Pairs)
	assert.Equal(t, int64(3), r.Failed)
	assert.Equal(t, 0.922, r.LatencyMS)

	// Older versions print no failed transactions; a run whose clients
	// could not connect in time processed none and prints no tps.
	r, err = parsePgbench(strings.Replace(pgbenchOutput, "number of failed transactions: 3 (0.017%)\n", "", 1))
	require.NoError(t, err)
	assert.Zero(t, r.Failed)
	_, err = parsePgbench("number of clients: 128\nnumber of transactions actually processed: 0\n")
	require.Error(t, err)
	_, err = parsePgbench(strings.Replace(pgbenchOutput, "processed: 17220", "processed: 0", 1))
	require.Error(t, err, "no transaction, no yardstick")

	args := pgbenchArgs("pgbench", "5432", 128, pgbenchSeconds(time.Second, 128), "/tmp/pair.sql", "VALUE")
	assert.Equal(t, "pgbench -h 127.0.0.1 -p 5432 -U postgres -n -M prepared -c 128 -j 2 -T 10 -P 1 -D value=VALUE -f /tmp/pair.sql yard", strings.Join(args, " "))
	assert.Equal(t, 10, pgbenchSeconds(10*time.Second, 8))
	assert.Equal(t, 5, pgbenchSeconds(time.Second, 1))
	assert.Contains(t, strings.Join(pgbenchArgs("pgbench", "1", 1, 5, "s", "v"), " "), " -c 1 -j 1 ", "no more threads than clients")
}

// The CPU time per pair counts the seconds that made pairs, from the end
// of the first one to the report before the last: not the connections'
// set-up, nor the end of the run, when the backends exit.
func TestPgbenchWindow(t *testing.T) {
	var w pgbenchWindow
	assert.True(t, math.IsNaN(w.cpuPerPair()))
	for _, l := range []struct {
		line string
		cpu  float64
	}{
		{"progress: 1.0 s, 0.0 tps, lat 0.000 ms stddev 0.000, 0 failed", 1.0}, // connecting
		{"progress: 2.0 s, 1500.0 tps, lat 2.1 ms stddev 0.4, 0 failed", 1.5},
		{"progress: 3.0 s, 2000.0 tps, lat 2.0 ms stddev 0.4, 0 failed", 1.7},
		{"progress: 4.1 s, 2000.0 tps, lat 2.0 ms stddev 0.4", 1.9},
		{"progress: 5.0 s, 2000.0 tps, lat 2.0 ms stddev 0.4", 1.6}, // backends exiting
	} {
		tps, ok := parseProgress(l.line)
		require.True(t, ok, l.line)
		w.add(tps, l.cpu)
	}
	assert.InDelta(t, 100, w.cpuPerPair(), 1e-9, "0.4 s of CPU over 4000 pairs")
	pairs, _, secs := w.window()
	assert.Equal(t, 4000.0, pairs)
	assert.Equal(t, 2, secs)

	// Too short a run for a window.
	var short pgbenchWindow
	short.add(0, 1)
	short.add(100, 2)
	short.add(100, 3)
	assert.True(t, math.IsNaN(short.cpuPerPair()))
	_, ok := parseProgress("tps = 8675.744794 (without initial connection time)")
	assert.False(t, ok)
}

func TestRawPair(t *testing.T) {
	r := rawPair{SetRPS: 100000, GetDelRPS: 150000}
	assert.InDelta(t, 60000, r.PairsPerSec(), 1e-6, "a SET then a GETDEL: 10 + 6.67 µs")
	assert.True(t, math.IsNaN(rawPair{SetRPS: 1}.PairsPerSec()))

	set := rawPairArgs("127.0.0.1:6390", 8, 1000, 4000, "SET", "vvv")
	assert.Equal(t, "redis-benchmark -h 127.0.0.1 -p 6390 -c 8 -n 1000 -r 4000 --csv SET key:__rand_int__ vvv EX 3600", strings.Join(set, " "))
	get := rawPairArgs("127.0.0.1:6390", 8, 1000, 4000, "GETDEL", "vvv")
	assert.Equal(t, "GETDEL key:__rand_int__", strings.Join(get[len(get)-2:], " "))

	// redis-benchmark --csv names a custom command by its command line.
	res, err := parseRedisCSV(`"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"GETDEL key:__rand_int__","37735.85","0.136","0.016","0.103","0.295","1.583","2.695"
`)
	require.NoError(t, err)
	assert.Equal(t, 37735.85, res["GETDEL key:__rand_int__"].RPS)
}

func TestCommandCalls(t *testing.T) {
	info := "# Commandstats\r\n" +
		"cmdstat_evalsha:calls=2000,usec=9000,usec_per_call=4.50,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_set:calls=1000,usec=900,usec_per_call=0.90,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_info:calls=3,usec=90,usec_per_call=30.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_config|resetstat:calls=1,usec=9,usec_per_call=9.00,rejected_calls=0,failed_calls=0\r\n"
	assert.Equal(t, int64(3000), commandCalls(info), "the tool's own INFO and CONFIG are left out")
	assert.Zero(t, commandCalls(""))
}

func TestParseStatChildren(t *testing.T) {
	// A postmaster (ppid 1) that has reaped backends: cutime 300, cstime 100.
	stat := "2239 (postgres) S 1 2239 2239 0 -1 4194560 500 0 0 0 250 125 300 100 20 0 9 0 100 1000 50\n"
	st, err := parseStat(stat)
	require.NoError(t, err)
	assert.Equal(t, 1, st.PPID)
	assert.InDelta(t, 3.75, st.CPU(), 1e-9)
	assert.InDelta(t, 4.0, st.ChildrenCPU(), 1e-9)

	// This process's own tree: its CPU time counts, and grows.
	before, err := treeCPU(os.Getpid())
	require.NoError(t, err)
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	after, err := treeCPU(os.Getpid())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, after, before)
	_, err = treeCPU(-5)
	require.Error(t, err)
}

func TestVersionNote(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(dir+"/VERSIONS", []byte("yopass-server github.com/jhaals/yopass de900a0c\nots github.com/Luzifer/ots c52fa36\n"), 0o644))
	assert.Equal(t, ", built by scripts/build-peers.sh from github.com/Luzifer/ots at commit c52fa36", versionNote(dir+"/ots"))
	assert.Empty(t, versionNote(dir+"/other"))
	assert.Empty(t, versionNote(t.TempDir()+"/ots"), "no VERSIONS file")
}

func TestClientsLabel(t *testing.T) {
	assert.Equal(t, "1 client", clientsLabel(1))
	assert.Equal(t, "128 clients", clientsLabel(128))
}

func TestFirstLine(t *testing.T) {
	out := "go: downloading github.com/x/y v1.0.0\n\ngo: github.com/jhaals/yopass/cmd/yopass-server@latest: module github.com/jhaals/yopass/cmd/yopass-server: reading https://proxy.example/github.com/jhaals/yopass/cmd/yopass-server/@v/list: 403 Forbidden\n\tserver response: not available\n"
	assert.Equal(t, "go: github.com/jhaals/yopass/cmd/yopass-server@latest: module github.com/jhaals/yopass/cmd/yopass-server: reading the Go module proxy: 403 Forbidden", firstLine(out, errors.New("exit status 1")))
	assert.Equal(t, "go: no route to the Go module proxy", firstLine("go: no route to http://proxy.example/x\n", nil))
	assert.Equal(t, "exit status 1", firstLine("", errors.New("exit status 1")))
}
