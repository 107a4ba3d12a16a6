package client_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/client"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/onetimetest"
	"github.com/onetimego/onetime/ratelimit"
)

var testUsers = map[string]string{"alice": "alicetoken", "bob": "bobtoken"}

// seen is what the server saw of one request.
type seen struct {
	method, path, rawQuery, contentType, userAgent, idemKey string
	contentLength                                           int64
	auth                                                    bool
}

// env is an httpapi server on the memory store with a fake clock, and a
// record of the requests it served.
type env struct {
	srv   *httptest.Server
	clock *onetimetest.Clock

	mu   sync.Mutex
	reqs []seen
}

// newEnv starts httpapi over a Service on the memory store. The options
// may be nil; Auth is always testUsers.
func newEnv(t *testing.T, svcOpts *onetime.Options, apiOpts *httpapi.Options) *env {
	t.Helper()
	if svcOpts == nil {
		svcOpts = &onetime.Options{}
	}
	svcOpts.KDFConcurrency = 1
	svc, clock := onetimetest.NewService(t, svcOpts)
	var ao httpapi.Options
	if apiOpts != nil {
		ao = *apiOpts
	}
	ao.Auth = access.NewBasicAuth(testUsers)
	h, err := httpapi.New(svc, &ao)
	require.NoError(t, err)
	e := &env{clock: clock}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.reqs = append(e.reqs, seen{
			method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery,
			contentType: r.Header.Get("Content-Type"), userAgent: r.Header.Get("User-Agent"),
			idemKey: r.Header.Get("Idempotency-Key"), contentLength: r.ContentLength,
			auth: r.Header.Get("Authorization") != "",
		})
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// client returns an anonymous client of the server, or a customer's when
// custid is set. It shares in the server-side mode (Options.Plain): the
// tests of this file check v1's exchanges; zk_test.go checks the
// zero-knowledge mode.
func (e *env) client(t *testing.T, custid string) *client.Client {
	t.Helper()
	o := &client.Options{Plain: true}
	if custid != "" {
		o.CustomerID, o.APIToken = custid, testUsers[custid]
	}
	c, err := client.New(e.srv.URL, o)
	require.NoError(t, err)
	return c
}

func (e *env) requests() []seen {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]seen(nil), e.reqs...)
}

