package client

import "time"

func init() {
	// Tests of retries need not wait.
	retryBackoff = time.Millisecond
}

// TimeoutOf returns the bound of each try of c's requests.
func TimeoutOf(c *Client) time.Duration { return c.timeout }
