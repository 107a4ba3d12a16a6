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
	assert.Equal(t, []int{8, 32}, o.Concs)
	assert.Equal(t, []int{1000, 10000}, o.ScaleSizes)
	assert.Equal(t, 1, o.GoCount)

	o, err = parseOptions([]string{"-scale", "-c", "4,16", "-skip", "go,burst"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 3, o.Runs)
	assert.Equal(t, 6, o.GoCount, "enough counts for benchstat's 95% interval")
	assert.Equal(t, []int{1000, 10000, 100000, 1000000}, o.ScaleSizes)
	assert.Equal(t, []int{4, 16}, o.Concs)
	assert.True(t, o.Skip["go"] && o.Skip["burst"] && !o.Skip["http"])
	assert.Empty(t, o.ServerArgs)

	o, err = parseOptions([]string{"-server-args", " -access-log=false  -max-conns 64"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, []string{"-access-log=false", "-max-conns", "64"}, o.ServerArgs)
	assert.Equal(t, ` -server-args '-access-log=false -max-conns 64'`, flagsNote(o))

	for _, bad := range [][]string{{"-stores", "mysql"}, {"-skip", "everything"}, {"-c", "0"}, {"-runs", "-1"}, {"extra"}} {
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
	o, err := parseOptions([]string{"-quick", "-c", "32", "-sizes", "1000,10000", "-stores", "memory,redis"}, io.Discard)
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
	res := &results{
		RB: map[string][]rbResult{"SET": {{80000, 0.4}}, "GET": {{90000, 0.3}}},
		Cmp: map[runKey][]*httpRun{
			// Rounds: 80% then 70% of the bare handler's requests/s, 1.5x its CPU per request.
			{bare, "share", 32}: {run(30000, 2, 0.6, "share"), run(30000, 2, 0.6, "share")}, {"memory", "share", 32}: {run(24000, 3, 0.72, "share"), run(21000, 3, 0.63, "share")},
			{bare, "reveal", 32}: {run(40000, 2, 0.6, "reveal")}, {"memory", "reveal", 32}: {run(20000, 3, 0.6, "reveal")}, // 50%, 2x
		},
		HTTP: map[runKey][]*httpRun{
			{bare, "share", 32}: {run(30000, 2, 1, "share")}, {bare, "pair", 32}: {run(15000, 3, 1, "pair")},
			{"memory", "share", 32}: {run(20000, 3, 1, "share")}, {"memory", "pair", 32}: {run(10000, 5, 1, "pair")},
			{"redis", "share", 32}: {run(16000, 4, 1, "share")},
		},
		HTTPFail: map[runKey]string{{"redis", "pair", 32}: "server did not start"},
		Scale: map[scaleKey]*scaleResult{
			{"memory", 1000}:  {Fill: 20000, BytesPer: 1700, Pairs: []*httpRun{run(10000, 5, 1, "pair")}},
			{"memory", 10000}: {Fill: 20000, BytesPer: 1750, Pairs: []*httpRun{run(9000, 5, 1, "pair")}},
			{"redis", 10000}:  {Fill: 15000, BytesPer: 650, Pairs: []*httpRun{run(8000, 5, 1, "pair")}},
		},
		Go: []*benchRow{
			{Pkg: "", Name: "BenchmarkPair/serial", Units: []string{"ns/op"}, Values: map[string][]float64{"ns/op": {7000}}},
			{Pkg: "store/redis", Name: "BenchmarkModes/Share/autopipeline", Units: []string{"ns/op", "B/op"}, Values: map[string][]float64{"ns/op": {20000, 20000, 20000, 20000, 20000, 20000}, "B/op": {2767}}},
		},
		Failures: []string{"redis: pairs: server did not start"},
		Commands: []string{"go build -o $TMP/bin/server ./cmd/onetime-server"},
	}
	b := &bench{o: o, res: res, work: "/tmp/onetime-bench.x"}
	md, charts := b.render()
	s := string(md)

	assert.Contains(t, s, "> QUICK RUN")
	assert.Contains(t, s, "| Example server, memory store, share: >= 70% of the bare handler's requests/s | 75% (rounds: 80% / 70%; medians 22500 / 30000 requests/s) | met |")
	assert.NotContains(t, s, "n/a%", "a missing ratio reads n/a")
	assert.Contains(t, s, "| Example server, memory store, share: server CPU per request <= 1.5x the bare handler's | 1.5x (rounds: 1.5x / 1.5x; medians 30 / 20 µs) | met |")
	assert.Contains(t, s, "| Example server, memory store, reveal: >= 70% of the bare handler's requests/s | 50% (rounds: 50%; medians 20000 / 40000 requests/s) | **missed** |")
	assert.Contains(t, s, "| Example server, memory store, reveal: server CPU per request <= 1.5x the bare handler's | 2x (rounds: 2x; medians 30 / 15 µs) | **missed** |")
	assert.Contains(t, s, "| Redis store over HTTP: >= 15,000 shares/s | 16000 | met |")
	assert.Contains(t, s, "| Redis store over HTTP: >= 6,000 pairs/s | n/a | not measured |")
	assert.NotContains(t, s, "| memory: pairs/s with", "the memory store has no scale target")
	assert.Contains(t, s, "| memory | 10000 | 20000 | 9000 | 5 | 90% | 1750 |", "its scale figures are still reported")
	assert.Contains(t, s, "| redis: pairs/s with 10000 stored within 20% of 1000 stored | n/a | not measured |")
	assert.Contains(t, s, "| Redis: <= 700 bytes per stored 100-byte secret with its receipt (10000 stored) | 650 | met |")
	assert.Contains(t, s, "| Redis store Share, autopipeline (store/redis BenchmarkModes/Share/autopipeline, 32 goroutines) >= 60% of redis-benchmark SET | 50000/s = 62% of 80000 | met |")
	assert.Contains(t, s, "| memory | share | 20000 |")
	assert.Contains(t, s, "| redis | pair | server did not start |")
	assert.Contains(t, s, "| store/redis | BenchmarkModes/Share/autopipeline | 20000 | ±0% | 50000 | 62% | 2767 |")
	assert.Contains(t, s, "| onetime | BenchmarkPair/serial | 7000 |  | 142857 |  |")
	assert.Contains(t, s, "- redis: pairs: server did not start")
	for _, name := range chartFiles {
		require.Contains(t, charts, name)
		assert.Contains(t, s, "("+chartDir+"/"+name+")", "the chart is linked beside its table")
		svgElements(t, charts[name])
	}
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
