package webui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/internal/browsertest"
	"github.com/onetimego/onetime/onetimetest"
	"github.com/onetimego/onetime/ratelimit"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/webui"
)

// words are the texts that the journeys look for, in each language.
var words = map[string]map[string]string{
	"en": {
		"ready": "Your link is ready", "receipt": "Your receipt",
		"unread": "Not read yet", "read": "Read", "burned": "Burned", "burned.desc": "destroyed", "expired": "Expired",
		"copied": "Copied to the clipboard.", "show": "Show passphrase",
		"left3": "3 attempts left.", "left2": "2 attempts left.",
		"last":      "Last attempt: a wrong passphrase now destroys the secret.",
		"wrong":     "That passphrase is not right",
		"destroyed": "Too many wrong passphrases: the secret was destroyed",
		"gone":      "This secret is gone or never existed", "receipt.gone": "This receipt is gone or never existed",
		"generate.hint": "A secret typed above is not shared", "generate.confirm": "Discard it and generate",
		"controls": "control characters that cannot be shown",
		"notfound": "Page not found", "method": "Method not allowed", "forbidden": "Request refused",
		"toolarge": "Request too large", "ratelimited": "Too many requests", "guessing": "Too many failed attempts",
		"busy": "The server is busy", "error": "Something went wrong",
		"secret.toolarge": "The secret is too large",
		"email":           "email", "one address": "one valid email address", "sent to": "Sent to",
		"signedout": "You are signed out", "notsignedin": "You are not signed in", "unauthorized": "Sign-in failed",
	},
	"ja": {
		"ready": "リンクができました", "receipt": "秘密の受領証",
		"unread": "未読", "read": "読まれました", "burned": "破棄済み", "burned.desc": "破棄されました", "expired": "期限切れ",
		"copied": "クリップボードにコピーしました。", "show": "パスフレーズを表示",
		"left3": "残り 3 回入力できます。", "left2": "残り 2 回入力できます。",
		"last":      "最後の 1 回です。パスフレーズを間違えると秘密は破棄されます。",
		"wrong":     "パスフレーズが違います",
		"destroyed": "誤ったパスフレーズが多すぎたため、秘密は破棄されました",
		"gone":      "この秘密は存在しないか、すでに消えています", "receipt.gone": "この受領証は存在しないか、すでに消えています",
		"generate.hint": "上に入力した秘密は共有されません", "generate.confirm": "破棄して生成する",
		"controls": "テキストとして表示できない制御文字",
		"notfound": "ページが見つかりません", "method": "この操作はできません", "forbidden": "リクエストを拒否しました",
		"toolarge": "リクエストが大きすぎます", "ratelimited": "リクエストが多すぎます", "guessing": "失敗した試行が多すぎます",
		"busy": "サーバーが混み合っています", "error": "エラーが発生しました",
		"secret.toolarge": "秘密が大きすぎます",
		"email":           "メール", "one address": "有効なメールアドレスを一つ", "sent to": "送信先",
		"signedout": "サインアウトしました", "notsignedin": "サインインしていません", "unauthorized": "サインインできませんでした",
	},
}

// TestPages walks, in each of the 8 journeys (every page is checked in the
// 16 variants: see journeys), through every page that an anonymous
// visitor can reach, sharing, generating, revealing and burning as a
// person would, and through the pages that only errors reach. Every page
// gets [variant.check] (axe-core among it); each phase checks the items of
// issue 21 that its pages carry (see the map in browser_test.go).
func TestPages(t *testing.T) {
	browsertest.RequireAxe(t)
	t.Parallel()
	errs := newErrorSites(t)
	for _, v := range journeys() {
		t.Run(v.journey(), func(t *testing.T) {
			t.Parallel()
			s := pagesSite(t, &onetime.Options{MaxAttempts: 3, MaxSize: 1024}, nil)
			s.clock.Set(time.Now().Truncate(time.Second))
			b := v.open(t)
			if v.js {
				b.grantClipboard(s.srv.URL)
			}
			t.Run("share", func(t *testing.T) { pagesShare(t, v, b.in(t), s) })
			t.Run("generate", func(t *testing.T) { pagesGenerate(t, v, b.in(t), s) })
			t.Run("reveal", func(t *testing.T) { pagesReveal(t, v, b.in(t), s) })
			t.Run("burn", func(t *testing.T) { pagesBurn(t, v, b.in(t), s) })
			t.Run("value", func(t *testing.T) { pagesValue(t, v, b.in(t), s) })
			t.Run("zk", func(t *testing.T) { pagesZK(t, v, b.in(t), s) })
			t.Run("errors", func(t *testing.T) { pagesErrors(t, v, b.in(t), s, errs) })
		})
	}
}

