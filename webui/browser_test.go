package webui_test

// The browser tests drive the pages in a real headless Chromium
// (internal/browsertest), one browser for the whole test binary, each tab in
// a browser context of its own.
//
// # Variants
//
// Every page is seen in 16 variants: 360 px (a phone) and 1280 px,
// English and Japanese, the light and the dark colour scheme, JavaScript
// on and off. The journeys of TestPages and TestPagesAccount run once per
// combination of width, language and JavaScript ([journeys]), one tab
// each, and on every page they reach call [variant.check], which asserts
// what every page must be and runs axe-core on it, in the dark and in the
// light scheme (switched in place: the scheme changes nothing but
// colours): 0 violations and 0 "needs review".
//
// # Issue 21: what covers each item
//
// "check" is [variant.check]: every page of every journey, all 16
// variants. "TestPages/<journey>/<phase>" is a phase of a journey: its
// assertions run in the 8 journeys (the colour scheme cannot change what
// they look at), its pages through check in all 16. "8+" below means
// that: 8 journeys, and the page checked in 16 variants.
//
//	 #  item                                          covered by                                   variants
//	 1  footer: the receipt is the sender's alone     check (every page)                           16
//	 2  the whole link, wrapping and selectable;      TestPages/*/share (after a share),           8+; Copy where JS
//	    Copy with JS, "select it" without               TestPages/*/generate (generated page)          runs, hint where not
//	 3  "your link is ready", link and Copy lead,     TestPages/*/share                            8+ (Copy's weight: JS)
//	    burn small and after
//	 4  Japanese typography: full-width punctuation,  check (every page: no button label on two    16 (punctuation: the
//	    no word broken ("コピ/ー"), no "受信済み. "      lines; ja: no half-width punctuation)          8 ja variants)
//	 5  state copy: new and viewed alike, Expires     TestPages/*/share (new, viewed),             8+
//	    only while alive, burned/expired said           reveal (received), burn (burned),
//	                                                    value (expired)
//	 6  redirect after generating; restored tabs of   TestPages/*/generate                         8+ (the warning: JS;
//	    /share and /generate land on the form;                                                         the hint: no JS)
//	    warn before discarding a typed secret
//	 7  attempts left, last-attempt warning, why a    TestPages/*/reveal (and zk: the same in      8+
//	    spent secret is gone                            the zero-knowledge mode)
//	 8  show/hide passphrase (sender and reader)      TestPages/*/share, reveal                    8+ (hidden without JS)
//	 9  control characters shown as marks, Copy       TestPages/*/value                            8+ (Copy: JS)
//	    copies the real ones
//	10  focus ring 3:1 on its background;             check (every focusable element of every      16
//	    no aria-prohibited-attr                         page, focused) and axe
//	11  local time and "expires in" with JS, UTC      TestPages/*/value                            8+
//	    without
//	12  /recent with state and burn; sign-out;        TestPagesAccount/*/mailer, signin            8+
//	    a cancelled sign-in says so
//	13  e-mail spoken of only with a mailer; one      TestPagesAccount/*/mailer, nomailer;         8+; HTTP: no variant
//	    recipient even with the browser's check         TestPagesEmailOnlyWithMailer (4 ways
//	    bypassed (nothing stored)                       to write two addresses)
//	14  Permissions-Policy, CORP (and the other       check (the headers of every page);           16; robots.txt once
//	    headers); robots.txt                            TestPagesHeadersAndRobots                      (no variant)
//
// Where JavaScript runs the share form encrypts in the browser (the
// zero-knowledge mode, zk.js): the journeys share that way in the JS
// variants and the server's way in the others, and TestPages/*/zk goes
// through the pages of a zero-knowledge secret (its receipt without the
// key, its confirmation page with and without the key or JavaScript, a
// wrong passphrase and the value opened in the page).
//
// axe-core also runs, in every variant, on the pages only errors reach
// (TestPages/*/errors): not found, gone receipt, the refused form (by the
// browser and by the server), 400, 403 (a post from another site), 405,
// 413, 429 (rate limit and guess limit), 500 and 503 (busy); and on the
// 401 pages (TestPagesAccount/*/signin, mailer).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/browsertest"
	"github.com/onetimego/onetime/webui"
)

