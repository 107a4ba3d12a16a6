package webui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/client"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/internal/browsertest"
	"github.com/onetimego/onetime/store/sqlite"
	"github.com/onetimego/onetime/webui"
	"github.com/onetimego/onetime/zk"
)

// The zero-knowledge mode of the pages (static/zk.js), in real Chromium:
// the default wherever scripts run with WebCrypto.

// A seenRequest is what the server received of one request.
type seenRequest struct {
	method, uri, referer string
	body                 []byte
}

// zkSite is the pages and the v1 API on one Service over a SQLite store in
// a file of the test's, behind a handler that keeps a copy of every
// request, so that the tests can look for a secret in everything the
// server was sent and in everything it stored.
type zkSite struct {
	*site
	dir string // the SQLite store's directory

	mu   sync.Mutex
	seen []seenRequest
}

func newZKSite(t *testing.T, svcOpts *onetime.Options, uiOpts *webui.Options) *zkSite {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "onetime.db"), nil)
	require.NoError(t, err)
	svc, err := onetime.New(store, bytes.Repeat([]byte("s"), 32), svcOpts)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, svc.Close())
		assert.NoError(t, store.Close())
	})
	ui, err := webui.New(svc, uiOpts)
	require.NoError(t, err)
	api, err := httpapi.New(svc, &httpapi.Options{BasePath: "/api/v1/"})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", ui)
	mux.Handle("/api/v1/", api)
	z := &zkSite{dir: dir}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		z.mu.Lock()
		z.seen = append(z.seen, seenRequest{r.Method, r.RequestURI, r.Header.Get("Referer"), body})
		z.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	z.site = &site{t: t, srv: srv, svc: svc, base: srv.URL,
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	return z
}

// requests returns a copy of what the server received so far.
func (z *zkSite) requests() []seenRequest {
	z.mu.Lock()
	defer z.mu.Unlock()
	return append([]seenRequest(nil), z.seen...)
}

// storeFiles returns the bytes of every file of the SQLite store: the
// database, its write-ahead log and its shared memory.
func (z *zkSite) storeFiles() map[string][]byte {
	z.t.Helper()
	files := map[string][]byte{}
	entries, err := os.ReadDir(z.dir)
	require.NoError(z.t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(z.dir, e.Name()))
		require.NoError(z.t, err)
		files[e.Name()] = b
	}
	require.NotEmpty(z.t, files["onetime.db"])
	return files
}

// encodings are the forms in which a string could travel or be stored:
// as is, percent-encoded, in base64 and base64url, in hex.
func encodings(s string) [][]byte {
	b := []byte(s)
	out := [][]byte{b, []byte(url.QueryEscape(s)), []byte(url.PathEscape(s)),
		[]byte(base64.StdEncoding.EncodeToString(b)), []byte(base64.RawURLEncoding.EncodeToString(b)),
		[]byte(hex.EncodeToString(b))}
	return out
}

// assertNowhere checks that none of the secrets, in any of their
// encodings, is in the data (named what for the failure).
func assertNowhere(t *testing.T, what string, data []byte, secrets map[string][]byte) {
	t.Helper()
	for name, s := range secrets {
		for _, form := range encodings(string(s)) {
			assert.False(t, bytes.Contains(data, form), "%s holds the %s (as %q)", what, name, form)
		}
	}
}

// zkLinkRE matches a zero-knowledge link: the secret key, then the link's
// key in the fragment.
var zkLinkRE = regexp.MustCompile(`/secret/([0-9a-z]+)#([A-Za-z0-9_-]{43})$`)

// shareZK fills and sends the share form in the tab with scripts on, and
// returns the whole link that the page after it shows, and that page's
// address (the receipt's).
func shareZK(b *tab, base, secret, passphrase string) (link, receipt string) {
	b.t.Helper()
	require.EqualValues(b.t, http.StatusOK, b.open(base+"/"))
	require.True(b.t, b.visible("#mode-zk"), "the form says that the browser encrypts")
	b.set("secret", secret)
	if passphrase != "" {
		b.set("passphrase", passphrase)
	}
	require.EqualValues(b.t, http.StatusOK, b.click("share"))
	link = b.text("link")
	require.Regexp(b.t, `^`+regexp.QuoteMeta(base)+zkLinkRE.String(), link)
	return link, b.url()
}

