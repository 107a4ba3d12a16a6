package frontdoor

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

func TestClientAddr(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.1:1234":            "192.0.2.1",
		"[::ffff:192.0.2.1]:1234":   "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:80": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":         "fe80::/64", // the zone goes with the host bits
		"unix":                      "unix",
	} {
		got := ClientAddr(&http.Request{RemoteAddr: remote, Header: http.Header{}}, "", nil)
		assert.Equal(t, want, got, remote)
	}

	loopback := prefixes("127.0.0.1/32")
	h := http.Header{"X-Forwarded-For": {"10.0.0.1, 203.0.113.7"}}
	assert.Equal(t, "203.0.113.7", ClientAddr(&http.Request{RemoteAddr: "127.0.0.1:1", Header: h}, "X-Forwarded-For", loopback),
		"the trusted proxy's own entry, the last one")
	assert.Equal(t, "127.0.0.1", ClientAddr(&http.Request{RemoteAddr: "127.0.0.1:1", Header: h}, "", loopback),
		"no header configured: the connection's address, whatever the request says")
	assert.Equal(t, "127.0.0.1", ClientAddr(&http.Request{RemoteAddr: "127.0.0.1:1", Header: http.Header{}}, "X-Real-IP", loopback),
		"header configured but absent")

	junk := http.Header{"X-Real-Ip": {strings.Repeat("x", 500)}}
	assert.Len(t, ClientAddr(&http.Request{RemoteAddr: "127.0.0.1:1", Header: junk}, "X-Real-IP", loopback), maxAddrLen, "bounded")
}

// TestClientAddrTrustedProxies: a header is believed only from a trusted
// proxy, and only as far left as trusted proxies vouch for it.
func TestClientAddrTrustedProxies(t *testing.T) {
	trusted := prefixes("10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.7/32")
	addr := func(remote string, xff ...string) string {
		return ClientAddr(&http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": xff}}, "X-Forwarded-For", trusted)
	}
	for _, c := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"an untrusted peer's header is ignored", "198.51.100.9:1", []string{"203.0.113.7"}, "198.51.100.9"},
		{"an untrusted peer's header is ignored, even naming a proxy", "198.51.100.9:1", []string{"10.0.0.1"}, "198.51.100.9"},
		{"a trusted peer's header is believed", "10.1.2.3:1", []string{"203.0.113.7"}, "203.0.113.7"},
		{"what the client made up is left of the proxy's entry", "10.1.2.3:1", []string{"1.2.3.4, 203.0.113.7"}, "203.0.113.7"},
		{"a chain of trusted proxies is walked", "10.1.2.3:1", []string{"1.2.3.4, 203.0.113.7, 10.9.9.9, 192.0.2.7"}, "203.0.113.7"},
		{"over several lines", "10.1.2.3:1", []string{"1.2.3.4, 203.0.113.7", "10.9.9.9", " , "}, "203.0.113.7"},
		{"all trusted: the left-most", "10.1.2.3:1", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"an empty header: the peer", "10.1.2.3:1", []string{""}, "10.1.2.3"},
		{"an element with a port", "10.1.2.3:1", []string{"203.0.113.7:4711"}, "203.0.113.7"},
		{"an IPv6 element with a port", "10.1.2.3:1", []string{"[2001:db8:1:2::9]:80"}, "2001:db8:1:2::/64"},
		{"an IPv6 trusted peer", "[2001:db8:ffff:1::1]:1", []string{"203.0.113.7"}, "203.0.113.7"},
		{"an IPv4-mapped trusted peer", "[::ffff:10.1.2.3]:1", []string{"203.0.113.7"}, "203.0.113.7"},
		{"a trusted peer with a zone", "[2001:db8:ffff::1%eth0]:1", []string{"203.0.113.7"}, "203.0.113.7"},
		{"no address: the walk stops", "10.1.2.3:1", []string{"1.2.3.4, unknown, 10.0.0.1"}, "unknown"},
	} {
		assert.Equal(t, c.want, addr(c.remote, c.xff...), c.name)
	}
	assert.Equal(t, "10.1.2.3", ClientAddr(&http.Request{RemoteAddr: "10.1.2.3:1", Header: http.Header{"X-Forwarded-For": {"203.0.113.7"}}}, "X-Forwarded-For", nil),
		"no trusted proxies: no header believed")
}

func TestCheckProxies(t *testing.T) {
	_, err := checkProxies("X-Forwarded-For", nil)
	assert.ErrorIs(t, err, ErrNoTrustedProxies)
	_, err = checkProxies("", []netip.Prefix{{}})
	assert.Error(t, err, "the zero prefix")
	got, err := checkProxies("X-Real-Ip", prefixes("10.1.2.3/8", "::ffff:192.0.2.0/120"))
	require.NoError(t, err)
	assert.Equal(t, prefixes("10.0.0.0/8", "192.0.2.0/24"), got, "masked, and IPv4-mapped prefixes as IPv4")
	got, err = checkProxies("", nil)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func BenchmarkClientAddr(b *testing.B) {
	r := &http.Request{RemoteAddr: "10.1.2.3:4711", Header: http.Header{"X-Forwarded-For": {"1.2.3.4, 203.0.113.7"}}}
	trusted := prefixes("10.0.0.0/8")
	b.ReportAllocs()
	for b.Loop() {
		if ClientAddr(r, "X-Forwarded-For", trusted) != "203.0.113.7" {
			b.Fatal("wrong address")
		}
	}
}