// One Chromium for the whole test binary; each test opens tabs in browser
// contexts of their own.
func TestMain(m *testing.M) { browsertest.Main(m) }

// tab wraps a chromedp tab with the few steps the tests take, failing the
// test on any error.
type tab struct {
	t   *testing.T
	ctx context.Context
	res **network.Response // the answer of the page shown, shared by the copies of in
}

func newTab(t *testing.T) *tab {
	var res *network.Response
	return &tab{t, browsertest.New(t), &res}
}

// in returns the tab for a subtest: the same browser tab, failing t.
func (b *tab) in(t *testing.T) *tab { return &tab{t, b.ctx, b.res} }

// open navigates to url and returns the HTTP status of the page.
func (b *tab) open(url string) int64 {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(url))
	require.NoError(b.t, err, url)
	*b.res = res
	return res.Status
}

// click clicks the element with the id and waits for the page it loads;
// it returns that page's HTTP status.
func (b *tab) click(id string) int64 {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.ID(id)))
	require.NoError(b.t, err, id)
	*b.res = res
	return res.Status
}

// reload reloads the page (a form's answer is posted again) and returns
// its HTTP status.
func (b *tab) reload() int64 {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Reload())
	require.NoError(b.t, err)
	*b.res = res
	return res.Status
}

// press clicks the element with the id when that loads no page (a button
// of the page's script).
func (b *tab) press(id string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Click(chromedp.ID(id))), id)
}

// waitFor waits until the JavaScript expression is true (in a tab whose
// pages run scripts).
func (b *tab) waitFor(expr string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr))
	require.NoError(b.t, err, expr)
}

// swapAfter presses the button with the id on a confirmation page of the
// zero-knowledge mode, whose script posts the proofs itself and puts the
// server's answer in place of the page's <main>, and waits for that.
func (b *tab) swapAfter(id string) {
	b.t.Helper()
	eval[bool](b, `(document.querySelector("main").dataset.before = "1", true)`)
	b.press(id)
	b.waitFor(`(function(){ var m = document.querySelector("main"), e = document.getElementById("zk-error");
  return (!m.dataset.before && !document.querySelector("#value[data-sealed]")) || (!!e && !e.hidden); })()`)
	require.False(b.t, b.visible("#zk-error"), b.text("zk-error"))
}

// header returns a header of the answer of the page shown.
func (b *tab) header(name string) string {
	b.t.Helper()
	require.NotNil(b.t, *b.res, "no page loaded")
	for k, v := range (*b.res).Headers {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
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
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(function(){ var e = document.getElementById(%q); return e ? e.textContent : "<no #%s>"; })()`, id, id))
}

func (b *tab) attr(id, name string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(function(){ var e = document.getElementById(%q); return e ? String(e.getAttribute(%q)) : "<no #%s>"; })()`, id, name, id))
}

func (b *tab) count(sel string) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

func (b *tab) body() string { return eval[string](b, "document.body.innerText") }

func (b *tab) url() string { return eval[string](b, "location.href") }

func (b *tab) lang() string { return eval[string](b, "document.documentElement.lang") }

func (b *tab) state() string {
	b.t.Helper()
	return b.attr("receipt", "data-state")
}

func (b *tab) phone() {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2), chromedp.EmulateMobile)))
}

// visible reports whether the element matched by the CSS selector is
// rendered.
func (b *tab) visible(sel string) bool {
	b.t.Helper()
	return eval[bool](b, fmt.Sprintf(`(function(){ var e = document.querySelector(%q); return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden"; })()`, sel))
}

// grantClipboard lets the pages of origin read and write the clipboard, so
// that a test can read what Copy copied.
func (b *tab) grantClipboard(origin string) {
	b.t.Helper()
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(b.ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission:       &browser.PermissionDescriptor{Name: name},
			Setting:          browser.PermissionSettingGranted,
			Origin:           origin,
			BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID,
		})
		require.NoError(b.t, err)
	}
}

