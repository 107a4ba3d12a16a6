package webui_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/onetimego/onetime/internal/browsertest"
	"github.com/onetimego/onetime/onetimetest"
	"github.com/onetimego/onetime/webui"
)

// BenchmarkZKBrowser measures what the zero-knowledge mode adds to a share
// and a reveal in the browser (real Chromium, WebCrypto): at share, a
// fresh key, the derivation (proofs, verifiers, encryption key) and the
// sealing of a 100-byte value; at reveal, reading the key from the
// fragment, the derivation and the opening. With a passphrase the
// derivation runs PBKDF2-HMAC-SHA256 for 600,000 iterations.
//
// The figure that counts is page-ms/op: the time measured in the page
// with performance.now() around the work, without the DevTools round trip
// that ns/op includes. Run it alone, for one second each:
//
//	go test -run '^$' -bench BenchmarkZKBrowser ./webui/
func BenchmarkZKBrowser(b *testing.B) {
	svc, _ := onetimetest.NewService(b, nil)
	ui, err := webui.New(svc, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(ui)
	b.Cleanup(srv.Close)
	tab := browsertest.New(b)
	if _, err := chromedp.RunResponse(tab, chromedp.Navigate(srv.URL+"/")); err != nil {
		b.Fatal(err)
	}
	// Each case runs reps times in one evaluation: a derivation without a
	// passphrase takes less than the 0.1 ms to which browsers round
	// performance.now().
	for _, c := range []struct {
		name, passphrase string
		reveal           bool
		reps             int
	}{
		{"share/no-passphrase", "", false, 50},
		{"share/passphrase", "correct horse battery staple", false, 1},
		{"reveal/no-passphrase", "", true, 50},
		{"reveal/passphrase", "correct horse battery staple", true, 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			// The value, its key and its sealed form, made once for
			// the reveals.
			prep := fmt.Sprintf(`(async function () {
  var Z = window.OnetimeZK, k = Z.newKey(), d = await Z.derive(k, %q);
  window.benchValue = new TextEncoder().encode("x".repeat(100));
  window.benchFragment = Z.encode(k);
  window.benchSealed = await Z.seal(d, window.benchValue);
  return true;
})()`, c.passphrase)
			if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](prep, chromedp.EvalAwaitPromise)); err != nil {
				b.Fatal(err)
			}
			work := fmt.Sprintf(`(async function () {
  var Z = window.OnetimeZK, pass = %q, t0 = performance.now();
  for (var i = 0; i < %d; i++) {
    if (%t) {
      var d = await Z.derive(Z.parseKey(window.benchFragment), pass);
      await Z.open(d, window.benchSealed);
    } else {
      var d = await Z.derive(Z.newKey(), pass);
      await Z.seal(d, window.benchValue);
    }
  }
  return performance.now() - t0;
})()`, c.passphrase, c.reps, c.reveal)
			var ms float64
			ops := 0
			for b.Loop() {
				took, err := chromedp.Run(tab, chromedp.Evaluate[float64](work, chromedp.EvalAwaitPromise))
				if err != nil {
					b.Fatal(err)
				}
				ms += took
				ops += c.reps
			}
			b.ReportMetric(ms/float64(ops), "page-ms/op")
		})
	}
}
