package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/zk"
)

// A zkLink is the sender's side of one zero-knowledge link: its key and
// what key and passphrase derive.
type zkLink struct {
	key zk.Key
	d   *zk.Derived
}

func newZKLink(t testing.TB, passphrase string) zkLink {
	t.Helper()
	k, err := zk.NewKey()
	require.NoError(t, err)
	d, err := zk.Derive(k, passphrase)
	require.NoError(t, err)
	return zkLink{key: k, d: d}
}

// zkWithPassphrase is one link with a passphrase, derived once for the
// package's tests: a derivation runs PBKDF2 for 600,000 iterations, some
// seconds under the race detector.
var zkWithPassphrase = sync.OnceValue(func() zkLink {
	k, err := zk.NewKey()
	if err != nil {
		panic(err)
	}
	d, err := zk.Derive(k, "correct horse")
	if err != nil {
		panic(err)
	}
	return zkLink{key: k, d: d}
})

// shareForm returns the form of a zk1 share of value, with extra fields.
func (l zkLink) shareForm(t testing.TB, value string, extra url.Values) string {
	t.Helper()
	sealed, err := l.d.Seal([]byte(value))
	require.NoError(t, err)
	f := url.Values{"secret": {sealed}, "proof_verifier": {zk.EncodeBytes(l.d.Verifier().Key)}}
	if v := l.d.Verifier().Passphrase; v != nil {
		f.Set("passphrase_verifier", zk.EncodeBytes(v))
	}
	for k, vs := range extra {
		f[k] = vs
	}
	return f.Encode()
}

// revealForm returns the form of a reveal with the link's proof.
func (l zkLink) revealForm() string { return proofForm(l.d.Proof()) }

func proofForm(p zk.Proof) string {
	f := url.Values{"proof": {zk.EncodeBytes(p.Key)}}
	if p.Passphrase != nil {
		f.Set("passphrase_proof", zk.EncodeBytes(p.Passphrase))
	}
	return f.Encode()
}

// open opens a revealed value as the reader does.
func (l zkLink) open(t testing.TB, sealed string) string {
	t.Helper()
	v, err := l.d.Open(sealed)
	require.NoError(t, err)
	return string(v)
}

// newZKEnv is newEnv without the guess limit: these tests fail many
// reveals from one address on purpose.
func newZKEnv(t *testing.T, svcOpts *onetime.Options, apiOpts *Options) *env {
	t.Helper()
	var o Options
	if apiOpts != nil {
		o = *apiOpts
	}
	o.GuessLimiter = access.NoGuessLimit
	return newEnv(t, svcOpts, &o)
}

// sameAnswer requires two answers to be the same to a caller: status,
// body byte for byte and headers, but the request id and the date.
func sameAnswer(t *testing.T, want, got resp, msg string) {
	t.Helper()
	assert.Equal(t, want.status, got.status, msg)
	assert.Equal(t, string(want.body), string(got.body), msg)
	strip := func(h http.Header) http.Header {
		h = h.Clone()
		h.Del("X-Request-Id")
		h.Del("Date")
		return h
	}
	assert.Equal(t, strip(want.header), strip(got.header), msg)
}

// A zk1 share stores the sender's ciphertext as the value; the reveal
// with the proof answers it in the v1 shape, once; the receipt is an
// ordinary one.
func TestZKShareAndReveal(t *testing.T) {
	e := newZKEnv(t, nil, nil)
	l := newZKLink(t, "")
	rc := e.share(l.shareForm(t, "hunter2\n", url.Values{"ttl": {"3600"}}))
	rc.order(t, receiptKeys...)
	assert.Equal(t, "false", string(rc.raw["passphrase_required"]))
	assert.Equal(t, int64(3600), rc.int(t, "ttl"))
	sk, mk := rc.str(t, "secret_key"), rc.str(t, "metadata_key")

	st, err := e.svc.Status(context.Background(), onetime.SecretKey(sk))
	require.NoError(t, err)
	assert.True(t, st.ZeroKnowledge)

	r := e.post("/api/v1/secret/"+sk, l.revealForm()).ok(t)
	r.order(t, "value", "secret_key", "share_domain")
	assert.True(t, zk.IsSealed(r.str(t, "value")))
	assert.Equal(t, "hunter2\n", l.open(t, r.str(t, "value")))
	assert.Equal(t, sk, r.str(t, "secret_key"))
	e.post("/api/v1/secret/"+sk, l.revealForm()).fails(t, 404, unknown(sk))
	assert.Equal(t, "received", e.get("/api/v1/private/"+mk).ok(t).str(t, "state"))

	// JSON bodies and the query string carry the fields as well.
	l = newZKLink(t, "")
	sealed, err := l.d.Seal([]byte("by JSON"))
	require.NoError(t, err)
	rc = e.do(req{method: "POST", path: "/api/v1/create", ctype: "application/json",
		body: `{"secret":"` + sealed + `","proof_verifier":"` + zk.EncodeBytes(l.d.Verifier().Key) + `"}`}).ok(t)
	sk = rc.str(t, "secret_key")
	r = e.post("/api/v1/secret/"+sk+"?"+l.revealForm(), "").ok(t)
	assert.Equal(t, "by JSON", l.open(t, r.str(t, "value")))
}

