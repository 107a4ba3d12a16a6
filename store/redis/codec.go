package redis

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/onetimego/onetime"
)

// Records are stored as one compact binary string each: a fixed header that
// the Lua scripts read and patch in place with SETRANGE (which keeps the
// key's expiry), followed by a tail that only Go reads. All integers are
// big-endian; times are microseconds since the Unix epoch in 7 signed
// bytes (years 830 to 3111), which Lua's doubles hold exactly.
//
// Secret, 27 bytes of header:
//
//	0  expiresAt    i7
//	7  metadata id  16 bytes: the id after its slot, raw
//	23 attempts<<12 | maxAttempts   u24
//	26 len(check)   u8
//	27 check, then uvarint len(domain), domain, sealed (rest)
//
// Receipt, 60 bytes of header:
//
//	0  state        u8
//	1  created      i7
//	8  updated      i7
//	15 received     i7
//	22 burned       i7
//	29 secretExpiresAt i7
//	36 expiresAt    i7
//	43 secret id    16 bytes: the id after its slot, raw
//	59 flags        u8 (bit 0: passphrase required)
//	60 uvarint len(owner), owner, uvarint len(domain), domain,
//	   uvarint len(sealed), sealed, ownerSealed (rest)
//
// The sizes are chosen for Redis's allocator: a 100-byte value (128 sealed
// bytes) makes a 156-byte secret record, which fits jemalloc's 160-byte
// class with its string header.

const (
	secretHeader  = 27
	receiptHeader = 60

	timeBytes = 7
	// zeroTime encodes time.Time{}: the least 7-byte value, which no
	// stored time can have.
	zeroTime = -1 << 55
	minTime  = zeroTime + 1
	maxTime  = 1<<55 - 1

	// MaxAttemptsLimit is the largest Secret.MaxAttempts (and Attempts)
	// the store keeps: both share 24 bits of the record.
	MaxAttemptsLimit = 1<<12 - 1
	// maxCheckLen is the longest passphrase check (the service's is 32).
	maxCheckLen = 255
)

var errFormat = errors.New("redis: stored record is malformed")

// rawRest returns the part of a valid id after its slot, decoded.
func rawRest(id onetime.ID) []byte {
	b, _ := hex.DecodeString(string(id[onetime.SlotLen:]))
	return b
}

// keyRest is the key form of the raw rest of an id: base64url, no padding
// (22 characters), which the Lua scripts compute the same way.
func keyRest(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }

// idFrom rebuilds an id from its slot and the raw rest.
func idFrom(slot string, raw []byte) onetime.ID {
	return onetime.ID(slot + hex.EncodeToString(raw))
}

func putTime(b []byte, t time.Time) error {
	v := int64(zeroTime)
	if !t.IsZero() {
		v = t.UnixMicro()
		if v < minTime || v > maxTime {
			return fmt.Errorf("redis: time outside the storable range: %w", onetime.ErrInvalid)
		}
	}
	for i := timeBytes - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return nil
}

