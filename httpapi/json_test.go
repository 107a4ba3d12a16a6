package httpapi

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
)

// jsonStrings are texts that take each path of appendString.
var jsonStrings = []string{
	"", "anon", "plain text", `"quoted" \back\slash/`, "<script>&amp;</script>",
	"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f", "héllo wörld ✓ 日本語 🙂",
	"line\u2028para\u2029end", "bad \xff utf-8 \xc3", "\xe2\x80", "\xed\xa0\x80 surrogate",
	strings.Repeat("long value ", 500),
}

// TestAppendStringIsMarshal holds appendString to encoding/json, byte for
// byte.
func TestAppendStringIsMarshal(t *testing.T) {
	for _, s := range jsonStrings {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(appendString([]byte("x"), s))[1:], "%q", s)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		got := appendString(nil, s)
		require.Equal(t, string(want), string(got))
		require.True(t, utf8.Valid(got))
		require.Equal(t, string(want), string(appendString(nil, []byte(s))))
	})
}

// TestAnswersAreMarshal holds every answer's appendJSON to encoding/json's
// encoding of the same value, byte for byte: receipts of every state and
// mode, with and without owner, recipients, share domain, passphrase and
// value, reveals, burns, lists and errors.
func TestAnswersAreMarshal(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var metas []*onetime.Metadata
	for _, st := range []onetime.State{onetime.StateNew, onetime.StateViewed, onetime.StateReceived,
		onetime.StateBurned, onetime.StateExpired, onetime.StateOrphaned} {
		for i, s := range jsonStrings[:8] {
			m := &onetime.Metadata{
				MetadataKey: onetime.MetadataKey(strings.Repeat("m", onetime.KeyLen)),
				SecretKey:   onetime.SecretKey(strings.Repeat("s", onetime.KeyLen)),
				State:       st, Owner: s, ShareDomain: jsonStrings[(i+3)%len(jsonStrings)],
				TTL: time.Duration(i) * 1500 * time.Millisecond, MetadataTTL: 2 * time.Hour, SecretTTL: time.Duration(i*300) * time.Second,
				Created: now, Updated: now.Add(time.Minute), PassphraseRequired: i%2 == 1,
			}
			switch st {
			case onetime.StateReceived:
				m.Received = now.Add(time.Hour)
			case onetime.StateBurned:
				m.Burned = now.Add(time.Hour)
			}
			if i%3 == 0 {
				m.Recipients = []string{"a*****@e*****.com", s}
			}
			if i%4 == 1 {
				m.Value = []byte(s + "#!")
			}
			if i == 7 {
				m.TTL, m.SecretTTL = -time.Second, math.MaxInt64
			}
			metas = append(metas, m)
		}
	}
	check := func(v jsonAppender) {
		t.Helper()
		want, err := json.Marshal(v)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(v.appendJSON(nil)))
	}
	var list receiptList
	for _, m := range metas {
		for _, mode := range []receiptMode{modeReceipt, modeGenerate, modeRecent} {
			r := newReceipt(m, mode)
			check(&r)
			check(&burned{State: &r, ShortKey: string(m.SecretKey[:6])})
			list = append(list, r)
		}
	}
	check(receiptList(list))
	check(receiptList{})
	check(receiptList(nil))
	check(&burned{})
	check(&receipt{}) // nil Recipient, as encoding/json writes it
	for _, s := range jsonStrings {
		check(&revealed{Value: text(s), SecretKey: strings.Repeat("k", onetime.KeyLen), ShareDomain: s})
		check(&errorBody{Message: s, SecretKey: s})
		check(&errorBody{Message: s})
	}
}
