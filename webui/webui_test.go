package webui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/client"
	"github.com/onetimego/onetime/onetimetest"
	"github.com/onetimego/onetime/ratelimit"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/webui"
)

// site is a webui handler on a real HTTP server, with a client that does
// not follow redirects (the tests check them).
type site struct {
	t      *testing.T
	srv    *httptest.Server
	svc    *onetime.Service
	clock  *onetimetest.Clock
	client *http.Client
	base   string // srv.URL + BasePath without its trailing slash
}

func newSite(t *testing.T, svcOpts *onetime.Options, uiOpts *webui.Options) *site {
	t.Helper()
	svc, clock := onetimetest.NewService(t, svcOpts)
	return serveSite(t, svc, clock, uiOpts)
}

func serveSite(t *testing.T, svc *onetime.Service, clock *onetimetest.Clock, uiOpts *webui.Options) *site {
	t.Helper()
	ui, err := webui.New(svc, uiOpts)
	require.NoError(t, err)
	mux := http.NewServeMux()
	base := "/"
	if uiOpts != nil && uiOpts.BasePath != "" {
		base = uiOpts.BasePath
	}
	mux.Handle(base, ui)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &site{
		t: t, srv: srv, svc: svc, clock: clock,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		base:   srv.URL + strings.TrimSuffix(base, "/"),
	}
}

// response is a whole answer: status, headers and body.
type response struct {
	status int
	header http.Header
	body   string
}

func (s *site) do(method, path string, form url.Values, header http.Header) response {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, s.base+path, body)
	require.NoError(s.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := s.client.Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	return response{res.StatusCode, res.Header, string(b)}
}

func (s *site) get(path string) response { return s.do(http.MethodGet, path, nil, nil) }

func (s *site) post(path string, form url.Values) response {
	return s.do(http.MethodPost, path, form, nil)
}

// share posts the form and returns the receipt's path (from the redirect).
func (s *site) share(form url.Values) string {
	s.t.Helper()
	return s.share0("/share", form)
}

// generate posts the generate form and follows its redirect: it returns
// the receipt's path and the page that shows the password, once.
func (s *site) generate(form url.Values) (string, response) {
	s.t.Helper()
	path := s.share0("/generate", form)
	return path, s.get(path)
}

func (s *site) share0(action string, form url.Values) string {
	s.t.Helper()
	res := s.post(action, form)
	require.Equal(s.t, http.StatusSeeOther, res.status, res.body)
	loc := res.header.Get("Location")
	require.Regexp(s.t, `^\./private/[0-9a-z]+$`, loc)
	return strings.TrimPrefix(loc, ".")
}

var (
	linkRE  = regexp.MustCompile(`<code id="link" class="link">([^<]+)</code>`)
	valueRE = regexp.MustCompile(`(?s)<pre class="value" id="value"[^>]*>\n(.*?)</pre>`)
	stateRE = regexp.MustCompile(`data-state="([a-z]+)"`)
)

// receipt reads the receipt page and returns its state and the link it
// shows ("" when none).
func (s *site) receipt(path string) (state, link string) {
	s.t.Helper()
	res := s.get(path)
	require.Equal(s.t, http.StatusOK, res.status, res.body)
	m := stateRE.FindStringSubmatch(res.body)
	require.NotNil(s.t, m, res.body)
	if l := linkRE.FindStringSubmatch(res.body); l != nil {
		link = html.UnescapeString(l[1])
	}
	return m[1], link
}

// value returns the secret shown in a page's <pre>, unescaped as a
// browser would.
func value(t *testing.T, body string) string {
	t.Helper()
	m := valueRE.FindStringSubmatch(body)
	require.NotNil(t, m, body)
	return html.UnescapeString(m[1])
}

func secretPath(t *testing.T, s *site, link string) string {
	t.Helper()
	p, ok := strings.CutPrefix(link, s.srv.URL)
	require.True(t, ok, link)
	return strings.TrimPrefix(p, strings.TrimPrefix(s.base, s.srv.URL))
}

func assertPageHeaders(t *testing.T, res response) {
	t.Helper()
	h := res.header
	csp := h.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.Contains(t, csp, "form-action 'self'")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Contains(t, h.Get("X-Robots-Tag"), "noindex")
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
	assert.Equal(t, "same-origin", h.Get("Cross-Origin-Resource-Policy"))
	assert.Contains(t, h.Get("Permissions-Policy"), "camera=()")
	assert.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"))
	assert.Contains(t, h.Values("Vary"), "Accept-Language")
}

