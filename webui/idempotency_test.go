package webui_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/browsertest"
	"github.com/onetimego/onetime/onetimetest"
	"github.com/onetimego/onetime/store/memory"
)

var nonceRE = regexp.MustCompile(`<input type="hidden" name="nonce" value="([^"]+)">`)

// nonce returns the nonce of the one form of a page.
func nonce(t *testing.T, body string) string {
	t.Helper()
	m := nonceRE.FindAllStringSubmatch(body, -1)
	require.Len(t, m, 1, body)
	return m[0][1]
}

// countedSite is a site whose store the test can count.
func countedSite(t *testing.T, opts *onetime.Options) (*site, *memory.Store) {
	t.Helper()
	st := memory.New()
	clock := onetimetest.NewClock()
	var o onetime.Options
	if opts != nil {
		o = *opts
	}
	o.Now = clock.Now
	svc, err := onetime.New(st, bytes.Repeat([]byte("w"), onetime.MinServerSecretLen), &o)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	return serveSite(t, svc, clock, nil), st
}

// Every form that posts carries a nonce of its own, made when the page
// is rendered.
func TestFormNonces(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	seen := map[string]bool{}
	for range 3 {
		n := nonce(t, s.get("/").body)
		assert.Len(t, n, 26)
		assert.False(t, seen[n], "a nonce per rendered form")
		seen[n] = true
	}
	receipt := s.share(url.Values{"secret": {"v"}})
	_, link := s.receipt(receipt)
	seen[nonce(t, s.get(secretPath(t, s, link)).body)] = true
	seen[nonce(t, s.get(receipt+"/burn").body)] = true
	assert.Len(t, seen, 5)
	// A refused share shows the form again, with a new nonce.
	res := s.post("/share", url.Values{"secret": {"v"}, "ttl": {"soon"}})
	require.Equal(t, http.StatusBadRequest, res.status)
	assert.False(t, seen[nonce(t, res.body)])
}

// The reveal form posted again with its nonce shows the value again
// within the window (a reload, a retry after a lost answer); a form
// rendered anew, a post without a nonce, and a repeat after the window
// find the secret gone. The receipt says received, once.
func TestRevealResubmitted(t *testing.T) {
	t.Parallel()
	s := newSite(t, &onetime.Options{ReplayWindow: 10 * time.Second}, nil)
	receipt := s.share(url.Values{"secret": {"read me\nonce"}, "passphrase": {"pw"}})
	_, link := s.receipt(receipt)
	page := secretPath(t, s, link)
	n := nonce(t, s.get(page).body)
	form := url.Values{"passphrase": {"pw"}, "nonce": {n}}

	first := s.post(page, form)
	require.Equal(t, http.StatusOK, first.status, first.body)
	assert.Equal(t, "read me\nonce", value(t, first.body))
	again := s.post(page, form)
	require.Equal(t, http.StatusOK, again.status, again.body)
	assert.Equal(t, "read me\nonce", value(t, again.body))

	assert.Equal(t, http.StatusNotFound, s.get(page).status, "the link itself: gone")
	assert.Equal(t, http.StatusNotFound, s.post(page, url.Values{"passphrase": {"pw"}, "nonce": {"another"}}).status)
	assert.Equal(t, http.StatusNotFound, s.post(page, url.Values{"passphrase": {"pw"}}).status)
	state, _ := s.receipt(receipt)
	assert.Equal(t, "received", state)

	s.clock.Advance(10 * time.Second)
	assert.Equal(t, http.StatusNotFound, s.post(page, form).status, "after the window: gone")
}

// The share form posted again with its nonce leads to the same receipt,
// never a second secret; so does the generate button, to the same
// password.
func TestShareResubmitted(t *testing.T) {
	t.Parallel()
	s, st := countedSite(t, nil)
	n := nonce(t, s.get("/").body)
	form := url.Values{"secret": {"only one"}, "ttl": {"3600"}, "nonce": {n}}
	receipt := s.share(form)
	assert.Equal(t, receipt, s.share(form), "the same receipt")
	secrets, _ := st.Len()
	assert.Equal(t, 1, secrets)

	n = nonce(t, s.get("/").body)
	genPath, gen := s.generate(url.Values{"nonce": {n}})
	require.Equal(t, http.StatusOK, gen.status, gen.body)
	againPath, again := s.generate(url.Values{"nonce": {n}})
	require.Equal(t, http.StatusOK, again.status, again.body)
	assert.Equal(t, genPath, againPath)
	assert.Equal(t, value(t, gen.body), value(t, again.body), "the same password")
	assert.Equal(t, linkRE.FindStringSubmatch(gen.body)[1], linkRE.FindStringSubmatch(again.body)[1])
	secrets, _ = st.Len()
	assert.Equal(t, 2, secrets)
}

