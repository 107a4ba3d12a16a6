package frontdoor

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// The seed corpus is in testdata/fuzz; go test runs it.

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
		p, err := ParseParams(contentType, query, bytes.NewReader(body), -1)
		// A body of a known length is read whole rather than streamed:
		// the same parameters, or the same error, either way.
		pl, errl := ParseParams(contentType, query, bytes.NewReader(body), int64(len(body)))
		require.Equal(t, err, errl, "error with the body's length known")
		require.Equal(t, p, pl, "parameters with the body's length known")
		if err != nil {
			require.True(t, err == ErrBadBody || err == ErrBadQuery, "error %v", err)
			return
		}
		for name, vs := range p.All() {
			require.Equal(t, name, canonicalName(name), "name kept")
			require.NotEmpty(t, vs, name)
			require.LessOrEqual(t, len(vs), maxValues, name)
			for _, v := range vs {
				require.NotEmpty(t, v, "empty value kept for %q", name)
			}
		}
		for _, name := range []string{ParamTTL, ParamLength} {
			if s := p.Get(name); s != "" {
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
		var p Params
		err := parseJSON(&p, bytes.NewReader(body))
		if err != nil {
			require.ErrorIs(t, err, ErrBadBody)
			return
		}
		trimmed := bytes.TrimSpace(body)
		if len(trimmed) == 0 {
			require.Zero(t, p.Len())
			return
		}
		require.True(t, json.Valid(trimmed), "accepted invalid JSON %q", body)
		var obj map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(trimmed, &obj))
		for name, vs := range p.All() {
			require.Equal(t, name, canonicalName(name))
			if len(vs) != 1 {
				continue // an array, or a name repeated
			}
			raw, ok := obj[name]
			if !ok || name == ParamRecipient || string(raw) == "null" {
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
