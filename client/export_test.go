package client

import "time"

func init() {
	// Tests of Status's retries need not wait.
	statusBackoff = time.Millisecond
}
