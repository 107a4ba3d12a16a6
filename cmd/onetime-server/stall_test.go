package main

import (
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/redistest"
)

// Issue 19's repro, end to end: Redis stalls (SIGSTOP) while a reveal is
// in flight, and resumes after the request's deadline (-request-timeout).
// Before, Redis then ran the reveal for nobody: the receipt said received
// and the reader's next try said "Unknown secret". Now the server answers
// the reader at its deadline with an error, Redis changes nothing when it
// resumes, and the secret is still unread and revealable: by a plain
// retry, and as the same answer-less call with its Idempotency-Key.
func TestServerRevealWhileRedisStalls(t *testing.T) {
	srv := redistest.Standalone(t)
	if srv.External() {
		t.Skip("stops the redis-server: needs one of its own")
	}
	const timeout = 2 * time.Second
	bin := buildServer(t)
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("cd", 32)}, "-store", "redis",
		"-redis", "redis://"+srv.Addr+"/0", "-db", filepath.Join(t.TempDir(), "x.db"),
		"-request-timeout", timeout.String())

	code, rc := call(t, "POST", s.url+"/api/v1/share", "secret=the+launch+code", "", "")
	require.Equal(t, 200, code, "%v", rc)
	key, meta := rc["secret_key"].(string), rc["metadata_key"].(string)

	srv.Pause(t)
	began := time.Now()
	type answer struct {
		code int
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		req, err := http.NewRequest("POST", s.url+"/api/v1/secret/"+key, strings.NewReader(url.Values{}.Encode()))
		if err != nil {
			done <- answer{err: err}
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Idempotency-Key", `"stalled-reveal"`)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		res.Body.Close()
		done <- answer{code: res.StatusCode}
	}()
	a := <-done
	took := time.Since(began)
	t.Logf("reveal while Redis stalls: %d %v after %v", a.code, a.err, took.Round(time.Millisecond))
	require.NoError(t, a.err, "the reader gets an answer, not a cut connection")
	assert.NotEqual(t, 200, a.code, "no value while Redis stalls")
	assert.Less(t, took, timeout+2*time.Second, "answered at the request's deadline, not when Redis resumes")

	// Redis resumes well past the deadline and runs what it had queued.
	time.Sleep(time.Until(began.Add(timeout + 2*time.Second)))
	srv.Resume(t)
	require.Eventually(t, func() bool {
		res, err := http.Get(s.url + "/api/v1/status")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, 10*time.Second, 100*time.Millisecond, "nominal once Redis resumes")

	code, m := call(t, "GET", s.url+"/api/v1/private/"+meta, "", "", "")
	require.Equal(t, 200, code, "%v", m)
	assert.NotEqual(t, "received", m["state"], "the stalled reveal consumed nothing")
	code, m = call(t, "POST", s.url+"/api/v1/secret/"+key, "", "", "")
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "the launch code", m["value"], "the secret is still there for its reader")
	s.stop(t)
}