// revealZK presses Reveal on a confirmation page of a zero-knowledge
// secret, with the passphrase when not "", and waits for the page's answer:
// the value, or the server's page (a wrong passphrase, a secret gone)
// in place of the form.
func revealZK(b *tab, passphrase string) {
	b.t.Helper()
	if passphrase != "" {
		b.set("passphrase", passphrase)
	}
	// The answer replaces <main>: mark the one there now.
	eval[bool](b, `document.querySelector("main").dataset.before = "1", true`)
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("reveal"))))
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`(function () {
  var m = document.querySelector("main"), e = document.getElementById("zk-error");
  return (!m.dataset.before && !document.querySelector("#value[data-sealed]")) || (e && !e.hidden);
})()`))
	require.NoError(b.t, err)
}

// TestZKVectors: the pages' script reproduces every test vector of the
// format (zk/testdata/vectors.json), which the Go package pins: the same
// proofs, verifiers and ciphertext, and it opens them. It reads keys
// strictly, and its generated passwords follow the server's rules.
func TestZKVectors(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "zk", "testdata", "vectors.json"))
	require.NoError(t, err)
	var vectors []map[string]string
	require.NoError(t, json.Unmarshal(raw, &vectors))
	require.NotEmpty(t, vectors)

	s := newSite(t, nil, nil)
	b := newTab(t)
	require.EqualValues(t, http.StatusOK, b.open(s.base+"/"))
	type result struct {
		Checked int      `json:"checked"`
		Bad     []string `json:"bad"`
	}
	res, err := chromedp.Run(b.ctx, chromedp.Evaluate[result](`(async function (vectors) {
  var Z = window.OnetimeZK, bad = [], checked = 0;
  var hex = function (h) { return Uint8Array.from(h.match(/../g) || [], function (x) { return parseInt(x, 16); }); };
  for (var i = 0; i < vectors.length; i++) {
    var v = vectors[i], k = Z.parseKey(v.fragment);
    if (!k || Z.encode(k) !== v.fragment) { bad.push(i + ": key"); continue; }
    var d = await Z.derive(k, v.passphrase);
    if (d.keyProof !== v.key_proof) bad.push(i + ": key proof");
    if ((d.passphraseProof || "") !== (v.passphrase_proof || "")) bad.push(i + ": passphrase proof");
    if (d.keyVerifier !== v.key_verifier) bad.push(i + ": key verifier");
    if ((d.passphraseVerifier || "") !== (v.passphrase_verifier || "")) bad.push(i + ": passphrase verifier");
    var sealed = await Z.sealWith(d, hex(v.nonce), new TextEncoder().encode(v.value));
    if (sealed !== v.sealed) bad.push(i + ": sealed " + sealed);
    if (new TextDecoder().decode(await Z.open(d, v.sealed)) !== v.value) bad.push(i + ": open");
    if (v.passphrase) {
      var wrong = await Z.derive(k, v.passphrase + "!");
      if (wrong.keyProof !== d.keyProof) bad.push(i + ": the key proof depends on the passphrase");
      if (await Z.open(wrong, v.sealed).then(function () { return true; }, function () { return false; })) bad.push(i + ": opens with a wrong passphrase");
    }
    checked++;
  }
  return {checked: checked, bad: bad};
})(`+string(raw)+`)`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	assert.Empty(t, res.Bad)
	assert.Equal(t, len(vectors), res.Checked)

	// Keys are read strictly: exactly 43 characters of canonical
	// base64url, as zk.ParseKey reads them.
	k, err := zk.NewKey()
	require.NoError(t, err)
	frag := k.Fragment()
	// The last character carries 2 spare bits, zero in the one text of a
	// key: setting one makes a text of no key.
	nonCanonical := frag[:42] + string(zkAlphabet[strings.IndexByte(zkAlphabet, frag[42])|1])
	for _, c := range []struct {
		fragment string
		ok       bool
	}{
		{frag, true}, {"", false}, {frag[:42], false}, {frag + "A", false}, {frag + "=", false},
		{"+" + frag[1:], false}, {"/" + frag[1:], false}, {nonCanonical, false},
	} {
		_, goErr := zk.ParseKey(c.fragment)
		require.Equal(t, c.ok, goErr == nil, c.fragment)
		js := eval[bool](b, fmt.Sprintf(`window.OnetimeZK.parseKey(%q) !== null`, c.fragment))
		assert.Equal(t, c.ok, js, "%q: the script reads it as package zk does", c.fragment)
	}

	// Passwords made in the browser: the server's sets, at least one of
	// each, no look-alike.
	pws := eval[[]string](b, `(function () { var out = []; for (var i = 0; i < 200; i++) out.push(window.OnetimeZK.password(i % 2 ? 4 : 12)); return out; })()`)
	require.Len(t, pws, 200)
	sets := []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghjkmnpqrstuvwxyz", "23456789", "!#$%&*+-=?@^_"}
	for i, pw := range pws {
		assert.Len(t, pw, map[bool]int{true: 4, false: 12}[i%2 == 1])
		for _, set := range sets {
			assert.True(t, strings.ContainsAny(pw, set), "%q has one of %q", pw, set)
		}
		assert.Empty(t, strings.Trim(pw, strings.Join(sets, "")), "%q: only the server's characters", pw)
	}
	assert.NotEqual(t, pws[0], pws[2])
}

const zkAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// TestZKShareReveal is the mode's promise, end to end: shared in one
// browser and revealed in another, the value never reaches the server in
// clear. No request body, address or Referer the server received, and no
// byte of the SQLite store's files, holds the value, the passphrase or the
// link's key; no request carries the fragment. Opening the link without
// its fragment, as a scanner or an unfurler does, ten times, and with it
// but without pressing Reveal, consumes nothing; the reader then reveals
// it, once.
func TestZKShareReveal(t *testing.T) {
	t.Parallel()
	z := newZKSite(t, nil, nil)
	creator, reader := newTab(t), newTab(t)
	const secret = "zk: line one\n  two — indented\n\nünïcödé 秘密 🔑 <b>not bold</b> & done\n"
	const passphrase = "correct horse battery"

	creator.grantClipboard(z.srv.URL)
	link, receipt := shareZK(creator, z.base, secret, passphrase)
	assert.NotContains(t, receipt, "#", "the receipt's address keeps no key")
	copied, _ := creator.copyWith("#copy-link", "link-status")
	assert.Equal(t, link, copied, "Copy copies the whole link, key included")
	assert.True(t, creator.visible("#zk-keyhere"), "the page says where the key is")
	assert.False(t, creator.visible("#zk-nokey"))
	assert.Equal(t, "new", eval[string](creator, `document.getElementById("receipt").dataset.state`))
	assert.NotEmpty(t, creator.text("encryption"))
	m := zkLinkRE.FindStringSubmatch(link)
	key, fragment := onetime.SecretKey(m[1]), m[2]
	k, err := zk.ParseKey(fragment)
	require.NoError(t, err)
	st, err := z.svc.Status(context.Background(), key)
	require.NoError(t, err)
	assert.True(t, st.ZeroKnowledge)
	assert.True(t, st.PassphraseRequired)

	// A reload of the receipt in this tab still shows the whole link; in
	// another browser it cannot, and says why.
	require.EqualValues(t, http.StatusOK, creator.open(receipt))
	assert.Equal(t, link, creator.text("link"))
	other := newTab(t)
	require.EqualValues(t, http.StatusOK, other.open(receipt))
	assert.True(t, other.visible("#zk-nokey"))
	assert.False(t, other.visible("#link-field"))
	assert.NotContains(t, other.body(), "/secret/", "no link that does not open")

	// Scanners: without the fragment (ten times, in a browser and over
	// HTTP), and a browser with the whole link that runs the page's
	// script but presses nothing.
	bare := strings.TrimSuffix(link, "#"+fragment)
	scanner := newTab(t)
	for range 10 {
		require.EqualValues(t, http.StatusOK, scanner.open(bare))
		res, err := http.Get(link)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	assert.True(t, scanner.visible("#zk-nokey"), "the page says that the link lacks its key")
	assert.False(t, scanner.visible("#reveal"), "and offers nothing to press")
	require.EqualValues(t, http.StatusOK, newTab(t).open(link))
	after, err := z.svc.Status(context.Background(), key)
	require.NoError(t, err, "the secret is still there")
	assert.Equal(t, st, after, "and no attempt was spent")

	require.EqualValues(t, http.StatusOK, reader.open(link))
	assert.True(t, reader.visible("#reveal"))
	assert.True(t, reader.visible("#passphrase"))
	revealZK(reader, passphrase)
	assert.Equal(t, secret, reader.text("value"), "the value exactly, multi-line and Unicode")
	assert.Contains(t, reader.body(), "This secret has now been deleted")
	assert.Equal(t, "H1", eval[string](reader, `document.activeElement.tagName`), "the focus on the answer's heading")
	_, err = z.svc.Status(context.Background(), key)
	require.ErrorIs(t, err, onetime.ErrNotFound, "revealed once")
	require.EqualValues(t, http.StatusNotFound, newTab(t).open(link))

	require.EqualValues(t, http.StatusOK, creator.open(receipt))
	assert.Equal(t, "received", eval[string](creator, `document.getElementById("receipt").dataset.state`))
	assert.Equal(t, 0, eval[int](creator, `sessionStorage.length`), "the tab forgets the key of a secret gone")

	// What the server was sent and what it stored.
	secrets := map[string][]byte{"value": []byte(secret), "passphrase": []byte(passphrase),
		"link's key": []byte(fragment), "link's key bytes": k[:]}
	// Parts of the value too, should a line travel alone.
	for i, line := range strings.Split(strings.TrimSpace(secret), "\n") {
		if len(line) > 8 {
			secrets[fmt.Sprintf("value's line %d", i)] = []byte(line)
		}
	}
	seen := z.requests()
	var sealedShare, proofReveal bool
	for _, r := range seen {
		what := r.method + " " + r.uri
		assertNowhere(t, what+" (body)", r.body, secrets)
		assertNowhere(t, what+" (address)", []byte(r.uri), secrets)
		assert.NotContains(t, r.uri, "#", what)
		assert.Empty(t, r.referer, "%s: no Referer", what)
		form, _ := url.ParseQuery(string(r.body))
		sealedShare = sealedShare || (r.method == http.MethodPost && strings.HasPrefix(form.Get("secret"), "zk1.") && form.Get("passphrase") == "")
		proofReveal = proofReveal || (r.method == http.MethodPost && form.Get("proof") != "" && form.Get("passphrase_proof") != "" && form.Get("passphrase") == "")
	}
	assert.True(t, sealedShare, "the share posted a zk1 value and no passphrase")
	assert.True(t, proofReveal, "the reveal posted proofs and no passphrase")
	for name, data := range z.storeFiles() {
		assertNowhere(t, "the store's "+name, data, secrets)
	}
}

// TestZKWrongPassphrase: in this mode too a wrong passphrase is counted by
// the server (it never sees the passphrase: the proof derived from it is
// wrong), the reader is told the attempts left, and the attempt that
// spends the budget burns the secret. A post without the proofs (a reader
// without scripts, a scanner that posts) spends nothing.
func TestZKWrongPassphrase(t *testing.T) {
	t.Parallel()
	z := newZKSite(t, &onetime.Options{MaxAttempts: 3}, nil)
	creator, reader := newTab(t), newTab(t)
	link, receipt := shareZK(creator, z.base, "three tries", "right horse")
	key := onetime.SecretKey(zkLinkRE.FindStringSubmatch(link)[1])

	res := z.post(secretPath(t, z.site, strings.Split(link, "#")[0]), url.Values{"passphrase": {"right horse"}})
	assert.Equal(t, http.StatusNotFound, res.status, "no proof: an unknown secret")
	st, err := z.svc.Status(context.Background(), key)
	require.NoError(t, err)
	assert.Equal(t, 3, st.AttemptsLeft, "nothing spent")

	require.EqualValues(t, http.StatusOK, reader.open(link))
	assert.Equal(t, "3 attempts left.", reader.text("attempts"))
	revealZK(reader, "wrong horse")
	assert.Contains(t, reader.text("wrong"), "That passphrase is not right")
	assert.Equal(t, "2 attempts left.", reader.text("attempts"))
	assert.Equal(t, "", eval[string](reader, `document.getElementById("passphrase").value`), "the field is emptied")
	st, err = z.svc.Status(context.Background(), key)
	require.NoError(t, err)
	assert.Equal(t, 2, st.AttemptsLeft, "counted by the server")

	revealZK(reader, "wrong again")
	assert.Equal(t, "Last attempt: a wrong passphrase now destroys the secret.", reader.text("attempts"))
	revealZK(reader, "still wrong")
	assert.Equal(t, "Too many wrong passphrases: the secret was destroyed", eval[string](reader, `document.querySelector("h1").textContent`))
	_, err = z.svc.Status(context.Background(), key)
	require.ErrorIs(t, err, onetime.ErrNotFound, "the budget burned the secret")
	require.EqualValues(t, http.StatusOK, creator.open(receipt))
	assert.NotEqual(t, "new", eval[string](creator, `document.getElementById("receipt").dataset.state`))
	assert.Equal(t, 0, eval[int](creator, `document.querySelectorAll("#link, #burn").length`))
}

// TestZKGenerate: Generate makes the password in the browser, with the
// server's rules, and shares it in the zero-knowledge mode: the page after
// it shows the password once and the whole link, and the server never
// received the password.
func TestZKGenerate(t *testing.T) {
	t.Parallel()
	z := newZKSite(t, nil, nil)
	creator, reader := newTab(t), newTab(t)
	require.EqualValues(t, http.StatusOK, creator.open(z.base+"/"))
	require.EqualValues(t, http.StatusOK, creator.click("generate"))
	pw := creator.text("value")
	require.Len(t, pw, onetime.DefaultPasswordLength)
	assert.Equal(t, "Password generated", creator.text("title"))
	link := creator.text("link")
	require.Regexp(t, zkLinkRE, link)
	require.EqualValues(t, http.StatusOK, creator.click("receipt-link"))
	assert.Equal(t, 0, eval[int](creator, `document.querySelectorAll("#value").length`), "shown once")
	assert.Equal(t, link, creator.text("link"), "the link, still, in this tab")
	assert.Equal(t, []string{"onetime.zk.link."}, eval[[]string](creator, `Object.keys(sessionStorage).map(function (k) { return k.replace(/[^.]+$/, ""); })`),
		"the tab keeps the link's key, and no password")

	require.EqualValues(t, http.StatusOK, reader.open(link))
	revealZK(reader, "")
	assert.Equal(t, pw, reader.text("value"))
	secrets := map[string][]byte{"password": []byte(pw), "link's key": []byte(zkLinkRE.FindStringSubmatch(link)[2])}
	for _, r := range z.requests() {
		assertNowhere(t, r.method+" "+r.uri, r.body, secrets)
	}
	for name, data := range z.storeFiles() {
		assertNowhere(t, "the store's "+name, data, secrets)
	}
}

// TestZKValueControlCharacters: a value opened in the page shows control
// characters as the server's pages do (marks), and Copy copies the real
// characters.
func TestZKValueControlCharacters(t *testing.T) {
	t.Parallel()
	z := newZKSite(t, nil, nil)
	b := newTab(t)
	b.grantClipboard(z.srv.URL)
	value := "pass\x00word\x1b\nline two\u0085"
	link := shareFromGo(t, z, value, "")
	require.EqualValues(t, http.StatusOK, b.open(link))
	revealZK(b, "")
	assert.Equal(t, "passNULwordESC\nline twoU+0085", b.text("value"))
	assert.True(t, b.visible("#value-controls"))
	copied, _ := b.copyWith(`button[data-copy="value"]`, "value-status")
	assert.Equal(t, value, copied)
}

// shareFromGo shares value as the Go side of the format does (package zk
// and the v1 API's zero-knowledge fields, docs/zero-knowledge.md), and
// returns the whole link.
func shareFromGo(t *testing.T, z *zkSite, value, passphrase string) string {
	link, _ := shareFromGoReceipt(t, z, value, passphrase)
	return link
}

// shareFromGoReceipt is shareFromGo, and also returns the receipt's page.
func shareFromGoReceipt(t *testing.T, z *zkSite, value, passphrase string) (link, receipt string) {
	t.Helper()
	form, _, k := zkForm(t, value, passphrase)
	res, err := http.PostForm(z.base+"/api/v1/share", form)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var m struct {
		SecretKey          string `json:"secret_key"`
		MetadataKey        string `json:"metadata_key"`
		PassphraseRequired bool   `json:"passphrase_required"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
	require.Equal(t, passphrase != "", m.PassphraseRequired)
	return z.base + "/secret/" + m.SecretKey + "#" + k.Fragment(), z.base + "/private/" + m.MetadataKey
}

// revealFromGo opens a link made in the browser as the Go side of the
// format does: the key from the fragment, the proofs to the v1 API, the
// value opened locally.
func revealFromGo(t *testing.T, z *zkSite, link, passphrase string) string {
	t.Helper()
	m := zkLinkRE.FindStringSubmatch(link)
	require.NotNil(t, m, link)
	k, err := zk.ParseKey(m[2])
	require.NoError(t, err)
	d, err := zk.Derive(k, passphrase)
	require.NoError(t, err)
	form := url.Values{"proof": {zk.EncodeBytes(d.Proof().Key)}}
	if passphrase != "" {
		form.Set("passphrase_proof", zk.EncodeBytes(d.Proof().Passphrase))
	}
	res, err := http.PostForm(z.base+"/api/v1/secret/"+m[1], form)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var s struct {
		Value string `json:"value"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&s))
	plain, err := d.Open(s.Value)
	require.NoError(t, err)
	return string(plain)
}

// TestZKInterop: a link made in the browser opens in Go, and one made in
// Go opens in the browser, with and without a passphrase, through package
// client (what the onetime tool runs on) and, to pin the wire itself,
// through package zk and the v1 API's fields as docs/zero-knowledge.md
// writes them: the two implementations of the format and the two front
// doors (the pages, the API) agree.
func TestZKInterop(t *testing.T) {
	t.Parallel()
	z := newZKSite(t, nil, nil)
	c, err := client.New(z.base+"/api/v1", nil)
	require.NoError(t, err)
	ctx := context.Background()
	b := newTab(t)
	for _, pass := range []string{"", "Cafe\u0301 日本語"} { // NFD in the browser, NFC in Go: the same
		nfc := strings.ReplaceAll(pass, "e\u0301", "é")

		link, _ := shareZK(b, z.base, "browser to client "+pass, pass)
		sec, err := c.Reveal(ctx, client.SecretKey(link), nfc)
		require.NoError(t, err)
		assert.Equal(t, "browser to client "+pass, sec.Value)
		assert.True(t, sec.ZeroKnowledge)

		link, _ = shareZK(b, z.base, "browser to the wire "+pass, pass)
		assert.Equal(t, "browser to the wire "+pass, revealFromGo(t, z, link, nfc))

		m, err := c.Share(ctx, "client to browser\n"+nfc, &client.ShareOptions{Passphrase: nfc})
		require.NoError(t, err)
		require.True(t, m.ZeroKnowledge)
		require.EqualValues(t, http.StatusOK, b.open(string(m.Link)))
		revealZK(b, pass)
		assert.Equal(t, "client to browser\n"+nfc, b.text("value"))

		link = shareFromGo(t, z, "the wire to browser\n"+pass, pass)
		require.EqualValues(t, http.StatusOK, b.open(link))
		revealZK(b, pass)
		assert.Equal(t, "the wire to browser\n"+pass, b.text("value"))
	}
}

// TestZKFallback: without scripts the pages share and reveal in the
// server-side mode and say so, and a zero-knowledge link says that it
// needs scripts (and offers no button that could not work); with scripts
// but without WebCrypto (no secure context), the same fallback, said so.
func TestZKFallback(t *testing.T) {
	t.Parallel()
	z := newZKSite(t, nil, nil)
	zkLink := shareFromGo(t, z, "needs a script", "")

	noJS := newTab(t)
	browsertest.DisableJavaScript(t, noJS.ctx)
	require.EqualValues(t, http.StatusOK, noJS.open(z.base+"/"))
	assert.True(t, noJS.visible("#mode-server"), "the form says the server sees the secret")
	assert.Contains(t, noJS.text("mode-server"), "JavaScript is off")
	assert.False(t, noJS.visible("#mode-zk"))
	noJS.set("secret", "plain without scripts")
	require.EqualValues(t, http.StatusOK, noJS.click("share"))
	link := noJS.text("link")
	assert.Regexp(t, `/secret/[0-9a-z]+$`, link, "a server-side link, without a fragment")
	require.EqualValues(t, http.StatusOK, noJS.open(link))
	require.EqualValues(t, http.StatusOK, noJS.click("reveal"))
	assert.Equal(t, "plain without scripts", noJS.text("value"))

	require.EqualValues(t, http.StatusOK, noJS.open(zkLink))
	assert.True(t, noJS.visible("#zk-nojs"))
	assert.False(t, noJS.visible("#reveal"))
	_, err := z.svc.Status(context.Background(), onetime.SecretKey(zkLinkRE.FindStringSubmatch(zkLink)[1]))
	require.NoError(t, err)

	noCrypto := newTab(t)
	browsertest.WithoutWebCrypto(t, noCrypto.ctx)
	require.EqualValues(t, http.StatusOK, noCrypto.open(z.base+"/"))
	assert.True(t, noCrypto.visible("#mode-nocrypto"))
	assert.False(t, noCrypto.visible("#mode-zk"))
	noCrypto.set("secret", "plain without WebCrypto")
	require.EqualValues(t, http.StatusOK, noCrypto.click("share"))
	assert.Regexp(t, `/secret/[0-9a-z]+$`, noCrypto.text("link"))
	require.EqualValues(t, http.StatusOK, noCrypto.open(zkLink))
	assert.True(t, noCrypto.visible("#zk-nocrypto"))
	assert.False(t, noCrypto.visible("#reveal"))

	// The server got the plaintext only of the secrets shared in its mode.
	var plain, sealed int
	for _, r := range z.requests() {
		if r.uri != "/share" {
			continue
		}
		if bytes.Contains(r.body, []byte("plain+without")) {
			plain++
		}
		if bytes.Contains(r.body, []byte("secret=zk1.")) {
			sealed++
		}
	}
	assert.Equal(t, 2, plain)
	assert.Equal(t, 0, sealed)
}

// TestZKRecipients: a signed-in customer with a mailer sees no recipient
// field in this mode, but a sentence that says why (the server could
// only mail a link that does not open), and the server refuses a
// zero-knowledge share with a recipient and mails nothing. Without
// scripts the field is there, in the server-side mode.
func TestZKRecipients(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var mailed []onetime.Notification
	note := notifierFunc(func(_ context.Context, n onetime.Notification) error {
		mu.Lock()
		defer mu.Unlock()
		mailed = append(mailed, n)
		return nil
	})
	z := newZKSite(t, &onetime.Options{Notifier: note}, &webui.Options{Auth: access.NewBasicAuth(map[string]string{"ada": "token"})})
	b := newTab(t)
	zkSignedIn(b)
	require.EqualValues(t, http.StatusOK, b.open(z.base+"/"))
	assert.False(t, b.visible("#recipient"))
	assert.True(t, b.visible("#zk-recipient-note"))
	assert.Contains(t, b.text("zk-recipient-note"), "could only send a link that does not open")
	link, _ := shareZK(b, z.base, "not mailed", "")
	assert.NotEmpty(t, link)

	noJS := newTab(t)
	zkSignedIn(noJS)
	browsertest.DisableJavaScript(t, noJS.ctx)
	require.EqualValues(t, http.StatusOK, noJS.open(z.base+"/"))
	assert.True(t, noJS.visible("#recipient"))
	assert.False(t, noJS.visible("#zk-recipient-note"))

	// The form's field bypassed: refused, with the same sentence.
	form, _, _ := zkForm(t, "x", "")
	form.Set("recipient", "reader@example.com")
	res := z.do(http.MethodPost, "/share", form, http.Header{"Authorization": {"Basic YWRhOnRva2Vu"}})
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Contains(t, res.body, "<li>The link is not sent by e-mail")
	assert.NotContains(t, res.body, form.Get("secret"), "the ciphertext is not shown back")
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, mailed, "no link that cannot open was mailed")
}

