//go:build linux

package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/loadgen"
)

// Two rounds of BenchmarkShareMetrics, its cases in turn within each, as
// go test prints them.
const telemetryOutput = `pkg: github.com/onetimego/onetime/cmd/onetime-server
BenchmarkShareMetrics/metrics=off-2         	   60000	     20000 ns/op	     18000 cpu-ns/op	    5666 B/op	      53 allocs/op
BenchmarkShareMetrics/metrics=on-2          	   60000	     20400 ns/op	     18360 cpu-ns/op	    5665 B/op	      53 allocs/op
BenchmarkShareMetrics/metrics=off-2         	   60000	     30000 ns/op	     20000 cpu-ns/op	    5666 B/op	      53 allocs/op
BenchmarkShareMetrics/metrics=on-2          	   60000	     30300 ns/op	     20800 cpu-ns/op	    5665 B/op	      53 allocs/op
PASS
`

// The section "Instrumentation cost" compares each case with the
// baseline of the same count, and the target reads the CPU time.
func TestRenderTelemetry(t *testing.T) {
	o, err := parseOptions([]string{"-quick"}, io.Discard)
	require.NoError(t, err)
	rows, err := parseGoBench(strings.NewReader(telemetryOutput), "cmd/onetime-server")
	require.NoError(t, err)
	res := &results{RB: map[string][]rbResult{}, Cmp: map[runKey][]*httpRun{}, HTTP: map[runKey][]*httpRun{}, HTTPFail: map[runKey]string{},
		Bursts: map[string][]burstRun{}, Scale: map[scaleKey]*scaleResult{}, Telemetry: rows}
	md, _ := (&bench{o: o, res: res}).render()
	s := string(md)
	assert.Contains(t, s, "## Instrumentation cost")
	assert.Contains(t, s, "10 rounds of `go test -run '^$' -bench '^(NAME)$' -benchmem -count 1 -benchtime 1s ./PKG`", "at least 10 of 1s, even with -quick")
	// Paired: +2% and +1% (ns/op), +2% and +4% (cpu-ns/op); the median of
	// two is their mean.
	assert.Contains(t, s, "| cmd/onetime-server | BenchmarkShareMetrics | metrics=off | 25000 | baseline | 19000 | baseline | 5666 | 53 | 2 |")
	assert.Contains(t, s, "| cmd/onetime-server | BenchmarkShareMetrics | metrics=on | 25350 | +1.5% (+1% .. +2%) | 19580 | +3% (+2% .. +4%) | 5665 | 53 | 2 |")
	assert.Contains(t, s, "| Check: in process, the handler alone without HTTP (cmd/onetime-server BenchmarkShareMetrics, metrics=on against metrics=off) | cpu-ns/op +3% (+2% .. +4%); ns/op +1.5% (+1% .. +2%) | check |")
	assert.Contains(t, s, "| n/a (0.58 µs of n/a µs; in-process difference per round: 360 / 800 ns) | not measured |", "no target without the share over HTTP")
	assert.NotContains(t, s, "the same over HTTP directly", "no such row without the HTTP runs")

	md, _ = (&bench{o: o, res: &results{RB: map[string][]rbResult{}, Cmp: map[runKey][]*httpRun{}, HTTP: map[runKey][]*httpRun{},
		HTTPFail: map[runKey]string{}, Bursts: map[string][]burstRun{}, Scale: map[scaleKey]*scaleResult{}}}).render()
	assert.Contains(t, string(md), "cpu-ns/op n/a; ns/op n/a | check |")
	assert.Contains(t, string(md), "| n/a (n/a µs of n/a µs; in-process difference per round: n/a ns) | not measured |")
}

// The shares of the example server with and without -metrics-addr, in the
// bare handler's rounds, are compared round by round: the target over
// HTTP.
func TestRenderTelemetryHTTP(t *testing.T) {
	o, err := parseOptions(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 5, o.cmpRounds(), "5 rounds in a full run")
	share := func(cpuSeconds ...float64) []*httpRun {
		var runs []*httpRun
		for _, c := range cpuSeconds {
			runs = append(runs, &httpRun{Rep: &loadgen.Report{Ops: 100000, ElapsedS: 3}, Requests: 100000, ServerCPU: c})
		}
		return runs
	}
	rows, err := parseGoBench(strings.NewReader(telemetryOutput), "cmd/onetime-server")
	require.NoError(t, err)
	res := &results{RB: map[string][]rbResult{}, HTTP: map[runKey][]*httpRun{}, HTTPFail: map[runKey]string{},
		Bursts: map[string][]burstRun{}, Scale: map[scaleKey]*scaleResult{}, Telemetry: rows, Cmp: map[runKey][]*httpRun{
			{bare, "share", 32}:     share(1.5, 1.5, 1.5),
			{"memory", "share", 32}: share(2.0, 2.5, 2.0),
			{metered, "share", 32}:  share(2.06, 2.55, 2.2), // +3%, +2%, +10%
		}}
	md, _ := (&bench{o: o, res: res}).render()
	s := string(md)
	// The in-process differences are 360 and 800 ns: 0.58 µs of the 20 µs
	// of a share over HTTP.
	assert.Contains(t, s, "| Instrumentation: a share with metrics on costs < 5% more server CPU (the instrumentation's CPU per share, cmd/onetime-server BenchmarkShareMetrics metrics=on minus metrics=off, over the server's CPU per share over HTTP, memory store) | 2.9% (0.58 µs of 20 µs; in-process difference per round: 360 / 800 ns) | met |")
	assert.Contains(t, s, "| Check: the same over HTTP directly, the server with and without -metrics-addr in the bare-handler rounds (paired; no target of its own: its rounds spread wider than 5%) | +3% (+2% .. +10%) (rounds: 3% / 2% / 10%; medians 22 / 20 µs) | check |")
	assert.Contains(t, s, "| memory, -metrics-addr | share | 33333 | 22 |")
	assert.Contains(t, s, "In each round's shares, memory, -metrics-addr is the same example server started with -metrics-addr")
}

// The phase "go" leaves the telemetry benchmarks to their own phase.
func TestIsTelemetryBench(t *testing.T) {
	assert.True(t, isTelemetryBench("", "BenchmarkShareTelemetry"))
	assert.True(t, isTelemetryBench("httpapi", "BenchmarkShareHTTPTelemetry"))
	assert.False(t, isTelemetryBench("store/memory", "BenchmarkShareTelemetry"))
	assert.False(t, isTelemetryBench("", "BenchmarkShare"))
	o, err := parseOptions([]string{"-skip", "telemetry"}, io.Discard)
	require.NoError(t, err)
	assert.True(t, o.Skip["telemetry"])
}