func TestSharePage(t *testing.T) {
	t.Parallel()
	s := newSite(t, &onetime.Options{MinTTL: time.Minute, MaxTTL: time.Hour, DefaultTTL: 2 * time.Hour}, nil)
	res := s.get("/")
	require.Equal(t, http.StatusOK, res.status)
	assertPageHeaders(t, res)
	assert.Contains(t, res.body, `<html lang="en">`)
	assert.Contains(t, res.body, `<label for="secret">Secret</label>`)
	assert.Contains(t, res.body, `<label for="passphrase">`)
	assert.Contains(t, res.body, `<label for="ttl">Lifetime</label>`)
	assert.Contains(t, res.body, `formaction="./generate"`)
	assert.NotContains(t, res.body, `id="recipient"`, "recipients are for customers")
	// The one script warns before Generate discards a typed secret; the
	// form works without it.
	assert.Contains(t, res.body, `<script src="./static/copy.js?v=`)
	assert.Contains(t, res.body, `id="generate-warning" role="alert" hidden`)

	// Lifetimes within the service's bounds; the default, clamped to
	// MaxTTL, selected.
	opts := regexp.MustCompile(`<option value="(\d+)"( selected)?>([^<]+)</option>`).FindAllStringSubmatch(res.body, -1)
	var got []string
	for _, o := range opts {
		got = append(got, o[1]+o[2]+"="+o[3])
	}
	assert.Equal(t, []string{"60=1 minute", "300=5 minutes", "1800=30 minutes", "3600 selected=1 hour"}, got)

	head := s.do(http.MethodHead, "/", nil, nil)
	assert.Equal(t, http.StatusOK, head.status)
	assert.Empty(t, head.body)
}

func TestShareRevealReceipt(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	const secret = "\nfirst line\r\n  indented — ünïcödé 秘密 🔑\r\n<script>alert(1)</script> & \"quotes\"\r\n\r\n"
	receipt := s.share(url.Values{"secret": {secret}, "ttl": {"3600"}})

	state, link := s.receipt(receipt)
	assert.Equal(t, "new", state, "the first read of a receipt reports new")
	require.Regexp(t, `^`+regexp.QuoteMeta(s.srv.URL)+`/secret/[0-9a-z]+$`, link)
	state, _ = s.receipt(receipt)
	assert.Equal(t, "viewed", state)

	// The confirmation page never consumes the secret, however often it
	// is fetched.
	path := secretPath(t, s, link)
	for range 10 {
		res := s.get(path)
		require.Equal(t, http.StatusOK, res.status)
		assertPageHeaders(t, res)
		assert.Contains(t, res.body, "You have been sent a secret")
		assert.NotContains(t, res.body, "first line")
		assert.NotContains(t, res.body, `name="passphrase"`)
	}
	head := s.do(http.MethodHead, path, nil, nil)
	assert.Equal(t, http.StatusOK, head.status)

	res := s.post(path, url.Values{})
	require.Equal(t, http.StatusOK, res.status, res.body)
	assertPageHeaders(t, res)
	assert.Equal(t, strings.ReplaceAll(secret, "\r\n", "\n"), value(t, res.body), "line breaks as typed in the textarea")
	assert.NotContains(t, res.body, "<script>alert(1)")

	// Gone for everyone after.
	for _, res := range []response{s.get(path), s.post(path, url.Values{})} {
		assert.Equal(t, http.StatusNotFound, res.status)
		assert.Contains(t, res.body, "This secret is gone or never existed")
	}
	state, link = s.receipt(receipt)
	assert.Equal(t, "received", state)
	assert.Empty(t, link, "no link once the secret is read")
	assert.Contains(t, s.get(receipt).body, `id="received"`)
}

func TestValueShownExactly(t *testing.T) {
	t.Parallel()
	// A value with CR bytes (shared through the API, say) is shown byte
	// for byte: a browser would fold a literal CR LF into LF.
	s := newSite(t, nil, nil)
	m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("\n\na\r\nb\rc\n")})
	require.NoError(t, err)
	res := s.post("/secret/"+string(m.SecretKey), url.Values{})
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, ">\n\n\na&#13;\nb&#13;c\n</pre>")
}

// TestValueControlCharacters: control characters that HTML cannot show
// (NUL becomes U+FFFD, others nothing) are marked, named in a title, and
// the page says so; data-raw carries the real bytes for Copy. A value
// without them carries no data-raw and no notice.
func TestValueControlCharacters(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	value := "a\x00b\x1bc\x7fd\u0085e\tf\r\n<g>"
	m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte(value)})
	require.NoError(t, err)
	res := s.post("/secret/"+string(m.SecretKey), url.Values{})
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, ">\na"+`<span class="ctl" title="U+0000">NUL</span>b`+
		`<span class="ctl" title="U+001B">ESC</span>c<span class="ctl" title="U+007F">DEL</span>d`+
		`<span class="ctl" title="U+0085">U+0085</span>e`+"\tf&#13;\n&lt;g&gt;</pre>")
	assert.NotContains(t, res.body, "\x00")
	assert.Contains(t, res.body, `data-raw="`+base64.StdEncoding.EncodeToString([]byte(value))+`"`)
	assert.Contains(t, res.body, `id="value-controls"`)
	assert.Contains(t, res.body, "control characters that cannot be shown as text")

	plain, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("plain\ttext\r\n")})
	require.NoError(t, err)
	res = s.post("/secret/"+string(plain.SecretKey), url.Values{})
	require.Equal(t, http.StatusOK, res.status)
	assert.NotContains(t, res.body, "data-raw")
	assert.NotContains(t, res.body, "value-controls")
}

