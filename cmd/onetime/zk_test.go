package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/httpapi"
	"github.com/onetimego/onetime/internal/zkvectors"
	"github.com/onetimego/onetime/onetimetest"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/zk"
)

// keptStore is the memory store with a copy of every secret and receipt
// it is given, raw: what a dump of a real store would show.
type keptStore struct {
	onetime.Store
	mu   sync.Mutex
	kept bytes.Buffer
}

func (s *keptStore) Create(ctx context.Context, sec *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	s.mu.Lock()
	for _, b := range [][]byte{[]byte(sec.ID), []byte(sec.MetadataID), sec.Sealed, sec.Check, sec.Proof, []byte(sec.ShareDomain),
		[]byte(m.ID), []byte(m.SecretID), []byte(m.Owner), m.Sealed, m.OwnerSealed, []byte(m.ShareDomain)} {
		s.kept.Write(b)
		s.kept.WriteByte(0)
	}
	s.mu.Unlock()
	return s.Store.Create(ctx, sec, m)
}

func (s *keptStore) dump() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.kept.Bytes())
}

// zkServer is httpapi in process over a Service on a keptStore, behind a
// handler that keeps every request whole as the server received it.
type zkServer struct {
	base  string
	svc   *onetime.Service
	store *keptStore

	mu   sync.Mutex
	wire bytes.Buffer
}

// startZKServer starts it; status, when set, replaces the status answer
// (a server that does not take zero-knowledge shares).
func startZKServer(t *testing.T, svcOpts *onetime.Options, status string) *zkServer {
	t.Helper()
	z := &zkServer{store: &keptStore{Store: memory.New()}}
	o := onetime.Options{}
	if svcOpts != nil {
		o = *svcOpts
	}
	o.KDFConcurrency, o.Now = 1, onetimetest.NewClock().Now
	svc, err := onetime.New(z.store, bytes.Repeat([]byte("c"), onetime.MinServerSecretLen), &o)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	z.svc = svc
	api, err := httpapi.New(svc, &httpapi.Options{Auth: access.NewBasicAuth(map[string]string{"alice": "alicetoken"}),
		GuessLimiter: access.NoGuessLimit})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := httputil.DumpRequest(r, true)
		require.NoError(t, err)
		z.mu.Lock()
		z.wire.Write(raw)
		z.mu.Unlock()
		if status != "" && r.URL.Path == "/api/v1/status" {
			w.Write([]byte(status))
			return
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	z.base = srv.URL
	return z
}

func (z *zkServer) received() []byte {
	z.mu.Lock()
	defer z.mu.Unlock()
	return bytes.Clone(z.wire.Bytes())
}

// status returns what the Service says of the secret of a link.
func (z *zkServer) status(t *testing.T, link string) (onetime.SecretStatus, error) {
	t.Helper()
	path, _, _ := strings.Cut(link, "#")
	return z.svc.Status(context.Background(), onetime.SecretKey(path[strings.LastIndex(path, "/")+1:]))
}

// assertUnseen requires that none of the secrets, raw or encoded as a
// request could carry them, is in seen.
func assertUnseen(t *testing.T, seen []byte, what string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, f := range []string{s, url.QueryEscape(s), url.PathEscape(s),
			base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s))} {
			assert.False(t, bytes.Contains(seen, []byte(f)), "%s holds a secret (%d bytes)", what, len(s))
		}
	}
}

// fragmentOf returns the key of a link, and its raw bytes.
func fragmentOf(t *testing.T, link string) (string, string) {
	t.Helper()
	_, frag, ok := strings.Cut(link, "#")
	require.True(t, ok, "a zero-knowledge link: %s", link)
	k, err := zk.ParseKey(frag)
	require.NoError(t, err)
	return frag, string(k[:])
}