// The burn form posted again with its nonce leads back to the receipt as
// the first post did; without one it is refused as before.
func TestBurnResubmitted(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	receipt := s.share(url.Values{"secret": {"burn me"}})
	n := nonce(t, s.get(receipt+"/burn").body)
	for range 2 {
		res := s.post(receipt+"/burn", url.Values{"nonce": {n}})
		require.Equal(t, http.StatusSeeOther, res.status, res.body)
		assert.Equal(t, "./../../private/"+strings.TrimPrefix(receipt, "/private/"), res.header.Get("Location"))
	}
	assert.Equal(t, http.StatusConflict, s.post(receipt+"/burn", url.Values{}).status)
	state, _ := s.receipt(receipt)
	assert.Equal(t, "burned", state)
}

// A nonce that is no key is refused before anything is done, as the API
// refuses such an Idempotency-Key.
func TestBadNonce(t *testing.T) {
	t.Parallel()
	s, st := countedSite(t, nil)
	m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("kept")})
	require.NoError(t, err)
	for _, bad := range []string{"two words", strings.Repeat("n", 256), "caf\u00e9"} {
		assert.Equal(t, http.StatusBadRequest, s.post("/share", url.Values{"secret": {"v"}, "nonce": {bad}}).status)
		assert.Equal(t, http.StatusBadRequest, s.post("/generate", url.Values{"nonce": {bad}}).status)
		assert.Equal(t, http.StatusBadRequest, s.post("/secret/"+string(m.SecretKey), url.Values{"nonce": {bad}}).status)
		assert.Equal(t, http.StatusBadRequest, s.post("/private/"+string(m.MetadataKey)+"/burn", url.Values{"nonce": {bad}}).status)
	}
	secrets, _ := st.Len()
	assert.Equal(t, 1, secrets, "nothing shared, revealed or burned")
}

// In a browser with JavaScript off: the reveal page reloaded (which posts
// its form again) and the same post replayed, as after an answer lost on
// the way, show the value again; after the window, the reload finds it
// gone.
func TestBrowserRevealResubmitted(t *testing.T) {
	t.Parallel()
	s := newSite(t, &onetime.Options{ReplayWindow: 5 * time.Second}, nil)
	b := newTab(t)
	browsertest.DisableJavaScript(t, b.ctx)
	link, receipt := shareInBrowser(b, s.base, "seen twice\nwithin the window", "")

	require.EqualValues(t, http.StatusOK, b.open(link))
	n := eval[string](b, `document.querySelector("input[name=nonce]").value`)
	require.NotEmpty(t, n)
	require.EqualValues(t, http.StatusOK, b.click("reveal"))
	assert.Equal(t, "seen twice\nwithin the window", b.text("value"))

	reloaded, err := chromedp.RunResponse(b.ctx, chromedp.Reload())
	require.NoError(t, err)
	assert.EqualValues(t, http.StatusOK, reloaded.Status, "the resubmitted form")
	assert.Equal(t, "seen twice\nwithin the window", b.text("value"))

	replay := s.post(secretPath(t, s, link), url.Values{"nonce": {n}})
	require.Equal(t, http.StatusOK, replay.status)
	assert.Equal(t, "seen twice\nwithin the window", value(t, replay.body))

	state, _ := s.receipt(strings.TrimPrefix(receipt, s.base))
	assert.Equal(t, "received", state, "received once")

	s.clock.Advance(5 * time.Second)
	reloaded, err = chromedp.RunResponse(b.ctx, chromedp.Reload())
	require.NoError(t, err)
	assert.EqualValues(t, http.StatusNotFound, reloaded.Status, "after the window")
	assert.Contains(t, b.body(), "This secret is gone or never existed")
}
