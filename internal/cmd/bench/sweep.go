//go:build linux

package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/onetimego/onetime/internal/loadgen"
)

// rawPairMedian returns the median pairs/s of the raw Redis pair at conc
// clients, NaN when not measured.
func (r *results) rawPairMedian(conc int) float64 {
	var xs []float64
	for _, x := range r.RawPair[conc] {
		xs = append(xs, x.PairsPerSec())
	}
	return median(xs)
}

// pgbenchMedian returns the median pairs/s of the pgbench pair at conc
// clients, NaN when not measured.
func (r *results) pgbenchMedian(conc int) float64 {
	var xs []float64
	for _, x := range r.Pgbench[conc] {
		xs = append(xs, x.TPS)
	}
	return median(xs)
}

// rawFor returns the raw pair's pairs/s that a store's pairs are compared
// with at conc clients: the raw Redis pair for the Redis store, pgbench's
// for the PostgreSQL store; NaN for the others.
func (r *results) rawFor(store string, conc int) float64 {
	switch store {
	case "redis":
		return r.rawPairMedian(conc)
	case "postgres":
		return r.pgbenchMedian(conc)
	}
	return nan
}

// fraction returns a/b with two decimals, "n/a" when either is missing.
func fraction(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "n/a"
	}
	return fmtFloat(a/b, 2)
}

// renderRawPairs renders the yardsticks of the sweep: the raw Redis pair
// and the pgbench pair at each number of clients.
func (b *bench) renderRawPairs(p printer) {
	o, r := b.o, b.res
	p("### The raw Redis pair")
	p("")
	p("What a one-time secret costs Redis at the least: a SET of a %d-byte value with EX 3600, then a GETDEL of its key. redis-benchmark runs one command per run and draws its keys at random (`-r`), so it cannot GETDEL the very key it has just SET: the pair is measured as two runs of %d requests at the same number of clients, `redis-benchmark -c N -n %d -r %d SET key:__rand_int__ VALUE EX 3600`, then the same with `GETDEL key:__rand_int__`, on a keyspace of %d keys filled beforehand (a pipelined SET per key), and pairs/s is 1 / (1/SET + 1/GETDEL), the rate of the two one after the other. \"found\" is the share of the GETDELs that found their key (DBSIZE before and after); Redis CPU per pair is redis-server's CPU time (/proc/PID/stat) over both runs, divided by the pairs. Rounds interleave the client counts; medians of the %d round(s).",
		o.Size, o.RawRequests, o.RawRequests, rawPairKeys*o.RawRequests, rawPairKeys*o.RawRequests, o.Runs)
	p("")
	if len(r.RawPair) == 0 {
		p("Not measured in this run.")
		p("")
	} else {
		p("| clients | SET/s | GETDEL/s | GETDEL found | raw pairs/s (median) | Redis CPU µs/pair | runs (pairs/s) |")
		p("|---:|---:|---:|---:|---:|---:|---|")
		for _, c := range o.Concs {
			if len(r.RawPair[c]) == 0 {
				p("| %d | not measured | | | | | |", c)
				continue
			}
			var set, gd, hit, cpu []float64
			var runs []string
			for _, x := range r.RawPair[c] {
				set, gd, hit, cpu = append(set, x.SetRPS), append(gd, x.GetDelRPS), append(hit, x.HitRate), append(cpu, x.CPUPerPair)
				runs = append(runs, fmtFloat(x.PairsPerSec(), 0))
			}
			p("| %d | %s | %s | %s | %s | %s | %s |", c, fmtFloat(median(set), 0), fmtFloat(median(gd), 0), pct1(median(hit)),
				fmtFloat(r.rawPairMedian(c), 0), fmtFloat(median(cpu), 1), strings.Join(runs, " / "))
		}
		p("")
	}
	p("### The pgbench pair")
	p("")
	p("The same for PostgreSQL: pgbench runs a script of an INSERT of a %d-byte bytea on a two-column table (bigint primary key, bytea), then a DELETE ... RETURNING of the same row, each its own transaction as the store's Create and Reveal are: `pgbench -n -M prepared -c N -j min(N,2) -T %d+N/25 -P 1 -f pair.sql` on the PostgreSQL server the store uses (started by internal/pgtest with fsync=off and full_page_writes=off: commits cost no disk flush, for the store as for pgbench). A pair is one transaction of the script. PostgreSQL CPU per pair is the CPU time of the postmaster and all its processes (/proc/PID/stat, with the time of backends that ended) over the seconds that made pairs (`-P 1`: from the end of the first second with transactions to the progress report before the last, so that opening and closing the connections are left out), divided by their pairs.",
		o.Size, pgbenchSeconds(o.Dur, 0))
	p("")
	p("```")
	p("%s", strings.TrimSpace(pgbenchScript))
	p("```")
	p("")
	if len(r.Pgbench) == 0 {
		p("Not measured in this run.")
		p("")
		return
	}
	p("| clients | pairs/s (median) | latency ms (average, median) | PostgreSQL CPU µs/pair | failed transactions | runs (pairs/s) |")
	p("|---:|---:|---:|---:|---:|---|")
	for _, c := range o.Concs {
		if len(r.Pgbench[c]) == 0 {
			p("| %d | not measured | | | | |", c)
			continue
		}
		var lat, cpu []float64
		var failed int64
		var runs []string
		for _, x := range r.Pgbench[c] {
			lat, cpu = append(lat, x.LatencyMS), append(cpu, x.CPUPerPair)
			failed += x.Failed
			runs = append(runs, fmtFloat(x.TPS, 0))
		}
		p("| %d | %s | %s | %s | %d | %s |", c, fmtFloat(r.pgbenchMedian(c), 0), fmtFloat(median(lat), 3), fmtFloat(median(cpu), 1), failed, strings.Join(runs, " / "))
	}
	p("")
}

