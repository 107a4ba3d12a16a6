package webui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/browsertest"
)

// One Chromium for the whole test binary; each test opens tabs in browser
// contexts of their own.
func TestMain(m *testing.M) { browsertest.Main(m) }

// tab wraps a chromedp tab with the few steps the tests take, failing the
// test on any error.
type tab struct {
	t   *testing.T
	ctx context.Context
}

func newTab(t *testing.T) *tab { return &tab{t, browsertest.New(t)} }

// open navigates to url and returns the HTTP status of the page.
func (b *tab) open(url string) int64 {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(url))
	require.NoError(b.t, err)
	return res.Status
}

// click clicks the element with the id and waits for the page it loads;
// it returns that page's HTTP status.
func (b *tab) click(id string) int64 {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.ID(id)))
	require.NoError(b.t, err)
	return res.Status
}

func (b *tab) set(id, value string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID(id), value)))
}

// eval returns the value of a JavaScript expression. DevTools evaluates
// it even in a tab with page scripts disabled.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, expr)
	return v
}

func (b *tab) text(id string) string {
	return eval[string](b, fmt.Sprintf("document.getElementById(%q).textContent", id))
}

func (b *tab) body() string { return eval[string](b, "document.body.innerText") }

func (b *tab) url() string { return eval[string](b, "location.href") }

func (b *tab) lang() string { return eval[string](b, "document.documentElement.lang") }

// fitsPhone reports whether the page needs no horizontal scrolling.
func (b *tab) fitsPhone() bool {
	return eval[bool](b, "document.documentElement.scrollWidth <= window.innerWidth")
}

func (b *tab) phone() {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile)))
}

// shareInBrowser fills the share form and returns the link the receipt
// shows and the receipt's URL.
func shareInBrowser(b *tab, base, secret, passphrase string) (link, receipt string) {
	b.t.Helper()
	require.EqualValues(b.t, http.StatusOK, b.open(base+"/"))
	b.set("secret", secret)
	if passphrase != "" {
		b.set("passphrase", passphrase)
	}
	require.EqualValues(b.t, http.StatusOK, b.click("share"))
	link = eval[string](b, `document.getElementById("link").textContent`)
	require.Regexp(b.t, `^`+base+`/secret/[0-9a-z]+$`, link)
	return link, b.url()
}

