package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The yardstick listens on loopback only.
func TestServeRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"10.0.0.1:7144", "0.0.0.0:7144", "[::]:7144", "localhost:7144", "7144", ""} {
		err := serve(addr)
		require.Error(t, err, addr)
		require.Contains(t, err.Error(), "want a loopback ip:port", addr)
	}
}