// pagesShare: the form, its passphrase seen while typed (item 8), the
// page after a share (items 2, 3, 5), the receipt seen again.
func pagesShare(t *testing.T, v variant, b *tab, s *site) {
	w := words[v.lang]
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
	v.check(b, "share form")
	assert.Zero(t, b.count("#recipient"), "recipients are for customers with a mailer")
	assert.NotContains(t, strings.ToLower(b.body()), w["email"])
	// Where JavaScript runs the browser encrypts (the zero-knowledge
	// mode), and the form says so; without, the server does.
	zk := v.js
	assert.Equal(t, zk, b.visible("#mode-zk"))
	assert.Equal(t, !zk, b.visible("#mode-server"))

	// Item 8: the sender can see the passphrase before sharing.
	passType := `document.getElementById("passphrase").type`
	assert.Equal(t, v.js, b.visible("#show-passphrase"), "show/hide where JavaScript runs")
	assert.Equal(t, "password", eval[string](b, passType))
	b.set("passphrase", "correct horse")
	if v.js {
		assert.Equal(t, w["show"], b.text("show-passphrase"))
		assert.Equal(t, "false", b.attr("show-passphrase", "aria-pressed"))
		b.press("show-passphrase")
		assert.Equal(t, "text", eval[string](b, passType))
		assert.Equal(t, "true", b.attr("show-passphrase", "aria-pressed"))
		b.press("show-passphrase")
		assert.Equal(t, "password", eval[string](b, passType))
		assert.Equal(t, "false", b.attr("show-passphrase", "aria-pressed"))
	}

	// (TestPages/*/reveal and zk share and reveal with a passphrase.)
	eval[bool](b, `(document.getElementById("passphrase").value = "", true)`)
	const secret = "line one\n  two — indented\n\nünïcödé 秘密 🔑 <b>not bold</b> & done"
	b.set("secret", secret)
	require.EqualValues(t, http.StatusOK, b.click("share"))
	receipt := b.url()
	require.Regexp(t, `^`+s.base+`/private/[0-9a-z]+$`, receipt)
	v.check(b, "after a share")

	// Item 3: the link is ready, and the page leads with it and Copy;
	// burning comes last, small and quiet.
	assert.Equal(t, w["ready"], b.text("title"))
	order := eval[[]string](b, `Array.from(document.querySelectorAll("h1, #link, #copy-link, #receipt, #burn")).map(function(e){ return e.id || e.tagName; })`)
	assert.Equal(t, []string{"title", "link", "copy-link", "receipt", "burn"}, order, "the link and Copy come first")
	assert.NotContains(t, b.attr("burn", "class"), "danger")
	assert.NotContains(t, b.attr("burn", "class"), "primary")
	if v.js {
		// Copy outweighs Burn: filled in the accent colour where Burn is
		// an outline, in larger type, at least as tall, and on a phone
		// the whole width. (By area alone a longer label can tip it: the
		// Japanese burn label is longer than Copy's.)
		var weight struct {
			CopyFilled, BurnFilled bool
			CopyFont, BurnFont     float64
			CopyH, BurnH           float64
			CopyW, BurnW, Main     float64
		}
		require.NoError(t, json.Unmarshal([]byte(eval[string](b, `(function(){
  var c = document.getElementById("copy-link"), d = document.getElementById("burn");
  var filled = function(e){ var bg = getComputedStyle(e).backgroundColor; return bg !== "transparent" && !/^rgba\(.*, 0\)$/.test(bg); };
  var rc = c.getBoundingClientRect(), rd = d.getBoundingClientRect();
  return JSON.stringify({CopyFilled: filled(c), BurnFilled: filled(d),
    CopyFont: parseFloat(getComputedStyle(c).fontSize), BurnFont: parseFloat(getComputedStyle(d).fontSize),
    CopyH: rc.height, BurnH: rd.height, CopyW: rc.width, BurnW: rd.width,
    Main: document.getElementById("link").getBoundingClientRect().width});
})()`)), &weight))
		assert.True(t, weight.CopyFilled, "Copy is filled")
		assert.False(t, weight.BurnFilled, "Burn is an outline")
		assert.Greater(t, weight.CopyFont, weight.BurnFont, "Copy's type is larger")
		assert.GreaterOrEqual(t, weight.CopyH, weight.BurnH, "Copy is at least as tall")
		if v.width < 600 {
			assert.InDelta(t, weight.Main, weight.CopyW, 1, "Copy takes the whole width on a phone")
			assert.Less(t, weight.BurnW, weight.CopyW)
		}
	}

	// Item 2: the whole link, wrapping, selectable; Copy where JavaScript
	// runs, and without it the page says to select the link.
	link := b.text("link")
	require.Regexp(t, shareLinkRE(s, zk), link)
	assert.True(t, eval[bool](b, `(function(){ var e = document.getElementById("link"); var r = e.getBoundingClientRect();
		return e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight && r.left >= 0 && r.right <= window.innerWidth; })()`), "the link is not cut")
	assert.Equal(t, "all", eval[string](b, `getComputedStyle(document.getElementById("link")).userSelect`))
	assert.Equal(t, v.js, b.visible("#copy-link"), "Copy where JavaScript runs")
	assert.Equal(t, !v.js, b.visible("#link-select"), "without JavaScript: select it")
	if v.js {
		copied, said := b.copyWith("#copy-link", "link-status")
		assert.Equal(t, link, copied)
		assert.Equal(t, w["copied"], said)
	}

	// Item 5: what the state means to the sender, and when it ends.
	assert.Equal(t, "new", b.state())
	unread := b.text("state")
	assert.Equal(t, w["unread"], unread)
	assert.True(t, b.visible("#expires"))

	// Link previewers and mail scanners may fetch the link any number of
	// times: that reads nothing.
	for _, method := range []string{http.MethodGet, http.MethodGet, http.MethodHead} {
		req, err := http.NewRequest(method, link, nil)
		require.NoError(t, err)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
	}

	// The receipt seen again is the receipt, not a new link: viewed, which
	// means to the sender what new means.
	require.EqualValues(t, http.StatusOK, b.open(receipt))
	v.check(b, "receipt, viewed")
	assert.Equal(t, "viewed", b.state())
	assert.Equal(t, w["receipt"], b.text("title"))
	assert.Equal(t, unread, b.text("state"), "new and viewed mean the same to the sender")
	assert.True(t, b.visible("#expires"))
	assert.Equal(t, link, b.text("link"))
}