// renderSweep renders the pairs of every store at each number of clients
// with the CPU time they cost, against the raw pairs of their backends.
func (b *bench) renderSweep(p printer, img imager, targets []string) {
	o, r := b.o, b.res
	p("### Concurrency sweep: pairs by store and number of clients")
	p("")
	p("Pairs (share, then reveal of the same secret, the value checked) at %s clients, %d round(s) of %v after %v of warm-up on one server process per store, the client counts in turn within a round; medians. Latency is a pair's (two requests). CPU per pair: the example server's, and its backend's: redis-server, or every process of the PostgreSQL server. Redis commands per pair: INFO commandstats over the timed phase. \"vs raw\" is pairs/s over the raw pair of the backend at the same number of clients, measured just before (see \"Yardsticks\").",
		joinInts(o.Concs), o.Runs, o.Dur, o.Warmup)
	p("")
	p("| server | clients | pairs/s (median) | p50 ms | p99 ms | server CPU µs/pair | backend CPU µs/pair | Redis commands/pair | raw pairs/s | vs raw | errors + wrong values | runs (pairs/s) |")
	p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	var groups []string
	for _, c := range o.Concs {
		groups = append(groups, clientsLabel(c))
	}
	var pairs, cpu, backend, p99, vsRaw []series
	for _, t := range targets {
		var vp, vc, vb, vq, vr []float64
		for _, c := range o.Concs {
			k := runKey{t, "pair", c}
			if why, ok := r.HTTPFail[k]; ok && len(r.HTTP[k]) == 0 {
				p("| %s | %d | %s | | | | | | | | | |", targetName(t), c, why)
				vp, vc, vb, vq, vr = append(vp, nan), append(vc, nan), append(vb, nan), append(vq, nan), append(vr, nan)
				continue
			}
			a := aggregate(r.HTTP[k])
			raw := r.rawFor(t, c)
			if a.N > 0 {
				p("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |", targetName(t), c, fmtFloat(a.Ops, 0), fmtFloat(a.P50, 3), fmtFloat(a.P99, 3),
					fmtFloat(a.ServerOp, 1), blankNaN(a.BackendOp, 1), blankNaN(a.CallsOp, 1), blankNaN(raw, 0), blankIf(fraction(a.Ops, raw), "n/a"), a.Bad, a.Runs)
			}
			vp, vc, vb, vq = append(vp, a.Ops), append(vc, a.ServerOp), append(vb, a.BackendOp), append(vq, a.P99)
			vr = append(vr, a.Ops/raw)
		}
		name := targetName(t)
		pairs, cpu, p99 = append(pairs, series{name, vp}), append(cpu, series{name, vc}), append(p99, series{name, vq})
		if backendOf(t) != noBackend {
			backend = append(backend, series{name, vb})
			vsRaw = append(vsRaw, series{name, vr})
		}
	}
	p("")
	img("pairs-by-concurrency.svg", "pairs per second by store and number of clients", chart{
		Title: "Pairs/s by store and number of clients", YLabel: "pairs/s", Groups: groups, Series: pairs}.BarSVG())
	img("cpu-per-pair.svg", "the example server's CPU time per pair by store and number of clients", chart{
		Title: "Example server CPU per pair (µs) by number of clients", YLabel: "µs per pair", Groups: groups, Series: cpu}.LineSVG())
	img("backend-cpu-per-pair.svg", "the backend's CPU time per pair (redis-server, PostgreSQL) by number of clients", chart{
		Title: "Backend CPU per pair (µs): redis-server, PostgreSQL", YLabel: "µs per pair", Groups: groups, Series: backend}.LineSVG())
	img("p99-by-concurrency.svg", "99th percentile latency of a pair by store and number of clients", chart{
		Title: "p99 latency of a pair (ms) by number of clients", YLabel: "ms", Groups: groups, Series: p99}.LineSVG())
	img("vs-raw-pair.svg", "pairs/s as a fraction of the backend's raw pair by number of clients", chart{
		Title: "Pairs/s over the raw pair (redis-benchmark, pgbench)", YLabel: "fraction of the raw pair", Groups: groups, Series: vsRaw}.LineSVG())
}

