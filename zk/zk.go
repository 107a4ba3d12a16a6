// Package zk is the zero-knowledge format of onetime links, version 1
// ("zk1"), as docs/zero-knowledge.md specifies it: the sender encrypts the
// value with a fresh 256-bit key that travels only in the link's fragment
// (BASE/secret/SECRETKEY#FRAGMENT), which browsers never send, and the
// server stores the ciphertext with verifiers of two proofs: one that the
// reader holds the key, one that the reader knows the passphrase. A reveal
// consumes the secret only when it presents the first, and a wrong second
// is counted against the secret's attempts, as a wrong passphrase is in the
// server-side mode.
//
// The pages do the same in the browser with WebCrypto; the test vectors in
// testdata/vectors.json bind the two implementations to one format.
//
// The package uses only the standard library's primitives (AES-256-GCM,
// HKDF-SHA256, PBKDF2-HMAC-SHA256, SHA-256) and the NFC normalization of
// golang.org/x/text. It knows nothing of HTTP or of the server: package
// client and the onetime service both build on it.
package zk

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Scheme names the format: the prefix of every sealed value and the word a
// server lists in its status to say it takes zero-knowledge shares.
const Scheme = "zk1"

// KeySize is the size of a link's key, and of every proof and verifier.
const KeySize = 32

// Iterations is the PBKDF2-HMAC-SHA256 work factor applied to a
// passphrase (OWASP's figure for the function in 2023 and since).
const Iterations = 600_000

// prefix starts every sealed value.
const prefix = Scheme + "."

// The HKDF labels: each derived key has its own.
const (
	infoKeyProof        = "onetime zk1 key proof"
	infoPassphraseProof = "onetime zk1 passphrase proof"
	infoEncryption      = "onetime zk1 encryption"
	additionalData      = "onetime zk1"
)

var (
	// ErrKey means a fragment is not the text of a zk1 key.
	ErrKey = errors.New("zk: malformed link key")
	// ErrSealed means a value is not a zk1 ciphertext, or does not open
	// with the key and passphrase given.
	ErrSealed = errors.New("zk: value does not open with this key and passphrase")
)

var b64 = base64.RawURLEncoding

// A Key is a link's key: 32 random bytes, written in the link's fragment
// as unpadded base64url (43 characters). Like a secret key it is a bearer
// capability: its String and log/slog forms hide it; Fragment writes it.
type Key [KeySize]byte

// NewKey returns a fresh random key.
func NewKey() (Key, error) {
	var k Key
	if _, err := io.ReadFull(rand.Reader, k[:]); err != nil {
		return Key{}, err
	}
	return k, nil
}

// ParseKey reads a key from a link's fragment (without the '#'): exactly
// 43 characters of unpadded base64url. Any other form is [ErrKey]: a later
// version of the format would use another.
func ParseKey(fragment string) (Key, error) {
	var k Key
	if len(fragment) != b64.EncodedLen(KeySize) {
		return Key{}, ErrKey
	}
	n, err := b64.Strict().Decode(k[:], []byte(fragment))
	if err != nil || n != KeySize {
		return Key{}, ErrKey
	}
	return k, nil
}

// Fragment returns the key as the link's fragment carries it.
func (k Key) Fragment() string { return b64.EncodeToString(k[:]) }

// String hides the key, so that a key formatted by mistake leaks nothing.
func (k Key) String() string { return "[zk key]" }

// GoString hides the key from %#v as String does from %v.
func (k Key) GoString() string { return k.String() }

// LogValue keeps the key out of log/slog output.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// A Proof is what a reader presents to reveal a zero-knowledge secret.
type Proof struct {
	// Key proves that the reader holds the link's key (32 bytes).
	Key []byte
	// Passphrase proves that the reader knows the passphrase (32
	// bytes); nil when the secret has none.
	Passphrase []byte
}

// A Verifier is what a sender registers with a zero-knowledge secret: the
// SHA-256 of each part of the [Proof] that will open it. It tells nothing
// of the key, the passphrase or the value.
type Verifier struct {
	Key        []byte // SHA-256 of Proof.Key (32 bytes)
	Passphrase []byte // SHA-256 of Proof.Passphrase; nil when none
}

// Verifier returns the verifier that p satisfies.
func (p Proof) Verifier() Verifier {
	v := Verifier{Key: hash(p.Key)}
	if p.Passphrase != nil {
		v.Passphrase = hash(p.Passphrase)
	}
	return v
}