func TestGonePagesAreIndistinguishable(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v")})
	require.NoError(t, err)
	_, err = s.svc.Reveal(context.Background(), m.SecretKey, "")
	require.NoError(t, err)
	burned, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v")})
	require.NoError(t, err)
	_, err = s.svc.Burn(context.Background(), burned.MetadataKey)
	require.NoError(t, err)

	consumed := s.get("/secret/" + string(m.SecretKey))
	unknown := s.get("/secret/" + strings.Repeat("a", len(m.SecretKey)))
	malformed := s.get("/secret/not-a-key")
	burnt := s.get("/secret/" + string(burned.SecretKey))
	for _, res := range []response{consumed, unknown, malformed, burnt} {
		assert.Equal(t, http.StatusNotFound, res.status)
		assert.Equal(t, consumed.body, res.body)
		assertPageHeaders(t, res)
	}
	assert.NotContains(t, consumed.body, string(m.SecretKey), "the gone page does not echo the key")

	gone := s.get("/private/" + strings.Repeat("b", len(m.MetadataKey)))
	assert.Equal(t, http.StatusNotFound, gone.status)
	assert.Contains(t, gone.body, "This receipt is gone or never existed")
}

func TestPassphrase(t *testing.T) {
	t.Parallel()
	s := newSite(t, &onetime.Options{MaxAttempts: 3}, nil)
	receipt := s.share(url.Values{"secret": {"kept behind"}, "passphrase": {"open sesame"}})
	_, link := s.receipt(receipt)
	path := secretPath(t, s, link)

	res := s.get(path)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, `<input type="password" id="passphrase" name="passphrase" required`)
	assert.Contains(t, res.body, "3 attempts left.")

	for i, wrong := range []string{"wrong", ""} {
		res = s.post(path, url.Values{"passphrase": {wrong}})
		assert.Equal(t, http.StatusForbidden, res.status)
		assert.Contains(t, res.body, "That passphrase is not right")
		assert.Contains(t, res.body, `aria-invalid="true"`)
		assert.NotContains(t, res.body, "kept behind")
		if i == 0 {
			assert.Contains(t, res.body, "2 attempts left.")
		} else {
			assert.Contains(t, res.body, "Last attempt: a wrong passphrase now destroys the secret.")
		}
	}
	res = s.post(path, url.Values{"passphrase": {"open sesame"}})
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "kept behind", value(t, res.body))
}

func TestPassphraseAttemptsSpent(t *testing.T) {
	t.Parallel()
	s := newSite(t, &onetime.Options{MaxAttempts: 2}, nil)
	m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v"), Passphrase: "right"})
	require.NoError(t, err)
	path := "/secret/" + string(m.SecretKey)
	assert.Equal(t, http.StatusForbidden, s.post(path, url.Values{"passphrase": {"a"}}).status)
	res := s.post(path, url.Values{"passphrase": {"b"}})
	assert.Equal(t, http.StatusNotFound, res.status, "the last attempt burns the secret")
	assert.Contains(t, res.body, "Too many wrong passphrases: the secret was destroyed", "and says so")
	assert.NotContains(t, res.body, "gone or never existed")
	assert.Equal(t, http.StatusNotFound, s.post(path, url.Values{"passphrase": {"right"}}).status)
}

func TestBurn(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	receipt := s.share(url.Values{"secret": {"burn me"}})
	_, link := s.receipt(receipt)

	res := s.get(receipt + "/burn")
	require.Equal(t, http.StatusOK, res.status)
	assertPageHeaders(t, res)
	assert.Contains(t, res.body, "Burn this secret?")
	assert.Contains(t, res.body, `method="post" action="./../../private/`)
	assert.Equal(t, http.StatusOK, s.get(secretPath(t, s, link)).status, "asking to confirm burns nothing")

	res = s.post(receipt+"/burn", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.status)
	assert.Equal(t, "./../../private/"+strings.TrimPrefix(receipt, "/private/"), res.header.Get("Location"))
	state, link2 := s.receipt(receipt)
	assert.Equal(t, "burned", state)
	assert.Empty(t, link2)
	assert.Equal(t, http.StatusNotFound, s.get(secretPath(t, s, link)).status)

	// Burning again: the receipt says why not.
	res = s.post(receipt+"/burn", url.Values{})
	assert.Equal(t, http.StatusConflict, res.status)
	assert.Contains(t, res.body, "could not be burned")
	assert.Contains(t, res.body, `data-state="burned"`)
	// The burn page of a dead secret is its receipt.
	res = s.get(receipt + "/burn")
	assert.Equal(t, http.StatusOK, res.status)
	assert.NotContains(t, res.body, "Burn this secret?")
	assert.Equal(t, http.StatusNotFound, s.post("/private/"+strings.Repeat("c", 31)+"/burn", url.Values{}).status)
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	path, res := s.generate(url.Values{"secret": {"ignored"}, "ttl": {"600"}})
	require.Equal(t, http.StatusOK, res.status, res.body)
	// Shown once: a reload of the page is the receipt, without it.
	again := s.get(path)
	require.Equal(t, http.StatusOK, again.status)
	assert.NotContains(t, again.body, `id="value"`)
	assert.Contains(t, again.body, `data-state="viewed"`)
	assertPageHeaders(t, res)
	pw := value(t, res.body)
	assert.Len(t, pw, onetime.DefaultPasswordLength)
	l := linkRE.FindStringSubmatch(res.body)
	require.NotNil(t, l)
	rev := s.post(secretPath(t, s, html.UnescapeString(l[1])), url.Values{})
	require.Equal(t, http.StatusOK, rev.status)
	assert.Equal(t, pw, value(t, rev.body))

	rl := regexp.MustCompile(`id="receipt-link" href="\./\.\./(private/[0-9a-z]+)"`).FindStringSubmatch(res.body)
	require.NotNil(t, rl)
	state, _ := s.receipt("/" + rl[1])
	assert.Equal(t, "received", state)
}

func TestShareRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t, &onetime.Options{MaxSize: 16, MinPassphraseLen: 4}, nil)
	res := s.post("/share", url.Values{"secret": {""}})
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body, "Enter the secret to share.")
	assert.Contains(t, res.body, `role="alert"`)
	assert.Regexp(t, `id="secret"[^>]*aria-invalid="true" autofocus`, res.body)

	res = s.post("/share", url.Values{"secret": {"this is more than sixteen bytes"}, "ttl": {"300"}})
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.status)
	assert.Contains(t, res.body, "at most 16 bytes")
	assert.Contains(t, res.body, "this is more than sixteen bytes</textarea>", "the text is kept for the sender")
	assert.Contains(t, res.body, `<option value="300" selected>`, "the lifetime is kept")

	res = s.post("/share", url.Values{"secret": {"ok"}, "passphrase": {"abc"}})
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body, "The passphrase must be 4 to 128 characters long.")
	assert.NotContains(t, res.body, `value="abc"`, "a passphrase is never shown again")

	res = s.post("/share", url.Values{"secret": {"ok"}, "recipient": {"someone@example.com"}})
	assert.Equal(t, http.StatusBadRequest, res.status, "anonymous callers name no recipient")
	assert.Contains(t, res.body, "Check the recipient")

	res = s.post("/share", url.Values{"secret": {strings.Repeat("x", 200<<10)}})
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.status, "a body over MaxBodySize")
	assertPageHeaders(t, res)

	// Refused as the API refuses them (internal/frontdoor's
	// TestSameRefusals has the whole table).
	res = s.post("/share", url.Values{"secret": {"ok"}, "ttl": {"abc"}})
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body, "Choose a lifetime from the list.")
	assert.Regexp(t, `id="ttl"[^>]*aria-invalid="true" autofocus`, res.body)
	assert.Contains(t, res.body, "ok</textarea>", "the text is kept for the sender")

	res = s.post("/share", url.Values{"secret": {"\xff\xfeabc"}})
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body, "The secret must be text (UTF-8).")
	assert.Regexp(t, `id="secret"[^>]*aria-invalid="true" autofocus>\s*</textarea>`, res.body,
		"not shown again as other characters that a second post would share")
}

// TestAuthenticatorFails: an Authenticator that fails (rather than
// refusing the credentials) gets an error page, logged, not a 401.
func TestAuthenticatorFails(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s := newSite(t, nil, &webui.Options{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Auth: access.AuthenticatorFunc(func(*http.Request) (string, error) {
			return "", errors.New("directory down")
		}),
	})
	res := s.get("/")
	assert.Equal(t, http.StatusInternalServerError, res.status)
	assert.Contains(t, logs.String(), "directory down")
}

// TestAccessLog: with Options.AccessLog, every request gets one line
// naming its route pattern, never a key.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	var lines syncBuffer
	s := newSite(t, nil, &webui.Options{AccessLog: slog.New(slog.NewJSONHandler(&lines, nil)), BasePath: "/ots/"})
	receipt := s.share(url.Values{"secret": {"logged"}})
	_, link := s.receipt(receipt)
	secret := secretPath(t, s, link)
	s.get(secret)
	s.post(secret, url.Values{})
	s.get("/static/style.css")
	s.get("/nowhere/at/all")
	res := s.do(http.MethodPost, "/share", url.Values{"secret": {"x"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
	require.Equal(t, http.StatusForbidden, res.status)

	type line struct {
		Msg       string `json:"msg"`
		RequestID string `json:"request_id"`
		Route     string `json:"route"`
		Status    int    `json:"status"`
	}
	var got []line
	dec := json.NewDecoder(strings.NewReader(lines.String()))
	for dec.More() {
		var l line
		require.NoError(t, dec.Decode(&l))
		assert.Equal(t, "request", l.Msg)
		assert.NotEmpty(t, l.RequestID)
		got = append(got, line{Route: l.Route, Status: l.Status})
	}
	assert.Equal(t, []line{
		{Route: "POST /ots/share", Status: http.StatusSeeOther},
		{Route: "GET /ots/private/{metadata_key}", Status: http.StatusOK},
		{Route: "GET /ots/secret/{secret_key}", Status: http.StatusOK},
		{Route: "POST /ots/secret/{secret_key}", Status: http.StatusOK},
		{Route: "GET /ots/static/{file}", Status: http.StatusOK},
		{Route: "unrouted", Status: http.StatusNotFound},
		{Route: "POST /ots/share", Status: http.StatusForbidden},
	}, got)
	assert.NotContains(t, lines.String(), strings.TrimPrefix(receipt, "/private/"))
	assert.NotContains(t, lines.String(), strings.TrimPrefix(secret, "/secret/"))
	assert.NotEmpty(t, res.header.Get("X-Request-Id"))
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestCrossSitePostRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v")})
	require.NoError(t, err)
	for name, h := range map[string]http.Header{
		"Sec-Fetch-Site": {"Sec-Fetch-Site": {"cross-site"}},
		"Origin":         {"Origin": {"http://evil.example"}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, path := range []string{"/share", "/secret/" + string(m.SecretKey), "/private/" + string(m.MetadataKey) + "/burn"} {
				res := s.do(http.MethodPost, path, url.Values{"secret": {"x"}}, h)
				assert.Equal(t, http.StatusForbidden, res.status, path)
				assert.Contains(t, res.body, "sent from another site")
				assertPageHeaders(t, res)
			}
		})
	}
	// Same-origin posts pass, and the refused ones consumed nothing.
	res := s.do(http.MethodPost, "/secret/"+string(m.SecretKey), url.Values{}, http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {s.srv.URL}})
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "v", value(t, res.body))
}

