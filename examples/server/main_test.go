package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/onetimego/onetime/internal/redistest"
)

// server is a running example server binary.
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

func buildServer(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	bin := filepath.Join(t.TempDir(), "server")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// start runs the binary on a free port and waits until it says where it
// listens.
func start(t *testing.T, bin string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &syncLog{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
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

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop on SIGTERM")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, s.logs)
	}
	if !strings.Contains(s.logs.String(), `"msg":"stopped"`) {
		t.Fatalf("no graceful stop in logs:\n%s", s.logs)
	}
}

func call(t *testing.T, method, u, form, user, pass string) (int, map[string]any) {
	t.Helper()
	r, _ := http.NewRequest(method, u, strings.NewReader(form))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		r.SetBasicAuth(user, pass)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s %s: %d %s", method, u, res.StatusCode, b)
	}
	return res.StatusCode, m
}

func TestServerBinary(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "onetime.db")
	users := filepath.Join(dir, "users")
	os.WriteFile(users, []byte("# customers\nalice:alicetoken\n"), 0o600)
	env := []string{"ONETIME_SECRET="}

	s := start(t, bin, env, "-db", db, "-users", users)
	if code, m := call(t, "GET", s.url+"/api/v1/status", "", "", ""); code != 200 || m["status"] != "nominal" {
		t.Fatalf("status %d %v", code, m)
	}
	value := "round trip ✓\n"
	code, rc := call(t, "POST", s.url+"/api/v1/share", "secret="+url.QueryEscape(value)+"&recipient=delano%40example.com", "alice", "alicetoken")
	if code != 200 || rc["custid"] != "alice" {
		t.Fatalf("share %d %v", code, rc)
	}
	sk, mk := rc["secret_key"].(string), rc["metadata_key"].(string)
	if code, m := call(t, "POST", s.url+"/api/v1/secret/"+sk, "", "", ""); code != 200 || m["value"] != value {
		t.Fatalf("reveal %d %v", code, m)
	}
	if code, m := call(t, "POST", s.url+"/api/v1/secret/"+sk, "", "", ""); code != 404 || m["message"] != "Unknown secret" {
		t.Fatalf("second reveal %d %v", code, m)
	}
	fi, err := os.Stat(db + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	s.stop(t)
	logs := s.logs.String()
	if !strings.Contains(logs, "created a new server secret") || !strings.Contains(logs, "de*****@e*****.com") {
		t.Fatalf("logs:\n%s", logs)
	}
	key, _ := os.ReadFile(db + ".key")
	for _, secret := range []string{sk, mk, "round trip", "delano@", "alicetoken", strings.TrimSpace(string(key))} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}

	// A restart finds the key file and the database again.
	s = start(t, bin, env, "-db", db)
	if code, m := call(t, "GET", s.url+"/api/v1/private/"+mk, "", "", ""); code != 200 || m["state"] != "received" {
		t.Fatalf("receipt after restart %d %v", code, m)
	}
	if strings.Contains(s.logs.String(), "created a new server secret") {
		t.Fatal("key file created again")
	}
	s.stop(t)
}

func TestServerMemoryAndSecretEnv(t *testing.T) {
	bin := buildServer(t)
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}, "-store", "memory", "-rate", "1", "-burst", "2")
	call(t, "POST", s.url+"/api/v1/share", "secret=x", "", "")
	call(t, "POST", s.url+"/api/v1/share", "secret=x", "", "")
	if code, m := call(t, "POST", s.url+"/api/v1/share", "secret=x", "", ""); code != 404 || m["message"] != "Cripes! You have been rate limited." {
		t.Fatalf("rate limit %d %v", code, m)
	}
	s.stop(t)
	if !strings.Contains(s.logs.String(), "server secret from ONETIME_SECRET") {
		t.Fatal("secret source not logged")
	}
}

// Clients that send everything in the query string must be able to send
// a value of the maximum size, percent-encoded; the server used to answer
// a plain-text 431 past 1 MiB of request line.
func TestServerValueInQueryString(t *testing.T) {
	bin := buildServer(t)
	s := start(t, bin, []string{"ONETIME_SECRET=" + strings.Repeat("ab", 32)}, "-store", "memory")
	value := strings.Repeat("é", 1<<19) // 1 MiB of UTF-8, 3 MiB percent-encoded
	code, rc := call(t, "POST", s.url+"/api/v1/share?secret="+url.QueryEscape(value), "", "", "")
	if code != 200 {
		t.Fatalf("share %d %v", code, rc)
	}
	if code, m := call(t, "POST", s.url+"/api/v1/secret/"+rc["secret_key"].(string), "", "", ""); code != 200 || m["value"] != value {
		t.Fatalf("reveal %d, value of %d bytes", code, len(fmt.Sprint(m["value"])))
	}
	if code, m := call(t, "POST", s.url+"/api/v1/share?secret="+url.QueryEscape(value+"x"), "", "", ""); code != 404 ||
		m["message"] != "Secret value exceeds the maximum size of 1048576 bytes" {
		t.Fatalf("too large: %d %v", code, m)
	}
	s.stop(t)
}