// clipboard is held from a Copy to the read of what it copied: the tests'
// browser contexts all share the one Chromium's clipboard, and a test
// running in parallel could copy in between (TestPages once read another
// test's link).
var clipboard sync.Mutex

// copyWith presses the Copy button matched by sel, waits for its status
// line (id status) and returns what the clipboard then holds and what the
// status says. The page's origin must be granted the clipboard
// (grantClipboard).
func (b *tab) copyWith(sel, status string) (copied, said string) {
	b.t.Helper()
	clipboard.Lock()
	defer clipboard.Unlock()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(sel))))
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](fmt.Sprintf(`document.getElementById(%q).textContent !== ""`, status)))
	require.NoError(b.t, err)
	copied, err = chromedp.Run(b.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	require.NoError(b.t, err)
	return copied, b.text(status)
}

// postByHand adds to the page a form that posts fields to action and
// submits it, as a person crafting a request (or a browser without the
// page's checks) would; it returns the status of the answer.
func (b *tab) postByHand(action string, fields map[string]string) int64 {
	b.t.Helper()
	js, err := json.Marshal(fields)
	require.NoError(b.t, err)
	eval[bool](b, fmt.Sprintf(`(function(){
  var f = document.createElement("form"); f.method = "post"; f.action = %q;
  var fields = %s;
  Object.keys(fields).forEach(function(k){ var i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = fields[k]; f.appendChild(i); });
  var go = document.createElement("button"); go.id = "by-hand"; go.textContent = "post"; f.appendChild(go);
  document.body.appendChild(f); return true; })()`, action, js))
	return b.click("by-hand")
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
	link = b.text("link")
	require.Regexp(b.t, `^`+regexp.QuoteMeta(base)+`/secret/[0-9a-z]+(#[A-Za-z0-9_-]{43})?$`, link)
	return link, b.url()
}

// sendHeaders makes the tab send the headers with every request from now
// on (Accept-Language, Authorization...), replacing those set before.
func sendHeaders(b *tab, h map[string]string) {
	b.t.Helper()
	_, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{})
	require.NoError(b.t, err)
	headers := network.Headers{}
	for k, v := range h {
		headers[k] = v
	}
	_, err = chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: headers})
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
	// Only pages can be asked for credentials here: the other requests
	// (stylesheet, scripts, icon) need not wait for the test.
	handle := true
	_, err := chromedp.Call(b.ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &handle,
		Patterns: []*fetch.RequestPattern{{URLPattern: "*", ResourceType: network.ResourceTypeDocument}}})
	require.NoError(b.t, err)
}

// A variant is one way a person meets the pages: screen width, language,
// colour scheme and whether JavaScript runs.
type variant struct {
	width  int64
	lang   string // "en" or "ja"
	scheme string // prefers-color-scheme: "light" or "dark"
	js     bool
}

func (v variant) String() string {
	js := "js"
	if !v.js {
		js = "nojs"
	}
	return fmt.Sprintf("%d-%s-%s-%s", v.width, v.lang, v.scheme, js)
}

// journeys are the variants that the issue asks for (360 and 1280 px,
// English and Japanese, light and dark, JavaScript on and off) but for the
// colour scheme, in which the journeys run, in the light one: the scheme
// changes nothing but colours (no page, script or answer depends on it),
// so check sees each page in both, switching the scheme in place, rather
// than walking every journey twice.
func journeys() []variant {
	var vs []variant
	for _, w := range []int64{360, 1280} {
		for _, lang := range []string{"en", "ja"} {
			for _, js := range []bool{true, false} {
				vs = append(vs, variant{w, lang, "light", js})
			}
		}
	}
	return vs
}

// journey names a journey: its variant without the scheme.
func (v variant) journey() string {
	js := "js"
	if !v.js {
		js = "nojs"
	}
	return fmt.Sprintf("%d-%s-%s", v.width, v.lang, js)
}

// acceptLanguage is what a browser set to the variant's language sends.
func (v variant) acceptLanguage() string {
	return map[string]string{"en": "en-US,en;q=0.9", "ja": "ja-JP,ja;q=0.9"}[v.lang]
}

