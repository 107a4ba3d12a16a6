package client_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/client"
)

// captured is one request as a hostile server saw it.
type captured struct {
	method, host, path, auth, idemKey, body string
}

// hostile is a real HTTP server that records every request it gets, with
// its Authorization header and body, and answers with its handler.
type hostile struct {
	srv *httptest.Server

	mu   sync.Mutex
	reqs []captured
}

// newHostile starts a server on 127.0.0.1 answering with answer (nil: an
// empty 200).
func newHostile(t *testing.T, answer http.HandlerFunc) *hostile {
	return newHostileOn(t, "127.0.0.1", answer)
}

// newHostileOn starts the server on the loopback address ip: 127.0.0.2
// is another host than 127.0.0.1.
func newHostileOn(t *testing.T, ip string, answer http.HandlerFunc) *hostile {
	t.Helper()
	h := &hostile{}
	ln, err := net.Listen("tcp", ip+":0")
	require.NoError(t, err)
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.reqs = append(h.reqs, captured{
			method: r.Method, host: r.Host, path: r.URL.Path, auth: r.Header.Get("Authorization"),
			idemKey: r.Header.Get("Idempotency-Key"), body: string(body),
		})
		h.mu.Unlock()
		if answer != nil {
			answer(w, r)
		}
	}))
	h.srv.Listener.Close()
	h.srv.Listener = ln
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hostile) requests() []captured {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]captured(nil), h.reqs...)
}

// count returns how many requests went to path.
func (h *hostile) count(path string) int {
	n := 0
	for _, r := range h.requests() {
		if r.path == path {
			n++
		}
	}
	return n
}

// redirectTo answers every request with a redirect of status code to
// target (a path is resolved against the request).
func redirectTo(code int, target func(r *http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target(r))
		w.WriteHeader(code)
	}
}

const (
	hostileSecretKey   = "k1ngd0mk3yz0123456789abcdefgh"
	hostileMetadataKey = "m3tad4ta0123456789abcdefghijk"
)