// A zk1 secret revealed without its proof, with a proof of another key,
// or with one that is not even a proof, is an unknown secret: the same
// answer, byte for byte, as for the same key once the secret is gone,
// and nothing changes: ten tries later the reader still reveals it.
func TestZKRevealWithoutProofIsUnknown(t *testing.T) {
	for _, intended := range []bool{false, true} {
		e := newZKEnv(t, nil, &Options{IntendedStatus: intended})
		l := zkWithPassphrase()
		rc := e.share(l.shareForm(t, "scanned", nil))
		assert.Equal(t, "true", string(rc.raw["passphrase_required"]))
		sk, mk := rc.str(t, "secret_key"), rc.str(t, "metadata_key")
		path := "/api/v1/secret/" + sk

		other := newZKLink(t, "")
		tries := []string{
			"",                         // a link scanner: the link without its fragment
			"passphrase=correct+horse", // the passphrase in clear, as a v1 client would send it
			other.revealForm(),         // another key's proof
			"proof=" + zk.EncodeBytes(l.d.Proof().Key)[:42],              // not a proof
			"proof=" + zk.EncodeBytes(l.d.Verifier().Key),                // the verifier is no proof
			"passphrase_proof=" + zk.EncodeBytes(l.d.Proof().Passphrase), // half a proof
		}
		var answers []resp
		for range 10 {
			for _, form := range tries {
				answers = append(answers, e.post(path, form))
			}
		}
		st, err := e.svc.Status(context.Background(), onetime.SecretKey(sk))
		require.NoError(t, err)
		assert.Equal(t, onetime.DefaultMaxAttempts, st.AttemptsLeft, "no attempt counted")
		assert.Equal(t, "new", e.get("/api/v1/private/"+mk).ok(t).str(t, "state"))

		r := e.post(path, l.revealForm()).ok(t)
		assert.Equal(t, "scanned", l.open(t, r.str(t, "value")))

		gone := e.post(path, "")
		gone.fails(t, 404, unknown(sk))
		for i, a := range answers {
			sameAnswer(t, gone, a, tries[i%len(tries)])
		}
	}
}

// With the right key proof, a missing or wrong passphrase proof is a
// wrong passphrase: counted, answered as unknown; nine and then the right
// one reveal, and the tenth burns the secret.
func TestZKPassphraseAttempts(t *testing.T) {
	e := newZKEnv(t, nil, nil)
	l := zkWithPassphrase()
	wrong := l.d.Proof()
	wrong.Passphrase = bytes.Repeat([]byte{7}, zk.KeySize)
	missing := zk.Proof{Key: l.d.Proof().Key}
	malformed := proofForm(missing) + "&passphrase_proof=short"

	sk := e.share(l.shareForm(t, "nine wrong", nil)).str(t, "secret_key")
	path := "/api/v1/secret/" + sk
	for i := range 9 {
		form := []string{proofForm(wrong), proofForm(missing), malformed}[i%3]
		e.post(path, form).fails(t, 404, unknown(sk))
		st, err := e.svc.Status(context.Background(), onetime.SecretKey(sk))
		require.NoError(t, err)
		assert.Equal(t, onetime.DefaultMaxAttempts-i-1, st.AttemptsLeft, "attempt %d counted", i+1)
	}
	assert.Equal(t, "nine wrong", l.open(t, e.post(path, l.revealForm()).ok(t).str(t, "value")))

	rc := e.share(l.shareForm(t, "ten wrong", nil))
	sk, mk := rc.str(t, "secret_key"), rc.str(t, "metadata_key")
	path = "/api/v1/secret/" + sk
	for range 10 {
		e.post(path, proofForm(wrong)).fails(t, 404, unknown(sk))
	}
	e.post(path, l.revealForm()).fails(t, 404, unknown(sk))
	assert.Equal(t, "burned", e.get("/api/v1/private/"+mk).ok(t).str(t, "state"), "the budget spent burns it")
}

