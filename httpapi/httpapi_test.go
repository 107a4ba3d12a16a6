package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/store/memory"
)

var receiptKeys = []string{"custid", "metadata_key", "secret_key", "ttl", "metadata_ttl", "secret_ttl",
	"state", "updated", "created", "recipient", "share_domain", "passphrase_required"}

const (
	nf     = `{"message":"Not Found"}`
	unauth = `{"message":"Not authorized"}`
)

func unknown(key string) string { return `{"message":"Unknown secret","secret_key":"` + key + `"}` }

func TestStatus(t *testing.T) {
	e := newEnv(t, nil, nil)
	r := e.get("/api/v1/status")
	r.ok(t).order(t, "status", "locale", "idempotency", "zero_knowledge")
	assert.Equal(t, nominalBody, string(r.body))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	id, err := uuid.Parse(r.header.Get("X-Request-Id"))
	require.NoError(t, err, "X-Request-Id")
	assert.Equal(t, uuid.Version(7), id.Version())
}

func TestNotFound(t *testing.T) {
	e := newEnv(t, nil, nil)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/share"}, {"PUT", "/api/v1/share"}, {"DELETE", "/api/v1/share"},
		{"GET", "/api/v1/create"}, {"GET", "/api/v1/generate"}, {"PATCH", "/api/v1/generate"},
		{"GET", "/api/v1/secret/abc"}, {"DELETE", "/api/v1/private/abc"}, {"PUT", "/api/v1/metadata/abc"},
		{"GET", "/api/v1/private/abc/burn"}, {"DELETE", "/api/v1/receipt/abc/burn"},
		{"POST", "/api/v1/status"}, {"HEAD", "/api/v1/status"}, {"OPTIONS", "/api/v1/status"},
		{"POST", "/api/v1/authcheck"}, {"PUT", "/api/v1/private/recent"},
		{"GET", "/api/v1/"}, {"POST", "/api/v1/secret/"},
		{"POST", "/api/v1/secret/abc/def"}, {"GET", "/api/v1/private/"}, {"POST", "/api/v1/private/abc/burn/x"},
		{"POST", "/api/v1/private/abc/shred"}, {"GET", "/api/v1/nope"},
		{"GET", "/api/v1/STATUS"},
		{"POST", "/api/v1/share/x"},
	} {
		r := e.do(req{method: c.method, path: c.path})
		if c.method == "HEAD" {
			assert.Equal(t, 404, r.status, "HEAD")
			assert.Equal(t, "404", r.header.Get("X-OTS-Intended-Status"), "HEAD")
			continue
		}
		t.Run(c.method+c.path, func(t *testing.T) { r.fails(t, 404, nf) })
	}
}

func TestShareRevealReceipt(t *testing.T) {
	e := newEnv(t, nil, nil)
	value := "héllo <b>&\"\\ \u2028 wörld\n\n\t"
	rc := e.share("secret=" + url.QueryEscape(value) + "&ttl=3600")
	rc.order(t, receiptKeys...)
	assert.Equal(t, "anon", rc.str(t, "custid"))
	assert.Equal(t, "new", rc.str(t, "state"))
	assert.Equal(t, "", rc.str(t, "share_domain"))
	assert.EqualValues(t, 3600, rc.int(t, "ttl"))
	assert.EqualValues(t, 7200, rc.int(t, "metadata_ttl"))
	assert.EqualValues(t, 3600, rc.int(t, "secret_ttl"))
	created := e.clock.Now().Unix()
	assert.Equal(t, created, rc.int(t, "created"))
	assert.Equal(t, created, rc.int(t, "updated"))
	assert.Equal(t, "[]", string(rc.raw["recipient"]))
	assert.Equal(t, "false", string(rc.raw["passphrase_required"]))
	sk, mk := rc.str(t, "secret_key"), rc.str(t, "metadata_key")
	require.Regexp(t, keyRE, sk)
	require.Regexp(t, keyRE, mk)
	require.NotEqual(t, sk, mk)

	e.clock.Add(10 * time.Second)
	// The first read of the receipt answers the state before it, new, as
	// the reference does, and moves it to viewed: every later read, by
	// any alias and method, shows viewed, stamped at the first read.
	first := e.get("/api/v1/private/" + mk).ok(t)
	first.order(t, receiptKeys...)
	assert.Equal(t, "new", first.str(t, "state"))
	assert.Equal(t, created, first.int(t, "updated"))
	assert.Equal(t, sk, first.str(t, "secret_key"))
	assert.EqualValues(t, 3590, first.int(t, "secret_ttl"))
	for _, p := range []string{"private", "metadata", "receipt"} {
		for _, m := range []string{"GET", "POST"} {
			r := e.do(req{method: m, path: "/api/v1/" + p + "/" + mk}).ok(t)
			r.order(t, receiptKeys...)
			assert.Equal(t, "viewed", r.str(t, "state"), "%s %s", m, p)
			assert.Equal(t, sk, r.str(t, "secret_key"), "%s %s", m, p)
			assert.EqualValues(t, 3590, r.int(t, "secret_ttl"), "%s %s", m, p)
			assert.Equal(t, created+10, r.int(t, "updated"), "%s %s", m, p)
		}
	}

	e.clock.Add(5 * time.Second)
	r := e.post("/api/v1/secret/"+sk, "").ok(t)
	r.order(t, "value", "secret_key", "share_domain")
	assert.Equal(t, value, r.str(t, "value"))
	assert.Equal(t, sk, r.str(t, "secret_key"))
	assert.Equal(t, "", r.str(t, "share_domain"))
	e.post("/api/v1/secret/"+sk, "").fails(t, 404, unknown(sk))

	rc = e.get("/api/v1/private/" + mk).ok(t)
	rc.order(t, "custid", "metadata_key", "ttl", "metadata_ttl", "state", "updated", "created", "received", "recipient", "share_domain")
	assert.Equal(t, "received", rc.str(t, "state"))
	assert.Equal(t, created+15, rc.int(t, "received"))
	assert.Equal(t, created+15, rc.int(t, "updated"))
	assert.EqualValues(t, 3600, rc.int(t, "ttl"))
	assert.EqualValues(t, 7200-15, rc.int(t, "metadata_ttl"))
	// Burning a received secret fails; the metadata key is echoed as the
	// reference does.
	e.post("/api/v1/private/"+mk+"/burn", "").fails(t, 404, unknown(mk))
}