// A link on another host is only ever a key: the client sends it, with
// its credentials, to its own server, and nothing to the link's host.
func TestLinksNeverReachTheirHost(t *testing.T) {
	own := newHostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"Unknown secret"}`))
	})
	evil := newHostileOn(t, "127.0.0.2", nil)
	port := newHostile(t, nil)
	c, err := client.New(own.srv.URL, &client.Options{CustomerID: "alice", APIToken: "alicetoken"})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.Reveal(ctx, client.SecretKey(evil.srv.URL+"/secret/"+hostileSecretKey), "pw")
	require.ErrorIs(t, err, client.ErrNotFound)
	_, err = c.Receipt(ctx, client.MetadataKey(evil.srv.URL+"/private/"+hostileMetadataKey))
	require.ErrorIs(t, err, client.ErrNotFound)
	_, err = c.Burn(ctx, client.MetadataKey(port.srv.URL+"/receipt/"+hostileMetadataKey))
	require.ErrorIs(t, err, client.ErrNotFound)

	assert.Empty(t, evil.requests())
	assert.Empty(t, port.requests())
	reqs := own.requests()
	require.Len(t, reqs, 3)
	for _, r := range reqs {
		assert.NotEmpty(t, r.auth)
	}

	assert.True(t, c.SameOrigin(own.srv.URL+"/secret/abc"))
	assert.True(t, c.SameOrigin(strings.ToUpper(own.srv.URL)+"/other/path"))
	assert.False(t, c.SameOrigin(evil.srv.URL+"/secret/abc"), "another host")
	assert.False(t, c.SameOrigin(port.srv.URL+"/secret/abc"), "another port")
	assert.False(t, c.SameOrigin(strings.Replace(own.srv.URL, "http:", "https:", 1)), "another scheme")
	assert.False(t, c.SameOrigin("abc"))
	assert.False(t, c.SameOrigin("ftp://127.0.0.1/secret/abc"))

	d, err := client.New("https://ots.example.com/base", nil)
	require.NoError(t, err)
	assert.True(t, d.SameOrigin("https://OTS.example.com:443/secret/abc"), "the default port is the port")
	assert.False(t, d.SameOrigin("https://ots.example.com:8443/secret/abc"))
	assert.False(t, d.SameOrigin("http://ots.example.com/secret/abc"))
}

// A 307 to another host would re-send the secret and passphrase there; a
// 307 to another port of the same host, the credentials; a 302 would turn
// a share into a GET that looks like success. The client follows none of
// them and names the Location.
func TestPostRedirectsAreNotFollowed(t *testing.T) {
	ctx := context.Background()
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			// Whatever reaches a target looks like a good answer.
			good := func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"custid":"anon","metadata_key":"` + hostileMetadataKey + `","secret_key":"` + hostileSecretKey + `","state":"new","value":"x"}`))
			}
			evil := newHostileOn(t, "127.0.0.2", good)                     // another host
			for _, target := range []*hostile{evil, newHostile(t, good)} { // and another port
				own := newHostile(t, redirectTo(code, func(r *http.Request) string { return target.srv.URL + r.URL.Path }))
				// Plain: the share is the POST itself, with no status
				// asked first (zk_test.go has the zero-knowledge case).
				c, err := client.New(own.srv.URL, &client.Options{CustomerID: "alice", APIToken: "alicetoken", Plain: true})
				require.NoError(t, err)

				check := func(err error, route string) {
					t.Helper()
					var re *client.RedirectError
					require.ErrorAs(t, err, &re)
					assert.Equal(t, code, re.StatusCode)
					assert.Equal(t, http.MethodPost, re.Method)
					assert.Equal(t, route, re.Route)
					assert.True(t, strings.HasPrefix(re.Location, target.srv.URL+"/api/v1/"), re.Location)
					assert.Contains(t, err.Error(), target.srv.URL)
					for _, s := range []string{hostileSecretKey, hostileMetadataKey, "the secret", "pass phrase", "alicetoken"} {
						assert.NotContains(t, err.Error(), s)
					}
				}
				_, err = c.Share(ctx, "the secret", &client.ShareOptions{Passphrase: "pass phrase"})
				check(err, "share")
				_, err = c.Generate(ctx, nil)
				check(err, "generate")
				_, err = c.Reveal(ctx, hostileSecretKey, "pass phrase")
				check(err, "secret/{key}")
				_, err = c.Burn(ctx, hostileMetadataKey)
				check(err, "private/{key}/burn")
				assert.Len(t, own.requests(), 4, "no retry of a redirect")
				assert.Empty(t, target.requests(), "nothing reaches the Location: no body, no credentials")
			}
		})
	}
}

