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
	f.Fuzz(func(t *testing.T, contentType, query string, body []byte) {
		p, err := parseParams(contentType, query, bytes.NewReader(body))
		if err != nil {
			if err != errBadBody && err != errBadQuery {
				t.Fatalf("error %v", err)
			}
			return
		}
		for name, vs := range p {
			if canonicalName(name) != name {
				t.Fatalf("name %q kept", name)
			}
			if len(vs) == 0 || len(vs) > maxValues {
				t.Fatalf("%d values for %q", len(vs), name)
			}
			for _, v := range vs {
				if v == "" {
					t.Fatalf("empty value kept for %q", name)
				}
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
		if strings.TrimSpace(s) == "" || !isDecimalNumber(strings.TrimSpace(s)) {
			t.Fatalf("%q accepted as %d", s, n)
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
	f.Fuzz(func(t *testing.T, method, target, contentType, auth string, body []byte) {
		fuzzOnce.Do(func() {
			svc, err := onetime.New(memory.New(), testSecret, &onetime.Options{
				MaxSize: 1024, SweepInterval: -1, KDFConcurrency: 1, Logger: discardLogger()})
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
		if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("invalid JSON %q", b)
		}
		switch res.StatusCode {
		case 200:
			if b[0] != '{' && b[0] != '[' {
				t.Fatalf("success %s", b)
			}
			if res.Header.Get("X-OTS-Intended-Status") != "" {
				t.Fatal("success with an intended status")
			}
		case 404:
			var e struct {
				Message *string `json:"message"`
			}
			if json.Unmarshal(b, &e) != nil || e.Message == nil || *e.Message == "" {
				t.Fatalf("error %s", b)
			}
			switch is := res.Header.Get("X-OTS-Intended-Status"); is {
			case "400", "401", "404", "413", "429":
			default:
				t.Fatalf("intended status %q for %s", is, b)
			}
		default:
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
