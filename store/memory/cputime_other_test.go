//go:build !unix

package memory_test

import "time"

// cpuTime is not measured here: cpu-ns/op reads as 0.
func cpuTime() time.Duration { return 0 }