// A GET is redirected within the server's origin only, with its
// credentials; to another origin (another port of the same host
// included) it is refused.
func TestGetRedirects(t *testing.T) {
	ctx := context.Background()
	own := newHostile(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/status":
			http.Redirect(w, r, "/moved/status", http.StatusFound)
		case "/moved/status":
			w.Write([]byte(`{"status":"nominal","locale":"en"}`))
		case "/api/v1/private/" + hostileMetadataKey:
			http.Redirect(w, r, "/moved/"+hostileMetadataKey, http.StatusTemporaryRedirect)
		case "/moved/" + hostileMetadataKey:
			w.Write([]byte(`{"custid":"anon","metadata_key":"` + hostileMetadataKey + `","state":"viewed"}`))
		case "/api/v1/private/recent":
			http.Redirect(w, r, "/api/v1/private/recent", http.StatusFound) // a loop
		}
	})
	c, err := client.New(own.srv.URL, &client.Options{CustomerID: "alice", APIToken: "alicetoken", MaxAttempts: 1})
	require.NoError(t, err)
	s, err := c.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, "nominal", s.Status)
	m, err := c.Receipt(ctx, hostileMetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateViewed, m.State)
	for _, r := range own.requests() {
		assert.NotEmpty(t, r.auth, "credentials within the origin: %s", r.path)
	}
	_, err = c.Recent(ctx)
	var ne *client.NetworkError
	require.ErrorAs(t, err, &ne, "a redirect loop ends")

	for _, target := range []*hostile{newHostileOn(t, "127.0.0.2", nil), newHostile(t, nil)} {
		away := newHostile(t, redirectTo(http.StatusFound, func(r *http.Request) string { return target.srv.URL + r.URL.Path }))
		c, err := client.New(away.srv.URL, &client.Options{CustomerID: "alice", APIToken: "alicetoken"})
		require.NoError(t, err)
		_, err = c.Receipt(ctx, hostileMetadataKey)
		var re *client.RedirectError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, http.MethodGet, re.Method)
		assert.Equal(t, "private/{key}", re.Route)
		assert.NotContains(t, err.Error(), hostileMetadataKey)
		assert.Contains(t, re.Location, target.srv.URL)
		_, err = c.Status(ctx)
		require.ErrorAs(t, err, &re)
		assert.Empty(t, target.requests())
		assert.Len(t, away.requests(), 2, "a redirect is not retried")
	}
}

// The caller's own http.Client keeps its redirect policy; the Client
// applies its own to a copy.
func TestHTTPClientNotModified(t *testing.T) {
	called := false
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { called = true; return nil }}
	own := newHostile(t, redirectTo(http.StatusTemporaryRedirect, func(r *http.Request) string { return "/elsewhere" }))
	c, err := client.New(own.srv.URL, &client.Options{HTTPClient: hc, Plain: true})
	require.NoError(t, err)
	_, err = c.Share(context.Background(), "x", nil)
	var re *client.RedirectError
	require.ErrorAs(t, err, &re)
	assert.False(t, called)
	assert.NotNil(t, hc.CheckRedirect)
	assert.Len(t, own.requests(), 1)
}

// A server that never answers: each try ends at Options.Timeout.
func TestTimeout(t *testing.T) {
	stop := make(chan struct{})
	hang := newHostile(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	})
	defer close(stop)
	c, err := client.New(hang.srv.URL, &client.Options{Timeout: 50 * time.Millisecond, MaxAttempts: 1})
	require.NoError(t, err)
	start := time.Now()
	_, err = c.Receipt(context.Background(), hostileMetadataKey)
	var ne *client.NetworkError
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second)

	// The default, when nothing is set.
	assert.Equal(t, client.DefaultTimeout, client.TimeoutOf(mustNew(t, hang.srv.URL, nil)))
	assert.Equal(t, time.Minute, client.DefaultTimeout)
	assert.Equal(t, client.DefaultTimeout, client.TimeoutOf(mustNew(t, hang.srv.URL, &client.Options{HTTPClient: &http.Client{}})))
}

func mustNew(t *testing.T, base string, o *client.Options) *client.Client {
	t.Helper()
	c, err := client.New(base, o)
	require.NoError(t, err)
	return c
}