// pagesGenerate: item 6 (redirect after generating, restored tabs, the
// warning before a typed secret is discarded) and item 2 on the page that
// shows the password.
func pagesGenerate(t *testing.T, v variant, b *tab, s *site) {
	w := words[v.lang]
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
	// The secret field is empty and required: Generate skips that check.
	require.EqualValues(t, http.StatusOK, b.click("generate"))
	assert.Regexp(t, `^`+s.base+`/private/[0-9a-z]+$`, b.url(), "redirected after the post")
	v.check(b, "generated password")
	assert.Len(t, b.text("value"), onetime.DefaultPasswordLength)
	assert.Regexp(t, shareLinkRE(s, v.js), b.text("link"))
	assert.Equal(t, v.js, b.visible("#copy-link"))
	assert.Equal(t, v.js, b.visible(`button[data-copy="value"]`))
	assert.Equal(t, !v.js, b.visible("#link-select"))

	// A reload shows the receipt: the password is shown once, and no
	// second one is made.
	require.EqualValues(t, http.StatusOK, b.reload())
	assert.Zero(t, b.count("#value"), "the password is shown once")
	assert.Equal(t, "viewed", b.state())

	// A restored tab of where the forms post lands on the form.
	for _, p := range []string{"/share", "/generate"} {
		assert.EqualValues(t, http.StatusOK, b.open(s.base+p), p)
		assert.Equal(t, s.base+"/", b.url(), p)
		assert.True(t, b.visible("#secret"), p)
	}

	b.set("secret", "typed, not to be lost")
	assert.Contains(t, b.text("generate-hint"), w["generate.hint"])
	if v.js {
		b.press("generate")
		assert.Equal(t, s.base+"/", b.url(), "the first press only warns")
		assert.True(t, b.visible("#generate-warning"))
		assert.Equal(t, w["generate.confirm"], b.text("generate"))
		assert.Equal(t, "typed, not to be lost", eval[string](b, `document.getElementById("secret").value`))
		v.check(b, "share form, generate warning")
	}
	// Without JavaScript the hint said it: the second press (with it) or
	// the first (without) generates.
	require.EqualValues(t, http.StatusOK, b.click("generate"))
	assert.Regexp(t, `^`+s.base+`/private/[0-9a-z]+$`, b.url())
	assert.Len(t, b.text("value"), onetime.DefaultPasswordLength)
}

// pagesReveal: the reader's pages: the passphrase form with the attempts
// left (item 7) and show/hide (item 8), wrong passphrases, the value, the
// receipt once read (item 5), the gone pages and why (item 7).
func pagesReveal(t *testing.T, v variant, b *tab, s *site) {
	w := words[v.lang]
	ctx := context.Background()
	const secret = "behind a passphrase\n  二行目 — ünïcödé 🔑 <b>&amp;</b>"
	m, err := s.svc.Share(ctx, onetime.ShareRequest{Value: []byte(secret), Passphrase: "correct horse"})
	require.NoError(t, err)
	link := s.base + "/secret/" + string(m.SecretKey)
	receipt := s.base + "/private/" + string(m.MetadataKey)

	require.EqualValues(t, http.StatusOK, b.open(link))
	v.check(b, "passphrase form")
	assert.Equal(t, w["left3"], b.text("attempts"))
	assert.Contains(t, b.attr("passphrase", "aria-describedby"), "attempts")
	assert.Equal(t, v.js, b.visible("#show-passphrase"))
	if v.js {
		b.set("passphrase", "typo horse")
		b.press("show-passphrase")
		assert.Equal(t, "text", eval[string](b, `document.getElementById("passphrase").type`))
		assert.Equal(t, "true", b.attr("show-passphrase", "aria-pressed"))
	}

	b.set("passphrase", "wrong horse")
	require.EqualValues(t, http.StatusForbidden, b.click("reveal"))
	v.check(b, "wrong passphrase")
	assert.Contains(t, b.text("wrong"), w["wrong"])
	assert.Equal(t, w["left2"], b.text("attempts"))
	assert.Equal(t, "true", b.attr("passphrase", "aria-invalid"))
	b.set("passphrase", "wrong again")
	require.EqualValues(t, http.StatusForbidden, b.click("reveal"))
	v.check(b, "wrong passphrase, the last attempt left")
	assert.Equal(t, w["last"], b.text("attempts"))

	b.set("passphrase", "correct horse")
	require.EqualValues(t, http.StatusOK, b.click("reveal"))
	v.check(b, "revealed value")
	assert.Equal(t, secret, b.text("value"), "the value exactly, multi-line and Unicode")
	assert.Equal(t, v.js, b.visible(`button[data-copy="value"]`))
	if v.js {
		copied, said := b.copyWith(`button[data-copy="value"]`, "value-status")
		assert.Equal(t, secret, copied)
		assert.Equal(t, w["copied"], said)
	}
	// A reload posts the form again, with its nonce: the same page
	// within the service's replay window.
	require.EqualValues(t, http.StatusOK, b.reload())
	assert.Equal(t, secret, b.text("value"))

	require.EqualValues(t, http.StatusOK, b.open(receipt))
	v.check(b, "receipt, received")
	assert.Equal(t, "received", b.state())
	assert.Equal(t, w["read"], b.text("state"))
	assert.False(t, b.visible("#expires"), "no expiry once read")
	assert.True(t, b.visible("#received"))
	assert.Zero(t, b.count("#link, #burn, #copy-link"), "no link or burn once read")

	require.EqualValues(t, http.StatusNotFound, b.open(link))
	v.check(b, "gone")
	assert.Equal(t, w["gone"], b.text("message"))

	// The attempt that spends the last one says why the secret is gone:
	// on a site that allows one attempt, the first (each wrong passphrase
	// costs the server a deliberately slow derivation).
	once := pagesSite(t, &onetime.Options{MaxAttempts: 1}, nil)
	m, err = once.svc.Share(ctx, onetime.ShareRequest{Value: []byte("one try"), Passphrase: "correct horse"})
	require.NoError(t, err)
	require.EqualValues(t, http.StatusOK, b.open(once.base+"/secret/"+string(m.SecretKey)))
	assert.Equal(t, w["last"], b.text("attempts"), "warned before the only attempt")
	b.set("passphrase", "wrong horse")
	require.EqualValues(t, http.StatusNotFound, b.click("reveal"))
	v.check(b, "destroyed by wrong passphrases")
	assert.Equal(t, w["destroyed"], b.text("message"))
}

