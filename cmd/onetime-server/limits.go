package main

import (
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/netutil"
)

// limitConns returns a listener that keeps at most maxConns of l's
// connections open at a time, and at most perAddr from one client address
// (0: no cap per address) other than the exempt ones (the trusted
// proxies).
//
// Past maxConns, Accept waits and connections wait in the kernel's accept
// queue (golang.org/x/net/netutil.LimitListener). Each open connection can
// hold up to the server's MaxHeaderBytes of unfinished headers (and a
// handler's bounded body) until ReadHeaderTimeout ends it, so maxConns
// times that is what connections alone can make the server hold.
//
// Past perAddr, a connection is closed as soon as it is accepted, so that
// one address holding slow connections cannot take every slot and lock
// the others out. An address is the connection's own (IPv6 grouped by
// /64, the block one subscriber usually holds), not a proxy's header: a
// server behind a reverse proxy sees every connection come from the
// proxy, which is why the addresses in exempt (-trusted-proxies) are not
// capped; the proxy caps its clients' connections itself.
func limitConns(l net.Listener, maxConns, perAddr int, exempt []netip.Prefix) net.Listener {
	if perAddr > 0 {
		l = &perAddrListener{Listener: l, max: perAddr, exempt: exempt, open: map[netip.Addr]int{}}
	}
	return netutil.LimitListener(l, maxConns)
}

// perAddrListener closes the connections of a client address that has max
// open already, but those of the exempt addresses.
type perAddrListener struct {
	net.Listener
	max    int
	exempt []netip.Prefix

	mu   sync.Mutex
	open map[netip.Addr]int // connections open per client address
}

func (l *perAddrListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		a, ok := clientAddr(c.RemoteAddr())
		if !ok || l.isExempt(c.RemoteAddr()) {
			return c, nil // not TCP (no address to count), or a trusted proxy
		}
		if l.take(a) {
			return &addrConn{Conn: c, release: func() { l.release(a) }}, nil
		}
		c.Close()
	}
}

// isExempt reports whether remote is in one of the exempt prefixes.
func (l *perAddrListener) isExempt(remote net.Addr) bool {
	if len(l.exempt) == 0 {
		return false
	}
	ip := remote.(*net.TCPAddr).AddrPort().Addr().WithZone("").Unmap()
	for _, p := range l.exempt {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// take counts one more connection of a, unless it has max open.
func (l *perAddrListener) take(a netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a] >= l.max {
		return false
	}
	l.open[a]++
	return true
}

func (l *perAddrListener) release(a netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a]--; l.open[a] <= 0 {
		delete(l.open, a) // the map holds open connections' addresses only
	}
}

// clientAddr returns the address a connection from remote is counted
// under: an IPv4 address as it is (IPv4-mapped IPv6 too), an IPv6 one as
// its /64.
func clientAddr(remote net.Addr) (netip.Addr, bool) {
	tcp, ok := remote.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	ip := tcp.AddrPort().Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr(), true
	}
	return ip, ip.IsValid()
}

// addrConn gives its address's count back when it is first closed.
type addrConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *addrConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