func getTime(b []byte) time.Time {
	v := int64(int8(b[0])) // sign-extend the top byte
	for i := 1; i < timeBytes; i++ {
		v = v<<8 | int64(b[i])
	}
	if v == zeroTime {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// micros is t as the integer microseconds the scripts compare.
func micros(t time.Time) int64 { return t.UnixMicro() }

// pxat is the millisecond PEXPIREAT for t, rounded up so that Redis never
// removes a record before it expires logically; at least 1, as Redis
// rejects non-positive expiry times (a time that far back is long past).
func pxat(t time.Time) int64 {
	us := t.UnixMicro()
	ms := us / 1000
	if us%1000 > 0 {
		ms++
	}
	return max(ms, 1)
}

// ceilSeconds is t in whole seconds rounded up, clamped to 32 bits, as
// the owner index keeps it.
func ceilSeconds(t time.Time) uint32 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return uint32(min(max(s, 0), math.MaxUint32))
}

func encodeSecret(s *onetime.SealedSecret) ([]byte, error) {
	if len(s.Check) > maxCheckLen {
		return nil, fmt.Errorf("redis: passphrase check longer than %d bytes: %w", maxCheckLen, onetime.ErrInvalid)
	}
	if s.Attempts < 0 || s.MaxAttempts < 0 || s.Attempts > MaxAttemptsLimit || s.MaxAttempts > MaxAttemptsLimit {
		return nil, fmt.Errorf("redis: attempts outside 0..%d: %w", MaxAttemptsLimit, onetime.ErrInvalid)
	}
	b := make([]byte, secretHeader, secretHeader+len(s.Check)+binary.MaxVarintLen64+len(s.ShareDomain)+len(s.Sealed))
	if err := putTime(b[0:], s.ExpiresAt); err != nil {
		return nil, err
	}
	copy(b[7:23], rawRest(s.MetadataID))
	am := uint32(s.Attempts)<<12 | uint32(s.MaxAttempts)
	b[23], b[24], b[25] = byte(am>>16), byte(am>>8), byte(am)
	b[26] = byte(len(s.Check))
	b = append(b, s.Check...)
	b = binary.AppendUvarint(b, uint64(len(s.ShareDomain)))
	b = append(b, s.ShareDomain...)
	return append(b, s.Sealed...), nil
}

func decodeSecret(id onetime.ID, b []byte) (*onetime.SealedSecret, error) {
	if len(b) < secretHeader || len(b) < secretHeader+int(b[26]) {
		return nil, errFormat
	}
	am := uint32(b[23])<<16 | uint32(b[24])<<8 | uint32(b[25])
	s := &onetime.SealedSecret{
		ID:          id,
		MetadataID:  idFrom(id.Slot(), b[7:23]),
		Attempts:    int(am >> 12),
		MaxAttempts: int(am & MaxAttemptsLimit),
		ExpiresAt:   getTime(b[0:]),
	}
	rest := b[secretHeader:]
	if n := int(b[26]); n > 0 {
		s.Check, rest = append([]byte(nil), rest[:n]...), rest[n:]
	}
	dom, rest, err := field(rest)
	if err != nil {
		return nil, err
	}
	s.ShareDomain = string(dom)
	s.Sealed = append([]byte{}, rest...)
	return s, nil
}

func encodeReceipt(m *onetime.SealedMetadata) ([]byte, error) {
	n := receiptHeader + 3*binary.MaxVarintLen64 + len(m.Owner) + len(m.ShareDomain) + len(m.Sealed) + len(m.OwnerSealed)
	b := make([]byte, receiptHeader, n)
	b[0] = byte(m.State)
	for i, t := range []time.Time{m.Created, m.Updated, m.Received, m.Burned, m.SecretExpiresAt, m.ExpiresAt} {
		if err := putTime(b[1+7*i:], t); err != nil {
			return nil, err
		}
	}
	copy(b[43:59], rawRest(m.SecretID))
	if m.PassphraseRequired {
		b[59] = 1
	}
	b = binary.AppendUvarint(b, uint64(len(m.Owner)))
	b = append(b, m.Owner...)
	b = binary.AppendUvarint(b, uint64(len(m.ShareDomain)))
	b = append(b, m.ShareDomain...)
	b = binary.AppendUvarint(b, uint64(len(m.Sealed)))
	b = append(b, m.Sealed...)
	return append(b, m.OwnerSealed...), nil
}

func decodeReceipt(id onetime.ID, b []byte) (*onetime.SealedMetadata, error) {
	if len(b) < receiptHeader {
		return nil, errFormat
	}
	m := &onetime.SealedMetadata{
		ID:                 id,
		SecretID:           idFrom(id.Slot(), b[43:59]),
		State:              onetime.State(b[0]),
		PassphraseRequired: b[59]&1 != 0,
		Created:            getTime(b[1:]),
		Updated:            getTime(b[8:]),
		Received:           getTime(b[15:]),
		Burned:             getTime(b[22:]),
		SecretExpiresAt:    getTime(b[29:]),
		ExpiresAt:          getTime(b[36:]),
	}
	rest := b[receiptHeader:]
	var owner, dom, sealed []byte
	var err error
	if owner, rest, err = field(rest); err != nil {
		return nil, err
	}
	if dom, rest, err = field(rest); err != nil {
		return nil, err
	}
	if sealed, rest, err = field(rest); err != nil {
		return nil, err
	}
	m.Owner, m.ShareDomain = string(owner), string(dom)
	m.Sealed = append([]byte{}, sealed...)
	if len(rest) > 0 {
		m.OwnerSealed = append([]byte(nil), rest...)
	}
	return m, nil
}

// field splits a uvarint-length-prefixed field off b.
func field(b []byte) (f, rest []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, errFormat
	}
	return b[w : w+int(n)], b[w+int(n):], nil
}
