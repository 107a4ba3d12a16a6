package main

import (
	"bufio"
	"bytes"
	"encoding/json"
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

// buildAll builds the command and the server (cmd/onetime-server) into dir.
func buildAll(t *testing.T, dir string) (cli, server string) {
	t.Helper()
	goTool, err := exec.LookPath("go")
	require.NoError(t, err, "the end-to-end test needs the go tool")
	cli, server = filepath.Join(dir, "onetime"), filepath.Join(dir, "server")
	var wg sync.WaitGroup
	var outs [2][]byte
	var errs [2]error
	for i, b := range [][2]string{{cli, "."}, {server, "../onetime-server"}} {
		wg.Go(func() {
			outs[i], errs[i] = exec.Command(goTool, "build", "-o", b[0], b[1]).CombinedOutput()
		})
	}
	wg.Wait()
	require.NoError(t, errs[0], "go build ./cmd/onetime:\n%s", outs[0])
	require.NoError(t, errs[1], "go build ./cmd/onetime-server:\n%s", outs[1])
	return cli, server
}

// startServer runs the server on SQLite in dir, on a free port,
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

// binary returns a harness exec that runs the command bin with stdin and
// extra environment variables.
func binary(bin string) func(t *testing.T, stdin string, env []string, args ...string) result {
	return func(t *testing.T, stdin string, env []string, args ...string) result {
		t.Helper()
		cmd := exec.Command(bin, args...)
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
}

// TestEndToEnd builds the command and the server, and runs each
// command once as a user would: processes, a SQLite file, a terminal.
// TestCommands covers the commands in depth, in process.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command and the server")
	}
	dir := t.TempDir()
	bin, server := buildAll(t, dir)
	e := &harness{base: startServer(t, server, dir), exec: binary(bin)}
	url := []string{"ONETIME_URL=" + e.base}
	env := append(append([]string{}, url...), alice...)

	assert.Equal(t, "nominal\n", e.ok(t, "", url, "status"))

	ls := lines(e.ok(t, "hunter2\n", env, "share", "-plain", "-v", "-ttl", "1h", "-recipient", "ops@example.com"))
	require.Len(t, ls, 2)
	require.True(t, strings.HasPrefix(ls[0], e.base+"/secret/"), ls[0])
	assert.Contains(t, e.ok(t, "", nil, "receipt", ls[1]), "state:      new")
	assert.Equal(t, "hunter2\n", e.ok(t, "", nil, "get", ls[0]), "the link names its server")
	assert.Contains(t, e.fails(t, 1, "", url, "get", ls[0]), "unknown secret")

	recent := lines(e.ok(t, "", env, "recent"))
	assert.True(t, strings.HasPrefix(recent[0], ls[1]+"\treceived\t"), recent[0])

	gen := lines(e.ok(t, "", url, "generate", "-length", "20", "-v"))
	require.Len(t, gen, 3)
	assert.Len(t, gen[1], 20)
	assert.Equal(t, "burned\n", e.ok(t, "", url, "burn", gen[2]))
	assert.Contains(t, e.fails(t, 1, "", url, "burn", gen[2]), "nothing to burn")

	link := strings.TrimSpace(e.ok(t, "guarded", append(url, "ONETIME_PASSPHRASE=pw"), "share"))
	assert.Contains(t, e.fails(t, 2, "", url, "get", "-p", link), "cannot prompt", "no terminal")
	assert.Equal(t, "guarded\n", e.ok(t, "", url, "get", link, "-passphrase", "pw"))

	t.Run("ControllingTerminal", func(t *testing.T) {
		testControllingTerminal(t, bin, e)
	})
}
