package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/onetimetest"
)

func TestParseTTL(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90":      90 * time.Second,
		"90s":     90 * time.Second,
		"1h":      time.Hour,
		"7d":      7 * 24 * time.Hour,
		"1d12h":   36 * time.Hour,
		"2d30m":   48*time.Hour + 30*time.Minute,
		" 15m ":   15 * time.Minute,
		"0":       0,
		"1h30m5s": time.Hour + 30*time.Minute + 5*time.Second,
	} {
		got, err := parseTTL(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "d", "-1", "-1h", "1d-2h", "xd", "1w", "soon", "366d", "99999999999"} {
		_, err := parseTTL(in)
		assert.Error(t, err, in)
	}
}

func TestBaseOf(t *testing.T) {
	for in, want := range map[string]string{
		"https://ots.example.com/secret/abc":        "https://ots.example.com",
		"https://ots.example.com/private/abc/":      "https://ots.example.com",
		"http://127.0.0.1:7143/receipt/abc":         "http://127.0.0.1:7143",
		"https://example.com/ots/metadata/abc":      "https://example.com/ots",
		"https://example.com/ots/api/v1/secret/abc": "https://example.com/ots",
		"https://example.com/private/abc/burn":      "https://example.com",
		"abc":                                       "",
		"https://example.com/abc":                   "",
		"ftp://example.com/secret/abc":              "",
		"":                                          "",
	} {
		assert.Equal(t, want, baseOf(in), in)
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Unknown secret":             "Unknown secret",
		"ünï 秘密 \\ \"q\"":            "ünï 秘密 \\ \"q\"",
		"\x1b[2J\x1b]0;pwned\x07red": `\x1b[2J\x1b]0;pwned\ared`,
		"tab\there\nnewline\r":       `tab\there\nnewline\r`,
		"\u009b31m C1":               `\u009b31m C1`,
		"\u202eevil":                 `\u202eevil`,
		"bad \xff\xfe utf-8":         `bad \xff\xfe utf-8`,
		"\x7f":                       `\x7f`,
		"\ufffd valid":               "\ufffd valid",
	} {
		assert.Equal(t, want, printable(in), "%q", in)
	}
}

func TestEscapeJSON(t *testing.T) {
	for _, in := range []string{
		`{"a":"plain","b":[1,2]}`,
		"{\n\t\"a\": \"x\u009by\",\r\n \"b\": \"\u202e\U0001F511\u2028\"}",
		`{"value":"é"}`,
	} {
		out := escapeJSON([]byte(in))
		var want, got any
		require.NoError(t, json.Unmarshal([]byte(in), &want))
		require.NoError(t, json.Unmarshal(out, &got), "%s", out)
		assert.Equal(t, want, got, "the same JSON")
		assert.Equal(t, printable(strings.NewReplacer("\n", "", "\r", "", "\t", "").Replace(string(out))),
			strings.NewReplacer("\n", "", "\r", "", "\t", "").Replace(string(out)), "only printable characters")
	}
	assert.Equal(t, `{"a":"\u009b"}`, string(escapeJSON([]byte("{\"a\":\"\u009b\"}"))))
	assert.Equal(t, `{"a":"\ufffd"}`, string(escapeJSON([]byte("{\"a\":\"\xff\"}"))))
}

// result is what one run of the command did.
type result struct {
	stdout, stderr string
	code           int
}

// harness runs the command against a server at base: in process
// (inProcess) or as a built binary (the end-to-end test).
type harness struct {
	base string
	exec func(t *testing.T, stdin string, env []string, args ...string) result
}

func (h *harness) run(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	return h.exec(t, stdin, env, args...)
}

// ok runs the command, requires exit status 0 and nothing on standard
// error, and returns its output.
func (h *harness) ok(t *testing.T, stdin string, env []string, args ...string) string {
	t.Helper()
	r := h.run(t, stdin, env, args...)
	require.Equal(t, 0, r.code, "onetime %s: stderr: %s", strings.Join(args, " "), r.stderr)
	assert.Empty(t, r.stderr)
	return r.stdout
}

