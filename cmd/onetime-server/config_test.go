package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// env is a lookup function over a fixed table, as os.LookupEnv.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func parse(t *testing.T, args []string, vars map[string]string) (config, map[string]source, *flag.FlagSet, error) {
	t.Helper()
	fs := flag.NewFlagSet("onetime-server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, from, err := parseConfig(fs, args, env(vars))
	return c, from, fs, err
}

func TestEnvName(t *testing.T) {
	for flag, want := range map[string]string{
		"addr":               "ONETIME_ADDR",
		"store":              "ONETIME_STORE",
		"max-conns-per-addr": "ONETIME_MAX_CONNS_PER_ADDR",
		"shutdown-timeout":   "ONETIME_SHUTDOWN_TIMEOUT",
	} {
		assert.Equal(t, want, envName(flag))
	}
}

// A variable sets its flag; the flag on the command line wins over it;
// the default stands when neither is given, or the variable is empty.
func TestParseConfigEnv(t *testing.T) {
	c, from, _, err := parse(t, []string{"-addr", "127.0.0.1:9", "-burst", "7"}, map[string]string{
		"ONETIME_ADDR":             "0.0.0.0:80",
		"ONETIME_BURST":            "99",
		"ONETIME_STORE":            "memory",
		"ONETIME_RATE":             "2.5",
		"ONETIME_GUESS_LIMIT":      "false",
		"ONETIME_SHUTDOWN_TIMEOUT": "3s",
		"ONETIME_USERS":            "",
		"ONETIME_NOT_A_FLAG":       "ignored",
	})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:9", c.addr, "the flag wins over ONETIME_ADDR")
	assert.Equal(t, 7, c.burst, "the flag wins over ONETIME_BURST")
	assert.Equal(t, "memory", c.store)
	assert.Equal(t, 2.5, c.rate)
	assert.False(t, c.guessLimit)
	assert.Equal(t, 3*time.Second, c.shutdownTimeout)
	assert.Equal(t, "", c.users, "an empty variable counts as unset")
	assert.Equal(t, "onetime.db", c.db, "the default")
	assert.Equal(t, map[string]source{"addr": fromFlag, "burst": fromFlag, "store": fromEnv, "rate": fromEnv,
		"guess-limit": fromEnv, "shutdown-timeout": fromEnv, "users": fromDefault, "db": fromDefault},
		pick(from, "addr", "burst", "store", "rate", "guess-limit", "shutdown-timeout", "users", "db"))
}

func pick(m map[string]source, keys ...string) map[string]source {
	out := map[string]source{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// The rule is applied to every flag, those added later included: the
// variable of each is looked up, and applied.
func TestEveryFlagHasItsVariable(t *testing.T) {
	asked := map[string]bool{}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	_, _, err := parseConfig(fs, nil, func(k string) (string, bool) { asked[k] = true; return "", false })
	require.NoError(t, err)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		assert.True(t, asked[envName(f.Name)], "-%s is not read from %s", f.Name, envName(f.Name))
	})
	assert.Greater(t, n, 25)

	// Each variable applies: set to the flag's default, every flag with
	// one counts as set from the environment.
	vars := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { vars[envName(f.Name)] = f.DefValue })
	_, from, pfs, err := parse(t, nil, vars)
	require.NoError(t, err)
	pfs.VisitAll(func(f *flag.Flag) {
		if f.DefValue != "" {
			assert.Equal(t, fromEnv, from[f.Name], "-%s is not set from %s", f.Name, envName(f.Name))
		}
	})
	for _, e := range specialEnv {
		assert.Nil(t, fs.Lookup(strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(e.name, envPrefix), "_", "-"))),
			"%s sets no flag, yet a flag has that variable", e.name)
	}
}

