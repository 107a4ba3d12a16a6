package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
)

// The bodies of the status check of a Service that honours idempotency
// keys, as by default: v1's, with the extension fields after them; and of
// one that does not (v1's fields, then zero_knowledge).
const (
	nominalBody  = `{"status":"nominal","locale":"en","idempotency":true,"zero_knowledge":["zk1"]}`
	offlineBody  = `{"status":"offline","locale":"en","idempotency":true,"zero_knowledge":["zk1"]}`
	noReplayBody = `{"status":"nominal","locale":"en","zero_knowledge":["zk1"]}`
)

const badIdemKey = `{"message":"Invalid Idempotency-Key: send 1 to 255 visible ASCII characters, bare or as a quoted string"}`

// badIdemKeyFor is the refusal on a route with a key in its path, which
// every error echoes.
func badIdemKeyFor(key string) string {
	return strings.TrimSuffix(badIdemKey, "}") + `,"secret_key":"` + key + `"}`
}

func idem(key string) map[string]string { return map[string]string{"Idempotency-Key": key} }

// postIdem posts a form with an Idempotency-Key header ("" for none).
func (e *env) postIdem(path, form, key string) resp {
	e.t.Helper()
	r := req{method: "POST", path: path, ctype: "application/x-www-form-urlencoded", body: form}
	if key != "" {
		r.header = idem(key)
	}
	return e.do(r)
}

// The status says whether retries with Idempotency-Key are safe, after
// v1's fields; a Service without replays leaves the field out, and
// authcheck answers the same as status either way.
func TestStatusIdempotency(t *testing.T) {
	for _, tc := range []struct {
		window time.Duration
		want   string
	}{
		{0, nominalBody},
		{time.Second, nominalBody},
		{-1, noReplayBody},
	} {
		e := newEnv(t, &onetime.Options{ReplayWindow: tc.window}, &Options{Auth: access.NewBasicAuth(testUsers)})
		r := e.get("/api/v1/status")
		assert.Equal(t, tc.want, string(r.body), "window %v", tc.window)
		assert.Equal(t, []string{"status", "locale"}, r.ok(t).keys[:2], "v1's fields first")
		auth := e.do(req{method: "GET", path: "/api/v1/authcheck", user: "alice", pass: "alicetoken"})
		assert.Equal(t, tc.want, string(auth.body))
	}
}

// A reveal repeated with its Idempotency-Key (quoted, as the draft and
// package client send it, or bare) gets the same answer while the window
// lasts; with another key, none or after the window, the secret is gone.
// It was received once.
func TestIdempotentReveal(t *testing.T) {
	e := newEnv(t, nil, nil)
	rc := e.share("secret=once%0A&passphrase=pw")
	sk, mk := rc.str(t, "secret_key"), rc.str(t, "metadata_key")
	path := "/api/v1/secret/" + sk

	first := e.postIdem(path, "passphrase=pw", `"8e03978e-40d5-43e8-bc93-6894a57f9324"`)
	assert.Equal(t, "once\n", first.ok(t).str(t, "value"))
	for _, key := range []string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, `8e03978e-40d5-43e8-bc93-6894a57f9324`} {
		again := e.postIdem(path, "passphrase=pw", key)
		again.ok(t)
		assert.Equal(t, string(first.body), string(again.body), "the first answer again, key %s", key)
	}
	e.postIdem(path, "passphrase=pw", `"another"`).fails(t, 404, unknown(sk))
	e.postIdem(path, "passphrase=pw", "").fails(t, 404, unknown(sk))
	e.postIdem(path, "passphrase=wrong", `"8e03978e-40d5-43e8-bc93-6894a57f9324"`).fails(t, 404, unknown(sk))

	receipt := e.get("/api/v1/private/" + mk).ok(t)
	assert.Equal(t, "received", receipt.str(t, "state"))

	e.clock.Add(onetime.DefaultReplayWindow)
	e.postIdem(path, "passphrase=pw", `"8e03978e-40d5-43e8-bc93-6894a57f9324"`).fails(t, 404, unknown(sk))
}

// A wrong passphrase sent again with its key is answered as before, and
// counted once: the secret still opens with the right one.
func TestIdempotentWrongPassphrase(t *testing.T) {
	e := newEnv(t, &onetime.Options{MaxAttempts: 2}, nil)
	sk := e.share("secret=v&passphrase=pw").str(t, "secret_key")
	path := "/api/v1/secret/" + sk
	for range 3 {
		e.postIdem(path, "passphrase=wrong", "k1").fails(t, 404, unknown(sk))
	}
	assert.Equal(t, "v", e.postIdem(path, "passphrase=pw", "k2").ok(t).str(t, "value"),
		"one attempt of two counted")
}

