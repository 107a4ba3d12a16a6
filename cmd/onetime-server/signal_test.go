package main

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitLog waits until the server has logged want at least n times.
func (s *server) waitLog(t *testing.T, want string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Count(s.logs.String(), want) >= n },
		15*time.Second, 10*time.Millisecond, "the server did not log %q %d times:\n%s", want, n, s.logs)
}

// exited waits for the server process to end after a signal and checks
// that it stopped cleanly.
func (s *server) exited(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(within):
		t.Fatalf("the server did not exit within %v:\n%s", within, s.logs)
	}
	require.Equal(t, 0, s.cmd.ProcessState.ExitCode(), "logs:\n%s", s.logs)
	require.Contains(t, s.logs.String(), `"msg":"stopped"`)
}

// writeFileAtomic replaces path's content at once, as an operator's
// tooling should (a reader never sees half a file).
func writeFileAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	require.NoError(t, os.WriteFile(tmp, []byte(content), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// SIGHUP reads -users again: a new token works and a removed one fails
// at once, without a restart; a file that does not parse keeps the
// customers in force and logs an error.
func TestServerSIGHUPReloadsUsers(t *testing.T) {
	bin := buildServer(t)
	users := filepath.Join(t.TempDir(), "users")
	writeFileAtomic(t, users, "alice:alice-1\nbob:bob-1\n")
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}, "-store", "memory", "-users", users)
	recent := s.url + "/api/v1/private/recent"
	ok := func(user, token string) bool {
		t.Helper()
		r, err := http.NewRequest("GET", recent, nil)
		require.NoError(t, err)
		r.SetBasicAuth(user, token)
		res, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		if res.StatusCode != 200 {
			require.Contains(t, string(b), "Not authorized", "%d %s", res.StatusCode, b)
		}
		return res.StatusCode == 200
	}
	require.True(t, ok("alice", "alice-1"))
	require.True(t, ok("bob", "bob-1"))

	writeFileAtomic(t, users, "# rotated\nalice:alice-2\n")
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGHUP))
	s.waitLog(t, `"msg":"SIGHUP: users file read again","customers":1`, 1)
	assert.True(t, ok("alice", "alice-2"), "the new token")
	assert.False(t, ok("alice", "alice-1"), "the rotated token")
	assert.False(t, ok("bob", "bob-1"), "the removed customer")

	writeFileAtomic(t, users, "alice:alice-3\nthis line has no token\n")
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGHUP))
	s.waitLog(t, `"msg":"SIGHUP: users file not read again; the customers in force stay"`, 1)
	assert.True(t, ok("alice", "alice-2"), "a broken file keeps the customers in force")
	assert.False(t, ok("alice", "alice-3"))
	assert.Contains(t, s.logs.String(), "users:2: want custid:apitoken", "the error names the line")

	require.NoError(t, os.Remove(users))
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGHUP))
	s.waitLog(t, `"msg":"SIGHUP: users file not read again; the customers in force stay"`, 2)
	assert.True(t, ok("alice", "alice-2"), "a missing file keeps the customers in force")
	s.stop(t)
	for _, tok := range []string{"alice-1", "alice-2", "alice-3", "bob-1"} {
		assert.NotContains(t, s.logs.String(), tok)
	}

	// Without -users, SIGHUP is logged and changes nothing; it does not
	// end the process, as it would by default.
	s = start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}, "-store", "memory")
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGHUP))
	s.waitLog(t, "SIGHUP: no -users file to read again", 1)
	code, _ := call(t, "GET", s.url+"/api/v1/status", "", "", "")
	require.Equal(t, 200, code)
	s.stop(t)
}

// slowShare is a share whose body is sent in two halves: between them
// its handler runs, reading the body.
type slowShare struct {
	conn  net.Conn
	r     *bufio.Reader
	value string
	rest  string
}

// startSlowShare sends a status request on a new connection and reads
// its answer (so the server has accepted the connection), then the
// share's headers and the first half of its body, and leaves the server
// a moment to start the handler.
func startSlowShare(t *testing.T, base string) *slowShare {
	t.Helper()
	value := "drained " + rand.Text()
	body := "ttl=3600&secret=" + url.QueryEscape(value)
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(time.Minute)))
	r := bufio.NewReader(c)
	_, err = io.WriteString(c, "GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	res, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, res.Body)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	_, err = fmt.Fprintf(c, "POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		len(body), body[:10])
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	return &slowShare{conn: c, r: r, value: value, rest: body[10:]}
}