// Answers to share and generate that would print a wrong link are
// errors: a missing secret key, keys that are equal, keys that are not
// keys, a generate without its value.
func TestMalformedCreations(t *testing.T) {
	for name, body := range map[string]string{
		"no secret key":     `{"metadata_key":"abc123","state":"new"}`,
		"no metadata key":   `{"secret_key":"abc123","state":"new"}`,
		"empty secret key":  `{"metadata_key":"abc123","secret_key":"","state":"new"}`,
		"equal keys":        `{"metadata_key":"abc123","secret_key":"abc123","state":"new"}`,
		"a key with a path": `{"metadata_key":"abc123","secret_key":"../../x","state":"new"}`,
		"an escape":         `{"metadata_key":"abc123","secret_key":"\u001b[2Jabc","state":"new"}`,
		"uppercase":         `{"metadata_key":"ABC123","secret_key":"def456","state":"new"}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := newHostile(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) })
			c := mustNew(t, srv.srv.URL, nil)
			_, err := c.Share(context.Background(), "x", nil)
			require.ErrorIs(t, err, client.ErrMalformedAnswer)
			_, err = c.Generate(context.Background(), nil)
			require.ErrorIs(t, err, client.ErrMalformedAnswer)
		})
	}
	srv := newHostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"metadata_key":"abc123","secret_key":"def456","state":"new"}`))
	})
	c := mustNew(t, srv.srv.URL, nil)
	m, err := c.Share(context.Background(), "x", nil)
	require.NoError(t, err)
	assert.Equal(t, client.SecretKey("def456"), m.SecretKey)
	_, err = c.Generate(context.Background(), nil)
	require.ErrorIs(t, err, client.ErrMalformedAnswer, "generate without a value")
	// A receipt's keys are checked alike.
	srv = newHostile(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"metadata_key":"abc123","secret_key":"abc123","state":"new"}`))
	})
	_, err = mustNew(t, srv.srv.URL, nil).Receipt(context.Background(), "abc123")
	require.ErrorIs(t, err, client.ErrMalformedAnswer)
}

// Every share, generate, reveal and burn carries an Idempotency-Key, a
// fresh one per call, in the draft's form (a quoted string); no GET
// carries one. No POST has an empty body.
func TestIdempotencyKeySent(t *testing.T) {
	e := newEnv(t, nil, nil)
	c := e.client(t, "")
	ctx := context.Background()
	m, err := c.Share(ctx, "v", nil)
	require.NoError(t, err)
	_, err = c.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	_, err = c.Reveal(ctx, m.SecretKey, "")
	require.NoError(t, err)
	g, err := c.Generate(ctx, nil)
	require.NoError(t, err)
	_, err = c.Burn(ctx, g.MetadataKey)
	require.NoError(t, err)
	_, err = c.Status(ctx)
	require.NoError(t, err)

	keys := map[string]bool{}
	reqs := e.requests()
	require.Len(t, reqs, 6)
	for _, r := range reqs {
		if r.method == http.MethodGet {
			assert.Empty(t, r.idemKey, r.path)
			continue
		}
		require.True(t, strings.HasPrefix(r.idemKey, `"`) && strings.HasSuffix(r.idemKey, `"`), r.idemKey)
		id, err := uuid.Parse(strings.Trim(r.idemKey, `"`))
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(4), id.Version())
		assert.False(t, keys[r.idemKey], "a fresh key per call")
		keys[r.idemKey] = true
		assert.Positive(t, r.contentLength, "%s %s: never an empty body", r.method, r.path)
	}
	assert.Len(t, keys, 4)
	assert.Equal(t, int64(len("passphrase=")), reqs[2].contentLength, "a reveal without a passphrase")
	assert.Equal(t, int64(len("passphrase=")), reqs[4].contentLength, "a burn")
}

// flaky is a server that answers each POST with failures first: the
// first fail tries of each Idempotency-Key fail as failWith says, later
// ones succeed. It says in its status whether it honours the key.
type flaky struct {
	*hostile
	honours atomic.Bool
}

func newFlaky(t *testing.T, honours bool, fail int, failWith func(w http.ResponseWriter, r *http.Request)) *flaky {
	f := &flaky{}
	f.honours.Store(honours)
	var mu sync.Mutex
	tries := map[string]int{}
	f.hostile = newHostile(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/status" {
			w.Write([]byte(`{"status":"nominal","locale":"en","idempotency":` + strconv.FormatBool(f.honours.Load()) + `}`))
			return
		}
		mu.Lock()
		tries[r.Header.Get("Idempotency-Key")]++
		n := tries[r.Header.Get("Idempotency-Key")]
		mu.Unlock()
		if n <= fail {
			failWith(w, r)
			return
		}
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/v1/secret/"):
			w.Write([]byte(`{"value":"the value","secret_key":"` + hostileSecretKey + `"}`))
		case strings.HasSuffix(r.URL.Path, "/burn"):
			w.Write([]byte(`{"state":{"metadata_key":"` + hostileMetadataKey + `","state":"burned"},"secret_shortkey":"k1ngd0"}`))
		default:
			w.Write([]byte(`{"custid":"anon","metadata_key":"` + hostileMetadataKey + `","secret_key":"` + hostileSecretKey + `","state":"new","value":"pw"}`))
		}
	})
	return f
}

