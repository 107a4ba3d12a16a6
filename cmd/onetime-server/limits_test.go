package main

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listen returns a loopback listener closed at the test's end.
func listen(t *testing.T) net.Listener {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { inner.Close() })
	return inner
}

// dialFrom connects to ln from the loopback address from, closed at the
// test's end.
func dialFrom(t *testing.T, ln net.Listener, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLimitConns(t *testing.T) {
	ln := limitConns(listen(t), 2, 0, nil)
	defer ln.Close()

	var open [3]net.Conn
	var err error
	for i := range open {
		dialFrom(t, ln, "127.0.0.1") // the kernel accepts them all; the listener hands out two
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

	// Close ends an Accept that waits for a slot.
	fourth := make(chan error)
	go func() {
		_, err := ln.Accept()
		fourth <- err
	}()
	dialFrom(t, ln, "127.0.0.1")
	require.NoError(t, ln.Close())
	assert.True(t, errors.Is(<-fourth, net.ErrClosed))
	_, err = ln.Accept()
	assert.ErrorIs(t, err, net.ErrClosed)
}

// TestLimitConnsPerAddr: past its cap, an address's connections are
// closed at once, while another address's are served; a connection closed
// (once or twice) frees one place of its address.
func TestLimitConnsPerAddr(t *testing.T) {
	ln := limitConns(listen(t), 10, 2, nil)
	defer ln.Close()

	accept := func() net.Conn {
		t.Helper()
		c, err := ln.Accept()
		require.NoError(t, err)
		return c
	}
	var held []net.Conn
	for range 2 {
		dialFrom(t, ln, "127.0.0.2")
		held = append(held, accept())
	}
	over := dialFrom(t, ln, "127.0.0.2")
	dialFrom(t, ln, "127.0.0.3")
	other := accept() // the listener closed the third of 127.0.0.2 to get here
	assert.Equal(t, "127.0.0.3", other.RemoteAddr().(*net.TCPAddr).IP.String())
	over.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := over.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the connection past the cap is closed")

	require.NoError(t, held[0].Close())
	held[0].Close() // a second Close must not free a second place
	dialFrom(t, ln, "127.0.0.2")
	again := accept()
	assert.Equal(t, "127.0.0.2", again.RemoteAddr().(*net.TCPAddr).IP.String(), "a place freed by a Close")

	over = dialFrom(t, ln, "127.0.0.2")
	dialFrom(t, ln, "127.0.0.3")
	accept()
	over.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = over.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "two open again: the next one is closed")
}

// TestLimitConnsExempt: a trusted proxy's connections are not capped, as
// every connection of its clients comes from it; others are.
func TestLimitConnsExempt(t *testing.T) {
	ln := limitConns(listen(t), 10, 1, []netip.Prefix{netip.MustParsePrefix("127.0.0.4/32")})
	defer ln.Close()
	for range 3 {
		dialFrom(t, ln, "127.0.0.4")
		c, err := ln.Accept()
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.4", c.RemoteAddr().(*net.TCPAddr).IP.String(), "the proxy's connections are all served")
		t.Cleanup(func() { c.Close() })
	}
	dialFrom(t, ln, "127.0.0.5")
	c, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	over := dialFrom(t, ln, "127.0.0.5")
	dialFrom(t, ln, "127.0.0.4")
	c, err = ln.Accept() // the listener closed the second of 127.0.0.5 to get here
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	assert.Equal(t, "127.0.0.4", c.RemoteAddr().(*net.TCPAddr).IP.String())
	over.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = over.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "another address is capped")
}

func TestClientAddr(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:80":              "192.0.2.1",
		"[::ffff:192.0.2.1]:80":     "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:80": "2001:db8:1:2::",
		"[2001:db8:1:2::9]:443":     "2001:db8:1:2::",
		"[2001:db8:1:3::9]:443":     "2001:db8:1:3::",
		"[fe80::1%eth0]:80":         "fe80::",
	} {
		a, ok := clientAddr(net.TCPAddrFromAddrPort(netip.MustParseAddrPort(in)))
		assert.True(t, ok, in)
		assert.Equal(t, want, a.String(), in)
	}
	_, ok := clientAddr(&net.UnixAddr{Name: "/tmp/sock", Net: "unix"})
	assert.False(t, ok, "a Unix socket has no client address")
}