// open gives a tab set up as the variant: viewport, Accept-Language, colour
// scheme, scripts, and the time zone Asia/Tokyo (UTC+9 all year, so that
// local time differs from UTC).
func (v variant) open(t *testing.T) *tab {
	t.Helper()
	b := newTab(t)
	if v.width < 600 {
		b.phone()
	} else {
		require.NoError(t, chromedp.Do(b.ctx, chromedp.EmulateViewport(v.width, 800, chromedp.EmulateScale(1))))
	}
	sendHeaders(b, map[string]string{"Accept-Language": v.acceptLanguage()})
	browsertest.SetColorScheme(t, b.ctx, v.scheme)
	_, err := chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
	require.NoError(t, err)
	if !v.js {
		browsertest.DisableJavaScript(t, b.ctx)
	}
	return b
}

// pageFacts is what check reads of a page in one evaluation.
type pageFacts struct {
	Lang     string   `json:"lang"`
	Footer   string   `json:"footer"`
	Overflow bool     `json:"overflow"`
	Text     string   `json:"text"`   // the body's text but values and links (pre, code, textarea)
	Broken   []string `json:"broken"` // button labels laid out on more than one line
	Rings    []ring   `json:"rings"`
}

// ring is the focus ring of one focusable element, focused.
type ring struct {
	El      string  `json:"el"`
	Focused bool    `json:"focused"` // focused and :focus-visible
	Style   string  `json:"style"`
	Width   float64 `json:"width"`
	Color   string  `json:"color"`
	Bg      string  `json:"bg"` // the opaque background the ring is drawn on
}

// factsJS gathers pageFacts. Each focusable element is focused as a
// keyboard user would focus it ({focusVisible: true}), its outline read,
// and the background it is drawn on found among its ancestors; the focus
// is then dropped and the page scrolled back, so that axe sees the page as
// it loaded.
const factsJS = `(function(){
  var visible = function(e){ return e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden"; };
  var bgOf = function(e){
    for (var p = e; p; p = p.parentElement) {
      var c = getComputedStyle(p).backgroundColor;
      if (c !== "transparent" && !/^rgba\(.*, 0\)$/.test(c)) return c;
    }
    return "rgb(255, 255, 255)";
  };
  var name = function(e){ return e.id ? "#" + e.id : e.tagName.toLowerCase() + (e.className ? "." + String(e.className).trim().replace(/\s+/g, ".") : "") + (e.textContent ? "(" + e.textContent.trim().slice(0, 30) + ")" : ""); };
  var broken = Array.prototype.filter.call(document.querySelectorAll("button, a.button"), visible).filter(function(e){
    var r = document.createRange(); r.selectNodeContents(e);
    var tops = {};
    Array.prototype.forEach.call(r.getClientRects(), function(c){ if (c.width > 0) tops[Math.round(c.top)] = true; });
    return Object.keys(tops).length > 1;
  }).map(function(e){ return e.textContent; });
  var active = document.activeElement;
  var rings = Array.prototype.filter.call(document.querySelectorAll('a[href], button, input:not([type="hidden"]), select, textarea, [tabindex]'), visible).map(function(e){
    e.focus({focusVisible: true});
    var cs = getComputedStyle(e);
    return {el: name(e), focused: document.activeElement === e && e.matches(":focus-visible"),
      style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), color: cs.outlineColor, bg: bgOf(e.parentElement)};
  });
  if (document.activeElement) document.activeElement.blur();
  if (active && active !== document.body) active.focus();
  window.scrollTo(0, 0);
  var body = document.body.cloneNode(true);
  Array.prototype.forEach.call(body.querySelectorAll("pre, code, script, textarea"), function(e){ e.remove(); });
  return JSON.stringify({lang: document.documentElement.lang, footer: document.querySelector("footer").innerText,
    overflow: document.documentElement.scrollWidth > window.innerWidth, text: body.textContent, broken: broken, rings: rings});
})()`

