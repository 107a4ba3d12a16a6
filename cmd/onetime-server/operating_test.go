package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
)

var updateDocs = flag.Bool("update", false, "rewrite the flags table of docs/operating.md from the flag set")

const operatingDoc = "../../docs/operating.md"

// flagsTable is the table of docs/operating.md: every flag with its
// variable, default and usage, then the variables that set no flag.
func flagsTable() string {
	fs := flag.NewFlagSet("onetime-server", flag.ContinueOnError)
	defineFlags(fs, &config{})
	cell := strings.NewReplacer("|", `\|`, "\n", " ")
	var b strings.Builder
	b.WriteString("| flag | variable | default | what it does |\n|---|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		_, usage := flag.UnquoteUsage(f)
		def := ""
		if f.DefValue != "" {
			def = "`" + f.DefValue + "`"
		}
		fmt.Fprintf(&b, "| `-%s` | `%s` | %s | %s |\n", f.Name, envName(f.Name), def, cell.Replace(usage))
	})
	for _, e := range specialEnv {
		fmt.Fprintf(&b, "| (none) | `%s` | | %s |\n", e.name, cell.Replace(e.doc))
	}
	return b.String()
}

// The operator's page lists every flag and variable as the flag set
// defines them: generated, so it cannot fall behind. -update rewrites it.
func TestOperatingFlagsTable(t *testing.T) {
	b, err := os.ReadFile(operatingDoc)
	require.NoError(t, err)
	doc := string(b)
	const begin, end = "<!-- flags:begin -->\n", "<!-- flags:end -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	require.True(t, i >= 0 && j > i, "docs/operating.md lacks the markers %q and %q", begin, end)
	want := flagsTable()
	if *updateDocs {
		doc = doc[:i+len(begin)] + want + doc[j:]
		require.NoError(t, os.WriteFile(operatingDoc, []byte(doc), 0o644))
		return
	}
	require.Equal(t, want, doc[i+len(begin):j],
		"docs/operating.md's flags table is stale: go test ./cmd/onetime-server -run TestOperatingFlagsTable -update")
}

// unitLines returns the settings of the systemd unit, each as key and
// value, the commented-out Environment= examples included.
func unitLines(t *testing.T) (settings [][2]string, env []string) {
	t.Helper()
	f, err := os.Open("onetime-server.service")
	require.NoError(t, err)
	defer f.Close()
	envLine := regexp.MustCompile(`^#?\s*Environment=([A-Z_]+=.*)$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := envLine.FindStringSubmatch(line); m != nil {
			env = append(env, m[1])
		}
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "not a setting: %q", line)
		settings = append(settings, [2]string{k, v})
	}
	require.NoError(t, sc.Err())
	return settings, env
}

// The unit in the repository is sandboxed as docs/operating.md says, sets
// only variables the server reads, gives the drain time to finish, and
// systemd accepts it.
func TestSystemdUnit(t *testing.T) {
	settings, env := unitLines(t)
	has := map[string][]string{}
	for _, s := range settings {
		has[s[0]] = append(has[s[0]], s[1])
	}
	for k, v := range map[string]string{
		"DynamicUser": "yes", "ProtectSystem": "strict", "NoNewPrivileges": "yes", "StateDirectory": "onetime",
		"PrivateTmp": "yes", "ProtectHome": "yes", "CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "KillSignal": "SIGTERM",
	} {
		assert.Equal(t, []string{v}, has[k], k)
	}
	assert.Contains(t, has["SystemCallFilter"], "@system-service")
	assert.Equal(t, []string{"/bin/kill -HUP $MAINPID"}, has["ExecReload"])

	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	defineFlags(fs, &config{})
	known := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { known[envName(f.Name)] = true })
	for _, e := range specialEnv {
		known[e.name] = true
	}
	require.NotEmpty(t, env)
	vars := map[string]string{}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		assert.True(t, known[k], "the unit sets %s, which the server does not read", k)
		vars[k] = v
	}
	assert.Equal(t, "%S/onetime/onetime.db", vars["ONETIME_DB"], "the database lives in the StateDirectory")
	shutdown, err := time.ParseDuration(vars["ONETIME_SHUTDOWN_TIMEOUT"])
	require.NoError(t, err)
	stop, err := time.ParseDuration(has["TimeoutStopSec"][0])
	require.NoError(t, err)
	assert.Greater(t, stop, shutdown+cancelGrace+onetime.DefaultNotifyDrainTimeout,
		"systemd would SIGKILL a server still stopping cleanly")

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze not found (Debian: apt-get install systemd)")
		}
		t.Skip("systemd-analyze not found: the unit is not verified")
	}
	// verify wants ExecStart's program to exist: the binary just built.
	bin := buildServer(t)
	b, err := os.ReadFile("onetime-server.service")
	require.NoError(t, err)
	unit := regexp.MustCompile(`(?m)^ExecStart=.*$`).ReplaceAllString(string(b), "ExecStart="+bin)
	p := filepath.Join(t.TempDir(), "onetime-server.service")
	require.NoError(t, os.WriteFile(p, []byte(unit), 0o644))
	out, err := exec.Command(analyze, "verify", "--man=no", p).CombinedOutput()
	require.NoError(t, err, "systemd-analyze verify:\n%s", out)
	assert.NotContains(t, string(out), "onetime-server.service", "systemd-analyze verify complains:\n%s", out)
}

// The backup of docs/operating.md: the database copied with VACUUM INTO
// while the server runs, and its key file. Restored together, they serve
// the secrets shared before the backup, including one revealed since (as
// the page warns); the file without its key opens none.
func TestBackupWhileRunning(t *testing.T) {
	bin := buildServer(t)
	live, backup := t.TempDir(), t.TempDir()
	db := filepath.Join(live, "onetime.db")
	s := start(t, bin, nil, "-db", db)
	keys := map[string]string{}
	for _, v := range []string{"kept", "revealed after the backup"} {
		code, rc := call(t, "POST", s.url+"/api/v1/share", "secret="+strings.ReplaceAll(v, " ", "+"), "", "")
		require.Equal(t, 200, code, "%v", rc)
		keys[v] = rc["secret_key"].(string)
	}

	conn, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), "VACUUM INTO ?", filepath.Join(backup, "onetime.db"))
	require.NoError(t, err)
	key, err := os.ReadFile(db + ".key")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(backup, "onetime.db.key"), key, 0o600))

	assert.Equal(t, "revealed after the backup", revealValue(t, s.url, keys["revealed after the backup"], ""))
	s.stop(t)

	s = start(t, bin, nil, "-db", filepath.Join(backup, "onetime.db"))
	assert.Equal(t, "kept", revealValue(t, s.url, keys["kept"], ""))
	assert.Equal(t, "revealed after the backup", revealValue(t, s.url, keys["revealed after the backup"], ""),
		"a restore brings back what was revealed since the backup")
	s.stop(t)

	// The file alone: a server without the key file makes a new secret
	// and finds nothing.
	alone := t.TempDir()
	b, err := os.ReadFile(filepath.Join(live, "onetime.db"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(alone, "onetime.db"), b, 0o600))
	s = start(t, bin, nil, "-db", filepath.Join(alone, "onetime.db"))
	code, m := call(t, "POST", s.url+"/api/v1/secret/"+keys["kept"], "", "", "")
	assert.Equal(t, 404, code, "%v", m)
	s.stop(t)
}
