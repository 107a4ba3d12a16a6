package zk

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

// vector is one test vector of the format, shared with the pages' tests
// (the browser derives and opens the same values with WebCrypto).
type vector struct {
	Fragment           string `json:"fragment"`
	Passphrase         string `json:"passphrase"`
	Nonce              string `json:"nonce"` // hex
	Value              string `json:"value"`
	Sealed             string `json:"sealed"`
	KeyProof           string `json:"key_proof"`
	PassphraseProof    string `json:"passphrase_proof,omitempty"`
	KeyVerifier        string `json:"key_verifier"`
	PassphraseVerifier string `json:"passphrase_verifier,omitempty"`
}

func makeVectors(t *testing.T) []vector {
	cases := []struct{ pass, value string }{
		{"", "hello"},
		{"", ""},
		{"correct horse", "the launch code is 0000"},
		{"Cafe\u0301 日本語", "value\x00with NUL and ünïcödé"}, // NFD passphrase: NFC'd before PBKDF2
	}
	var out []vector
	for i, c := range cases {
		var k Key
		for j := range k {
			k[j] = byte(i*31 + j)
		}
		var nonce [12]byte
		for j := range nonce {
			nonce[j] = byte(0xa0 + i + j)
		}
		d, err := Derive(k, c.pass)
		require.NoError(t, err)
		p, v := d.Proof(), d.Verifier()
		vec := vector{
			Fragment: k.Fragment(), Passphrase: c.pass, Nonce: hex.EncodeToString(nonce[:]),
			Value: c.value, Sealed: d.sealWith(nonce, []byte(c.value)),
			KeyProof: EncodeBytes(p.Key), KeyVerifier: EncodeBytes(v.Key),
		}
		if p.Passphrase != nil {
			vec.PassphraseProof, vec.PassphraseVerifier = EncodeBytes(p.Passphrase), EncodeBytes(v.Passphrase)
		}
		out = append(out, vec)
	}
	return out
}

// TestVectors pins the format: a change to any derivation or encoding
// shows here, and in the browser, which reads the same file.
func TestVectors(t *testing.T) {
	got := makeVectors(t)
	b, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	b = append(b, '\n')
	if *update {
		require.NoError(t, os.WriteFile("testdata/vectors.json", b, 0o644))
	}
	want, err := os.ReadFile("testdata/vectors.json")
	require.NoError(t, err)
	assert.Equal(t, string(want), string(b), "the format changed: that needs a new Scheme, not new vectors")

	for _, v := range got {
		k, err := ParseKey(v.Fragment)
		require.NoError(t, err)
		d, err := Derive(k, v.Passphrase)
		require.NoError(t, err)
		plain, err := d.Open(v.Sealed)
		require.NoError(t, err)
		assert.Equal(t, v.Value, string(plain))
		assert.True(t, IsSealed(v.Sealed))
	}
}

func TestRoundTripAndWrongInputs(t *testing.T) {
	k, err := NewKey()
	require.NoError(t, err)
	d, err := Derive(k, "pass")
	require.NoError(t, err)
	sealed, err := d.Seal([]byte("secret value"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(sealed, "zk1."))
	assert.NotContains(t, sealed, "secret value")

	got, err := d.Open(sealed)
	require.NoError(t, err)
	assert.Equal(t, "secret value", string(got))

	// Wrong passphrase: another encryption key and another passphrase
	// proof, the same key proof (the server tells the two apart).
	wrong, err := Derive(k, "Pass")
	require.NoError(t, err)
	_, err = wrong.Open(sealed)
	require.ErrorIs(t, err, ErrSealed)
	assert.Equal(t, d.Proof().Key, wrong.Proof().Key)
	assert.NotEqual(t, d.Proof().Passphrase, wrong.Proof().Passphrase)

	// Another key: nothing in common.
	k2, err := NewKey()
	require.NoError(t, err)
	other, err := Derive(k2, "pass")
	require.NoError(t, err)
	_, err = other.Open(sealed)
	require.ErrorIs(t, err, ErrSealed)
	assert.NotEqual(t, d.Proof().Key, other.Proof().Key)

	// Tampering and malformed values.
	for _, bad := range []string{"", "zk1.", "zk2." + sealed[4:], sealed[:len(sealed)-1], sealed + "A", "zk1.!!!!"} {
		_, err := d.Open(bad)
		assert.ErrorIs(t, err, ErrSealed, "%q", bad)
	}
	flipped := []byte(sealed)
	flipped[10] ^= 1
	if flipped[10] == '.' || flipped[10] > 'z' {
		flipped[10] = 'A'
	}
	_, err = d.Open(string(flipped))
	assert.ErrorIs(t, err, ErrSealed)
}

func TestNoPassphraseHasNoPassphraseProof(t *testing.T) {
	k, err := NewKey()
	require.NoError(t, err)
	d, err := Derive(k, "")
	require.NoError(t, err)
	assert.Nil(t, d.Proof().Passphrase)
	assert.Nil(t, d.Verifier().Passphrase)
	assert.True(t, d.Proof().Valid())
	assert.True(t, d.Verifier().Valid())
	assert.Equal(t, d.Verifier(), d.Proof().Verifier())
	assert.NotEqual(t, d.Proof().Key, d.Verifier().Key)
}

func TestParseKey(t *testing.T) {
	k, err := NewKey()
	require.NoError(t, err)
	got, err := ParseKey(k.Fragment())
	require.NoError(t, err)
	assert.Equal(t, k, got)
	assert.Len(t, k.Fragment(), 43)
	for _, bad := range []string{"", "abc", k.Fragment() + "=", k.Fragment()[:42] + "+", k.Fragment() + "A", strings.Repeat("/", 43)} {
		_, err := ParseKey(bad)
		assert.ErrorIs(t, err, ErrKey, "%q", bad)
	}
	// The last character carries 2 spare bits: a non-canonical one is
	// refused, so that one key has one text.
	frag := []byte(k.Fragment())
	frag[42] = b64Alphabet[strings.IndexByte(b64Alphabet, frag[42])|1]
	if string(frag) != k.Fragment() {
		_, err = ParseKey(string(frag))
		assert.ErrorIs(t, err, ErrKey)
	}
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestKeyNeverPrinted(t *testing.T) {
	k, err := NewKey()
	require.NoError(t, err)
	frag := k.Fragment()
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %s %#v", k, k, k), buf.String()} {
		assert.NotContains(t, s, frag)
	}
}

func TestDecodeBytes(t *testing.T) {
	b := bytes.Repeat([]byte{7}, 32)
	assert.Equal(t, b, DecodeBytes(EncodeBytes(b)))
	assert.Nil(t, DecodeBytes(EncodeBytes(b[:31])))
	assert.Nil(t, DecodeBytes(EncodeBytes(b)+"="))
	assert.Nil(t, DecodeBytes(""))
}

func BenchmarkDerive(b *testing.B) {
	k, _ := NewKey()
	for _, pass := range []string{"", "correct horse"} {
		name := "no-passphrase"
		if pass != "" {
			name = "passphrase"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Derive(k, pass); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSealOpen(b *testing.B) {
	k, _ := NewKey()
	d, _ := Derive(k, "")
	value := bytes.Repeat([]byte("x"), 100)
	for b.Loop() {
		s, err := d.Seal(value)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Open(s); err != nil {
			b.Fatal(err)
		}
	}
}