// The command against a server that takes zero-knowledge shares: share
// seals, the link carries the key after '#', get opens it; the server
// (every request it received, whole) and the store never hold a byte of
// the value, the passphrase or the key; a link without its key, tried
// ten times as a scanner would, leaves the secret to its reader.
func TestZKCommands(t *testing.T) {
	z := startZKServer(t, nil, "")
	e := &harness{base: z.base, exec: inProcess}
	url := []string{"ONETIME_URL=" + z.base}

	t.Run("ShareGet", func(t *testing.T) {
		value := "hunter2 ünïcødé\n"
		link := strings.TrimSpace(e.ok(t, value, url, "share"))
		require.True(t, strings.HasPrefix(link, z.base+"/secret/"), link)
		frag, raw := fragmentOf(t, link)
		st, err := z.status(t, link)
		require.NoError(t, err)
		assert.True(t, st.ZeroKnowledge)

		bare, _, _ := strings.Cut(link, "#")
		for range 10 {
			msg := e.fails(t, 1, "", nil, "get", bare)
			assert.NotContains(t, msg, bare[len(z.base+"/secret/"):])
		}
		other := strings.TrimSpace(e.ok(t, "another", url, "share"))
		_, otherFrag, _ := strings.Cut(other, "#")
		msg := e.fails(t, 1, "", nil, "get", bare+"#"+otherFrag)
		assert.Contains(t, msg, "the key after '#' is not this secret's")
		assert.NotContains(t, msg, otherFrag)
		msg = e.fails(t, 2, "", nil, "get", bare+"#"+frag[:40])
		assert.Contains(t, msg, "copy the whole link")
		assert.NotContains(t, msg, frag[:40])
		_, err = z.status(t, link)
		require.NoError(t, err, "still there")

		assert.Equal(t, value, e.ok(t, "", nil, "get", link), "the link names its server")
		e.fails(t, 1, "", nil, "get", link)
		assertUnseen(t, z.received(), "the requests", value, frag, raw)
		assertUnseen(t, z.store.dump(), "the store", value, frag, raw)
	})

	t.Run("Passphrase", func(t *testing.T) {
		pass := "open sesame, ünï"
		link := strings.TrimSpace(e.ok(t, "guarded", append(url, "ONETIME_PASSPHRASE="+pass), "share"))
		frag, raw := fragmentOf(t, link)
		msg := e.fails(t, 1, "", url, "get", link)
		assert.Contains(t, msg, "needs a passphrase")
		msg = e.fails(t, 1, "", url, "get", "-passphrase", "wrong guess", link)
		assert.Contains(t, msg, "passphrase is wrong")
		assert.NotContains(t, msg, "wrong guess")
		st, err := z.status(t, link)
		require.NoError(t, err)
		assert.Equal(t, onetime.DefaultMaxAttempts-2, st.AttemptsLeft, "both counted")
		assert.Equal(t, "guarded\n", e.ok(t, "", append(url, "ONETIME_PASSPHRASE="+pass), "get", link))
		assertUnseen(t, z.received(), "the requests", pass, "wrong guess", frag, raw)
		assertUnseen(t, z.store.dump(), "the store", pass, "guarded", frag, raw)
		assert.Contains(t, string(z.received()), "passphrase_verifier=", "the check above saw the share")
		assert.Contains(t, string(z.received()), "passphrase_proof=")
	})

	t.Run("Generate", func(t *testing.T) {
		ls := lines(e.ok(t, "", url, "generate", "-length", "20", "-v"))
		require.Len(t, ls, 3)
		fragmentOf(t, ls[0])
		assert.Len(t, ls[1], 20)
		assert.True(t, strings.HasPrefix(ls[2], z.base+"/private/"))
		assertUnseen(t, z.received(), "the requests", ls[1])
		assert.Equal(t, ls[1]+"\n", e.ok(t, "", url, "get", ls[0]))
	})

	t.Run("JSON", func(t *testing.T) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(e.ok(t, "in json", url, "share", "-json", "-ttl", "1h")), &m))
		assert.Equal(t, float64(3600), m["ttl"])
		link, _ := m["link"].(string)
		fragmentOf(t, link)
		assert.True(t, strings.HasPrefix(link, z.base+"/secret/"+m["secret_key"].(string)+"#"))
		var g map[string]any
		require.NoError(t, json.Unmarshal([]byte(e.ok(t, "", url, "generate", "-json")), &g))
		assert.Len(t, g["value"], 12)

		var s map[string]any
		out := e.ok(t, "", url, "-json", "get", link)
		require.NoError(t, json.Unmarshal([]byte(out), &s))
		assert.Equal(t, map[string]any{"value": "in json", "secret_key": m["secret_key"], "share_domain": ""}, s)
		assert.True(t, strings.HasPrefix(out, `{"value":"in json","secret_key":`), "v1's order")
	})

	t.Run("Recipients", func(t *testing.T) {
		env := append(append([]string{}, url...), alice...)
		msg := e.fails(t, 2, "for ops", env, "share", "-recipient", "ops@example.com")
		assert.Contains(t, msg, "send the link yourself")
		msg = e.fails(t, 2, "", env, "generate", "-recipient", "ops@example.com")
		assert.Contains(t, msg, "-plain")
		link := strings.TrimSpace(e.ok(t, "for ops", env, "share", "-plain", "-recipient", "ops@example.com"))
		assert.NotContains(t, link, "#")
	})

	// -plain: today's mode, as v1 clients share; the server sees the value.
	t.Run("Plain", func(t *testing.T) {
		link := strings.TrimSpace(e.ok(t, "plain value", url, "share", "-plain", "-passphrase", "plain pass"))
		assert.NotContains(t, link, "#")
		assert.Contains(t, string(z.received()), "secret=plain+value")
		assert.Contains(t, string(z.received()), "passphrase=plain+pass")
		st, err := z.status(t, link)
		require.NoError(t, err)
		assert.False(t, st.ZeroKnowledge)
		assert.Equal(t, "plain value\n", e.ok(t, "", url, "get", "-passphrase", "plain pass", link))
		ls := lines(e.ok(t, "", url, "generate", "-plain"))
		assert.NotContains(t, ls[0], "#")
		assert.Contains(t, string(z.received()), "POST /api/v1/generate", "the server made the password")
	})
}

