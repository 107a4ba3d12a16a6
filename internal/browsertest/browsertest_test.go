package browsertest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
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

	file := browsertest.Screenshot(t, second, "page")
	info, err := os.Stat(file)
	require.NoError(t, err)
	assert.Positive(t, info.Size())
}