func TestShareRevealLifecycle(t *testing.T) {
	e := newEnv(t, nil, nil)
	c := e.client(t, "")
	ctx := context.Background()

	value := "hunter2\n"
	m, err := c.Share(ctx, value, &client.ShareOptions{Passphrase: "open sesame", TTL: time.Hour})
	require.NoError(t, err)
	assert.NotEmpty(t, m.SecretKey)
	assert.NotEmpty(t, m.MetadataKey)
	assert.Equal(t, "anon", m.CustomerID)
	assert.Equal(t, client.StateNew, m.State)
	assert.Equal(t, time.Hour, m.TTL)
	assert.Equal(t, time.Hour, m.SecretTTL)
	assert.Equal(t, 2*time.Hour, m.MetadataTTL)
	assert.True(t, m.PassphraseRequired)
	assert.Equal(t, onetimetest.Start(), m.Created)
	assert.Equal(t, onetimetest.Start(), m.Updated)
	assert.True(t, m.Received.IsZero())
	assert.Equal(t, []string{}, m.Recipients)
	assert.Empty(t, m.Value)
	assert.Contains(t, string(m.Raw), `"metadata_key"`)
	assert.Equal(t, e.srv.URL+"/secret/"+string(m.SecretKey), c.SecretLink(m.SecretKey))
	assert.Equal(t, e.srv.URL+"/private/"+string(m.MetadataKey), c.ReceiptLink(m.MetadataKey))

	// The reference's states: the first read says new, later ones viewed.
	r, err := c.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateNew, r.State)
	assert.Equal(t, m.SecretKey, r.SecretKey)
	r, err = c.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateViewed, r.State)

	// A missing or wrong passphrase is "Unknown secret", and the secret
	// survives it.
	_, err = c.Reveal(ctx, m.SecretKey, "")
	require.ErrorIs(t, err, client.ErrNotFound)
	_, err = c.Reveal(ctx, m.SecretKey, "wrong")
	require.ErrorIs(t, err, client.ErrNotFound)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Unknown secret", ae.Message)
	assert.Equal(t, http.StatusNotFound, ae.StatusCode)
	assert.Equal(t, http.StatusNotFound, ae.IntendedStatus)
	assert.NotErrorIs(t, err, client.ErrUnauthorized)
	assert.NotErrorIs(t, err, client.ErrRateLimited)
	assert.NotContains(t, err.Error(), string(m.SecretKey))
	assert.NotContains(t, err.Error(), "wrong")

	e.clock.Advance(10 * time.Minute)
	s, err := c.Reveal(ctx, m.SecretKey, "open sesame")
	require.NoError(t, err)
	assert.Equal(t, value, s.Value)
	assert.Equal(t, m.SecretKey, s.Key)
	assert.Empty(t, s.ShareDomain)

	_, err = c.Reveal(ctx, m.SecretKey, "open sesame")
	require.ErrorIs(t, err, client.ErrNotFound)

	r, err = c.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateReceived, r.State)
	assert.Empty(t, r.SecretKey)
	assert.Equal(t, onetimetest.Start().Add(10*time.Minute), r.Received)
	assert.False(t, r.State.Alive())

	_, err = c.Burn(ctx, m.MetadataKey)
	require.ErrorIs(t, err, client.ErrNotFound)
}

func TestBurn(t *testing.T) {
	e := newEnv(t, nil, nil)
	c := e.client(t, "")
	ctx := context.Background()
	m, err := c.Share(ctx, "burn me", nil)
	require.NoError(t, err)
	assert.False(t, m.PassphraseRequired)
	assert.Equal(t, 7*24*time.Hour, m.TTL, "the server's default TTL")

	b, err := c.Burn(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateBurned, b.State)
	assert.Equal(t, m.MetadataKey, b.MetadataKey)
	assert.Equal(t, string(m.SecretKey[:6]), b.ShortKey)
	assert.Contains(t, string(b.Raw), `"secret_shortkey"`)

	_, err = c.Reveal(ctx, m.SecretKey, "")
	require.ErrorIs(t, err, client.ErrNotFound)
	_, err = c.Burn(ctx, m.MetadataKey)
	require.ErrorIs(t, err, client.ErrNotFound)
	r, err := c.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateBurned, r.State)
}

func TestGenerate(t *testing.T) {
	e := newEnv(t, nil, nil)
	c := e.client(t, "")
	ctx := context.Background()

	m, err := c.Generate(ctx, &client.GenerateOptions{Length: 20, TTL: 30 * time.Minute, Passphrase: "pw"})
	require.NoError(t, err)
	assert.Len(t, m.Value, 20)
	assert.Equal(t, client.StateNew, m.State, "the answer to generate says new (the v1 spec)")
	r, err := c.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateViewed, r.State, "and the receipt is viewed from then on")
	assert.Equal(t, 30*time.Minute, m.TTL)
	assert.True(t, m.PassphraseRequired)

	s, err := c.Reveal(ctx, m.SecretKey, "pw")
	require.NoError(t, err)
	assert.Equal(t, m.Value, s.Value)

	m, err = c.Generate(ctx, nil)
	require.NoError(t, err)
	assert.Len(t, m.Value, 12, "the server's default length")
	assert.False(t, m.PassphraseRequired)
}

