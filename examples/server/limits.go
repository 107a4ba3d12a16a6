package main

import (
	"net"
	"sync"
)

// limitConns returns a listener that keeps at most n of l's connections
// open at a time: Accept waits while n are open, and the connections past
// n wait in the kernel's accept queue. Each open connection can hold up
// to the server's MaxHeaderBytes of unfinished headers (and a handler's
// bounded body) until ReadHeaderTimeout ends it, so n times that is what
// connections alone can make the server hold.
//
// It is golang.org/x/net/netutil.LimitListener in a few lines, kept here
// so that the example needs no further module.
func limitConns(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	sem       chan struct{} // one token per open connection
	done      chan struct{} // closed by Close: Accept waits no longer
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}

// limitConn gives its token back when it is first closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
