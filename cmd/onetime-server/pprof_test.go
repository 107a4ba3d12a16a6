package main

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPprof: -pprof serves the profiles on a loopback listener of its
// own, and refuses any other address.
func TestPprof(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, bad := range []string{"0.0.0.0:0", ":0", "192.0.2.1:6060", "localhost:6060", "nonsense"} {
		_, _, err := servePprof(bad, log)
		assert.Error(t, err, bad)
	}
	addr, stop, err := servePprof("127.0.0.1:0", log)
	require.NoError(t, err)
	defer stop()
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline"} {
		res, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, 200, res.StatusCode, path)
		assert.NotEmpty(t, body, path)
	}
	res, err := http.Get("http://" + addr + "/api/v1/status")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 404, res.StatusCode, "the API is not served there")
}
