package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/redistest"
)

// server is a running server binary.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *syncLog
	done chan struct{}
}

// syncLog collects the server's log lines while the test reads them.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) add(line string) {
	l.mu.Lock()
	l.b.WriteString(line + "\n")
	l.mu.Unlock()
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// TestMain removes the binary that buildServer built once for all tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildServer builds the server once per test binary and returns its path.
func buildServer(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "onetime-server-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "server")
		built.out, built.err = exec.Command(goTool, "build", "-o", built.bin, ".").CombinedOutput()
	})
	require.NoError(t, built.err, "go build:\n%s", built.out)
	return built.bin
}

// start runs the binary on a free port and waits until it says where it
// listens.
func start(t *testing.T, bin string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	s := &server{cmd: cmd, logs: &syncLog{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logs.add(line)
			var m struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "listening" {
				addr <- m.Addr
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
	})
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-s.done:
		t.Fatalf("server exited:\n%s", s.logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start:\n%s", s.logs)
	}
	return s
}

// cleanEnv is the test's environment without the variables that would
// configure the server: a developer's ONETIME_STORE must not change what
// a test runs.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	return env
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
	require.Equal(t, 0, s.cmd.ProcessState.ExitCode(), "logs:\n%s", s.logs)
	require.Contains(t, s.logs.String(), `"msg":"stopped"`, "no graceful stop")
}

func call(t *testing.T, method, u, form, user, pass string) (int, map[string]any) {
	t.Helper()
	r, err := http.NewRequest(method, u, strings.NewReader(form))
	require.NoError(t, err)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		r.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s %s: %d %s", method, u, res.StatusCode, b)
	return res.StatusCode, m
}

func TestServerBinary(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "onetime.db")
	users := writeUsers(t, dir)
	env := []string{"ONETIME_SECRET="}

	s := start(t, bin, env, "-db", db, "-users", users, "-access-log")
	code, m := call(t, "GET", s.url+"/api/v1/status", "", "", "")
	require.Equal(t, 200, code)
	require.Equal(t, "nominal", m["status"])

	value := "round trip ✓\n"
	code, rc := call(t, "POST", s.url+"/api/v1/share", "secret="+url.QueryEscape(value)+"&recipient=delano%40example.com", "alice", "alicetoken")
	require.Equal(t, 200, code, "%v", rc)
	require.Equal(t, "alice", rc["custid"])
	sk, mk := rc["secret_key"].(string), rc["metadata_key"].(string)
	code, m = call(t, "POST", s.url+"/api/v1/secret/"+sk, "", "", "")
	require.Equal(t, 200, code)
	require.Equal(t, value, m["value"])
	code, m = call(t, "POST", s.url+"/api/v1/secret/"+sk, "", "", "")
	require.Equal(t, 404, code)
	require.Equal(t, "Unknown secret", m["message"])
	// The pages are served, and logged, too.
	code, _ = getPage(t, s.url+"/secret/"+sk)
	require.Equal(t, 404, code, "the page of a secret already read")
	code, _ = getPage(t, s.url+"/")
	require.Equal(t, 200, code)

	// The server secret and the database hold sealed records only, but
	// nobody else on the machine needs to read them.
	for _, p := range []string{db + ".key", db} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), p)
	}
	s.stop(t)
	logs := s.logs.String()
	assert.Contains(t, logs, "created a new server secret")
	assert.Contains(t, logs, "de*****@e*****.com")
	// -access-log: one line per request, API and pages alike.
	for _, route := range []string{"GET /api/v1/status", "POST /api/v1/share", "POST /api/v1/secret/{secret_key}",
		"GET /secret/{secret_key}", "GET /"} {
		assert.Contains(t, logs, `"msg":"request"`)
		assert.Contains(t, logs, `"route":"`+route+`"`, "-access-log logs one line per request")
	}
	assert.Equal(t, 6, strings.Count(logs, `"msg":"request"`), "one line per request")
	key, err := os.ReadFile(db + ".key")
	require.NoError(t, err)
	for _, secret := range []string{sk, mk, "round trip", "delano@", "alicetoken", strings.TrimSpace(string(key))} {
		assert.NotContains(t, logs, secret)
	}

	// A restart finds the key file and the database again.
	s = start(t, bin, env, "-db", db)
	code, m = call(t, "GET", s.url+"/api/v1/private/"+mk, "", "", "")
	require.Equal(t, 200, code)
	require.Equal(t, "received", m["state"])
	assert.NotContains(t, s.logs.String(), "created a new server secret", "key file created again")
	s.stop(t)
	assert.NotContains(t, s.logs.String(), `"msg":"request"`, "no request lines by default: logging stays off the hot path")
}