// A value a flag refuses fails at start, naming the variable and the
// flag; every bad variable is reported at once.
func TestParseConfigBadEnv(t *testing.T) {
	_, _, _, err := parse(t, nil, map[string]string{
		"ONETIME_MAX_CONNS":        "lots",
		"ONETIME_WEBUI":            "maybe",
		"ONETIME_SHUTDOWN_TIMEOUT": "20",
	})
	require.Error(t, err)
	for _, s := range []string{"ONETIME_MAX_CONNS", "-max-conns", "ONETIME_WEBUI", "-webui", "ONETIME_SHUTDOWN_TIMEOUT"} {
		assert.Contains(t, err.Error(), s)
	}
	// A bad flag value given by flag is left to the flag package, which
	// says so; a bad variable whose flag was given does not count.
	_, _, _, err = parse(t, []string{"-max-conns", "10"}, map[string]string{"ONETIME_MAX_CONNS": "lots"})
	require.NoError(t, err)
	_, _, _, err = parse(t, []string{"stray"}, nil)
	require.ErrorContains(t, err, `unexpected argument "stray"`)
}

// DATABASE_URL stands in for -postgres when neither the flag nor
// ONETIME_POSTGRES is given.
func TestParseConfigDatabaseURL(t *testing.T) {
	db := "postgres://app@db.example/onetime"
	c, from, _, err := parse(t, nil, map[string]string{"DATABASE_URL": db})
	require.NoError(t, err)
	assert.Equal(t, db, c.postgres)
	assert.Equal(t, fromDatabaseURL, from["postgres"])
	c, _, _, err = parse(t, nil, map[string]string{"DATABASE_URL": db, "ONETIME_POSTGRES": "postgres://other/x"})
	require.NoError(t, err)
	assert.Equal(t, "postgres://other/x", c.postgres)
	c, _, _, err = parse(t, []string{"-postgres", "postgres://flag/x"}, map[string]string{"DATABASE_URL": db, "ONETIME_POSTGRES": "postgres://other/x"})
	require.NoError(t, err)
	assert.Equal(t, "postgres://flag/x", c.postgres)
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"redis", "redis://:hunter2@127.0.0.1:6379/0", "redis://:xxxxx@127.0.0.1:6379/0"},
		{"redis", "rediss://app:hunter2@r.example:6380/1", "rediss://app:xxxxx@r.example:6380/1"},
		{"redis", "10.0.0.1:7000,10.0.0.2:7000", "10.0.0.1:7000,10.0.0.2:7000"},
		{"redis", "redis://:a@h:1,redis://:b@h:2", "redis://:xxxxx@h:1,redis://:xxxxx@h:2"},
		{"postgres", "postgres://app:hunter2@db:5432/onetime?sslmode=verify-full", "postgres://app:xxxxx@db:5432/onetime?sslmode=verify-full"},
		{"postgres", "postgres://app@db/onetime?password=hunter2&sslmode=disable", "postgres://app@db/onetime?password=xxxxx&sslmode=disable"},
		{"postgres", "host=db user=app password='hunter 2' dbname=onetime", "host=db user=app password=xxxxx dbname=onetime"},
		{"postgres", "host=db password=hunter2 sslpassword=hunter3", "host=db password=xxxxx sslpassword=xxxxx"},
		{"postgres", "postgres://app:hun%zzter2@db/x", "xxxxx"},
		{"public-url", "https://secrets.example.com", "https://secrets.example.com"},
		{"smtp-token", "hunter2", "xxxxx"},
		{"addr", "127.0.0.1:7143", "127.0.0.1:7143"},
		{"users", "", ""},
	} {
		got := redact(tc.name, tc.in)
		assert.Equal(t, tc.want, got, "%s=%s", tc.name, tc.in)
		assert.NotContains(t, got, "hunter", tc.in)
	}
}

