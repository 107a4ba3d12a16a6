//go:build linux

package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// rawPairRounds measures the raw Redis pair (see rawPair) at each number
// of clients, o.Runs rounds (the client counts in turn within a round),
// on the Redis that the Redis store and the peers use.
func (b *bench) rawPairRounds(ctx context.Context) error {
	n := b.o.RawRequests
	keys := rawPairKeys * n
	value := strings.Repeat("v", b.o.Size)
	for r := range b.o.Runs {
		for _, c := range b.o.Concs {
			res, err := b.rawPair(ctx, c, n, keys, value)
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				// The other client counts and rounds still say something.
				b.fail("raw Redis pair, %s, round %d/%d: %v", clientsLabel(c), r+1, b.o.Runs, err)
				continue
			}
			b.res.RawPair[c] = append(b.res.RawPair[c], res)
			b.logf("  raw Redis pair, %s, round %d/%d: SET %.0f/s, GETDEL %.0f/s (%.0f%% found): %.0f pairs/s, %.1f µs Redis CPU per pair",
				clientsLabel(c), r+1, b.o.Runs, res.SetRPS, res.GetDelRPS, 100*res.HitRate, res.PairsPerSec(), res.CPUPerPair)
		}
	}
	return b.rdb.FlushAll(ctx).Err()
}

// rawPair measures the raw pair once at c clients: n requests of each
// command on a keyspace of keys keys.
func (b *bench) rawPair(ctx context.Context, c, n, keys int, value string) (rawPair, error) {
	if err := b.fillRawKeys(ctx, keys, value); err != nil {
		return rawPair{}, err
	}
	res := rawPair{Conc: c}
	var cpu float64
	for _, cmd := range []string{"SET", "GETDEL"} {
		args := rawPairArgs(b.redis.Addr, c, n, keys, cmd, value)
		b.note(rawPairArgs("127.0.0.1:PORT", c, n, keys, cmd, "VALUE")...)
		before, err := b.rdb.DBSize(ctx).Result()
		if err != nil {
			return rawPair{}, err
		}
		c0, err := cpuSeconds(b.redisPID)
		if err != nil {
			return rawPair{}, err
		}
		rps, err := runRawCommand(ctx, args)
		if err != nil {
			return rawPair{}, err
		}
		c1, err := cpuSeconds(b.redisPID)
		if err != nil {
			return rawPair{}, err
		}
		cpu += c1 - c0
		if cmd == "SET" {
			res.SetRPS = rps
			continue
		}
		res.GetDelRPS = rps
		after, err := b.rdb.DBSize(ctx).Result()
		if err != nil {
			return rawPair{}, err
		}
		res.HitRate = float64(before-after) / float64(n)
	}
	res.CPUPerPair = cpu / float64(n) * 1e6
	return res, nil
}

// fillRawKeys empties Redis and stores the keys key:000000000000 to
// key:(n-1), as redis-benchmark's -r names them, each with value and a
// TTL of an hour, in pipelines of 1000.
func (b *bench) fillRawKeys(ctx context.Context, n int, value string) error {
	if err := b.rdb.FlushAll(ctx).Err(); err != nil {
		return err
	}
	for i := 0; i < n; i += 1000 {
		p := b.rdb.Pipeline()
		for k := i; k < min(i+1000, n); k++ {
			p.Set(ctx, fmt.Sprintf("key:%012d", k), value, time.Hour)
		}
		if _, err := p.Exec(ctx); err != nil {
			return err
		}
	}
	return nil
}
