package frontdoor

import (
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
// limiting and for the Service's fair queuing of passphrase derivations:
// the last comma-separated element of header (set by a trusted proxy) when
// header is not empty and present, else the connection's address. IPv4 addresses come back as they are,
// IPv4-mapped IPv6 ones as IPv4, and IPv6 clients are grouped by /64, the
// block one subscriber usually holds.
func ClientAddr(r *http.Request, header string) string {
	addr := ""
	if header != "" {
		if vs := r.Header.Values(header); len(vs) > 0 {
			v := vs[len(vs)-1]
			if i := strings.LastIndexByte(v, ','); i >= 0 {
				v = v[i+1:]
			}
			addr = strings.TrimSpace(v)
		}
	}
	if addr == "" {
		addr = r.RemoteAddr
		if host, _, err := net.SplitHostPort(addr); err == nil {
			addr = host
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