func TestJapanese(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for al, lang := range map[string]string{
		"ja":                      "ja",
		"ja-JP,en;q=0.5":          "ja",
		"en-US,en;q=0.9,ja;q=0.8": "en",
		"fr-FR":                   "en",
		"":                        "en",
		"!!garbage":               "en",
	} {
		res := s.do(http.MethodGet, "/", nil, http.Header{"Accept-Language": {al}})
		require.Equal(t, http.StatusOK, res.status)
		assert.Contains(t, res.body, `<html lang="`+lang+`">`, al)
	}
	ja := http.Header{"Accept-Language": {"ja"}}
	res := s.do(http.MethodGet, "/", nil, ja)
	assert.Contains(t, res.body, "秘密を共有する")
	assert.Contains(t, res.body, "7 日")
	res = s.do(http.MethodGet, "/secret/"+strings.Repeat("a", 31), nil, ja)
	assert.Equal(t, http.StatusNotFound, res.status)
	assert.Contains(t, res.body, "この秘密は存在しないか、すでに消えています")
}

func TestBasePathAndPublicURL(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, &webui.Options{BasePath: "/ots/"})
	res := s.get("/")
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, `href="./static/style.css?v=`)
	receipt := s.share(url.Values{"secret": {"v"}})
	_, link := s.receipt(receipt)
	assert.Regexp(t, `^`+regexp.QuoteMeta(s.srv.URL)+`/ots/secret/[0-9a-z]+$`, link)
	assert.Equal(t, http.StatusOK, s.get(secretPath(t, s, link)).status)

	// Outside the base path (mounted wider than told), a 404 page.
	ui, err := webui.New(s.svc, &webui.Options{BasePath: "/ots/"})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	ui.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/other/", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)

	p := serveSite(t, s.svc, s.clock, &webui.Options{PublicURL: "https://secrets.example.com/x/"})
	_, link = p.receipt(p.share(url.Values{"secret": {"v"}}))
	assert.Regexp(t, `^https://secrets\.example\.com/x/secret/[0-9a-z]+$`, link)
	// The public origin is trusted for posts behind a proxy rewriting Host.
	res = p.do(http.MethodPost, "/share", url.Values{"secret": {"v"}}, http.Header{"Origin": {"https://secrets.example.com"}})
	assert.Equal(t, http.StatusSeeOther, res.status)
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	svc, _ := onetimetest.NewService(t, nil)
	for _, o := range []webui.Options{
		{BasePath: "ots/"}, {BasePath: "/ots"}, {BasePath: "/a/../b/"},
		{PublicURL: "secrets.example.com"}, {PublicURL: "ftp://x"}, {PublicURL: "https://x/?q=1"},
		{SignInRealm: `a"b`},
	} {
		_, err := webui.New(svc, &o)
		assert.Error(t, err, "%+v", o)
	}
	_, err := webui.New(nil, nil)
	assert.Error(t, err)
}

func TestCustomers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var notes []onetime.Notification
	note := notifierFunc(func(_ context.Context, n onetime.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		notes = append(notes, n)
		return nil
	})
	s := newSite(t, &onetime.Options{RestrictReceipts: true, Notifier: note}, &webui.Options{
		SignInRealm: "onetime",
		Auth: access.AuthenticatorFunc(func(r *http.Request) (string, error) {
			user, pass, ok := r.BasicAuth()
			switch {
			case !ok:
				return "", nil
			case user == "ada" && pass == "token":
				return "ada", nil
			}
			return "", access.ErrUnauthorized
		}),
	})
	ada := http.Header{"Authorization": {"Basic YWRhOnRva2Vu"}} // ada:token

	anon := s.get("/")
	assert.Contains(t, anon.body, `href="./signin"`)
	res := s.do(http.MethodGet, "/", nil, ada)
	assert.Contains(t, res.body, "Signed in as ada")
	assert.Contains(t, res.body, `id="recipient"`)
	assert.Contains(t, res.body, `<option value="2592000">30 days</option>`, "customers may choose up to MaxTTLAuthenticated")
	assert.NotContains(t, anon.body, `value="2592000"`)

	res = s.do(http.MethodPost, "/share", url.Values{"secret": {"for bob"}, "recipient": {"bob@example.com"}}, ada)
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	receipt := strings.TrimPrefix(res.header.Get("Location"), ".")
	require.NoError(t, s.svc.Close()) // sends the queued notification
	mu.Lock()
	require.Len(t, notes, 1)
	assert.Equal(t, "bob@example.com", notes[0].Recipient)
	assert.Equal(t, "ada", notes[0].Owner)
	mu.Unlock()

	// The caller travels in the context: with RestrictReceipts, ada's
	// receipt is hers alone.
	assert.Equal(t, http.StatusNotFound, s.get(receipt).status)
	res = s.do(http.MethodGet, receipt, nil, ada)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, "bo*****@e*****.com")

	// Bad credentials are refused, never anonymous.
	res = s.do(http.MethodGet, "/", nil, http.Header{"Authorization": {"Basic YWRhOndyb25n"}})
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Equal(t, `Basic realm="onetime", charset="UTF-8"`, res.header.Get("WWW-Authenticate"))

	res = s.get("/signin")
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.NotEmpty(t, res.header.Get("WWW-Authenticate"))
	res = s.do(http.MethodGet, "/signin", nil, ada)
	assert.Equal(t, http.StatusSeeOther, res.status)
	assert.Equal(t, "./", res.header.Get("Location"))
}

