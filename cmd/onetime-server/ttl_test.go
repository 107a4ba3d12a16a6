package main

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
)

func TestParseLifetime(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"7d":         7 * day,
		"1d":         day,
		"30d":        30 * day,
		"1d12h":      36 * time.Hour,
		"0d90m":      90 * time.Minute,
		" 5m ":       5 * time.Minute,
		"90s":        90 * time.Second,
		"1h30m":      90 * time.Minute,
		"0":          0,
		"106751d":    106751 * day,
		"2562047h":   2562047 * time.Hour,
		"3650d":      3650 * day,
		"1d0h0m1s":   day + time.Second,
		"1.5h":       90 * time.Minute,
		"0.5s":       500 * time.Millisecond, // refused by onetime.New: whole seconds
		"100000000s": 100000000 * time.Second,
	} {
		got, err := parseLifetime(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for _, in := range []string{"", " ", "d", "7", "7days", "1.5d", "-1d", "-5m", "1d-5h", "1d+5h", "+1d", "1w", "x", "106752d", "106751d24h", "5m,1h"} {
		_, err := parseLifetime(in)
		assert.Error(t, err, "%q", in)
	}
}

// TestFormatLifetime: what the configuration log and -help show reads
// back as the same lifetime.
func TestFormatLifetime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                             "0",
		time.Minute:                   "1m",
		5 * time.Minute:               "5m",
		90 * time.Second:              "1m30s",
		time.Hour:                     "1h",
		90 * time.Minute:              "1h30m",
		day:                           "1d",
		7 * day:                       "7d",
		36 * time.Hour:                "1d12h",
		day + time.Second:             "1d1s",
		day + time.Hour + time.Second: "1d1h0m1s",
		30*day + 500*time.Millisecond: "30d500ms",
	} {
		assert.Equal(t, want, formatLifetime(d), "%v", d)
		back, err := parseLifetime(want)
		require.NoError(t, err, want)
		assert.Equal(t, d, back, want)
	}
}

// TestTTLFlags: the flags (and their variables) set the policy; a list
// that onetime.New would refuse is refused by check, before the server
// opens anything, naming the flags.
func TestTTLFlags(t *testing.T) {
	parse := func(args ...string) (ttlConfig, error) {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var c ttlConfig
		defineTTLFlags(fs, &c)
		return c, fs.Parse(args)
	}
	c, err := parse()
	require.NoError(t, err)
	assert.Equal(t, ttlConfig{min: lifetime(time.Minute), maxAnonymous: lifetime(7 * day), maxCustomer: lifetime(30 * day)}, c)
	require.NoError(t, c.check(0))

	c, err = parse("-ttl-options", "5m, 1h,1d,7d", "-max-ttl-anonymous", "1d", "-max-ttl-customer", "7d", "-min-ttl", "2m")
	require.NoError(t, err)
	require.NoError(t, c.check(0))
	o := c.apply(&onetime.Options{})
	assert.Equal(t, []time.Duration{5 * time.Minute, time.Hour, day, 7 * day}, o.TTLOptions)
	assert.Equal(t, 2*time.Minute, o.MinTTL)
	assert.Equal(t, day, o.MaxTTL)
	assert.Equal(t, 7*day, o.MaxTTLAuthenticated)
	assert.Zero(t, o.DefaultTTL, "the library picks it among the options")
	assert.Equal(t, "5m,1h,1d,7d", c.options.String())

	c, err = parse("-ttl-options", "5m,1h", "-ttl-options", "")
	require.NoError(t, err)
	assert.Nil(t, c.options, "an empty list is the default list")

	for _, args := range [][]string{
		{"-ttl-options", "5m,,1h"},
		{"-ttl-options", "5m,1 hour"},
		{"-ttl-options", "-5m,1h"},
		{"-max-ttl-anonymous", "-1d"},
		{"-min-ttl", "soon"},
		{"-default-ttl", "1.5d"},
	} {
		_, err := parse(args...)
		assert.Error(t, err, "%v", args)
	}

	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"-ttl-options", "1h,5m,7d"}, "sorted"},
		{[]string{"-ttl-options", "5m,1h,1h,7d"}, "without repeats"},
		{[]string{"-ttl-options", "30s,7d"}, "below MinTTL"},
		{[]string{"-ttl-options", "5m,7d,31d"}, "above the longest"},
		{[]string{"-ttl-options", "5m,90.5s,7d"}, "whole number of seconds"},
		{[]string{"-ttl-options", "5m,1h,1d", "-default-ttl", "7d"}, "lack 168h0m0s"},
		{[]string{"-max-ttl-anonymous", "30s"}, "TTL bounds"},
		{[]string{"-min-ttl", "1500ms"}, "TTL bounds"},
		{[]string{"-min-ttl", "10s"}, "ReplayWindow"}, // with -replay-window 1m
		{[]string{"-max-ttl-customer", "20000d"}, "not supported"},
	} {
		cfg, err := parse(c.args...)
		require.NoError(t, err, "%v", c.args)
		err = cfg.check(time.Minute)
		assert.ErrorContains(t, err, c.err, "%v", c.args)
		assert.ErrorContains(t, err, "-ttl-options", "%v: the error names the flags", c.args)
	}
}