// zkSignedIn makes the tab send ada's credentials with every request.
func zkSignedIn(b *tab) { zkHeaders(b, network.Headers{"Authorization": "Basic YWRhOnRva2Vu"}) }

// zkHeaders makes the tab send the headers with every request, in place
// of those set before.
func zkHeaders(b *tab, h network.Headers) {
	b.t.Helper()
	_, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{})
	require.NoError(b.t, err)
	_, err = chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: h})
	require.NoError(b.t, err)
}

// A zkVariant is a way to see the pages: width, language, colour scheme,
// scripts on or off.
type zkVariant struct {
	width  int64
	lang   string
	scheme string
	js     bool
}

func (v zkVariant) String() string {
	return fmt.Sprintf("%d-%s-%s-js=%v", v.width, v.lang, v.scheme, v.js)
}

// open gives a tab set up as the variant, signed in as ada (so that the
// form has its recipient field, when there is a mailer).
func (v zkVariant) open(t *testing.T) *tab {
	t.Helper()
	b := newTab(t)
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if v.width < 600 {
		opts = []chromedp.EmulateViewportOption{chromedp.EmulateScale(2), chromedp.EmulateMobile}
	}
	require.NoError(t, chromedp.Do(b.ctx, chromedp.EmulateViewport(v.width, 800, opts...)))
	zkHeaders(b, network.Headers{"Authorization": "Basic YWRhOnRva2Vu",
		"Accept-Language": map[string]string{"en": "en-US,en;q=0.9", "ja": "ja-JP,ja;q=0.9"}[v.lang]})
	browsertest.SetColorScheme(t, b.ctx, v.scheme)
	if !v.js {
		browsertest.DisableJavaScript(t, b.ctx)
	}
	return b
}

