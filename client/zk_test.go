package client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/client"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/internal/zkvectors"
	"github.com/onetimego/onetime/onetimetest"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/zk"
)

// recordingStore is the memory store with a copy of every byte it is
// given to keep: what a dump of a real store would show.
type recordingStore struct {
	onetime.Store
	mu   sync.Mutex
	kept bytes.Buffer
}

func (s *recordingStore) Create(ctx context.Context, sec *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	s.mu.Lock()
	appendFields(&s.kept, reflect.ValueOf(*sec))
	appendFields(&s.kept, reflect.ValueOf(*m))
	s.mu.Unlock()
	return s.Store.Create(ctx, sec, m)
}

func (s *recordingStore) dump() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.kept.Bytes())
}

// appendFields writes every string and byte slice in v, fields of
// structs and elements of slices included, raw.
func appendFields(b *bytes.Buffer, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		b.WriteString(v.String())
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b.Write(v.Bytes())
			return
		}
		for i := range v.Len() {
			appendFields(b, v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			appendFields(b, v.Field(i))
		}
	}
	b.WriteByte(0)
}

// zkEnv is httpapi over a Service on a recordingStore, behind a handler
// that keeps every request whole (line, headers, body) as the server
// received it. status, when set, replaces the status answer (an older
// server's; an error's, sent with 404).
type zkEnv struct {
	srv   *httptest.Server
	svc   *onetime.Service
	store *recordingStore

	mu   sync.Mutex
	wire bytes.Buffer
	reqs []string // "METHOD path"
}

func newZKEnv(t *testing.T, svcOpts *onetime.Options, status string) *zkEnv {
	t.Helper()
	e := &zkEnv{store: &recordingStore{Store: memory.New()}}
	o := onetime.Options{KDFConcurrency: 1, Now: onetimetest.NewClock().Now}
	if svcOpts != nil {
		o = *svcOpts
		o.KDFConcurrency = 1
	}
	svc, err := onetime.New(e.store, bytes.Repeat([]byte("z"), onetime.MinServerSecretLen), &o)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	e.svc = svc
	api, err := httpapi.New(svc, &httpapi.Options{Auth: access.NewBasicAuth(testUsers), GuessLimiter: access.NoGuessLimit})
	require.NoError(t, err)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := httputil.DumpRequest(r, true)
		require.NoError(t, err)
		e.mu.Lock()
		e.wire.Write(raw)
		e.reqs = append(e.reqs, r.Method+" "+r.URL.Path)
		e.mu.Unlock()
		if status != "" && r.URL.Path == "/api/v1/status" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			if strings.Contains(status, `"message"`) {
				w.WriteHeader(http.StatusNotFound) // no such route
			}
			w.Write([]byte(status))
			return
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *zkEnv) client(t *testing.T, o *client.Options) *client.Client {
	t.Helper()
	c, err := client.New(e.srv.URL, o)
	require.NoError(t, err)
	return c
}

func (e *zkEnv) received() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return bytes.Clone(e.wire.Bytes())
}

func (e *zkEnv) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.reqs...)
}

// linkKeyOf returns the key in a link's fragment.
func linkKeyOf(t *testing.T, link client.SecretKey) zk.Key {
	t.Helper()
	_, frag, ok := strings.Cut(string(link), "#")
	require.True(t, ok, "a link with a fragment")
	k, err := zk.ParseKey(frag)
	require.NoError(t, err)
	return k
}

// requireUnseen requires that none of the secrets, in any of the forms a
// request or a store could carry them, is in what was seen.
func requireUnseen(t *testing.T, seen []byte, what string, secrets ...[]byte) {
	t.Helper()
	for _, s := range secrets {
		forms := [][]byte{s, []byte(url.QueryEscape(string(s))), []byte(url.PathEscape(string(s))),
			[]byte(base64.StdEncoding.EncodeToString(s)), []byte(base64.RawURLEncoding.EncodeToString(s))}
		if j, err := json.Marshal(string(s)); err == nil {
			forms = append(forms, bytes.Trim(j, `"`))
		}
		for _, f := range forms {
			require.False(t, bytes.Contains(seen, f), "%s holds a secret (%d bytes)", what, len(s))
		}
	}
}

