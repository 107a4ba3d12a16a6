package onetime

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"sync"

	"github.com/onetimego/onetime/zk"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
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
	labelIdem   = "onetime v1 idempotency"
)

var errUnseal = errors.New("sealed data failed authentication")

// sealer holds the keys derived from the server secret and does all the
// cryptography of the service. See SECURITY.md for the scheme.
type sealer struct {
	ids, seal, salt, check, owners prf
	idem                           prf      // replay ids and the keys of idempotent shares
	kdf                            *fairSem // bounds concurrent argon2id runs, fairly per client
	tel                            *instruments
}

func newSealer(secret []byte, kdfConcurrency int) (*sealer, error) {
	derive := func(label string) ([]byte, error) {
		return hkdf.Key(sha256.New, secret, nil, label, 32)
	}
	var s sealer
	for _, p := range []struct {
		pool  *prf
		label string
	}{{&s.ids, labelIDs}, {&s.seal, labelSeal}, {&s.salt, labelSalt}, {&s.check, labelCheck}, {&s.owners, labelOwners}, {&s.idem, labelIdem}} {
		k, err := derive(p.label)
		if err != nil {
			return nil, err
		}
		p.pool.init(k)
	}
	s.kdf = newFairSem(kdfConcurrency)
	return &s, nil
}

// prf is HMAC-SHA256 under one key. The service hashes a few short
// messages per request, so keyed hashes are pooled: a pooled one, Reset,
// starts from its key's precomputed state, where a fresh hmac.New would
// allocate and hash the key's pads again.
type prf struct{ pool sync.Pool }

// prfState is one keyed hash with the buffers a sum needs.
type prfState struct {
	h   hash.Hash
	msg []byte
	out [sha256.Size]byte
}

func (p *prf) init(key []byte) {
	key = bytes.Clone(key)
	p.pool.New = func() any { return &prfState{h: hmac.New(sha256.New, key)} }
}

// sum returns HMAC(key, concatenation of parts).
func (p *prf) sum(parts ...string) [sha256.Size]byte {
	st := p.pool.Get().(*prfState)
	defer p.pool.Put(st)
	st.msg = st.msg[:0]
	for _, part := range parts {
		st.msg = append(st.msg, part...)
	}
	st.h.Reset()
	st.h.Write(st.msg)
	return [sha256.Size]byte(st.h.Sum(st.out[:0]))
}

// pairIDs returns the store ids of a new pair's keys, which share a tag and
// so a slot; secretID and metadataID return the id of one key.
func (s *sealer) pairIDs(secretKey, metaKey string) (ID, ID) {
	slot := s.ids.sum("t", keyTag(secretKey))
	return s.id(&slot, 's', secretKey), s.id(&slot, 'm', metaKey)
}

func (s *sealer) secretID(secretKey string) ID { return s.id(nil, 's', secretKey) }
func (s *sealer) metadataID(metaKey string) ID { return s.id(nil, 'm', metaKey) }

// id is the slot (the keyed hash of the key's tag) followed by the keyed
// hash of the whole key, domain-separated by kind.
func (s *sealer) id(slot *[sha256.Size]byte, kind byte, key string) ID {
	if slot == nil {
		sl := s.ids.sum("t", keyTag(key))
		slot = &sl
	}
	rec := s.ids.sum(string(kind), key)
	var out [idLen]byte
	hex.Encode(out[:SlotLen], slot[:SlotLen/2])
	hex.Encode(out[SlotLen:], rec[:(idLen-SlotLen)/2])
	return ID(out[:])
}

// replayID returns the id under which a store records the outcome of a
// consuming call on the record id: in id's slot, the keyed hash of parts
// (the operation, the caller's key, the idempotency key, ...). Only the
// server secret and every part make it, and it names nothing else.
func (s *sealer) replayID(id ID, parts ...string) ID {
	h := s.idem.sum(framed('r', parts))
	var out [idLen]byte
	copy(out[:SlotLen], id.Slot())
	hex.Encode(out[SlotLen:], h[:(idLen-SlotLen)/2])
	return ID(out[:])
}