// fails runs the command and requires the exit status code, a message
// on standard error and nothing on standard output.
func (h *harness) fails(t *testing.T, code int, stdin string, env []string, args ...string) string {
	t.Helper()
	r := h.run(t, stdin, env, args...)
	require.Equal(t, code, r.code, "onetime %s: stdout %q, stderr %q", strings.Join(args, " "), r.stdout, r.stderr)
	assert.Empty(t, r.stdout)
	require.True(t, strings.HasPrefix(r.stderr, "onetime: "), r.stderr)
	return r.stderr
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

var alice = []string{"ONETIME_CUSTID=alice", "ONETIME_TOKEN=alicetoken"}

// inProcess runs the command in this process, with only the environment
// variables env and a file holding stdin as its standard input. There is
// no terminal: a prompt fails as it does in a session without one.
func inProcess(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	in := stdinFile(t, stdin)
	var out, errb bytes.Buffer
	code := run(context.Background(), args, system{
		getenv: envOf(env), stdin: in, stdout: &out, stderr: &errb,
		openTTY: func() (*os.File, error) { return nil, errors.New("no terminal") },
	})
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// envOf returns a getenv of the KEY=VALUE list env.
func envOf(env []string) func(string) string {
	return func(key string) string {
		for _, kv := range env {
			if k, v, _ := strings.Cut(kv, "="); k == key {
				return v
			}
		}
		return ""
	}
}

// stdinFile returns a file holding s, open for reading.
func stdinFile(t *testing.T, s string) *os.File {
	t.Helper()
	name := filepath.Join(t.TempDir(), "stdin")
	require.NoError(t, os.WriteFile(name, []byte(s), 0o600))
	f, err := os.Open(name)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// startAPI serves httpapi in process, on a Service on the memory store,
// with the customer alice, and returns its base URL.
func startAPI(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	svc, _ := onetimetest.NewService(t, &onetime.Options{KDFConcurrency: 1})
	api, err := httpapi.New(svc, &httpapi.Options{Auth: access.NewBasicAuth(map[string]string{"alice": "alicetoken"})})
	require.NoError(t, err)
	var h http.Handler = api
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestCommands runs every command against httpapi in process.
func TestCommands(t *testing.T) {
	e := &harness{base: startAPI(t, nil), exec: inProcess}
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
		dir := t.TempDir()
		file := filepath.Join(dir, "value.txt")
		value := "line one\nligne deux ünï 秘密\r\n\tno newline at the end"
		require.NoError(t, os.WriteFile(file, []byte(value), 0o600))
		link := strings.TrimSpace(e.ok(t, "", url, "share", file))
		assert.Equal(t, value, e.ok(t, "", url, "get", "-n", link), "-n adds nothing")

		link = strings.TrimSpace(e.ok(t, "", url, "share", file, "-ttl", "1h"))
		assert.Equal(t, value+"\n", e.ok(t, "", url, "get", link), "a newline is added when the value has none")

		link = strings.TrimSpace(e.ok(t, value, url, "share", "-"))
		assert.Equal(t, value, e.ok(t, "", url, "get", link, "-n"))

		msg := e.fails(t, 3, "", url, "share", filepath.Join(dir, "missing"))
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

		// No terminal to prompt on; the link is still there.
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
		// The receipt knows the link without its '#' key: only the
		// sender's copy has it.
		bare, _, _ := strings.Cut(link, "#")
		assert.Contains(t, out, "link:       "+bare+"\n")
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
		assert.Equal(t, "new", m["state"], "the answer to generate says new (the v1 spec)")
	})

	t.Run("RecentNeedsCredentials", func(t *testing.T) {
		env := append(append([]string{}, url...), alice...)
		// The server cannot mail a zero-knowledge link: -plain.
		msg := e.fails(t, 2, "for ops", env, "share", "-v", "-recipient", "ops@example.com")
		assert.Contains(t, msg, "send the link yourself")
		assert.Contains(t, msg, "-plain")
		ls := lines(e.ok(t, "for ops", env, "share", "-plain", "-v", "-recipient", "ops@example.com", "-recipient", "dev@example.com"))
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
		assert.Contains(t, e.fails(t, 3, "x", url, "share", "-plain", "-recipient", "ops@example.com"), "An account is required")
		e.fails(t, 2, "", append(url, "ONETIME_CUSTID=alice"), "recent")
		assert.Contains(t, e.fails(t, 3, "", append(url, "ONETIME_CUSTID=alice", "ONETIME_TOKEN=nope"), "status"), "Not authorized")
	})

	t.Run("Status", func(t *testing.T) {
		assert.Equal(t, "nominal\n", e.ok(t, "", url, "status"))
		assert.Equal(t, "nominal\n", e.ok(t, "", alice, "status", "-url", e.base))
		res, err := http.Get(e.base + "/api/v1/status")
		require.NoError(t, err)
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		assert.JSONEq(t, string(raw), e.ok(t, "", url, "-json", "status"), "the server's answer")
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
}

// captured is one request as a recording server saw it.
type captured struct {
	method, path, auth, body string
}

// recorder is a real HTTP server that records every request, with its
// Authorization header and body, and answers with its handler.
type recorder struct {
	url string

	mu   sync.Mutex
	reqs []captured
}

// newRecorder starts a recorder on the loopback address ip (127.0.0.2 is
// another host than 127.0.0.1), answering with answer.
func newRecorder(t *testing.T, ip string, answer http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{}
	ln, err := net.Listen("tcp", ip+":0")
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, captured{method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"), body: string(body)})
		rec.mu.Unlock()
		answer(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	rec.url = srv.URL
	return rec
}

func (rec *recorder) requests() []captured {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]captured(nil), rec.reqs...)
}

const (
	foreignSecretKey   = "f0re1gnsecretkey0123456789abc"
	foreignMetadataKey = "f0re1gnmetadatakey0123456789"
)

// answerAll answers like a v1 server, to anything: what a server
// that collects credentials would do.
func answerAll(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	receipt := `{"custid":"anon","metadata_key":"` + foreignMetadataKey + `","state":"new","ttl":3600}`
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v1/secret/"):
		w.Write([]byte(`{"value":"from afar","secret_key":"` + foreignSecretKey + `"}`))
	case strings.HasSuffix(r.URL.Path, "/burn"):
		w.Write([]byte(`{"state":` + strings.Replace(receipt, `"new"`, `"burned"`, 1) + `,"secret_shortkey":"f0re1g"}`))
	default:
		w.Write([]byte(receipt))
	}
}

// The credentials go to the configured server only: a link to any other
// origin (another host, another port, no server configured) is opened
// anonymously, with a note on standard error.
func TestCredentialsStayHome(t *testing.T) {
	var homeAuth []string
	var mu sync.Mutex
	home := startAPI(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			homeAuth = append(homeAuth, r.Header.Get("Authorization"))
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	})
	e := &harness{base: home, exec: inProcess}
	withCreds := append([]string{"ONETIME_URL=" + home}, alice...)

	for name, ip := range map[string]string{"AnotherHost": "127.0.0.2", "AnotherPort": "127.0.0.1"} {
		t.Run(name, func(t *testing.T) {
			foreign := newRecorder(t, ip, answerAll)
			for _, env := range [][]string{withCreds, alice} {
				for _, args := range [][]string{
					{"get", foreign.url + "/secret/" + foreignSecretKey},
					{"receipt", foreign.url + "/private/" + foreignMetadataKey},
					{"burn", foreign.url + "/receipt/" + foreignMetadataKey},
				} {
					r := e.run(t, "", env, args...)
					require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
					assert.Contains(t, r.stderr, "onetime: note: the link names "+foreign.url)
					assert.Contains(t, r.stderr, "without your credentials")
					assert.NotContains(t, r.stderr, foreignSecretKey)
					assert.NotContains(t, r.stderr, foreignMetadataKey)
				}
			}
			reqs := foreign.requests()
			require.Len(t, reqs, 6)
			for _, r := range reqs {
				assert.Empty(t, r.auth, "%s %s: no credentials to a foreign server", r.method, r.path)
			}

			// Without credentials there is nothing to say.
			r := e.run(t, "", []string{"ONETIME_URL=" + home}, "get", foreign.url+"/secret/"+foreignSecretKey)
			require.Equal(t, 0, r.code)
			assert.Empty(t, r.stderr)
		})
	}

	// A link to the configured server, and -url, go with the credentials
	// and without a note.
	link := strings.TrimSpace(e.ok(t, "at home", withCreds, "share"))
	assert.Equal(t, "at home\n", e.ok(t, "", withCreds, "get", link))
	key := strings.TrimPrefix(link, home+"/secret/")
	foreign := newRecorder(t, "127.0.0.2", answerAll)
	e.fails(t, 1, "", alice, "-url", home, "get", foreign.url+"/secret/"+key)
	assert.Empty(t, foreign.requests(), "-url: the key alone goes to the configured server")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, homeAuth, 4, "the status, the share, two reveals")
	for _, a := range homeAuth {
		assert.NotEmpty(t, a)
	}
}

// A server that redirects a share, a reveal or a burn gets an error
// naming the Location (exit 3), and the secret is not sent there.
func TestRedirectsAreErrors(t *testing.T) {
	target := newRecorder(t, "127.0.0.2", answerAll)
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		home := newRecorder(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.url+r.URL.Path, code)
		})
		e := &harness{base: home.url, exec: inProcess}
		env := append([]string{"ONETIME_URL=" + home.url}, alice...)
		for _, c := range []struct {
			stdin string
			args  []string
		}{
			{"the secret", []string{"share", "-passphrase", "pass phrase"}},
			{"", []string{"generate"}},
			{"", []string{"get", "-passphrase", "pass phrase", home.url + "/secret/" + foreignSecretKey}},
			{"", []string{"burn", home.url + "/private/" + foreignMetadataKey}},
		} {
			msg := e.fails(t, 3, c.stdin, env, c.args...)
			assert.Contains(t, msg, "redirects")
			assert.Contains(t, msg, target.url)
			for _, s := range []string{"the secret", "pass phrase", foreignSecretKey, foreignMetadataKey} {
				assert.NotContains(t, msg, s)
			}
		}
	}
	assert.Empty(t, target.requests())
}

