package loadgen

import (
	"errors"
	"io"
	"testing"
)

func TestCheckURL(t *testing.T) {
	good := []string{
		"http://127.0.0.1:7143",
		"http://127.0.0.1:7143/",
		"http://127.1.2.3:80",
		"https://127.255.255.254",
		"http://localhost:7143",
		"http://LocalHost",
		"http://[::1]:7143",
		"http://[::ffff:127.0.0.1]:7143",
	}
	for _, u := range good {
		if _, err := checkURL(u); err != nil {
			t.Errorf("checkURL(%q) = %v, want accepted", u, err)
		}
	}
	bad := []string{
		"http://10.0.0.1:7143",
		"http://128.0.0.1",
		"http://0.0.0.0:7143",
		"http://[::]:7143",
		"http://[::2]:7143",
		"http://[fe80::1%25lo]:7143",
		"http://example.com",
		"http://onetimesecret.com/api/v1",
		"http://localhost.example.com",
		"http://127.0.0.1.nip.io",
		"http://127.1",      // shorthand: resolvers disagree
		"http://2130706433", // 127.0.0.1 as a number
		"http://",
		"ftp://127.0.0.1",
		"127.0.0.1:7143",
		"http://user:pw@127.0.0.1",
		"://bad",
	}
	for _, u := range bad {
		if _, err := checkURL(u); err == nil {
			t.Errorf("checkURL(%q) accepted, want refused", u)
		}
	}
}

func TestDialLoopbackOnly(t *testing.T) {
	for _, a := range []string{"127.0.0.1:80", "[::1]:80", "127.9.9.9:1"} {
		if err := dialLoopbackOnly("tcp", a, nil); err != nil {
			t.Errorf("dial %s refused: %v", a, err)
		}
	}
	for _, a := range []string{"10.1.2.3:80", "[2001:db8::1]:443", "0.0.0.0:80", "nonsense"} {
		if err := dialLoopbackOnly("tcp", a, nil); err == nil {
			t.Errorf("dial %s allowed, want refused", a)
		}
	}
	if err := dialLoopbackOnly("tcp", "192.168.0.1:80", nil); !errors.Is(err, errNotLoopback) {
		t.Errorf("dial 192.168.0.1 = %v, want errNotLoopback", err)
	}
}

func TestParseFlags(t *testing.T) {
	c, err := ParseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "http://127.0.0.1:7143" || c.Conc != 32 || c.Mode != "pair" || c.Size != 100 || c.Dur == 0 || c.Passphrase != "" {
		t.Errorf("defaults: %+v", c)
	}
	if c, _ := ParseFlags([]string{"-passphrase", "-json"}, io.Discard); c.Passphrase == "" || !c.JSON {
		t.Errorf("-passphrase alone: %+v", c)
	}
	if c, _ := ParseFlags([]string{"-passphrase=s3cret"}, io.Discard); c.Passphrase != "s3cret" {
		t.Errorf("-passphrase=s3cret: %q", c.Passphrase)
	}
	if c, _ := ParseFlags([]string{"-n", "5"}, io.Discard); c.N != 5 || c.Dur != 0 {
		t.Errorf("-n 5 must not add a duration: %+v", c)
	}
	for _, args := range [][]string{
		{"-url", "http://192.0.2.1:7143"},
		{"-mode", "burn"},
		{"-c", "0"},
		{"-size", "0"},
		{"-auth", "nocolon"},
		{"extra"},
	} {
		if _, err := ParseFlags(args, io.Discard); err == nil {
			t.Errorf("ParseFlags(%q) accepted", args)
		}
	}
}
