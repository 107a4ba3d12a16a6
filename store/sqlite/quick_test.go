package sqlite_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/onetimego/onetime/store/memory"
)

func BenchmarkXPairMemory(b *testing.B) {
	svc := service(b, memory.New())
	for b.Loop() {
		reveal(b, svc, share(b, svc).SecretKey)
	}
}

func BenchmarkXCreate(b *testing.B) {
	st := open(b, nil)
	defer st.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	ctx := context.Background()
	for b.Loop() {
		s, m := synthetic(now, "")
		if err := st.Create(ctx, s, m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkXPairParallel16(b *testing.B) {
	_, svc := benchStore(b)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reveal(b, svc, share(b, svc).SecretKey)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

func BenchmarkXPairParallelStats(b *testing.B) {
	st, svc := benchStore(b)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reveal(b, svc, share(b, svc).SecretKey)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
	bt, ops := st.BatchStats()
	b.ReportMetric(float64(ops)/float64(bt), "ops/batch")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(bt), "us/batch")
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkXCPU(b *testing.B) {
	for _, par := range []int{1, 8} {
		b.Run(fmt.Sprint("par", par), func(b *testing.B) {
			st, svc := benchStore(b)
			b.SetParallelism(par)
			c0 := cpuNow()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					reveal(b, svc, share(b, svc).SecretKey)
				}
			})
			bt, ops := st.BatchStats()
			b.ReportMetric(float64(ops)/float64(bt), "ops/batch")
			b.ReportMetric(float64((cpuNow()-c0).Microseconds())/float64(b.N), "cpu-us/pair")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
		})
	}
}
