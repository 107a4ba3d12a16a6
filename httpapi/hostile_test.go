package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/frontdoor"
	"github.com/onetimego/onetime/store/memory"
)

// manyKeys is a JSON object of n unknown members, then a secret.
func manyKeys(n int) string {
	return `{` + strings.Repeat(`"kk":0,`, n) + `"secret":"x"}`
}

func nested(depth int) string {
	return `{"secret":"x","deep":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`
}

// serveDirect runs one request through h and returns the recorder.
func serveDirect(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestJSONBodyAllocations: a 3 MiB JSON body of 400k unknown members used
// to be decoded whole into a map, some 51 MB a request. It is refused
// after frontdoor.MaxJSONMembers members, having read and kept almost nothing.
func TestJSONBodyAllocations(t *testing.T) {
	e := newEnv(t, nil, nil)
	h, err := New(e.svc, &Options{Logger: discardLogger()})
	require.NoError(t, err)
	body := []byte(manyKeys(400_000)) // 2.8 MB: within the body bound
	require.Less(t, int64(len(body)), h.opts.MaxBodySize)

	run := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/v1/share", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return serveDirect(h, r)
	}
	w := run()
	assert.Equal(t, `{"message":"Invalid request body"}`, w.Body.String())
	assert.Equal(t, "400", w.Header().Get("X-OTS-Intended-Status"))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	run()
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d bytes for a %d-byte body", allocated, len(body))
	assert.Less(t, allocated, uint64(len(body)/8), "bytes allocated for one request")

	allocs := testing.AllocsPerRun(5, func() { run() })
	t.Logf("%.0f allocations a request", allocs)
	assert.Less(t, allocs, float64(20*frontdoor.MaxJSONMembers), "allocations for one request")

	// The same body sniffed as JSON without a Content-Type.
	r := httptest.NewRequest("POST", "/api/v1/share", bytes.NewReader(body))
	assert.Equal(t, `{"message":"Invalid request body"}`, serveDirect(h, r).Body.String())
}

// TestJSONUnknownValueAllocations: an unknown member holding a large
// value is scanned and dropped, not built: one request costs a small
// multiple of its body, not one per level or element.
func TestJSONUnknownValueAllocations(t *testing.T) {
	e := newEnv(t, nil, nil)
	h, err := New(e.svc, &Options{Logger: discardLogger()})
	require.NoError(t, err)
	// 2 MiB of unknown strings in an array, then a small secret.
	body := []byte(`{"junk":[` + strings.Repeat(`"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",`, 64<<10) + `""],"secret":"x"}`)
	run := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/v1/share", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return serveDirect(h, r)
	}
	require.Equal(t, 200, run().Code)
	allocs := testing.AllocsPerRun(5, func() { run() })
	t.Logf("%.0f allocations a request for %d array elements", allocs, 64<<10)
	assert.Less(t, allocs, float64(1000), "allocations grow with the elements of an unknown array")
}

func TestJSONBounds(t *testing.T) {
	e := newEnv(t, nil, nil)
	const bad = `{"message":"Invalid request body"}`
	post := func(body string) resp {
		return e.do(req{method: "POST", path: "/api/v1/share", ctype: "application/json", body: body})
	}
	post(manyKeys(frontdoor.MaxJSONMembers - 1)).ok(t) // with the secret: exactly the bound
	post(manyKeys(frontdoor.MaxJSONMembers)).fails(t, 400, bad)
	post(nested(frontdoor.MaxJSONDepth - 1)).ok(t) // with the body's object: exactly the bound
	post(nested(frontdoor.MaxJSONDepth)).fails(t, 400, bad)
	post(nested(20000)).fails(t, 400, bad)
	// Elements of a known array count too.
	many := `{"secret":"x","recipient":[` + strings.Repeat(`"",`, frontdoor.MaxJSONMembers) + `""]}`
	post(many).fails(t, 400, bad)
	// Scalars in a known array are kept, the rest ignored, as before.
	rc := e.do(req{method: "POST", path: "/api/v1/share", ctype: "application/json",
		body: `{"secret":"x","passphrase":["pw",{"a":[1]},[2],null]}`}).ok(t)
	assert.Equal(t, "true", string(rc.raw["passphrase_required"]))
	e.post("/api/v1/secret/"+rc.str(t, "secret_key"), "passphrase=pw").ok(t)
}

