package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
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
)

// e2e is the onetime binary and a running example server.
type e2e struct {
	bin  string // the onetime command
	base string // the server's base URL
	dir  string
}

// result is what one run of the command did.
type result struct {
	stdout, stderr string
	code           int
}

// buildAll builds the command and the example server into dir.
func buildAll(t *testing.T, dir string) (cli, server string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the end-to-end test needs the go tool")
	cli, server = filepath.Join(dir, "onetime"), filepath.Join(dir, "server")
	var wg sync.WaitGroup
	var outs [2][]byte
	var errs [2]error
	for i, b := range [][2]string{{cli, "."}, {server, "../../examples/server"}} {
		wg.Go(func() {
			outs[i], errs[i] = exec.Command(goTool, "build", "-o", b[0], b[1]).CombinedOutput()
		})
	}
	wg.Wait()
	require.NoError(t, errs[0], "go build ./cmd/onetime:\n%s", outs[0])
	require.NoError(t, errs[1], "go build ./examples/server:\n%s", outs[1])
	return cli, server
}

// startServer runs the example server on SQLite in dir, on a free port,
// with the customer alice, and returns its base URL once it listens.
func startServer(t *testing.T, bin, dir string) string {
	t.Helper()
	users := filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(users, []byte("alice:alicetoken\n"), 0o600))
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-store", "sqlite", "-db", filepath.Join(dir, "ots.db"),
		"-users", users, "-access-log=false")
	cmd.Env = cleanEnv()
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	addr := make(chan string, 1)
	var logs bytes.Buffer
	var mu sync.Mutex
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			var m struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.Msg == "listening" {
				addr <- m.Addr
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	select {
	case a := <-addr:
		return "http://" + a
	case <-done:
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the server exited:\n%s", logs.String())
	case <-time.After(60 * time.Second):
		t.Fatal("the server did not start")
	}
	return ""
}

// cleanEnv is the environment without any ONETIME_ variable.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ONETIME_") {
			env = append(env, kv)
		}
	}
	return env
}

