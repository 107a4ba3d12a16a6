package httpapi

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noRedirectClient reports redirects instead of following them.
func noRedirectClient(srv *httptest.Server) *http.Client {
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// rawDo sends a request whose path is sent exactly as given (no client
// side cleaning), and returns the answer.
func rawDo(t *testing.T, srv *httptest.Server, method, path, body string) resp {
	t.Helper()
	hr, err := http.NewRequest(method, srv.URL, strings.NewReader(body))
	require.NoError(t, err)
	hr.URL.Opaque = path // sent verbatim as the request target
	if body != "" {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := noRedirectClient(srv).Do(hr)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return resp{res.StatusCode, res.Header, b}
}

func TestBasePathMount(t *testing.T) {
	e := newEnv(t, nil, nil)
	var logs bytes.Buffer
	h, err := New(e.svc, &Options{BasePath: "/ots/api/v1/", Logger: jsonLogger(&logs)})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/ots/api/v1/", h)
	mux.Handle("/misrouted/", h) // a mistake: the handler only answers under its base path
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e.srv = srv

	rc := e.post("/ots/api/v1/share", "secret=x").ok(t)
	assert.Equal(t, "x", e.post("/ots/api/v1/secret/"+rc.str(t, "secret_key"), "").ok(t).str(t, "value"))
	assert.Equal(t, nominalBody, string(e.get("/ots/api/v1/status").body))
	e.get("/ots/api/v1/nope").fails(t, 404, nf)
	assert.Empty(t, logs.String(), "requests under the base path warn of nothing")

	// Outside the base path: the JSON Not Found, and one warning however
	// many such requests come, which names no path (it may hold a key).
	e.get("/misrouted/api/v1/status").fails(t, 404, nf)
	e.post("/misrouted/secret/"+rc.str(t, "secret_key"), "").fails(t, 404, nf)
	assert.Equal(t, 1, strings.Count(logs.String(), `"level":"WARN"`), logs.String())
	assert.Contains(t, logs.String(), `"base_path":"/ots/api/v1/"`)
	assert.NotContains(t, logs.String(), "misrouted")
	assert.NotContains(t, logs.String(), rc.str(t, "secret_key"))
}

func TestStripPrefix(t *testing.T) {
	e := newEnv(t, nil, nil)
	var logs bytes.Buffer
	h, err := New(e.svc, &Options{Logger: jsonLogger(&logs)})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/secrets/", http.StripPrefix("/secrets", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e.srv = srv
	rc := e.post("/secrets/api/v1/share", "secret=x").ok(t)
	e.post("/secrets/api/v1/secret/"+rc.str(t, "secret_key"), "").ok(t)
	e.get("/secrets/api/v1/status").ok(t)
	assert.Empty(t, logs.String())
	e.post("/secrets/api/v2/share", "secret=x").fails(t, 404, nf)
	assert.Contains(t, logs.String(), "outside the base path")
}

func TestNewOptionErrors(t *testing.T) {
	_, err := New(nil, nil)
	require.Error(t, err, "nil service")
	e := newEnv(t, nil, nil)
	_, err = New(e.svc, &Options{MaxBodySize: -1})
	require.Error(t, err, "negative body size")
	_, err = New(e.svc, &Options{HealthTimeout: -1})
	require.Error(t, err, "negative health timeout")
	for _, p := range []string{"api/v1/", "/api/v1", "/api//v1/", "/api/../v1/", "/api/./v1/"} {
		_, err = New(e.svc, &Options{BasePath: p})
		require.Error(t, err, "BasePath %q", p)
	}
	for _, p := range []string{"/", "/api/v1/", "/a/b/c/"} {
		_, err = New(e.svc, &Options{BasePath: p})
		require.NoError(t, err, "BasePath %q", p)
	}
}

// nonCanonical are request targets that a ServeMux would redirect: each
// is answered by the handler itself with the v1 JSON of the route the
// cleaned path names, or Not Found.
var nonCanonical = []struct {
	method, path string
	want         string // "status" for the status body, else the error body
}{
	{"GET", "/api/v1//status", "status"},
	{"GET", "/api/v1/./status", "status"},
	{"GET", "/api/v1/status/", "status"},
	{"GET", "/api/v1/secret/../status", "status"},
	{"GET", "/api/v1", nf},
	{"GET", "/api/v1/../v1/nope", nf},
	{"POST", "/api/v1/secret/../share", `{"message":"You did not provide anything to share"}`},
	{"POST", "/api/v1//secret/abc", unknown("abc")},
	{"POST", "/api/v1/secret/%2e%2e", unknown("..")},
}

func checkNonCanonical(t *testing.T, srv *httptest.Server) {
	t.Helper()
	for _, c := range nonCanonical {
		r := rawDo(t, srv, c.method, c.path, "")
		if c.want == "status" {
			assert.Equal(t, 200, r.status, "%s %s", c.method, c.path)
			assert.Equal(t, nominalBody, string(r.body), "%s %s", c.method, c.path)
			continue
		}
		assert.Equal(t, 404, r.status, "%s %s", c.method, c.path)
		assert.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"), "%s %s", c.method, c.path)
		assert.Equal(t, c.want, string(r.body), "%s %s", c.method, c.path)
	}
}

// TestNonCanonicalPaths: the handler itself never redirects; served
// directly (as the server's handler, or through Wrap in front of a mux)
// every non-canonical path gets the v1 JSON.
func TestNonCanonicalPaths(t *testing.T) {
	e := newEnv(t, nil, nil)
	h, err := New(e.svc, &Options{Logger: discardLogger()})
	require.NoError(t, err)

	t.Run("handler", func(t *testing.T) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		checkNonCanonical(t, srv)
		// Paths that clean to outside the base path are Not Found. A
		// client cannot send "//x" as a path (it reads as a host), so these
		// go through http.ReadRequest as a server would.
		for path, want := range map[string]string{"//api/v1/status": nominalBody, "/api/v1/..": nf, "/api/v1/../../x": nf} {
			w := serveDirect(h, httptest.NewRequest("GET", path, nil))
			assert.Equal(t, want, w.Body.String(), path)
			assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"), path)
		}
	})

	mux := http.NewServeMux()
	mux.Handle("/api/v1/", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the application") })

	t.Run("Wrap in front of a ServeMux", func(t *testing.T) {
		srv := httptest.NewServer(h.Wrap(mux))
		defer srv.Close()
		checkNonCanonical(t, srv)
		// Everything else still reaches the mux.
		r := rawDo(t, srv, "GET", "/elsewhere", "")
		assert.Equal(t, "the application", string(r.body))
		r = rawDo(t, srv, "GET", "/api/v2/status", "")
		assert.Equal(t, "the application", string(r.body))
	})

	// Documented behaviour of a bare ServeMux in front: it redirects
	// non-canonical paths before the handler runs. This is why Wrap exists.
	t.Run("bare ServeMux redirects", func(t *testing.T) {
		srv := httptest.NewServer(mux)
		defer srv.Close()
		for _, p := range []string{"/api/v1//status", "/api/v1/./status", "/api/v1"} {
			r := rawDo(t, srv, "GET", p, "")
			assert.Contains(t, []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect}, r.status, p)
		}
		// Canonical paths are served as usual.
		assert.Equal(t, nominalBody, string(rawDo(t, srv, "GET", "/api/v1/status", "").body))
	})
}

// TestLoggingDefaults: with neither Logger nor AccessLog set, a request
// writes nothing to slog.Default; an unexpected error still does.
func TestLoggingDefaults(t *testing.T) {
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(jsonLogger(&logs))
	t.Cleanup(func() { slog.SetDefault(old) })

	e := newEnv(t, nil, nil)
	h, err := New(e.svc, nil)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	e.srv = srv
	rc := e.share("secret=x")
	e.post("/api/v1/secret/"+rc.str(t, "secret_key"), "").ok(t)
	e.get("/api/v1/status").ok(t)
	e.get("/api/v1/nope").fails(t, 404, nf)
	assert.Empty(t, logs.String(), "no request lines by default")

	// An access log is opt-in, and separate from the error log.
	var access bytes.Buffer
	h, err = New(e.svc, &Options{AccessLog: jsonLogger(&access)})
	require.NoError(t, err)
	srv2 := httptest.NewServer(h)
	defer srv2.Close()
	e.srv = srv2
	e.get("/api/v1/status").ok(t)
	assert.Contains(t, access.String(), `"route":"GET /api/v1/status"`)
	assert.Equal(t, 1, strings.Count(access.String(), "\n"))
	assert.Empty(t, logs.String())
}
