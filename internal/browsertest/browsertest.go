// Package browsertest drives a real headless Chromium from Go tests, over
// the Chrome DevTools Protocol (github.com/chromedp/chromedp).
//
// One browser serves a whole test binary: it starts with the first test
// that asks for a tab ([New]) and stops when the binary ends, if the
// package's TestMain calls [Main]:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
// Each call of New opens a tab in a browser context of its own (cookies,
// cache and storage apart, like a separate incognito window), closed when
// the test ends; two tabs of one test are two independent browsers as far
// as the pages can tell. Every tab acts as the focused window, so that
// focus behaves the same whatever runs beside it.
//
// The browser is Debian's chromium (or $ONETIME_CHROMIUM, or another
// Chrome on PATH), run headless with a fresh, empty profile directory and
// the flags that a root user in a container needs (--no-sandbox). When none
// is installed the tests are skipped with a message, except under CI=true,
// where they fail: CI must run them.
//
// Screenshots ([Screenshot]) go to $ONETIME_ARTIFACTS when set (kept after
// the run, for CI to publish), else to the test's temporary directory.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TabTimeout bounds everything one tab does: a test whose browser hangs
// fails rather than waiting for the test binary's own timeout.
const TabTimeout = 2 * time.Minute

var (
	once       sync.Once
	browserCtx context.Context
	stop       func()
	startErr   error
	missing    bool // no browser installed: skip, or fail under CI
)

// candidates are the browsers tried, in order, after $ONETIME_CHROMIUM.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// ExecPath returns the browser to run, or "" when none is installed.
func ExecPath() string {
	if p := os.Getenv("ONETIME_CHROMIUM"); p != "" {
		return p
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

func start() {
	path := ExecPath()
	if path == "" {
		missing = true
		startErr = errors.New("no Chromium found (install the Debian package chromium, or set ONETIME_CHROMIUM)")
		return
	}
	dir, err := os.MkdirTemp("", "browsertest-profile-")
	if err != nil {
		startErr = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("lang", "en-US"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	stop = func() {
		cancelBrowser()
		cancelAlloc()
		// Children of the browser can write to the profile for a moment
		// after it ends.
		for range 50 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// The first Do binds the browser's life to its context: use ctx for
	// it, and bound only the wait for the start.
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }()
	select {
	case err = <-done:
	case <-startCtx.Done():
		err = errors.New("the browser did not start within a minute")
	}
	if err != nil {
		startErr = fmt.Errorf("starting %s: %w", path, err)
		stop()
		return
	}
	browserCtx = ctx
}

// Main runs the tests of a package and then stops the browser, if one was
// started. Call it from TestMain. It starts the browser at once, in the
// background, so that its start overlaps the tests that need no browser.
func Main(m *testing.M) {
	go once.Do(start)
	code := m.Run()
	once.Do(func() {}) // waits for a start under way
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// New returns the context of a new tab, in a browser context of its own,
// for the actions of chromedp. The tab is closed when the test ends. Without
// a browser installed the test is skipped, or fails when CI=true.
func New(t testing.TB) context.Context {
	t.Helper()
	once.Do(start)
	if startErr != nil {
		if missing && os.Getenv("CI") != "true" {
			t.Skipf("browsertest: %v", startErr)
		}
		t.Fatalf("browsertest: %v", startErr)
	}
	ctx, cancel := context.WithTimeout(browserCtx, TabTimeout)
	tab, cancelTab := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(func() {
		cancelTab()
		cancel()
	})
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("browsertest: opening a tab: %v", err)
	}
	// Every tab acts as the focused window: tabs of parallel tests would
	// otherwise take the focus from one another, and an element focused
	// in a page without it matches neither :focus nor :focus-visible.
	if _, err := chromedp.Call(tab, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatalf("browsertest: emulating focus: %v", err)
	}
	return tab
}

// DisableJavaScript turns off scripts in the tab's pages from now on.
func DisableJavaScript(t testing.TB, tab context.Context) {
	t.Helper()
	if _, err := chromedp.Call(tab, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("browsertest: disabling JavaScript: %v", err)
	}
}

// EnableJavaScript turns scripts in the tab's pages back on, from the next
// page it opens (the page shown stays as it was rendered).
func EnableJavaScript(t testing.TB, tab context.Context) {
	t.Helper()
	if _, err := chromedp.Call(tab, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatalf("browsertest: enabling JavaScript: %v", err)
	}
}

// SetLanguage makes the tab send Accept-Language: lang from now on, as a
// browser set to that language would.
func SetLanguage(t testing.TB, tab context.Context, lang string) {
	t.Helper()
	if _, err := chromedp.Call(tab, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("browsertest: enabling the network domain: %v", err)
	}
	_, err := chromedp.Call(tab, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": lang},
	})
	if err != nil {
		t.Fatalf("browsertest: setting Accept-Language: %v", err)
	}
}

// ArtifactsDir is where screenshots go: $ONETIME_ARTIFACTS (created if
// needed), or a temporary directory of the test.
func ArtifactsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ONETIME_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	return dir
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves the whole page of the tab as a PNG named after the test
// and name in [ArtifactsDir], and returns its path.
func Screenshot(t testing.TB, tab context.Context, name string) string {
	t.Helper()
	file := filepath.Join(ArtifactsDir(t), unsafeName.ReplaceAllString(t.Name()+"-"+name, "_")+".png")
	ScreenshotTo(t, tab, file)
	return file
}

// ScreenshotTo saves the whole page of the tab as a PNG in file, e.g. a
// picture of the documentation that a test regenerates.
func ScreenshotTo(t testing.TB, tab context.Context, file string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", filepath.Base(file), err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
}