// run runs the command with stdin and extra environment variables.
func (e *e2e) run(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	// A session of its own: no controlling terminal, so that a prompt
	// can never reach the terminal of whoever runs the tests.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); !ok {
		require.NoError(t, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
}

// ok runs the command, requires exit status 0 and returns its output.
func (e *e2e) ok(t *testing.T, stdin string, env []string, args ...string) string {
	t.Helper()
	r := e.run(t, stdin, env, args...)
	require.Equal(t, 0, r.code, "onetime %s: stderr: %s", strings.Join(args, " "), r.stderr)
	assert.Empty(t, r.stderr)
	return r.stdout
}

// fails runs the command and requires the exit status code, a message
// on standard error and nothing on standard output.
func (e *e2e) fails(t *testing.T, code int, stdin string, env []string, args ...string) string {
	t.Helper()
	r := e.run(t, stdin, env, args...)
	require.Equal(t, code, r.code, "onetime %s: stdout %q, stderr %q", strings.Join(args, " "), r.stdout, r.stderr)
	assert.Empty(t, r.stdout)
	require.True(t, strings.HasPrefix(r.stderr, "onetime: "), r.stderr)
	return r.stderr
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

var alice = []string{"ONETIME_CUSTID=alice", "ONETIME_TOKEN=alicetoken"}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command and the example server")
	}
	dir := t.TempDir()
	cli, server := buildAll(t, dir)
	e := &e2e{bin: cli, dir: dir, base: startServer(t, server, dir)}
	url := []string{"ONETIME_URL=" + e.base}

	t.Run("ShareGetOnce", func(t *testing.T) {
		link := strings.TrimSpace(e.ok(t, "hunter2\n", nil, "-url", e.base, "share"))
		require.True(t, strings.HasPrefix(link, e.base+"/secret/"), link)
		assert.Equal(t, "hunter2\n", e.ok(t, "", nil, "-url", e.base, "get", link))
		msg := e.fails(t, 1, "", nil, "-url", e.base, "get", link)
		assert.Contains(t, msg, "unknown secret")
		assert.Contains(t, msg, "-p")
		assert.NotContains(t, msg, link[len(e.base+"/secret/"):])
	})

	t.Run("LinkNamesTheServer", func(t *testing.T) {
		out := e.ok(t, "from env", url, "share", "-v")
		ls := lines(out)
		require.Len(t, ls, 2)
		assert.True(t, strings.HasPrefix(ls[1], e.base+"/private/"), ls[1])
		// No -url, no ONETIME_URL: the links say where.
		assert.Contains(t, e.ok(t, "", nil, "receipt", ls[1]), "state:      new")
		assert.Equal(t, "from env\n", e.ok(t, "", nil, "get", ls[0]))
		assert.Contains(t, e.ok(t, "", nil, "receipt", ls[1]), "state:      received")

		// A link is revealed on its own server, whatever ONETIME_URL says;
		// -url overrides it.
		elsewhere := []string{"ONETIME_URL=http://127.0.0.1:1"}
		ls = lines(e.ok(t, "here", url, "share", "-v"))
		assert.Contains(t, e.ok(t, "", elsewhere, "receipt", ls[1]), "state:      new")
		e.fails(t, 3, "", nil, "-url", "http://127.0.0.1:1", "get", ls[0])
		assert.Equal(t, "here\n", e.ok(t, "", elsewhere, "get", ls[0]))
		// A bare key needs the server named.
		key := strings.TrimPrefix(ls[1], e.base+"/private/")
		e.fails(t, 2, "", nil, "receipt", key)
		assert.Contains(t, e.ok(t, "", url, "receipt", key), "state:      received")
	})

	t.Run("FileInputAndNewlines", func(t *testing.T) {
		file := filepath.Join(e.dir, "value.txt")
		value := "line one\nligne deux ünï 秘密\r\n\tno newline at the end"
		require.NoError(t, os.WriteFile(file, []byte(value), 0o600))
		link := strings.TrimSpace(e.ok(t, "", url, "share", file))
		assert.Equal(t, value, e.ok(t, "", url, "get", "-n", link), "-n adds nothing")

		link = strings.TrimSpace(e.ok(t, "", url, "share", file, "-ttl", "1h"))
		assert.Equal(t, value+"\n", e.ok(t, "", url, "get", link), "a newline is added when the value has none")

		link = strings.TrimSpace(e.ok(t, value, url, "share", "-"))
		assert.Equal(t, value, e.ok(t, "", url, "get", link, "-n"))

		msg := e.fails(t, 3, "", url, "share", filepath.Join(e.dir, "missing"))
		assert.Contains(t, msg, "cannot read the file")
	})

	t.Run("Passphrases", func(t *testing.T) {
		link := strings.TrimSpace(e.ok(t, "guarded", append(url, "ONETIME_PASSPHRASE=open sesame"), "share"))
		msg := e.fails(t, 1, "", url, "get", link)
		assert.Contains(t, msg, "needs a passphrase")
		msg = e.fails(t, 1, "", url, "get", "-passphrase", "wrong guess", link)
		assert.Contains(t, msg, "passphrase is wrong")
		assert.NotContains(t, msg, "wrong guess")
		assert.Equal(t, "guarded\n", e.ok(t, "", append(url, "ONETIME_PASSPHRASE=open sesame"), "get", link))

		link = strings.TrimSpace(e.ok(t, "guarded", url, "share", "-passphrase", "pw"))

		// No terminal to prompt on (the command runs in a session of
		// its own); the link is still there.
		assert.Contains(t, e.fails(t, 2, "", url, "get", "-p", link), "cannot prompt")
		assert.Contains(t, e.fails(t, 2, "", url, "get", "-p", "-passphrase", "pw", link), "not both")
		assert.Equal(t, "guarded\n", e.ok(t, "", url, "get", link, "-passphrase", "pw"))
	})

	t.Run("TTLAndJSON", func(t *testing.T) {
		for ttl, want := range map[string]float64{"1h": 3600, "7d": 604800, "1d12h": 129600, "90": 90, "30s": 60} {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(e.ok(t, "x", url, "share", "-ttl", ttl, "-json")), &m))
			assert.Equal(t, want, m["ttl"], ttl)
			assert.Equal(t, "new", m["state"])
		}
		for _, bad := range []string{"soon", "-1h", "d", "1x"} {
			e.fails(t, 2, "x", url, "share", "-ttl", bad)
		}
	})

	t.Run("ReceiptAndBurn", func(t *testing.T) {
		ls := lines(e.ok(t, "burn me", url, "share", "-v", "-ttl", "2h"))
		require.Len(t, ls, 2)
		link, receipt := ls[0], ls[1]
		out := e.ok(t, "", url, "receipt", receipt)
		assert.Contains(t, out, "state:      new")
		assert.Contains(t, out, "expires in: 2h0m0s")
		assert.Contains(t, out, "link:       "+link)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(e.ok(t, "", url, "-json", "receipt", receipt)), &m))
		assert.Equal(t, "viewed", m["state"])
		for _, form := range []string{"/receipt/", "/metadata/"} {
			alias := strings.Replace(receipt, "/private/", form, 1)
			assert.Contains(t, e.ok(t, "", nil, "receipt", alias), "state:      viewed")
		}

		assert.Equal(t, "burned\n", e.ok(t, "", url, "burn", receipt))
		assert.Contains(t, e.fails(t, 1, "", url, "burn", receipt), "nothing to burn")
		e.fails(t, 1, "", url, "get", link)
		assert.Contains(t, e.ok(t, "", url, "receipt", receipt), "state:      burned")

		// Burn answers the server's JSON with -json.
		ls = lines(e.ok(t, "burn me too", url, "share", "-v"))
		require.NoError(t, json.Unmarshal([]byte(e.ok(t, "", url, "burn", "-json", ls[1])), &m))
		assert.Equal(t, "burned", m["state"].(map[string]any)["state"])

		e.fails(t, 1, "", url, "receipt", "0123456789abcdefghij")
	})

	t.Run("Generate", func(t *testing.T) {
		ls := lines(e.ok(t, "", url, "generate", "-length", "20", "-v"))
		require.Len(t, ls, 3)
		assert.True(t, strings.HasPrefix(ls[0], e.base+"/secret/"))
		assert.Len(t, ls[1], 20)
		assert.True(t, strings.HasPrefix(ls[2], e.base+"/private/"))
		assert.Equal(t, ls[1]+"\n", e.ok(t, "", url, "get", ls[0]))

		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(e.ok(t, "", url, "generate", "-json")), &m))
		assert.Len(t, m["value"], 12)
		assert.Equal(t, "viewed", m["state"])
	})

	t.Run("RecentNeedsCredentials", func(t *testing.T) {
		env := append(append([]string{}, url...), alice...)
		ls := lines(e.ok(t, "for ops", env, "share", "-v", "-recipient", "ops@example.com", "-recipient", "dev@example.com"))
		out := e.ok(t, "", env, "recent")
		first := strings.Split(lines(out)[0], "\t")
		require.Len(t, first, 3)
		assert.Equal(t, ls[1], first[0])
		assert.Equal(t, "new", first[1])

		var list []map[string]any
		require.NoError(t, json.Unmarshal([]byte(e.ok(t, "", env, "recent", "-json")), &list))
		require.NotEmpty(t, list)
		assert.Equal(t, "alice", list[0]["custid"])
		assert.Len(t, list[0]["recipient"], 2)

		assert.Contains(t, e.fails(t, 3, "", url, "recent"), "Not authorized")
		assert.Contains(t, e.fails(t, 3, "x", url, "share", "-recipient", "ops@example.com"), "An account is required")
		e.fails(t, 2, "", append(url, "ONETIME_CUSTID=alice"), "recent")
		assert.Contains(t, e.fails(t, 3, "", append(url, "ONETIME_CUSTID=alice", "ONETIME_TOKEN=nope"), "status"), "Not authorized")
	})

	t.Run("Status", func(t *testing.T) {
		assert.Equal(t, "nominal\n", e.ok(t, "", url, "status"))
		assert.Equal(t, "nominal\n", e.ok(t, "", alice, "status", "-url", e.base))
		assert.JSONEq(t, `{"status":"nominal","locale":"en"}`, e.ok(t, "", url, "-json", "status"))
	})

	t.Run("Usage", func(t *testing.T) {
		link := strings.TrimSpace(e.ok(t, "x", url, "share", "-v"))
		receipt := lines(link)[1]
		for _, args := range [][]string{
			{},
			{"frobnicate"},
			{"get"},
			{"get", "a", "b"},
			{"get", receipt},         // a receipt link where a secret link belongs
			{"burn", lines(link)[0]}, // and the other way round
			{"get", "NOT-A-KEY"},
			{"share", "a", "b"},
			{"share", "-bogus"},
			{"generate", "-length", "-3"},
			{"status", "extra"},
			{"recent", "extra"},
		} {
			e.fails(t, 2, "", url, args...)
		}
		assert.Contains(t, e.fails(t, 2, "x", nil, "share"), "no server")
		assert.Contains(t, e.fails(t, 2, "", url, "share"), "nothing to share")
		assert.Contains(t, e.fails(t, 2, "\xff\xfe\x00", url, "share"), "not UTF-8")
		assert.Contains(t, e.ok(t, "", nil, "-h"), "usage: onetime")
		assert.Contains(t, e.ok(t, "", nil, "get", "-h"), "usage: onetime")
	})

	t.Run("ServerDown", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		down := "http://" + ln.Addr().String()
		require.NoError(t, ln.Close())
		key := "abcdefghijklmnopqrstuvwxyz0123"
		for _, args := range [][]string{{"get", down + "/secret/" + key}, {"burn", down + "/private/" + key}, {"-url", down, "status"}} {
			msg := e.fails(t, 3, "", nil, args...)
			assert.NotContains(t, msg, key)
		}
		msg := e.fails(t, 3, "top secret value", []string{"ONETIME_URL=" + down, "ONETIME_PASSPHRASE=pass phrase"}, "share")
		for _, s := range []string{"top secret", "top+secret", "pass phrase", "pass+phrase"} {
			assert.NotContains(t, msg, s)
		}
	})

	t.Run("PromptWithoutEcho", func(t *testing.T) {
		testPrompts(t, e)
	})
}
