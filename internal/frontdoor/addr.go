package frontdoor

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxAddrLen bounds what is returned for an address that does not parse
// (a proxy header holding something else), so that keys derived from it
// stay bounded.
const maxAddrLen = 64

// ClientAddr returns the address a request is attributed to, for rate
// limiting, the guess limit and the Service's fair queuing of passphrase
// derivations.
//
// It is the connection's address, unless header is not empty and the
// connection comes from one of the trusted proxies: then it is the
// right-most address of the header (its comma-separated elements, over
// all its lines) that is not itself a trusted proxy, as nginx's
// real_ip_recursive takes it. Each proxy appends the address it was
// reached from, so everything right of the client is a proxy that can be
// trusted, and anything left of it is what the client made up. A header
// from any other peer is ignored: a client cannot dodge a limit by sending
// one. An element may carry a port ("192.0.2.1:4711", "[2001:db8::1]:80").
//
// IPv4 addresses come back as they are, IPv4-mapped IPv6 ones as IPv4, and
// IPv6 clients are grouped by /64, the block one subscriber usually holds.
// Something else (a header element that is no address) comes back cut to
// 64 bytes.
func ClientAddr(r *http.Request, header string, trusted []netip.Prefix) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if header != "" && len(trusted) > 0 {
		if peer, err := netip.ParseAddr(addr); err == nil && isTrusted(peer, trusted) {
			if a := fromHeader(r.Header.Values(header), trusted); a != "" {
				addr = a
			}
		}
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		if ip.Is4() {
			// ParseAddr takes only the canonical dotted form (no
			// leading zeros): addr is ip.String() already, and no copy
			// is made.
			return addr
		}
		ip = ip.Unmap()
		if ip.Is6() {
			p, _ := ip.Prefix(64)
			return p.String()
		}
		return ip.String()
	}
	if len(addr) > maxAddrLen {
		addr = addr[:maxAddrLen]
	}
	return addr
}

// fromHeader returns the right-most element of the header's lines that is
// not a trusted proxy's address (the left-most element when all are), ""
// when there is none.
func fromHeader(lines []string, trusted []netip.Prefix) string {
	last := ""
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for rest != "" {
			elem := rest
			if j := strings.LastIndexByte(rest, ','); j >= 0 {
				elem, rest = rest[j+1:], rest[:j]
			} else {
				rest = ""
			}
			elem = strings.TrimSpace(elem)
			if elem == "" {
				continue
			}
			ip, a, ok := parseElem(elem)
			if !ok {
				return elem // no address: nothing left of it can be believed
			}
			if !isTrusted(ip, trusted) {
				return a
			}
			last = a
		}
	}
	return last
}

// parseElem parses a header element, an address with or without a port,
// and returns the address as text too: elem itself when it has no port.
func parseElem(elem string) (netip.Addr, string, bool) {
	if ip, err := netip.ParseAddr(elem); err == nil {
		return ip, elem, true
	}
	if ap, err := netip.ParseAddrPort(elem); err == nil {
		return ap.Addr(), ap.Addr().String(), true
	}
	return netip.Addr{}, "", false
}

// isTrusted reports whether ip lies in one of the trusted prefixes: its
// IPv6 zone dropped, an IPv4-mapped address as IPv4.
func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	ip = ip.WithZone("").Unmap()
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ErrNoTrustedProxies is what [New] answers a ClientIPHeader without
// TrustedProxies: a header that anyone may send is no client address.
var ErrNoTrustedProxies = errors.New("ClientIPHeader is believed only from TrustedProxies: set them to the addresses of the reverse proxies in front (the header would be ignored)")

// checkProxies returns the trusted prefixes, masked, or an error for one
// that is not valid or a header without any.
func checkProxies(header string, trusted []netip.Prefix) ([]netip.Prefix, error) {
	if header != "" && len(trusted) == 0 {
		return nil, ErrNoTrustedProxies
	}
	out := make([]netip.Prefix, len(trusted))
	for i, p := range trusted {
		if !p.IsValid() {
			return nil, fmt.Errorf("TrustedProxies: %q is not a valid prefix", p.String())
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are
			// compared unmapped.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out[i] = p.Masked()
	}
	return out, nil
}
