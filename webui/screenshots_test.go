package webui_test

import (
	"context"
	"flag"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/browsertest"
	"github.com/onetimego/onetime/webui"
)

var update = flag.Bool("update", false, "TestScreenshots: write the pictures of docs/ (go test -run TestScreenshots -update ./webui/)")

// TestScreenshots takes the pictures of the README and docs/ from real
// Chromium: with -update into ../docs, else into the test's artifacts, so
// that every run checks that they can be taken. The Japanese ones need CJK
// fonts (fonts-noto-cjk, installed by .ci/run).
func TestScreenshots(t *testing.T) {
	t.Parallel()
	// Links as a deployment hands them out, times of today.
	s := newSite(t, nil, &webui.Options{PublicURL: "https://secrets.example.com"})
	s.clock.Set(time.Now().Truncate(time.Minute))
	dir := browsertest.ArtifactsDir(t)
	if *update {
		dir = filepath.Join("..", "docs")
	}
	shots := []struct {
		file string
		v    variant
		page string // "share", "link" (after a share) or "revealed"
	}{
		{"screenshot-share.png", variant{1280, "en", "light", true}, "share"},
		{"screenshot-receipt.png", variant{1280, "en", "light", true}, "link"},
		{"screenshot-revealed-dark.png", variant{1280, "en", "dark", true}, "revealed"},
		{"screenshot-share-ja-360.png", variant{360, "ja", "light", true}, "share"},
		{"screenshot-link-ja-360-dark.png", variant{360, "ja", "dark", true}, "link"},
	}
	for _, shot := range shots {
		t.Run(shot.file, func(t *testing.T) {
			t.Parallel()
			b := shot.v.open(t)
			if shot.v.lang == "en" {
				// The open's Asia/Tokyo is for the Japanese pictures.
				_, err := chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "UTC"})
				require.NoError(t, err)
			}
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