// refused reports whether a new connection to base is refused.
func refused(base string) (bool, error) {
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 2*time.Second)
	if err == nil {
		c.Close()
		return false, nil
	}
	return errors.Is(err, syscall.ECONNREFUSED), err
}

// revealValue reveals key on base and returns the value, or fails.
func revealValue(t *testing.T, base, key, passphrase string) string {
	t.Helper()
	code, m := call(t, "POST", base+"/api/v1/secret/"+key, "passphrase="+url.QueryEscape(passphrase), "", "")
	require.Equal(t, 200, code, "%v", m)
	return m["value"].(string)
}

// SIGTERM lets a request in flight finish and answers it whole, while
// new connections are refused; the share it made survives the restart.
func TestServerSIGTERMDrains(t *testing.T) {
	bin := buildServer(t)
	db := filepath.Join(t.TempDir(), "onetime.db")
	s := start(t, bin, nil, "-db", db)
	share := startSlowShare(t, s.url)

	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	s.waitLog(t, `"msg":"shutting down`, 1)
	assert.Contains(t, s.logs.String(), `"requests":1`, "the share is in flight")
	ref, err := refused(s.url)
	require.True(t, ref, "a new connection while draining: %v", err)
	select {
	case <-s.done:
		t.Fatal("the server exited before the request in flight ended")
	default:
	}

	_, err = io.WriteString(share.conn, share.rest)
	require.NoError(t, err)
	res, err := http.ReadResponse(share.r, nil)
	require.NoError(t, err)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err, "the answer is whole")
	require.Equal(t, 200, res.StatusCode, "%s", b)
	var rc struct {
		SecretKey string `json:"secret_key"`
	}
	require.NoError(t, json.Unmarshal(b, &rc))
	n, err := share.r.Read(make([]byte, 1))
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, io.EOF, "a draining server closes the connection after the answer")
	s.exited(t, 10*time.Second)
	assert.Contains(t, s.logs.String(), "drained: every request in flight was answered")

	s = start(t, bin, nil, "-db", db)
	assert.Equal(t, share.value, revealValue(t, s.url, rc.SecretKey, ""))
	s.stop(t)
}

// At -shutdown-timeout, a request still running is cancelled and its
// connection closed without a partial answer, and the server exits.
func TestServerShutdownTimeout(t *testing.T) {
	bin := buildServer(t)
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}, "-store", "memory", "-shutdown-timeout", "1s")
	share := startSlowShare(t, s.url)
	began := time.Now()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	s.exited(t, 10*time.Second)
	took := time.Since(began)
	assert.GreaterOrEqual(t, took, time.Second, "the request had its -shutdown-timeout")
	assert.Less(t, took, 1*time.Second+cancelGrace, "the bound holds")
	assert.Contains(t, s.logs.String(), `"msg":"shutdown timeout: cancelling the requests still running and closing their connections","requests":1`)
	b, err := io.ReadAll(share.r)
	assert.Empty(t, b, "no partial answer")
	if err != nil {
		assert.ErrorIs(t, err, syscall.ECONNRESET)
	}
}

// shareLoad is what the clients of TestServerSIGTERMUnderLoad saw.
type shareLoad struct {
	mu        sync.Mutex
	kept      []keptShare // acknowledged shares nobody revealed
	revealed  []string    // secret keys of acknowledged reveals
	failures  []string    // cut or wrong answers
	answered  atomic.Int64
	noAnswer  map[string]int // requests that got no answer at all, by error
	afterTerm atomic.Int64   // answers received after SIGTERM was sent
	refusedBy atomic.Int64   // clients that ended on a refused connection
}

type keptShare struct{ key, value, passphrase string }

