package onetime

import (
	"crypto/rand"
)

// KeyLen is the length of every secret key and metadata key: characters
// of [0-9a-z], of which at least 256 bits are random. A text of another
// length or alphabet names nothing, and the Service answers it as not
// found without asking the store.
const KeyLen = 56

// A key is 50 characters of [0-9a-z] drawn from crypto/rand (258 bits),
// followed by a 6-character pair tag that the secret key and the metadata
// key of one pair share. The tag lets the service derive the same ID.Slot
// from either key, so a partitioned store can keep a pair together; it is
// 31 bits of an otherwise 258-bit key, so holding one key gives no useful
// advantage in guessing the other. (The metadata key of a receipt with an
// owner is derived from a 256-bit random seed instead; see
// sealer.ownedMetadataKey.)
const (
	keyBodyLen = 50
	keyTagLen  = KeyLen - keyBodyLen
)

const keyAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// A source fills p with uniformly random bytes. Keys, owner seeds and
// generated passwords are drawn from one: crypto/rand ([randomSource]),
// or, for a share with an idempotency key, a keystream derived from the
// key and the request ([sealer.derivedSource]), so that a repeat of the
// request makes the same keys and password.
type source func(p []byte)

// randomSource is crypto/rand. It never fails: crypto/rand panics rather
// than return short.
func randomSource(p []byte) { rand.Read(p) }

// randomBase36 fills dst with characters of keyAlphabet drawn uniformly
// from src.
func randomBase36(dst []byte, src source) {
	var buf [64]byte
	for n := 0; n < len(dst); {
		src(buf[:])
		n += base36(dst[n:], buf[:])
	}
}

// base36 fills dst with characters of keyAlphabet, one for each byte of
// src below 252 (7 x 36), as far as src and dst go, and returns how many it
// wrote. Discarding the bytes from 252 up makes every character equally
// likely when src is uniform: random bytes, or the blocks of a PRF.
func base36(dst, src []byte) int {
	n := 0
	for _, b := range src {
		if n == len(dst) {
			break
		}
		if b < 252 {
			dst[n] = keyAlphabet[b%36]
			n++
		}
	}
	return n
}

// newKeyPair returns a fresh secret key and metadata key sharing one tag,
// drawn from src.
func newKeyPair(src source) (secretKey, metadataKey string) {
	var b [2*keyBodyLen + keyTagLen]byte
	randomBase36(b[:], src)
	tag := b[2*keyBodyLen:]
	var sk, mk [KeyLen]byte
	copy(sk[:], b[:keyBodyLen])
	copy(sk[keyBodyLen:], tag)
	copy(mk[:], b[keyBodyLen:2*keyBodyLen])
	copy(mk[keyBodyLen:], tag)
	return string(sk[:]), string(mk[:])
}

// validKey reports whether k has the form of a key this package issues.
// Anything else cannot name a stored record and is answered as not found
// without asking the store.
func validKey(k string) bool {
	if len(k) != KeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

func keyTag(k string) string { return k[keyBodyLen:] }

// Generated passwords avoid look-alikes (i l o 1 I O 0).
const (
	genUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	genLower   = "abcdefghjkmnpqrstuvwxyz"
	genDigits  = "23456789"
	genSymbols = "!#$%&*+-=?@^_"
	genAll     = genUpper + genLower + genDigits + genSymbols
)

// randIndex returns a uniform random integer in [0, n) for n <= 256,
// drawn from src.
func randIndex(n int, src source) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		src(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// generatePassword returns a random password of the given length (at least
// 4) holding at least one character of each set, in random positions,
// drawn from src.
func generatePassword(length int, src source) []byte {
	p := make([]byte, length)
	sets := [...]string{genUpper, genLower, genDigits, genSymbols}
	for i, set := range sets {
		p[i] = set[randIndex(len(set), src)]
	}
	for i := len(sets); i < length; i++ {
		p[i] = genAll[randIndex(len(genAll), src)]
	}
	// Fisher-Yates, so the guaranteed characters are not always first.
	for i := length - 1; i > 0; i-- {
		j := randIndex(i+1, src)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
