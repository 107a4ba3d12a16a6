package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/zk"
)

// The zero-knowledge fuzz targets share one handler over a real Service,
// and one link with a passphrase, derived once (PBKDF2 is slow on
// purpose): its key is fixed, so that the seeds hold its right proofs.
var (
	zkFuzzOnce sync.Once
	zkFuzz     struct {
		h   http.Handler
		svc *onetime.Service
		l   zkLink
	}
)

func zkFuzzSetup() {
	zkFuzzOnce.Do(func() {
		svc, err := onetime.New(memory.New(), testSecret, &onetime.Options{
			MaxSize: 4096, KDFConcurrency: 1, Logger: discardLogger()})
		if err != nil {
			panic(err)
		}
		zkFuzz.svc = svc
		zkFuzz.h, _ = New(svc, &Options{Auth: access.NewBasicAuth(testUsers), Logger: discardLogger(), GuessLimiter: access.NoGuessLimit})
		var k zk.Key
		for i := range k {
			k[i] = byte(i * 7)
		}
		d, err := zk.Derive(k, "fuzzy passphrase")
		if err != nil {
			panic(err)
		}
		zkFuzz.l = zkLink{key: k, d: d}
	})
}

// zkServe sends one request to the fuzz handler and checks that the
// answer is a v1 success or a v1 error, never an unexpected one.
func zkServe(t *testing.T, method, target, contentType string, body []byte) (int, []byte) {
	u, err := url.ParseRequestURI(target)
	require.NoError(t, err)
	r := &http.Request{Method: method, URL: u, Header: http.Header{}, Body: http.NoBody,
		RemoteAddr: "192.0.2.1:1234", Host: "example.com", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	r = r.WithContext(t.Context())
	if len(body) > 0 {
		r.Body = nopCloser{bytes.NewReader(body)}
		r.ContentLength = int64(len(body))
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	zkFuzz.h.ServeHTTP(w, r)
	switch w.Code {
	case 200:
	case 404:
		require.Contains(t, []string{"400", "404", "413"}, w.Header().Get("X-OTS-Intended-Status"), "%s", w.Body.Bytes())
	default:
		t.Fatalf("status %d: %s", w.Code, w.Body.Bytes())
	}
	return w.Code, w.Body.Bytes()
}

// zkShare shares value in the zero-knowledge mode with the fuzz link and
// returns its secret key.
func zkShare(t *testing.T, value string) string {
	t.Helper()
	code, b := zkServe(t, "POST", "/api/v1/share", "application/x-www-form-urlencoded",
		[]byte(zkFuzz.l.shareForm(t, value, nil)))
	require.Equal(t, 200, code, "%s", b)
	return parseObj(t, b).str(t, "secret_key")
}

// FuzzZeroKnowledgeReveal sends any reveal to a fresh zk1 secret: it is
// answered 200 only with a value that opens with the link's key (the
// right proof was presented), and otherwise the secret is still there
// for the reader who holds the proof: a reveal without it consumes
// nothing, and one wrong passphrase proof burns nothing.
func FuzzZeroKnowledgeReveal(f *testing.F) {
	zkFuzzSetup()
	p := zkFuzz.l.d.Proof()
	key, pass := zk.EncodeBytes(p.Key), zk.EncodeBytes(p.Passphrase)
	f.Add("application/x-www-form-urlencoded", []byte("proof="+key+"&passphrase_proof="+pass))
	f.Add("application/json", []byte(`{"proof":"`+key+`","passphrase_proof":"`+pass+`"}`))
	f.Add("", []byte("proof="+key))
	f.Add("", []byte("proof="+key+"&passphrase_proof="+key))
	f.Add("", []byte("passphrase_proof="+pass))
	f.Add("", []byte("proof="+key+"&passphrase_proof="+pass+"&passphrase=fuzzy+passphrase"))
	f.Add("", []byte("passphrase=fuzzy+passphrase"))
	f.Add("application/json", []byte(`{"proof":["`+key+`"],"passphrase_proof":null}`))
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"proof\"\r\n\r\n"+key+"\r\n--b--\r\n"))
	f.Add("", []byte(nil))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		zkFuzzSetup()
		sk := zkShare(t, "fuzzed value")
		path := "/api/v1/secret/" + sk
		code, b := zkServe(t, "POST", path, contentType, body)
		if code == 200 {
			require.Equal(t, "fuzzed value", zkFuzz.l.open(t, parseObj(t, b).str(t, "value")))
			return
		}
		st, err := zkFuzz.svc.Status(context.Background(), onetime.SecretKey(sk))
		require.NoError(t, err, "the secret survives a reveal without its proof")
		require.GreaterOrEqual(t, st.AttemptsLeft, onetime.DefaultMaxAttempts-1)
		code, b = zkServe(t, "POST", path, "", []byte(zkFuzz.l.revealForm()))
		require.Equal(t, 200, code, "%s", b)
	})
}

// FuzzZeroKnowledgeShare sends any share: whatever it stores in the
// zero-knowledge mode opens to no reveal that lacks the proof.
func FuzzZeroKnowledgeShare(f *testing.F) {
	zkFuzzSetup()
	v := zkFuzz.l.d.Verifier()
	key, pass := zk.EncodeBytes(v.Key), zk.EncodeBytes(v.Passphrase)
	sealed, err := zkFuzz.l.d.Seal([]byte("x"))
	require.NoError(f, err)
	f.Add("", []byte("secret="+sealed+"&proof_verifier="+key+"&passphrase_verifier="+pass))
	f.Add("application/json", []byte(`{"secret":"`+sealed+`","proof_verifier":"`+key+`"}`))
	f.Add("", []byte("secret="+sealed+"&passphrase_verifier="+pass))
	f.Add("", []byte("secret="+sealed+"&proof_verifier="+key+"&passphrase=x"))
	f.Add("", []byte("secret=zk1.&proof_verifier="+key))
	f.Add("", []byte("secret="+sealed+"&proof_verifier="+key+"=&ttl=60"))
	f.Add("", []byte("secret=plain&proof_verifier="))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		zkFuzzSetup()
		code, b := zkServe(t, "POST", "/api/v1/share", contentType, body)
		if code != 200 {
			return
		}
		sk := onetime.SecretKey(parseObj(t, b).str(t, "secret_key"))
		st, err := zkFuzz.svc.Status(context.Background(), sk)
		require.NoError(t, err)
		if !st.ZeroKnowledge {
			return
		}
		code, _ = zkServe(t, "POST", "/api/v1/secret/"+string(sk), "", nil)
		require.Equal(t, 404, code, "a zk1 secret revealed without its proof")
		_, err = zkFuzz.svc.Status(context.Background(), sk)
		require.NoError(t, err, "and left as it was")
	})
}