func TestValuesRoundTrip(t *testing.T) {
	e := newEnv(t, nil, nil)
	c := e.client(t, "")
	ctx := context.Background()
	for i, v := range []string{
		"a&b=c+d%20e f;g\x00h",
		"ünïcødé 秘密 🔑\r\n\n",
		"recipient=x&passphrase=y",
		strings.Repeat("0123456789abcdef", 40000), // 640 KB: well past any URL
	} {
		var pass string
		if i == 0 {
			pass = "p&q=r s%" // escaped too (one is enough: each costs a key derivation)
		}
		m, err := c.Share(ctx, v, &client.ShareOptions{Passphrase: pass})
		require.NoError(t, err)
		s, err := c.Reveal(ctx, m.SecretKey, pass)
		require.NoError(t, err)
		assert.Equal(t, v, s.Value)
	}
}

func TestTTLRoundsUpToSeconds(t *testing.T) {
	e := newEnv(t, nil, nil)
	c := e.client(t, "")
	m, err := c.Share(context.Background(), "x", &client.ShareOptions{TTL: 2*time.Hour + 500*time.Millisecond})
	require.NoError(t, err)
	assert.Equal(t, 2*time.Hour+time.Second, m.TTL)
	// The server clamps: below its minimum of a minute.
	m, err = c.Share(context.Background(), "x", &client.ShareOptions{TTL: time.Nanosecond})
	require.NoError(t, err)
	assert.Equal(t, time.Minute, m.TTL)
}

func TestExpired(t *testing.T) {
	e := newEnv(t, nil, nil)
	c := e.client(t, "")
	ctx := context.Background()
	m, err := c.Share(ctx, "x", &client.ShareOptions{TTL: time.Hour})
	require.NoError(t, err)
	e.clock.Advance(time.Hour)
	_, err = c.Reveal(ctx, m.SecretKey, "")
	require.ErrorIs(t, err, client.ErrNotFound)
	r, err := c.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateExpired, r.State)
	assert.Zero(t, r.SecretTTL)
	assert.Equal(t, time.Hour, r.MetadataTTL)
}

func TestRecentAndCustomers(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	alice := e.client(t, "alice")

	m1, err := alice.Share(ctx, "one", &client.ShareOptions{Recipients: []string{"dev@example.com", " ", "ops@example.org"}})
	require.NoError(t, err)
	assert.Equal(t, "alice", m1.CustomerID)
	require.Len(t, m1.Recipients, 2, "recipient is sent once per address")
	for _, r := range m1.Recipients {
		assert.Contains(t, r, "*")
		assert.NotContains(t, r, "dev@example.com")
	}
	e.clock.Advance(time.Second)
	m2, err := alice.Generate(ctx, &client.GenerateOptions{Recipients: []string{"dev@example.com"}})
	require.NoError(t, err)
	assert.Len(t, m2.Recipients, 1)

	rs, err := alice.Recent(ctx)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, m2.MetadataKey, rs[0].MetadataKey, "newest first")
	assert.Equal(t, m1.MetadataKey, rs[1].MetadataKey)
	for _, r := range rs {
		assert.Empty(t, r.SecretKey)
		assert.Zero(t, r.SecretTTL)
		assert.Equal(t, "alice", r.CustomerID)
		assert.NotEmpty(t, r.Raw)
	}

	bob := e.client(t, "bob")
	rs, err = bob.Recent(ctx)
	require.NoError(t, err)
	assert.Empty(t, rs)

	// Without credentials, or with wrong ones: Not authorized.
	_, err = e.client(t, "").Recent(ctx)
	require.ErrorIs(t, err, client.ErrUnauthorized)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Not authorized", ae.Message)
	assert.Equal(t, http.StatusUnauthorized, ae.IntendedStatus)
	assert.NotErrorIs(t, err, client.ErrNotFound)

	mallory, err := client.New(e.srv.URL, &client.Options{CustomerID: "alice", APIToken: "guess"})
	require.NoError(t, err)
	_, err = mallory.Status(ctx)
	require.ErrorIs(t, err, client.ErrUnauthorized)
	_, err = mallory.Share(ctx, "x", nil)
	require.ErrorIs(t, err, client.ErrUnauthorized)

	// Anonymous callers cannot name recipients.
	_, err = e.client(t, "").Share(ctx, "x", &client.ShareOptions{Recipients: []string{"dev@example.com"}})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "An account is required to send emails.", ae.Message)
	assert.Equal(t, http.StatusBadRequest, ae.IntendedStatus)
	assert.NotContains(t, err.Error(), "dev@example.com")
}