// A share repeated with its key answers the same receipt and stores no
// second secret; the same key with another value is another share; after
// the window the same request shares anew.
func TestIdempotentShare(t *testing.T) {
	e := newEnv(t, nil, nil)
	first := e.postIdem("/api/v1/share", "secret=v&ttl=3600", `"s1"`).ok(t)
	for range 2 {
		again := e.postIdem("/api/v1/share", "secret=v&ttl=3600", "s1").ok(t)
		assert.Equal(t, first.str(t, "secret_key"), again.str(t, "secret_key"))
		assert.Equal(t, first.str(t, "metadata_key"), again.str(t, "metadata_key"))
		assert.Equal(t, "new", again.str(t, "state"))
	}
	secrets, _ := e.store.Len()
	assert.Equal(t, 1, secrets, "never a second secret")

	other := e.postIdem("/api/v1/share", "secret=w&ttl=3600", "s1").ok(t)
	assert.NotEqual(t, first.str(t, "secret_key"), other.str(t, "secret_key"), "another request, another secret")
	e.clock.Add(onetime.DefaultReplayWindow)
	later := e.postIdem("/api/v1/share", "secret=v&ttl=3600", "s1").ok(t)
	assert.NotEqual(t, first.str(t, "secret_key"), later.str(t, "secret_key"), "after the window: a new share")
	secrets, _ = e.store.Len()
	assert.Equal(t, 3, secrets)

	assert.Equal(t, "v", e.post("/api/v1/secret/"+first.str(t, "secret_key"), "").ok(t).str(t, "value"))
}

// generate repeated with its key answers the same password and receipt.
func TestIdempotentGenerate(t *testing.T) {
	e := newEnv(t, nil, nil)
	first := e.postIdem("/api/v1/generate", "length=20", "g1").ok(t)
	again := e.postIdem("/api/v1/generate", "length=20", "g1").ok(t)
	assert.Len(t, first.str(t, "value"), 20)
	for _, k := range []string{"value", "secret_key", "metadata_key"} {
		assert.Equal(t, first.str(t, k), again.str(t, k), k)
	}
	secrets, _ := e.store.Len()
	assert.Equal(t, 1, secrets)
}

// A burn repeated with its key answers the same burned receipt; without
// it, the secret is gone.
func TestIdempotentBurn(t *testing.T) {
	e := newEnv(t, nil, nil)
	rc := e.share("secret=v")
	mk := rc.str(t, "metadata_key")
	path := "/api/v1/private/" + mk + "/burn"
	first := e.postIdem(path, "", "b1")
	assert.Equal(t, "burned", parseObj(t, first.ok(t).raw["state"]).str(t, "state"))
	again := e.postIdem(path, "passphrase=", `"b1"`)
	again.ok(t)
	assert.Equal(t, string(first.body), string(again.body))
	e.postIdem(path, "", "").fails(t, 404, unknown(mk))
	e.post("/api/v1/secret/"+rc.str(t, "secret_key"), "").fails(t, 404, unknown(rc.str(t, "secret_key")))
}

// A header that holds no key is refused on every route that takes one,
// before anything is stored or consumed; other routes ignore it.
func TestBadIdempotencyKey(t *testing.T) {
	e := newEnv(t, nil, &Options{IntendedStatus: true})
	rc := e.share("secret=v")
	sk, mk := rc.str(t, "secret_key"), rc.str(t, "metadata_key")
	for _, bad := range []string{`""`, `"open`, "two words", strings.Repeat("k", 256), "caf\u00e9", `"a"b`} {
		e.postIdem("/api/v1/share", "secret=w", bad).fails(t, 400, badIdemKey)
		e.postIdem("/api/v1/generate", "", bad).fails(t, 400, badIdemKey)
		e.postIdem("/api/v1/secret/"+sk, "", bad).fails(t, 400, badIdemKeyFor(sk))
		e.postIdem("/api/v1/private/"+mk+"/burn", "", bad).fails(t, 400, badIdemKeyFor(mk))
		e.do(req{method: "GET", path: "/api/v1/private/" + mk, header: idem(bad)}).ok(t)
		e.do(req{method: "GET", path: "/api/v1/status", header: idem(bad)}).ok(t)
	}
	// Sent twice, even the same key is no key.
	hr, err := http.NewRequest("POST", e.srv.URL+"/api/v1/secret/"+sk, nil)
	require.NoError(t, err)
	hr.Header["Idempotency-Key"] = []string{`"k"`, `"k"`}
	res, err := e.srv.Client().Do(hr)
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, 400, res.StatusCode)
	assert.Equal(t, badIdemKeyFor(sk), string(body))

	e.post("/api/v1/secret/"+sk, "").ok(t)
	secrets, _ := e.store.Len()
	assert.Equal(t, 0, secrets, "no share stored, and the one secret revealed once, after the refusals")
}

// An empty passphrase is no passphrase (the spec: an empty value is an
// absent one) on reveal, burn and generate alike.
func TestEmptyPassphraseIsNone(t *testing.T) {
	e := newEnv(t, nil, nil)
	g := e.post("/api/v1/generate", "passphrase=&length=8").ok(t)
	assert.Equal(t, "false", string(g.raw["passphrase_required"]))
	assert.Equal(t, g.str(t, "value"), e.post("/api/v1/secret/"+g.str(t, "secret_key"), "passphrase=").ok(t).str(t, "value"))
	g = e.do(req{method: "POST", path: "/api/v1/generate", ctype: "application/json", body: `{"passphrase":""}`}).ok(t)
	assert.Equal(t, "false", string(g.raw["passphrase_required"]))
	rc := e.share("secret=v&passphrase=")
	assert.Equal(t, "false", string(rc.raw["passphrase_required"]))
	e.post("/api/v1/private/"+rc.str(t, "metadata_key")+"/burn", "passphrase=").ok(t)
}
