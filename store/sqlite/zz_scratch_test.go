package sqlite_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

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
