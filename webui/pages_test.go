package webui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/internal/browsertest"
	"github.com/onetimego/onetime/webui"
)

// A variant is one way a person sees the pages: a screen width, a
// language, and JavaScript on or off.
type variant struct {
	width  int64
	lang   string // "en" or "ja"
	script bool
}

func (v variant) String() string {
	js := "js"
	if !v.script {
		js = "nojs"
	}
	return fmt.Sprintf("%dpx-%s-%s", v.width, v.lang, js)
}

// variants are every combination of a phone and a desktop width, English
// and Japanese, JavaScript on and off.
func variants() []variant {
	var out []variant
	for _, w := range []int64{360, 1280} {
		for _, l := range []string{"en", "ja"} {
			for _, js := range []bool{true, false} {
				out = append(out, variant{w, l, js})
			}
		}
	}
	return out
}

// newVariantTab opens a tab that looks at the pages as v does.
func newVariantTab(t *testing.T, v variant) *tab {
	t.Helper()
	b := newTab(t)
	if v.lang == "ja" {
		browsertest.SetLanguage(t, b.ctx, "ja-JP,ja;q=0.9")
	}
	if !v.script {
		browsertest.DisableJavaScript(t, b.ctx)
	}
	if v.width < 600 {
		b.phone()
	} else {
		require.NoError(t, chromedp.Do(b.ctx, chromedp.EmulateViewport(v.width, 900)))
	}
	return b
}

// visible reports whether the element matched by the CSS selector is
// rendered.
func (b *tab) visible(sel string) bool {
	return eval[bool](b, fmt.Sprintf(`(function(){ var e = document.querySelector(%q); return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden"; })()`, sel))
}

// Item 1: the receipt is the sender's alone; the footer never tells
// anyone to hand it over.
func TestPagesFooterKeepsReceiptPrivate(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for _, lang := range []string{"en", "ja"} {
		b := newVariantTab(t, variant{360, lang, true})
		require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
		_, receipt := shareInBrowser(b, s.base, "footer check", "")
		for _, page := range []string{s.base + "/", receipt, s.base + "/nope"} {
			b.open(page)
			footer := eval[string](b, `document.querySelector("footer").innerText`)
			if lang == "en" {
				assert.Contains(t, footer, "keep the receipt to yourself", page)
				assert.NotContains(t, footer, "Links and receipts are private", page)
			} else {
				assert.Contains(t, footer, "受領証はご自身だけで保管", page)
				assert.NotContains(t, footer, "リンクと受領証は、受け取る人だけに渡して", page)
			}
		}
	}
}

// Item 2: the whole link shows, wrapping, selectable, at every width;
// Copy is there where JavaScript runs, and without it the page says to
// select the link.
func TestPagesWholeLink(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for _, v := range variants() {
		t.Run(v.String(), func(t *testing.T) {
			b := newVariantTab(t, v)
			link, _ := shareInBrowser(b, s.base, "a link to see whole", "")
			assert.Equal(t, link, b.text("link"))
			assert.True(t, eval[bool](b, `(function(){ var e = document.getElementById("link"); var r = e.getBoundingClientRect();
				return e.scrollWidth <= e.clientWidth && r.left >= 0 && r.right <= window.innerWidth; })()`), "the link is not cut")
			assert.Equal(t, "all", eval[string](b, `getComputedStyle(document.getElementById("link")).userSelect`))
			assert.True(t, b.fitsPhone())
			assert.Equal(t, v.script, b.visible("#copy-link"), "Copy where JavaScript runs")
			assert.Equal(t, !v.script, b.visible("#link-select"), "without JavaScript: select it")
			browsertest.Screenshot(t, b.ctx, "receipt-"+v.String())
		})
	}
}

// Item 3: after sharing, the page says the link is ready and leads with
// the link and Copy; burning is secondary and small.
func TestPagesLinkReady(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for _, v := range []variant{{360, "en", true}, {1280, "en", true}, {360, "ja", true}, {360, "en", false}} {
		t.Run(v.String(), func(t *testing.T) {
			b := newVariantTab(t, v)
			_, receipt := shareInBrowser(b, s.base, "ready", "")
			want := map[string]string{"en": "Your link is ready", "ja": "リンクができました"}[v.lang]
			assert.Equal(t, want, b.text("title"))
			order := eval[[]string](b, `Array.from(document.querySelectorAll("h1, #link, #copy-link, #receipt, #burn")).map(function(e){ return e.id || e.tagName; })`)
			assert.Equal(t, []string{"title", "link", "copy-link", "receipt", "burn"}, order, "the link and Copy come first")
			assert.False(t, eval[bool](b, `document.getElementById("burn").classList.contains("danger")`))
			if v.script {
				assert.Greater(t, eval[float64](b, `(function(){ var c = document.getElementById("copy-link").getBoundingClientRect(); var d = document.getElementById("burn").getBoundingClientRect(); return c.width*c.height - d.width*d.height; })()`), 0.0,
					"Copy is larger than Burn")
			}
			// Later visits are the receipt, not a new link.
			b.open(receipt)
			assert.NotEqual(t, want, b.text("title"))
		})
	}
}