// A share and its reveal through the client, against httpapi, in the
// zero-knowledge mode: the value round-trips, a wrong passphrase is
// counted, and neither what the server received (requests whole) nor what
// the store was given holds a byte of the value, the passphrase or the
// link's key.
func TestZKShareRevealKeepsTheServerBlind(t *testing.T) {
	e := newZKEnv(t, nil, "")
	c := e.client(t, nil)
	ctx := context.Background()
	value, pass := "the vault code is 0451, ünïcødé\n", "correct horse battery"

	m, err := c.Share(ctx, value, &client.ShareOptions{Passphrase: pass, TTL: time.Hour})
	require.NoError(t, err)
	assert.True(t, m.ZeroKnowledge)
	assert.True(t, m.PassphraseRequired)
	assert.Equal(t, time.Hour, m.TTL)
	assert.Equal(t, client.StateNew, m.State)
	require.True(t, strings.HasPrefix(string(m.Link), c.SecretLink(m.SecretKey)+"#"), "BASE/secret/KEY#FRAGMENT")
	assert.Equal(t, string(m.Link), c.SecretLink(m.Link), "SecretLink keeps the fragment of a link")
	key := linkKeyOf(t, m.Link)
	st, err := e.svc.Status(ctx, onetime.SecretKey(m.SecretKey))
	require.NoError(t, err)
	assert.True(t, st.ZeroKnowledge)

	_, err = c.Reveal(ctx, m.Link, "wrong horse")
	require.ErrorIs(t, err, client.ErrNotFound)
	st, err = e.svc.Status(ctx, onetime.SecretKey(m.SecretKey))
	require.NoError(t, err)
	assert.Equal(t, onetime.DefaultMaxAttempts-1, st.AttemptsLeft, "the wrong passphrase counted")

	s, err := c.Reveal(ctx, m.Link, pass)
	require.NoError(t, err)
	assert.Equal(t, value, s.Value)
	assert.True(t, s.ZeroKnowledge)
	assert.Equal(t, m.SecretKey, s.Key)
	assert.True(t, strings.Contains(string(s.Raw), `"value":"zk1.`), "the server answered the sealed value")
	_, err = c.Reveal(ctx, m.Link, pass)
	require.ErrorIs(t, err, client.ErrNotFound, "once")

	r, err := c.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateReceived, r.State)

	assert.Equal(t, []string{"GET /api/v1/status", "POST /api/v1/share", "POST /api/v1/secret/" + string(m.SecretKey),
		"POST /api/v1/secret/" + string(m.SecretKey), "POST /api/v1/secret/" + string(m.SecretKey),
		"GET /api/v1/private/" + string(m.MetadataKey)}, e.requests(), "the status asked once")
	secrets := [][]byte{[]byte(value), []byte(pass), []byte("wrong horse"), []byte(key.Fragment()), key[:]}
	requireUnseen(t, e.received(), "the requests", secrets...)
	requireUnseen(t, e.store.dump(), "the store", secrets...)
	assert.Contains(t, string(e.received()), "proof_verifier=", "the check above saw the share")
}

// A link without its fragment, or with another link's, consumes nothing
// and spends no attempt, however often it is tried (a link scanner); the
// whole link then reveals the secret. A fragment that is not a key is
// refused before anything is sent.
func TestZKLinkWithoutItsKeyLeavesTheSecret(t *testing.T) {
	e := newZKEnv(t, nil, "")
	c := e.client(t, nil)
	ctx := context.Background()
	m, err := c.Share(ctx, "scan me", nil)
	require.NoError(t, err)
	other, err := c.Share(ctx, "another", nil)
	require.NoError(t, err)
	_, otherFrag, _ := strings.Cut(string(other.Link), "#")
	bare := c.SecretLink(m.SecretKey)

	for range 10 {
		for _, k := range []client.SecretKey{m.SecretKey, client.SecretKey(bare), client.SecretKey(bare + "#" + otherFrag)} {
			_, err := c.Reveal(ctx, k, "")
			require.ErrorIs(t, err, client.ErrNotFound)
		}
	}
	n := len(e.requests())
	for _, bad := range []string{"#x", "#" + otherFrag[:42], "#" + otherFrag + "A", "#+" + otherFrag[1:], "#" + otherFrag[:42] + "="} {
		_, err := c.Reveal(ctx, client.SecretKey(bare+bad), "")
		require.ErrorIs(t, err, client.ErrInvalidKey, bad)
		assert.NotContains(t, err.Error(), strings.TrimPrefix(bad, "#"))
	}
	assert.Len(t, e.requests(), n, "a malformed fragment sends nothing")

	st, err := e.svc.Status(ctx, onetime.SecretKey(m.SecretKey))
	require.NoError(t, err)
	assert.Equal(t, 0, st.AttemptsLeft, "no passphrase, nothing counted")
	r, err := c.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateNew, r.State)
	s, err := c.Reveal(ctx, m.Link, "")
	require.NoError(t, err)
	assert.Equal(t, "scan me", s.Value)
}