// TestGenerateReceiptViewed: the answer to generate says new, as the
// reference's does (v1-api.md), but its creator has seen the value, so the
// receipt reads viewed from its first read on.
func TestGenerateReceiptViewed(t *testing.T) {
	e := newEnv(t, nil, nil)
	rc := e.post("/api/v1/generate", "").ok(t)
	assert.Equal(t, "new", rc.str(t, "state"), "the answer to generate")
	r := e.get("/api/v1/private/" + rc.str(t, "metadata_key")).ok(t)
	assert.Equal(t, "viewed", r.str(t, "state"))
	assert.False(t, r.has("value"))
}

func TestUnknownKeys(t *testing.T) {
	// 37 unknown keys from one address: past the guess limit, which
	// TestGuessSecretKeys checks.
	e := newEnv(t, nil, &Options{GuessLimiter: access.NoGuessLimit})
	for _, k := range []string{"abc", "ABCDEF", "a%21b", strings.Repeat("a", 56), "x.y"} {
		dk, err := url.PathUnescape(k)
		require.NoError(t, err)
		e.post("/api/v1/secret/"+k, "").fails(t, 404, unknown(dk))
		// The receipt and burn routes echo the metadata key under
		// secret_key, as the reference does (spec, "Errors").
		e.get("/api/v1/private/"+k).fails(t, 404, unknown(dk))
		e.post("/api/v1/metadata/"+k, "").fails(t, 404, unknown(dk))
		e.get("/api/v1/receipt/"+k).fails(t, 404, unknown(dk))
		e.post("/api/v1/private/"+k+"/burn", "").fails(t, 404, unknown(dk))
		e.post("/api/v1/metadata/"+k+"/burn", "").fails(t, 404, unknown(dk))
		e.post("/api/v1/receipt/"+k+"/burn", "").fails(t, 404, unknown(dk))
	}
	// A key that is not valid JSON text as given is still echoed as JSON.
	e.post("/api/v1/secret/%22%3C", "").fails(t, 404, `{"message":"Unknown secret","secret_key":"\"\u003c"}`)
	e.get("/api/v1/private/%22%3C").fails(t, 404, `{"message":"Unknown secret","secret_key":"\"\u003c"}`)
}

