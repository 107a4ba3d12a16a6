package browsertest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/browsertest"
)

func TestMain(m *testing.M) { browsertest.Main(m) }

// Two tabs of one test are two browsers as far as a site can tell: a
// cookie set in one is not sent by the other. Scripts can be turned off,
// the language set, and screenshots land in the artifacts directory.
func TestTabs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "who", Value: "first"})
		}
		c, _ := r.Cookie("who")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		cookie := ""
		if c != nil {
			cookie = c.Value
		}
		w.Write([]byte(`<!doctype html><p id="c">` + cookie + `</p><p id="l">` + r.Header.Get("Accept-Language") +
			`</p><p id="js">off</p><script>document.getElementById("js").textContent = "on"</script>`))
	}))
	defer srv.Close()

	first, second := browsertest.New(t), browsertest.New(t)
	text := func(tab context.Context, id string) string {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("`+id+`").textContent`))
		require.NoError(t, err)
		return v
	}
	require.NoError(t, chromedp.Do(first, chromedp.Navigate(srv.URL+"/set"), chromedp.Navigate(srv.URL+"/")))
	assert.Equal(t, "first", text(first, "c"))
	assert.Equal(t, "on", text(first, "js"))

	browsertest.DisableJavaScript(t, second)
	browsertest.SetLanguage(t, second, "ja")
	require.NoError(t, chromedp.Do(second, chromedp.Navigate(srv.URL+"/")))
	assert.Empty(t, text(second, "c"), "no cookie from the other tab")
	assert.Equal(t, "off", text(second, "js"))
	assert.Equal(t, "ja", text(second, "l"))

	// Both tabs act as the focused window: focus works in each.
	for _, tab := range []context.Context{first, second} {
		focused, err := chromedp.Run(tab, chromedp.Evaluate[bool](`document.hasFocus()`))
		require.NoError(t, err)
		assert.True(t, focused)
	}

	file := browsertest.Screenshot(t, second, "page")
	info, err := os.Stat(file)
	require.NoError(t, err)
	assert.Positive(t, info.Size())
}

// axePage has one violation (an image without alternative text) and is
// otherwise clean; its CSP forbids every script, which DevTools ignores.
const axePage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title></head>
<body><main><h1>Title</h1><p id="js">off</p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="1" height="1">
<script>document.getElementById("js").textContent = "on"</script></main></body></html>`

// Axe finds the missing alternative text in pages with scripts on, under a
// CSP that forbids them, and off; a page rendered with scripts off stays as
// rendered (with scripts off axe.run never settles: Axe turns them on for
// its run only). The color scheme is emulated.
func TestAxe(t *testing.T) {
	browsertest.RequireAxe(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/csp" {
			w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(axePage))
	}))
	defer srv.Close()
	for _, off := range []bool{false, true} {
		tab := browsertest.New(t)
		if off {
			browsertest.DisableJavaScript(t, tab)
		}
		browsertest.SetColorScheme(t, tab, "dark")
		url := srv.URL + "/csp"
		if off {
			url = srv.URL + "/plain"
		}
		require.NoError(t, chromedp.Do(tab, chromedp.Navigate(url)))
		res := browsertest.Axe(t, tab, off)
		require.Len(t, res.Violations, 1, res.String())
		assert.Equal(t, "image-alt", res.Violations[0].ID)
		assert.Equal(t, "img", res.Violations[0].Nodes[0].Target)
		assert.False(t, res.Clean())
		assert.Contains(t, res.String(), "violation image-alt")
		dark, err := chromedp.Run(tab, chromedp.Evaluate[bool](`matchMedia("(prefers-color-scheme: dark)").matches`))
		require.NoError(t, err)
		assert.True(t, dark)
		js, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("js").textContent`))
		require.NoError(t, err)
		assert.Equal(t, "off", js, "the page's own script blocked by its CSP, or never run with scripts off")
	}
}

// Axe loads axe-core from the page's origin where the server serves it at
// AxePath (allowed by a CSP of script-src 'self'), once for the pages of
// that origin that the tab opens, and finds the same violation there, with
// scripts on and off.
func TestAxeFromOrigin(t *testing.T) {
	browsertest.RequireAxe(t)
	var loads atomic.Int32
	axe := browsertest.AxeHandler(t)
	mux := http.NewServeMux()
	mux.Handle(browsertest.AxePath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loads.Add(1)
		axe.ServeHTTP(w, r)
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; img-src data:")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(axePage))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, off := range []bool{false, true} {
		tab := browsertest.New(t)
		if off {
			browsertest.DisableJavaScript(t, tab)
		}
		before := loads.Load()
		for _, page := range []string{"/one", "/two"} {
			require.NoError(t, chromedp.Do(tab, chromedp.Navigate(srv.URL+page)))
			res := browsertest.Axe(t, tab, off)
			require.Len(t, res.Violations, 1, res.String())
			assert.Equal(t, "image-alt", res.Violations[0].ID)
			js, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("js").textContent + document.querySelectorAll("script").length`))
			require.NoError(t, err)
			assert.Equal(t, "off1", js, "the page's own script blocked by its CSP, or never run; axe's script element gone")
		}
		assert.Equal(t, before+1, loads.Load(), "loaded from the origin, once for both pages")
	}
}

func TestContrast(t *testing.T) {
	c, err := browsertest.Contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)")
	require.NoError(t, err)
	assert.InDelta(t, 21, c, 0.01)
	c, err = browsertest.Contrast("rgb(240, 165, 0)", "rgb(255, 255, 255)")
	require.NoError(t, err)
	assert.InDelta(t, 2.08, c, 0.01, "issue 21's figure for #f0a500 on white")
	c, err = browsertest.Contrast("rgba(18, 18, 18, 1)", "rgb(18, 18, 18)")
	require.NoError(t, err)
	assert.InDelta(t, 1, c, 0.001)
	_, err = browsertest.Contrast("rgba(0, 0, 0, 0.5)", "rgb(255, 255, 255)")
	assert.Error(t, err, "transparency")
	_, err = browsertest.Contrast("red", "rgb(255, 255, 255)")
	assert.Error(t, err)
}

// axe cannot tell a scrollable textarea's background (axe-core#4947); Axe
// checks its contrast itself: a clear one passes, a faint one stays for
// review.
func TestAxeTextarea(t *testing.T) {
	browsertest.RequireAxe(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html lang="en"><head><title>t</title></head><body><main>
<label for="clear">Clear</label><textarea id="clear" style="color:#000;background:#fff"></textarea>
<label for="faint">Faint</label><textarea id="faint" style="color:#777;background:#888"></textarea></main></body></html>`))
	}))
	defer srv.Close()
	tab := browsertest.New(t)
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(srv.URL)))
	res := browsertest.Axe(t, tab, false)
	assert.Empty(t, res.Violations, res.String())
	require.Len(t, res.Incomplete, 1, res.String())
	assert.Equal(t, "color-contrast", res.Incomplete[0].ID)
	require.Len(t, res.Incomplete[0].Nodes, 1)
	assert.Equal(t, "#faint", res.Incomplete[0].Nodes[0].Target)
}
