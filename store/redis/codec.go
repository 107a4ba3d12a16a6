package redis

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/onetimego/onetime"
)

// Format 2: one key per pair. A secret and its receipt are one record,
// kept in one Redis string under the key of their slot,
// <prefix>{<slot>}, with an expiry at the later of the two ExpiresAt. The
// key is named by the slot because it is all that the two ids share:
// Reveal knows only the secret's id, Receipt only the receipt's. Slots
// are 32 bits wide, so now and then two pairs share one; the key then
// holds both records, one after the other. All integers are big-endian;
// times are microseconds since the Unix epoch in 7 signed bytes (years
// 830 to 3111; Lua's doubles hold them exactly up to the year 2255),
// except where a flag says otherwise.
//
// The key's value:
//
//	0  version      u8 (2)
//	1  records, each as below, until the end
//
// A record:
//
//	0  flags        u8, the bits below
//	1  state        u8, the receipt's
//	2  secret id    16 bytes: the id after its slot, raw
//	18 receipt id   16 bytes: likewise
//	34 created      i7
//	41 with fShort: secretExpiresAt and expiresAt, each u32 whole seconds
//	     after created (8 bytes); else each i7 (14 bytes)
//	.. updated i7 (with fUpdated; else updated is created)
//	   received i7 (with fReceived; else zero), burned i7 (with fBurned)
//	.. with fTail: owner, domain, ownerSealed, each uvarint length + bytes
//	   sealed: uvarint length + bytes (the receipt)
//	.. with fSecret, the secret:
//	   sflags u8 (with fExtras; else 0)
//	   attempts, maxAttempts: u16 each with sWide, else u8 each
//	   check: u8 length + bytes (with sCheck)
//	   proof: u8 length + bytes (with sProof)
//	   expiresAt i7 (with sExpiry; else the receipt's secretExpiresAt)
//	   domain: uvarint length + bytes (with sDomain; else the receipt's)
//	   sealed: uvarint length + bytes
//
// The optional parts hold what the Service's pairs have in common only
// when they differ from it, so that a pair shared with a 100-byte value
// and no passphrase, owner or domain takes 243 bytes: with Redis's 4
// bytes of string header, jemalloc's 256-byte class. The ids cannot be
// shortened: a reveal answers the receipt's id, a burn the secret's.
//
// Reveal, Burn and a wrong passphrase change a record in place (SET with
// KEEPTTL, or SETRANGE of the attempts): the secret part is dropped when
// the secret is revealed, burned, or found expired by a script, so a
// received receipt keeps only the header and the receipt's tail. A record
// whose secret is gone and whose receipt has expired is dropped, and the
// key with it once empty.
//
// Format 1 (legacy.go) has version 1; this code reads it and writes only
// format 2. Every script checks the version of each value it reads before
// it writes anything, and so does every Go decoder: a value of an unknown
// version makes the method fail with [errVersion] and is left untouched,
// never read by the wrong layout.
//
// Outcome of a Reveal or Burn (see scripts.go), kept briefly for a retry,
// in a key of its own; its layout is unchanged from format 1, and what it
// holds says its own version in its first byte:
//
//	0  version      u8 (1)
//	1  kind         'S' revealed, 'W' wrong passphrase, 'B' burned
//	2  for 'S' the secret as it was, for 'B' the receipt as changed:
//	   a format-2 value holding that one record (or a format-1 record,
//	   for the records of format 1); nothing for 'W'
//
// The outcome of a call given an [onetime.Replay] also keeps the replay's
// ExpiresAt, which later calls compare with their now; its kind is in
// lower case so that no reader takes one layout for the other:
//
//	0  version      u8 (1)
//	1  kind         's', 'w' or 'b', as above
//	2  expiresAt    i7
//	9  as from 2 above

const (
	// formatPair is the version byte of the value of a pair's key, the
	// only format this code writes.
	formatPair = 2

	timeBytes = 7
	// zeroTime encodes time.Time{}: the least 7-byte value, which no
	// stored time can have.
	zeroTime = -1 << 55
	minTime  = zeroTime + 1
	maxTime  = 1<<55 - 1

	// maxAttempts is the largest Attempts and MaxAttempts a record holds:
	// 16 bits each, [onetime.MaxAttemptsLimit].
	maxAttempts = 1<<16 - 1
	// maxCheckLen is the longest passphrase check (the service's is 32),
	// and maxProofLen the longest proof verifier (likewise).
	maxCheckLen = 255
	maxProofLen = 255
)

