package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/client"
)

// answer is a recorded answer of the reference service.
type answer struct {
	file     string // in testdata
	intended int    // X-OTS-Intended-Status of an error (sent with HTTP 404)
}

// reference serves recorded answers by "METHOD path" and records the
// requests it got.
type reference struct {
	srv *httptest.Server

	mu    sync.Mutex
	forms []url.Values
	reqs  []*http.Request
}

func newReference(t *testing.T, answers map[string]answer) *reference {
	t.Helper()
	ref := &reference{}
	ref.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if !assert.NoError(t, err) {
			return
		}
		form, err := url.ParseQuery(string(body))
		assert.NoError(t, err)
		ref.mu.Lock()
		ref.forms = append(ref.forms, form)
		ref.reqs = append(ref.reqs, r)
		ref.mu.Unlock()

		a, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			a = answer{file: "-", intended: http.StatusNotFound}
		}
		b, err := os.ReadFile(filepath.Join("testdata", a.file))
		if err != nil {
			b = []byte(`{"message":"Not Found"}`)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if a.intended != 0 {
			w.Header().Set("X-OTS-Intended-Status", strconv.Itoa(a.intended))
			w.WriteHeader(http.StatusNotFound)
		}
		w.Write(b)
	}))
	t.Cleanup(ref.srv.Close)
	return ref
}

func (ref *reference) last() (*http.Request, url.Values) {
	ref.mu.Lock()
	defer ref.mu.Unlock()
	return ref.reqs[len(ref.reqs)-1], ref.forms[len(ref.forms)-1]
}

const (
	refSecretKey   = "f6h1xkd8yy0r3m62vqpmkh4wnbwg0q5"
	refMetadataKey = "qjpz8b5yx0dnp1v9ia4z6kymsm36mmw"
	refCreated     = 1767322800
)

func TestReferenceAnswers(t *testing.T) {
	ref := newReference(t, map[string]answer{
		"GET /api/v1/status":                               {file: "status.json"},
		"POST /api/v1/share":                               {file: "share.json"},
		"POST /api/v1/generate":                            {file: "generate.json"},
		"POST /api/v1/secret/" + refSecretKey:              {file: "secret.json"},
		"GET /api/v1/private/" + refMetadataKey:            {file: "receipt_received.json"},
		"POST /api/v1/private/" + refMetadataKey + "/burn": {file: "burn.json"},
		"GET /api/v1/private/recent":                       {file: "recent.json"},
	})
	c, err := client.New(ref.srv.URL, &client.Options{CustomerID: "delano@example.com", APIToken: "tok"})
	require.NoError(t, err)
	ctx := context.Background()
	created := time.Unix(refCreated, 0).UTC()

	s, err := c.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, "nominal", s.Status)
	r, _ := ref.last()
	user, pass, ok := r.BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "delano@example.com", user)
	assert.Equal(t, "tok", pass)

	m, err := c.Share(ctx, "hunter2\n", &client.ShareOptions{
		Passphrase: "a b&c", TTL: time.Hour, Recipients: []string{"dev@example.com", "ops@example.org"},
	})
	require.NoError(t, err)
	r, form := ref.last()
	assert.Empty(t, r.URL.RawQuery)
	assert.Equal(t, url.Values{
		"secret": {"hunter2\n"}, "passphrase": {"a b&c"}, "ttl": {"3600"},
		"recipient": {"dev@example.com", "ops@example.org"},
	}, form)
	assert.Equal(t, &client.Metadata{
		CustomerID: "anon", MetadataKey: refMetadataKey, SecretKey: refSecretKey, State: client.StateNew,
		TTL: time.Hour, MetadataTTL: 2 * time.Hour, SecretTTL: time.Hour,
		Created: created, Updated: created, Recipients: []string{}, PassphraseRequired: true,
		Link: client.SecretKey(ref.srv.URL + "/secret/" + refSecretKey), Raw: m.Raw,
	}, m)

	g, err := c.Generate(ctx, &client.GenerateOptions{Length: 12})
	require.NoError(t, err)
	_, form = ref.last()
	assert.Equal(t, url.Values{"length": {"12"}}, form)
	assert.Equal(t, "Xk7#mQ2$vR9p", g.Value)
	assert.Equal(t, client.StateViewed, g.State)
	assert.Equal(t, 7*24*time.Hour, g.TTL)

	sec, err := c.Reveal(ctx, client.SecretKey("https://onetimesecret.com/secret/"+refSecretKey), "a b&c")
	require.NoError(t, err)
	_, form = ref.last()
	assert.Equal(t, url.Values{"passphrase": {"a b&c"}}, form)
	assert.Equal(t, "hunter2\n", sec.Value)
	assert.Equal(t, client.SecretKey(refSecretKey), sec.Key)

	rc, err := c.Receipt(ctx, client.MetadataKey("https://onetimesecret.com/receipt/"+refMetadataKey))
	require.NoError(t, err)
	assert.Equal(t, client.StateReceived, rc.State)
	assert.Empty(t, rc.SecretKey)
	assert.Zero(t, rc.SecretTTL)
	assert.Equal(t, created.Add(5*time.Minute), rc.Received)
	assert.False(t, rc.PassphraseRequired)

	b, err := c.Burn(ctx, refMetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateBurned, b.State)
	assert.Equal(t, "f6h1xk", b.ShortKey)
	assert.Equal(t, client.MetadataKey(refMetadataKey), b.MetadataKey)
	assert.Equal(t, "delano@example.com", b.CustomerID)
	assert.Equal(t, []string{"de*****@e*****.com"}, b.Recipients)
	assert.Empty(t, b.SecretKey)

	rs, err := c.Recent(ctx)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, client.MetadataKey("7vq2c9n3x1m0b8z6l4k2j0h9g7f5d3s"), rs[0].MetadataKey)
	assert.Equal(t, []string{"de*****@e*****.com", "op*****@e*****.org"}, rs[0].Recipients)
	assert.Equal(t, "secrets.example.com", rs[0].ShareDomain)
	assert.Equal(t, client.StateNew, rs[1].State)
	assert.JSONEq(t, `{"custid":"delano@example.com","metadata_key":"qjpz8b5yx0dnp1v9ia4z6kymsm36mmw","ttl":3600,"metadata_ttl":6000,"secret_ttl":null,"state":"new","updated":1767322800,"created":1767322800,"recipient":[],"share_domain":""}`, string(rs[1].Raw))
}