func TestStatus(t *testing.T) {
	e := newEnv(t, nil, nil)
	s, err := e.client(t, "").Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "nominal", s.Status)
	assert.Equal(t, "en", s.Locale)
	assert.JSONEq(t, `{"status":"nominal","locale":"en","idempotency":true,"zero_knowledge":["zk1"]}`, string(s.Raw))
	assert.True(t, s.Idempotency, "httpapi honours Idempotency-Key")
	assert.Equal(t, []string{"zk1"}, s.ZeroKnowledge, "httpapi takes zero-knowledge shares")
	s, err = e.client(t, "bob").Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "nominal", s.Status)
}

// Every request goes out with its parameters in a form body, never in
// the query string, and Basic auth only when credentials are set.
func TestRequestsOnTheWire(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	for _, custid := range []string{"", "alice"} {
		c := e.client(t, custid)
		m, err := c.Share(ctx, "v", &client.ShareOptions{Passphrase: "p", TTL: time.Hour})
		require.NoError(t, err)
		_, err = c.Generate(ctx, &client.GenerateOptions{Length: 8})
		require.NoError(t, err)
		_, err = c.Receipt(ctx, m.MetadataKey)
		require.NoError(t, err)
		_, err = c.Reveal(ctx, m.SecretKey, "p")
		require.NoError(t, err)
		_, err = c.Burn(ctx, m.MetadataKey)
		require.ErrorIs(t, err, client.ErrNotFound)
		_, err = c.Status(ctx)
		require.NoError(t, err)
		_, err = c.Recent(ctx)
		if custid == "" {
			require.ErrorIs(t, err, client.ErrUnauthorized)
		} else {
			require.NoError(t, err)
		}
	}
	reqs := e.requests()
	require.Len(t, reqs, 14)
	routes := []string{"POST share", "POST generate", "GET private/", "POST secret/", "POST private/", "GET status", "GET private/recent"}
	for i, r := range reqs {
		assert.Empty(t, r.rawQuery, "request %d", i)
		assert.Equal(t, client.DefaultUserAgent, r.userAgent)
		assert.Equal(t, i >= 7, r.auth, "request %d: Basic auth only with credentials", i)
		assert.True(t, strings.HasPrefix(r.method+" "+strings.TrimPrefix(r.path, "/api/v1/"), routes[i%7]), "request %d: %s %s", i, r.method, r.path)
		if r.method == http.MethodPost {
			assert.Equal(t, "application/x-www-form-urlencoded", r.contentType)
		}
	}
	assert.True(t, strings.HasSuffix(reqs[4].path, "/burn"))
}

func TestUserAgent(t *testing.T) {
	e := newEnv(t, nil, nil)
	c, err := client.New(e.srv.URL, &client.Options{UserAgent: "myapp/2"})
	require.NoError(t, err)
	_, err = c.Status(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "myapp/2", e.requests()[0].userAgent)
}

