package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/redistest"
)

// getBody GETs u and returns the status and body, failing the test on a
// network error.
func getBody(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// revealWithKey reveals key with an Idempotency-Key header.
func revealWithKey(t *testing.T, base, key, idemKey string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/api/v1/secret/"+key, nil)
	require.NoError(t, err)
	req.Header.Set("Idempotency-Key", idemKey)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// -replay-window: by default a reveal repeated with its Idempotency-Key
// gets the value again, and the status says so; with 0, neither.
func TestServerReplayWindow(t *testing.T) {
	bin := buildServer(t)
	for _, tc := range []struct {
		args   []string
		status string
		repeat int
	}{
		{nil, `{"status":"nominal","locale":"en","idempotency":true,"zero_knowledge":["zk1"]}`, 200},
		{[]string{"-replay-window", "0"}, `{"status":"nominal","locale":"en","zero_knowledge":["zk1"]}`, 404},
	} {
		s := start(t, bin, nil, append([]string{"-store", "memory"}, tc.args...)...)
		_, body := getBody(t, s.url+"/api/v1/status")
		assert.Equal(t, tc.status, body)
		code, rc := call(t, "POST", s.url+"/api/v1/share", "secret=twice", "", "")
		require.Equal(t, 200, code)
		key := rc["secret_key"].(string)
		code, body = revealWithKey(t, s.url, key, `"k-1"`)
		require.Equal(t, 200, code, body)
		assert.Contains(t, body, `"value":"twice"`)
		code, body = revealWithKey(t, s.url, key, `"k-1"`)
		assert.Equal(t, tc.repeat, code, "%v: %s", tc.args, body)
		s.stop(t)
	}
}

// healthMargin is what the health checks may take beyond their 1 s bound
// on a busy test machine.
const healthMargin = 500 * time.Millisecond

// While Redis stalls (SIGSTOP: its connections stay open and silent, as
// behind a hung host), the status check and /readyz answer within a
// second, offline; once it resumes, nominal again, and the server serves.
func TestServerHealthWhileRedisStalls(t *testing.T) {
	srv := redistest.Standalone(t)
	if srv.External() {
		t.Skip("stops the redis-server: needs one of its own")
	}
	bin := buildServer(t)
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}, "-store", "redis",
		"-redis", "redis://"+srv.Addr+"/0", "-db", filepath.Join(t.TempDir(), "x.db"))
	code, body := getBody(t, s.url+"/api/v1/status")
	require.Equal(t, 200, code, body)

	srv.Pause(t)
	for range 3 {
		for _, c := range []struct {
			path string
			code int
			body string
		}{
			{"/api/v1/status", 404, `{"status":"offline","locale":"en","idempotency":true,"zero_knowledge":["zk1"]}`},
			{"/readyz", 503, `{"status":"unavailable"}`},
		} {
			began := time.Now()
			code, body := getBody(t, s.url+c.path)
			took := time.Since(began)
			t.Logf("%s while Redis stalls: %d in %v", c.path, code, took.Round(time.Millisecond))
			assert.Less(t, took, time.Second+healthMargin, "%s took %v while Redis stalls", c.path, took)
			assert.Equal(t, c.code, code, c.path)
			assert.Equal(t, c.body, body, c.path)
		}
	}

	srv.Resume(t)
	require.Eventually(t, func() bool {
		res, err := http.Get(s.url + "/api/v1/status")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, 10*time.Second, 100*time.Millisecond, "nominal once Redis resumes")
	code, body = getBody(t, s.url+"/readyz")
	assert.Equal(t, 200, code, body)
	code, rc := call(t, "POST", s.url+"/api/v1/share", "secret=after+the+stall", "", "")
	require.Equal(t, 200, code, "%v", rc)
	code, m := call(t, "POST", s.url+"/api/v1/secret/"+rc["secret_key"].(string), "", "", "")
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "after the stall", m["value"])
	s.stop(t)
}
