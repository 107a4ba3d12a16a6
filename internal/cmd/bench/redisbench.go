//go:build linux

package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/onetimego/onetime/internal/redistest"
)

// rbResult is one command's figures in one redis-benchmark run.
type rbResult struct {
	RPS   float64 // requests per second
	P99MS float64 // 99th percentile latency in ms, NaN when not printed
}

// parseRedisCSV reads the output of redis-benchmark --csv: a header line
// ("test","rps",...,"p99_latency_ms",...) and a line per command. Older
// versions without a header print "test","rps" lines only.
func parseRedisCSV(out string) (map[string]rbResult, error) {
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark --csv: %v", err)
	}
	col := map[string]int{"test": 0, "rps": 1}
	res := map[string]rbResult{}
	for _, rec := range recs {
		if len(rec) < 2 {
			continue
		}
		if rec[0] == "test" {
			for i, h := range rec {
				col[h] = i
			}
			continue
		}
		rps, err := strconv.ParseFloat(rec[col["rps"]], 64)
		if err != nil {
			return nil, fmt.Errorf("redis-benchmark --csv: %s: bad rps %q", rec[0], rec[col["rps"]])
		}
		x := rbResult{RPS: rps, P99MS: nan}
		if i, ok := col["p99_latency_ms"]; ok && i < len(rec) {
			if v, err := strconv.ParseFloat(rec[i], 64); err == nil {
				x.P99MS = v
			}
		}
		res[rec[0]] = x
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("redis-benchmark --csv: no results in %q", out)
	}
	return res, nil
}

// redisBenchmarkArgs is the command line of the yardstick run against addr.
func redisBenchmarkArgs(addr string, clients, size, requests int) []string {
	host, port, _ := net.SplitHostPort(addr)
	return []string{redistest.BenchmarkBinary, "-h", host, "-p", port, "-c", strconv.Itoa(clients),
		"-t", "set,get", "-d", strconv.Itoa(size), "-n", strconv.Itoa(requests), "--csv"}
}

// runRedisBenchmark runs redis-benchmark against addr and returns its SET
// and GET figures.
func runRedisBenchmark(ctx context.Context, addr string, clients, size, requests int) (map[string]rbResult, error) {
	// redis-benchmark waits forever for a server that does not answer.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	args := redisBenchmarkArgs(addr, clients, size, requests)
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).Output()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark: %v", err)
	}
	return parseRedisCSV(string(out))
}

// rawPair is one round of the raw Redis pair at one number of clients:
// redis-benchmark of SET key value EX 3600, then of GETDEL key, on the
// same keyspace. redis-benchmark runs one command per run and draws its
// keys at random (-r), so it cannot GETDEL the very key it just SET: the
// pair's rate is that of its two runs one after the other, 1/(1/SET +
// 1/GETDEL), and the keyspace is filled beforehand so that most GETDELs
// find a key (HitRate says how many did).
type rawPair struct {
	Conc       int
	SetRPS     float64
	GetDelRPS  float64
	HitRate    float64 // fraction of the GETDELs that found a key (and deleted it)
	CPUPerPair float64 // redis-server's CPU time per SET + GETDEL, µs
}

// PairsPerSec returns the pairs per second of the two runs one after the
// other.
func (r rawPair) PairsPerSec() float64 {
	if r.SetRPS <= 0 || r.GetDelRPS <= 0 {
		return nan
	}
	return 1 / (1/r.SetRPS + 1/r.GetDelRPS)
}

// rawPairKeys is how many keys the keyspace of the raw pair holds per
// GETDEL of a run: with 4, a run's random draws find about 88% of their
// keys still there.
const rawPairKeys = 4

// rawPairArgs is the command line of one run of the raw pair: cmd is SET
// or GETDEL.
func rawPairArgs(addr string, conc, requests, keyspace int, cmd string, value string) []string {
	host, port, _ := net.SplitHostPort(addr)
	args := []string{redistest.BenchmarkBinary, "-h", host, "-p", port, "-c", strconv.Itoa(conc),
		"-n", strconv.Itoa(requests), "-r", strconv.Itoa(keyspace), "--csv"}
	if cmd == "SET" {
		return append(args, "SET", "key:__rand_int__", value, "EX", "3600")
	}
	return append(args, "GETDEL", "key:__rand_int__")
}

// runRawCommand runs one redis-benchmark run of the raw pair and returns
// its requests/s.
func runRawCommand(ctx context.Context, args []string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).Output()
	if err != nil {
		return 0, fmt.Errorf("redis-benchmark: %v", err)
	}
	res, err := parseRedisCSV(string(out))
	if err != nil {
		return 0, err
	}
	for _, v := range res {
		return v.RPS, nil
	}
	return 0, fmt.Errorf("redis-benchmark: no result")
}
