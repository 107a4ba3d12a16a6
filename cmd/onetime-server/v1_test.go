package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/pgtest"
)

// checkV1 walks the v1 API of a running server through every route a
// client uses, on whatever store it runs: share with a passphrase, the
// receipt's states as the reference reports them, wrong and right
// passphrases, generate, burn, recent, and the errors' shapes. users must
// hold alice:alicetoken.
func checkV1(t *testing.T, base string) {
	t.Helper()
	api := base + "/api/v1"

	code, m := call(t, "GET", api+"/status", "", "", "")
	require.Equal(t, 200, code)
	require.Equal(t, "nominal", m["status"])

	value := "multi\nline ✓\n"
	code, rc := call(t, "POST", api+"/share", "secret="+url.QueryEscape(value)+"&passphrase=sesame&ttl=3600", "alice", "alicetoken")
	require.Equal(t, 200, code, "%v", rc)
	sk, mk := rc["secret_key"].(string), rc["metadata_key"].(string)
	assert.Equal(t, "alice", rc["custid"])
	assert.Equal(t, float64(3600), rc["ttl"])
	assert.Equal(t, true, rc["passphrase_required"])

	// The link a v1 client prints opens the confirmation page, any number
	// of times, without consuming the secret.
	for range 3 {
		code, page := getPage(t, base+"/secret/"+sk)
		require.Equal(t, 200, code)
		assert.Contains(t, page, "You have been sent a secret")
	}

	// The first read of a receipt reports new, later ones viewed.
	for _, want := range []string{"new", "viewed"} {
		code, m = call(t, "GET", api+"/private/"+mk, "", "", "")
		require.Equal(t, 200, code, "%v", m)
		assert.Equal(t, want, m["state"])
		assert.Equal(t, sk, m["secret_key"])
	}

	code, m = call(t, "POST", api+"/secret/"+sk, "passphrase=wrong", "", "")
	assert.Equal(t, 404, code)
	assert.Equal(t, "Unknown secret", m["message"])
	code, m = call(t, "POST", api+"/secret/"+sk, "passphrase=sesame", "", "")
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, value, m["value"])
	code, m = call(t, "POST", api+"/secret/"+sk, "passphrase=sesame", "", "")
	assert.Equal(t, 404, code)
	assert.Equal(t, "Unknown secret", m["message"])
	assert.Equal(t, sk, m["secret_key"])

	code, page := getPage(t, base+"/secret/"+sk)
	assert.Equal(t, 404, code)
	assert.Contains(t, page, "This secret is gone or never existed")

	code, m = call(t, "GET", api+"/metadata/"+mk, "", "", "")
	require.Equal(t, 200, code)
	assert.Equal(t, "received", m["state"])
	assert.NotContains(t, m, "secret_key", "a received secret's key is withheld")

	// Generate: the answer says new (v1-api.md), the receipt viewed from
	// its first read on; then burn it.
	code, g := call(t, "POST", api+"/generate", "length=20", "alice", "alicetoken")
	require.Equal(t, 200, code, "%v", g)
	assert.Len(t, g["value"], 20)
	assert.Equal(t, "new", g["state"])
	gk := g["metadata_key"].(string)
	code, m = call(t, "GET", api+"/private/"+gk, "", "", "")
	require.Equal(t, 200, code, "%v", m)
	assert.Equal(t, "viewed", m["state"])
	code, b := call(t, "POST", api+"/private/"+gk+"/burn", "", "", "")
	require.Equal(t, 200, code, "%v", b)
	require.IsType(t, map[string]any{}, b["state"])
	assert.Equal(t, "burned", b["state"].(map[string]any)["state"])
	code, m = call(t, "POST", api+"/secret/"+g["secret_key"].(string), "", "", "")
	assert.Equal(t, 404, code, "a burned secret is gone")
	assert.Equal(t, "Unknown secret", m["message"])
	code, m = call(t, "POST", api+"/private/"+gk+"/burn", "", "", "")
	assert.Equal(t, 404, code)
	assert.Equal(t, gk, m["secret_key"], "the metadata key is echoed as the reference does")

	// Recent needs a customer and lists both, newest first.
	code, list := callList(t, api+"/private/recent", "alice", "alicetoken")
	require.Equal(t, 200, code)
	require.Len(t, list, 2)
	assert.Equal(t, gk, list[0]["metadata_key"])
	assert.Equal(t, mk, list[1]["metadata_key"])
	code, m = call(t, "GET", api+"/private/recent", "", "", "")
	assert.Equal(t, 404, code)
	assert.Equal(t, "Not authorized", m["message"])
}

func TestServerV1SQLite(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	s := start(t, bin, []string{"ONETIME_SECRET="}, "-db", dir+"/onetime.db", "-users", writeUsers(t, dir))
	checkV1(t, s.url)
	s.stop(t)
}

func TestServerPostgres(t *testing.T) {
	pg := pgtest.Shared(t) // without pgtest.Main: a server for this test alone
	bin := buildServer(t)
	dir := t.TempDir()
	s := start(t, bin, []string{"ONETIME_SECRET=" + "ef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"},
		"-store", "postgres", "-postgres", pg.URL(pg.Database(t)), "-db", dir+"/x.db", "-users", writeUsers(t, dir))
	require.Contains(t, s.logs.String(), "store: postgres")
	checkV1(t, s.url)
	s.stop(t)
}

// callList is call for answers that are a JSON array (recent).
func callList(t *testing.T, u, user, pass string) (int, []map[string]any) {
	t.Helper()
	r, err := http.NewRequest("GET", u, nil)
	require.NoError(t, err)
	r.SetBasicAuth(user, pass)
	res, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer res.Body.Close()
	var list []map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&list))
	return res.StatusCode, list
}

// getPage fetches a web page and returns its status and text.
func getPage(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}