func TestBrowserShareRevealReceipt(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	creator, reader := newTab(t), newTab(t)
	creator.phone()
	reader.phone()
	const secret = "line one\n  two — indented\n\nünïcödé 秘密 🔑 <b>not bold</b> & done\n"

	require.EqualValues(t, http.StatusOK, creator.open(s.base+"/"))
	assert.Equal(t, "en", creator.lang())
	assert.True(t, creator.fitsPhone(), "the form fits a 360 px screen")
	browsertest.Screenshot(t, creator.ctx, "share-form")

	link, receipt := shareInBrowser(creator, s.base, secret, "")
	assert.Contains(t, receipt, "/private/")
	assert.Equal(t, "new", eval[string](creator, `document.getElementById("receipt").dataset.state`))
	assert.True(t, creator.fitsPhone())
	browsertest.Screenshot(t, creator.ctx, "receipt")

	// The copy button puts the link on the clipboard.
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(creator.ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission:       &browser.PermissionDescriptor{Name: name},
			Setting:          browser.PermissionSettingGranted,
			Origin:           s.srv.URL,
			BrowserContextID: chromedp.FromContext(creator.ctx).BrowserContextID,
		})
		require.NoError(t, err)
	}
	require.NoError(t, chromedp.Do(creator.ctx, chromedp.Click(chromedp.CSS(`button[data-copy="link"]`))))
	_, err := chromedp.Run(creator.ctx, chromedp.Poll[bool](`document.getElementById("link-status").textContent !== ""`))
	require.NoError(t, err)
	assert.Equal(t, "Copied to the clipboard.", creator.text("link-status"))
	copied, err := chromedp.Run(creator.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	assert.Equal(t, link, copied)

	// Link previewers and mail scanners may fetch the link any number of
	// times, and so may the reader, in another browser context, before
	// revealing.
	for range 10 {
		res, err := http.Get(link)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	res, err := http.Head(link)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	for range 2 {
		require.EqualValues(t, http.StatusOK, reader.open(link))
	}
	assert.Contains(t, reader.body(), "You have been sent a secret")
	assert.NotContains(t, reader.body(), "line one")
	browsertest.Screenshot(t, reader.ctx, "confirm")

	require.EqualValues(t, http.StatusOK, reader.click("reveal"))
	assert.Equal(t, secret, reader.text("value"), "the value exactly, multi-line and Unicode")
	assert.True(t, reader.fitsPhone())
	browsertest.Screenshot(t, reader.ctx, "revealed")

	// Reloading the page posts the form again, with its nonce: the same
	// page within the service's replay window (TestBrowserRevealResubmitted
	// goes past it). Opening the link again: gone.
	reloaded, err := chromedp.RunResponse(reader.ctx, chromedp.Reload())
	require.NoError(t, err)
	assert.EqualValues(t, http.StatusOK, reloaded.Status)
	assert.Equal(t, secret, reader.text("value"))
	assert.EqualValues(t, http.StatusNotFound, reader.open(link))
	assert.Contains(t, reader.body(), "This secret is gone or never existed")

	require.EqualValues(t, http.StatusOK, creator.open(receipt))
	assert.Equal(t, "received", eval[string](creator, `document.getElementById("receipt").dataset.state`))
	assert.Equal(t, 0, eval[int](creator, `document.querySelectorAll("#link, #burn").length`), "no link or burn once read")
}

func TestBrowserPassphrase(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	reader := newTab(t)
	link, _ := shareInBrowser(reader, s.base, "behind a passphrase", "correct horse")

	require.EqualValues(t, http.StatusOK, reader.open(link))
	reader.set("passphrase", "wrong horse")
	assert.EqualValues(t, http.StatusForbidden, reader.click("reveal"))
	assert.Contains(t, reader.text("wrong"), "That passphrase is not right")

	reader.set("passphrase", "correct horse")
	require.EqualValues(t, http.StatusOK, reader.click("reveal"))
	assert.Equal(t, "behind a passphrase", reader.text("value"))
}

// TestBrowserPassphraseAttempts: the reader is told the attempts left,
// warned before the last one, and told why the secret is gone after it,
// in English and Japanese.
func TestBrowserPassphraseAttempts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lang, left, last, destroyed string }{
		{"en", "2 attempts left.", "Last attempt: a wrong passphrase now destroys the secret.",
			"Too many wrong passphrases: the secret was destroyed"},
		{"ja", "残り 2 回入力できます。", "最後の 1 回です。パスフレーズを間違えると秘密は破棄されます。",
			"誤ったパスフレーズが多すぎたため、秘密は破棄されました"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, &onetime.Options{MaxAttempts: 2}, nil)
			reader := newTab(t)
			browsertest.SetLanguage(t, reader.ctx, tc.lang)
			link, _ := shareInBrowser(reader, s.base, "twice at most", "correct horse")

			require.EqualValues(t, http.StatusOK, reader.open(link))
			assert.Equal(t, tc.left, reader.text("attempts"))
			assert.Contains(t, eval[string](reader, `document.getElementById("passphrase").getAttribute("aria-describedby")`), "attempts")
			reader.set("passphrase", "wrong horse")
			require.EqualValues(t, http.StatusForbidden, reader.click("reveal"))
			assert.Equal(t, tc.last, reader.text("attempts"))
			reader.set("passphrase", "wrong again")
			require.EqualValues(t, http.StatusNotFound, reader.click("reveal"))
			assert.Equal(t, tc.destroyed, eval[string](reader, `document.querySelector("h1").textContent`))
			assert.Equal(t, tc.lang, reader.lang())
		})
	}
}

// signedIn makes the tab send ada's credentials (adaSite) with every
// request, and Accept-Language: lang.
func signedIn(b *tab, lang string) {
	b.t.Helper()
	_, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{})
	require.NoError(b.t, err)
	_, err = chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": lang, "Authorization": "Basic YWRhOnRva2Vu"},
	})
	require.NoError(b.t, err)
}

