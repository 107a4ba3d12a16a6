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
