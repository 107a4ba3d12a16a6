package sqlite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/sqlite"
)

var value100 = bytes.Repeat([]byte("v"), 100)

// service returns a Service over st with no sweeper, as the benchmarks
// measure the request path only.
func service(b testing.TB, st onetime.Store) *onetime.Service {
	svc, err := onetime.New(st, bytes.Repeat([]byte("k"), 32), &onetime.Options{SweepInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	return svc
}

func benchStore(b *testing.B) (*sqlite.Store, *onetime.Service) {
	st := open(b, nil)
	b.Cleanup(func() { st.Close() })
	return st, service(b, st)
}

func share(b testing.TB, svc *onetime.Service) *onetime.Receipt {
	r, err := svc.Share(context.Background(), onetime.ShareRequest{Value: value100})
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func reveal(b testing.TB, svc *onetime.Service, key string) {
	if _, err := svc.Reveal(context.Background(), key, ""); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkShare(b *testing.B) {
	_, svc := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		share(b, svc)
	}
}

func BenchmarkShareParallel(b *testing.B) {
	_, svc := benchStore(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			share(b, svc)
		}
	})
}

// keys shares n secrets outside the timer and returns their keys.
func keys(b *testing.B, svc *onetime.Service, n int) []string {
	b.StopTimer()
	defer b.StartTimer()
	out := make([]string, n)
	for i := range out {
		out[i] = share(b, svc).SecretKey
	}
	return out
}

func BenchmarkReveal(b *testing.B) {
	_, svc := benchStore(b)
	ks := keys(b, svc, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		reveal(b, svc, ks[i])
	}
}

func BenchmarkRevealParallel(b *testing.B) {
	_, svc := benchStore(b)
	ks := keys(b, svc, b.N)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reveal(b, svc, ks[next.Add(1)-1])
		}
	})
}

// BenchmarkPair is one Share followed by the Reveal of the secret: the
// life of a one-time secret.
func BenchmarkPair(b *testing.B) {
	_, svc := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		reveal(b, svc, share(b, svc).SecretKey)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

func BenchmarkPairParallel(b *testing.B) {
	_, svc := benchStore(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reveal(b, svc, share(b, svc).SecretKey)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

// synthetic returns a pair shaped like the service's for a 100-byte value,
// with random ids, for filling a store without the service's cost.
func synthetic(now time.Time, owner string) (*onetime.Secret, *onetime.Metadata) {
	var b [64]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	sid, mid := onetime.ID(h[:40]), onetime.ID(h[:8]+h[40:72])
	sealed := make([]byte, 128+85) // 100 bytes + nonce + tag; the receipt's payload sealed
	rand.Read(sealed)
	s := &onetime.Secret{ID: sid, MetadataID: mid, Sealed: sealed[:128], MaxAttempts: 10,
		ExpiresAt: now.Add(7 * 24 * time.Hour)}
	m := &onetime.Metadata{ID: mid, SecretID: sid, Owner: owner, State: onetime.StateNew,
		Created: now, Updated: now, SecretExpiresAt: s.ExpiresAt, ExpiresAt: now.Add(14 * 24 * time.Hour),
		Sealed: sealed[128:]}
	return s, m
}
