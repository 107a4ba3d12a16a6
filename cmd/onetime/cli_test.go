package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90":      90 * time.Second,
		"90s":     90 * time.Second,
		"1h":      time.Hour,
		"7d":      7 * 24 * time.Hour,
		"1d12h":   36 * time.Hour,
		"2d30m":   48*time.Hour + 30*time.Minute,
		" 15m ":   15 * time.Minute,
		"0":       0,
		"1h30m5s": time.Hour + 30*time.Minute + 5*time.Second,
	} {
		got, err := parseTTL(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "d", "-1", "-1h", "1d-2h", "xd", "1w", "soon", "366d", "99999999999"} {
		_, err := parseTTL(in)
		assert.Error(t, err, in)
	}
}

func TestBaseOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://ots.example.com/secret/abc":        "https://ots.example.com",
		"https://ots.example.com/private/abc/":      "https://ots.example.com",
		"http://127.0.0.1:7143/receipt/abc":         "http://127.0.0.1:7143",
		"https://example.com/ots/metadata/abc":      "https://example.com/ots",
		"https://example.com/ots/api/v1/secret/abc": "https://example.com/ots",
		"https://example.com/private/abc/burn":      "https://example.com",
		"abc":                                       "",
		"https://example.com/abc":                   "",
		"ftp://example.com/secret/abc":              "",
		"":                                          "",
	} {
		assert.Equal(t, want, baseOf(in), in)
	}
}