// The flags of a record.
const (
	fPassphrase = 1 << 0 // the receipt's PassphraseRequired
	fSecret     = 1 << 1 // the secret is there: not revealed, burned or found expired
	fUpdated    = 1 << 2 // updated differs from created
	fReceived   = 1 << 3 // received is set
	fBurned     = 1 << 4 // burned is set
	fShort      = 1 << 5 // secretExpiresAt and expiresAt in whole seconds after created
	fTail       = 1 << 6 // owner, domain and ownerSealed follow
	fExtras     = 1 << 7 // the secret starts with sflags
)

// The flags of a record's secret (sflags).
const (
	sCheck  = 1 << 0
	sProof  = 1 << 1
	sExpiry = 1 << 2 // its ExpiresAt differs from the receipt's SecretExpiresAt
	sDomain = 1 << 3 // its ShareDomain differs from the receipt's
	sWide   = 1 << 4 // attempts and maxAttempts in 16 bits
)

// pairHeader is the length of a record up to its optional times, with
// fShort.
const pairHeader = 34 + timeBytes + 8

// The record format must hold every Attempts and MaxAttempts the Service
// may give a Store.
var _ [maxAttempts - onetime.MaxAttemptsLimit]struct{}

// errVersion means a stored value starts with a format version this code
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

func appendTime(b []byte, t time.Time) ([]byte, error) {
	var buf [timeBytes]byte
	err := putTime(buf[:], t)
	return append(b, buf[:]...), err
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

// sameTime reports whether a and b are stored alike.
func sameTime(a, b time.Time) bool {
	return a.IsZero() == b.IsZero() && a.UnixMicro() == b.UnixMicro()
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

// shortSeconds returns t-created in whole seconds when that is how fShort
// stores it: neither is zero, and t is a whole number of seconds, at most
// 32 bits of them, after created.
func shortSeconds(created, t time.Time) (uint32, bool) {
	if created.IsZero() || t.IsZero() {
		return 0, false
	}
	d := t.UnixMicro() - created.UnixMicro()
	if d < 0 || d%1e6 != 0 || d/1e6 > math.MaxUint32 {
		return 0, false
	}
	return uint32(d / 1e6), true
}

// encodePair returns the value of a pair's key holding the pair s, m
// alone: the version byte, then its record.
func encodePair(s *onetime.SealedSecret, m *onetime.SealedMetadata) ([]byte, error) {
	if len(s.Check) > maxCheckLen {
		return nil, fmt.Errorf("redis: passphrase check longer than %d bytes: %w", maxCheckLen, onetime.ErrInvalid)
	}
	if len(s.Proof) > maxProofLen {
		return nil, fmt.Errorf("redis: proof verifier longer than %d bytes: %w", maxProofLen, onetime.ErrInvalid)
	}
	if s.Attempts < 0 || s.MaxAttempts < 0 || s.Attempts > maxAttempts || s.MaxAttempts > maxAttempts {
		return nil, fmt.Errorf("redis: attempts outside 0..%d: %w", maxAttempts, onetime.ErrInvalid)
	}
	var flags, sflags byte = fSecret, 0
	if m.PassphraseRequired {
		flags |= fPassphrase
	}
	d1, ok1 := shortSeconds(m.Created, m.SecretExpiresAt)
	d2, ok2 := shortSeconds(m.Created, m.ExpiresAt)
	if ok1 && ok2 {
		flags |= fShort
	}
	if !sameTime(m.Updated, m.Created) {
		flags |= fUpdated
	}
	if !m.Received.IsZero() {
		flags |= fReceived
	}
	if !m.Burned.IsZero() {
		flags |= fBurned
	}
	if m.Owner != "" || m.ShareDomain != "" || len(m.OwnerSealed) > 0 {
		flags |= fTail
	}
	if len(s.Check) > 0 {
		sflags |= sCheck
	}
	if len(s.Proof) > 0 {
		sflags |= sProof
	}
	if !sameTime(s.ExpiresAt, m.SecretExpiresAt) {
		sflags |= sExpiry
	}
	if s.ShareDomain != m.ShareDomain {
		sflags |= sDomain
	}
	if s.Attempts > math.MaxUint8 || s.MaxAttempts > math.MaxUint8 {
		sflags |= sWide
	}
	if sflags != 0 {
		flags |= fExtras
	}

	n := 1 + pairHeader + 14 + 3*timeBytes + 4*binary.MaxVarintLen64 + len(m.Owner) + len(m.ShareDomain) +
		len(m.OwnerSealed) + len(m.Sealed) + 6 + len(s.Check) + len(s.Proof) + timeBytes + len(s.ShareDomain) + len(s.Sealed)
	b := make([]byte, 0, n)
	b = append(b, formatPair, flags, byte(m.State))
	sid, mid := rawRest(s.ID), rawRest(m.ID)
	b = append(b, sid[:]...)
	b = append(b, mid[:]...)
	var err error
	b, err = appendTime(b, m.Created)
	if err != nil {
		return nil, err
	}
	times := []time.Time{m.SecretExpiresAt, m.ExpiresAt}
	if flags&fShort != 0 {
		b = binary.BigEndian.AppendUint32(b, d1)
		b = binary.BigEndian.AppendUint32(b, d2)
		times = times[:0]
	}
	if flags&fUpdated != 0 {
		times = append(times, m.Updated)
	}
	if flags&fReceived != 0 {
		times = append(times, m.Received)
	}
	if flags&fBurned != 0 {
		times = append(times, m.Burned)
	}
	for _, t := range times {
		if b, err = appendTime(b, t); err != nil {
			return nil, err
		}
	}
	if flags&fTail != 0 {
		b = appendField(b, []byte(m.Owner))
		b = appendField(b, []byte(m.ShareDomain))
		b = appendField(b, m.OwnerSealed)
	}
	b = appendField(b, m.Sealed)

	if flags&fExtras != 0 {
		b = append(b, sflags)
	}
	if sflags&sWide != 0 {
		b = binary.BigEndian.AppendUint16(b, uint16(s.Attempts))
		b = binary.BigEndian.AppendUint16(b, uint16(s.MaxAttempts))
	} else {
		b = append(b, byte(s.Attempts), byte(s.MaxAttempts))
	}
	if sflags&sCheck != 0 {
		b = append(append(b, byte(len(s.Check))), s.Check...)
	}
	if sflags&sProof != 0 {
		b = append(append(b, byte(len(s.Proof))), s.Proof...)
	}
	if sflags&sExpiry != 0 {
		if b, err = appendTime(b, s.ExpiresAt); err != nil {
			return nil, err
		}
	}
	if sflags&sDomain != 0 {
		b = appendField(b, []byte(s.ShareDomain))
	}
	return appendField(b, s.Sealed), nil
}

func appendField(b, f []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(f))), f...)
}