// cancelPrompts makes the tab answer every HTTP authentication prompt as
// a person who cancels it does: the browser then shows the 401 page.
// (Headless Chromium without it fails the navigation instead.)
func cancelPrompts(b *tab) {
	b.t.Helper()
	events := make(chan any, 64)
	require.NoError(b.t, chromedp.Listen(b.ctx, func(ev any) {
		switch ev.(type) {
		case *fetch.EventRequestPaused, *fetch.EventAuthRequired:
			events <- ev
		}
	}))
	go func() {
		for {
			select {
			case <-b.ctx.Done():
				return
			case ev := <-events:
				switch e := ev.(type) {
				case *fetch.EventRequestPaused:
					chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
				case *fetch.EventAuthRequired:
					chromedp.Call(b.ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: e.RequestID,
						AuthChallengeResponse: &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth}})
				}
			}
		}
	}()
	handle := true
	_, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &handle})
	require.NoError(b.t, err)
}

// TestBrowserRecent: a signed-in customer reaches /recent from the
// header, sees each secret's state as its receipt words it, and burns one
// through the burn confirmation; an anonymous visitor (whose headless
// browser cancels the sign-in prompt) is told that they are not signed in,
// with a way to try again and a way back to sharing anonymously.
func TestBrowserRecent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lang, notRead, notSignedIn, signedOut string
		phone                                 bool
	}{
		{"en", "Not read yet", "You are not signed in", "You are signed out", true},
		{"ja", "未読", "サインインしていません", "サインアウトしました", false},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			t.Parallel()
			s := adaSite(t)
			b := newTab(t)
			if tc.phone {
				b.phone()
			}
			signedIn(b, tc.lang)
			_, receipt := shareInBrowser(b, s.base, "listed", "")
			require.EqualValues(t, http.StatusOK, b.click("nav-recent"))
			assert.Equal(t, tc.lang, b.lang())
			items := `document.querySelectorAll("#recent li")`
			require.Equal(t, 1, eval[int](b, items+`.length`))
			assert.Equal(t, tc.notRead, eval[string](b, `document.querySelector("#recent .state").textContent`))
			assert.True(t, b.fitsPhone())
			assert.Equal(t, receipt, eval[string](b, `document.querySelector("#recent .recent-receipt").href`))

			burn := eval[string](b, `document.querySelector("#recent .recent-burn").href`)
			require.EqualValues(t, http.StatusOK, b.open(burn))
			require.EqualValues(t, http.StatusOK, b.click("confirm-burn"))
			assert.Equal(t, receipt, b.url(), "the burn lands on its receipt")
			require.EqualValues(t, http.StatusOK, b.click("nav-recent"))
			assert.Equal(t, "burned", eval[string](b, `document.querySelector("#recent li").dataset.state`))
			assert.Equal(t, 0, eval[int](b, `document.querySelectorAll("#recent .recent-burn").length`))

			// Signing out: the sign-in's challenge, a prompt cancelled,
			// the page that says so.
			cancelPrompts(b)
			require.EqualValues(t, http.StatusOK, b.open(receipt))
			require.EqualValues(t, http.StatusUnauthorized, b.click("nav-signout"))
			assert.Equal(t, tc.signedOut, b.text("message"))
			assert.Equal(t, 0, eval[int](b, `document.querySelectorAll("#nav-recent, #nav-signout").length`))

			anon := newTab(t)
			browsertest.SetLanguage(t, anon.ctx, tc.lang)
			cancelPrompts(anon)
			require.EqualValues(t, http.StatusUnauthorized, anon.open(s.base+"/recent"))
			assert.Equal(t, tc.notSignedIn, anon.text("message"))
			assert.Equal(t, s.base+"/recent", eval[string](anon, `document.getElementById("signin-again").href`))
			require.EqualValues(t, http.StatusOK, anon.click("home"))
			assert.Equal(t, s.base+"/", anon.url())
		})
	}
}