// What a zk1 share cannot be: each refusal a 400 with its own message,
// and nothing stored.
func TestZKShareRefused(t *testing.T) {
	e := newZKEnv(t, nil, &Options{Auth: access.NewBasicAuth(testUsers), IntendedStatus: true})
	l := newZKLink(t, "")
	sealed, err := l.d.Seal([]byte("v"))
	require.NoError(t, err)
	verifier := zk.EncodeBytes(l.d.Verifier().Key)
	malformed := `{"message":"Malformed proof_verifier or passphrase_verifier: each is a SHA-256 digest in 43 characters of unpadded base64url"}`
	for _, c := range []struct {
		name, path, form string
		user             string
		want             string
	}{
		{"short verifier", "/api/v1/share", "secret=" + sealed + "&proof_verifier=" + verifier[:42], "", malformed},
		{"padded verifier", "/api/v1/share", url.Values{"secret": {sealed}, "proof_verifier": {verifier + "="}}.Encode(), "", malformed},
		{"standard base64", "/api/v1/share", url.Values{"secret": {sealed}, "proof_verifier": {strings.NewReplacer("-", "+", "_", "/").Replace(verifier[:42]) + "+"}}.Encode(), "", malformed},
		{"bad passphrase verifier", "/api/v1/share", "secret=" + sealed + "&proof_verifier=" + verifier + "&passphrase_verifier=x", "", malformed},
		{"passphrase verifier alone", "/api/v1/share", "secret=" + sealed + "&passphrase_verifier=" + verifier, "",
			`{"message":"passphrase_verifier needs proof_verifier"}`},
		{"passphrase in clear", "/api/v1/share", "secret=" + sealed + "&proof_verifier=" + verifier + "&passphrase=pw", "",
			`{"message":"A zero-knowledge secret takes its passphrase in its verifier, never in clear"}`},
		{"recipients", "/api/v1/share", "secret=" + sealed + "&proof_verifier=" + verifier + "&recipient=dev%40example.com", "alice",
			`{"message":"A zero-knowledge link cannot be e-mailed by the server: send it yourself"}`},
		{"not sealed", "/api/v1/create", "secret=hunter2&proof_verifier=" + verifier, "",
			`{"message":"A zero-knowledge secret must be sealed by the sender (zk1)"}`},
		{"generate", "/api/v1/generate", "proof_verifier=" + verifier, "",
			`{"message":"Generate makes the value on the server: it cannot be zero-knowledge"}`},
	} {
		r := req{method: "POST", path: c.path, ctype: "application/x-www-form-urlencoded", body: c.form}
		if c.user != "" {
			r.user, r.pass = c.user, testUsers[c.user]
		}
		e.do(r).fails(t, 400, c.want)
		assert.NotContains(t, c.want, verifier, c.name)
	}
	secrets, receipts := e.store.Len()
	assert.Zero(t, secrets+receipts, "nothing stored")
}

// A passphrase beside a proof would have reached the server in clear:
// refused, and the secret is left as it was.
func TestZKRevealRefusesPassphrase(t *testing.T) {
	e := newZKEnv(t, nil, nil)
	l := newZKLink(t, "")
	sk := e.share(l.shareForm(t, "v", nil)).str(t, "secret_key")
	path := "/api/v1/secret/" + sk
	e.post(path, l.revealForm()+"&passphrase=pw").fails(t, 400,
		`{"message":"A zero-knowledge reveal takes its passphrase in passphrase_proof, never in clear","secret_key":"`+sk+`"}`)
	assert.Equal(t, "v", l.open(t, e.post(path, l.revealForm()).ok(t).str(t, "value")))
}