// pagesBurn: the confirmation page of a secret without a passphrase, the
// burn confirmation, and the receipt of a burned secret (item 5).
func pagesBurn(t *testing.T, v variant, b *tab, s *site) {
	w := words[v.lang]
	m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("to be burned")})
	require.NoError(t, err)
	link := s.base + "/secret/" + string(m.SecretKey)
	receipt := s.base + "/private/" + string(m.MetadataKey)

	require.EqualValues(t, http.StatusOK, b.open(link))
	v.check(b, "confirmation")
	assert.NotContains(t, b.body(), "to be burned", "nothing shown before Reveal")
	assert.Zero(t, b.count("#passphrase"))

	require.EqualValues(t, http.StatusOK, b.open(receipt))
	require.EqualValues(t, http.StatusOK, b.click("burn"))
	v.check(b, "burn confirmation")
	require.EqualValues(t, http.StatusOK, b.click("confirm-burn"))
	assert.Equal(t, receipt, b.url(), "back on the receipt")
	v.check(b, "receipt, burned")
	assert.Equal(t, "burned", b.state())
	assert.Equal(t, w["burned"], b.text("state"))
	assert.Contains(t, b.text("state-desc"), w["burned.desc"])
	assert.False(t, b.visible("#expires"), "no expiry once burned")
	assert.Zero(t, b.count("#link, #burn"))

	res, err := http.Get(link)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

// pagesValue: a value with control characters (item 9), the receipt's
// times in local time (item 11), an expired receipt (item 5).
func pagesValue(t *testing.T, v variant, b *tab, s *site) {
	w := words[v.lang]
	ctx := context.Background()
	s.clock.Set(time.Now().Truncate(time.Second)) // the browser's clock: "in 2 hours" is from now
	const value = "pass\x00word\x1b\nline two"
	m, err := s.svc.Share(ctx, onetime.ShareRequest{Value: []byte(value), TTL: 2 * time.Hour})
	require.NoError(t, err)

	// Item 11: with JavaScript, the browser's time zone (Asia/Tokyo) and
	// language, and how far away Expires is; without, UTC.
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/private/"+string(m.MetadataKey)))
	expires := m.Created.Add(m.TTL)
	utc := expires.UTC().Format("2006-01-02 15:04 UTC")
	got := strings.TrimSpace(b.text("expires"))
	if !v.js {
		assert.Equal(t, utc, got)
	} else {
		jst := expires.In(time.FixedZone("JST", 9*60*60))
		local := map[string][3]string{
			"en": {jst.Format("03:04 PM"), "GMT+9", " (in 2 hours)"},
			"ja": {jst.Format("15:04"), "JST", "（2 時間後）"},
		}[v.lang]
		assert.Contains(t, got, local[0], "local time")
		assert.Contains(t, got, local[1], "the time zone")
		assert.True(t, strings.HasSuffix(got, local[2]), "%q ends with %q", got, local[2])
		assert.Equal(t, utc, eval[string](b, `document.querySelector("#expires time").title`), "UTC on hover")
	}

	require.EqualValues(t, http.StatusOK, b.open(s.base+"/secret/"+string(m.SecretKey)))
	require.EqualValues(t, http.StatusOK, b.click("reveal"))
	v.check(b, "revealed value, control characters")
	assert.Equal(t, "passNULwordESC\nline two", b.text("value"), "marked, not U+FFFD or nothing")
	assert.Contains(t, b.text("value-controls"), w["controls"])
	if v.js {
		copied, _ := b.copyWith(`button[data-copy="value"]`, "value-status")
		assert.Equal(t, value, copied, "Copy copies the real characters")
	}

	m, err = s.svc.Share(ctx, onetime.ShareRequest{Value: []byte("soon gone"), TTL: 5 * time.Minute})
	require.NoError(t, err)
	s.clock.Advance(5 * time.Minute)
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/private/"+string(m.MetadataKey)))
	v.check(b, "receipt, expired")
	assert.Equal(t, "expired", b.state())
	assert.Equal(t, w["expired"], b.text("state"))
	assert.False(t, b.visible("#expires"))
	assert.Zero(t, b.count("#link, #burn"))
}