// -restrict-receipts serves a customer's receipt to that customer alone.
func TestServerRestrictReceipts(t *testing.T) {
	bin := buildServer(t)
	users := writeUsers(t, t.TempDir())
	env := []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}
	for _, restrict := range []bool{false, true} {
		args := []string{"-store", "memory", "-users", users}
		if restrict {
			args = append(args, "-restrict-receipts")
		}
		s := start(t, bin, env, args...)
		code, rc := call(t, "POST", s.url+"/api/v1/share", "secret=x", "alice", "alicetoken")
		require.Equal(t, 200, code, "%v", rc)
		mk := rc["metadata_key"].(string)

		code, m := call(t, "GET", s.url+"/api/v1/private/"+mk, "", "", "")
		if restrict {
			assert.Equal(t, 404, code, "an anonymous caller read alice's receipt: %v", m)
		} else {
			assert.Equal(t, 200, code, "%v", m)
		}
		code, m = call(t, "GET", s.url+"/api/v1/private/"+mk, "", "alice", "alicetoken")
		assert.Equal(t, 200, code, "%v", m)
		s.stop(t)
	}
}

func TestServerMemoryAndSecretEnv(t *testing.T) {
	bin := buildServer(t)
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}, "-store", "memory", "-rate", "1", "-burst", "2")
	call(t, "POST", s.url+"/api/v1/share", "secret=x", "", "")
	call(t, "POST", s.url+"/api/v1/share", "secret=x", "", "")
	code, m := call(t, "POST", s.url+"/api/v1/share", "secret=x", "", "")
	require.Equal(t, 404, code)
	require.Equal(t, "Cripes! You have been rate limited.", m["message"])
	s.stop(t)
	assert.Contains(t, s.logs.String(), "server secret from ONETIME_SECRET")
}

// A value of the maximum size fits in the body, percent-encoded (three
// bytes a byte). The query string is bounded by -max-header-bytes: a
// little over it the API answers that parameters belong in the body; far
// over it the server answers 431 without reading the rest.
func TestServerLargeValues(t *testing.T) {
	bin := buildServer(t)
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}, "-store", "memory")
	value := strings.Repeat("é", 1<<19) // 1 MiB of UTF-8, 3 MiB percent-encoded
	code, rc := call(t, "POST", s.url+"/api/v1/share", "secret="+url.QueryEscape(value), "", "")
	require.Equal(t, 200, code, "%v", rc)
	code, m := call(t, "POST", s.url+"/api/v1/secret/"+rc["secret_key"].(string), "", "", "")
	require.Equal(t, 200, code)
	require.Equal(t, value, m["value"])
	code, m = call(t, "POST", s.url+"/api/v1/share", "secret="+url.QueryEscape(value+"x"), "", "")
	require.Equal(t, 404, code)
	require.Equal(t, "Secret value exceeds the maximum size of 1048576 bytes", m["message"])

	code, m = call(t, "POST", s.url+"/api/v1/share?secret="+strings.Repeat("x", 64<<10), "", "", "")
	require.Equal(t, 404, code)
	require.Equal(t, "Query string too long: send parameters in the request body", m["message"])

	// Sent by hand: the server answers before the request line is over,
	// which net/http's client may report as a write error instead.
	c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	require.NoError(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	go io.WriteString(c, "POST /api/v1/share?secret="+url.QueryEscape(value)+" HTTP/1.1\r\nHost: x\r\n\r\n")
	status, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "HTTP/1.1 431 Request Header Fields Too Large\r\n", status)
	s.stop(t)
}

