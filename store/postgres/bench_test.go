package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/pgtest"
	"github.com/onetimego/onetime/store/postgres"
	"github.com/onetimego/onetime/store/storetest"
)

// statements counts the statements a pool sends: with the default exec
// mode each is one round trip.
type statements struct{ n atomic.Int64 }

func (c *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// parallel runs n calls of f on conc goroutines and returns the time taken.
func parallel(b *testing.B, n, conc int, f func() error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := f(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkStore runs the benchmarks that every store runs, each in a
// fresh schema of the shared server, on a pool of storetest.Callers
// connections.
func BenchmarkStore(b *testing.B) {
	storetest.RunBenchmarks(b, func(b *testing.B) onetime.Store {
		srv := pgtest.Shared(b)
		pool := srv.Pool(b, "postgres", func(c *pgxpool.Config) { c.MaxConns = storetest.Callers })
		st, err := postgres.New(context.Background(), pool, &postgres.Options{Schema: srv.Schema(b)})
		if err != nil {
			b.Fatal(err)
		}
		return st
	})
}

// BenchmarkYardstick measures pairs per second, a pair being what every
// shared secret costs the store: Create, then Reveal. In the same run, the
// yardstick does one INSERT and one DELETE per pair on a plain two-column
// table, with the same server, pool size, exec mode and concurrency; the
// ratio is the store's share of what PostgreSQL does at best here. Each
// runs in the store's default mode, then both with named prepared
// statements (Options.StatementCache). The shared test server runs with
// fsync off, so commits cost no disk flush: the comparison is of
// statements, not of the disk.
func BenchmarkYardstick(b *testing.B) {
	srv := pgtest.Shared(b)
	ctx := context.Background()
	for _, bc := range []struct {
		conc  int
		cache bool
	}{{1, false}, {32, false}, {1, true}, {32, true}} {
		conc, mode, name := bc.conc, pgx.QueryExecModeCacheDescribe, fmt.Sprintf("goroutines=%d", bc.conc)
		if bc.cache {
			mode, name = pgx.QueryExecModeCacheStatement, name+"/statement-cache"
		}
		b.Run(name, func(b *testing.B) {
			var counter statements
			pool := srv.Pool(b, "postgres", func(c *pgxpool.Config) {
				c.MaxConns, c.MinConns = int32(conc), int32(conc)
				c.ConnConfig.Tracer = &counter
			})
			st, err := postgres.New(ctx, pool, &postgres.Options{Schema: srv.Schema(b), StatementCache: bc.cache})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			yard := pgtest.Name()
			if _, err := pool.Exec(ctx, `CREATE TABLE `+yard+` (id bytea PRIMARY KEY, v bytea)`); err != nil {
				b.Fatal(err)
			}
			value := make([]byte, 128)
			rand.Read(value)

			pair := func() error {
				s, m := storetest.NewPair("", t0, time.Hour)
				if err := st.Create(ctx, s, m); err != nil {
					return err
				}
				sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
				if err == nil && !bytes.Equal(sec.Sealed, s.Sealed) {
					err = fmt.Errorf("revealed other bytes")
				}
				return err
			}
			yardstick := func() error {
				id := make([]byte, 20)
				rand.Read(id)
				if _, err := pool.Exec(ctx, `INSERT INTO `+yard+` (id, v) VALUES ($1, $2)`, mode, id, value); err != nil {
					return err
				}
				_, err := pool.Exec(ctx, `DELETE FROM `+yard+` WHERE id = $1`, mode, id)
				return err
			}

			// The store and the yardstick take turns, ten rounds each, so
			// that both see the same load on a shared machine.
			counter.n.Store(0)
			b.ResetTimer()
			var took, yardTook time.Duration
			for round := range 10 {
				n := b.N/10 + btoi(round < b.N%10)
				b.StartTimer()
				took += parallel(b, n, conc, pair)
				b.StopTimer()
				yardTook += parallel(b, n, conc, yardstick)
			}
			sent := counter.n.Load() - 2*int64(b.N) // the yardstick's statements
			pairs := float64(b.N) / took.Seconds()
			yardPairs := float64(b.N) / yardTook.Seconds()
			b.ReportMetric(pairs, "pairs/s")
			b.ReportMetric(yardPairs, "yardstick-pairs/s")
			b.ReportMetric(100*pairs/yardPairs, "%-of-yardstick")
			b.ReportMetric(float64(sent)/float64(b.N), "statements/pair")
		})
	}
}

// BenchmarkStoredBytes shares secrets through the Service (32-byte values,
// anonymous, no passphrase) and reports the bytes each takes on disk with
// its receipt (bytes/secret; secret-bytes and receipt-bytes apart):
// pg_total_relation_size of both tables (heap, TOAST and indexes) over the
// number of pairs.
func BenchmarkStoredBytes(b *testing.B) {
	srv := pgtest.Shared(b)
	ctx := context.Background()
	pool := srv.Pool(b, "postgres", func(c *pgxpool.Config) { c.MaxConns = 8 })
	st, err := postgres.New(ctx, pool, &postgres.Options{Schema: srv.Schema(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc, err := onetime.New(st, bytes.Repeat([]byte("k"), 32), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	// Enough pairs to fill many pages, whatever b.N is.
	pairs := max(b.N, 5000)
	value := bytes.Repeat([]byte("v"), 32)
	b.ResetTimer()
	parallel(b, pairs, 8, func() error {
		_, err := svc.Share(ctx, onetime.ShareRequest{Value: value})
		return err
	})
	b.StopTimer()
	var secrets, receipts int64
	if err := pool.QueryRow(ctx, `SELECT pg_total_relation_size($1), pg_total_relation_size($2)`,
		st.Table("secrets"), st.Table("receipts")).Scan(&secrets, &receipts); err != nil {
		b.Fatal(err)
	}
	n := float64(pairs)
	b.ReportMetric(float64(secrets+receipts)/n, "bytes/secret")
	b.ReportMetric(float64(secrets)/n, "secret-bytes")
	b.ReportMetric(float64(receipts)/n, "receipt-bytes")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