// pagesZK: the pages of a secret shared in the zero-knowledge mode (by
// the sender's browser, with JavaScript): its receipt where the link's key
// is not (another browser), its confirmation page (without JavaScript: a
// note that it is needed; without the key: a note that the link is cut),
// a wrong passphrase and the value, opened in the page.
func pagesZK(t *testing.T, v variant, b *tab, s *site) {
	w := words[v.lang]
	const secret = "sealed in the browser\n二行目 🔑"
	if !v.js {
		browsertest.EnableJavaScript(t, b.ctx) // the sender's browser runs scripts
	}
	link, receipt := shareInBrowser(b, s.base, secret, "correct horse")
	require.Regexp(t, shareLinkRE(s, true), link)
	keyless, _, _ := strings.Cut(link, "#")

	// The receipt where the key is not: another browser, or the sender's
	// tab closed (the key was kept in that tab's session storage).
	if v.js {
		eval[bool](b, `(sessionStorage.clear(), true)`)
	} else {
		browsertest.DisableJavaScript(t, b.ctx)
	}
	require.EqualValues(t, http.StatusOK, b.open(receipt))
	v.check(b, "receipt, the link's key elsewhere")
	assert.True(t, b.visible("#zk-nokey"))
	assert.False(t, b.visible("#link-field"))

	if !v.js {
		require.EqualValues(t, http.StatusOK, b.open(link))
		v.check(b, "confirmation, zero-knowledge, without JavaScript")
		assert.True(t, b.visible("#zk-nojs"))
		assert.False(t, b.visible("#reveal"))
		return
	}
	require.EqualValues(t, http.StatusOK, b.open(keyless))
	v.check(b, "confirmation, zero-knowledge, the key missing")
	assert.True(t, b.visible("#zk-nokey"))
	assert.False(t, b.visible("#reveal"))
	require.NoError(t, chromedp.Do(b.ctx, chromedp.Navigate("about:blank"))) // another page: a fragment alone loads none

	require.EqualValues(t, http.StatusOK, b.open(link))
	v.check(b, "confirmation, zero-knowledge")
	assert.True(t, b.visible("#reveal"))
	assert.True(t, b.visible("#passphrase"))
	assert.Equal(t, w["left3"], b.text("attempts"))
	b.set("passphrase", "wrong horse")
	b.swapAfter("reveal")
	v.check(b, "wrong passphrase, zero-knowledge")
	assert.Contains(t, b.text("wrong"), w["wrong"])
	assert.Equal(t, w["left2"], b.text("attempts"))
	b.set("passphrase", "correct horse")
	b.swapAfter("reveal")
	v.check(b, "revealed value, zero-knowledge")
	assert.Equal(t, secret, b.text("value"))
	copied, _ := b.copyWith(`button[data-copy="value"]`, "value-status")
	assert.Equal(t, secret, copied)
}

// pagesErrors: every page that only an error reaches.
func pagesErrors(t *testing.T, v variant, b *tab, s *site, e *errorSites) {
	w := words[v.lang]
	ctx := context.Background()
	message := func(page, kind string) {
		t.Helper()
		v.check(b, page)
		assert.Equal(t, w[kind], b.text("message"), page)
		assert.True(t, b.visible("#home"), page)
	}

	require.EqualValues(t, http.StatusNotFound, b.open(s.base+"/nope"))
	message("page not found", "notfound")
	require.EqualValues(t, http.StatusNotFound, b.open(s.base+"/private/nosuchreceipt"))
	message("receipt gone", "receipt.gone")

	// The form refused, the secret shown again to be fixed: in the
	// zero-knowledge mode by the browser, which sends nothing, and by the
	// server for a post in its own mode.
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
	big := strings.Repeat("秘", 400) // 1200 bytes, past MaxSize
	b.set("secret", big)
	if v.js {
		b.press("share")
		b.waitFor(`!document.getElementById("zk-error").hidden`)
		v.check(b, "share form, refused in the browser")
		assert.Contains(t, b.text("zk-error"), w["secret.toolarge"])
		assert.Equal(t, "true", b.attr("secret", "aria-invalid"))
		require.EqualValues(t, http.StatusRequestEntityTooLarge, b.postByHand(s.base+"/share", map[string]string{"secret": big}))
	} else {
		require.EqualValues(t, http.StatusRequestEntityTooLarge, b.click("share"))
	}
	v.check(b, "share form, refused")
	assert.Contains(t, b.text("form-errors"), w["secret.toolarge"])
	assert.Equal(t, "true", b.attr("secret", "aria-invalid"))
	assert.Equal(t, big, eval[string](b, `document.getElementById("secret").value`))

	m, err := s.svc.Share(ctx, onetime.ShareRequest{Value: []byte("keep me")})
	require.NoError(t, err)
	require.EqualValues(t, http.StatusBadRequest, b.postByHand(s.base+"/share", map[string]string{"secret": "x", "nonce": "not a nonce"}))
	message("bad request", "error")
	require.EqualValues(t, http.StatusMethodNotAllowed, b.postByHand(s.base+"/private/"+string(m.MetadataKey), map[string]string{"x": "y"}))
	message("method not allowed", "method")
	require.EqualValues(t, http.StatusRequestEntityTooLarge, b.postByHand(s.base+"/share", map[string]string{"secret": strings.Repeat("x", 100<<10)}))
	message("request too large", "toolarge")

	// A form of another site that posts to the burn: refused, the secret
	// kept.
	require.EqualValues(t, http.StatusOK, b.open(e.evil+"?to="+url.QueryEscape(s.base+"/private/"+string(m.MetadataKey)+"/burn")))
	require.EqualValues(t, http.StatusForbidden, b.click("go"))
	message("request refused (another site)", "forbidden")
	st, err := s.svc.Status(ctx, m.SecretKey)
	require.NoError(t, err, "the secret survived")
	assert.False(t, st.PassphraseRequired)

	require.EqualValues(t, http.StatusInternalServerError, b.open(e.broken.base+e.brokenPath))
	message("something went wrong", "error")

	require.EqualValues(t, http.StatusOK, b.open(e.busy.base+e.busyPath))
	b.set("passphrase", "pass")
	require.EqualValues(t, http.StatusServiceUnavailable, b.click("reveal"))
	message("busy", "busy")
	assert.Equal(t, "5", b.header("Retry-After"))

	rl := pagesSite(t, nil, &webui.Options{RateLimiter: ratelimit.New(ratelimit.Options{PerSecond: 0.001, Burst: 1})})
	require.EqualValues(t, http.StatusOK, b.open(rl.base+"/"))
	require.EqualValues(t, http.StatusTooManyRequests, b.open(rl.base+"/"))
	message("rate limited", "ratelimited")

	gl := pagesSite(t, nil, &webui.Options{GuessLimiter: ratelimit.NewGuessLimiter(&ratelimit.GuessOptions{Burst: 1, PerSecond: 0.001})})
	require.EqualValues(t, http.StatusNotFound, b.open(gl.base+"/secret/nosuchsecret"))
	require.EqualValues(t, http.StatusTooManyRequests, b.open(gl.base+"/"))
	message("too many failed attempts", "guessing")
	assert.NotEmpty(t, b.header("Retry-After"))
}