// Valid reports whether p has the form of a proof: a 32-byte key proof
// and, when present, a 32-byte passphrase proof.
func (p Proof) Valid() bool { return validPair(p.Key, p.Passphrase) }

// Valid reports whether v has the form of a verifier, as [Proof.Valid].
func (v Verifier) Valid() bool { return validPair(v.Key, v.Passphrase) }

func validPair(key, pass []byte) bool {
	return len(key) == KeySize && (pass == nil || len(pass) == KeySize)
}

func hash(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

// A Derived holds what a key and a passphrase derive: the proof, and the
// key that seals and opens the value. Derive once per link: with a
// passphrase, a derivation runs PBKDF2 for [Iterations].
type Derived struct {
	proof Proof
	enc   []byte
}

// Derive derives the proof and the encryption key of a link's key and
// passphrase ("" for none). The passphrase is normalized to Unicode NFC
// first, so that the same words typed on two systems derive alike.
func Derive(k Key, passphrase string) (*Derived, error) {
	keyProof, err := hkdf.Key(sha256.New, k[:], nil, infoKeyProof, KeySize)
	if err != nil {
		return nil, err
	}
	d := &Derived{proof: Proof{Key: keyProof}}
	material := k[:]
	if passphrase != "" {
		p, err := pbkdf2.Key(sha256.New, norm.NFC.String(passphrase), k[:], Iterations, KeySize)
		if err != nil {
			return nil, err
		}
		material = append(append(make([]byte, 0, 2*KeySize), k[:]...), p...)
		if d.proof.Passphrase, err = hkdf.Key(sha256.New, material, nil, infoPassphraseProof, KeySize); err != nil {
			return nil, err
		}
	}
	if d.enc, err = hkdf.Key(sha256.New, material, nil, infoEncryption, KeySize); err != nil {
		return nil, err
	}
	return d, nil
}

// Proof returns the proof to present at reveal.
func (d *Derived) Proof() Proof { return d.proof }

// Verifier returns the verifier to register at share.
func (d *Derived) Verifier() Verifier { return d.proof.Verifier() }

// Seal encrypts value into the text the server stores: "zk1." then the
// unpadded base64url of a random 12-byte nonce and the AES-256-GCM
// ciphertext with its tag.
func (d *Derived) Seal(value []byte) (string, error) {
	var nonce [12]byte
	if _, err := io.ReadFull(rand.Reader, nonce[:]); err != nil {
		return "", err
	}
	return d.sealWith(nonce, value), nil
}

func (d *Derived) sealWith(nonce [12]byte, value []byte) string {
	sealed := d.aead().Seal(nonce[:], nonce[:], value, []byte(additionalData))
	return prefix + b64.EncodeToString(sealed)
}

// Open decrypts a value made by Seal with the same key and passphrase. A
// value of another form, or one that does not open, is [ErrSealed].
func (d *Derived) Open(sealed string) ([]byte, error) {
	body, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, ErrSealed
	}
	raw, err := b64.Strict().DecodeString(body)
	if err != nil || len(raw) < 12+16 {
		return nil, ErrSealed
	}
	out, err := d.aead().Open(nil, raw[:12], raw[12:], []byte(additionalData))
	if err != nil {
		return nil, ErrSealed
	}
	return out, nil
}

func (d *Derived) aead() cipher.AEAD {
	block, err := aes.NewCipher(d.enc)
	if err != nil {
		panic("zk: " + err.Error()) // unreachable: the key is 32 bytes
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		panic("zk: " + err.Error()) // unreachable: AES has GCM's block size
	}
	return a
}

// IsSealed reports whether value has the form of a zk1 ciphertext (it
// does not try to open it).
func IsSealed(value string) bool {
	body, ok := strings.CutPrefix(value, prefix)
	return ok && len(body) >= b64.EncodedLen(12+16)
}

// EncodeBytes writes a proof or verifier part as the wire carries it:
// unpadded base64url. DecodeBytes reads it back, strictly.
func EncodeBytes(b []byte) string { return b64.EncodeToString(b) }

// DecodeBytes reads a proof or verifier part written by [EncodeBytes]; it
// accepts exactly 32 bytes' worth and returns nil for anything else.
func DecodeBytes(s string) []byte {
	if len(s) != b64.EncodedLen(KeySize) {
		return nil
	}
	b, err := b64.Strict().DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}
