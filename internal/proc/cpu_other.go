//go:build !unix

package proc

import "time"

// CPU is not measured on this system: ok is false.
func CPU() (self, children time.Duration, ok bool) { return 0, 0, false }
