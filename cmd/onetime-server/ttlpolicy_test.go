package main

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServerTTLPolicy runs the server with a TTL policy of its flags and
// variables: the pages offer exactly the -ttl-options up to each
// caller's maximum, and the API and the pages grant the same lifetime
// for the same ttl, anonymous or signed in.
func TestServerTTLPolicy(t *testing.T) {
	bin := buildServer(t)
	users := writeUsers(t, t.TempDir())
	s := start(t, bin, []string{"ONETIME_TTL_OPTIONS=5m,1h,1d,7d", "ONETIME_MAX_TTL_ANONYMOUS=1d"},
		"-store", "memory", "-users", users, "-max-ttl-customer", "7d")
	assert.Contains(t, s.logs.String(), `"ttl-options":"5m,1h,1d,7d"`, "the configuration log")
	assert.Contains(t, s.logs.String(), `"max-ttl-anonymous":"1d"`)

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func(method, path, form, user, pass string) *http.Response {
		r, err := http.NewRequest(method, s.url+path, strings.NewReader(form))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" {
			r.SetBasicAuth(user, pass)
		}
		res, err := noRedirect.Do(r)
		require.NoError(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	option := regexp.MustCompile(`<option value="(\d+)"( selected)?>`)
	menu := func(user, pass string) []string {
		res := page(http.MethodGet, "/", "", user, pass)
		require.Equal(t, http.StatusOK, res.StatusCode)
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		var got []string
		for _, o := range option.FindAllStringSubmatch(string(b), -1) {
			got = append(got, o[1]+o[2])
		}
		return got
	}
	// The default is the longest option up to 7 days and the anonymous
	// maximum: one day, for both.
	assert.Equal(t, []string{"300", "3600", "86400 selected"}, menu("", ""))
	assert.Equal(t, []string{"300", "3600", "86400 selected", "604800"}, menu("alice", "alicetoken"))

	// ttlOf reads the lifetime granted, from the receipt.
	ttlOf := func(metadataKey string) float64 {
		status, rc := call(t, http.MethodGet, s.url+"/api/v1/private/"+metadataKey, "", "", "")
		require.Equal(t, http.StatusOK, status)
		return rc["ttl"].(float64)
	}
	for _, c := range []struct {
		ttl        string
		anon, cust float64
	}{
		{"", 86400, 86400},
		{"30", 60, 60},
		{"300", 300, 300},
		{"7200", 7200, 7200},
		{"604800", 86400, 604800},
		{"99999999", 86400, 604800},
	} {
		for _, who := range []struct {
			user, pass string
			want       float64
		}{{"", "", c.anon}, {"alice", "alicetoken", c.cust}} {
			form := url.Values{"secret": {"x"}}
			if c.ttl != "" {
				form.Set("ttl", c.ttl)
			}
			status, rc := call(t, http.MethodPost, s.url+"/api/v1/share", form.Encode(), who.user, who.pass)
			require.Equal(t, http.StatusOK, status)
			assert.Equal(t, who.want, rc["ttl"], "API, ttl %q, user %q", c.ttl, who.user)

			res := page(http.MethodPost, "/share", form.Encode(), who.user, who.pass)
			require.Equal(t, http.StatusSeeOther, res.StatusCode)
			key, ok := strings.CutPrefix(res.Header.Get("Location"), "./private/")
			require.True(t, ok, res.Header.Get("Location"))
			assert.Equal(t, who.want, ttlOf(key), "pages, ttl %q, user %q", c.ttl, who.user)
		}
	}
	s.stop(t)
}

// TestServerBadTTLFlags: a TTL policy that the Service would refuse is
// refused at start, before the store is opened (no database file, no
// key file), with an error naming the flags.
func TestServerBadTTLFlags(t *testing.T) {
	bin := buildServer(t)
	for _, c := range []struct {
		args []string
		env  []string
		says string
	}{
		{args: []string{"-ttl-options", "1h,5m,7d"}, says: "sorted"},
		{args: []string{"-ttl-options", "5m,5m,7d"}, says: "without repeats"},
		{args: []string{"-ttl-options", "30s,7d"}, says: "below MinTTL"},
		{args: []string{"-ttl-options", "5m,7d,60d"}, says: "above the longest"},
		{args: []string{"-ttl-options", "5m,1h,1d", "-default-ttl", "7d"}, says: "default lifetime"},
		{args: []string{"-ttl-options", "5m,1 hour"}, says: `invalid value "5m,1 hour" for flag -ttl-options`},
		{args: []string{"-max-ttl-anonymous", "30s"}, says: "TTL bounds"},
		{env: []string{"ONETIME_TTL_OPTIONS=7d,1d"}, says: "sorted"},
		{env: []string{"ONETIME_MAX_TTL_CUSTOMER=1 month"}, says: "invalid value for -max-ttl-customer"},
	} {
		dir := t.TempDir()
		db := filepath.Join(dir, "onetime.db")
		cmd := exec.Command(bin, append(c.args, "-db", db, "-addr", "127.0.0.1:0")...)
		cmd.Env = append(cleanEnv(), c.env...)
		out, err := cmd.CombinedOutput()
		assert.Error(t, err, "%v %v: started", c.args, c.env)
		assert.Contains(t, string(out), c.says, "%v %v", c.args, c.env)
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Empty(t, entries, "%v %v: nothing is created", c.args, c.env)
	}
}