// pagesSite is newSite for the browser journeys: the same handler on a
// real server, which also serves axe-core at browsertest.AxePath, so that
// the browser loads it once per site rather than for every page.
func pagesSite(t *testing.T, svcOpts *onetime.Options, uiOpts *webui.Options) *site {
	t.Helper()
	svc, clock := onetimetest.NewService(t, svcOpts)
	ui, err := webui.New(svc, uiOpts)
	require.NoError(t, err)
	return serveWithAxe(t, svc, clock, ui)
}

// serveWithAxe serves the handler h of svc at the root of a real server,
// with axe-core at browsertest.AxePath.
func serveWithAxe(t *testing.T, svc *onetime.Service, clock *onetimetest.Clock, h http.Handler) *site {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle(browsertest.AxePath, browsertest.AxeHandler(t))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &site{
		t: t, srv: srv, svc: svc, clock: clock,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		base:   srv.URL,
	}
}

// shareLinkRE matches the link that the page after a share shows: with the key
// in its fragment in the zero-knowledge mode.
func shareLinkRE(s *site, zk bool) string {
	if zk {
		return `^` + regexp.QuoteMeta(s.base) + `/secret/[0-9a-z]+#[A-Za-z0-9_-]{43}$`
	}
	return `^` + regexp.QuoteMeta(s.base) + `/secret/[0-9a-z]+$`
}

// errorSites are the sites of the pages that only errors reach, shared by
// the variants of TestPages.
type errorSites struct {
	// evil is the address of a page on another site (localhost is not
	// the same site as 127.0.0.1) with a form that posts to the URL in
	// its query's "to".
	evil string
	// broken serves the pages of a Service whose store is closed: every
	// page that needs the store fails with the 500 page, brokenPath among
	// them.
	broken     *site
	brokenPath string
	// busy serves the pages of a Service that is always out of time for
	// a passphrase check: every post reaches it with its deadline passed
	// (see TestBusy), so that revealing the secret at busyPath (its
	// passphrase is "pass") gets the busy page and consumes nothing.
	busy     *site
	busyPath string
}

