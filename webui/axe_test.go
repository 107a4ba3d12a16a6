package webui_test

import (
	"context"
	"flag"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/browsertest"
)

// axeVariant is one way a person meets the pages: screen width, language,
// colour scheme and whether JavaScript runs.
type axeVariant struct {
	width  int64
	lang   string // Accept-Language
	scheme string // prefers-color-scheme
	noJS   bool
}

func (v axeVariant) String() string {
	js := "js"
	if v.noJS {
		js = "nojs"
	}
	return fmt.Sprintf("%d-%s-%s-%s", v.width, v.lang, v.scheme, js)
}

// axeVariants are every combination the issue asks for: 360 and 1280 px,
// English and Japanese, light and dark, JavaScript on and off.
func axeVariants() []axeVariant {
	var vs []axeVariant
	for _, w := range []int64{360, 1280} {
		for _, lang := range []string{"en", "ja"} {
			for _, scheme := range []string{"light", "dark"} {
				for _, noJS := range []bool{false, true} {
					vs = append(vs, axeVariant{w, lang, scheme, noJS})
				}
			}
		}
	}
	return vs
}

// open gives a tab set up as the variant: viewport, Accept-Language, colour
// scheme and scripts.
func (v axeVariant) open(t *testing.T) *tab {
	b := newTab(t)
	height := int64(800)
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if v.width < 600 {
		height = 740
		opts = []chromedp.EmulateViewportOption{chromedp.EmulateScale(2), chromedp.EmulateMobile}
	}
	require.NoError(t, chromedp.Do(b.ctx, chromedp.EmulateViewport(v.width, height, opts...)))
	lang := "en-US,en;q=0.9"
	if v.lang == "ja" {
		lang = "ja-JP,ja;q=0.9"
	}
	browsertest.SetLanguage(t, b.ctx, lang)
	browsertest.SetColorScheme(t, b.ctx, v.scheme)
	if v.noJS {
		browsertest.DisableJavaScript(t, b.ctx)
	}
	return b
}

// axeClean runs axe-core on the tab's page and fails the test, listing every
// rule and element, unless it finds no violation and nothing to review.
func (v axeVariant) axeClean(b *tab, page string) {
	b.t.Helper()
	res := browsertest.Axe(b.t, b.ctx, v.noJS)
	assert.True(b.t, res.Clean(), "axe on %s (%s), %s:\n%s", page, v, b.url(), res)
}

// TestAxe runs axe-core's WCAG 2.x A/AA rules on every page in every
// variant, and wants no violation and nothing left for review. The pages:
// the share form, the page after a share, the confirmation page, the
// passphrase form and its wrong-passphrase answer, the revealed value (one
// with control characters too), the
// receipt in each state (new, viewed, received, burned), the burn
// confirmation, generate's answer and the not-found page.
func TestAxe(t *testing.T) {
	browsertest.RequireAxe(t)
	t.Parallel()
	s := newSite(t, nil, nil)
	ctx := context.Background()
	for _, v := range axeVariants() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			b := v.open(t)
			open := func(page, path string, status int) {
				t.Helper()
				require.EqualValues(t, status, b.open(s.base+path), page)
				require.Equal(t, v.lang, b.lang(), page)
				v.axeClean(b, page)
			}
			click := func(page, id string, status int) {
				t.Helper()
				require.EqualValues(t, status, b.click(id), page)
				v.axeClean(b, page)
			}

			open("share form", "/", http.StatusOK)
			b.set("secret", "axe: a secret\nof two lines")
			click("after a share", "share", http.StatusOK)
			open("share form again", "/", http.StatusOK)
			click("generate's answer", "generate", http.StatusOK)

			plain, err := s.svc.Share(ctx, onetime.ShareRequest{Value: []byte("plain value <b>&</b>\n二行目")})
			require.NoError(t, err)
			receipt := "/private/" + string(plain.MetadataKey)
			open("receipt, new", receipt, http.StatusOK)
			open("receipt, viewed", receipt, http.StatusOK)
			open("burn confirmation", receipt+"/burn", http.StatusOK)
			open("confirmation", "/secret/"+string(plain.SecretKey), http.StatusOK)
			click("revealed value", "reveal", http.StatusOK)
			open("receipt, received", receipt, http.StatusOK)
			open("not found", "/secret/"+string(plain.SecretKey), http.StatusNotFound)

			locked, err := s.svc.Share(ctx, onetime.ShareRequest{Value: []byte("locked"), Passphrase: "correct horse"})
			require.NoError(t, err)
			open("passphrase form", "/secret/"+string(locked.SecretKey), http.StatusOK)
			b.set("passphrase", "wrong horse")
			click("wrong passphrase", "reveal", http.StatusForbidden)
			b.set("passphrase", "correct horse")
			click("revealed value, passphrase", "reveal", http.StatusOK)

			ctl, err := s.svc.Share(ctx, onetime.ShareRequest{Value: []byte("nul\x00esc\x1b")})
			require.NoError(t, err)
			open("confirmation, control characters", "/secret/"+string(ctl.SecretKey), http.StatusOK)
			click("revealed value, control characters", "reveal", http.StatusOK)

			burned, err := s.svc.Share(ctx, onetime.ShareRequest{Value: []byte("to burn")})
			require.NoError(t, err)
			_, err = s.svc.Burn(ctx, burned.MetadataKey)
			require.NoError(t, err)
			open("receipt, burned", "/private/"+string(burned.MetadataKey), http.StatusOK)
		})
	}
}

