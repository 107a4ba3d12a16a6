//go:build unix

package proc

import (
	"syscall"
	"time"
)

// CPU returns the CPU time, user and system, that this process has used
// so far (self) and that its children have used (children: only those
// that have ended and been waited for, such as redis-benchmark once its
// run is over). ok is false where it is not measured: on systems other
// than Unix, or if getrusage fails.
func CPU() (self, children time.Duration, ok bool) {
	var s, c syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &s) != nil || syscall.Getrusage(syscall.RUSAGE_CHILDREN, &c) != nil {
		return 0, 0, false
	}
	sum := func(r *syscall.Rusage) time.Duration {
		return time.Duration(r.Utime.Nano() + r.Stime.Nano())
	}
	return sum(&s), sum(&c), true
}
