package onetime_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

func benchService(b *testing.B) *onetime.Service {
	b.Helper()
	svc, err := onetime.New(memory.New(), bytes.Repeat([]byte{7}, 32), &onetime.Options{SweepInterval: -1})
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
	share := func(n int) []string {
		keys := make([]string, n)
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
		keys := make(chan string, b.N)
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