// TestBrowserLocalTime: with JavaScript, the receipt's times read in the
// browser's time zone (here Asia/Tokyo, UTC+9 all year) and language, and
// Expires says how far away it is; without, the UTC text stays.
func TestBrowserLocalTime(t *testing.T) {
	t.Parallel()
	jst := time.FixedZone("JST", 9*60*60)
	for _, tc := range []struct {
		lang, clock, zone, relative string
		noJS                        bool
	}{
		{"en", "03:04 PM", "GMT+9", " (in 2 hours)", false},
		{"ja", "15:04", "JST", "（2 時間後）", false},
		{"en", "", "", "", true},
	} {
		t.Run(fmt.Sprintf("%s-nojs=%v", tc.lang, tc.noJS), func(t *testing.T) {
			t.Parallel()
			s := newSite(t, nil, nil)
			s.clock.Set(time.Now().Truncate(time.Second)) // the browser's clock: "in 2 hours" is from now
			m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v"), TTL: 2 * time.Hour})
			require.NoError(t, err)
			b := newTab(t)
			browsertest.SetLanguage(t, b.ctx, tc.lang)
			_, err = chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
			require.NoError(t, err)
			if tc.noJS {
				browsertest.DisableJavaScript(t, b.ctx)
			}
			require.EqualValues(t, http.StatusOK, b.open(s.base+"/private/"+string(m.MetadataKey)))
			expires := m.Created.Add(m.TTL)
			utc := expires.UTC().Format("2006-01-02 15:04 UTC")
			got := strings.TrimSpace(b.text("expires"))
			if tc.noJS {
				assert.Equal(t, utc, got)
				return
			}
			assert.Contains(t, got, expires.In(jst).Format(tc.clock), "local time")
			assert.Contains(t, got, tc.zone)
			assert.True(t, strings.HasSuffix(got, tc.relative), "%q ends with %q", got, tc.relative)
			assert.Equal(t, utc, eval[string](b, `document.querySelector("#expires time").title`), "UTC on hover")
		})
	}
}

// TestBrowserValueControlCharacters: a value with a NUL and an ESC
// (shared through the API) shows them as marks, in English and Japanese,
// and Copy copies the real characters.
func TestBrowserValueControlCharacters(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lang, notice string }{
		{"en", "control characters that cannot be shown"},
		{"ja", "テキストとして表示できない制御文字"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			t.Parallel()
			s := newSite(t, nil, nil)
			value := "pass\x00word\x1b\nline two"
			m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte(value)})
			require.NoError(t, err)
			b := newTab(t)
			browsertest.SetLanguage(t, b.ctx, tc.lang)
			for _, name := range []string{"clipboard-read", "clipboard-write"} {
				_, err := chromedp.CallBrowser(b.ctx, browser.SetPermission, browser.SetPermissionParams{
					Permission:       &browser.PermissionDescriptor{Name: name},
					Setting:          browser.PermissionSettingGranted,
					Origin:           s.srv.URL,
					BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID,
				})
				require.NoError(t, err)
			}
			require.EqualValues(t, http.StatusOK, b.open(s.base+"/secret/"+string(m.SecretKey)))
			require.EqualValues(t, http.StatusOK, b.click("reveal"))
			assert.Equal(t, "passNULwordESC\nline two", b.text("value"), "marked, not U+FFFD or nothing")
			assert.Contains(t, b.text("value-controls"), tc.notice)

			require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`button[data-copy="value"]`))))
			_, err = chromedp.Run(b.ctx, chromedp.Poll[bool](`document.getElementById("value-status").textContent !== ""`))
			require.NoError(t, err)
			copied, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
			require.NoError(t, err)
			assert.Equal(t, value, copied, "Copy copies the real characters")
		})
	}
}