func newErrorSites(t *testing.T) *errorSites {
	var e errorSites
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>elsewhere</title><form method="post" action="%s"><button id="go">go</button></form>`,
			html.EscapeString(r.URL.Query().Get("to")))
	}))
	t.Cleanup(evil.Close)
	e.evil = strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	quiet := slog.New(slog.DiscardHandler)
	key := bytes.Repeat([]byte("k"), onetime.MinServerSecretLen)
	store := memory.New()
	svc, err := onetime.New(store, key, &onetime.Options{Logger: quiet})
	require.NoError(t, err)
	m, err := svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v")})
	require.NoError(t, err)
	require.NoError(t, store.Close())
	ui, err := webui.New(svc, &webui.Options{Logger: quiet})
	require.NoError(t, err)
	e.broken = serveWithAxe(t, svc, nil, ui)
	e.brokenPath = "/private/" + string(m.MetadataKey)

	svc, err = onetime.New(patientStore{memory.New()}, key, &onetime.Options{KDFConcurrency: 1, Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	m, err = svc.Share(context.Background(), onetime.ShareRequest{Value: []byte("v"), Passphrase: "pass"})
	require.NoError(t, err)
	ui, err = webui.New(svc, &webui.Options{Logger: quiet})
	require.NoError(t, err)
	e.busy = serveWithAxe(t, svc, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			ctx, cancel := context.WithDeadline(r.Context(), time.Now()) // out of time already
			defer cancel()
			r = r.WithContext(ctx)
		}
		ui.ServeHTTP(w, r)
	}))
	e.busyPath = "/secret/" + string(m.SecretKey)
	return &e
}

// TestPagesAccount walks, in each of the 8 journeys (every page is checked
// in the 16 variants), through the pages of a signed-in customer (item 12:
// /recent, its burn, sign-out) with a mailer and without one (item 13),
// and through the 401 pages: credentials refused, an anonymous visitor at
// /recent. Every page gets [variant.check].
func TestPagesAccount(t *testing.T) {
	browsertest.RequireAxe(t)
	t.Parallel()
	for _, v := range journeys() {
		t.Run(v.journey(), func(t *testing.T) {
			t.Parallel()
			b := v.open(t)
			sendHeaders(b, map[string]string{"Accept-Language": v.acceptLanguage(), "Authorization": "Basic YWRhOnRva2Vu"}) // ada:token
			cancelPrompts(b)
			mailer := accountSite(t, true)
			t.Run("mailer", func(t *testing.T) { accountMailer(t, v, b.in(t), mailer) })
			t.Run("nomailer", func(t *testing.T) { accountNoMailer(t, v, b.in(t), accountSite(t, false)) })
			t.Run("signin", func(t *testing.T) { accountSignIn(t, v, b.in(t), mailer) })
		})
	}
}

// accountSite serves the pages with sign-in, ada:token its one customer,
// with a mailer (a Notifier) or without one.
func accountSite(t *testing.T, mailer bool) *site {
	opts := &onetime.Options{RestrictReceipts: true}
	if mailer {
		opts.Notifier = notifierFunc(func(context.Context, onetime.Notification) error { return nil })
	}
	return pagesSite(t, opts, &webui.Options{SignInRealm: "onetime", Auth: access.NewBasicAuth(map[string]string{"ada": "token"})})
}

// accountMailer: with a mailer, the form asks for a recipient and the
// receipt says where the link went (item 13); two addresses in the field,
// the browser's own check bypassed, are refused and store nothing; /recent
// lists the secret, burns it, and signing out says so (item 12).
func accountMailer(t *testing.T, v variant, b *tab, s *site) {
	w := words[v.lang]
	ada := onetime.WithCaller(context.Background(), onetime.Caller{Customer: "ada"})
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/recent"))
	v.check(b, "recent, empty")
	assert.True(t, b.visible("#recent-empty"))

	require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
	v.check(b, "share form, signed in, with a mailer")
	zk := v.js // the zero-knowledge mode
	if zk {
		// The browser encrypts: the server could only mail a link that
		// does not open, and the form says so instead of asking.
		assert.False(t, b.visible("#recipient"))
		assert.True(t, b.visible("#zk-recipient-note"))
		assert.Regexp(t, emailRE, b.text("zk-recipient-note"))
	} else {
		require.True(t, b.visible("#recipient"))
		assert.Regexp(t, emailRE, eval[string](b, `document.querySelector("label[for=recipient]").textContent`))
	}

	// Two addresses: the browser's own check refuses them; with that
	// check gone (or the form posted by hand where the browser encrypts),
	// the server does, and stores nothing.
	const two = "a@example.com, b@example.com"
	if zk {
		require.EqualValues(t, http.StatusBadRequest, b.postByHand(s.base+"/share", map[string]string{"secret": "for one reader", "recipient": two}))
	} else {
		b.set("secret", "for one reader")
		b.set("recipient", two)
		assert.True(t, eval[bool](b, `document.getElementById("recipient").validity.typeMismatch`), "the browser's check")
		eval[bool](b, `(function(){ var e = document.getElementById("recipient"); e.removeAttribute("type"); return e.validity.valid; })()`)
		require.True(t, eval[bool](b, `document.getElementById("recipient").form.checkValidity()`), "the browser's check bypassed")
		require.EqualValues(t, http.StatusBadRequest, b.click("share"))
	}
	v.check(b, "share form, recipient refused")
	assert.Contains(t, b.text("form-errors"), w["one address"])
	assert.Equal(t, "true", b.attr("recipient", "aria-invalid"))
	assert.Equal(t, "for one reader", eval[string](b, `document.getElementById("secret").value`), "the secret is kept to fix the field")
	recent, err := s.svc.Recent(ada, "ada")
	require.NoError(t, err)
	assert.Empty(t, recent, "nothing stored")

	// One address: the receipt says where the link went.
	var receipt string
	if zk {
		m, err := s.svc.Share(ada, onetime.ShareRequest{Owner: "ada", Value: []byte("for bob"), Recipients: []string{"bob@example.com"}})
		require.NoError(t, err)
		receipt = s.base + "/private/" + string(m.MetadataKey)
		require.EqualValues(t, http.StatusOK, b.open(receipt))
	} else {
		b.set("recipient", "bob@example.com")
		require.EqualValues(t, http.StatusOK, b.click("share"))
		receipt = b.url()
	}
	v.check(b, "receipt, sent to a recipient")
	assert.Equal(t, "bo*****@e*****.com", b.text("recipients"))
	assert.Contains(t, b.body(), w["sent to"])
	recent, err = s.svc.Recent(ada, "ada")
	require.NoError(t, err)
	assert.Len(t, recent, 1)

	// Item 12: the recent list, reached from the header.
	require.EqualValues(t, http.StatusOK, b.click("nav-recent"))
	v.check(b, "recent")
	require.Equal(t, 1, b.count("#recent li"))
	assert.Equal(t, w["unread"], eval[string](b, `document.querySelector("#recent .state").textContent`))
	assert.Equal(t, receipt, eval[string](b, `document.querySelector("#recent .recent-receipt").href`))
	burn := eval[string](b, `document.querySelector("#recent .recent-burn").href`)
	require.EqualValues(t, http.StatusOK, b.open(burn))
	require.EqualValues(t, http.StatusOK, b.click("confirm-burn"))
	assert.Equal(t, receipt, b.url(), "the burn lands on its receipt")
	require.EqualValues(t, http.StatusOK, b.click("nav-recent"))
	v.check(b, "recent, burned")
	assert.Equal(t, "burned", eval[string](b, `document.querySelector("#recent li").dataset.state`))
	assert.Zero(t, b.count("#recent .recent-burn"))

	// Signing out: the sign-in's challenge, the prompt cancelled, the page
	// that says so.
	require.EqualValues(t, http.StatusOK, b.open(receipt))
	require.EqualValues(t, http.StatusUnauthorized, b.click("nav-signout"))
	v.check(b, "signed out")
	assert.Equal(t, w["signedout"], b.text("message"))
	assert.Zero(t, b.count("#nav-recent, #nav-signout"))
}

// emailRE finds e-mail spoken of, in either language.
var emailRE = regexp.MustCompile(`(?i)e-?mail|メール`)

// accountNoMailer: without a mailer, nothing on the form or the receipt
// speaks of e-mail, even for a secret given a recipient through the API
// (item 13).
func accountNoMailer(t *testing.T, v variant, b *tab, s *site) {
	noMail := func(page string) {
		t.Helper()
		page = fmt.Sprintf("%s (%s)", page, v)
		doc := strings.ToLower(eval[string](b, `document.documentElement.outerHTML`))
		assert.NotContains(t, doc, "mail", page)
		assert.NotContains(t, doc, "メール", page)
		assert.NotContains(t, b.body(), words[v.lang]["sent to"], page)
	}
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
	v.check(b, "share form, signed in, without a mailer")
	noMail("share form")
	assert.Zero(t, b.count("#recipient"))
	b.set("secret", "no mail")
	require.EqualValues(t, http.StatusOK, b.click("share"))
	v.check(b, "after a share, signed in, without a mailer")
	noMail("after a share")

	ada := onetime.WithCaller(context.Background(), onetime.Caller{Customer: "ada"})
	m, err := s.svc.Share(ada, onetime.ShareRequest{Owner: "ada", Value: []byte("v"), Recipients: []string{"bob@example.com"}})
	require.NoError(t, err)
	require.NotEmpty(t, m.Recipients, "the Service keeps the recipient")
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/private/"+string(m.MetadataKey)))
	noMail("receipt of a secret with a recipient")
	assert.Zero(t, b.count("#recipients"))
}

// accountSignIn: credentials refused, and an anonymous visitor at /recent
// (the prompts cancelled): each page says what happened, with the ways
// on; the anonymous form offers sign-in and no recipient.
func accountSignIn(t *testing.T, v variant, b *tab, s *site) {
	w := words[v.lang]
	sendHeaders(b, map[string]string{"Accept-Language": v.acceptLanguage(), "Authorization": "Basic YWRhOndyb25n"}) // ada:wrong
	require.EqualValues(t, http.StatusUnauthorized, b.open(s.base+"/"))
	v.check(b, "sign-in failed")
	assert.Equal(t, w["unauthorized"], b.text("message"))

	// Anonymous from now on: no credentials sent.
	sendHeaders(b, map[string]string{"Accept-Language": v.acceptLanguage()})
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
	v.check(b, "share form, anonymous, sign-in offered")
	assert.Zero(t, b.count("#recipient"), "a recipient needs a sign-in")
	assert.NotRegexp(t, emailRE, b.body())
	require.EqualValues(t, http.StatusUnauthorized, b.open(s.base+"/recent"))
	v.check(b, "not signed in")
	assert.Equal(t, w["notsignedin"], b.text("message"))
	assert.Equal(t, s.base+"/recent", eval[string](b, `document.getElementById("signin-again").href`))
	require.EqualValues(t, http.StatusOK, b.click("home"))
	assert.Equal(t, s.base+"/", b.url())
}

// Item 14: strict headers on every answer, static files and robots.txt
// too, and a robots.txt that keeps crawlers out, as the browser receives
// it. (The pages' headers are checked in every variant by variant.check.)
func TestPagesHeadersAndRobots(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for _, p := range []string{"/", "/static/style.css", "/nope", "/robots.txt"} {
		res, err := http.Get(s.base + p)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, "same-origin", res.Header.Get("Cross-Origin-Resource-Policy"), p)
		assert.Equal(t, webui.PermissionsPolicy, res.Header.Get("Permissions-Policy"), p)
	}
	b := newTab(t)
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/robots.txt"))
	assert.Equal(t, "User-agent: *\nDisallow: /", strings.TrimSpace(b.body()))
}

// Item 13 at the HTTP level: the pages speak of e-mail only when the
// Service has a Notifier, and the recipient field takes one address, however
// the addresses are separated, when posted directly.
func TestPagesEmailOnlyWithMailer(t *testing.T) {
	t.Parallel()
	auth := access.NewBasicAuth(map[string]string{"ada": "token"})
	ada := http.Header{"Authorization": {"Basic YWRhOnRva2Vu"}}
	note := notifierFunc(func(context.Context, onetime.Notification) error { return nil })

	without := newSite(t, nil, &webui.Options{Auth: auth})
	res := without.do(http.MethodGet, "/", nil, ada)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, "Signed in as ada")
	assert.NotContains(t, strings.ToLower(res.body), "mail")

	with := newSite(t, &onetime.Options{Notifier: note}, &webui.Options{Auth: auth})
	res = with.do(http.MethodGet, "/", nil, ada)
	assert.Contains(t, res.body, `id="recipient"`)
	assert.Contains(t, res.body, "email")
	for _, two := range []string{"a@example.com, b@example.com", "a@example.com,b@example.com", "a@example.com b@example.com", "a@example.com; b@example.com"} {
		res = with.do(http.MethodPost, "/share", url.Values{"secret": {"x"}, "recipient": {two}}, ada)
		assert.Equal(t, http.StatusBadRequest, res.status, two)
		assert.Contains(t, res.body, "one valid email address", two)
	}
	ms, err := with.svc.Recent(onetime.WithCaller(context.Background(), onetime.Caller{Customer: "ada"}), "ada")
	require.NoError(t, err)
	assert.Empty(t, ms, "nothing stored")
}
