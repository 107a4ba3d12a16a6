//go:build unix

package redis_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) used so far by this
// process and by its children that have ended (redis-benchmark, once the
// yardstick has waited for it).
func processCPU() (self, children time.Duration, ok bool) {
	var s, c syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &s) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c) != nil {
		return 0, 0, false
	}
	sum := func(r *syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	return sum(&s), sum(&c), true
}