func serverError(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-OTS-Intended-Status", "500")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`{"message":"An unexpected error occurred"}`))
}

// cut closes the connection without an answer, after reading the
// request: the server may have acted on it.
func cut(w http.ResponseWriter, _ *http.Request) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		conn.Close()
	}
}

// posts runs every kind of POST once and returns their errors. The
// retry tests run it with clients made Plain: their shares are POSTs
// alone, with no status asked first for the zero-knowledge mode.
func posts(c *client.Client) map[string]error {
	ctx := context.Background()
	errs := map[string]error{}
	_, errs["share"] = c.Share(ctx, "the value", &client.ShareOptions{Passphrase: "pw"})
	_, errs["generate"] = c.Generate(ctx, nil)
	_, errs["reveal"] = c.Reveal(ctx, hostileSecretKey, "pw")
	_, errs["burn"] = c.Burn(ctx, hostileMetadataKey)
	return errs
}

// Against a server that honours Idempotency-Key, a POST that met a
// server error or a cut connection is tried again with the same key and
// body, until it succeeds, at most MaxAttempts times in all.
func TestRetriesWithIdempotency(t *testing.T) {
	for name, failWith := range map[string]http.HandlerFunc{"5xx": serverError, "cut": cut} {
		t.Run(name, func(t *testing.T) {
			f := newFlaky(t, true, 2, failWith)
			c := mustNew(t, f.srv.URL, &client.Options{Plain: true})
			for op, err := range posts(c) {
				require.NoError(t, err, op)
			}
			byKey := map[string][]captured{}
			for _, r := range f.requests() {
				if r.method == http.MethodPost {
					byKey[r.idemKey] = append(byKey[r.idemKey], r)
				}
			}
			require.Len(t, byKey, 4, "one key per call")
			for _, tries := range byKey {
				require.Len(t, tries, 3, "two failures, then success")
				for _, r := range tries[1:] {
					assert.Equal(t, tries[0].body, r.body, "the same body")
					assert.Equal(t, tries[0].path, r.path)
				}
			}
			assert.Equal(t, 1, f.count("/api/v1/status"), "the server's support asked once")

			// Bounded: a server that keeps failing gets MaxAttempts tries.
			f = newFlaky(t, true, 100, failWith)
			c = mustNew(t, f.srv.URL, &client.Options{MaxAttempts: 4, Plain: true})
			for op, err := range posts(c) {
				require.Error(t, err, op)
			}
			assert.Equal(t, 16, len(f.requests())-f.count("/api/v1/status"))
			c = mustNew(t, f.srv.URL, &client.Options{MaxAttempts: 1, Plain: true})
			n := len(f.requests())
			for op, err := range posts(c) {
				require.Error(t, err, op)
			}
			assert.Equal(t, n+4, len(f.requests()), "MaxAttempts 1: no retry, no status asked")
		})
	}
}