func TestSignInOffByDefault(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	assert.Equal(t, http.StatusNotFound, s.get("/signin").status)
	assert.NotContains(t, s.get("/").body, "signin")
}

type notifierFunc func(context.Context, onetime.Notification) error

func (f notifierFunc) Notify(ctx context.Context, n onetime.Notification) error { return f(ctx, n) }

func TestExpired(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	receipt := s.share(url.Values{"secret": {"soon gone"}, "ttl": {"300"}})
	_, link := s.receipt(receipt)
	s.clock.Advance(5 * time.Minute)
	assert.Equal(t, http.StatusNotFound, s.get(secretPath(t, s, link)).status)
	state, link := s.receipt(receipt)
	assert.Equal(t, "expired", state)
	assert.Empty(t, link)
	assert.NotContains(t, s.get(receipt).body, `id="burn"`)
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for _, path := range []string{"/nope", "/secret/", "/secret/a/b", "/private/", "/private/a/burn/x", "/private/a/other", "/static/nope.css", "/share/"} {
		res := s.get(path)
		assert.Equal(t, http.StatusNotFound, res.status, path)
		assert.Contains(t, res.body, "Page not found", path)
		assertPageHeaders(t, res)
	}
	for _, c := range []struct{ method, path, allow string }{
		{http.MethodPut, "/", "GET, HEAD"},
		{http.MethodDelete, "/secret/abc", "GET, POST, HEAD"},
		{http.MethodPost, "/private/abc", "GET, HEAD"},
		{http.MethodPost, "/static/style.css", "GET, HEAD"},
	} {
		res := s.do(c.method, c.path, nil, http.Header{"Sec-Fetch-Site": {"same-origin"}})
		assert.Equal(t, http.StatusMethodNotAllowed, res.status, c.path)
		assert.Equal(t, c.allow, res.header.Get("Allow"), c.path)
	}
	// A restored tab of where a form posted goes back to the form.
	for _, path := range []string{"/share", "/generate"} {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			res := s.do(m, path, nil, nil)
			assert.Equal(t, http.StatusSeeOther, res.status, path)
			assert.Equal(t, "./", res.header.Get("Location"), path)
		}
	}
	res := s.do(http.MethodPut, "/share", nil, http.Header{"Sec-Fetch-Site": {"same-origin"}})
	assert.Equal(t, http.StatusMethodNotAllowed, res.status)
	assert.Equal(t, "POST", res.header.Get("Allow"))
}

func TestStatic(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	page := s.get("/").body
	v := regexp.MustCompile(`static/style\.css\?v=([0-9a-f]+)`).FindStringSubmatch(page)
	require.NotNil(t, v)
	for name, ctype := range map[string]string{
		"style.css": "text/css; charset=utf-8",
		"copy.js":   "text/javascript; charset=utf-8",
		"time.js":   "text/javascript; charset=utf-8",
		"zk.js":     "text/javascript; charset=utf-8",
		"icon.svg":  "image/svg+xml",
	} {
		res := s.get("/static/" + name + "?v=" + v[1])
		require.Equal(t, http.StatusOK, res.status, name)
		assert.Equal(t, ctype, res.header.Get("Content-Type"), name)
		assert.Equal(t, "public, max-age=86400", res.header.Get("Cache-Control"))
		assert.NotEmpty(t, res.body)
		assert.NotEmpty(t, res.header.Get("Content-Security-Policy"))
	}
	// The page script, and on the form the zero-knowledge mode's (each
	// with its Subresource Integrity: TestZKSubresourceIntegrity): on the
	// form (the generate warning) and where there is something to copy.
	assert.Equal(t, 2, strings.Count(page, "<script"))
	assert.NotContains(t, s.get("/nope").body, "<script")
	receipt := s.share(url.Values{"secret": {"v"}})
	assert.Regexp(t, `<script src="\./\.\./static/copy\.js\?v=`+v[1]+`" integrity="sha256-[^"]+" defer></script>`, s.get(receipt).body)
	assert.Regexp(t, `<script src="\./\.\./static/time\.js\?v=`+v[1]+`" integrity="sha256-[^"]+" defer></script>`, s.get(receipt).body, "the receipt's times in local time")
}

