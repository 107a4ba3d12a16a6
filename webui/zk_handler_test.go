package webui_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/zk"
)

// zkForm seals value under a fresh key as zk.js does and returns the share
// form's fields, what derives from the key, and the key (the link's
// fragment).
func zkForm(t *testing.T, value, passphrase string) (url.Values, *zk.Derived, zk.Key) {
	t.Helper()
	k, err := zk.NewKey()
	require.NoError(t, err)
	d, err := zk.Derive(k, passphrase)
	require.NoError(t, err)
	sealed, err := d.Seal([]byte(value))
	require.NoError(t, err)
	form := url.Values{"secret": {sealed}, "proof_verifier": {zk.EncodeBytes(d.Verifier().Key)}}
	if passphrase != "" {
		form.Set("passphrase_verifier", zk.EncodeBytes(d.Verifier().Passphrase))
	}
	return form, d, k
}

var sealedRE = regexp.MustCompile(`data-sealed="([^"]+)"`)

// TestZKForms: the handlers of the pages take the zero-knowledge fields as
// zk.js posts them: a share with verifiers is a zero-knowledge secret,
// whose receipt shows no link that cannot open; a reveal without the proof
// answers like an unknown secret and changes nothing, one with it answers
// the sealed value for the page to open. Malformed fields, a passphrase in
// clear beside a verifier and Generate with a verifier are refused, and
// the refused form never shows the ciphertext back.
func TestZKForms(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	ctx := context.Background()
	form, d, _ := zkForm(t, "sealed in the browser", "pass")
	receipt := s.share(form)
	res := s.get(receipt)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, `id="zk-receipt"`)
	assert.Contains(t, res.body, `<code id="link" class="link"></code>`, "no link without its key")
	assert.Contains(t, res.body, `id="zk-nokey"`)
	assert.Contains(t, res.body, `static/zk.js`)
	key := onetime.SecretKey(regexp.MustCompile(`data-link="[^"]*/secret/([0-9a-z]+)"`).FindStringSubmatch(res.body)[1])
	st, err := s.svc.Status(ctx, key)
	require.NoError(t, err)
	assert.True(t, st.ZeroKnowledge)

	page := s.get("/secret/" + string(key))
	assert.Equal(t, http.StatusOK, page.status)
	assert.Contains(t, page.body, `data-zk-reveal`)
	assert.Contains(t, page.body, `<button type="submit" id="reveal" class="primary" hidden disabled>`, "nothing to press without the script")
	assert.NotContains(t, page.body, `name="passphrase"`, "the passphrase field is never posted")

	for _, bad := range []url.Values{
		{"passphrase": {"pass"}},
		{},
		{"proof": {zk.EncodeBytes(make([]byte, 32))}, "passphrase_proof": {zk.EncodeBytes(d.Proof().Passphrase)}},
		{"proof": {"not a proof"}},
	} {
		assert.Equal(t, http.StatusNotFound, s.post("/secret/"+string(key), bad).status, bad)
	}
	after, err := s.svc.Status(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, st, after, "no attempt spent, nothing consumed")

	wrong := s.post("/secret/"+string(key), url.Values{"proof": {zk.EncodeBytes(d.Proof().Key)}, "passphrase_proof": {zk.EncodeBytes(make([]byte, 32))}})
	assert.Equal(t, http.StatusForbidden, wrong.status, "the right key, a wrong passphrase: counted")
	assert.Contains(t, wrong.body, `id="wrong"`)
	after, err = s.svc.Status(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, st.AttemptsLeft-1, after.AttemptsLeft)

	ok := s.post("/secret/"+string(key), url.Values{"proof": {zk.EncodeBytes(d.Proof().Key)}, "passphrase_proof": {zk.EncodeBytes(d.Proof().Passphrase)}})
	require.Equal(t, http.StatusOK, ok.status)
	m := sealedRE.FindStringSubmatch(ok.body)
	require.NotNil(t, m, ok.body)
	plain, err := d.Open(m[1])
	require.NoError(t, err)
	assert.Equal(t, "sealed in the browser", string(plain))
	assert.NotContains(t, ok.body, "sealed in the browser")

	// Refused.
	good, _, _ := zkForm(t, "x", "")
	for name, f := range map[string]url.Values{
		"malformed verifier":    with(good, "proof_verifier", "short"),
		"malformed passphrase":  with(good, "passphrase_verifier", "short"),
		"passphrase in clear":   with(good, "passphrase", "in clear"),
		"not sealed":            with(good, "secret", "plain text"),
		"verifier without zk1":  with(url.Values{"secret": {"plain"}}, "proof_verifier", good.Get("proof_verifier")),
		"passphrase verif only": {"secret": good["secret"], "passphrase_verifier": good["proof_verifier"]},
	} {
		res := s.post("/share", f)
		assert.Equal(t, http.StatusBadRequest, res.status, name)
		assert.Contains(t, res.body, `id="form-errors"`, name)
		assert.NotContains(t, res.body, good.Get("secret"), "%s: the ciphertext is not shown back", name)
		assert.NotContains(t, res.body, "in clear", name)
	}
	res = s.post("/generate", good)
	assert.Equal(t, http.StatusBadRequest, res.status, "the server's password is no zero-knowledge secret")
}

func with(v url.Values, name, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	out.Set(name, value)
	return out
}

// TestZKSizeLimit: the form tells zk.js the largest value that fits the
// service's MaxSize once sealed, and a value of that size fits, one byte
// more does not.
func TestZKSizeLimit(t *testing.T) {
	t.Parallel()
	s := newSite(t, &onetime.Options{MaxSize: 1000}, nil)
	m := regexp.MustCompile(`data-max-value="(\d+)"`).FindStringSubmatch(s.get("/").body)
	require.NotNil(t, m)
	limit, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	assert.Greater(t, limit, 600)
	form, _, _ := zkForm(t, strings.Repeat("v", limit), "")
	assert.LessOrEqual(t, len(form.Get("secret")), 1000)
	s.share(form)
	form, _, _ = zkForm(t, strings.Repeat("v", limit+1), "")
	res := s.post("/share", form)
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.status)
	assert.Contains(t, res.body, "at most "+m[1]+" bytes", "the limit a sender can act on")
}

// TestZKSubresourceIntegrity: every script and stylesheet that a page
// loads carries the SHA-256 of the file served, so that a file altered on
// its way is not applied.
func TestZKSubresourceIntegrity(t *testing.T) {
	t.Parallel()
	s := newSite(t, nil, nil)
	form, _, _ := zkForm(t, "x", "")
	receipt := s.share(form)
	tags := regexp.MustCompile(`<(?:script src|link rel="stylesheet" href)="([^"]+)"([^>]*)>`)
	seen := map[string]bool{}
	for _, path := range []string{"/", receipt} {
		page := s.get(path).body
		for _, m := range tags.FindAllStringSubmatch(page, -1) {
			src := strings.TrimPrefix(strings.TrimPrefix(m[1], "./"), "../")
			asset := s.get("/" + src)
			require.Equal(t, http.StatusOK, asset.status, src)
			sum := sha256.Sum256([]byte(asset.body))
			assert.Contains(t, m[2], `integrity="sha256-`+base64.StdEncoding.EncodeToString(sum[:])+`"`, src)
			seen[strings.Split(src, "?")[0]] = true
		}
	}
	for _, f := range []string{"static/style.css", "static/copy.js", "static/zk.js", "static/time.js"} {
		assert.True(t, seen[f], "%s is loaded with its integrity", f)
	}
}
