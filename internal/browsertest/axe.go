package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// AxeTags are the rule sets that [Axe] runs: WCAG 2.0, 2.1 and 2.2, levels
// A and AA, the level that the pages promise.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// AxeNode is one element that a rule flagged.
type AxeNode struct {
	// Target is the CSS selector of the element.
	Target string `json:"target"`
	// Summary says what to fix, in axe's words.
	Summary string `json:"summary"`
}

// AxeRule is one axe-core rule that failed, or that needs a person to
// review, with the elements concerned.
type AxeRule struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []AxeNode `json:"nodes"`
}

// AxeResults are the rules that the page broke (Violations) and those that
// axe could not decide (Incomplete: "needs review"). A page that passes has
// neither.
type AxeResults struct {
	Violations []AxeRule `json:"violations"`
	Incomplete []AxeRule `json:"incomplete"`
}

// Clean reports whether axe found nothing to fix and nothing to review.
func (r AxeResults) Clean() bool { return len(r.Violations) == 0 && len(r.Incomplete) == 0 }

// String lists every rule and element, one per line, for a test failure.
func (r AxeResults) String() string {
	var b strings.Builder
	for _, set := range []struct {
		name  string
		rules []AxeRule
	}{{"violation", r.Violations}, {"needs review", r.Incomplete}} {
		for _, rule := range set.rules {
			fmt.Fprintf(&b, "%s %s (%s): %s\n", set.name, rule.ID, rule.Impact, rule.Help)
			for _, n := range rule.Nodes {
				fmt.Fprintf(&b, "    %s: %s\n", n.Target, strings.ReplaceAll(n.Summary, "\n", " / "))
			}
		}
	}
	return b.String()
}

// AxeFile is the axe-core script that [Axe] injects: $ONETIME_AXE when set,
// else axe/node_modules/axe-core/axe.min.js next to this package's source,
// where .ci/run installs it (npm ci --prefix internal/browsertest/axe).
func AxeFile() string {
	if p := os.Getenv("ONETIME_AXE"); p != "" {
		return p
	}
	_, src, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(src), "axe", "node_modules", "axe-core", "axe.min.js")
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axeScript returns the source of axe-core, skipping the test when it is
// not installed, or failing it under CI=true.
func axeScript(t testing.TB) string {
	t.Helper()
	axeOnce.Do(func() {
		b, err := os.ReadFile(AxeFile())
		if err != nil {
			axeErr = fmt.Errorf("axe-core is not installed (npm ci --prefix internal/browsertest/axe, or set ONETIME_AXE): %w", err)
			return
		}
		axeSource = string(b)
	})
	if axeErr != nil {
		if os.Getenv("CI") != "true" {
			t.Skipf("browsertest: %v", axeErr)
		}
		t.Fatalf("browsertest: %v", axeErr)
	}
	return axeSource
}

// AxePath is the path at which a test's server may serve axe-core
// ([AxeHandler]) on the origin of the pages that it tests. [Axe] loads it
// from there when it can: a script of the page's own origin, which a
// Content-Security-Policy of script-src 'self' allows, and which the
// browser keeps (parsed and compiled) from one page to the next. Else
// Axe sends the script over the DevTools protocol, half a megabyte for
// every page, which costs more than the run itself.
const AxePath = "/.browsertest/axe-core.js"

// AxeHandler serves axe-core, for a test's server to mount at [AxePath]
// next to the pages it tests, for browsers to keep for an hour. Like
// [Axe] it skips the test when axe-core is not installed (fails it under
// CI=true).
func AxeHandler(t testing.TB) http.Handler {
	t.Helper()
	src := []byte(axeScript(t))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Cross-Origin-Resource-Policy", "same-origin")
		w.Write(src)
	})
}

// axeLoad loads axe-core from the page's origin (AxePath) unless the page
// has it already, and tells whether it is there. The script element goes
// once loaded, so that axe sees the page as it was.
const axeLoad = `new Promise(function (resolve) {
  if (typeof axe !== "undefined") { resolve(true); return; }
  var s = document.createElement("script");
  s.src = location.origin + %q;
  s.onload = function () { s.remove(); resolve(typeof axe !== "undefined"); };
  s.onerror = function () { s.remove(); resolve(false); };
  (document.head || document.documentElement).appendChild(s);
})`

// RequireAxe skips the test when axe-core is not installed (fails it under
// CI=true), before it does any work that [Axe] would need.
func RequireAxe(t testing.TB) { t.Helper(); axeScript(t) }

// axeRun runs axe on the document and hands back only what a report needs.
const axeRun = `(async () => {
  const r = await axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations", "incomplete"]});
  const rules = (list) => list.map((x) => ({
    id: x.id, impact: x.impact || "", help: x.help,
    nodes: x.nodes.map((n) => ({target: n.target.map(String).join(" "), summary: n.failureSummary || ""})),
  }));
  return JSON.stringify({violations: rules(r.violations), incomplete: rules(r.incomplete)});
})()`