func TestUnexpectedErrorsLogNoSecrets(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	store := memory.New()
	svc, err := onetime.New(store, []byte(strings.Repeat("k", 32)), &onetime.Options{Logger: log})
	require.NoError(t, err)
	s := serveSite(t, svc, nil, &webui.Options{Logger: log})
	m, err := svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("the value"), Passphrase: "pass phrase"})
	require.NoError(t, err)
	require.NoError(t, store.Close())

	for _, res := range []response{
		s.get("/secret/" + string(m.SecretKey)),
		s.post("/secret/"+string(m.SecretKey), url.Values{"passphrase": {"pass phrase"}}),
		s.get("/private/" + string(m.MetadataKey)),
		s.post("/private/"+string(m.MetadataKey)+"/burn", url.Values{}),
		s.post("/share", url.Values{"secret": {"another value"}, "passphrase": {"pass phrase"}}),
	} {
		assert.Equal(t, http.StatusInternalServerError, res.status)
		assert.Contains(t, res.body, "Something went wrong")
		assertPageHeaders(t, res)
	}
	out := logs.String()
	assert.Contains(t, out, "webui: reveal failed")
	for _, secret := range []string{string(m.SecretKey), string(m.MetadataKey), "the value", "another value", "pass phrase"} {
		assert.NotContains(t, out, secret)
	}
}

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	limiter := ratelimit.New(ratelimit.Options{PerSecond: 0.001, Burst: 3})
	s := newSite(t, nil, &webui.Options{RateLimiter: limiter, ClientIPHeader: "X-Forwarded-For",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	from := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {"10.0.0.9, " + ip}} }
	for range 3 {
		assert.Equal(t, http.StatusOK, s.do(http.MethodGet, "/", nil, from("192.0.2.1")).status)
	}
	res := s.do(http.MethodGet, "/", nil, from("192.0.2.1"))
	assert.Equal(t, http.StatusTooManyRequests, res.status)
	assert.Contains(t, res.body, "Too many requests")
	assertPageHeaders(t, res)
	assert.Equal(t, http.StatusOK, s.do(http.MethodGet, "/static/style.css", nil, from("192.0.2.1")).status, "static files are not limited")
	assert.Equal(t, http.StatusOK, s.do(http.MethodGet, "/", nil, from("192.0.2.2")).status, "per client")

	// A failing limiter lets the request through, and is logged.
	f := newSite(t, nil, &webui.Options{RateLimiter: failingLimiter{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	assert.Equal(t, http.StatusOK, f.get("/").status)
	assert.Contains(t, logs.String(), "rate limiter failed")
}

// TestRateLimiterBeforeAuth: credentials that do not verify count against
// the limit too, so that the pages are no way to guess API tokens faster
// than the API allows.
func TestRateLimiterBeforeAuth(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, &webui.Options{
		RateLimiter: ratelimit.New(ratelimit.Options{PerSecond: 0.001, Burst: 2}),
		Auth: access.AuthenticatorFunc(func(*http.Request) (string, error) {
			return "", fmt.Errorf("bad token: %w", access.ErrUnauthorized)
		}),
	})
	var statuses []int
	for range 4 {
		statuses = append(statuses, s.get("/").status)
	}
	assert.Equal(t, []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusTooManyRequests}, statuses)
}

type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string) (bool, error) {
	return false, errors.New("limiter down")
}

// The links that v1 clients print, BASE/secret/KEY and BASE/private/KEY,
// open the confirmation page and the receipt, at the root and under a
// prefix (where the client's base URL is BASE/api/v1).
func TestClientLinksOpenPages(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"/", "/ots/"} {
		s := newSite(t, nil, &webui.Options{BasePath: base})
		c, err := client.New(s.base+"/api/v1", nil)
		require.NoError(t, err)
		m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("from a client")})
		require.NoError(t, err)

		link := c.SecretLink(client.SecretKey(m.SecretKey))
		require.Equal(t, s.base+"/secret/"+string(m.SecretKey), link)
		res, err := http.Get(link)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, res.StatusCode, base)
		assert.Contains(t, string(body), "You have been sent a secret")

		res, err = http.Get(c.ReceiptLink(client.MetadataKey(m.MetadataKey)))
		require.NoError(t, err)
		body, err = io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, res.StatusCode, base)
		assert.Contains(t, string(body), `data-state="new"`)
	}
}

// patientStore answers Peek whatever its context's deadline, so that a
// reveal whose deadline has passed still reaches the passphrase
// derivation, which then finds itself too late: the service's busy.
type patientStore struct{ *memory.Store }

func (s patientStore) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	return s.Store.Peek(context.WithoutCancel(ctx), id, now)
}

