package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

var testSecret = bytes.Repeat([]byte("k"), onetime.MinServerSecretLen)

// clock is a settable clock for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is a Notifier that keeps what it was told.
type recorder struct {
	mu sync.Mutex
	ns []onetime.Notification
}

func (r *recorder) Notify(_ context.Context, n onetime.Notification) error {
	r.mu.Lock()
	r.ns = append(r.ns, n)
	r.mu.Unlock()
	return nil
}

type env struct {
	t     *testing.T
	srv   *httptest.Server
	svc   *onetime.Service
	store *memory.Store
	clock *clock
	notes *recorder
}

var testUsers = map[string]string{"alice": "alicetoken", "bob": "bobtoken"}

// newEnv starts a server over a real Service on the memory store. svcOpts
// and apiOpts may be nil; the clock and notifier are always set.
func newEnv(t *testing.T, svcOpts *onetime.Options, apiOpts *Options) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, notes: &recorder{}}
	var so onetime.Options
	if svcOpts != nil {
		so = *svcOpts
	}
	so.Now = e.clock.Now
	so.Notifier = e.notes
	so.Notify = &onetime.NotifyOptions{Workers: 1} // notifications in order
	so.KDFConcurrency = 1
	e.store = memory.New()
	svc, err := onetime.New(e.store, testSecret, &so)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	e.svc = svc
	var ao Options
	if apiOpts != nil {
		ao = *apiOpts
	}
	if ao.Logger == nil {
		ao.Logger = discardLogger()
	}
	h, err := New(svc, &ao)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", h)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// resp is an answer, body kept raw.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// req is one request to send.
type req struct {
	method, path string // path includes the query string
	ctype        string // Content-Type; "" sends none
	body         string
	user, pass   string // Basic credentials when user != ""
	header       map[string]string
}

func (e *env) do(r req) resp {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, e.srv.URL+r.path, body)
	require.NoError(e.t, err)
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.user != "" {
		hr.SetBasicAuth(r.user, r.pass)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(hr)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{res.StatusCode, res.Header, b}
}

func (e *env) post(path, form string) resp {
	e.t.Helper()
	return e.do(req{method: "POST", path: path, ctype: "application/x-www-form-urlencoded", body: form})
}

func (e *env) get(path string) resp {
	e.t.Helper()
	return e.do(req{method: "GET", path: path})
}

// ok checks a success and returns its object.
func (r resp) ok(t *testing.T) obj {
	t.Helper()
	require.Equal(t, 200, r.status, "body %s", r.body)
	require.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
	return parseObj(t, r.body)
}

// fails checks an error answer: status 404 (or want when sent as
// intended), the intended-status header and the exact body.
func (r resp) fails(t *testing.T, intended int, body string) {
	t.Helper()
	if r.status != intended {
		assert.Equal(t, 404, r.status, "status: want 404 or %d", intended)
	}
	assert.Equal(t, itoa(intended), r.header.Get("X-OTS-Intended-Status"), "X-OTS-Intended-Status")
	assert.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
	assert.Equal(t, body, string(r.body))
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// obj is a JSON object read from raw bytes, keeping the order of its keys
// and each value raw, so that order and types are checked as sent.
type obj struct {
	keys []string
	raw  map[string]json.RawMessage
}

func parseObj(t *testing.T, b []byte) obj {
	t.Helper()
	o := obj{raw: map[string]json.RawMessage{}}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	require.NoError(t, err, "not an object: %s", b)
	require.Equal(t, json.Delim('{'), tok, "not an object: %s", b)
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
		ks := k.(string)
		require.NotContains(t, o.raw, ks, "duplicate key in %s", b)
		o.keys = append(o.keys, ks)
		o.raw[ks] = v
	}
	return o
}

func parseArray(t *testing.T, b []byte) []obj {
	t.Helper()
	var raws []json.RawMessage
	require.NoError(t, json.Unmarshal(b, &raws), "not an array: %s", b)
	require.Equal(t, byte('['), b[0], "not an array: %s", b)
	out := make([]obj, len(raws))
	for i, r := range raws {
		out[i] = parseObj(t, r)
	}
	return out
}

func (o obj) str(t *testing.T, k string) string {
	t.Helper()
	var s string
	require.NoError(t, json.Unmarshal(o.raw[k], &s), "%s = %s: not a string", k, o.raw[k])
	require.Equal(t, byte('"'), o.raw[k][0], "%s = %s: not a string", k, o.raw[k])
	return s
}

var intRE = regexp.MustCompile(`^-?[0-9]+$`)

func (o obj) int(t *testing.T, k string) int64 {
	t.Helper()
	r := string(o.raw[k])
	require.Regexp(t, intRE, r, "%s: not a JSON integer", k)
	var n int64
	require.NoError(t, json.Unmarshal(o.raw[k], &n))
	return n
}

func (o obj) has(k string) bool { _, ok := o.raw[k]; return ok }

func (o obj) order(t *testing.T, want ...string) {
	t.Helper()
	require.Equal(t, want, o.keys, "keys")
}

var keyRE = regexp.MustCompile(`^[0-9a-z]+$`)

// share shares value anonymously with a form body and returns the receipt.
func (e *env) share(form string) obj {
	e.t.Helper()
	return e.post("/api/v1/share", form).ok(e.t)
}

// countLimiter is a RateLimiter that allows each client n requests and
// then none: simple enough that a test knows which request it refuses.
type countLimiter struct {
	mu   sync.Mutex
	n    int
	seen map[string]int
}

func newCountLimiter(n int) *countLimiter { return &countLimiter{n: n, seen: map[string]int{}} }

func (l *countLimiter) Allow(_ context.Context, client string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen[client]++
	return l.seen[client] <= l.n, nil
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newTestServer(h http.Handler) *httptest.Server { return httptest.NewServer(h) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