func TestServerBadFlags(t *testing.T) {
	bin := buildServer(t)
	for _, args := range [][]string{
		{"-store", "nope"},
		{"-store", "redis"},
		{"-rate", "-1"},
		{"-store", "memory", "-users", "/nonexistent/users"},
		{"-store", "memory", "-max-conns", "0"},
		{"-store", "memory", "-max-conns-per-addr", "-1"},
		{"-store", "memory", "-max-header-bytes", "10"},
		{"-store", "memory", "-read-header-timeout", "0s"},
		{"-store", "memory", "-sweep-interval", "-1s"},
		{"-store", "memory", "-replay-window", "-1s"},
		{"-store", "memory", "-shutdown-timeout", "-1s"},
		{"-store", "memory", "-request-timeout", "0s"},
		{"-store", "memory", "-guess-rate", "0"},
		{"-store", "memory", "-guess-burst", "0"},
		{"-store", "memory", "-client-ip-header", "X-Forwarded-For"},
		{"-store", "memory", "-trusted-proxies", "10.0.0.0/8,proxy.example"},
	} {
		cmd := exec.Command(bin, append(args, "-addr", "127.0.0.1:0")...)
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		assert.Error(t, err, "%v: started", args)
		assert.Contains(t, string(out), "server failed", "%v", args)
	}
	cmd := exec.Command(bin, "-store", "memory", "-addr", "127.0.0.1:0")
	cmd.Env = append(cleanEnv(), "ONETIME_SECRET=short")
	out, err := cmd.CombinedOutput()
	assert.Error(t, err)
	assert.Contains(t, string(out), "at least 32 bytes")
}

func TestDecodeSecret(t *testing.T) {
	for in, want := range map[string]int{
		strings.Repeat("0f", 32) + "\n": 32,
		strings.Repeat("0f", 40):        40,
		strings.Repeat("x", 32):         32,
		strings.Repeat("0f", 16):        32, // 32 hex digits: too short as hex, fine as raw text
	} {
		s, err := decodeSecret([]byte(in))
		if assert.NoError(t, err, "%q", in) {
			assert.Len(t, s, want, "%q", in)
		}
	}
	for _, in := range []string{"", "short", strings.Repeat("ab", 15)} {
		_, err := decodeSecret([]byte(in))
		assert.Error(t, err, "%q accepted", in)
	}
}

func TestReadUsers(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "u")
		require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
		return p
	}
	u, err := readUsers(write("# c\n\n alice : t1 \nbob:t:2\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"alice": "t1", "bob": "t:2"}, u)
	for _, bad := range []string{"alice\n", ":sekrit\n", "alice:\n", "anon:sekrit\n", "a:sekrit\na:sekrit2\n", "# none\n"} {
		_, err := readUsers(write(bad))
		if assert.Error(t, err, "%q accepted", bad) {
			assert.NotContains(t, err.Error(), "sekrit", "the error quotes a token")
		}
	}
}

func TestRedisClientSpec(t *testing.T) {
	for _, ok := range []string{"redis://127.0.0.1:1/0", "127.0.0.1:1", "a:1,b:2", "redis://a:1,redis://b:2/"} {
		c, err := redisClient(ok)
		if assert.NoError(t, err, "%q", ok) {
			c.Close()
		}
	}
	for _, bad := range []string{"nohost", "a:1,b", "http://x y"} {
		_, err := redisClient(bad)
		assert.Error(t, err, "%q accepted", bad)
	}
}

func TestServerRedis(t *testing.T) {
	srv := redistest.Standalone(t)
	bin := buildServer(t)
	dir := t.TempDir()
	s := start(t, bin, []string{"ONETIME_SECRET="}, "-store", "redis", "-redis", "redis://"+srv.Addr+"/0", "-db", filepath.Join(dir, "x.db"), "-rate", "100")
	code, rc := call(t, "POST", s.url+"/api/v1/share", "secret=via+redis", "", "")
	require.Equal(t, 200, code, "%v", rc)
	code, m := call(t, "POST", s.url+"/api/v1/secret/"+rc["secret_key"].(string), "", "", "")
	require.Equal(t, 200, code)
	require.Equal(t, "via redis", m["value"])
	s.stop(t)
	_, err := os.Stat(filepath.Join(dir, "x.db.key"))
	require.NoError(t, err, "no key file beside -db for the Redis store")
}

func TestServerRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster")
	}
	c := redistest.Cluster(t)
	bin := buildServer(t)
	dir := t.TempDir()
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("cd", 32)}, "-store", "redis",
		"-redis", strings.Join(c.Addrs, ","), "-db", filepath.Join(dir, "x.db"), "-users", writeUsers(t, dir))
	require.Contains(t, s.logs.String(), `"cluster":true`)
	for range 5 { // pairs land on several shards
		code, rc := call(t, "POST", s.url+"/api/v1/share", "secret=via+cluster", "alice", "alicetoken")
		require.Equal(t, 200, code, "%v", rc)
		code, m := call(t, "POST", s.url+"/api/v1/secret/"+rc["secret_key"].(string), "", "", "")
		require.Equal(t, 200, code)
		require.Equal(t, "via cluster", m["value"])
	}
	s.stop(t)
}

func writeUsers(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(p, []byte("# customers\nalice:alicetoken\n"), 0o600))
	return p
}
