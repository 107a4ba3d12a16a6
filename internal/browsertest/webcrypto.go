package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// WithoutWebCrypto makes the tab's pages, from the next one it opens,
// find no WebCrypto (crypto.subtle undefined), as a browser's pages do
// when they are no secure context (served over plain HTTP to a host other
// than this machine). Pages that encrypt in the browser must then fall
// back, and the tests of that fallback, or of the flows of the fallback's
// mode with scripts on, use this.
func WithoutWebCrypto(t testing.TB, tab context.Context) {
	t.Helper()
	_, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `Object.defineProperty(Crypto.prototype, "subtle", {get: function () { return undefined; }, configurable: true});`,
	})
	if err != nil {
		t.Fatalf("browsertest: hiding WebCrypto: %v", err)
	}
}