// What a server says reaches the terminal with its control characters
// escaped; answers to share that would print a wrong link are errors.
func TestHostileAnswers(t *testing.T) {
	const esc = "\x1b]0;pwned\x07\x1b[2J"
	srv := newRecorder(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/status":
			// The locale holds a raw C1 control (CSI), valid in JSON.
			w.Write([]byte("{\"status\":\"nominal\\u001b[31m\",\"locale\":\"en\u009b\"}"))
		case "/api/v1/private/" + foreignMetadataKey:
			w.Write([]byte(`{"metadata_key":"` + foreignMetadataKey + `","state":"new\u001b[1m","recipient":["a\u001b@b"]}`))
		case "/api/v1/private/recent":
			w.Write([]byte(`[{"metadata_key":"` + foreignMetadataKey + `","state":"\u001b[5mnew"}]`))
		default:
			w.Header().Set("X-OTS-Intended-Status", "400")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"` + strings.NewReplacer("\x1b", `\u001b`, "\x07", `\u0007`).Replace(esc) + `nasty"}`))
		}
	})
	e := &harness{base: srv.url, exec: inProcess}
	env := append([]string{"ONETIME_URL=" + srv.url}, alice...)

	msg := e.fails(t, 3, "x", env, "share")
	assert.Contains(t, msg, `the server says: \x1b]0;pwned\a\x1b[2Jnasty`)
	assert.NotContains(t, msg, "\x1b")
	assert.NotContains(t, msg, "\x07")

	out := e.ok(t, "", env, "status")
	assert.Equal(t, "nominal\\x1b[31m\n", out)
	out = e.ok(t, "", env, "-json", "status")
	assert.NotContains(t, out, "\u009b")
	assert.Contains(t, out, `\u009b`)
	out = e.ok(t, "", env, "receipt", foreignMetadataKey)
	assert.Contains(t, out, `state:      new\x1b[1m`)
	assert.Contains(t, out, `recipients: a\x1b@b`)
	out = e.ok(t, "", env, "recent")
	assert.Contains(t, out, `\x1b[5mnew`)
	assert.NotContains(t, out, "\x1b")

	for name, answer := range map[string]string{
		"no secret key": `{"metadata_key":"` + foreignMetadataKey + `","state":"new"}`,
		"equal keys":    `{"metadata_key":"` + foreignMetadataKey + `","secret_key":"` + foreignMetadataKey + `","state":"new"}`,
		"not a key":     `{"metadata_key":"` + foreignMetadataKey + `","secret_key":"\u001b[2J","state":"new"}`,
	} {
		t.Run(name, func(t *testing.T) {
			bad := newRecorder(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(answer)) })
			e := &harness{base: bad.url, exec: inProcess}
			msg := e.fails(t, 3, "x", []string{"ONETIME_URL=" + bad.url}, "share", "-v")
			assert.Contains(t, msg, "malformed answer")
			e.fails(t, 3, "", []string{"ONETIME_URL=" + bad.url}, "generate")
		})
	}
}