// Idempotency-Key works on a zk1 share (one secret, the same receipt)
// and on its reveal (the same answer again; another key finds it gone).
func TestZKIdempotency(t *testing.T) {
	e := newZKEnv(t, nil, nil)
	l := newZKLink(t, "")
	form := l.shareForm(t, "once", nil)
	first := e.postIdem("/api/v1/share", form, `"z1"`).ok(t)
	again := e.postIdem("/api/v1/share", form, `"z1"`).ok(t)
	assert.Equal(t, first.str(t, "secret_key"), again.str(t, "secret_key"))
	assert.Equal(t, first.str(t, "metadata_key"), again.str(t, "metadata_key"))
	secrets, _ := e.store.Len()
	assert.Equal(t, 1, secrets)

	sk := first.str(t, "secret_key")
	path := "/api/v1/secret/" + sk
	// A reveal without the proof under the key records nothing.
	e.postIdem(path, "", "r1").fails(t, 404, unknown(sk))
	r1 := e.postIdem(path, l.revealForm(), "r1")
	assert.Equal(t, "once", l.open(t, r1.ok(t).str(t, "value")))
	r2 := e.postIdem(path, l.revealForm(), "r1")
	assert.Equal(t, string(r1.body), string(r2.body), "the first answer again")
	// The recorded answer goes to the same proof only.
	e.postIdem(path, "", "r1").fails(t, 404, unknown(sk))
	e.postIdem(path, newZKLink(t, "").revealForm(), "r1").fails(t, 404, unknown(sk))
	e.postIdem(path, l.revealForm(), "r2").fails(t, 404, unknown(sk))
}

// No verifier, proof or sealed value of a zk1 exchange reaches the logs,
// access log included, at debug level.
func TestZKLogsCarryNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	logger := jsonLogger(&logs)
	svc, err := onetime.New(memory.New(), testSecret, &onetime.Options{Logger: logger, KDFConcurrency: 1})
	require.NoError(t, err)
	defer svc.Close()
	h, err := New(svc, &Options{Logger: logger, AccessLog: logger, GuessLimiter: access.NoGuessLimit})
	require.NoError(t, err)
	e := &env{t: t, srv: newTestServer(h)}
	defer e.srv.Close()

	l := zkWithPassphrase()
	form := l.shareForm(t, "VALUEvalue", nil)
	fields, err := url.ParseQuery(form)
	require.NoError(t, err)
	rc := e.postIdem("/api/v1/share?note=QUERYSTRINGqs", form, "IDEMkey1").ok(t)
	sk := rc.str(t, "secret_key")
	wrong := l.d.Proof()
	wrong.Passphrase = bytes.Repeat([]byte{9}, zk.KeySize)
	e.post("/api/v1/secret/"+sk, proofForm(wrong)).fails(t, 404, unknown(sk))
	e.post("/api/v1/secret/"+sk, "").fails(t, 404, unknown(sk))
	e.post("/api/v1/secret/"+sk, l.revealForm()+"&passphrase=PASSPHRASEpp").fails(t, 400,
		`{"message":"A zero-knowledge reveal takes its passphrase in passphrase_proof, never in clear","secret_key":"`+sk+`"}`)
	e.postIdem("/api/v1/secret/"+sk, l.revealForm(), "IDEMkey2").ok(t)

	out := logs.String()
	assert.Contains(t, out, `"route":"POST /api/v1/secret/{secret_key}"`)
	assert.Contains(t, out, `"route":"POST /api/v1/share"`)
	for _, s := range []string{
		"VALUEvalue", "PASSPHRASEpp", "QUERYSTRINGqs", "IDEMkey", sk, rc.str(t, "metadata_key"),
		fields.Get("secret"), fields.Get("proof_verifier"), fields.Get("passphrase_verifier"),
		zk.EncodeBytes(l.d.Proof().Key), zk.EncodeBytes(l.d.Proof().Passphrase), zk.EncodeBytes(wrong.Passphrase),
		l.key.Fragment(),
	} {
		assert.NotContains(t, out, s)
	}
}
