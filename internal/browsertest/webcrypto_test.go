package browsertest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime/internal/browsertest"
)

// A page on this machine is a secure context, with WebCrypto; after
// WithoutWebCrypto the tab's next pages find none, as pages that are no
// secure context do, and another tab still has it.
func TestWithoutWebCrypto(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><p id="subtle">none</p>` +
			`<script>if (window.crypto.subtle) document.getElementById("subtle").textContent = "here"</script>`))
	}))
	defer srv.Close()
	hidden, other := browsertest.New(t), browsertest.New(t)
	subtle := func(tab context.Context) string {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById("subtle").textContent`))
		require.NoError(t, err)
		return v
	}
	require.NoError(t, chromedp.Do(hidden, chromedp.Navigate(srv.URL)))
	assert.Equal(t, "here", subtle(hidden), "a page of this machine has WebCrypto")

	browsertest.WithoutWebCrypto(t, hidden)
	require.NoError(t, chromedp.Do(hidden, chromedp.Navigate(srv.URL+"/again")))
	assert.Equal(t, "none", subtle(hidden))
	require.NoError(t, chromedp.Do(other, chromedp.Navigate(srv.URL)))
	assert.Equal(t, "here", subtle(other), "only the tab told so")
}