// axe runs axe-core on the tab's page and wants no violation and nothing
// to review.
func (v zkVariant) axe(b *tab, page string) {
	b.t.Helper()
	res := browsertest.Axe(b.t, b.ctx, !v.js)
	assert.True(b.t, res.Clean(), "axe on %s (%s), %s:\n%s", page, v, b.url(), res)
}

// TestZKAxe runs axe-core's WCAG 2.x A/AA rules on the states that the
// zero-knowledge mode adds, in a phone and a desktop width, both
// languages and colour schemes, scripts on and off: the form that says
// where the secret is encrypted (and why recipients are off), its error
// when a value is too large for the mode, the page after a share, the
// receipt without the key, a generated password, the confirmation page
// with its key, without it, without scripts and without WebCrypto, a wrong
// passphrase and the value as the page shows them after a reveal.
func TestZKAxe(t *testing.T) {
	browsertest.RequireAxe(t)
	t.Parallel()
	note := notifierFunc(func(context.Context, onetime.Notification) error { return nil })
	for _, v := range []zkVariant{{360, "en", "light", true}, {1280, "ja", "dark", true}, {360, "ja", "dark", false}, {1280, "en", "light", false}} {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			z := newZKSite(t, &onetime.Options{MaxSize: 1024, Notifier: note},
				&webui.Options{Auth: access.NewBasicAuth(map[string]string{"ada": "token"})})
			b := v.open(t)
			open := func(b *tab, page, url string, status int) {
				t.Helper()
				require.EqualValues(t, status, b.open(url), page)
				require.Equal(t, v.lang, b.lang(), page)
				v.axe(b, page)
			}
			open(b, "share form", z.base+"/", http.StatusOK)
			link, receipt := shareFromGoReceipt(t, z, "made in Go", "")
			open(b, "confirmation", link, http.StatusOK)
			open(v.open(t), "receipt without the key", receipt, http.StatusOK)
			if !v.js {
				return
			}
			require.EqualValues(t, http.StatusOK, b.open(z.base+"/"))
			b.set("secret", strings.Repeat("x", 800))
			require.NoError(t, chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("share"))))
			_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`!document.getElementById("zk-error").hidden`))
			require.NoError(t, err)
			v.axe(b, "share form, too large for the mode")

			link, _ = shareZK(b, z.base, "axe", "correct horse")
			v.axe(b, "after a share")
			other := v.open(t)
			open(other, "confirmation, passphrase", link, http.StatusOK)
			revealZK(other, "wrong horse")
			v.axe(other, "wrong passphrase")
			revealZK(other, "correct horse")
			require.Equal(t, "axe", other.text("value"))
			v.axe(other, "revealed value")

			link = shareFromGo(t, z, "no key", "")
			open(other, "confirmation, no key", strings.Split(link, "#")[0], http.StatusOK)
			require.True(t, other.visible("#zk-nokey"))

			open(b, "share form again", z.base+"/", http.StatusOK)
			require.EqualValues(t, http.StatusOK, b.click("generate"))
			require.True(t, b.visible("#value"))
			v.axe(b, "password generated in the browser")

			noCrypto := v.open(t)
			browsertest.WithoutWebCrypto(t, noCrypto.ctx)
			open(noCrypto, "share form, no WebCrypto", z.base+"/", http.StatusOK)
			require.True(t, noCrypto.visible("#mode-nocrypto"))
			open(noCrypto, "confirmation, no WebCrypto", link, http.StatusOK)
			require.True(t, noCrypto.visible("#zk-nocrypto"))
		})
	}
}
