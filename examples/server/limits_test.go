package main

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLimitConns(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := limitConns(inner, 2)
	defer ln.Close()

	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	var open [3]net.Conn
	for i := range open {
		dial() // the kernel accepts them all; the listener hands out two
		if i < 2 {
			open[i], err = ln.Accept()
			require.NoError(t, err)
		}
	}

	var released atomic.Bool
	third := make(chan net.Conn)
	go func() {
		c, err := ln.Accept() // waits for a free slot
		assert.NoError(t, err)
		assert.True(t, released.Load(), "a third connection was accepted while two were open")
		third <- c
	}()
	released.Store(true)
	require.NoError(t, open[0].Close())
	open[0].Close() // a second Close must not free a second slot
	open[2] = <-third
	require.NotNil(t, open[2])
	assert.Len(t, ln.(*limitListener).sem, 2, "slots taken")

	// Close ends an Accept that waits for a slot.
	fourth := make(chan error)
	go func() {
		_, err := ln.Accept()
		fourth <- err
	}()
	dial()
	require.NoError(t, ln.Close())
	assert.True(t, errors.Is(<-fourth, net.ErrClosed))
	_, err = ln.Accept()
	assert.ErrorIs(t, err, net.ErrClosed)
}
