//go:build !linux

package main

import "testing"

// testPrompts needs a pseudo-terminal, opened here with Linux's ioctls.
func testPrompts(t *testing.T, _ *e2e) {
	t.Skip("the prompt test opens a pseudo-terminal with Linux ioctls")
}