// With the right link and wrong passphrases the budget is spent: each
// is counted, and the attempt that spends it burns the secret.
func TestZKWrongPassphraseBurns(t *testing.T) {
	e := newZKEnv(t, &onetime.Options{MaxAttempts: 2, Now: onetimetest.NewClock().Now}, "")
	c := e.client(t, nil)
	ctx := context.Background()
	m, err := c.Share(ctx, "guarded", &client.ShareOptions{Passphrase: "pw"})
	require.NoError(t, err)
	_, err = c.Reveal(ctx, m.Link, "guess")
	require.ErrorIs(t, err, client.ErrNotFound)
	st, err := e.svc.Status(ctx, onetime.SecretKey(m.SecretKey))
	require.NoError(t, err)
	assert.Equal(t, 1, st.AttemptsLeft)
	_, err = c.Reveal(ctx, m.Link, "") // the passphrase missing: wrong too
	require.ErrorIs(t, err, client.ErrNotFound)
	r, err := c.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, client.StateBurned, r.State)
	_, err = c.Reveal(ctx, m.Link, "pw")
	require.ErrorIs(t, err, client.ErrNotFound, "burned")
}

// A server whose status does not list zk1 (the reference service, an
// older httpapi) gets the share as every v1 client sends it, and so does
// one that lists it from a client made Plain.
func TestZKPlainWhenNotAdvertised(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		status string
		opts   *client.Options
		wire   []string
	}{
		"older server": {`{"status":"nominal","locale":"en","idempotency":true}`, nil,
			[]string{"GET /api/v1/status", "POST /api/v1/share", "POST /api/v1/generate"}},
		"no status route": {`{"message":"Not Found"}`, nil,
			[]string{"GET /api/v1/status", "POST /api/v1/share", "POST /api/v1/generate"}},
		"Plain": {"", &client.Options{Plain: true}, []string{"POST /api/v1/share", "POST /api/v1/generate"}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newZKEnv(t, nil, tc.status)
			c := e.client(t, tc.opts)
			m, err := c.Share(ctx, "plain value", nil)
			require.NoError(t, err)
			assert.False(t, m.ZeroKnowledge)
			assert.Equal(t, c.SecretLink(m.SecretKey), string(m.Link), "no fragment")
			g, err := c.Generate(ctx, &client.GenerateOptions{Length: 9})
			require.NoError(t, err)
			assert.Len(t, g.Value, 9)
			assert.Equal(t, client.StateNew, g.State)
			assert.Equal(t, tc.wire, e.requests())
			assert.Contains(t, string(e.received()), "secret=plain+value", "the value went as v1 sends it")

			st, err := e.svc.Status(ctx, onetime.SecretKey(m.SecretKey))
			require.NoError(t, err)
			assert.False(t, st.ZeroKnowledge)
			s, err := c.Reveal(ctx, m.SecretKey, "")
			require.NoError(t, err)
			assert.Equal(t, "plain value", s.Value)
			assert.False(t, s.ZeroKnowledge)
			s, err = c.Reveal(ctx, g.Link, "")
			require.NoError(t, err)
			assert.Equal(t, g.Value, s.Value)
		})
	}
}

// The status is asked before the first share, and a status that cannot
// be read stops the share rather than send the value to a server that
// may take it sealed: a rate limit, a server error, a redirect away.
func TestZKStatusFailureStopsTheShare(t *testing.T) {
	ctx := context.Background()
	for name, answer := range map[string]http.HandlerFunc{
		"rate limited": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-OTS-Intended-Status", "429")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"Cripes! You have been rate limited."}`))
		},
		"server error": serverError,
		"redirect":     redirectTo(http.StatusFound, func(*http.Request) string { return "http://127.0.0.2:1/api/v1/status" }),
	} {
		t.Run(name, func(t *testing.T) {
			h := newHostile(t, answer)
			c := mustNew(t, h.srv.URL, &client.Options{MaxAttempts: 2})
			_, err := c.Share(ctx, "the value", &client.ShareOptions{Passphrase: "pass phrase"})
			require.Error(t, err)
			for _, r := range h.requests() {
				assert.Equal(t, "/api/v1/status", r.path, "nothing but the status asked")
			}
			assert.NotContains(t, err.Error(), "the value")
			assert.NotContains(t, err.Error(), "pass phrase")
		})
	}
}