// halfWidth finds ASCII punctuation next to Japanese text: "?" for "？",
// "(任意)" for "（任意）", "受信済み. " for "受信済み。".
var halfWidth = regexp.MustCompile(`[\p{Han}\p{Hiragana}\p{Katakana}ー。、]\s?[?!():;,.]|[?!(:;,.]\s?[\p{Han}\p{Hiragana}\p{Katakana}]`)

// check asserts what every page must be in every variant, in both colour
// schemes (the page switched in place: see journeys), and runs axe-core's
// WCAG 2.x A/AA rules on it in each, wanting no violation and nothing left
// for review:
//
//   - in the variant's language, with no horizontal scrolling at its width;
//   - item 1: the footer keeps the receipt to the sender;
//   - item 4: no button label broken over two lines; in Japanese no
//     half-width punctuation next to Japanese text;
//   - item 10: every focusable element, focused, shows a solid ring of at
//     least 2 px that contrasts by 3:1 with the background it is drawn on;
//   - item 14: the security headers, Permissions-Policy and CORP among them.
//
// On a failure it saves a screenshot to the artifacts. The tab is left in
// the first scheme.
func (v variant) check(b *tab, page string) {
	t := b.t
	t.Helper()
	where := fmt.Sprintf("%s (%s) at %s", page, v.journey(), b.url())
	assert.Equal(t, "same-origin", b.header("Cross-Origin-Resource-Policy"), where)
	assert.Equal(t, webui.PermissionsPolicy, b.header("Permissions-Policy"), where)
	assert.Equal(t, webui.ContentSecurityPolicy, b.header("Content-Security-Policy"), where)
	assert.Equal(t, "nosniff", b.header("X-Content-Type-Options"), where)
	assert.Equal(t, "no-referrer", b.header("Referrer-Policy"), where)
	assert.Equal(t, "no-store", b.header("Cache-Control"), where)
	for _, scheme := range []string{"dark", "light"} { // ending in the journeys' scheme
		vs := v
		vs.scheme = scheme
		browsertest.SetColorScheme(t, b.ctx, scheme)
		vs.checkScheme(b, page)
	}
}

// checkScheme is check in the variant's colour scheme, set already.
func (v variant) checkScheme(b *tab, page string) {
	t := b.t
	t.Helper()
	failed := t.Failed()
	var f pageFacts
	require.NoError(t, json.Unmarshal([]byte(eval[string](b, factsJS)), &f), page)
	where := fmt.Sprintf("%s (%s) at %s", page, v, b.url())

	assert.Equal(t, v.lang, f.Lang, where)
	assert.False(t, f.Overflow, "%s: scrolls sideways", where)
	if v.lang == "en" {
		assert.Contains(t, f.Footer, "keep the receipt to yourself", where)
		assert.NotContains(t, f.Footer, "Links and receipts are private", where)
	} else {
		assert.Contains(t, f.Footer, "受領証はご自身だけで保管", where)
		assert.NotContains(t, f.Footer, "リンクと受領証は、受け取る人だけに渡して", where)
		assert.Empty(t, halfWidth.FindAllString(f.Text, -1), "%s: half-width punctuation in Japanese", where)
	}
	assert.Empty(t, f.Broken, "%s: button labels broken over lines", where)
	require.NotEmpty(t, f.Rings, "%s: nothing to focus", where)
	for _, r := range f.Rings {
		if !assert.True(t, r.Focused, "%s: %s takes the keyboard focus", where, r.El) {
			continue
		}
		assert.Equal(t, "solid", r.Style, "%s: %s's focus ring", where, r.El)
		assert.GreaterOrEqual(t, r.Width, 2.0, "%s: %s's focus ring width", where, r.El)
		c, err := browsertest.Contrast(r.Color, r.Bg)
		if assert.NoError(t, err, "%s: %s", where, r.El) {
			assert.GreaterOrEqual(t, c, 3.0, "%s: %s's focus ring %s on %s is %.2f:1", where, r.El, r.Color, r.Bg, c)
		}
	}

	res := browsertest.Axe(t, b.ctx, !v.js)
	assert.True(t, res.Clean(), "axe on %s:\n%s", where, res)
	if t.Failed() && !failed {
		browsertest.Screenshot(t, b.ctx, page+"-"+v.scheme)
	}
}