// TestAxeAccount runs axe as TestAxe does on the pages of a signed-in
// customer and of signing in: the empty and the filled recent list (with a
// live and a burned secret), the receipt and the form with the account's
// header, and the not-signed-in and signed-out pages a cancelled prompt
// shows.
func TestAxeAccount(t *testing.T) {
	browsertest.RequireAxe(t)
	t.Parallel()
	for _, v := range axeVariants() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			s := adaSite(t)
			b := v.open(t)
			lang := map[string]string{"en": "en-US,en;q=0.9", "ja": "ja-JP,ja;q=0.9"}[v.lang]
			signedIn(b, lang)
			cancelPrompts(b)
			open := func(page, path string, status int) {
				t.Helper()
				require.EqualValues(t, status, b.open(s.base+path), page)
				require.Equal(t, v.lang, b.lang(), page)
				v.axeClean(b, page)
			}
			open("recent, empty", "/recent", http.StatusOK)
			ctx := onetime.WithCaller(context.Background(), onetime.Caller{Customer: "ada"})
			live, err := s.svc.Share(ctx, onetime.ShareRequest{Owner: "ada", Value: []byte("live")})
			require.NoError(t, err)
			burned, err := s.svc.Share(ctx, onetime.ShareRequest{Owner: "ada", Value: []byte("burned")})
			require.NoError(t, err)
			_, err = s.svc.Burn(ctx, burned.MetadataKey)
			require.NoError(t, err)
			open("recent", "/recent", http.StatusOK)
			open("share form, signed in", "/", http.StatusOK)
			open("receipt, signed in", "/private/"+string(live.MetadataKey), http.StatusOK)
			open("signed out", "/signout", http.StatusUnauthorized)

			anon := v.open(t)
			cancelPrompts(anon)
			require.EqualValues(t, http.StatusUnauthorized, anon.open(s.base+"/recent"))
			v.axeClean(anon, "not signed in")
		})
	}
}

// TestFocusRing checks what axe cannot: the keyboard focus ring stands out
// from the page around it by at least 3:1 (WCAG 1.4.11, non-text contrast),
// in the light and the dark scheme, on the form's controls and links.
func TestFocusRing(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			b := axeVariant{width: 1280, lang: "en", scheme: scheme}.open(t)
			require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
			bg := eval[string](b, `getComputedStyle(document.body).backgroundColor`)
			for _, sel := range []string{"#secret", "#passphrase", "#ttl", "#share", "#generate", "header a"} {
				ring := eval[[]string](b, fmt.Sprintf(`(() => {
  const el = document.querySelector(%q);
  el.focus();
  const cs = getComputedStyle(el);
  return [String(el.matches(":focus-visible")), cs.outlineStyle, cs.outlineWidth, cs.outlineColor];
})()`, sel))
				require.Equal(t, "true", ring[0], "%s shows the keyboard focus", sel)
				assert.Equal(t, "solid", ring[1], sel)
				width, err := strconv.ParseFloat(regexp.MustCompile(`^[0-9.]+`).FindString(ring[2]), 64)
				require.NoError(t, err, ring[2])
				assert.GreaterOrEqual(t, width, 2.0, "%s: outline width", sel)
				c, err := browsertest.Contrast(ring[3], bg)
				require.NoError(t, err)
				assert.GreaterOrEqual(t, c, 3.0, "%s: focus ring %s on %s is %.2f:1", sel, ring[3], bg, c)
			}
		})
	}
}

var update = flag.Bool("update", false, "TestScreenshots: write the pictures of docs/ (go test -run TestScreenshots -update ./webui/)")

// TestScreenshots takes the pictures of the README and docs/ from real
// Chromium: with -update into ../docs, else into the test's artifacts, so
// that every run checks that they can be taken. The Japanese ones need CJK
// fonts (fonts-noto-cjk, installed by .ci/run).
func TestScreenshots(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	dir := browsertest.ArtifactsDir(t)
	if *update {
		dir = filepath.Join("..", "docs")
	}
	shots := []struct {
		file string
		v    axeVariant
		page string // "share", "link" (after a share) or "revealed"
	}{
		{"screenshot-share.png", axeVariant{1280, "en", "light", false}, "share"},
		{"screenshot-receipt.png", axeVariant{1280, "en", "light", false}, "link"},
		{"screenshot-revealed-dark.png", axeVariant{1280, "en", "dark", false}, "revealed"},
		{"screenshot-share-ja-360.png", axeVariant{360, "ja", "light", false}, "share"},
		{"screenshot-link-ja-360-dark.png", axeVariant{360, "ja", "dark", false}, "link"},
	}
	for _, shot := range shots {
		t.Run(shot.file, func(t *testing.T) {
			t.Parallel()
			b := shot.v.open(t)
			require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
			secret := map[string]string{"en": "The staging database password:\ncorrect-horse-battery-staple", "ja": "検証環境のデータベースのパスワード：\ncorrect-horse-battery-staple"}[shot.v.lang]
			switch shot.page {
			case "link":
				b.set("secret", secret)
				require.EqualValues(t, http.StatusOK, b.click("share"))
			case "revealed":
				m, err := s.svc.Share(context.Background(), onetime.ShareRequest{Value: []byte(secret)})
				require.NoError(t, err)
				require.EqualValues(t, http.StatusOK, b.open(s.base+"/secret/"+string(m.SecretKey)))
				require.EqualValues(t, http.StatusOK, b.click("reveal"))
			}
			// Fonts first: a picture taken before a font loads shows empty
			// boxes.
			_, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise))
			require.NoError(t, err)
			file := filepath.Join(dir, shot.file)
			browsertest.ScreenshotTo(t, b.ctx, file)
			f, err := os.Open(file)
			require.NoError(t, err)
			defer f.Close()
			cfg, err := png.DecodeConfig(f)
			require.NoError(t, err)
			assert.EqualValues(t, shot.v.width*map[bool]int64{true: 2, false: 1}[shot.v.width < 600], cfg.Width, "device pixels")
		})
	}
}