// Axe injects axe-core into the tab's current page and runs the rules of
// [AxeTags] on it. It loads the script from the page's origin when the
// page's server serves it at [AxePath], else it injects it through the
// DevTools protocol (which the page's Content-Security-Policy does not
// govern).
//
// axe is a script: in a tab whose page scripts are off ([DisableJavaScript])
// Axe turns them on for its run, without reloading, so the page stays as it
// was rendered without JavaScript (its own scripts have not run and do not
// run), and turns them off again afterwards.
func Axe(t testing.TB, tab context.Context, scriptsOff bool) AxeResults {
	t.Helper()
	src := axeScript(t)
	if scriptsOff {
		setScripts(t, tab, false)
		defer setScripts(t, tab, true)
	}
	tags, _ := json.Marshal(AxeTags)
	loaded, err := chromedp.Run(tab, chromedp.Evaluate[bool](fmt.Sprintf(axeLoad, AxePath), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browsertest: loading axe-core: %v", err)
	}
	if !loaded {
		if _, err := chromedp.Run(tab, chromedp.Evaluate[*cdpruntime.RemoteObject](src)); err != nil {
			t.Fatalf("browsertest: injecting axe-core: %v", err)
		}
	}
	js, err := chromedp.Run(tab, chromedp.Evaluate[string](fmt.Sprintf(axeRun, tags), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browsertest: running axe-core: %v", err)
	}
	var res AxeResults
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatalf("browsertest: axe-core's results: %v", err)
	}
	res.Incomplete = reviewTextareas(t, tab, res.Incomplete)
	return res
}

// reviewTextareas does the review that axe asks for on every scrollable
// <textarea>: axe cannot find its background ("partially obscured by another
// element", even alone on a page: dequelabs/axe-core#4947). A textarea whose
// text colour and opaque background contrast by 4.5:1 or more passes
// (WCAG 1.4.3); any other stays for review.
func reviewTextareas(t testing.TB, tab context.Context, incomplete []AxeRule) []AxeRule {
	t.Helper()
	var out []AxeRule
	for _, rule := range incomplete {
		if rule.ID != "color-contrast" {
			out = append(out, rule)
			continue
		}
		var left []AxeNode
		for _, n := range rule.Nodes {
			if !strings.Contains(n.Summary, "partially obscured") || !textareaContrastOK(t, tab, n.Target) {
				left = append(left, n)
			}
		}
		if len(left) > 0 {
			rule.Nodes = left
			out = append(out, rule)
		}
	}
	return out
}

// textareaContrastOK reports whether the element at the selector is a
// textarea whose text contrasts by 4.5:1 with its opaque background.
func textareaContrastOK(t testing.TB, tab context.Context, selector string) bool {
	t.Helper()
	colors, err := chromedp.Run(tab, chromedp.Evaluate[[]string](fmt.Sprintf(`(() => {
  const el = document.querySelector(%q);
  if (!el || el.tagName !== "TEXTAREA") return [];
  const cs = getComputedStyle(el);
  return [cs.color, cs.backgroundColor];
})()`, selector)))
	if err != nil {
		t.Fatalf("browsertest: reading the colours of %s: %v", selector, err)
	}
	if len(colors) != 2 {
		return false
	}
	c, err := Contrast(colors[0], colors[1])
	return err == nil && c >= 4.5
}

var rgbRE = regexp.MustCompile(`^rgba?\((\d+), (\d+), (\d+)(?:, ([0-9.]+))?\)$`)

// Contrast is the WCAG 2 contrast ratio (1 to 21) of two opaque colours as
// getComputedStyle writes them: "rgb(240, 165, 0)". A colour with
// transparency is an error: its contrast depends on what lies beneath.
func Contrast(a, b string) (float64, error) {
	la, err := luminance(a)
	if err != nil {
		return 0, err
	}
	lb, err := luminance(b)
	if err != nil {
		return 0, err
	}
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05), nil
}

// luminance is the relative luminance of an sRGB colour (WCAG 2).
func luminance(css string) (float64, error) {
	m := rgbRE.FindStringSubmatch(css)
	if m == nil {
		return 0, fmt.Errorf("browsertest: not an rgb() colour: %q", css)
	}
	if m[4] != "" && m[4] != "1" {
		return 0, fmt.Errorf("browsertest: not an opaque colour: %q", css)
	}
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		n, _ := strconv.Atoi(m[i+1])
		c := float64(n) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l, nil
}

// setScripts turns the page scripts of the tab off (disabled) or on.
func setScripts(t testing.TB, tab context.Context, disabled bool) {
	t.Helper()
	if _, err := chromedp.Call(tab, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: disabled}); err != nil {
		t.Fatalf("browsertest: setting script execution: %v", err)
	}
}

// SetColorScheme makes the tab's pages see prefers-color-scheme: scheme
// ("light" or "dark"), as on a system set that way.
func SetColorScheme(t testing.TB, tab context.Context, scheme string) {
	t.Helper()
	_, err := chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		t.Fatalf("browsertest: emulating prefers-color-scheme: %s: %v", scheme, err)
	}
}
