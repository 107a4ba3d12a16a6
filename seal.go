package onetime

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"sync"

	"golang.org/x/crypto/argon2"
)

// MinServerSecretLen is the least number of bytes a server secret may have.
const MinServerSecretLen = 32

// Argon2id parameters for passphrases: OWASP's minimum recommendation
// (19 MiB, 2 passes, 1 lane). Each concurrent derivation holds the memory,
// which is why derivations are bounded by Options.KDFConcurrency.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
)

// Domain-separation labels for the keys derived from the server secret and
// for the values hashed under them. Changing any of them makes every stored
// record unreadable.
const (
	labelIDs    = "onetime v1 ids"
	labelSeal   = "onetime v1 seal"
	labelSalt   = "onetime v1 passphrase salt"
	labelCheck  = "onetime v1 passphrase check"
	labelOwners = "onetime v1 owner index"
)

var errUnseal = errors.New("onetime: sealed data failed authentication")

// sealer holds the keys derived from the server secret and does all the
// cryptography of the service. See SECURITY.md for the scheme.
type sealer struct {
	ids, seal, salt, check hmacPool
	owners                 cipher.AEAD
	kdf                    chan struct{} // bounds concurrent argon2id runs
}

func newSealer(secret []byte, kdfConcurrency int) (*sealer, error) {
	derive := func(label string) ([]byte, error) {
		return hkdf.Key(sha256.New, secret, nil, label, 32)
	}
	var s sealer
	for _, p := range []struct {
		pool  *hmacPool
		label string
	}{{&s.ids, labelIDs}, {&s.seal, labelSeal}, {&s.salt, labelSalt}, {&s.check, labelCheck}} {
		k, err := derive(p.label)
		if err != nil {
			return nil, err
		}
		p.pool.init(k)
	}
	ok, err := derive(labelOwners)
	if err != nil {
		return nil, err
	}
	if s.owners, err = newGCM(ok); err != nil {
		return nil, err
	}
	s.kdf = make(chan struct{}, kdfConcurrency)
	return &s, nil
}

// hmacPool recycles HMAC-SHA256 states keyed with one key; hmac.New costs
// several allocations and two block computations that Reset avoids.
type hmacPool struct{ p sync.Pool }

func (p *hmacPool) init(key []byte) {
	p.p.New = func() any { return hmac.New(sha256.New, key) }
}

// sum returns HMAC(key, parts...) appended to dst.
func (p *hmacPool) sum(dst []byte, parts ...[]byte) []byte {
	h := p.p.Get().(hash.Hash)
	h.Reset()
	for _, b := range parts {
		h.Write(b)
	}
	dst = h.Sum(dst)
	p.p.Put(h)
	return dst
}

// ids returns the store ids of a pair's secret key and metadata key. Both
// start with the slot derived from the pair's shared tag.
func (s *sealer) secretID(secretKey string) ID { return s.id('s', secretKey) }
func (s *sealer) metadataID(metaKey string) ID { return s.id('m', metaKey) }

func (s *sealer) id(kind byte, key string) ID {
	var sum [2 * sha256.Size]byte
	slot := s.ids.sum(sum[:0], []byte{'t'}, []byte(keyTag(key)))
	rec := s.ids.sum(sum[:sha256.Size], []byte{kind}, []byte(key))
	var out [idLen]byte
	hex.Encode(out[:SlotLen], slot[:SlotLen/2])
	hex.Encode(out[SlotLen:], rec[sha256.Size:sha256.Size+(idLen-SlotLen)/2])
	return ID(out[:])
}

// passphraseKey runs argon2id on the passphrase with a salt derived from the
// secret key, waiting for a slot so that a burst of attempts cannot exhaust
// memory. The salt is never stored: it is recomputed from the secret key.
func (s *sealer) passphraseKey(ctx context.Context, secretKey, passphrase string) ([]byte, error) {
	select {
	case s.kdf <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.kdf }()
	salt := s.salt.sum(nil, []byte(secretKey))[:16]
	return argon2.IDKey([]byte(passphrase), salt, argonTime, argonMemory, argonThreads, argonKeyLen), nil
}

// checkFor returns the verifier stored for a passphrase key.
func (s *sealer) checkFor(pk []byte) []byte { return s.check.sum(nil, pk) }

// valueAEAD returns the AEAD that seals a secret's value: its key is derived
// from the secret key and, when there is one, the passphrase key, so neither
// a store dump nor the server secret alone can open it.
func (s *sealer) valueAEAD(secretKey string, pk []byte) (cipher.AEAD, error) {
	var k [sha256.Size]byte
	return newGCM(s.seal.sum(k[:0], []byte{'v'}, []byte(secretKey), pk))
}

func (s *sealer) metadataAEAD(metaKey string) (cipher.AEAD, error) {
	var k [sha256.Size]byte
	return newGCM(s.seal.sum(k[:0], []byte{'m'}, []byte(metaKey)))
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// seal encrypts plaintext with a fresh random nonce, binding it to ad (the
// record's id) so that sealed blobs cannot be swapped between records.
func seal(a cipher.AEAD, plaintext, ad []byte) []byte {
	out := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	rand.Read(out)
	return a.Seal(out, out, plaintext, ad)
}

func open(a cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	n := a.NonceSize()
	if len(sealed) < n+a.Overhead() {
		return nil, errUnseal
	}
	p, err := a.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, errUnseal
	}
	return p, nil
}

// ownerAD binds an owner-sealed metadata key to its receipt and owner.
func ownerAD(id ID, owner string) []byte {
	ad := make([]byte, 0, len(id)+1+len(owner))
	ad = append(ad, id...)
	ad = append(ad, 0)
	return append(ad, owner...)
}

// receiptPayload is what a receipt keeps sealed under its metadata key.
type receiptPayload struct {
	secretKey  string
	recipients []string // obscured
}

func (p receiptPayload) marshal() []byte {
	b := binary.AppendUvarint(nil, uint64(len(p.secretKey)))
	b = append(b, p.secretKey...)
	for _, r := range p.recipients {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	return b
}

func (p *receiptPayload) unmarshal(b []byte) error {
	first := true
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return errUnseal
		}
		s := string(b[w : w+int(n)])
		b = b[w+int(n):]
		if first {
			p.secretKey, first = s, false
		} else {
			p.recipients = append(p.recipients, s)
		}
	}
	if first {
		return errUnseal
	}
	return nil
}