// Against a server that does not say it honours Idempotency-Key (the
// reference), a POST is not tried again after a failure that may have
// reached the server: a second share could store a second secret.
func TestNoRetryWithoutIdempotency(t *testing.T) {
	for name, failWith := range map[string]http.HandlerFunc{"5xx": serverError, "cut": cut} {
		t.Run(name, func(t *testing.T) {
			f := newFlaky(t, false, 1, failWith)
			c := mustNew(t, f.srv.URL, nil)
			for op, err := range posts(c) {
				require.Error(t, err, op)
			}
			assert.Equal(t, 1, f.count("/api/v1/status"), "asked once, and the answer kept")
			for _, p := range []string{"/api/v1/share", "/api/v1/generate", "/api/v1/secret/" + hostileSecretKey, "/api/v1/private/" + hostileMetadataKey + "/burn"} {
				assert.Equal(t, 1, f.count(p), p)
			}
			// Status refreshes what the client knows.
			f.honours.Store(true)
			_, err := c.Status(context.Background())
			require.NoError(t, err)
			for op, err := range posts(c) {
				require.NoError(t, err, op)
			}
		})
	}
}

// 4xx answers are never tried again, even by a server that honours the
// key; a Retry-After is waited for, unless it is too long.
func TestRetryLimits(t *testing.T) {
	ctx := context.Background()
	f := newFlaky(t, true, 1, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-OTS-Intended-Status", "429")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"Cripes! You have been rate limited."}`))
	})
	c := mustNew(t, f.srv.URL, &client.Options{Plain: true})
	for op, err := range posts(c) {
		require.ErrorIs(t, err, client.ErrRateLimited, op)
	}
	assert.Len(t, f.requests(), 4)

	var retryAfter atomic.Value
	retryAfter.Store("1")
	f = newFlaky(t, true, 1, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", retryAfter.Load().(string))
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c = mustNew(t, f.srv.URL, &client.Options{Plain: true})
	start := time.Now()
	_, err := c.Share(ctx, "x", nil)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "Retry-After honoured")

	retryAfter.Store("3600")
	_, err = c.Share(ctx, "x", nil)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, time.Hour, ae.RetryAfter)

	// A context that ends before the next try: no wait for nothing.
	retryAfter.Store("2")
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = c.Share(cctx, "x", nil)
	require.ErrorAs(t, err, &ae)
	assert.Less(t, time.Since(start), 400*time.Millisecond)
}

// A request that never reached the server (no connection could be
// made) is tried again whatever the server, POSTs included.
func TestRetryWhenNeverSent(t *testing.T) {
	f := newFlaky(t, false, 0, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := ln.Addr().String()
	require.NoError(t, ln.Close())
	var dials atomic.Int32
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1)%2 == 1 {
			addr = refused // every other dial meets a closed port
		}
		return d.DialContext(ctx, network, addr)
	}, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := mustNew(t, f.srv.URL, &client.Options{HTTPClient: &http.Client{Transport: tr}, Plain: true})
	for op, err := range posts(c) {
		require.NoError(t, err, op)
	}
	assert.Len(t, f.requests(), 4, "each call reached the server once")
	assert.Equal(t, int32(8), dials.Load())
}

// net/http's Transport replays a request that carries an Idempotency-Key
// when a reused connection breaks after it was sent. The client gives it
// no body it can replay: against a server that does not honour the key,
// a share, a generate, a reveal or a burn cut off after the server read
// it is sent once.
func TestTransportDoesNotReplay(t *testing.T) {
	f := newFlaky(t, false, 1, cut)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := mustNew(t, f.srv.URL, &client.Options{HTTPClient: &http.Client{Transport: tr}, MaxAttempts: 1})
	ctx := context.Background()
	for _, op := range []func() error{
		func() error { _, err := c.Share(ctx, "the value", nil); return err },
		func() error { _, err := c.Generate(ctx, nil); return err },
		func() error { _, err := c.Reveal(ctx, hostileSecretKey, ""); return err },
		func() error { _, err := c.Burn(ctx, hostileMetadataKey); return err },
	} {
		// A GET first, so that the POST goes on a reused connection.
		_, err := c.Status(ctx)
		require.NoError(t, err)
		n := len(f.requests())
		require.Error(t, op())
		assert.Equal(t, n+1, len(f.requests()), "sent once")
	}
}