func TestServerBadFlags(t *testing.T) {
	bin := buildServer(t)
	for _, args := range [][]string{
		{"-store", "nope"},
		{"-store", "redis"},
		{"-rate", "-1"},
		{"-store", "memory", "-users", "/nonexistent/users"},
	} {
		out, err := exec.Command(bin, append(args, "-addr", "127.0.0.1:0")...).CombinedOutput()
		if err == nil {
			t.Errorf("%v: started", args)
		}
		if !strings.Contains(string(out), "server failed") {
			t.Errorf("%v: %s", args, out)
		}
	}
	cmd := exec.Command(bin, "-store", "memory", "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "ONETIME_SECRET=short")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "at least 32 bytes") {
		t.Errorf("short secret: %v %s", err, out)
	}
}

func TestDecodeSecret(t *testing.T) {
	for in, want := range map[string]int{
		strings.Repeat("0f", 32) + "\n": 32,
		strings.Repeat("0f", 40):        40,
		strings.Repeat("x", 32):         32,
		strings.Repeat("0f", 16):        32, // 32 hex digits: too short as hex, fine as raw text
	} {
		s, err := decodeSecret([]byte(in))
		if err != nil || len(s) != want {
			t.Errorf("%q: %d bytes, %v", in, len(s), err)
		}
	}
	for _, in := range []string{"", "short", strings.Repeat("ab", 15)} {
		if _, err := decodeSecret([]byte(in)); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestReadUsers(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "u")
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	u, err := readUsers(write("# c\n\n alice : t1 \nbob:t:2\n"))
	if err != nil || u["alice"] != "t1" || u["bob"] != "t:2" || len(u) != 2 {
		t.Fatalf("%v %v", u, err)
	}
	for _, bad := range []string{"alice\n", ":sekrit\n", "alice:\n", "anon:sekrit\n", "a:sekrit\na:sekrit2\n", "# none\n"} {
		if _, err := readUsers(write(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "sekrit") {
			t.Errorf("error quotes a token: %v", err)
		}
	}
}

func TestRedisClientSpec(t *testing.T) {
	for _, ok := range []string{"redis://127.0.0.1:1/0", "127.0.0.1:1", "a:1,b:2", "redis://a:1,redis://b:2/"} {
		c, err := redisClient(ok)
		if err != nil {
			t.Errorf("%q: %v", ok, err)
			continue
		}
		c.Close()
	}
	for _, bad := range []string{"nohost", "a:1,b", "http://x y"} {
		if _, err := redisClient(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestServerRedis(t *testing.T) {
	srv := redistest.Standalone(t)
	bin := buildServer(t)
	dir := t.TempDir()
	s := start(t, bin, []string{"ONETIME_SECRET="}, "-store", "redis", "-redis", "redis://"+srv.Addr+"/0", "-db", filepath.Join(dir, "x.db"), "-rate", "100")
	code, rc := call(t, "POST", s.url+"/api/v1/share", "secret=via+redis", "", "")
	if code != 200 {
		t.Fatalf("share %d %v", code, rc)
	}
	if code, m := call(t, "POST", s.url+"/api/v1/secret/"+rc["secret_key"].(string), "", "", ""); code != 200 || m["value"] != "via redis" {
		t.Fatalf("reveal %d %v", code, m)
	}
	s.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "x.db.key")); err != nil {
		t.Fatal("no key file beside -db for the Redis store")
	}
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
	if !strings.Contains(s.logs.String(), `"cluster":true`) {
		t.Fatalf("not a cluster:\n%s", s.logs)
	}
	for i := 0; i < 5; i++ { // pairs land on several shards
		code, rc := call(t, "POST", s.url+"/api/v1/share", "secret=via+cluster", "alice", "alicetoken")
		if code != 200 {
			t.Fatalf("share %d %v", code, rc)
		}
		if code, m := call(t, "POST", s.url+"/api/v1/secret/"+rc["secret_key"].(string), "", "", ""); code != 200 || m["value"] != "via cluster" {
			t.Fatalf("reveal %d %v", code, m)
		}
	}
	s.stop(t)
}

func writeUsers(t *testing.T, dir string) string {
	p := filepath.Join(dir, "users")
	if err := os.WriteFile(p, []byte("alice:alicetoken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