// derivedSource returns a source of bytes that the keyed hash of parts
// determines: a ChaCha20 keystream under it. The same parts give the same
// bytes, so a repeated share makes the same keys; without the server
// secret they are as unpredictable as crypto/rand's. Each call returns a
// fresh stream, for one goroutine.
func (s *sealer) derivedSource(parts ...string) source {
	k := s.idem.sum(framed('k', parts))
	var nonce [chacha20.NonceSize]byte
	c, err := chacha20.NewUnauthenticatedCipher(k[:], nonce[:])
	if err != nil {
		panic("onetime: " + err.Error()) // unreachable: the key and nonce have their sizes
	}
	return func(p []byte) {
		clear(p)
		c.XORKeyStream(p, p)
	}
}

// framed joins kind and parts so that no two lists of parts join alike:
// each part after its length.
func framed(kind byte, parts []string) string {
	n := 1
	for _, p := range parts {
		n += binary.MaxVarintLen64 + len(p)
	}
	b := append(make([]byte, 0, n), kind)
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return string(b)
}

// passphraseKey runs argon2id on the passphrase with a salt derived from the
// secret key, waiting for a slot so that a burst of attempts cannot exhaust
// memory; waiting clients are served in turn, so that one client's burst
// does not starve the others. The salt is never stored: it is recomputed
// from the secret key.
func (s *sealer) passphraseKey(ctx context.Context, client, secretKey, passphrase string) ([]byte, error) {
	waited, derived := s.tel.kdf(ctx)
	err := s.kdf.acquire(ctx, client)
	waited(err)
	if err != nil {
		return nil, err
	}
	defer s.kdf.release()
	salt := s.salt.sum(secretKey)
	key := argon2.IDKey([]byte(passphrase), salt[:16], argonTime, argonMemory, argonThreads, argonKeyLen)
	derived()
	if err := ctx.Err(); err != nil {
		return nil, busyOr(err) // too late to be of use: the caller is gone or out of time
	}
	return key, nil
}

// zkVerifiers returns what the secret with the given id stores of a
// zero-knowledge verifier: the keyed hashes of its key part (the Proof)
// and of its passphrase part (the Check; nil when it has none). Bound to
// the id and to the server secret, they match only the proofs of this one
// secret, on this server.
func (s *sealer) zkVerifiers(id ID, v zk.Verifier) (proof, check []byte) {
	proof = s.zkHash('k', id, v.Key)
	if v.Passphrase != nil {
		check = s.zkHash('p', id, v.Passphrase)
	}
	return proof, check
}

// zkCredentials returns what a reveal presents for a zero-knowledge proof:
// the stored form of the verifier that the proof satisfies.
func (s *sealer) zkCredentials(id ID, p zk.Proof) Credentials {
	proof, check := s.zkVerifiers(id, p.Verifier())
	return Credentials{Proof: proof, Check: check}
}

func (s *sealer) zkHash(kind byte, id ID, v []byte) []byte {
	h := s.check.sum(framed('z', []string{string(kind), string(id), string(v)}))
	return h[:]
}

// checkFor returns the verifier stored for a passphrase key.
func (s *sealer) checkFor(pk []byte) []byte {
	c := s.check.sum(string(pk))
	return c[:]
}

// valueAEAD returns the AEAD that seals a secret's value: its key is derived
// from the secret key and, when there is one, the passphrase key, so neither
// a store dump nor the server secret alone can open it.
func (s *sealer) valueAEAD(secretKey string, pk []byte) cipher.AEAD {
	k := s.seal.sum("v", secretKey, string(pk))
	return newAEAD(k[:])
}

func (s *sealer) metadataAEAD(metaKey string) cipher.AEAD {
	k := s.seal.sum("m", metaKey)
	return newAEAD(k[:])
}

