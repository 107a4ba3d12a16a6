package frontdoor

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClientAddr(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.1:1234":            "192.0.2.1",
		"[::ffff:192.0.2.1]:1234":   "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:80": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":         "fe80::/64", // the zone goes with the host bits
		"unix":                      "unix",
	} {
		got := ClientAddr(&http.Request{RemoteAddr: remote, Header: http.Header{}}, "")
		assert.Equal(t, want, got, remote)
	}

	h := http.Header{"X-Forwarded-For": {"10.0.0.1, 203.0.113.7"}}
	assert.Equal(t, "203.0.113.7", ClientAddr(&http.Request{RemoteAddr: "127.0.0.1:1", Header: h}, "X-Forwarded-For"),
		"the proxy's own entry, the last one")
	assert.Equal(t, "127.0.0.1", ClientAddr(&http.Request{RemoteAddr: "127.0.0.1:1", Header: h}, ""),
		"no header configured: the connection's address, whatever the request says")
	assert.Equal(t, "127.0.0.1", ClientAddr(&http.Request{RemoteAddr: "127.0.0.1:1", Header: http.Header{}}, "X-Real-IP"),
		"header configured but absent")

	junk := http.Header{"X-Real-Ip": {strings.Repeat("x", 500)}}
	assert.Len(t, ClientAddr(&http.Request{RemoteAddr: "127.0.0.1:1", Header: junk}, "X-Real-IP"), maxAddrLen, "bounded")
}