func TestLinksAccepted(t *testing.T) {
	e := newEnv(t, nil, nil)
	c := e.client(t, "")
	ctx := context.Background()
	for _, form := range []string{"/private/", "/receipt/", "/metadata/"} {
		m, err := c.Share(ctx, "linked", nil)
		require.NoError(t, err)
		r, err := c.Receipt(ctx, client.MetadataKey(" "+e.srv.URL+form+string(m.MetadataKey)+"/\n"))
		require.NoError(t, err)
		assert.Equal(t, m.MetadataKey, r.MetadataKey)

		// A secret link where a receipt belongs is refused before sending.
		_, err = c.Burn(ctx, client.MetadataKey(c.SecretLink(m.SecretKey)))
		require.ErrorIs(t, err, client.ErrInvalidKey)
		assert.NotContains(t, err.Error(), string(m.SecretKey))

		s, err := c.Reveal(ctx, client.SecretKey(c.SecretLink(m.SecretKey)), "")
		require.NoError(t, err)
		assert.Equal(t, "linked", s.Value)
	}
	m, err := c.Share(ctx, "burn by link", nil)
	require.NoError(t, err)
	_, err = c.Reveal(ctx, client.SecretKey(c.ReceiptLink(m.MetadataKey)), "")
	require.ErrorIs(t, err, client.ErrInvalidKey)
	b, err := c.Burn(ctx, client.MetadataKey(c.ReceiptLink(m.MetadataKey)+"/burn"))
	require.NoError(t, err)
	assert.Equal(t, client.StateBurned, b.State)
}

// A server mounted under a prefix (httpapi's BasePath), given either as
// the site or as its API root.
func TestBasePath(t *testing.T) {
	e := newEnv(t, nil, &httpapi.Options{BasePath: "/ots/api/v1/"})
	for i, base := range []string{e.srv.URL + "/ots", e.srv.URL + "/ots/", e.srv.URL + "/ots/api/v1", e.srv.URL + "/ots/api/v1/"} {
		plain := i%2 == 0 // both modes make their links under the prefix
		c, err := client.New(base, &client.Options{Plain: plain})
		require.NoError(t, err)
		assert.Equal(t, e.srv.URL+"/ots", c.BaseURL())
		m, err := c.Share(context.Background(), "mounted", nil)
		require.NoError(t, err, base)
		assert.Equal(t, !plain, m.ZeroKnowledge)
		assert.Equal(t, e.srv.URL+"/ots/secret/"+string(m.SecretKey), c.SecretLink(m.SecretKey))
		assert.True(t, strings.HasPrefix(string(m.Link), c.SecretLink(m.SecretKey)), m.Link)
		if plain {
			assert.Equal(t, c.SecretLink(m.SecretKey), string(m.Link))
		}
		s, err := c.Reveal(context.Background(), m.Link, "")
		require.NoError(t, err)
		assert.Equal(t, "mounted", s.Value)
	}
	// The wrong root: the server's "Not Found", which is not ErrNotFound.
	c, err := client.New(e.srv.URL, nil)
	require.NoError(t, err)
	_, err = c.Share(context.Background(), "x", nil)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	assert.NotErrorIs(t, err, client.ErrNotFound)
}

func TestValidationErrors(t *testing.T) {
	e := newEnv(t, &onetime.Options{MaxSize: 16, MinPassphraseLen: 4}, nil)
	c := e.client(t, "")
	ctx := context.Background()
	var ae *client.APIError

	_, err := c.Share(ctx, strings.Repeat("x", 17), nil)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Secret value exceeds the maximum size of 16 bytes", ae.Message)
	assert.Equal(t, http.StatusRequestEntityTooLarge, ae.IntendedStatus)
	assert.Equal(t, http.StatusNotFound, ae.StatusCode)
	assert.NotErrorIs(t, err, client.ErrNotFound)

	_, err = c.Share(ctx, "x", &client.ShareOptions{Passphrase: "abc"})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Passphrase must be at least 4 characters long", ae.Message)
	assert.Equal(t, http.StatusBadRequest, ae.IntendedStatus)
	assert.NotContains(t, err.Error(), "abc")

	// Refused before sending anything.
	n := len(e.requests())
	var ie *client.InputError
	_, err = c.Share(ctx, "", nil)
	require.ErrorAs(t, err, &ie)
	_, err = c.Share(ctx, "\xff\xfe", nil)
	require.ErrorAs(t, err, &ie)
	_, err = c.Share(ctx, "x", &client.ShareOptions{TTL: -time.Second})
	require.ErrorAs(t, err, &ie)
	_, err = c.Generate(ctx, &client.GenerateOptions{Length: -1})
	require.ErrorAs(t, err, &ie)
	for _, k := range []string{"", "ABC", "a/b", "abc?x", "https://host/other/abc", "../abc", "recent"} {
		_, err = c.Reveal(ctx, client.SecretKey(k), "")
		require.ErrorIs(t, err, client.ErrInvalidKey, k)
		_, err = c.Receipt(ctx, client.MetadataKey(k))
		require.ErrorIs(t, err, client.ErrInvalidKey, k)
		_, err = c.Burn(ctx, client.MetadataKey(k))
		require.ErrorIs(t, err, client.ErrInvalidKey, k)
		if k != "" {
			assert.NotContains(t, err.Error(), k)
		}
	}
	assert.Len(t, e.requests(), n)
}