// TestBusy: a reveal that runs out of time waiting for or running a
// passphrase derivation (onetime.ErrBusy) gets a page asking to try again
// shortly, 503 with a Retry-After, and consumes nothing.
func TestBusy(t *testing.T) {
	t.Parallel()
	svc, err := onetime.New(patientStore{memory.New()}, bytes.Repeat([]byte("k"), onetime.MinServerSecretLen),
		&onetime.Options{KDFConcurrency: 1, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	m, err := svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v"), Passphrase: "pass"})
	require.NoError(t, err)
	ui, err := webui.New(svc, nil)
	require.NoError(t, err)
	late := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithDeadline(r.Context(), time.Now()) // out of time already
		defer cancel()
		ui.ServeHTTP(w, r.WithContext(ctx))
	})
	srv := httptest.NewServer(late)
	t.Cleanup(srv.Close)

	res, err := http.PostForm(srv.URL+"/secret/"+string(m.SecretKey), url.Values{"passphrase": {"pass"}})
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, "5", res.Header.Get("Retry-After"))
	assert.Contains(t, string(body), "The server is busy")
	assert.Contains(t, string(body), "please try again in a moment")

	v, err := svc.Reveal(context.Background(), m.SecretKey, "pass")
	require.NoError(t, err, "the busy answer consumed nothing")
	assert.Equal(t, "v", string(v.Value))
}

// adaSite serves the pages with sign-in, ada:token its one customer.
func adaSite(t *testing.T) *site {
	t.Helper()
	return newSite(t, &onetime.Options{RestrictReceipts: true}, &webui.Options{
		SignInRealm: "onetime",
		Auth:        access.NewBasicAuth(map[string]string{"ada": "token"}),
	})
}

// TestRecent: /recent lists a customer's receipts with each one's state
// and, while alive, its burn; listing moves no receipt to viewed; an
// anonymous caller is asked to sign in, and a cancelled prompt says so
// with a way to try again and a way back to sharing anonymously.
func TestRecent(t *testing.T) {
	t.Parallel()
	s := adaSite(t)
	ada := http.Header{"Authorization": {"Basic YWRhOnRva2Vu"}} // ada:token

	res := s.do(http.MethodGet, "/recent", nil, ada)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, `id="recent-empty"`)

	ctx := onetime.WithCaller(context.Background(), onetime.Caller{Customer: "ada"})
	live, err := s.svc.Share(ctx, onetime.ShareRequest{Owner: "ada", Value: []byte("live")})
	require.NoError(t, err)
	burned, err := s.svc.Share(ctx, onetime.ShareRequest{Owner: "ada", Value: []byte("burned")})
	require.NoError(t, err)
	_, err = s.svc.Burn(ctx, burned.MetadataKey)
	require.NoError(t, err)

	res = s.do(http.MethodGet, "/recent", nil, ada)
	require.Equal(t, http.StatusOK, res.status)
	assertPageHeaders(t, res)
	assert.Contains(t, res.body, `href="./private/`+string(live.MetadataKey)+`"`)
	assert.Contains(t, res.body, `href="./private/`+string(live.MetadataKey)+`/burn"`)
	assert.Contains(t, res.body, `href="./private/`+string(burned.MetadataKey)+`"`)
	assert.NotContains(t, res.body, `href="./private/`+string(burned.MetadataKey)+`/burn"`, "no burn for a burned secret")
	assert.Contains(t, res.body, "Not read yet")
	assert.Less(t, strings.Index(res.body, string(burned.MetadataKey)), strings.Index(res.body, string(live.MetadataKey)), "newest first")
	assert.NotContains(t, res.body, string(live.SecretKey), "no link to the secret itself")
	rc, err := s.svc.Receipt(ctx, live.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateNew, rc.State, "listing reads no receipt")

	home := s.do(http.MethodGet, "/", nil, ada)
	assert.Contains(t, home.body, `<a href="./recent" id="nav-recent">`)
	assert.Contains(t, home.body, `<a href="./signout" id="nav-signout">`)
	assert.NotContains(t, s.get("/").body, `id="nav-recent"`)

	for _, path := range []string{"/recent", "/signin"} {
		res = s.get(path)
		assert.Equal(t, http.StatusUnauthorized, res.status, path)
		assert.Equal(t, `Basic realm="onetime", charset="UTF-8"`, res.header.Get("WWW-Authenticate"), path)
		assert.Contains(t, res.body, "You are not signed in", path)
		assert.NotContains(t, res.body, "Sign-in failed", path)
		assert.Contains(t, res.body, `<a href=".`+path+`" id="signin-again">`, path)
		assert.Contains(t, res.body, "Share a secret without signing in", path)
	}
}

// TestSignOut: /signout refuses the credentials with the sign-in's
// challenge, so that the browser drops them, and says one is signed out.
func TestSignOut(t *testing.T) {
	t.Parallel()
	s := adaSite(t)
	for _, h := range []http.Header{{"Authorization": {"Basic YWRhOnRva2Vu"}}, nil} {
		res := s.do(http.MethodGet, "/signout", nil, h)
		assert.Equal(t, http.StatusUnauthorized, res.status)
		assert.Equal(t, `Basic realm="onetime", charset="UTF-8"`, res.header.Get("WWW-Authenticate"))
		assert.Contains(t, res.body, "You are signed out")
		assert.NotContains(t, res.body, "Signed in as ada")
		assert.Contains(t, res.body, `id="signin-again"`)
	}
	assert.Equal(t, http.StatusNotFound, newSite(t, nil, nil).get("/signout").status, "only with a sign-in")
}