// Recipients cannot be mailed a link whose key the server never sees:
// refused before the share is sent, unless the client is made Plain.
func TestZKRecipientsRefused(t *testing.T) {
	e := newZKEnv(t, nil, "")
	ctx := context.Background()
	alice := e.client(t, &client.Options{CustomerID: "alice", APIToken: testUsers["alice"]})
	_, err := alice.Share(ctx, "for ops", &client.ShareOptions{Recipients: []string{"ops@example.com"}})
	var ie *client.InputError
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, ie.Message, "send the link yourself")
	_, err = alice.Generate(ctx, &client.GenerateOptions{Recipients: []string{"ops@example.com"}})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, []string{"GET /api/v1/status"}, e.requests(), "no share sent")

	plain := e.client(t, &client.Options{CustomerID: "alice", APIToken: testUsers["alice"], Plain: true})
	m, err := plain.Share(ctx, "for ops", &client.ShareOptions{Recipients: []string{"ops@example.com"}})
	require.NoError(t, err)
	assert.Len(t, m.Recipients, 1)

	_, err = alice.Share(ctx, "x", &client.ShareOptions{Passphrase: strings.Repeat("é", 129)})
	require.ErrorAs(t, err, &ie, "a passphrase the server would refuse")
	_, err = alice.Share(ctx, "x", &client.ShareOptions{Passphrase: "\xff"})
	require.ErrorAs(t, err, &ie)
	assert.NotContains(t, err.Error(), "é")
}

// In the zero-knowledge mode the client makes the password itself, by
// the server's rules, and shares it sealed: the server never sees it.
func TestZKGenerate(t *testing.T) {
	e := newZKEnv(t, nil, "")
	c := e.client(t, nil)
	ctx := context.Background()
	for _, tc := range []struct{ asked, want int }{{0, 12}, {2, 4}, {20, 20}, {500, 128}} {
		g, err := c.Generate(ctx, &client.GenerateOptions{Length: tc.asked})
		require.NoError(t, err)
		assert.True(t, g.ZeroKnowledge)
		require.Len(t, g.Value, tc.want)
		for _, set := range []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghjkmnpqrstuvwxyz", "23456789", "!#$%&*+-=?@^_"} {
			assert.True(t, strings.ContainsAny(g.Value, set), "%q has one of %q", g.Value, set)
		}
		assert.False(t, strings.ContainsAny(g.Value, "ilo1IO0"), "no look-alikes in %q", g.Value)
		requireUnseen(t, e.received(), "the requests", []byte(g.Value))
		requireUnseen(t, e.store.dump(), "the store", []byte(g.Value))
		s, err := c.Reveal(ctx, g.Link, "")
		require.NoError(t, err)
		assert.Equal(t, g.Value, s.Value)
	}
	for _, r := range e.requests() {
		assert.NotEqual(t, "POST /api/v1/generate", r, "the server's generate would see the password")
	}
}

// Answers lost after the server acted, in the zero-knowledge mode: the
// client's retry (the same sealed body, the same Idempotency-Key) gets
// the first answer; one secret per share, every value delivered once.
func TestZKLostAnswers(t *testing.T) {
	svc, _ := onetimetest.NewService(t, &onetime.Options{KDFConcurrency: 1})
	api, err := httpapi.New(svc, &httpapi.Options{Auth: access.NewBasicAuth(testUsers)})
	require.NoError(t, err)
	var mu sync.Mutex
	served := map[string]int{}
	srv := httptest.NewServer(dropFirstAnswers(api, served, &mu))
	defer srv.Close()
	c := mustNew(t, srv.URL, &client.Options{CustomerID: "alice", APIToken: testUsers["alice"]})
	ctx := context.Background()
	const n = 5
	for i := range n {
		v := "lost and found " + string(rune('a'+i))
		m, err := c.Share(ctx, v, nil)
		require.NoError(t, err)
		require.True(t, m.ZeroKnowledge)
		s, err := c.Reveal(ctx, m.Link, "")
		require.NoError(t, err)
		assert.Equal(t, v, s.Value)
	}
	recent, err := c.Recent(ctx)
	require.NoError(t, err)
	assert.Len(t, recent, n, "one secret per share")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 2*n, served["share"], "each share tried twice")
	assert.Equal(t, 2*n, served["secret"], "each reveal tried twice")
}