func TestParameterSources(t *testing.T) {
	e := newEnv(t, nil, nil)
	check := func(t *testing.T, rc obj, value string, ttl int64) {
		t.Helper()
		require.Equal(t, ttl, rc.int(t, "ttl"), "ttl")
		r := e.post("/api/v1/secret/"+rc.str(t, "secret_key"), "").ok(t)
		require.Equal(t, value, r.str(t, "value"))
	}
	mp := func(fields ...string) (string, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for i := 0; i < len(fields); i += 2 {
			if fields[i] == "file:secret" {
				fw, _ := w.CreateFormFile("secret", "s.txt")
				fw.Write([]byte(fields[i+1]))
				continue
			}
			w.WriteField(fields[i], fields[i+1])
		}
		w.Close()
		return w.FormDataContentType(), b.String()
	}
	cases := []struct {
		name  string
		r     req
		value string
		ttl   int64
	}{
		{"query on POST", req{path: "/api/v1/share?secret=q%20v&ttl=600"}, "q v", 600},
		{"form", req{path: "/api/v1/share", ctype: "application/x-www-form-urlencoded", body: "secret=f+v&ttl=700"}, "f v", 700},
		{"form charset", req{path: "/api/v1/share", ctype: "application/x-www-form-urlencoded; charset=UTF-8", body: "secret=f&ttl=701"}, "f", 701},
		{"form without Content-Type", req{path: "/api/v1/share", body: "secret=n%0A&ttl=800"}, "n\n", 800},
		{"form as text/plain", req{path: "/api/v1/share", ctype: "text/plain", body: "secret=t&ttl=801"}, "t", 801},
		{"json", req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":"j\n","ttl":900}`}, "j\n", 900},
		{"json numeric string", req{path: "/api/v1/share", ctype: "application/json; charset=utf-8", body: `{"secret":"j","ttl":"901"}`}, "j", 901},
		{"json float", req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":"j","ttl":9.02e2}`}, "j", 902},
		{"json without Content-Type", req{path: "/api/v1/share", body: ` {"secret":"s","ttl":903}`}, "s", 903},
		{"json as text/plain", req{path: "/api/v1/share", ctype: "text/plain;charset=UTF-8", body: `{"secret":"s","ttl":904}`}, "s", 904},
		{"json number secret", req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":12345}`}, "12345", 604800},
		{"body wins over query", req{path: "/api/v1/share?secret=q&ttl=100", body: "secret=b&ttl=200"}, "b", 200},
		{"query fills in", req{path: "/api/v1/share?ttl=300", body: "secret=b"}, "b", 300},
		{"json wins over query", req{path: "/api/v1/share?secret=q&ttl=100", ctype: "application/json", body: `{"secret":"b"}`}, "b", 100},
		{"empty body value is absent", req{path: "/api/v1/share?ttl=300", body: "secret=b&ttl="}, "b", 300},
		{"ttl=0 is absent", req{path: "/api/v1/share", body: "secret=b&ttl=0"}, "b", 604800},
		{"json null ttl", req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":"b","ttl":null}`}, "b", 604800},
		{"ttl spaces", req{path: "/api/v1/share", body: "secret=b&ttl=+400+"}, "b", 400},
		{"ttl below minimum", req{path: "/api/v1/share", body: "secret=b&ttl=5"}, "b", 60},
		{"ttl negative", req{path: "/api/v1/share", body: "secret=b&ttl=-5000"}, "b", 60},
		{"ttl above maximum", req{path: "/api/v1/share", body: "secret=b&ttl=99999999"}, "b", 604800},
		{"ttl beyond int64", req{path: "/api/v1/share", body: "secret=b&ttl=999999999999999999999999999"}, "b", 604800},
		{"ttl 1e30", req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":"b","ttl":1e30}`}, "b", 604800},
		{"create alias", req{path: "/api/v1/create", body: "secret=c&ttl=500"}, "c", 500},
		// Rack, under the reference service, reads an empty multipart body
		// (with or without a boundary) as no parameters.
		{"query with an empty multipart body", req{path: "/api/v1/share?secret=q&ttl=501", ctype: "multipart/form-data; boundary=xyz"}, "q", 501},
		// Rack splits pairs on '&' only: a ';' is part of a value.
		{"semicolon in a form value", req{path: "/api/v1/share", body: "secret=Server=db;Password=x&ttl=503"}, "Server=db;Password=x", 503},
		{"semicolon in the query", req{path: "/api/v1/share?secret=a;b&ttl=504"}, "a;b", 504},
		{"broken escape in a name not read", req{path: "/api/v1/share?utm%zz=1&x=%zz&secret=q&ttl=505"}, "q", 505},
		{"query with an empty multipart body, no boundary", req{path: "/api/v1/share?secret=q&ttl=502", ctype: "multipart/form-data"}, "q", 502},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.r.method = "POST"
			check(t, e.do(c.r).ok(t), c.value, c.ttl)
		})
	}
	t.Run("multipart", func(t *testing.T) {
		ct, body := mp("secret", "m\r\nv", "ttl", "1000", "ignored", "x")
		check(t, e.do(req{method: "POST", path: "/api/v1/share?ttl=5", ctype: ct, body: body}).ok(t), "m\r\nv", 1000)
	})
	t.Run("multipart file", func(t *testing.T) {
		ct, body := mp("file:secret", "from a file\n", "ttl", "1001")
		check(t, e.do(req{method: "POST", path: "/api/v1/create", ctype: ct, body: body}).ok(t), "from a file\n", 1001)
	})
	t.Run("empty passphrase is none", func(t *testing.T) {
		rc := e.share("secret=x&passphrase=")
		require.Equal(t, "false", string(rc.raw["passphrase_required"]))
		check(t, rc, "x", 604800)
	})
}

func TestShareErrors(t *testing.T) {
	e := newEnv(t, &onetime.Options{MaxSize: 100, MinPassphraseLen: 4}, nil)
	const nothing = `{"message":"You did not provide anything to share"}`
	const tooLarge = `{"message":"Secret value exceeds the maximum size of 100 bytes"}`
	for _, c := range []struct {
		r        req
		intended int
		body     string
	}{
		{req{path: "/api/v1/share"}, 400, nothing},
		{req{path: "/api/v1/share", body: "secret="}, 400, nothing},
		{req{path: "/api/v1/share?secret=", ctype: "application/json"}, 400, nothing},
		{req{path: "/api/v1/share", ctype: "application/json", body: "{}"}, 400, nothing},
		{req{path: "/api/v1/share", ctype: "application/json", body: " \n"}, 400, nothing},
		{req{path: "/api/v1/share", ctype: "application/json", body: "null"}, 400, nothing},
		{req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":""}`}, 400, nothing},
		{req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":{"a":1}}`}, 400, nothing},
		{req{path: "/api/v1/share", body: "secret=x&ttl=abc"}, 400, `{"message":"Invalid TTL"}`},
		{req{path: "/api/v1/share", body: "secret=x&ttl=1.5"}, 400, `{"message":"Invalid TTL"}`},
		{req{path: "/api/v1/share", body: "secret=x&ttl=0x10"}, 400, `{"message":"Invalid TTL"}`},
		{req{path: "/api/v1/share?ttl=1h", body: "secret=x"}, 400, `{"message":"Invalid TTL"}`},
		{req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":"x","ttl":true}`}, 400, `{"message":"Invalid TTL"}`},
		{req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":"x","ttl":"NaN"}`}, 400, `{"message":"Invalid TTL"}`},
		{req{path: "/api/v1/share", body: "secret=x&passphrase=abc"}, 400, `{"message":"Passphrase must be at least 4 characters long"}`},
		{req{path: "/api/v1/share", body: "secret=x&passphrase=" + strings.Repeat("p", 129)}, 400, `{"message":"Passphrase must be at most 128 characters long"}`},
		{req{path: "/api/v1/share", body: "secret=x&recipient=a%40example.com"}, 400, `{"message":"An account is required to send emails."}`},
		{req{path: "/api/v1/share", body: "secret=" + strings.Repeat("x", 101)}, 413, tooLarge},
		{req{path: "/api/v1/share", body: "secret=" + strings.Repeat("é", 51)}, 413, tooLarge},     // bytes, not characters
		{req{path: "/api/v1/share", body: "secret=" + strings.Repeat("x", 400000)}, 413, tooLarge}, // beyond the body bound
		{req{path: "/api/v1/share", body: "secret=%FF%FE"}, 400, `{"message":"Secret value must be UTF-8 text"}`},
		{req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":`}, 400, `{"message":"Invalid request body"}`},
		{req{path: "/api/v1/share", ctype: "application/json", body: `["secret"]`}, 400, `{"message":"Invalid request body"}`},
		{req{path: "/api/v1/share", ctype: "application/json", body: `{"secret":"a"} {}`}, 400, `{"message":"Invalid request body"}`},
		{req{path: "/api/v1/share", ctype: "multipart/form-data", body: `x`}, 400, `{"message":"Invalid request body"}`},
		// A broken escape used to drop the pair: the secret was stored
		// without the passphrase its sender meant to set.
		{req{path: "/api/v1/share", body: "secret=x&passphrase=100%pure"}, 400, `{"message":"Invalid request body"}`},
		{req{path: "/api/v1/share?secret=x&passphrase=100%pure"}, 400, `{"message":"Invalid query string"}`},
		{req{path: "/api/v1/generate", body: "length=abc"}, 400, `{"message":"Invalid length"}`},
		{req{path: "/api/v1/generate", body: "ttl=x"}, 400, `{"message":"Invalid TTL"}`},
		{req{path: "/api/v1/generate?recipient[]=a%40example.com"}, 400, `{"message":"An account is required to send emails."}`},
	} {
		c.r.method = "POST"
		r := e.do(c.r)
		t.Run(c.r.path+" "+c.r.body[:min(len(c.r.body), 30)], func(t *testing.T) { r.fails(t, c.intended, c.body) })
	}
	// Exactly the maximum is fine.
	e.share("secret=" + strings.Repeat("x", 100))
}

func TestGenerate(t *testing.T) {
	e := newEnv(t, nil, nil)
	for _, c := range []struct {
		params string
		length int
	}{{"", 12}, {"length=20", 20}, {"length=200", 128}, {"length=2", 4}, {"length=0", 4}, {"length=-3", 4}, {"length=", 12}} {
		rc := e.post("/api/v1/generate?"+c.params, "").ok(t)
		rc.order(t, "custid", "metadata_key", "secret_key", "ttl", "metadata_ttl", "secret_ttl",
			"state", "updated", "created", "recipient", "share_domain", "value", "passphrase_required")
		v := rc.str(t, "value")
		require.Len(t, v, c.length, c.params)
		assert.Equal(t, "new", rc.str(t, "state"), "the answer to generate says new")
		r := e.post("/api/v1/secret/"+rc.str(t, "secret_key"), "").ok(t)
		require.Equal(t, v, r.str(t, "value"), "generated value reveals")
	}
	// JSON body, and generate's receipt read later has no value.
	rc := e.do(req{method: "POST", path: "/api/v1/generate", ctype: "application/json", body: `{"length":"16","ttl":120}`}).ok(t)
	require.Len(t, rc.str(t, "value"), 16)
	require.EqualValues(t, 120, rc.int(t, "ttl"))
	require.False(t, e.get("/api/v1/receipt/"+rc.str(t, "metadata_key")).ok(t).has("value"), "receipt carries value")
}

func TestPassphrase(t *testing.T) {
	e := newEnv(t, nil, nil)
	rc := e.share("secret=s3cr3t&passphrase=open+sesame")
	require.Equal(t, "true", string(rc.raw["passphrase_required"]))
	sk := rc.str(t, "secret_key")
	e.post("/api/v1/secret/"+sk, "").fails(t, 404, unknown(sk))
	e.post("/api/v1/secret/"+sk, "passphrase=wrong").fails(t, 404, unknown(sk))
	e.post("/api/v1/secret/"+sk+"?passphrase=open", "").fails(t, 404, unknown(sk))
	// Right passphrase in a JSON body; the one in the query loses.
	r := e.do(req{method: "POST", path: "/api/v1/secret/" + sk + "?passphrase=x", ctype: "application/json", body: `{"passphrase":"open sesame"}`}).ok(t)
	require.Equal(t, "s3cr3t", r.str(t, "value"))

	// A shell client's unencoded ';' (curl -d 'passphrase=a;b') is part
	// of the passphrase, as in the reference service; it used to drop the
	// pair and store the secret unprotected.
	rc = e.share("secret=guarded&passphrase=a;b")
	require.Equal(t, "true", string(rc.raw["passphrase_required"]), "passphrase dropped")
	sk = rc.str(t, "secret_key")
	e.post("/api/v1/secret/"+sk, "passphrase=a").fails(t, 404, unknown(sk))
	require.Equal(t, "guarded", e.post("/api/v1/secret/"+sk, "passphrase=a;b").ok(t).str(t, "value"))
}

func TestBurn(t *testing.T) {
	e := newEnv(t, nil, nil)
	for _, base := range []string{"private", "metadata", "receipt"} {
		rc := e.share("secret=burn+me&passphrase=pw")
		sk, mk := rc.str(t, "secret_key"), rc.str(t, "metadata_key")
		e.clock.Add(time.Second)
		r := e.post("/api/v1/"+base+"/"+mk+"/burn", "").ok(t)
		r.order(t, "state", "secret_shortkey")
		require.Equal(t, sk[:6], r.str(t, "secret_shortkey"))
		st := parseObj(t, r.raw["state"])
		st.order(t, "custid", "metadata_key", "secret_key", "ttl", "metadata_ttl", "secret_ttl",
			"state", "updated", "created", "recipient", "share_domain")
		assert.Equal(t, "burned", st.str(t, "state"))
		assert.Equal(t, "", st.str(t, "secret_key"))
		assert.Equal(t, "null", string(st.raw["secret_ttl"]))
		e.post("/api/v1/"+base+"/"+mk+"/burn", "").fails(t, 404, unknown(mk))
		e.post("/api/v1/secret/"+sk, "passphrase=pw").fails(t, 404, unknown(sk))
		got := e.get("/api/v1/" + base + "/" + mk).ok(t)
		assert.Equal(t, "burned", got.str(t, "state"), "receipt after burn")
	}
}

func TestExpired(t *testing.T) {
	e := newEnv(t, nil, nil)
	rc := e.share("secret=x&ttl=60&passphrase=p")
	e.clock.Add(61 * time.Second)
	r := e.get("/api/v1/private/" + rc.str(t, "metadata_key")).ok(t)
	r.order(t, "custid", "metadata_key", "secret_key", "ttl", "metadata_ttl", "secret_ttl",
		"state", "updated", "created", "recipient", "share_domain")
	assert.Equal(t, "expired", r.str(t, "state"))
	assert.Equal(t, "", r.str(t, "secret_key"))
	assert.Equal(t, "null", string(r.raw["secret_ttl"]))
	assert.EqualValues(t, 59, r.int(t, "metadata_ttl"))
	e.post("/api/v1/secret/"+rc.str(t, "secret_key"), "passphrase=p").fails(t, 404, unknown(rc.str(t, "secret_key")))
	e.clock.Add(60 * time.Second)
	e.get("/api/v1/private/"+rc.str(t, "metadata_key")).fails(t, 404, unknown(rc.str(t, "metadata_key")))
}

func TestAuth(t *testing.T) {
	t.Run("no authenticator", func(t *testing.T) {
		e := newEnv(t, nil, nil)
		for _, p := range []string{"/api/v1/status", "/api/v1/authcheck"} {
			e.do(req{method: "GET", path: p, user: "alice", pass: "alicetoken"}).fails(t, 401, unauth)
		}
		e.get("/api/v1/authcheck").fails(t, 401, unauth)
		e.get("/api/v1/private/recent").fails(t, 401, unauth)
	})
	// Some 70 bad credentials from one address: past the guess limit,
	// which TestGuessTokens checks.
	e := newEnv(t, nil, &Options{Auth: access.NewBasicAuth(testUsers), GuessLimiter: access.NoGuessLimit})
	alice := func(r req) req { r.user, r.pass = "alice", "alicetoken"; return r }
	require.Equal(t, nominalBody, string(e.do(alice(req{method: "GET", path: "/api/v1/authcheck"})).body))
	for name, h := range map[string]string{
		"wrong token":    "Basic " + b64("alice:bobtoken"),
		"unknown user":   "Basic " + b64("carol:alicetoken"),
		"empty token":    "Basic " + b64("alice:"),
		"no colon":       "Basic " + b64("alice"),
		"bad base64":     "Basic !!!",
		"bearer":         "Bearer alicetoken",
		"empty header":   "",
		"scheme only":    "Basic",
		"token and more": "Basic " + b64("alice:alicetoken") + " x",
	} {
		for _, p := range []struct{ m, path string }{
			{"GET", "/api/v1/status"}, {"GET", "/api/v1/authcheck"}, {"POST", "/api/v1/share?secret=x"},
			{"POST", "/api/v1/generate"}, {"POST", "/api/v1/secret/abc"}, {"GET", "/api/v1/private/abc"},
			{"POST", "/api/v1/private/abc/burn"}, {"GET", "/api/v1/private/recent"},
		} {
			want := unauth
			if strings.Contains(p.path, "/abc") { // a keyed route echoes its key
				want = `{"message":"Not authorized","secret_key":"abc"}`
			}
			t.Run(name+" "+p.m+" "+p.path, func(t *testing.T) {
				e.do(req{method: p.m, path: p.path, header: map[string]string{"Authorization": h}}).fails(t, 401, want)
			})
		}
	}
	e.get("/api/v1/authcheck").fails(t, 401, unauth)
	e.get("/api/v1/private/recent").fails(t, 401, unauth)

	// Customers own what they create, get the longer maximum TTL and a list.
	var mks []string
	for i := 0; i < 3; i++ {
		rc := e.do(alice(req{method: "POST", path: "/api/v1/share", body: fmt.Sprintf("secret=v%d&ttl=2000000", i)})).ok(t)
		require.Equal(t, "alice", rc.str(t, "custid"))
		require.EqualValues(t, 2000000, rc.int(t, "ttl"))
		mks = append(mks, rc.str(t, "metadata_key"))
		if i == 1 {
			e.clock.Add(time.Second)
		}
	}
	e.do(req{method: "POST", path: "/api/v1/share", body: "secret=anon"}).ok(t)
	e.do(req{method: "POST", path: "/api/v1/share", body: "secret=bob", user: "bob", pass: "bobtoken"}).ok(t)
	for _, c := range []struct{ m, p string }{{"GET", "private"}, {"POST", "private"}, {"GET", "metadata"}, {"GET", "receipt"}} {
		r := e.do(alice(req{method: c.m, path: "/api/v1/" + c.p + "/recent"}))
		list := parseArray(t, r.body)
		require.Equal(t, 200, r.status, "%s %s recent", c.m, c.p)
		require.Len(t, list, 3, "%s %s recent", c.m, c.p)
		for i, o := range list {
			o.order(t, "custid", "metadata_key", "ttl", "metadata_ttl", "secret_ttl", "state", "updated", "created", "recipient", "share_domain")
			assert.Equal(t, mks[2-i], o.str(t, "metadata_key"), "recent[%d]", i)
			assert.Equal(t, "null", string(o.raw["secret_ttl"]), "recent[%d]", i)
			assert.Equal(t, "alice", o.str(t, "custid"), "recent[%d]", i)
		}
	}
	r := e.do(req{method: "GET", path: "/api/v1/private/recent", user: "carol2", pass: "x"})
	r.fails(t, 401, unauth)
	require.Len(t, parseArray(t, e.do(req{method: "GET", path: "/api/v1/private/recent", user: "bob", pass: "bobtoken"}).body), 1, "bob's list")
	// Metadata key is the capability by default: anyone may read alice's receipt.
	e.get("/api/v1/private/" + mks[0]).ok(t)
}

func TestEmptyRecent(t *testing.T) {
	e := newEnv(t, nil, &Options{Auth: access.NewBasicAuth(testUsers)})
	r := e.do(req{method: "GET", path: "/api/v1/private/recent", user: "bob", pass: "bobtoken"})
	require.Equal(t, 200, r.status)
	require.Equal(t, "[]", string(r.body))
}

func TestRequireAuthToCreate(t *testing.T) {
	e := newEnv(t, nil, &Options{Auth: access.NewBasicAuth(testUsers), RequireAuthToCreate: true})
	e.post("/api/v1/share", "secret=x").fails(t, 401, unauth)
	e.post("/api/v1/create", "secret=x").fails(t, 401, unauth)
	e.post("/api/v1/generate", "").fails(t, 401, unauth)
	rc := e.do(req{method: "POST", path: "/api/v1/share", body: "secret=x", user: "bob", pass: "bobtoken"}).ok(t)
	// Reading and revealing stay anonymous.
	e.get("/api/v1/private/" + rc.str(t, "metadata_key")).ok(t)
	e.post("/api/v1/secret/"+rc.str(t, "secret_key"), "").ok(t)
	e.get("/api/v1/status").ok(t)
}

func TestRestrictReceipts(t *testing.T) {
	e := newEnv(t, &onetime.Options{RestrictReceipts: true}, &Options{Auth: access.NewBasicAuth(testUsers)})
	rc := e.do(req{method: "POST", path: "/api/v1/share", body: "secret=x", user: "alice", pass: "alicetoken"}).ok(t)
	mk := rc.str(t, "metadata_key")
	e.get("/api/v1/private/"+mk).fails(t, 404, unknown(mk))
	e.do(req{method: "GET", path: "/api/v1/private/" + mk, user: "bob", pass: "bobtoken"}).fails(t, 404, unknown(mk))
	e.do(req{method: "POST", path: "/api/v1/private/" + mk + "/burn", user: "bob", pass: "bobtoken"}).fails(t, 404, unknown(mk))
	e.post("/api/v1/private/"+mk+"/burn", "").fails(t, 404, unknown(mk))
	// The refused reads did not move the receipt: the owner's first read
	// still answers new, the next viewed.
	r := e.do(req{method: "GET", path: "/api/v1/private/" + mk, user: "alice", pass: "alicetoken"}).ok(t)
	assert.Equal(t, "new", r.str(t, "state"), "owner's first read")
	r = e.do(req{method: "GET", path: "/api/v1/private/" + mk, user: "alice", pass: "alicetoken"}).ok(t)
	assert.Equal(t, "viewed", r.str(t, "state"), "owner's second read")
	r = e.do(req{method: "POST", path: "/api/v1/private/" + mk + "/burn", user: "alice", pass: "alicetoken"}).ok(t)
	assert.Equal(t, "burned", parseObj(t, r.raw["state"]).str(t, "state"), "owner burn")
	// Anonymous receipts stay readable by their key.
	anon := e.share("secret=y")
	e.get("/api/v1/private/" + anon.str(t, "metadata_key")).ok(t)
}

func TestMaxTTLAndShareDomain(t *testing.T) {
	e := newEnv(t, nil, &Options{
		Auth: access.NewBasicAuth(testUsers),
		MaxTTL: func(c string) time.Duration {
			if c == "bob" {
				return time.Hour
			}
			return 0
		},
		ShareDomain:  "secrets.example.com",
		ShareDomains: []string{"other.example.org"},
	})
	bob := e.do(req{method: "POST", path: "/api/v1/share", body: "secret=x&ttl=99999", user: "bob", pass: "bobtoken"}).ok(t)
	assert.EqualValues(t, 3600, bob.int(t, "ttl"))
	assert.Equal(t, "secrets.example.com", bob.str(t, "share_domain"))
	alice := e.do(req{method: "POST", path: "/api/v1/share", body: "secret=x&ttl=99999&share_domain=OTHER.example.org", user: "alice", pass: "alicetoken"}).ok(t)
	assert.EqualValues(t, 99999, alice.int(t, "ttl"))
	assert.Equal(t, "other.example.org", alice.str(t, "share_domain"))
	anon := e.share("secret=x&share_domain=evil.example")
	assert.Equal(t, "secrets.example.com", anon.str(t, "share_domain"), "unlisted share_domain honoured")
	r := e.post("/api/v1/secret/"+alice.str(t, "secret_key"), "").ok(t)
	assert.Equal(t, "other.example.org", r.str(t, "share_domain"), "reveal share_domain")
}

func TestIntendedStatus(t *testing.T) {
	e := newEnv(t, &onetime.Options{MaxSize: 10}, &Options{IntendedStatus: true, Auth: access.NewBasicAuth(testUsers),
		RateLimiter: newCountLimiter(8)})
	for _, c := range []struct {
		r      req
		status int
	}{
		{req{method: "GET", path: "/api/v1/nope"}, 404},
		{req{method: "POST", path: "/api/v1/secret/abc"}, 404},
		{req{method: "GET", path: "/api/v1/authcheck"}, 401},
		{req{method: "POST", path: "/api/v1/share"}, 400},
		{req{method: "POST", path: "/api/v1/share", body: "secret=12345678901"}, 413},
		{req{method: "POST", path: "/api/v1/share", body: "secret=x&ttl=y"}, 400},
	} {
		r := e.do(c.r)
		assert.Equal(t, c.status, r.status, "%s %s", c.r.method, c.r.path)
		assert.Equal(t, itoa(c.status), r.header.Get("X-OTS-Intended-Status"), "%s %s", c.r.method, c.r.path)
		if c.status == 401 {
			assert.True(t, strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic "), "401 without WWW-Authenticate")
		}
	}
	e.get("/api/v1/authcheck")
	e.get("/api/v1/authcheck")
	r := e.get("/api/v1/authcheck")
	require.Equal(t, 429, r.status)
	require.Equal(t, `{"message":"Cripes! You have been rate limited."}`, string(r.body))
	// The health check is never limited.
	e.get("/api/v1/status").ok(t)
}

func TestRecipients(t *testing.T) {
	e := newEnv(t, nil, &Options{Auth: access.NewBasicAuth(testUsers)})
	r := e.do(req{method: "POST", path: "/api/v1/share?recipient=ignored%40example.com",
		body: "secret=x&recipient=delano%40example.com&recipient[]=bob.smith%40mail.example.org&recipient=",
		user: "alice", pass: "alicetoken"}).ok(t)
	require.Equal(t, `["de*****@e*****.com","bo*****@m*****.org"]`, string(r.raw["recipient"]))
	require.NoError(t, e.svc.Close()) // sends the queued notifications
	require.Len(t, e.notes.ns, 2)
	assert.Equal(t, "delano@example.com", e.notes.ns[0].Recipient)
	assert.Equal(t, "bob.smith@mail.example.org", e.notes.ns[1].Recipient)
	assert.Equal(t, onetime.SecretKey(r.str(t, "secret_key")), e.notes.ns[0].SecretKey)
	assert.Equal(t, "alice", e.notes.ns[0].Owner)
	require.Equal(t, `["de*****@e*****.com","bo*****@m*****.org"]`,
		string(e.get("/api/v1/private/" + r.str(t, "metadata_key")).ok(t).raw["recipient"]), "receipt recipient")
	j := e.do(req{method: "POST", path: "/api/v1/generate", ctype: "application/json",
		body: `{"recipient":["a1@example.com",""]}`, user: "alice", pass: "alicetoken"}).ok(t)
	require.Equal(t, `["a1*****@e*****.com"]`, string(j.raw["recipient"]), "json recipients")
	e.do(req{method: "POST", path: "/api/v1/share", body: "secret=x&recipient=not-an-address", user: "alice", pass: "alicetoken"}).
		fails(t, 400, `{"message":"Invalid recipient address"}`)
	many := "secret=x"
	for i := 0; i < 11; i++ {
		many += fmt.Sprintf("&recipient=r%d%%40example.com", i)
	}
	e.do(req{method: "POST", path: "/api/v1/share", body: many, user: "alice", pass: "alicetoken"}).
		fails(t, 400, `{"message":"At most 10 recipients are allowed"}`)
}

func TestRateLimitPerClient(t *testing.T) {
	e := newEnv(t, nil, &Options{RateLimiter: newCountLimiter(2), ClientIPHeader: "X-Forwarded-For", TrustedProxies: loopbackProxy})
	from := func(ip string) req {
		return req{method: "POST", path: "/api/v1/secret/abc", header: map[string]string{"X-Forwarded-For": "10.9.9.9, " + ip}}
	}
	for i := 0; i < 2; i++ {
		e.do(from("192.0.2.1")).fails(t, 404, unknown("abc"))
	}
	e.do(from("192.0.2.1")).fails(t, 429, `{"message":"Cripes! You have been rate limited.","secret_key":"abc"}`)
	e.do(from("192.0.2.2")).fails(t, 404, unknown("abc"))
	// One IPv6 subscriber's /64 is one client.
	e.do(from("2001:db8::1")).fails(t, 404, unknown("abc"))
	e.do(from("2001:db8::2")).fails(t, 404, unknown("abc"))
	e.do(from("2001:db8::3")).fails(t, 429, `{"message":"Cripes! You have been rate limited.","secret_key":"abc"}`)
	e.get("/api/v1/status").ok(t)
}

func TestRateLimitConnectionAddress(t *testing.T) {
	// Without ClientIPHeader the header is not trusted.
	e := newEnv(t, nil, &Options{RateLimiter: newCountLimiter(1)})
	e.do(req{method: "GET", path: "/api/v1/nope", header: map[string]string{"X-Forwarded-For": "1.1.1.1"}}).fails(t, 404, nf)
	e.do(req{method: "GET", path: "/api/v1/nope", header: map[string]string{"X-Forwarded-For": "2.2.2.2"}}).fails(t, 429, `{"message":"Cripes! You have been rate limited."}`)
}

type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string) (bool, error) { return false, errors.New("down") }

func TestRateLimiterDownLetsThrough(t *testing.T) {
	e := newEnv(t, nil, &Options{RateLimiter: failingLimiter{}})
	e.share("secret=x")
}

// brokenStore fails every write with an error that must not leak.
type brokenStore struct{ *memory.Store }

func (brokenStore) Create(context.Context, *onetime.SealedSecret, *onetime.SealedMetadata) error {
	return errors.New("disk on fire at /var/secret/path")
}

func (brokenStore) View(context.Context, onetime.ID, time.Time) (*onetime.SealedMetadata, error) {
	panic("boom with details")
}

func TestUnexpected(t *testing.T) {
	svc, err := onetime.New(brokenStore{memory.New()}, testSecret, nil)
	require.NoError(t, err)
	defer svc.Close()
	var logs bytes.Buffer
	h, err := New(svc, &Options{Logger: jsonLogger(&logs)})
	require.NoError(t, err)
	e := &env{t: t}
	e.srv = newTestServer(h)
	defer e.srv.Close()
	e.post("/api/v1/share", "secret=x").fails(t, 500, `{"message":"An unexpected error occurred"}`)
	e.get("/api/v1/private/"+strings.Repeat("a", onetime.KeyLen)).fails(t, 500, `{"message":"An unexpected error occurred"}`)
	assert.Contains(t, logs.String(), "disk on fire")
	assert.NotContains(t, logs.String(), "boom with details")

	auth := access.AuthenticatorFunc(func(*http.Request) (string, error) { return "", errors.New("db down") })
	h, err = New(svc, &Options{Logger: discardLogger(), Auth: auth})
	require.NoError(t, err)
	srv := newTestServer(h)
	defer srv.Close()
	e.srv = srv
	e.get("/api/v1/status").fails(t, 500, `{"message":"An unexpected error occurred"}`)
}
