//go:build linux

package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A telemetryBenchmark measures what the OpenTelemetry instrumentation
// costs: its cases run with telemetry off (Off) and on. Each count is a
// go test run of its own (-count 1), in which the cases run one after the
// other: a count gives a pair measured seconds apart, on the machine as
// it was then. (With -count N, go test would run each case N times in a
// row, and a machine whose load drifts would favour one.)
type telemetryBenchmark struct {
	Pkg, Name string // Pkg relative to the module: "" for the root package
	Off       string // the case every other is compared with
	Target    string // the case of issue 20's target, "" for none
	What      string
}

// telemetryBenchmarks are run by the phase "telemetry" (and left out of
// the phase "go"). The first is the target's: the server as it runs.
var telemetryBenchmarks = []telemetryBenchmark{
	{"cmd/onetime-server", "BenchmarkShareMetrics", "metrics=off", "metrics=on",
		"the server's whole handler (default flags, memory store), POST /api/v1/share of 100 bytes: the no-op providers it gives the library without -metrics-addr, against the SDK MeterProvider it gives with it"},
	{"httpapi", "BenchmarkShareHTTPTelemetry", "otel=off", "",
		"httpapi's handler, share: the global providers without an SDK (otel=off), an SDK MeterProvider (metrics), the same with a no-op TracerProvider (metrics-notrace: what the server runs), and an SDK TracerProvider recording every span besides (metrics+traces)"},
	{"", "BenchmarkShareTelemetry", "otel=off", "",
		"the Service's Share alone (memory store), same cases"},
}

// telemetryCount is the fewest rounds of the phase, even with -quick: the
// server's overhead is near the target's 5%, and 6 pairs put it on one
// side or the other from run to run on a shared machine.
const telemetryCount = 10

// telemetryBenchTime returns the -benchtime of the phase: 1s, with -quick
// too, whatever the Go benchmarks' -benchtime (100 ms by default), whose
// runs vary by more than the 5% the target is about.
func (o options) telemetryBenchTime() string {
	return "1s"
}

// isTelemetryBench reports whether the benchmark name of package pkg is
// one of telemetryBenchmarks.
func isTelemetryBench(pkg, name string) bool {
	return slices.ContainsFunc(telemetryBenchmarks, func(tb telemetryBenchmark) bool { return tb.Pkg == pkg && tb.Name == name })
}

// telemetryBench runs telemetryBenchmarks: count rounds, each a go test
// run of every benchmark in turn.
func (b *bench) telemetryBench(ctx context.Context) error {
	count := max(b.o.GoCount, telemetryCount)
	raws := make([][]byte, len(telemetryBenchmarks))
	for round := range count {
		for i, tb := range telemetryBenchmarks {
			pkg := "./" + tb.Pkg
			outPath := filepath.Join(b.work, "telemetry.txt")
			args, runErr := goTestBench(ctx, b.env, pkg, []string{tb.Name}, 1, b.o.telemetryBenchTime(), outPath, func(line string) {
				b.logf("  %s %s (round %d/%d)", cmp.Or(tb.Pkg, "onetime"), strings.Fields(line)[0], round+1, count)
			})
			b.note(append([]string{"go"}, args...)...)
			raw, err := os.ReadFile(outPath)
			if err != nil {
				return err
			}
			if runErr != nil {
				return fmt.Errorf("%s: go test -bench: %v\n%s", pkg, runErr, tail(string(raw), 400))
			}
			raws[i] = append(raws[i], raw...)
		}
	}
	for i, tb := range telemetryBenchmarks {
		b.res.GoRaw = append(b.res.GoRaw, raws[i]...)
		rows, err := parseGoBench(bytes.NewReader(raws[i]), tb.Pkg)
		b.res.Telemetry = append(b.res.Telemetry, rows...)
		if err != nil {
			return fmt.Errorf("./%s: %v", tb.Pkg, err)
		}
	}
	return nil
}

// telemetryRow returns the row of a case of tb, nil when not measured.
func (r *results) telemetryRow(tb telemetryBenchmark, c string) *benchRow {
	for _, row := range r.Telemetry {
		if row.Pkg == tb.Pkg && row.Name == tb.Name+"/"+c {
			return row
		}
	}
	return nil
}

// overhead returns on/off - 1 of unit for each count that measured both,
// in order: the pairs of the cases run in turn.
func overhead(off, on *benchRow, unit string) []float64 {
	return paired(off, on, unit, func(a, z float64) (float64, bool) { return z/a - 1, a > 0 })
}

// fmtOverhead formats paired overheads as their median and range, in
// percent: "+2.1% (-0.5% .. +3.9%)"; "" for none.
func fmtOverhead(xs []float64) string {
	if len(xs) == 0 {
		return ""
	}
	pct := func(v float64) string {
		s := fmtFloat(100*v, 1) + "%"
		if v >= 0 {
			s = "+" + s
		}
		return s
	}
	return fmt.Sprintf("%s (%s .. %s)", pct(median(xs)), pct(slices.Min(xs)), pct(slices.Max(xs)))
}

