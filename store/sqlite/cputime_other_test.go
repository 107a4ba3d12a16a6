//go:build !unix

package sqlite_test

import "time"

// cpuTime is not measured here: CPU per pair reads as 0.
func cpuTime() time.Duration { return 0 }