// newAEAD returns ChaCha20-Poly1305 under a 32-byte key. Every record is
// sealed under a key of its own, so the cipher is set up per record, which
// ChaCha20-Poly1305 does with one small allocation.
func newAEAD(key []byte) cipher.AEAD {
	a, err := chacha20poly1305.New(key)
	if err != nil {
		panic("onetime: " + err.Error()) // unreachable: keys are 32 bytes
	}
	return a
}

// seal encrypts plaintext, binding it to ad (the record's id) so that
// sealed blobs cannot be swapped between records. Its nonce is fixed
// (zero): every key this package seals under is derived from one record's
// own key and seals exactly one message, once, at Share, so a nonce can
// never repeat under a key, and a stored record is 12 bytes smaller.
func seal(a cipher.AEAD, plaintext, ad []byte) []byte {
	var nonce [chacha20poly1305.NonceSize]byte
	return a.Seal(make([]byte, 0, len(plaintext)+a.Overhead()), nonce[:], plaintext, ad)
}

func open(a cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	var nonce [chacha20poly1305.NonceSize]byte
	p, err := a.Open(nil, nonce[:], sealed, ad)
	if err != nil {
		return nil, errUnseal
	}
	return p, nil
}

// ownerSeedLen is the size of the seed an owned receipt keeps in
// Metadata.OwnerSealed, from which the service re-derives its metadata key.
const ownerSeedLen = 32

// ownedMetadataKey derives the metadata key of a receipt with an owner
// from a random seed: HMAC(K_owner, H(owner) || seed || counter) expanded
// into base36 by rejection sampling, body and tag alike. The recent list
// must show an owner their metadata keys; keeping 32 bytes of seed, which
// only the server secret expands, costs a third of what sealing the key
// did, and binding the owner makes a seed moved to another owner useless.
func (s *sealer) ownedMetadataKey(owner string, seed []byte) string {
	od := sha256.Sum256([]byte(owner))
	var out [KeyLen]byte
	n := 0
	for ctr := byte(0); n < len(out); ctr++ {
		block := s.owners.sum("k", string(od[:]), string(seed), string([]byte{ctr}))
		n += base36(out[n:], block[:])
	}
	return string(out[:])
}

// newOwnedKeyPair returns the keys of a pair whose receipt has an owner:
// the metadata key derived from a fresh seed, the secret key random but
// for the tag it shares with the metadata key; seed and key drawn from src.
func (s *sealer) newOwnedKeyPair(owner string, src source) (secretKey, metadataKey string, seed []byte) {
	seed = make([]byte, ownerSeedLen)
	src(seed)
	metadataKey = s.ownedMetadataKey(owner, seed)
	var sk [KeyLen]byte
	randomBase36(sk[:keyBodyLen], src)
	copy(sk[keyBodyLen:], keyTag(metadataKey))
	return string(sk[:]), metadataKey, seed
}

// receiptPayload is what a receipt keeps sealed under its metadata key.
// A payload starts with the length of the secret key, which is never
// zero; a payload of a zero-knowledge secret starts with a zero byte and
// the flags byte payloadZK instead, then the same. Receipts stored before
// the flag read as they did.
type receiptPayload struct {
	secretKey  string
	recipients []string // obscured
	zk         bool     // shared in the zero-knowledge mode
}

// payloadZK is the flag of a zero-knowledge secret's receipt.
const payloadZK = 1

func (p receiptPayload) marshal() []byte {
	n := 3 + len(p.secretKey)
	for _, r := range p.recipients {
		n += binary.MaxVarintLen16 + len(r)
	}
	b := make([]byte, 0, n)
	if p.zk {
		b = append(b, 0, payloadZK)
	}
	b = binary.AppendUvarint(b, uint64(len(p.secretKey)))
	b = append(b, p.secretKey...)
	for _, r := range p.recipients {
		b = binary.AppendUvarint(b, uint64(len(r)))
		b = append(b, r...)
	}
	return b
}

func (p *receiptPayload) unmarshal(b []byte) error {
	if len(b) >= 2 && b[0] == 0 {
		if b[1] != payloadZK {
			return errUnseal
		}
		p.zk, b = true, b[2:]
	}
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
