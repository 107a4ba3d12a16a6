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
// The first byte of every record is its format version, [recordVersion]
// (1). The scripts and the Go decoders check it before they read or change
// anything else, and refuse a record of any other version with an error
// ([errVersion]), never reading it by the wrong layout: a later format
// bumps the version, and its scripts can tell the two apart.
//
// Secret, 29 bytes of header:
//
//	0  version      u8 (1)
//	1  expiresAt    i7
//	8  metadata id  16 bytes: the id after its slot, raw
//	24 attempts     u16
//	26 maxAttempts  u16
//	28 len(check)   u8
//	29 check, then uvarint len(domain), domain, sealed (rest)
//
// Receipt, 61 bytes of header:
//
//	0  version      u8 (1)
//	1  state        u8
//	2  created      i7
//	9  updated      i7
//	16 received     i7
//	23 burned       i7
//	30 secretExpiresAt i7
//	37 expiresAt    i7
//	44 secret id    16 bytes: the id after its slot, raw
//	60 flags        u8 (bit 0: passphrase required)
//	61 uvarint len(owner), owner, uvarint len(domain), domain,
//	   uvarint len(sealed), sealed, ownerSealed (rest)
//
// Outcome of a Reveal or Burn (see scripts.go), kept briefly for a retry:
//
//	0  version      u8 (1)
//	1  kind         'S' revealed, 'W' wrong passphrase, 'B' burned
//	2  for 'S' the secret record as it was, for 'B' the receipt record as
//	   changed; nothing for 'W'
//
// The outcome of a call given an [onetime.Replay] also keeps the replay's
// ExpiresAt, which later calls compare with their now; its kind is in
// lower case so that no reader takes one layout for the other:
//
//	0  version      u8 (1)
//	1  kind         's', 'w' or 'b', as above
//	2  expiresAt    i7
//	9  as from 2 above
//
// The sizes suit Redis's allocator: the Service seals a 100-byte
// value into a 146-byte secret record, which with Redis's 4-byte string
// header fits jemalloc's 160-byte class (10 bytes to spare).

const (
	// recordVersion is the first byte of every record this code writes.
	recordVersion = 1

	secretHeader  = 29
	receiptHeader = 61

	timeBytes = 7
	// zeroTime encodes time.Time{}: the least 7-byte value, which no
	// stored time can have.
	zeroTime = -1 << 55
	minTime  = zeroTime + 1
	maxTime  = 1<<55 - 1

	// maxAttempts is the largest Attempts and MaxAttempts a secret record
	// holds: 16 bits each, [onetime.MaxAttemptsLimit].
	maxAttempts = 1<<16 - 1
	// maxCheckLen is the longest passphrase check (the service's is 32).
	maxCheckLen = 255
)

// The record format must hold every Attempts and MaxAttempts the Service
// may give a Store.
var _ [maxAttempts - onetime.MaxAttemptsLimit]struct{}

// errVersion means a stored record starts with a format version this code
// does not know (a newer one): it is left as it is, not misread.
var errVersion = errors.New("redis: stored record of an unknown format version")

var errFormat = errors.New("redis: stored record is malformed")

// restLen is the length of an id after its slot, decoded.
const restLen = 16

// rawRest returns the part of a valid id after its slot, decoded.
func rawRest(id onetime.ID) (raw [restLen]byte) {
	hex.Decode(raw[:], []byte(id[onetime.SlotLen:]))
	return raw
}

// keyRestLen is the length of the key form of the raw rest of an id:
// base64url, no padding (22 characters), which the Lua scripts compute
// the same way (see Store.keyOf).
var keyRestLen = base64.RawURLEncoding.EncodedLen(restLen)

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
	if s.Attempts < 0 || s.MaxAttempts < 0 || s.Attempts > maxAttempts || s.MaxAttempts > maxAttempts {
		return nil, fmt.Errorf("redis: attempts outside 0..%d: %w", maxAttempts, onetime.ErrInvalid)
	}
	b := make([]byte, secretHeader, secretHeader+len(s.Check)+binary.MaxVarintLen64+len(s.ShareDomain)+len(s.Sealed))
	b[0] = recordVersion
	if err := putTime(b[1:], s.ExpiresAt); err != nil {
		return nil, err
	}
	mid := rawRest(s.MetadataID)
	copy(b[8:24], mid[:])
	binary.BigEndian.PutUint16(b[24:], uint16(s.Attempts))
	binary.BigEndian.PutUint16(b[26:], uint16(s.MaxAttempts))
	b[28] = byte(len(s.Check))
	b = append(b, s.Check...)
	b = binary.AppendUvarint(b, uint64(len(s.ShareDomain)))
	b = append(b, s.ShareDomain...)
	return append(b, s.Sealed...), nil
}

func decodeSecret(id onetime.ID, b []byte) (*onetime.SealedSecret, error) {
	if len(b) > 0 && b[0] != recordVersion {
		return nil, errVersion
	}
	if len(b) < secretHeader || len(b) < secretHeader+int(b[28]) {
		return nil, errFormat
	}
	s := &onetime.SealedSecret{
		ID:          id,
		MetadataID:  idFrom(id.Slot(), b[8:24]),
		Attempts:    int(binary.BigEndian.Uint16(b[24:])),
		MaxAttempts: int(binary.BigEndian.Uint16(b[26:])),
		ExpiresAt:   getTime(b[1:]),
	}
	rest := b[secretHeader:]
	if n := int(b[28]); n > 0 {
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
	b[0] = recordVersion
	b[1] = byte(m.State)
	for i, t := range []time.Time{m.Created, m.Updated, m.Received, m.Burned, m.SecretExpiresAt, m.ExpiresAt} {
		if err := putTime(b[2+7*i:], t); err != nil {
			return nil, err
		}
	}
	sid := rawRest(m.SecretID)
	copy(b[44:60], sid[:])
	if m.PassphraseRequired {
		b[60] = 1
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
	if len(b) > 0 && b[0] != recordVersion {
		return nil, errVersion
	}
	if len(b) < receiptHeader {
		return nil, errFormat
	}
	m := &onetime.SealedMetadata{
		ID:                 id,
		SecretID:           idFrom(id.Slot(), b[44:60]),
		State:              onetime.State(b[1]),
		PassphraseRequired: b[60]&1 != 0,
		Created:            getTime(b[2:]),
		Updated:            getTime(b[9:]),
		Received:           getTime(b[16:]),
		Burned:             getTime(b[23:]),
		SecretExpiresAt:    getTime(b[30:]),
		ExpiresAt:          getTime(b[37:]),
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

// decodePeek reads what Peek tells from the header of a secret record (or
// the whole record). It returns nil for an empty b, a missing key.
func decodePeek(b []byte) (*onetime.SecretInfo, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if b[0] != recordVersion {
		return nil, errVersion
	}
	if len(b) < secretHeader {
		return nil, errFormat
	}
	return &onetime.SecretInfo{
		PassphraseRequired: b[28] > 0,
		Attempts:           int(binary.BigEndian.Uint16(b[24:])),
		MaxAttempts:        int(binary.BigEndian.Uint16(b[26:])),
		ExpiresAt:          getTime(b[1:]),
	}, nil
}
