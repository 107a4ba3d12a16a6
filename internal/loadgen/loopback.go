package loadgen

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// checkURL accepts only http(s) URLs whose host is a loopback address
// (127.0.0.0/8, ::1) or the name localhost. The load generator is a
// benchmarking tool: it must never be pointed, by mistake or otherwise, at
// somebody else's server.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad -url: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("bad -url %q: scheme must be http or https", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("bad -url: put credentials in -auth, not in the URL")
	}
	host := u.Hostname()
	if !loopbackHost(host) {
		return nil, fmt.Errorf("refusing -url %q: host %q is not a loopback address (127.0.0.0/8, ::1 or localhost)", raw, host)
	}
	return u, nil
}

// loopbackHost reports whether host, as written in a URL, names the local
// machine's loopback interface. Only literal addresses and "localhost" are
// accepted: shorthand forms such as "127.1" or "2130706433" are not, since
// resolvers disagree about them.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if strings.Contains(host, "%") { // zoned IPv6 (fe80::1%eth0) is link-local, never loopback
		return false
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return a.Unmap().IsLoopback()
}

// dialLoopbackOnly is a net.Dialer Control function: it refuses any
// connection to a non-loopback address. It backs up checkURL where a name
// is resolved ("localhost" in an odd /etc/hosts) or a redirect is followed.
func dialLoopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Unmap().IsLoopback() {
		return errNotLoopback
	}
	return nil
}

var errNotLoopback = errors.New("loadgen: refusing to connect to a non-loopback address")