// clientsLabel names a number of clients: "1 client", "8 clients".
func clientsLabel(c int) string {
	if c == 1 {
		return "1 client"
	}
	return fmt.Sprintf("%d clients", c)
}

// blankNaN formats v, or "" when it is NaN.
func blankNaN(v float64, dec int) string {
	if math.IsNaN(v) {
		return ""
	}
	return fmtFloat(v, dec)
}

func blankIf(s, blank string) string {
	if s == blank {
		return ""
	}
	return s
}

// renderPeers renders the side-by-side of onetime, yopass and ots on one
// Redis.
func (b *bench) renderPeers(p printer, img imager) {
	o, r := b.o, b.res
	p("## Peers on the same Redis")
	p("")
	p("The example server on the Redis store (onetime) beside two other one-time secret servers on the same redis-server, each started fresh on an emptied Redis and driven by the same load generator through an adapter for its API (`loadgen -api yopass|ots`, written from their sources; every revealed value is checked byte for byte): pairs at %s clients, %d round(s) of %v after %v of warm-up, the servers in turn within a round; medians. CPU per pair is the server's and redis-server's over the timed phase; Redis commands per pair from INFO commandstats. Redis bytes per stored secret: the growth of used_memory over the last %d of %d shares of %d-byte values, per secret (onetime's with its receipt). Request logs are off for all three.",
		joinInts(peerConcs), o.Runs, o.Dur, o.Warmup, peerStored-peerStored/10, peerStored, o.Size)
	p("")
	if o.Skip["peers"] {
		p("Not measured in this run.")
		p("")
		return
	}
	for _, d := range peerDefs {
		switch {
		case r.PeerMissing[d.Name] != "":
			p("- **%s** (%s): **not measured**: %s.", d.Name, d.Repo, r.PeerMissing[d.Name])
		case r.PeerBuilt[d.Name] != "":
			p("- %s (%s): binary %s; run as `%s`.", d.Name, d.Repo, r.PeerBuilt[d.Name], d.Note)
		}
	}
	if d := peerByName(loadgen.APIYopass); d != nil && r.PeerMissing[d.Name] == "" {
		p("- yopass's server accepts only an OpenPGP message: the adapter sends the value inside an ASCII armor, unencrypted (the server checks the armor only). A real yopass client's encryption would make each stored secret some 150 bytes larger.")
	}
	p("")
	if len(r.Peers) == 0 {
		p("Not measured in this run.")
		p("")
		return
	}
	names := []string{peerOnetime}
	for _, d := range peerDefs {
		names = append(names, d.Name)
	}
	head, sep := "| |", "|---|"
	for _, n := range names {
		head += " " + n + " |"
		sep += "---:|"
	}
	p("%s", head)
	p("%s", sep)
	row := func(label string, f func(name string) string) {
		line := "| " + label + " |"
		for _, n := range names {
			line += " " + f(n) + " |"
		}
		p("%s", line)
	}
	peerAgg := func(name string, c int) agg { return aggregate(r.Peers[runKey{name, "pair", c}]) }
	measured := func(name string) bool { return r.PeerMissing[name] == "" }
	for _, c := range peerConcs {
		row(fmt.Sprintf("pairs/s, %d clients", c), func(n string) string {
			if !measured(n) {
				return "not measured"
			}
			return fmtFloat(peerAgg(n, c).Ops, 0)
		})
	}
	for _, c := range peerConcs {
		row(fmt.Sprintf("pairs/s over the raw Redis pair, %d clients", c), func(n string) string {
			if !measured(n) {
				return ""
			}
			return fraction(peerAgg(n, c).Ops, r.rawPairMedian(c))
		})
	}
	cpuRow := func(label string, f func(a agg) float64, dec int) {
		row(label, func(n string) string {
			if !measured(n) {
				return ""
			}
			var parts []string
			for _, c := range peerConcs {
				parts = append(parts, fmtFloat(f(peerAgg(n, c)), dec))
			}
			return strings.Join(parts, " / ")
		})
	}
	cpuRow("server CPU µs per pair, "+joinInts(peerConcs)+" clients", func(a agg) float64 { return a.ServerOp }, 1)
	cpuRow("Redis CPU µs per pair, "+joinInts(peerConcs)+" clients", func(a agg) float64 { return a.BackendOp }, 1)
	cpuRow("Redis commands per pair, "+joinInts(peerConcs)+" clients", func(a agg) float64 { return a.CallsOp }, 1)
	cpuRow("p99 ms of a pair, "+joinInts(peerConcs)+" clients", func(a agg) float64 { return a.P99 }, 3)
	row("Redis bytes per stored secret", func(n string) string {
		v, ok := r.PeerBytes[n]
		if !measured(n) || !ok {
			return ""
		}
		return fmtFloat(v, 0)
	})
	row("errors + wrong values", func(n string) string {
		if !measured(n) {
			return ""
		}
		var bad int64
		for _, c := range peerConcs {
			bad += peerAgg(n, c).Bad
		}
		return fmt.Sprint(bad)
	})
	p("")
	var groups []string
	for _, c := range peerConcs {
		groups = append(groups, clientsLabel(c))
	}
	var ser []series
	for _, n := range names {
		if !measured(n) {
			continue
		}
		var vals []float64
		for _, c := range peerConcs {
			vals = append(vals, peerAgg(n, c).Ops)
		}
		ser = append(ser, series{n, vals})
	}
	img("peers.svg", "pairs per second of onetime and its peers on one Redis", chart{
		Title: "Pairs/s on one Redis: onetime and peers", YLabel: "pairs/s", Groups: groups, Series: ser}.BarSVG())
}

