//go:build !linux

package main

import "testing"

// testControllingTerminal needs a pseudo-terminal, opened here with Linux's
// ioctls; so does TestPrompts, which exists on Linux only.
func testControllingTerminal(t *testing.T, _ string, _ *harness) {
	t.Skip("the prompt test opens a pseudo-terminal with Linux ioctls")
}
