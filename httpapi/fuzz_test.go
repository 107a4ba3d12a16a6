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
	"github.com/onetimego/onetime/store/memory"
)

// The seed corpus is in testdata/fuzz; go test runs it.

// FuzzParams feeds parameter parsing arbitrary content types, query
// strings and bodies: it must not panic, must keep only known names and
// non-empty values, each name bounded, and fail only as a malformed body.
func FuzzParams(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "secret=a&ttl=60", []byte("secret=b&recipient[]=x%40y.z"))
	f.Add("application/json", "ttl=1", []byte(`{"secret":"x","ttl":1e3,"recipient":["a","",null,{"b":1}]}`))
	f.Add("multipart/form-data; boundary=X", "", []byte("--X\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nv\r\n--X--\r\n"))
	f.Add("", "", []byte(` {"passphrase":"p"}`))
	f.Add("", "passphrase=a;b&x%zz=%zz", []byte("secret=100%&ttl=60;"))
	f.Add("multipart/form-data", "secret=q", []byte(nil))
	f.Add("application/json", "", []byte(`{"secret":"\ud800","kk":{"a":[[[]]]},"recipient":[1,true,null,"x"]}`))
	f.Add("", "", []byte("{\"secret\":\"\xff\\ud83d\\ude00\"}"))
	f.Add("application/json", "", []byte(`{"kk":0,"kk":0,"kk":0} `))
	f.Add("", "", []byte(" \r\n\tsecret=x&ttl=60"))
	f.Add("text/plain", "", []byte("\n {\"secret\":\"y\"}\n"))
	f.Fuzz(func(t *testing.T, contentType, query string, body []byte) {
		p, err := parseParams(contentType, query, bytes.NewReader(body), -1)
		// A body of a known length is read whole rather than streamed:
		// the same parameters, or the same error, either way.
		pl, errl := parseParams(contentType, query, bytes.NewReader(body), int64(len(body)))
		require.Equal(t, err, errl, "error with the body's length known")
		require.Equal(t, p, pl, "parameters with the body's length known")
		if err != nil {
			require.True(t, err == errBadBody || err == errBadQuery, "error %v", err)
			return
		}
		for name, vs := range p {
			require.Equal(t, name, canonicalName(name), "name kept")
			require.NotEmpty(t, vs, name)
			require.LessOrEqual(t, len(vs), maxValues, name)
			for _, v := range vs {
				require.NotEmpty(t, v, "empty value kept for %q", name)
			}
		}
		for _, name := range []string{pTTL, pLength} {
			if s := p.get(name); s != "" {
				parseInt(s) // must not panic
			}
		}
	})
}

// FuzzParseInt checks the integer parser against its contract.
func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-1", "+5", " 60 ", "1e3", "3600.0", "1.5", "0x10", "1_000", "9999999999999999999999", "-1e400", "NaN", "inf", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := parseInt(s)
		if !ok {
			return
		}
		require.True(t, isDecimalNumber(strings.TrimSpace(s)), "%q accepted as %d", s, n)
	})
}

// FuzzJSON checks the streaming JSON reader against encoding/json: every
// body it accepts is valid JSON (an object or null, or empty), and each
// string it keeps is what encoding/json reads, except where encoding/json
// would replace invalid UTF-8 or a lone surrogate with U+FFFD: there the
// value kept is not valid UTF-8 (and a secret holding it is refused).
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"secret":"x","ttl":60}`, `{"secret":"\u00e9\ud83d\ude00\n"}`, `{"secret":"\ud800"}`, "{\"secret\":\"\xff\"}",
		`{"recipient":["a","b",null,1.5e3,true,{"x":[]},[["y"]]]}`, `{"a":{"b":{"c":[1,2,{"d":"e"}]}},"passphrase":"p"}`,
		`null`, ``, ` `, `{}`, `[]`, `{"secret":"a"} {}`, `{"secret":"a"`, `{"kk":0,"kk":0}`,
		`{"secret":"\udc00\ud800\udc00"}`, `{"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := params{}
		err := parseJSON(p, bytes.NewReader(body))
		if err != nil {
			require.ErrorIs(t, err, errBadBody)
			return
		}
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 {
			require.Empty(t, p)
			return
		}
		require.True(t, json.Valid(trimmed), "accepted invalid JSON %q", body)
		var obj map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(trimmed, &obj))
		for name, vs := range p {
			require.Equal(t, name, canonicalName(name))
			if len(vs) != 1 {
				continue // an array, or a name repeated
			}
			raw, ok := obj[name]
			if !ok || name == pRecipient || string(raw) == "null" {
				continue // sent as recipient[], or repeated (the last one null)
			}
			var want string
			if json.Unmarshal(raw, &want) != nil {
				continue // a number or a boolean
			}
			if utf8.ValidString(vs[0]) {
				require.Equal(t, want, vs[0], "value of %q", name)
			} else {
				require.Contains(t, want, "\uFFFD")
			}
		}
	})
}

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
	f.Fuzz(func(t *testing.T, method, target, contentType, auth string, body []byte) {
		fuzzOnce.Do(func() {
			svc, err := onetime.New(memory.New(), testSecret, &onetime.Options{
				MaxSize: 1024, KDFConcurrency: 1, Logger: discardLogger()})
			if err != nil {
				panic(err)
			}
			fuzzHandler, _ = New(svc, &Options{Auth: NewBasicAuth(testUsers), Logger: discardLogger()})
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