// The passphrase budget burns a zero-knowledge secret as it does any.
func TestZKPassphraseBudget(t *testing.T) {
	z := startZKServer(t, &onetime.Options{MaxAttempts: 2}, "")
	e := &harness{base: z.base, exec: inProcess}
	url := []string{"ONETIME_URL=" + z.base}
	ls := lines(e.ok(t, "guarded", url, "share", "-passphrase", "pw", "-v"))
	e.fails(t, 1, "", url, "get", "-passphrase", "guess", ls[0])
	e.fails(t, 1, "", url, "get", ls[0])
	assert.Contains(t, e.ok(t, "", url, "receipt", ls[1]), "state:      burned")
	_, err := z.status(t, ls[0])
	require.ErrorIs(t, err, onetime.ErrNotFound)
}

// Against a server whose status does not list zk1 (the reference, an
// older server), share sends the value as v1 clients do.
func TestZKNotAdvertised(t *testing.T) {
	z := startZKServer(t, nil, `{"status":"nominal","locale":"en","idempotency":true}`)
	e := &harness{base: z.base, exec: inProcess}
	url := []string{"ONETIME_URL=" + z.base}
	link := strings.TrimSpace(e.ok(t, "older", url, "share"))
	assert.NotContains(t, link, "#")
	assert.Contains(t, string(z.received()), "secret=older")
	assert.Equal(t, "older\n", e.ok(t, "", url, "get", link))
}

// A server that answers a link with a key by a value that the key did not
// seal (a secret shared in the server-side mode, or the server's own
// value): get prints it, and says on standard error that the server saw
// it.
func TestZKUnsealedAnswerNoted(t *testing.T) {
	srv := newRecorder(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"value":"not sealed","secret_key":"` + foreignSecretKey + `","share_domain":""}`))
	})
	k, err := zk.NewKey()
	require.NoError(t, err)
	e := &harness{base: srv.url, exec: inProcess}
	r := e.run(t, "", nil, "get", srv.url+"/secret/"+foreignSecretKey+"#"+k.Fragment())
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "not sealed\n", r.stdout)
	assert.Contains(t, r.stderr, "the server saw this value")
	assert.NotContains(t, r.stderr, k.Fragment())

	// A zk1 value that does not open: an error, never the ciphertext.
	srv = newRecorder(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"value":"zk1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","secret_key":"` + foreignSecretKey + `"}`))
	})
	e = &harness{base: srv.url, exec: inProcess}
	msg := e.fails(t, 3, "", nil, "get", srv.url+"/secret/"+foreignSecretKey+"#"+k.Fragment())
	assert.Contains(t, msg, "does not open")
	assert.NotContains(t, msg, "zk1.")
}

// Links that the pages make open with get: the format's test vectors
// (zk/testdata/vectors.json, which the pages' tests read too), served by
// a server that answers the sealed value only to the vector's proofs.
func TestZKBrowserLinksOpen(t *testing.T) {
	vectors := zkvectors.Load(t)
	for i, v := range vectors {
		srv := newRecorder(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path != "/api/v1/secret/"+foreignSecretKey {
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(`{"message":"Not Found"}`))
				return
			}
			w.Write([]byte(`{"value":"` + v.Sealed + `","secret_key":"` + foreignSecretKey + `","share_domain":""}`))
		})
		link := srv.url + "/secret/" + foreignSecretKey + "#" + v.Fragment
		args := []string{"get", "-n", link}
		if v.Passphrase != "" {
			args = append(args, "-passphrase", v.Passphrase)
		}
		e := &harness{base: srv.url, exec: inProcess}
		assert.Equal(t, v.Value, e.ok(t, "", nil, args...), "vector %d", i)
		reqs := srv.requests()
		require.Len(t, reqs, 1)
		form, err := url.ParseQuery(reqs[0].body)
		require.NoError(t, err)
		assert.Equal(t, v.KeyProof, form.Get("proof"), "vector %d: the proof the pages would present", i)
		assert.Equal(t, v.PassphraseProof, form.Get("passphrase_proof"), "vector %d", i)
		assert.False(t, form.Has("passphrase"), "vector %d: no passphrase sent", i)
	}
}