// TestJSONUTF8: a JSON body is refused where a form body with the same
// bytes is: invalid UTF-8 in a secret value, and a lone surrogate escape
// (which encoding/json would have turned into U+FFFD, altering the value
// silently). A surrogate pair is one character.
func TestJSONUTF8(t *testing.T) {
	e := newEnv(t, nil, nil)
	const notUTF8 = `{"message":"Secret value must be UTF-8 text"}`
	e.post("/api/v1/share", "secret=%FF%FE").fails(t, 400, notUTF8)
	e.post("/api/v1/share", "secret=%ED%A0%80").fails(t, 400, notUTF8)
	for _, body := range []string{"{\"secret\":\"\xff\xfe\"}", `{"secret":"\ud800"}`, `{"secret":"a\udc00b"}`,
		`{"secret":"\ud800\ud800"}`, `{"secret":"\ud800\u0041"}`} {
		e.do(req{method: "POST", path: "/api/v1/share", ctype: "application/json", body: body}).fails(t, 400, notUTF8)
		e.do(req{method: "POST", path: "/api/v1/share", body: body}).fails(t, 400, notUTF8) // sniffed
	}
	rc := e.do(req{method: "POST", path: "/api/v1/share", ctype: "application/json",
		body: `{"secret":"\ud83d\ude00 \u00e9\n\/\"\\\b\f\r\t"}`}).ok(t)
	assert.Equal(t, "\U0001F600 é\n/\"\\\b\f\r\t", e.post("/api/v1/secret/"+rc.str(t, "secret_key"), "").ok(t).str(t, "value"))

	// A passphrase is taken byte for byte either way: a lone surrogate in
	// JSON is the same passphrase as its bytes in a form.
	rc = e.do(req{method: "POST", path: "/api/v1/share", ctype: "application/json",
		body: `{"secret":"x","passphrase":"p\ud800"}`}).ok(t)
	assert.Equal(t, "x", e.post("/api/v1/secret/"+rc.str(t, "secret_key"), "passphrase=p%ED%A0%80").ok(t).str(t, "value"))
}

func TestQueryTooLong(t *testing.T) {
	e := newEnv(t, nil, nil)
	const tooLong = `{"message":"Query string too long: send parameters in the request body"}`
	long := "secret=" + strings.Repeat("x", RecommendedMaxHeaderBytes)
	e.do(req{method: "POST", path: "/api/v1/share?" + long}).fails(t, 414, tooLong)
	e.do(req{method: "POST", path: "/api/v1/secret/abc?" + long}).fails(t, 414,
		`{"message":"Query string too long: send parameters in the request body","secret_key":"abc"}`)
	// In the body the same value is fine.
	e.post("/api/v1/share", long).ok(t)
	// Exactly the bound is fine.
	e.do(req{method: "POST", path: "/api/v1/share?" + long[:RecommendedMaxHeaderBytes]}).ok(t)

	// A negative MaxQueryBytes leaves the bound to the server.
	e2 := newEnv(t, nil, &Options{MaxQueryBytes: -1})
	e2.do(req{method: "POST", path: "/api/v1/share?" + long}).ok(t)
}

// ctxStore fails Create with the given error, as a store whose own
// deadline passed does, while the request is still live.
type ctxStore struct {
	*memory.Store
	err error
}

func (s ctxStore) Create(context.Context, *onetime.SealedSecret, *onetime.SealedMetadata) error {
	return s.err
}

// TestCallerGoneNotAnError: a request whose caller went away (its context
// cancelled or past its deadline) is not logged as a server error; a
// store's own timeout with the request live still is.
func TestCallerGoneNotAnError(t *testing.T) {
	e := newEnv(t, nil, nil)
	var logs bytes.Buffer
	h, err := New(e.svc, &Options{Logger: jsonLogger(&logs)})
	require.NoError(t, err)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	for _, ctx := range []context.Context{cancelled, expired} {
		r := httptest.NewRequestWithContext(ctx, "POST", "/api/v1/share", strings.NewReader("secret=x"))
		w := serveDirect(h, r)
		assert.Equal(t, `{"message":"An unexpected error occurred"}`, w.Body.String())
		assert.Equal(t, "500", w.Header().Get("X-OTS-Intended-Status"))
	}
	assert.NotContains(t, logs.String(), `"level":"ERROR"`)
	assert.Contains(t, logs.String(), `"level":"DEBUG"`)

	svc, err := onetime.New(ctxStore{memory.New(), context.DeadlineExceeded}, testSecret, nil)
	require.NoError(t, err)
	logs.Reset()
	h, err = New(svc, &Options{Logger: jsonLogger(&logs)})
	require.NoError(t, err)
	w := serveDirect(h, httptest.NewRequest("POST", "/api/v1/share", strings.NewReader("secret=x")))
	assert.Equal(t, `{"message":"An unexpected error occurred"}`, w.Body.String())
	assert.Contains(t, logs.String(), `"level":"ERROR"`)
}

// TestErrorsToDefaultLogger: without Options.Logger, unexpected errors go
// to slog.Default (and request lines do not).
func TestErrorsToDefaultLogger(t *testing.T) {
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(jsonLogger(&logs))
	t.Cleanup(func() { slog.SetDefault(old) })
	svc, err := onetime.New(brokenStore{memory.New()}, testSecret, nil)
	require.NoError(t, err)
	h, err := New(svc, nil)
	require.NoError(t, err)
	w := serveDirect(h, httptest.NewRequest("POST", "/api/v1/share", strings.NewReader("secret=x")))
	assert.Equal(t, `{"message":"An unexpected error occurred"}`, w.Body.String())
	assert.Contains(t, logs.String(), "disk on fire")
	assert.Equal(t, 1, strings.Count(logs.String(), "\n"), logs.String())
}
