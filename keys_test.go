package onetime

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyPair(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		sk, mk := newKeyPair(randomSource)
		for _, k := range []string{sk, mk} {
			require.True(t, validKey(k), "key %q: want %d characters of [0-9a-z]", k, KeyLen)
			require.False(t, seen[k], "duplicate key")
			seen[k] = true
		}
		require.Equal(t, keyTag(sk), keyTag(mk), "the keys of a pair must share their tag")
		require.NotEqual(t, sk[:keyBodyLen], mk[:keyBodyLen], "the keys of a pair share their random body")
	}
}

// TestRandomBase36Uniform is a coarse check that rejection sampling leaves
// no character favoured (a modulo bias would favour the first 4 by ~14%).
func TestRandomBase36Uniform(t *testing.T) {
	const n = 360000
	buf := make([]byte, n)
	randomBase36(buf, randomSource)
	var counts [256]int
	for _, c := range buf {
		counts[c]++
	}
	want := n / 36
	for _, c := range []byte(keyAlphabet) {
		assert.InDelta(t, want, counts[c], float64(want/20), "%q drawn %d times, want %d ± 5%%", c, counts[c], want)
	}
}

// TestBase36: one character per byte below 252, none for the bytes above,
// and no more than dst holds.
func TestBase36(t *testing.T) {
	src := []byte{0, 35, 36, 251, 252, 255, 71, 1}
	dst := make([]byte, 10)
	require.Equal(t, 6, base36(dst, src))
	assert.Equal(t, "0z0zz1", string(dst[:6])) // 0, 35, 36, 251, 71, 1 modulo 36
	short := make([]byte, 3)
	require.Equal(t, 3, base36(short, src))
	assert.Equal(t, "0z0", string(short))
	assert.Zero(t, base36(dst, []byte{252, 253, 254, 255}))
}

func TestValidKey(t *testing.T) {
	sk, _ := newKeyPair(randomSource)
	require.True(t, validKey(sk))
	for _, bad := range []string{"", sk[1:], sk + "a", strings.ToUpper(sk), sk[:10] + "/" + sk[11:], sk[:10] + "é" + sk[12:]} {
		assert.False(t, validKey(bad), "validKey(%q)", bad)
	}
}

func TestGeneratePassword(t *testing.T) {
	for length := MinPasswordLength; length <= MaxPasswordLength; length++ {
		for range 20 {
			p := string(generatePassword(length, randomSource))
			require.Len(t, p, length)
			for _, set := range []string{genUpper, genLower, genDigits, genSymbols} {
				require.True(t, strings.ContainsAny(p, set), "%q lacks a character of %q", p, set)
			}
			require.False(t, strings.ContainsAny(p, "ilo1IO0"), "%q holds a look-alike", p)
			for _, c := range p {
				require.True(t, strings.ContainsRune(genAll, c), "%q holds %q, outside the alphabet", p, c)
			}
		}
	}
}

// TestIDValid: Valid's table agrees with the definition (40 lowercase
// hexadecimal digits) for every byte at every position.
func TestIDValid(t *testing.T) {
	const good = "0123456789abcdef0123456789abcdef01234567"
	require.True(t, ID(good).Valid())
	for _, id := range []ID{"", ID(good[:39]), ID(good + "0")} {
		assert.False(t, id.Valid(), "length %d", len(id))
	}
	hex := func(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }
	b := []byte(good)
	for i := range b {
		for c := range 256 {
			b[i] = byte(c)
			if ID(b).Valid() != hex(byte(c)) {
				t.Fatalf("byte %#x at %d: Valid = %v", c, i, !hex(byte(c)))
			}
		}
		b[i] = good[i]
	}
}

func BenchmarkIDValid(b *testing.B) {
	id := ID("0123456789abcdef0123456789abcdef01234567")
	for b.Loop() {
		if !id.Valid() {
			b.Fatal("not valid")
		}
	}
}