// Item 5: each state says what it means to the sender, the two unread
// states alike; no expiry on a secret that is gone; in Japanese no
// half-width ". " after the state.
func TestPagesStateCopy(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for _, lang := range []string{"en", "ja"} {
		b := newVariantTab(t, variant{1280, lang, true})
		link, receipt := shareInBrowser(b, s.base, "state copy", "")
		first := b.text("state")
		assert.True(t, b.visible("#expires"))
		b.open(receipt)
		assert.Equal(t, "viewed", eval[string](b, `document.getElementById("receipt").dataset.state`))
		assert.Equal(t, first, b.text("state"), "new and viewed mean the same to the sender")
		assert.True(t, b.visible("#expires"))

		reader := newVariantTab(t, variant{1280, lang, true})
		reader.open(link)
		reader.click("reveal")
		b.open(receipt)
		assert.Equal(t, map[string]string{"en": "Read", "ja": "読まれました"}[lang], b.text("state"))
		assert.False(t, b.visible("#expires"), "no expiry once read")
		dd := eval[string](b, `document.getElementById("state").parentElement.textContent`)
		assert.NotContains(t, dd, ". ")

		_, receipt = shareInBrowser(b, s.base, "to burn", "")
		b.click("burn")
		b.click("confirm-burn")
		assert.Equal(t, receipt, b.url(), "back on the receipt")
		assert.Equal(t, "burned", eval[string](b, `document.getElementById("receipt").dataset.state`))
		assert.False(t, b.visible("#expires"), "no expiry once burned")
		if lang == "en" {
			assert.Contains(t, b.text("state-desc"), "destroyed")
		}
	}
}

// Item 6: generating redirects after the post, so that a reload shows the
// receipt rather than making a second password; a restored tab of /share
// or /generate lands on the form; Generate warns before discarding a
// typed secret (with JavaScript; without, the page says so).
func TestPagesGenerateAndRestoredTabs(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for _, v := range []variant{{360, "en", true}, {360, "ja", false}} {
		t.Run(v.String(), func(t *testing.T) {
			b := newVariantTab(t, v)
			require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
			require.EqualValues(t, http.StatusOK, b.click("generate"))
			assert.Contains(t, b.url(), "/private/", "redirected after the post")
			pw := b.text("value")
			require.NotEmpty(t, pw)
			reloaded, err := chromedp.RunResponse(b.ctx, chromedp.Reload())
			require.NoError(t, err)
			assert.EqualValues(t, http.StatusOK, reloaded.Status)
			assert.Equal(t, 0, eval[int](b, `document.querySelectorAll("#value").length`), "the password is shown once")
			assert.Equal(t, "viewed", eval[string](b, `document.getElementById("receipt").dataset.state`))

			for _, p := range []string{"/share", "/generate"} {
				assert.EqualValues(t, http.StatusOK, b.open(s.base+p), p)
				assert.Equal(t, s.base+"/", b.url(), p)
				assert.True(t, b.visible("#secret"), p)
			}

			b.set("secret", "typed, not to be lost")
			hint := b.text("generate-hint")
			if v.lang == "en" {
				assert.Contains(t, hint, "A secret typed above is not shared")
			} else {
				assert.Contains(t, hint, "上に入力した秘密は共有されません")
			}
			if !v.script {
				return
			}
			require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("generate"))))
			assert.Equal(t, s.base+"/", b.url(), "the first press only warns")
			assert.True(t, b.visible("#generate-warning"))
			assert.Equal(t, "typed, not to be lost", eval[string](b, `document.getElementById("secret").value`))
			require.EqualValues(t, http.StatusOK, b.click("generate"))
			assert.Contains(t, b.url(), "/private/")
			assert.NotEmpty(t, b.text("value"))
		})
	}
}

// Item 4: Japanese typography: full-width punctuation in the Japanese
// pages, and no button label broken inside a word at 360 px ("コピ/ー").
func TestPagesJapaneseTypography(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	b := newVariantTab(t, variant{360, "ja", true})
	// One line per button label: a range over its text has one line box.
	oneLine := `Array.from(document.querySelectorAll("button, a.button")).filter(function(e){ return e.getClientRects().length > 0; }).
		filter(function(e){ var r = document.createRange(); r.selectNodeContents(e);
			var tops = {}; Array.from(r.getClientRects()).forEach(function(c){ tops[Math.round(c.top)] = true; });
			return Object.keys(tops).length > 1; }).map(function(e){ return e.textContent; })`
	halfWidth := `(document.querySelector("main").innerText.match(/[^\x00-\x7F][ ]?[?!()]|[?!(][^\x00-\x7F]|\. [^\x00-\x7F]/g) || [])`

	require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
	assert.Contains(t, b.body(), "パスフレーズ（任意）")
	assert.Empty(t, eval[[]string](b, halfWidth))
	assert.Empty(t, eval[[]string](b, oneLine))
	_, receipt := shareInBrowser(b, s.base, "日本語", "")
	assert.Empty(t, eval[[]string](b, oneLine), "the Copy button is one line")
	assert.Empty(t, eval[[]string](b, halfWidth))
	browsertest.Screenshot(t, b.ctx, "receipt-ja-360")
	require.EqualValues(t, http.StatusOK, b.click("burn"))
	assert.Contains(t, b.body(), "この秘密を破棄しますか？")
	assert.Empty(t, eval[[]string](b, oneLine))
	assert.Empty(t, eval[[]string](b, halfWidth))
	b.click("confirm-burn")
	assert.Equal(t, receipt, b.url())
	assert.Empty(t, eval[[]string](b, halfWidth))

	// The revealed value's Copy button sits beside a long value.
	link, _ := shareInBrowser(b, s.base, strings.Repeat("長い秘密の値です。", 20), "")
	b.open(link)
	require.EqualValues(t, http.StatusOK, b.click("reveal"))
	assert.Empty(t, eval[[]string](b, oneLine), "the Copy button is one line")
	assert.Empty(t, eval[[]string](b, halfWidth))
}