// With httpapi's IntendedStatus option the HTTP status is the intended
// one, and the errors match the same.
func TestIntendedStatus(t *testing.T) {
	e := newEnv(t, nil, &httpapi.Options{IntendedStatus: true})
	c := e.client(t, "")
	ctx := context.Background()
	_, err := c.Reveal(ctx, "abcdef", "")
	require.ErrorIs(t, err, client.ErrNotFound)
	_, err = c.Recent(ctx)
	require.ErrorIs(t, err, client.ErrUnauthorized)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
	_, err = c.Share(ctx, "x", &client.ShareOptions{Recipients: []string{"a@example.com"}})
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadRequest, ae.StatusCode)
}

func TestRateLimited(t *testing.T) {
	e := newEnv(t, nil, &httpapi.Options{RateLimiter: ratelimit.New(ratelimit.Options{PerSecond: 0.001, Burst: 1})})
	c := e.client(t, "")
	ctx := context.Background()
	_, err := c.Share(ctx, "x", nil)
	require.NoError(t, err)
	_, err = c.Share(ctx, "x", nil)
	require.ErrorIs(t, err, client.ErrRateLimited)
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusTooManyRequests, ae.IntendedStatus)
	assert.NotErrorIs(t, err, client.ErrNotFound)
	_, err = c.Reveal(ctx, "abcdef", "")
	require.ErrorIs(t, err, client.ErrRateLimited)
}

// Network errors keep their cause but never the URL, which holds a key.
func TestNetworkErrorHidesKeys(t *testing.T) {
	e := newEnv(t, nil, nil)
	c := e.client(t, "")
	ctx := context.Background()
	m, err := c.Share(ctx, "secret value", &client.ShareOptions{Passphrase: "passw0rd"})
	require.NoError(t, err)
	e.srv.Close()

	check := func(err error) {
		t.Helper()
		require.Error(t, err)
		var ne *client.NetworkError
		require.ErrorAs(t, err, &ne)
		var oe *net.OpError
		assert.ErrorAs(t, err, &oe, "the cause is kept")
		for _, s := range []string{string(m.SecretKey), string(m.MetadataKey), "passw0rd", "secret value", "secret+value"} {
			assert.NotContains(t, err.Error(), s)
		}
	}
	_, err = c.Reveal(ctx, m.SecretKey, "passw0rd")
	check(err)
	assert.Contains(t, err.Error(), "secret/{key}")
	_, err = c.Receipt(ctx, m.MetadataKey)
	check(err)
	_, err = c.Burn(ctx, m.MetadataKey)
	check(err)
	_, err = c.Share(ctx, "secret value", &client.ShareOptions{Passphrase: "passw0rd"})
	check(err)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Reveal(cctx, m.SecretKey, "")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), string(m.SecretKey))
}