func TestReferenceLegacyShapes(t *testing.T) {
	ref := newReference(t, map[string]answer{
		"GET /api/v1/private/" + refMetadataKey:            {file: "legacy_receipt_strings.json"},
		"POST /api/v1/private/" + refMetadataKey + "/burn": {file: "legacy_burn_bare.json"},
	})
	c, err := client.New(ref.srv.URL, nil)
	require.NoError(t, err)
	ctx := context.Background()
	created := time.Unix(refCreated, 0).UTC()

	m, err := c.Receipt(ctx, refMetadataKey)
	require.NoError(t, err)
	assert.Equal(t, &client.Metadata{
		CustomerID: "anon", MetadataKey: refMetadataKey, SecretKey: refSecretKey, State: client.StateViewed,
		TTL: time.Hour, MetadataTTL: 7199 * time.Second, SecretTTL: 3599 * time.Second,
		Created: created, Updated: created.Add(time.Second),
		Recipients: []string{"de*****@e*****.com"}, PassphraseRequired: true,
		Raw: m.Raw,
	}, m)
	r, _ := ref.last()
	assert.Empty(t, r.Header.Get("Authorization"), "no Basic auth when anonymous")

	b, err := c.Burn(ctx, refMetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateBurned, b.State)
	assert.Equal(t, client.MetadataKey(refMetadataKey), b.MetadataKey)
	assert.Equal(t, []string{}, b.Recipients)
	assert.Empty(t, b.ShortKey)
	assert.Zero(t, b.MetadataTTL)
}

func TestReferenceErrors(t *testing.T) {
	ref := newReference(t, map[string]answer{
		"POST /api/v1/secret/" + refSecretKey:              {file: "error_unknown.json", intended: 404},
		"POST /api/v1/private/" + refMetadataKey + "/burn": {file: "error_unknown.json", intended: 404},
		"GET /api/v1/private/" + refMetadataKey:            {file: "error_unknown.json"},
		"GET /api/v1/private/recent":                       {file: "error_unauthorized.json", intended: 401},
		"POST /api/v1/share":                               {file: "error_ratelimited.json", intended: 429},
		"POST /api/v1/generate":                            {file: "error_nothing.json", intended: 400},
	})
	c, err := client.New(ref.srv.URL, nil)
	require.NoError(t, err)
	ctx := context.Background()
	var ae *client.APIError

	_, err = c.Reveal(ctx, refSecretKey, "")
	require.ErrorIs(t, err, client.ErrNotFound)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 404, ae.IntendedStatus)
	assert.NotContains(t, err.Error(), refSecretKey, "the echoed secret_key is not kept")
	_, err = c.Burn(ctx, refMetadataKey)
	require.ErrorIs(t, err, client.ErrNotFound)
	_, err = c.Receipt(ctx, refMetadataKey)
	require.ErrorIs(t, err, client.ErrNotFound, "answered with 200 and no header: by the message")
	_, err = c.Recent(ctx)
	require.ErrorIs(t, err, client.ErrUnauthorized)
	_, err = c.Share(ctx, "x", nil)
	require.ErrorIs(t, err, client.ErrRateLimited)
	_, err = c.Generate(ctx, nil)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "You did not provide anything to share", ae.Message)
	assert.Equal(t, 400, ae.IntendedStatus)
	assert.Equal(t, 404, ae.StatusCode)
	for _, target := range []error{client.ErrNotFound, client.ErrUnauthorized, client.ErrRateLimited} {
		assert.NotErrorIs(t, err, target)
	}
	// An unrouted path: "Not Found" is not "Unknown secret".
	_, err = c.Status(ctx)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "Not Found", ae.Message)
	assert.NotErrorIs(t, err, client.ErrNotFound)
}

// Answers that are not the API's: a proxy's page, a 200 that is not JSON.
func TestForeignAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/share":
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte("<html>slow down " + r.URL.Path + "</html>"))
		case "/api/v1/generate":
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>bad gateway</html>"))
		case "/api/v1/secret/abc":
			w.Write([]byte("<html>not json</html>"))
		default:
			w.Write([]byte(`{"unexpected":true}`))
		}
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, nil)
	require.NoError(t, err)
	ctx := context.Background()
	var ae *client.APIError

	_, err = c.Share(ctx, "x", nil)
	require.ErrorIs(t, err, client.ErrRateLimited)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 30*time.Second, ae.RetryAfter)
	assert.Equal(t, "Too Many Requests", ae.Message)
	assert.NotContains(t, err.Error(), "html")

	_, err = c.Generate(ctx, nil)
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusBadGateway, ae.IntendedStatus)

	_, err = c.Reveal(ctx, "abc", "")
	require.ErrorIs(t, err, client.ErrMalformedAnswer)
	_, err = c.Receipt(ctx, "abc")
	require.ErrorIs(t, err, client.ErrMalformedAnswer)
	_, err = c.Burn(ctx, "abc")
	require.ErrorIs(t, err, client.ErrMalformedAnswer)
	_, err = c.Recent(ctx)
	require.ErrorIs(t, err, client.ErrMalformedAnswer)
}
