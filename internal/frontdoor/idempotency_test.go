package frontdoor

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdempotencyKey(t *testing.T) {
	long := strings.Repeat("k", MaxIdempotencyKeyLen)
	for _, tc := range []struct {
		header []string // nil: no header
		want   string
	}{
		{nil, ""},
		{[]string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`}, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
		{[]string{`8e03978e-40d5-43e8-bc93-6894a57f9324`}, "8e03978e-40d5-43e8-bc93-6894a57f9324"},
		{[]string{` "abc" `}, "abc"},
		{[]string{`"a b"`}, "a b"},
		{[]string{`"a\"b\\c"`}, `a"b\c`},
		{[]string{`k`}, "k"},
		{[]string{`a"b`}, `a"b`},
		{[]string{long}, long},
		{[]string{`"` + long + `"`}, long},
		{[]string{`"` + long[1:] + `\\"`}, long[1:] + `\`},
	} {
		h := http.Header{}
		for _, v := range tc.header {
			h.Add("Idempotency-Key", v)
		}
		got, err := IdempotencyKey(h)
		require.NoError(t, err, "%q", tc.header)
		assert.Equal(t, tc.want, got, "%q", tc.header)
	}
	for _, bad := range [][]string{
		{""}, {`""`}, {`"`}, {`"abc`}, {`"x" y`}, {`"ab"c`}, {`"a"b"`}, {`"a\b"`}, {`"a\"`},
		{"a b"}, {"caf\u00e9"}, {`"caf` + "\u00e9" + `"`}, {"a\x01"}, {`"a` + "\t" + `b"`},
		{long + "k"}, {`"` + long + `k"`}, {`"` + long + `\\"`},
		{"a", "b"}, {`"a"`, `"a"`},
		{`"abc";p=1`},
	} {
		h := http.Header{}
		for _, v := range bad {
			h.Add("Idempotency-Key", v)
		}
		_, err := IdempotencyKey(h)
		assert.ErrorIs(t, err, ErrBadIdempotencyKey, "%q", bad)
	}
}

func TestValidIdempotencyKey(t *testing.T) {
	assert.True(t, ValidIdempotencyKey("ABCDEFGHJKMNPQRSTVWXYZ2345"))
	assert.True(t, ValidIdempotencyKey("!~"))
	for _, bad := range []string{"", " ", "a b", "a\n", "\x7f", "é", strings.Repeat("k", MaxIdempotencyKeyLen+1)} {
		assert.False(t, ValidIdempotencyKey(bad), "%q", bad)
	}
}

// The pages' nonce is one of the parameters read, from forms as from JSON.
func TestParamNonce(t *testing.T) {
	p, err := ParseParams("application/x-www-form-urlencoded", "", strings.NewReader("nonce=N1&secret=s"), -1)
	require.NoError(t, err)
	assert.Equal(t, "N1", p.Get(ParamNonce))
	p, err = ParseParams("application/json", "", strings.NewReader(`{"nonce":"N2"}`), -1)
	require.NoError(t, err)
	assert.Equal(t, "N2", p.Get(ParamNonce))
}