func (l *shareLoad) fail(format string, args ...any) {
	l.mu.Lock()
	l.failures = append(l.failures, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// post sends a form and returns the decoded answer of a 200, or ok false
// with refused set when the connection was refused. A response that does
// not arrive whole, or is not a 200 with JSON, is a failure.
func (l *shareLoad) post(hc *http.Client, u string, form url.Values, termed *atomic.Bool) (m map[string]any, ok, refused bool) {
	res, err := hc.PostForm(u, form)
	if err != nil {
		l.mu.Lock()
		l.noAnswer[errKind(err)]++
		l.mu.Unlock()
		return nil, false, errors.Is(err, syscall.ECONNREFUSED)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		l.fail("an answer cut mid-body (%d, %d bytes): %v", res.StatusCode, len(b), err)
		return nil, false, false
	}
	l.answered.Add(1)
	if termed.Load() {
		l.afterTerm.Add(1)
	}
	if res.StatusCode != 200 || json.Unmarshal(b, &m) != nil {
		l.fail("answer %d: %.200s", res.StatusCode, b)
		return nil, false, false
	}
	return m, true, false
}

// errKind names the kind of a client error, without its addresses.
func errKind(err error) string {
	for _, e := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, io.EOF, io.ErrUnexpectedEOF} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if strings.Contains(err.Error(), "server closed idle connection") {
		return "server closed idle connection" // net/http's, unexported
	}
	return err.Error()
}

// SIGTERM under load: 16 clients share (some with passphrases) and reveal
// on SQLite; then the server is stopped. No answer is cut, new connections
// end refused, and after a restart on the same file every acknowledged
// share is revealed with its value, and every acknowledged reveal stays
// revealed.
func TestServerSIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a load run")
	}
	bin := buildServer(t)
	db := filepath.Join(t.TempDir(), "onetime.db")
	s := start(t, bin, nil, "-db", db)
	base := s.url + "/api/v1"
	const clients = 16
	hc := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: clients},
		Timeout:   30 * time.Second,
	}
	defer hc.CloseIdleConnections()

	l := shareLoad{noAnswer: map[string]int{}}
	var termed atomic.Bool
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			end := time.Now().Add(20 * time.Second) // a bound, should the server not stop
			for n := 0; time.Now().Before(end); n++ {
				value := fmt.Sprintf("value %d/%d %s", w, n, rand.Text())
				pass := ""
				if w < 2 { // two clients keep the KDF queue busy
					pass = "pass " + rand.Text()
				}
				m, ok, ref := l.post(hc, base+"/share", url.Values{"secret": {value}, "ttl": {"3600"}, "passphrase": {pass}}, &termed)
				if ref {
					l.refusedBy.Add(1)
					return
				}
				if !ok {
					continue
				}
				key, _ := m["secret_key"].(string)
				if key == "" {
					l.fail("a receipt without secret_key: %v", m)
					continue
				}
				if n%2 == 0 {
					l.mu.Lock()
					l.kept = append(l.kept, keptShare{key, value, pass})
					l.mu.Unlock()
					continue
				}
				m, ok, ref = l.post(hc, base+"/secret/"+key, url.Values{"passphrase": {pass}}, &termed)
				if ref {
					l.refusedBy.Add(1)
					return
				}
				if ok {
					if m["value"] != value {
						l.fail("reveal of %d/%d answered another value", w, n)
					}
					l.mu.Lock()
					l.revealed = append(l.revealed, key)
					l.mu.Unlock()
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	termed.Store(true)
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	wg.Wait()
	s.exited(t, 30*time.Second)
	t.Logf("%d answered (%d after SIGTERM); without an answer: %v; %d shares kept, %d revealed",
		l.answered.Load(), l.afterTerm.Load(), l.noAnswer, len(l.kept), len(l.revealed))
	require.Empty(t, l.failures)
	assert.EqualValues(t, clients, l.refusedBy.Load(), "every client ends on a refused connection")
	assert.Positive(t, l.afterTerm.Load(), "requests in flight at SIGTERM were answered")
	require.Greater(t, len(l.kept), 20, "too little load to tell")
	assert.Contains(t, s.logs.String(), "drained: every request in flight was answered")

	s = start(t, bin, nil, "-db", db)
	base = s.url + "/api/v1"
	var next atomic.Int64
	var rw sync.WaitGroup
	for range 8 {
		rw.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(l.kept); i = int(next.Add(1)) - 1 {
				k := l.kept[i]
				code, m := call(t, "POST", base+"/secret/"+k.key, "passphrase="+url.QueryEscape(k.passphrase), "", "")
				if assert.Equal(t, 200, code, "an acknowledged share is lost: %v", m) {
					assert.Equal(t, k.value, m["value"])
				}
			}
		})
	}
	rw.Wait()
	for _, key := range l.revealed[:min(len(l.revealed), 50)] {
		code, m := call(t, "POST", base+"/secret/"+key, "", "", "")
		assert.Equal(t, 404, code, "an acknowledged reveal is readable again: %v", m)
	}
	s.stop(t)
}