// renderTelemetry is the section "Instrumentation cost".
func (b *bench) renderTelemetry(p printer) {
	o, r := b.o, b.res
	p("## Instrumentation cost")
	p("")
	n := max(o.GoCount, telemetryCount)
	p("What the OpenTelemetry instrumentation costs a share (issue 20: under 5%% with metrics on). %d rounds of `go test -run '^$' -bench '^(NAME)$' -benchmem -count 1 -benchtime %s ./PKG`, one for each benchmark below in turn (the command list at the end has them): within a round, a benchmark's cases run one after the other, seconds apart. The overhead of a case is the median over the %d rounds of its ns/op (or cpu-ns/op: the process's CPU time per share, steadier on a shared machine) divided by the baseline's of the same round, minus 1, with the range of those %d ratios. Compare two runs with `benchstat -col /metrics` or `-col /otel` on [%s/%s](%s/%s).",
		n, o.telemetryBenchTime(), n, n, chartDir, goRawFile, chartDir, goRawFile)
	p("")
	if len(r.Telemetry) == 0 {
		p("Not measured in this run.")
		p("")
		return
	}
	for _, tb := range telemetryBenchmarks {
		p("- %s %s: %s.", cmp.Or(tb.Pkg, "onetime"), tb.Name, tb.What)
	}
	p("")
	p("| package | benchmark | case | ns/op | overhead | cpu-ns/op | overhead | B/op | allocs/op | n |")
	p("|---|---|---|---:|---|---:|---|---:|---:|---:|")
	for _, tb := range telemetryBenchmarks {
		off := r.telemetryRow(tb, tb.Off)
		for _, row := range r.Telemetry {
			c, ok := strings.CutPrefix(row.Name, tb.Name+"/")
			if row.Pkg != tb.Pkg || !ok {
				continue
			}
			ns, cpu := "baseline", "baseline"
			if c != tb.Off {
				ns, cpu = cmp.Or(fmtOverhead(overhead(off, row, "ns/op")), "n/a"), fmtOverhead(overhead(off, row, "cpu-ns/op"))
			} else if _, has := row.Values["cpu-ns/op"]; !has {
				cpu = ""
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |", cmp.Or(tb.Pkg, "onetime"), tb.Name, c,
				fmtFloat(row.Summary("ns/op").Center, 0), ns, fmtFloat(row.Summary("cpu-ns/op").Center, 0), cpu,
				fmtFloat(row.Summary("B/op").Center, 0), fmtFloat(row.Summary("allocs/op").Center, 0), row.Summary("ns/op").N)
		}
	}
	p("")
}

// telemetryTargets: issue 20's target, the instrumentation's cost on a
// share as the server serves it, over HTTP. The instrumentation's own CPU
// time per share is measured in process, where a pair of runs seconds
// apart tells it within some 100 ns (BenchmarkShareMetrics, metrics on
// minus off, per round); the share's, over HTTP (the bare-handler rounds).
// Paired HTTP runs with and without -metrics-addr say the same directly,
// but their rounds spread wider than the 5% they measure; they are shown
// as a check, and so is the in-process ratio, which leaves out the HTTP
// server's share of a request's CPU (most of it).
func (b *bench) telemetryTargets(p printer) {
	r := b.res
	tb := telemetryBenchmarks[0]
	off, on := r.telemetryRow(tb, tb.Off), r.telemetryRow(tb, tb.Target)
	plain, withMetrics := r.Cmp[runKey{"memory", "share", b.o.Clients}], r.Cmp[runKey{metered, "share", b.o.Clients}]
	diffs := difference(off, on, "cpu-ns/op")
	share := aggregate(plain).CPUs // µs
	v := nan
	if len(diffs) > 0 && share > 0 {
		v = median(diffs) / 1000 / share
	}
	p("| Instrumentation: a share with metrics on costs < 5%% more server CPU (the instrumentation's CPU per share, %s %s %s minus %s, over the server's CPU per share over HTTP, memory store) | %s (%s µs of %s µs; in-process difference per round: %s ns) | %s |",
		tb.Pkg, tb.Name, tb.Target, tb.Off, pct1(v), fmtFloat(median(diffs)/1000, 2), fmtFloat(share, 2), joinFloats(diffs, 1, 0, ""), verdict(v, v < 0.05))
	if cr := pairedRatios(withMetrics, plain, (*httpRun).CPUPerRequest); len(cr) > 0 {
		oh := make([]float64, len(cr))
		for i, x := range cr {
			oh[i] = x - 1
		}
		p("| Check: the same over HTTP directly, the server with and without -metrics-addr in the bare-handler rounds (paired; no target of its own: its rounds spread wider than 5%%) | %s (rounds: %s; medians %s / %s µs) | check |",
			fmtOverhead(oh), joinFloats(oh, 100, 1, "%"), fmtFloat(aggregate(withMetrics).CPUs, 2), fmtFloat(share, 2))
	}
	cpu, ns := overhead(off, on, "cpu-ns/op"), overhead(off, on, "ns/op")
	p("| Check: in process, the handler alone without HTTP (%s %s, %s against %s) | cpu-ns/op %s; ns/op %s | check |",
		tb.Pkg, tb.Name, tb.Target, tb.Off, cmp.Or(fmtOverhead(cpu), "n/a"), cmp.Or(fmtOverhead(ns), "n/a"))
}

// difference returns on - off of unit for each count that measured both,
// in order.
func difference(off, on *benchRow, unit string) []float64 {
	return paired(off, on, unit, func(a, z float64) (float64, bool) { return z - a, true })
}

// paired returns f(off, on) of unit for each count that measured both and
// for which f says ok, in order: the pairs of the cases run in turn.
func paired(off, on *benchRow, unit string, f func(off, on float64) (v float64, ok bool)) []float64 {
	if off == nil || on == nil {
		return nil
	}
	a, z := off.Values[unit], on.Values[unit]
	var out []float64
	for i := range min(len(a), len(z)) {
		if v, ok := f(a[i], z[i]); ok {
			out = append(out, v)
		}
	}
	return out
}
