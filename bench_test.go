package onetime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

func benchService(b *testing.B) *onetime.Service {
	b.Helper()
	svc, err := onetime.New(memory.New(), bytes.Repeat([]byte{7}, 32), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	return svc
}

var benchValue = bytes.Repeat([]byte("v"), 100)

// BenchmarkShare measures storing a 100-byte secret without a passphrase.
func BenchmarkShare(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.Share(ctx, onetime.ShareRequest{Value: benchValue}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Share(ctx, onetime.ShareRequest{Value: benchValue}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkReveal measures revealing a 100-byte secret; the shares it
// reveals are made with the timer stopped.
func BenchmarkReveal(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	share := func(n int) []onetime.SecretKey {
		keys := make([]onetime.SecretKey, n)
		for i := range keys {
			r, err := svc.Share(ctx, onetime.ShareRequest{Value: benchValue})
			if err != nil {
				b.Fatal(err)
			}
			keys[i] = r.SecretKey
		}
		return keys
	}
	b.Run("serial", func(b *testing.B) {
		keys := share(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := svc.Reveal(ctx, keys[i], ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		keys := make(chan onetime.SecretKey, b.N)
		for _, k := range share(b.N) {
			keys <- k
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := svc.Reveal(ctx, <-keys, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkPair measures a Share followed by the Reveal of that secret,
// the unit of work of a one-time secret.
func BenchmarkPair(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	pair := func(b *testing.B) {
		r, err := svc.Share(ctx, onetime.ShareRequest{Value: benchValue})
		if err != nil {
			b.Fatal(err)
		}
		got, err := svc.Reveal(ctx, r.SecretKey, "")
		if err != nil || len(got.Value) != len(benchValue) {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			pair(b)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				pair(b)
			}
		})
	})
}

// BenchmarkGuess measures one passphrase guess: on a key that names
// nothing (a store lookup, no derivation: what a guesser mostly sends),
// and on a real secret (one argon2id derivation).
func BenchmarkGuess(b *testing.B) {
	ctx := context.Background()
	b.Run("missing-key", func(b *testing.B) {
		svc := benchService(b)
		keys := make([]onetime.SecretKey, 1000)
		for i := range keys {
			keys[i] = randomKey()
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := svc.Reveal(ctx, keys[i%len(keys)], "a guess"); !errors.Is(err, onetime.ErrNotFound) {
				b.Fatal(err)
			}
		}
	})
	b.Run("real-secret", func(b *testing.B) {
		svc, err := onetime.New(memory.New(), bytes.Repeat([]byte{7}, 32), &onetime.Options{MaxAttempts: onetime.MaxAttemptsLimit})
		if err != nil {
			b.Fatal(err)
		}
		r, err := svc.Share(ctx, onetime.ShareRequest{Value: benchValue, Passphrase: "right"})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.Reveal(ctx, r.SecretKey, "wrong"); !errors.Is(err, onetime.ErrWrongPassphrase) {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRevealUnderFlood measures one client's reveal of its own
// passphrase-protected secret (one derivation), alone and while two other
// clients keep eight guesses on a real secret queued for derivation and
// two more send guesses on missing keys. The KDF concurrency is the
// default. Served in turn per client, the reveal waits for about one
// derivation per flooding client; flood-guesses/op reports how many of
// the flood's guesses on the real secret ended per reveal.
func BenchmarkRevealUnderFlood(b *testing.B) {
	for _, flooded := range []bool{false, true} {
		name := "quiet"
		if flooded {
			name = "flood"
		}
		b.Run(name, func(b *testing.B) {
			ctx := onetime.WithCaller(context.Background(), onetime.Caller{Address: "192.0.2.1"})
			svc, err := onetime.New(memory.New(), bytes.Repeat([]byte{7}, 32), &onetime.Options{MaxAttempts: onetime.MaxAttemptsLimit})
			if err != nil {
				b.Fatal(err)
			}
			keys := make([]onetime.SecretKey, b.N)
			for i := range keys {
				r, err := svc.Share(ctx, onetime.ShareRequest{Value: benchValue, Passphrase: "mine"})
				if err != nil {
					b.Fatal(err)
				}
				keys[i] = r.SecretKey
			}
			target, err := svc.Share(ctx, onetime.ShareRequest{Value: benchValue, Passphrase: "right"})
			if err != nil {
				b.Fatal(err)
			}

			flood, stop := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var guesses atomic.Int64
			if flooded {
				for c := range 4 {
					ctx := onetime.WithCaller(flood, onetime.Caller{Address: fmt.Sprint("198.51.100.", c)})
					for range 4 {
						wg.Go(func() {
							for flood.Err() == nil {
								if c < 2 {
									svc.Reveal(ctx, target.SecretKey, "wrong")
									guesses.Add(1)
								} else {
									svc.Reveal(ctx, randomKey(), "wrong")
								}
							}
						})
						if c >= 2 {
							break // one goroutine per client on missing keys
						}
					}
				}
				for {
					if waiting, _ := onetime.KDFWaiting(svc); waiting >= 4 {
						break
					}
					runtime.Gosched()
				}
			}

			b.ResetTimer()
			before := guesses.Load()
			for _, k := range keys {
				if _, err := svc.Reveal(ctx, k, "mine"); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(guesses.Load()-before)/float64(b.N), "flood-guesses/op")
			stop()
			wg.Wait()
		})
	}
}

// BenchmarkShareTelemetry measures what the Service's telemetry costs a
// share (serial, 100 bytes, no passphrase, memory store): with the
// OpenTelemetry API alone (the global no-op providers: what a program
// that installs no SDK pays), with an SDK MeterProvider recording every
// metric (a ManualReader, as a Prometheus exporter would be, never read
// here), the same with tracing turned off by a no-op TracerProvider, and
// with an SDK TracerProvider recording every span besides.
func BenchmarkShareTelemetry(b *testing.B) {
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		meters metric.MeterProvider
		traces trace.TracerProvider
	}{
		{"otel=off", nil, nil},
		{"otel=metrics", sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())), nil},
		{"otel=metrics-notrace", sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
			tracenoop.NewTracerProvider()},
		{"otel=metrics+traces", sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
			sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))},
	} {
		b.Run(c.name, func(b *testing.B) {
			svc, err := onetime.New(memory.New(), bytes.Repeat([]byte{7}, 32),
				&onetime.Options{MeterProvider: c.meters, TracerProvider: c.traces})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { svc.Close() })
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.Share(ctx, onetime.ShareRequest{Value: benchValue}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