func TestBrowserBurn(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	creator := newTab(t)
	link, receipt := shareInBrowser(creator, s.base, "to be burned", "")

	require.EqualValues(t, http.StatusOK, creator.click("burn"))
	assert.Contains(t, creator.body(), "Burn this secret?")
	require.EqualValues(t, http.StatusOK, creator.click("confirm-burn"))
	assert.Equal(t, receipt, creator.url(), "back on the receipt")
	assert.Equal(t, "burned", eval[string](creator, `document.getElementById("receipt").dataset.state`))

	res, err := http.Get(link)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

func TestBrowserGeneratePassword(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	creator := newTab(t)
	require.EqualValues(t, http.StatusOK, creator.open(s.base+"/"))
	// The secret field is empty and required: the generate button skips
	// that check.
	require.EqualValues(t, http.StatusOK, creator.click("generate"))
	pw := creator.text("value")
	assert.Len(t, pw, onetime.DefaultPasswordLength)
	link := eval[string](creator, `document.getElementById("link").textContent`)
	browsertest.Screenshot(t, creator.ctx, "generated")

	require.EqualValues(t, http.StatusOK, creator.click("receipt-link"))
	receipt := creator.url()
	assert.Equal(t, "viewed", eval[string](creator, `document.getElementById("receipt").dataset.state`))

	require.EqualValues(t, http.StatusOK, creator.open(link))
	require.EqualValues(t, http.StatusOK, creator.click("reveal"))
	assert.Equal(t, pw, creator.text("value"))

	require.EqualValues(t, http.StatusOK, creator.open(receipt))
	assert.Equal(t, "received", eval[string](creator, `document.getElementById("receipt").dataset.state`))
}

func TestBrowserJapanese(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	b := newTab(t)
	browsertest.SetLanguage(t, b.ctx, "ja-JP,ja;q=0.9")
	b.phone()

	require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
	assert.Equal(t, "ja", b.lang())
	assert.Contains(t, b.body(), "秘密を共有する")
	assert.True(t, b.fitsPhone())
	browsertest.Screenshot(t, b.ctx, "share-form-ja")

	link, _ := shareInBrowser(b, s.base, "日本語の秘密\n二行目", "")
	assert.Contains(t, b.body(), "送るリンク")
	require.EqualValues(t, http.StatusOK, b.open(link))
	assert.Contains(t, b.body(), "秘密が届いています")
	require.EqualValues(t, http.StatusOK, b.click("reveal"))
	assert.Equal(t, "ja", b.lang())
	assert.Equal(t, "日本語の秘密\n二行目", b.text("value"))
}

func TestBrowserWithoutJavaScript(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	b := newTab(t)
	browsertest.DisableJavaScript(t, b.ctx)

	link, receipt := shareInBrowser(b, s.base, "no script\nneeded", "pass")
	// The copy button stays hidden: the script that shows it did not run.
	assert.False(t, eval[bool](b, `document.querySelector("button[data-copy]").offsetParent !== null`))

	require.EqualValues(t, http.StatusOK, b.open(link))
	b.set("passphrase", "pass")
	require.EqualValues(t, http.StatusOK, b.click("reveal"))
	assert.Equal(t, "no script\nneeded", b.text("value"))

	require.EqualValues(t, http.StatusOK, b.open(receipt))
	assert.Equal(t, "received", eval[string](b, `document.getElementById("receipt").dataset.state`))

	// Burn, too.
	link, receipt = shareInBrowser(b, s.base, "burn without script", "")
	require.EqualValues(t, http.StatusOK, b.click("burn"))
	require.EqualValues(t, http.StatusOK, b.click("confirm-burn"))
	assert.Equal(t, receipt, b.url())
	assert.Equal(t, "burned", eval[string](b, `document.getElementById("receipt").dataset.state`))
	assert.EqualValues(t, http.StatusNotFound, b.open(link))
}

func TestBrowserCrossSitePostRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("keep me")})
	require.NoError(t, err)
	burnURL := s.base + "/private/" + string(m.MetadataKey) + "/burn"

	// Another site (localhost is not the same site as 127.0.0.1) with a
	// form that posts to the burn URL.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s"><button id="go">go</button></form>`, burnURL)
	}))
	defer evil.Close()
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	b := newTab(t)
	require.EqualValues(t, http.StatusOK, b.open(evilURL))
	assert.EqualValues(t, http.StatusForbidden, b.click("go"))
	assert.Contains(t, b.body(), "sent from another site")

	need, err := s.svc.Check(context.Background(), m.SecretKey)
	require.NoError(t, err, "the secret survived")
	assert.False(t, need)
}