// The links the pages make open with the client: the format's test
// vectors (zk/testdata/vectors.json, which the pages' tests read too),
// served by a server that answers the sealed value only to the vector's
// proofs, open to the vector's value.
func TestZKVectorsOpen(t *testing.T) {
	vectors := zkvectors.Load(t)
	for i, v := range vectors {
		var srv *hostile
		srv = newHostile(t, func(w http.ResponseWriter, r *http.Request) {
			reqs := srv.requests() // the hostile server has read the body
			form, err := url.ParseQuery(reqs[len(reqs)-1].body)
			assert.NoError(t, err)
			if form.Get("proof") != v.KeyProof || form.Get("passphrase_proof") != v.PassphraseProof || form.Has("passphrase") {
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(`{"message":"Unknown secret"}`))
				return
			}
			json.NewEncoder(w).Encode(map[string]string{"value": v.Sealed, "secret_key": hostileSecretKey})
		})
		c := mustNew(t, srv.srv.URL, nil)
		s, err := c.Reveal(context.Background(), client.SecretKey(srv.srv.URL+"/secret/"+hostileSecretKey+"#"+v.Fragment), v.Passphrase)
		require.NoError(t, err, "vector %d", i)
		assert.Equal(t, v.Value, s.Value, "vector %d", i)
		assert.True(t, s.ZeroKnowledge)
	}
}

// What a hostile or broken server may answer to a zero-knowledge reveal:
// a value of the server-side mode is returned as it is; a zk1 value that
// does not open is ErrUnsealed, never the ciphertext taken for the value.
// No error carries the link's key, the proofs or the passphrase.
func TestZKRevealAnswers(t *testing.T) {
	ctx := context.Background()
	k, err := zk.NewKey()
	require.NoError(t, err)
	for _, tc := range []struct {
		value, want string
		err         error
	}{
		{"shared in the server-side mode", "shared in the server-side mode", nil},
		{"zk1.", "", client.ErrUnsealed},
		{"zk1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", client.ErrUnsealed},
	} {
		srv := newHostile(t, func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]string{"value": tc.value, "secret_key": hostileSecretKey})
		})
		c := mustNew(t, srv.srv.URL, nil)
		s, err := c.RevealWithKey(ctx, hostileSecretKey, k, "")
		if tc.err != nil {
			require.ErrorIs(t, err, tc.err)
			assert.Nil(t, s)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, s.Value)
		assert.False(t, s.ZeroKnowledge)
		body := srv.requests()[0].body
		assert.Contains(t, body, "proof=")
		assert.NotContains(t, body, "passphrase", "no passphrase, no passphrase proof")
	}

	// A server gone: the error names the route, nothing else.
	e := newZKEnv(t, nil, "")
	c := e.client(t, nil)
	m, err := c.Share(ctx, "secret value", &client.ShareOptions{Passphrase: "passw0rd"})
	require.NoError(t, err)
	e.srv.Close()
	_, err = c.Reveal(ctx, m.Link, "passw0rd")
	var ne *client.NetworkError
	require.ErrorAs(t, err, &ne)
	key := linkKeyOf(t, m.Link)
	for _, s := range []string{string(m.SecretKey), key.Fragment(), "passw0rd", "secret value", string(m.Link)} {
		assert.NotContains(t, err.Error(), s)
	}
	_, err = c.Share(ctx, "secret value", &client.ShareOptions{Passphrase: "passw0rd"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret value")
	assert.NotContains(t, err.Error(), "passw0rd")
	assert.False(t, errors.Is(err, client.ErrNotFound))
}

// The capabilities stay out of log/slog: a receipt's Link is a
// SecretKey.
func TestZKLinkIsHiddenFromSlog(t *testing.T) {
	var m client.Metadata
	m.Link = "https://ots.example.com/secret/abc#AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
	assert.Equal(t, "[secret key]", m.Link.LogValue().String())
}
