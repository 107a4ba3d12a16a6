package loadgen

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CRC-24 of OpenPGP's armor: the check value of "123456789" (as listed for
// CRC-24/OPENPGP), and its initial value for no data.
func TestCRC24(t *testing.T) {
	assert.Equal(t, uint32(0x21CF02), crc24([]byte("123456789")))
	assert.Equal(t, uint32(0xB704CE), crc24(nil))
}

func TestPGPArmor(t *testing.T) {
	for _, v := range []string{"x", strings.Repeat("value with \"quotes\", \\ and \n", 20), newValues(3, 100).next()} {
		a := pgpArmor(v)
		require.True(t, strings.HasPrefix(a, "-----BEGIN PGP MESSAGE-----\n\n"))
		require.True(t, strings.HasSuffix(a, "\n-----END PGP MESSAGE-----\n"))
		for _, line := range strings.Split(a, "\n") {
			assert.LessOrEqual(t, len(line), 64, "armor lines are at most 64 characters")
		}
		got, err := pgpUnarmor(a)
		require.NoError(t, err)
		assert.Equal(t, v, got)
		// yopass hands the message back as it was stored, but a JSON
		// round trip or a trimmed newline must not matter.
		got, err = pgpUnarmor(strings.TrimSuffix(a, "\n"))
		require.NoError(t, err)
		assert.Equal(t, v, got)
	}
	// Hello, with the checksum GnuPG writes for it (gpg --enarmor).
	got, err := pgpUnarmor("-----BEGIN PGP MESSAGE-----\n\nSGVsbG8=\n=EHJM\n-----END PGP MESSAGE-----\n")
	require.NoError(t, err)
	assert.Equal(t, "Hello", got)
	_, err = pgpUnarmor("-----BEGIN PGP MESSAGE-----\n\nSGVsbG8=\n=AAAA\n-----END PGP MESSAGE-----\n")
	require.Error(t, err, "a wrong checksum")
	_, err = pgpUnarmor("Hello")
	require.Error(t, err)
}

func TestValidPeerKey(t *testing.T) {
	for _, k := range []string{"2PryPe9ykvA7Evs9PC7ehn", "84619cd2-44f9-4350-a8d9-a5cda077787d"} {
		assert.True(t, validPeerKey(k), k)
	}
	for _, k := range []string{"", "a/b", "a b", "../x", "a?b", strings.Repeat("a", 101)} {
		assert.False(t, validPeerKey(k), "%q", k)
	}
}

// fakePeer serves the routes of a peer as its source has them (see the
// adapters' comments): yopass's /create/secret and /secret/{key}, or
// ots's /api/create and /api/get/{id}. Like fakeAPI, it tests loadgen's
// side; its fault makes it lie in a way loadgen must catch.
type fakePeer struct {
	mu      sync.Mutex
	secrets map[string]string
	seq     atomic.Int64
	keep    bool // a reveal does not consume the secret
}

func (f *fakePeer) put(v string) string {
	k := fmt.Sprintf("k%d-X", f.seq.Add(1))
	f.mu.Lock()
	f.secrets[k] = v
	f.mu.Unlock()
	return k
}

func (f *fakePeer) take(k string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.secrets[k]
	if !f.keep {
		delete(f.secrets, k)
	}
	return v, ok
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakePeer) yopass() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /create/secret", func(w http.ResponseWriter, r *http.Request) {
		var s struct {
			Expiration int32  `json:"expiration"`
			Message    string `json:"message"`
			OneTime    bool   `json:"one_time"`
		}
		if json.NewDecoder(r.Body).Decode(&s) != nil || s.Expiration != 3600 || !s.OneTime {
			reply(w, 400, map[string]string{"message": "Invalid expiration specified"})
			return
		}
		if _, err := pgpUnarmor(s.Message); err != nil {
			reply(w, 400, map[string]string{"message": "Message must be PGP encrypted"})
			return
		}
		b, _ := json.Marshal(s)
		reply(w, 200, map[string]string{"message": f.put(string(b))})
	})
	mux.HandleFunc("GET /secret/{key}", func(w http.ResponseWriter, r *http.Request) {
		v, ok := f.take(r.PathValue("key"))
		if !ok {
			reply(w, 404, map[string]string{"message": "Secret not found"})
			return
		}
		w.Write([]byte(v))
	})
	return mux
}

func (f *fakePeer) ots() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /api/create", func(w http.ResponseWriter, r *http.Request) {
		var s struct {
			Secret string `json:"secret"`
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.NewDecoder(r.Body).Decode(&s) != nil ||
			s.Secret == "" || r.URL.Query().Get("expire") != "3600" {
			reply(w, 400, map[string]any{"success": false, "error": "e1"})
			return
		}
		reply(w, 201, map[string]any{"success": true, "secret_id": f.put(s.Secret), "expires_at": "2026-01-01T00:00:00Z"})
	})
	mux.HandleFunc("GET /api/get/{id}", func(w http.ResponseWriter, r *http.Request) {
		v, ok := f.take(r.PathValue("id"))
		if !ok {
			reply(w, 404, map[string]any{"success": false, "error": "e2"})
			return
		}
		reply(w, 200, map[string]any{"success": true, "secret": v})
	})
	return mux
}

func TestPeers(t *testing.T) {
	for _, api := range []string{APIYopass, APIOts} {
		for _, client := range []string{"raw", "std"} {
			t.Run(api+"/"+client, func(t *testing.T) {
				f := &fakePeer{secrets: map[string]string{}}
				h := map[string]http.Handler{APIYopass: f.yopass(), APIOts: f.ots()}[api]
				srv := httptest.NewServer(h)
				defer srv.Close()
				for _, mode := range []string{"pair", "share", "reveal"} {
					rep := runAPI(t, srv.URL, "-api", api, "-client", client, "-mode", mode, "-n", "100", "-c", "4", "-recheck")
					assert.True(t, rep.OK(), "%s: %+v", mode, rep.ErrorKinds)
					assert.Equal(t, int64(100), rep.Ops)
					assert.Equal(t, api, rep.API)
				}
				f.mu.Lock()
				assert.Len(t, f.secrets, 100, "the shares of share mode remain; every revealed one is gone")
				f.mu.Unlock()

				// A peer that does not consume a revealed secret fails
				// the recheck.
				f.keep = true
				rep := runAPI(t, srv.URL, "-api", api, "-client", client, "-mode", "pair", "-n", "20", "-c", "2", "-recheck")
				assert.False(t, rep.OK())
				assert.Equal(t, int64(20), rep.WrongValues)
			})
		}
	}
}

func TestPeerConfig(t *testing.T) {
	for _, bad := range [][]string{
		{"-api", "yopass", "-mode", "generate"},
		{"-api", "ots", "-passphrase"},
		{"-api", "ots", "-burst", "2"},
		{"-api", "yopass", "-guess", "2"},
		{"-api", "yopass", "-auth", "a:b"},
		{"-api", "vault"},
	} {
		_, err := ParseFlags(append([]string{"-n", "1"}, bad...), nil)
		assert.Error(t, err, "%q", bad)
	}
	cfg, err := ParseFlags([]string{"-n", "1"}, nil)
	require.NoError(t, err)
	assert.Equal(t, APIOnetime, cfg.API)
}