// issue22Targets are the targets of issue 22 on the Redis path, as ratios
// measured in the same run.
func (b *bench) issue22Targets(p printer) {
	o, r := b.o, b.res
	if !contains(o.Stores, "redis") {
		return
	}
	for _, t := range []struct {
		conc int
		min  float64
	}{{8, 0.17}, {32, 0.25}} {
		a := aggregate(r.HTTP[runKey{"redis", "pair", t.conc}])
		raw := r.rawPairMedian(t.conc)
		v := a.Ops / raw
		p("| Redis store over HTTP, %d clients: pairs/s >= %s of the raw Redis pair (redis-benchmark SET EX + GETDEL, same clients) | %s (%s / %s pairs/s) | %s |",
			t.conc, fmtFloat(t.min, 2), fraction(a.Ops, raw), fmtFloat(a.Ops, 0), fmtFloat(raw, 0), verdict(v, v >= t.min))
	}
	a8, a32 := aggregate(r.HTTP[runKey{"redis", "pair", 8}]), aggregate(r.HTTP[runKey{"redis", "pair", 32}])
	spread := math.Max(a8.ServerOp, a32.ServerOp)/math.Min(a8.ServerOp, a32.ServerOp) - 1
	p("| Redis store over HTTP: server CPU per pair within 20%% between 8 and 32 clients | %s / %s µs: %s apart | %s |",
		fmtFloat(a8.ServerOp, 1), fmtFloat(a32.ServerOp, 1), pct1(spread), verdict(spread, spread <= 0.2))
}