// field splits a uvarint-length-prefixed field off b.
func field(b []byte) (f, rest []byte, err error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < n {
		return nil, nil, errFormat
	}
	return b[w : w+int(n)], b[w+int(n):], nil
}

// A record is a record of format 2 as read from a pair's key: its fields
// are views into the value's bytes, which the caller must not change.
type record struct {
	flags, state                         byte
	secretRest, receiptRest              []byte
	created, secretExpiresAt, expiresAt  time.Time
	updated, received, burned            time.Time
	owner, domain, ownerSealed, sealed   []byte
	attempts, maxAttempts                int
	check, proof, secretDomain, revealed []byte // revealed: the secret's sealed value
	expires                              time.Time
}

// hasSecret reports whether the record holds its secret, and it is
// unexpired at now.
func (r *record) hasSecret(now time.Time) bool {
	return r.flags&fSecret != 0 && now.Before(r.expires)
}

// cursor reads a record field by field; the first short read sets err.
type cursor struct {
	b   []byte
	err error
}

func (c *cursor) take(n int) []byte {
	if c.err != nil || n < 0 || len(c.b) < n {
		c.err = errFormat
		return make([]byte, n)
	}
	v := c.b[:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) byte() byte      { return c.take(1)[0] }
func (c *cursor) time() time.Time { return getTime(c.take(timeBytes)) }

func (c *cursor) field() []byte {
	if c.err != nil {
		return nil
	}
	f, rest, err := field(c.b)
	if err != nil {
		c.err = err
		return nil
	}
	c.b = rest
	return f
}

// findRecord returns the record of the pair value b whose secret id
// (which is 's') or receipt id ('m') has the raw rest given, or nil.
func findRecord(b []byte, which byte, rest []byte) (*record, error) {
	if len(b) == 0 || b[0] != formatPair {
		return nil, errVersion
	}
	c := cursor{b: b[1:]}
	for len(c.b) > 0 {
		r := readRecord(&c)
		if c.err != nil {
			return nil, c.err
		}
		id := r.secretRest
		if which == 'm' {
			id = r.receiptRest
		}
		if bytes.Equal(id, rest) {
			return r, nil
		}
	}
	return nil, nil
}

func readRecord(c *cursor) *record {
	r := &record{flags: c.byte(), state: c.byte(), secretRest: c.take(restLen), receiptRest: c.take(restLen)}
	r.created = c.time()
	if r.flags&fShort != 0 {
		d := c.take(8)
		r.secretExpiresAt = r.created.Add(time.Duration(binary.BigEndian.Uint32(d)) * time.Second)
		r.expiresAt = r.created.Add(time.Duration(binary.BigEndian.Uint32(d[4:])) * time.Second)
	} else {
		r.secretExpiresAt, r.expiresAt = c.time(), c.time()
	}
	r.updated = r.created
	if r.flags&fUpdated != 0 {
		r.updated = c.time()
	}
	if r.flags&fReceived != 0 {
		r.received = c.time()
	}
	if r.flags&fBurned != 0 {
		r.burned = c.time()
	}
	if r.flags&fTail != 0 {
		r.owner, r.domain, r.ownerSealed = c.field(), c.field(), c.field()
	}
	r.sealed = c.field()
	if r.flags&fSecret == 0 {
		return r
	}
	var sflags byte
	if r.flags&fExtras != 0 {
		sflags = c.byte()
	}
	if sflags&sWide != 0 {
		a := c.take(4)
		r.attempts, r.maxAttempts = int(binary.BigEndian.Uint16(a)), int(binary.BigEndian.Uint16(a[2:]))
	} else {
		a := c.take(2)
		r.attempts, r.maxAttempts = int(a[0]), int(a[1])
	}
	if sflags&sCheck != 0 {
		r.check = c.take(int(c.byte()))
	}
	if sflags&sProof != 0 {
		r.proof = c.take(int(c.byte()))
	}
	r.expires = r.secretExpiresAt
	if sflags&sExpiry != 0 {
		r.expires = c.time()
	}
	r.secretDomain = r.domain
	if sflags&sDomain != 0 {
		r.secretDomain = c.field()
	}
	r.revealed = c.field()
	return r
}

// clone returns a copy of b, nil when b is empty.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

// secret returns the secret of r, whose id is id. r must hold it.
func (r *record) secret(id onetime.ID) *onetime.SealedSecret {
	return &onetime.SealedSecret{
		ID:          id,
		MetadataID:  idFrom(id.Slot(), r.receiptRest),
		Sealed:      append([]byte{}, r.revealed...),
		Check:       clone(r.check),
		Proof:       clone(r.proof),
		Attempts:    r.attempts,
		MaxAttempts: r.maxAttempts,
		ShareDomain: string(r.secretDomain),
		ExpiresAt:   r.expires,
	}
}

// receipt returns the receipt of r, whose id is id, its SecretPresent
// as at now.
func (r *record) receipt(id onetime.ID, now time.Time) *onetime.SealedMetadata {
	return &onetime.SealedMetadata{
		ID:                 id,
		SecretID:           idFrom(id.Slot(), r.secretRest),
		Owner:              string(r.owner),
		State:              onetime.State(r.state),
		PassphraseRequired: r.flags&fPassphrase != 0,
		ShareDomain:        string(r.domain),
		Created:            r.created,
		Updated:            r.updated,
		Received:           r.received,
		Burned:             r.burned,
		SecretExpiresAt:    r.secretExpiresAt,
		ExpiresAt:          r.expiresAt,
		SecretPresent:      r.hasSecret(now),
		Sealed:             append([]byte{}, r.sealed...),
		OwnerSealed:        clone(r.ownerSealed),
	}
}

// decodeSecret reads the secret with the given id from what a Reveal
// script answered: a pair value (format 2) or a secret record (format 1).
func decodeSecret(id onetime.ID, b []byte) (*onetime.SealedSecret, error) {
	if len(b) > 0 && b[0] == formatLegacy {
		return decodeLegacySecret(id, b)
	}
	raw := rawRest(id)
	r, err := findRecord(b, 's', raw[:])
	if err != nil {
		return nil, err
	}
	if r == nil || r.flags&fSecret == 0 {
		return nil, errFormat
	}
	return r.secret(id), nil
}

// decodeReceipt reads the receipt with the given id from what a script
// answered: a pair value (format 2) or a receipt record (format 1). The
// SecretPresent of a receipt of format 2 is as at now.
func decodeReceipt(id onetime.ID, b []byte, now time.Time) (*onetime.SealedMetadata, error) {
	if len(b) > 0 && b[0] == formatLegacy {
		return decodeLegacyReceipt(id, b)
	}
	raw := rawRest(id)
	r, err := findRecord(b, 'm', raw[:])
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errFormat
	}
	return r.receipt(id, now), nil
}