// Item 14: strict headers on every answer, and a robots.txt that keeps
// crawlers out, as the browser receives them.
func TestPagesHeadersAndRobots(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for _, p := range []string{"/", "/static/style.css", "/nope", "/robots.txt"} {
		res, err := http.Get(s.base + p)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, "same-origin", res.Header.Get("Cross-Origin-Resource-Policy"), p)
		assert.Contains(t, res.Header.Get("Permissions-Policy"), "geolocation=()", p)
	}
	b := newTab(t)
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/robots.txt"))
	assert.Equal(t, "User-agent: *\nDisallow: /", strings.TrimSpace(eval[string](b, "document.body.innerText")))
}

// Item 8: the passphrase can be shown before it is sent, with
// JavaScript: a toggle button with a name and aria-pressed.
func TestPagesShowPassphrase(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for _, v := range []variant{{360, "en", true}, {360, "ja", true}, {360, "en", false}} {
		t.Run(v.String(), func(t *testing.T) {
			b := newVariantTab(t, v)
			require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
			assert.Equal(t, v.script, b.visible("#show-passphrase"))
			assert.Equal(t, "password", eval[string](b, `document.getElementById("passphrase").type`))
			if !v.script {
				return
			}
			want := map[string]string{"en": "Show passphrase", "ja": "パスフレーズを表示"}[v.lang]
			assert.Equal(t, want, b.text("show-passphrase"))
			assert.Equal(t, "false", eval[string](b, `document.getElementById("show-passphrase").getAttribute("aria-pressed")`))
			b.set("passphrase", "typo horse")
			require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("show-passphrase"))))
			assert.Equal(t, "text", eval[string](b, `document.getElementById("passphrase").type`))
			assert.Equal(t, "true", eval[string](b, `document.getElementById("show-passphrase").getAttribute("aria-pressed")`))
			require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("show-passphrase"))))
			assert.Equal(t, "password", eval[string](b, `document.getElementById("passphrase").type`))
			assert.Equal(t, "false", eval[string](b, `document.getElementById("show-passphrase").getAttribute("aria-pressed")`))

			// The reader's page has it too; the passphrase still works.
			link, _ := shareInBrowser(b, s.base, "shown", "typo horse")
			b.open(link)
			require.True(t, b.visible("#show-passphrase"))
			b.set("passphrase", "typo horse")
			require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("show-passphrase"))))
			assert.Equal(t, "text", eval[string](b, `document.getElementById("passphrase").type`))
			require.EqualValues(t, http.StatusOK, b.click("reveal"))
			assert.Equal(t, "shown", b.text("value"))
		})
	}
}

// Item 13: the pages speak of e-mail only when the Service has a
// Notifier, and the recipient field takes one address, even when the
// browser's check is bypassed.
func TestPagesEmailOnlyWithMailer(t *testing.T) {
	t.Parallel()
	auth := access.AuthenticatorFunc(func(r *http.Request) (string, error) {
		if u, p, ok := r.BasicAuth(); ok && u == "ada" && p == "token" {
			return "ada", nil
		}
		return "", nil
	})
	ada := http.Header{"Authorization": {"Basic YWRhOnRva2Vu"}}
	note := notifierFunc(func(context.Context, onetime.Notification) error { return nil })

	without := newSite(t, nil, &webui.Options{Auth: auth})
	res := without.do(http.MethodGet, "/", nil, ada)
	require.Equal(t, http.StatusOK, res.status)
	assert.NotContains(t, strings.ToLower(res.body), "email")

	with := newSite(t, &onetime.Options{Notifier: note}, &webui.Options{Auth: auth})
	res = with.do(http.MethodGet, "/", nil, ada)
	assert.Contains(t, res.body, `id="recipient"`)
	res = with.do(http.MethodPost, "/share", url.Values{"secret": {"x"}, "recipient": {"a@example.com, b@example.com"}}, ada)
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body, "one valid email address")
}