func TestNew(t *testing.T) {
	for _, bad := range []string{"", "onetimesecret.com", "ftp://host", "http://", "https://user:pw@host", "::"} {
		_, err := client.New(bad, nil)
		require.Error(t, err, bad)
	}
	_, err := client.New("https://host", &client.Options{CustomerID: "alice"})
	require.Error(t, err)
	_, err = client.New("https://host", &client.Options{APIToken: "token"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "token")
	c, err := client.New("https://host/?q=1#frag", nil)
	require.NoError(t, err)
	assert.Equal(t, "https://host", c.BaseURL())
	assert.Equal(t, "https://host/secret/abc", c.SecretLink("abc"))
	assert.Equal(t, "https://host/secret/abc", c.SecretLink("https://other/secret/abc"))
	assert.Empty(t, c.SecretLink("no such key!"))
	assert.Equal(t, "https://host/private/abc", c.ReceiptLink("https://other/receipt/abc"))
}

func TestKeyParsing(t *testing.T) {
	for in, want := range map[string]string{
		"abc123":                             "abc123",
		" abc123\n":                          "abc123",
		"https://h/secret/abc123":            "abc123",
		"https://h/secret/abc123/":           "abc123",
		"https://h/secret/abc123?x=1#f":      "abc123",
		"http://h:8/ots/secret/abc123":       "abc123",
		"https://h/api/v1/secret/abc123":     "abc123",
		"https://custom.example/secret/zz99": "zz99",
	} {
		k, err := client.SecretKey(in).Key()
		require.NoError(t, err, in)
		assert.Equal(t, client.SecretKey(want), k, in)
	}
	for in, want := range map[string]string{
		"abc123":                         "abc123",
		"https://h/private/abc123":       "abc123",
		"https://h/receipt/abc123":       "abc123",
		"https://h/metadata/abc123":      "abc123",
		"https://h/private/abc123/burn":  "abc123",
		"https://h/api/v1/metadata/abc1": "abc1",
	} {
		k, err := client.MetadataKey(in).Key()
		require.NoError(t, err, in)
		assert.Equal(t, client.MetadataKey(want), k, in)
	}
	for _, in := range []string{"https://h/private/abc123", "https://h/secret/ABC", "https://h/secret/", "https://h/abc123", "https://h/private/recent"} {
		_, err := client.SecretKey(in).Key()
		require.ErrorIs(t, err, client.ErrInvalidKey, in)
	}
	for _, in := range []string{"https://h/secret/abc123", "https://h/private/recent", "https://h/private/abc/x/y"} {
		_, err := client.MetadataKey(in).Key()
		require.ErrorIs(t, err, client.ErrInvalidKey, in)
	}
}

// Against a server that does not honour Idempotency-Key, Reveal and Burn
// are not tried again after a failure that may have reached the server;
// Status is.
func TestRetries(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	fails := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		n := hits[r.URL.Path]
		mu.Unlock()
		if r.URL.Path == "/api/v1/secret/abcdef" {
			// Cut the connection without an answer.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/v1/status" && n > fails {
			w.Write([]byte(`{"status":"nominal","locale":"en"}`))
			return
		}
		w.Header().Set("X-OTS-Intended-Status", "500")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"An unexpected error occurred"}`))
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, nil)
	require.NoError(t, err)
	ctx := context.Background()

	s, err := c.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, "nominal", s.Status)
	assert.False(t, s.Idempotency, "a server that does not say it honours Idempotency-Key")

	_, err = c.Reveal(ctx, "abcdef", "pw")
	var ne *client.NetworkError
	require.ErrorAs(t, err, &ne)
	_, err = c.Reveal(ctx, "abcdef", "pw")
	require.ErrorAs(t, err, &ne)
	_, err = c.Burn(ctx, "abcdef")
	var ae *client.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusInternalServerError, ae.IntendedStatus)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 2, hits["/api/v1/secret/abcdef"], "one request per Reveal")
	assert.Equal(t, 1, hits["/api/v1/private/abcdef/burn"], "one request per Burn")
	assert.Equal(t, fails+1, hits["/api/v1/status"], "Status tried until it succeeds")
}

// Status gives up when its context ends, and on errors that are not the
// server's fault.
func TestStatusGivesUp(t *testing.T) {
	e := newEnv(t, nil, nil)
	c, err := client.New(e.srv.URL, &client.Options{CustomerID: "alice", APIToken: "bad"})
	require.NoError(t, err)
	_, err = c.Status(context.Background())
	require.ErrorIs(t, err, client.ErrUnauthorized)
	assert.Len(t, e.requests(), 1, "no retry of a 401")

	e.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err = c.Status(ctx)
	var ne *client.NetworkError
	require.ErrorAs(t, err, &ne)
}

// dropFirstAnswers wraps h: the first request of each Idempotency-Key is
// served (the server acts on it) but its answer is dropped, the
// connection cut; later tries of that key pass through. It counts the
// requests that reached h by path prefix.
func dropFirstAnswers(h http.Handler, served map[string]int, mu *sync.Mutex) http.Handler {
	seenKeys := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		first := key != "" && !seenKeys[key]
		seenKeys[key] = true
		served[strings.SplitN(strings.TrimPrefix(r.URL.Path, "/api/v1/"), "/", 2)[0]]++
		mu.Unlock()
		if !first {
			h.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	})
}

// Answers lost after httpapi acted: against a server that says it honours
// Idempotency-Key (httpapi by default), the client's retry gets the first
// answer (one secret per share, every value delivered once); against one
// that does not (replays turned off), the client does not retry, so that
// no share is stored twice.
func TestLostAnswersAgainstHTTPAPI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		window time.Duration
	}{{"honoured", 0}, {"not honoured", -1}} {
		t.Run(tc.name, func(t *testing.T) { lostAnswers(t, tc.window) })
	}
}

func lostAnswers(t *testing.T, window time.Duration) {
	svc, _ := onetimetest.NewService(t, &onetime.Options{KDFConcurrency: 1, ReplayWindow: window})
	api, err := httpapi.New(svc, &httpapi.Options{Auth: access.NewBasicAuth(testUsers)})
	require.NoError(t, err)
	var mu sync.Mutex
	served := map[string]int{}
	srv := httptest.NewServer(dropFirstAnswers(api, served, &mu))
	defer srv.Close()
	// Plain: twenty shares with a passphrase would cost forty PBKDF2
	// derivations in the zero-knowledge mode (zk_test.go loses answers
	// in that mode too).
	c, err := client.New(srv.URL, &client.Options{CustomerID: "alice", APIToken: testUsers["alice"], Plain: true})
	require.NoError(t, err)
	ctx := context.Background()
	status, err := c.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, window >= 0, status.Idempotency)

	const n = 20
	if !status.Idempotency {
		// The answer is lost, and nothing is sent twice.
		for range n {
			_, err := c.Share(ctx, "lost", nil)
			var ne *client.NetworkError
			require.ErrorAs(t, err, &ne)
		}
		recent, err := c.Recent(ctx)
		require.NoError(t, err)
		assert.Len(t, recent, n, "one secret per share: none stored twice")
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, n, served["share"])
		return
	}
	values := map[string]bool{}
	for i := range n {
		v := "value " + strconv.Itoa(i)
		m, err := c.Share(ctx, v, &client.ShareOptions{Passphrase: "pw"})
		require.NoError(t, err)
		s, err := c.Reveal(ctx, m.SecretKey, "pw")
		require.NoError(t, err, "the value of a reveal whose answer was lost")
		assert.Equal(t, v, s.Value)
		values[s.Value] = true
	}
	assert.Len(t, values, n)
	recent, err := c.Recent(ctx)
	require.NoError(t, err)
	assert.Len(t, recent, n, "one secret per share")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 2*n, served["share"], "each share tried twice")
	assert.Equal(t, 2*n, served["secret"], "each reveal tried twice")
}
