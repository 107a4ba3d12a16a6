package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/access"
	"github.com/onetimego/onetime/store/memory"
)

// The seed corpus is in testdata/fuzz; go test runs it.

var (
	fuzzOnce    sync.Once
	fuzzHandler http.Handler
)

// FuzzHandler sends whole requests to a handler over a real Service: no
// panic, and every answer is a v1 success (200, a JSON object or array)
// or a v1 error (404, a JSON object with a message, the intended status
// in its header, never 500).
func FuzzHandler(f *testing.F) {
	f.Add("POST", "/api/v1/share?ttl=60", "", "", []byte("secret=hello"))
	f.Add("POST", "/api/v1/generate", "application/json", "", []byte(`{"length":"7","ttl":"x"}`))
	f.Add("POST", "/api/v1/secret/abc", "", "Basic YWxpY2U6YWxpY2V0b2tlbg==", []byte("passphrase=x"))
	f.Add("GET", "/api/v1/private/recent", "", "Basic YWxpY2U6YWxpY2V0b2tlbg==", []byte(nil))
	f.Add("POST", "/api/v1/metadata/abc/burn", "", "Bearer x", []byte(nil))
	f.Add("GET", "/api/v1/status", "", "", []byte(nil))
	f.Add("PUT", "/api/v1/share", "multipart/form-data; boundary=b", "", []byte("--b\r\n\r\n"))
	f.Add("POST", "/api/v1//secret/../share", "application/json", "", []byte(`{"secret":"\ud800"}`))
	f.Add("GET", "/api/v1/./private/abc", "", "", []byte(nil))
	f.Add("POST", "/api/v1", "", "", []byte(nil))
	f.Add("POST", "/api/v1/share", "", "", []byte(`{"kk":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],"secret":"x"}`))
	// The zero-knowledge fields (zk_fuzz_test.go fuzzes their meaning).
	f.Add("POST", "/api/v1/share", "", "", []byte("secret=zk1.oKGio6Slpqeoqaqrp-ohboQHwGE2_tq2joSc0K9C9qX0&proof_verifier=PUEdK91feCfaZchbJN6fAAVFqTN17zENOPMCbd0O-ao"))
	f.Add("POST", "/api/v1/create", "application/json", "", []byte(`{"secret":"zk1.x","proof_verifier":"x","passphrase_verifier":"y","passphrase":"z"}`))
	f.Add("POST", "/api/v1/secret/abc", "", "", []byte("proof=XpW1ItIoHTG53Btr3QIN3II6to55_PpuXlhGgiAxLF4&passphrase_proof=x"))
	f.Add("POST", "/api/v1/secret/abc?proof=x", "", "", []byte("passphrase=y"))
	f.Fuzz(func(t *testing.T, method, target, contentType, auth string, body []byte) {
		fuzzOnce.Do(func() {
			svc, err := onetime.New(memory.New(), testSecret, &onetime.Options{
				MaxSize: 1024, KDFConcurrency: 1, Logger: discardLogger()})
			if err != nil {
				panic(err)
			}
			fuzzHandler, _ = New(svc, &Options{Auth: access.NewBasicAuth(testUsers), Logger: discardLogger()})
		})
		u, err := url.ParseRequestURI(target)
		if err != nil || method == "" || strings.ContainsAny(method, " \t\r\n") {
			return
		}
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
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		fuzzHandler.ServeHTTP(w, r)
		res := w.Result()
		b := w.Body.Bytes()
		require.Equal(t, "application/json; charset=utf-8", res.Header.Get("Content-Type"))
		require.True(t, json.Valid(b) && utf8.Valid(b), "invalid JSON %q", b)
		require.NotEqual(t, "", res.Header.Get("X-Request-Id"))
		switch res.StatusCode {
		case 200:
			require.Contains(t, "{[", string(b[:1]), "success %s", b)
			require.Empty(t, res.Header.Get("X-OTS-Intended-Status"), "success with an intended status")
		case 404:
			var e struct {
				Message *string `json:"message"`
			}
			require.NoError(t, json.Unmarshal(b, &e), "error %s", b)
			require.NotNil(t, e.Message, "error %s", b)
			require.NotEmpty(t, *e.Message, "error %s", b)
			require.Contains(t, []string{"400", "401", "404", "413", "414", "429"}, res.Header.Get("X-OTS-Intended-Status"), "for %s", b)
		default:
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
