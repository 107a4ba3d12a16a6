package webui_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/ratelimit"
	"github.com/onetimego/onetime/webui"
)

// behindProxy serves the pages with the test's client, 127.0.0.1, trusted
// as a proxy: X-Forwarded-For then tells the client's address.
func behindProxy(t *testing.T, o webui.Options) *site {
	o.ClientIPHeader = "X-Forwarded-For"
	o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	return newSite(t, nil, &o)
}

func forwardedFor(ip string, h http.Header) http.Header {
	out := http.Header{"X-Forwarded-For": {ip}}
	for k, v := range h {
		out[k] = v
	}
	return out
}

// heldBack checks that of n guesses made after a client spent its budget,
// all got the 429 page with Retry-After, but for those the budget
// regained (one a second) since start.
func heldBack(t *testing.T, start time.Time, n int, guess func() response) {
	t.Helper()
	refused := 0
	for range n {
		res := guess()
		if res.status != http.StatusTooManyRequests {
			continue
		}
		refused++
		assert.Contains(t, res.body, "Too many failed attempts")
		assert.Equal(t, "1", res.header.Get("Retry-After"))
		assertPageHeaders(t, res)
	}
	regained := int(time.Since(start) / time.Second)
	assert.GreaterOrEqual(t, refused, n-regained, "guesses past the budget are refused")
}

// TestGuessKeys: by default, guessing keys through the confirmation page
// (which tells whether a key exists without consuming it), the reveal and
// the receipt is held to the budget, 20 failures and then one a second,
// while other addresses are not affected.
func TestGuessKeys(t *testing.T) {
	t.Parallel()
	s := behindProxy(t, webui.Options{})
	guesses := []func(ip string) response{
		func(ip string) response {
			return s.do(http.MethodGet, "/secret/"+strings.Repeat("a", 56), nil, forwardedFor(ip, nil))
		},
		func(ip string) response {
			return s.do(http.MethodPost, "/secret/"+strings.Repeat("b", 56), url.Values{}, forwardedFor(ip, nil))
		},
		func(ip string) response {
			return s.do(http.MethodGet, "/private/"+strings.Repeat("c", 56), nil, forwardedFor(ip, nil))
		},
		func(ip string) response {
			return s.do(http.MethodGet, "/private/"+strings.Repeat("d", 56)+"/burn", nil, forwardedFor(ip, nil))
		},
	}
	start := time.Now()
	for i := range access.DefaultGuessBurst {
		res := guesses[i%len(guesses)]("192.0.2.1")
		require.Equal(t, http.StatusNotFound, res.status, res.body)
	}
	heldBack(t, start, 5, func() response { return guesses[0]("192.0.2.1") })
	if time.Since(start) < time.Second {
		assert.Equal(t, http.StatusTooManyRequests, s.do(http.MethodGet, "/", nil, forwardedFor("192.0.2.1", nil)).status,
			"refused before any work")
	}
	assert.Equal(t, http.StatusOK, s.do(http.MethodGet, "/static/style.css", nil, forwardedFor("192.0.2.1", nil)).status,
		"static files are not limited")

	// Another address shares, confirms and reveals as ever.
	for range 30 {
		res := s.do(http.MethodPost, "/share", url.Values{"secret": {"v"}}, forwardedFor("192.0.2.2", nil))
		require.Equal(t, http.StatusSeeOther, res.status, res.body)
		m, err := s.svc.Receipt(context.Background(), onetime.MetadataKey(strings.TrimPrefix(res.header.Get("Location"), "./private/")))
		require.NoError(t, err)
		path := "/secret/" + string(m.SecretKey)
		require.Equal(t, http.StatusOK, s.do(http.MethodGet, path, nil, forwardedFor("192.0.2.2", nil)).status)
		res = s.do(http.MethodPost, path, url.Values{}, forwardedFor("192.0.2.2", nil))
		require.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, "v", value(t, res.body))
	}
	assert.Equal(t, http.StatusNotFound, guesses[0]("192.0.2.2").status)
}

// TestGuessSignIn: guessing credentials through the sign-in is held to
// the budget.
func TestGuessSignIn(t *testing.T) {
	t.Parallel()
	s := behindProxy(t, webui.Options{SignInRealm: "onetime", Auth: access.NewBasicAuth(map[string]string{"ada": "token"})})
	guess := func(ip string, i int) response {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.SetBasicAuth("ada", "guess"+strconv.Itoa(i))
		return s.do(http.MethodGet, "/signin", nil, forwardedFor(ip, r.Header))
	}
	start := time.Now()
	for i := range access.DefaultGuessBurst {
		res := guess("192.0.2.1", i)
		require.Equal(t, http.StatusUnauthorized, res.status)
	}
	heldBack(t, start, 5, func() response { return guess("192.0.2.1", 99) })
	assert.Equal(t, http.StatusUnauthorized, guess("192.0.2.2", 0).status, "another address")
}

// TestGuessCountedOnce: a wrong passphrase counts once (its page is the
// confirmation page again), and what succeeds costs nothing: a receipt, a
// confirmation page, a burn of a secret already read (409: the receipt is
// real).
func TestGuessCountedOnce(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, &webui.Options{GuessLimiter: ratelimit.NewGuessLimiter(&ratelimit.GuessOptions{Burst: 2, PerSecond: 0.001})})
	m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v"), Passphrase: "right"})
	require.NoError(t, err)
	path := "/secret/" + string(m.SecretKey)
	receipt := "/private/" + string(m.MetadataKey)

	assert.Equal(t, http.StatusForbidden, s.post(path, url.Values{"passphrase": {"wrong"}}).status)
	for range 20 {
		require.Equal(t, http.StatusOK, s.get(path).status)
		require.Equal(t, http.StatusOK, s.get(receipt).status)
	}
	res := s.post(path, url.Values{"passphrase": {"right"}})
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, http.StatusConflict, s.post(receipt+"/burn", url.Values{}).status, "burning what was read")

	assert.Equal(t, http.StatusNotFound, s.get(path).status, "the second failure")
	res = s.get("/")
	assert.Equal(t, http.StatusTooManyRequests, res.status)
	// The failure regains in 1000 s, less the time the test took (the
	// limiter reads the real clock): a busy machine takes seconds.
	wait, err := strconv.Atoi(res.header.Get("Retry-After"))
	require.NoError(t, err)
	assert.LessOrEqual(t, wait, 1000)
	assert.Greater(t, wait, 900)
}

// TestGuessForgedHeader: X-Forwarded-For from a peer that is not a trusted
// proxy is ignored, so that a guesser cannot dodge the limit with a new
// address for each guess; New refuses a header without trusted proxies.
func TestGuessForgedHeader(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, &webui.Options{ClientIPHeader: "X-Forwarded-For",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	var last int
	for i := range access.DefaultGuessBurst + 1 {
		last = s.do(http.MethodGet, "/secret/"+strings.Repeat("a", 56), nil, forwardedFor("198.51.100."+strconv.Itoa(i), nil)).status
	}
	assert.Equal(t, http.StatusTooManyRequests, last, "all counted against the peer")

	_, err := webui.New(s.svc, &webui.Options{ClientIPHeader: "X-Forwarded-For"})
	assert.ErrorContains(t, err, "TrustedProxies")
}

// TestNoGuessLimit: access.NoGuessLimit turns the limit off.
func TestNoGuessLimit(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, &webui.Options{GuessLimiter: access.NoGuessLimit})
	for range 3 * access.DefaultGuessBurst {
		require.Equal(t, http.StatusNotFound, s.get("/secret/"+strings.Repeat("a", 56)).status)
	}
}
