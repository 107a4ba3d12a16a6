package onetime

import (
	"strings"
	"testing"
)

func TestKeyPair(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		sk, mk := newKeyPair()
		for _, k := range []string{sk, mk} {
			if !validKey(k) {
				t.Fatalf("key %q: want %d characters of [0-9a-z]", k, KeyLen)
			}
			if seen[k] {
				t.Fatal("duplicate key")
			}
			seen[k] = true
		}
		if keyTag(sk) != keyTag(mk) {
			t.Fatal("the keys of a pair must share their tag")
		}
		if sk[:keyBodyLen] == mk[:keyBodyLen] {
			t.Fatal("the keys of a pair share their random body")
		}
	}
}

// TestRandomBase36Uniform is a coarse check that rejection sampling leaves
// no character favoured (a modulo bias would favour the first 4 by ~14%).
func TestRandomBase36Uniform(t *testing.T) {
	const n = 360000
	buf := make([]byte, n)
	randomBase36(buf)
	var counts [256]int
	for _, c := range buf {
		counts[c]++
	}
	want := n / 36
	for _, c := range []byte(keyAlphabet) {
		if d := counts[c] - want; d > want/20 || d < -want/20 {
			t.Errorf("%q drawn %d times, want %d ± 5%%", c, counts[c], want)
		}
	}
}

func TestValidKey(t *testing.T) {
	sk, _ := newKeyPair()
	for _, bad := range []string{"", sk[1:], sk + "a", strings.ToUpper(sk), sk[:10] + "/" + sk[11:], sk[:10] + "é" + sk[12:]} {
		if validKey(bad) {
			t.Errorf("validKey(%q) = true", bad)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	for length := MinPasswordLength; length <= MaxPasswordLength; length++ {
		for range 20 {
			p := string(generatePassword(length))
			if len(p) != length {
				t.Fatalf("len = %d, want %d", len(p), length)
			}
			for _, set := range []string{genUpper, genLower, genDigits, genSymbols} {
				if !strings.ContainsAny(p, set) {
					t.Fatalf("%q lacks a character of %q", p, set)
				}
			}
			if strings.ContainsAny(p, "ilo1IO0") {
				t.Fatalf("%q holds a look-alike", p)
			}
			for _, c := range p {
				if !strings.ContainsRune(genAll, c) {
					t.Fatalf("%q holds %q, outside the alphabet", p, c)
				}
			}
		}
	}
}