// The configuration is logged once, as one line: every flag, where it
// came from, and which secret variables are set, never their values.
func TestLogConfigNoSecret(t *testing.T) {
	vars := map[string]string{
		"ONETIME_SECRET":        strings.Repeat("5e", 32),
		"ONETIME_SMTP_PASSWORD": "smtp-hunter2",
		"ONETIME_REDIS":         "redis://:redis-hunter2@127.0.0.1:6379/0",
		"DATABASE_URL":          "postgres://app:pg-hunter2@db/onetime",
		"ONETIME_STORE":         "redis",
	}
	_, from, fs, err := parse(t, []string{"-smtp-user", "mailer"}, vars)
	require.NoError(t, err)
	var buf bytes.Buffer
	logConfig(slog.New(slog.NewJSONHandler(&buf, nil)), fs, from, env(vars))
	out := buf.String()
	require.Equal(t, 1, strings.Count(out, "\n"), out)
	for _, secret := range []string{"hunter2", vars["ONETIME_SECRET"]} {
		assert.NotContains(t, out, secret)
	}
	var line struct {
		Msg             string
		Flags           map[string]string
		FromCommandLine []string        `json:"from_command_line"`
		FromEnv         []string        `json:"from_env"`
		EnvSet          map[string]bool `json:"env_set"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "configuration", line.Msg)
	assert.Equal(t, "redis://:xxxxx@127.0.0.1:6379/0", line.Flags["redis"])
	assert.Equal(t, "postgres://app:xxxxx@db/onetime", line.Flags["postgres"])
	assert.Equal(t, "mailer", line.Flags["smtp-user"])
	assert.Equal(t, "20s", line.Flags["shutdown-timeout"])
	assert.Equal(t, []string{"smtp-user"}, line.FromCommandLine)
	assert.Equal(t, []string{"DATABASE_URL", "ONETIME_REDIS", "ONETIME_STORE"}, line.FromEnv)
	assert.Equal(t, map[string]bool{"ONETIME_SECRET": true, "ONETIME_SMTP_PASSWORD": true, "DATABASE_URL": true}, line.EnvSet)
	fs.VisitAll(func(f *flag.Flag) { assert.Contains(t, line.Flags, f.Name) })
}

// The binary: variables configure it, a flag wins over its variable, the
// configuration is logged once without a secret, and a bad variable stops
// it at start with a message that names the variable.
func TestServerEnvConfig(t *testing.T) {
	bin := buildServer(t)
	secret := strings.Repeat("c0", 32)
	s := start(t, bin, []string{
		"ONETIME_SECRET=" + secret,
		"ONETIME_STORE=memory",
		"ONETIME_RATE=1",
		"ONETIME_BURST=2",
		"ONETIME_SMTP_PASSWORD=smtp-hunter2",
		"ONETIME_REDIS=redis://:redis-hunter2@127.0.0.1:1/0",
		"DATABASE_URL=postgres://app:pg-hunter2@127.0.0.1:1/onetime",
	}, "-burst", "3")
	for range 3 {
		code, m := call(t, "POST", s.url+"/api/v1/share", "secret=x", "", "")
		require.Equal(t, 200, code, "-burst 3 wins over ONETIME_BURST=2: %v", m)
	}
	code, m := call(t, "POST", s.url+"/api/v1/share", "secret=x", "", "")
	require.Equal(t, 404, code, "ONETIME_RATE=1 applies")
	require.Equal(t, "Cripes! You have been rate limited.", m["message"])
	s.stop(t)
	logs := s.logs.String()
	assert.Equal(t, 1, strings.Count(logs, `"msg":"configuration"`), logs)
	assert.Contains(t, logs, `"store":"memory"`)
	assert.Contains(t, logs, "server secret from ONETIME_SECRET")
	for _, x := range []string{"hunter2", secret} {
		assert.NotContains(t, logs, x)
	}

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	cmd.Env = append(cleanEnv(), "ONETIME_STORE=memory", "ONETIME_MAX_CONNS_PER_ADDR=several")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "started with a bad variable")
	assert.Contains(t, string(out), "ONETIME_MAX_CONNS_PER_ADDR")
	assert.Contains(t, string(out), "server failed")
}
