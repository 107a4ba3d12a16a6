// Package memory is an in-process [onetime.Store]: safe for concurrent use,
// and gone when the process ends. Use it in tests and in single-process
// programs that need no durability; store/sqlite is the store for real use
// on one machine.
//
// It is also the reference implementation, the one to read before writing
// a store: a few maps under one mutex, and each method the contract of
// [onetime.Store] step by step. Each method holds the mutex throughout, so
// it is one atomic step: that alone is why two readers cannot both reveal
// a secret.
//
// # Records without pointers
//
// A busy store holds hundreds of thousands of records, and the garbage
// collector follows every pointer in them at every cycle. Stored as the
// caller's structs (string ids, three byte slices, times with a
// *time.Location, a pointer to each in the map) a pair left 15 to 20
// pointers, and the collector took about 45% of the CPU of the example
// server sharing secrets: 13.5 µs of CPU per request against 4.3 µs for a
// bare net/http handler. So the store keeps its records as values in
// which the collector finds almost nothing to follow: ids as the 20 bytes
// their 40 hex digits spell (a key), the map keys; times as Unix
// microseconds, which the contract allows (the Location and the monotonic
// reading go; a zero time comes back zero); and a record's variable-length
// fields packed in one byte slice (see pack), its one pointer, to an
// object the collector need not scan. That slice is never written once
// packed, so a record's copies may share it. The expiry heap is a slice of
// values without pointers. Each method converts the caller's structs to
// records and back, and so still returns copies. A pair now leaves two
// pointers, the collector takes about 11% of that server's CPU, and a
// share request costs about 10.4 µs of CPU where it cost 12.6 µs
// (measured back to back, BenchmarkBareHandler in cmd/onetime-server).
//
// # Expiry without a sweeper
//
// A record is expired from the instant its ExpiresAt is not after now:
// every method checks before it serves or changes a record. Its space is
// reclaimed without a goroutine: every expiry goes into a min-heap (see
// expiry.go), and each Create removes up to four records expired at the
// new pair's creation, more than the two it adds, so that a store that is
// never swept holds about what is alive. Sweep removes all that expired.
//
// A Reveal or Burn given a [onetime.Replay] keeps a copy of its answer in
// the same locked step as its change, reclaimed like a record (though not
// counted as one), and checks its context's deadline once it holds the
// lock; a replay whose id is not an ID, under which it could record
// nothing, it refuses with ErrInvalid, as the other stores do. The store
// keeps every field as given (times to the microsecond) and returns
// copies.
package memory

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/onetimego/onetime"
)

// Store is an in-memory [onetime.Store]. The zero value is not usable; call New.
type Store struct {
	mu     sync.Mutex
	closed bool

	secrets  map[key]secret
	receipts map[key]receipt
	replays  map[key]replay

	// next numbers each receipt with an owner in order of Create (see
	// receipt.order).
	next uint64

	// expiries holds the expiry of every record created (consumed ones
	// too) and replay recorded, until reclaim takes it.
	expiries expiryHeap
}

// A key is an [onetime.ID] as the 20 bytes its 40 hex digits spell: a map
// key without a pointer. Only a Valid id has one, so an id that is not
// Valid names no record.
type key [20]byte

// keyOf returns the key of id, and false if id is not Valid: its key is
// then zero, which is also the key of a Valid id, so callers check. It
// checks and decodes in one pass, a table lookup per digit, rather than
// ID.Valid and then a decoding.
func keyOf(id onetime.ID) (k key, ok bool) {
	if len(id) != 2*len(k) {
		return key{}, false
	}
	var seen byte // every digit's value ORed: above 0xf if one was not a digit
	for i := range k {
		hi, lo := hexDigit[id[2*i]], hexDigit[id[2*i+1]]
		k[i] = hi<<4 | lo
		seen |= hi | lo
	}
	if seen > 0xf {
		return key{}, false
	}
	return k, true
}

// hexDigit maps each digit of a Valid id, 0-9 and a-f, to its value, and
// every other byte to 0xff.
var hexDigit = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for v, c := range "0123456789abcdef" {
		t[c] = byte(v)
	}
	return t
}()

// id returns the ID whose key k is (Valid ids are lower case).
func (k key) id() onetime.ID {
	var b [2 * len(k)]byte
	hex.Encode(b[:], k[:])
	return onetime.ID(b[:])
}

// A secret is a [onetime.SealedSecret] as the store keeps it, under its
// ID's key.
type secret struct {
	metadataID            key
	attempts, maxAttempts int
	expiresAt             int64  // Unix microseconds
	fields                []byte // Sealed, Check, Proof, ShareDomain, packed
}

// The fields of a secret, in the order packed.
const (
	secretSealed = iota
	secretCheck
	secretProof
	secretShareDomain
)

// A receipt is a [onetime.SealedMetadata] as the store keeps it, under its
// ID's key. SecretPresent is not kept: each read computes it.
type receipt struct {
	secretID           key
	state              onetime.State
	passphraseRequired bool
	// Times, in Unix microseconds.
	created, updated, received, burned, secretExpiresAt, expiresAt int64
	// order numbers a receipt with an owner in order of Create, to break
	// ties of Created in Recent; it is 0 for a receipt without an owner.
	order  uint64
	fields []byte // Owner, ShareDomain, Sealed, OwnerSealed, packed
}

// The fields of a receipt, in the order packed.
const (
	receiptOwner = iota
	receiptShareDomain
	receiptSealed
	receiptOwnerSealed
)

// A replay is an answer recorded under a [onetime.Replay]'s id: Reveal's
// secret (kind 's'), Burn's receipt (kind 'm'), or neither for
// ErrWrongPassphrase (kind 0). id is the secret's or the receipt's. At
// over 128 bytes a map keeps it out of line, in an object of its own, but
// only idempotent calls record one.
type replay struct {
	expiresAt int64 // Unix microseconds
	kind      byte
	id        key
	secret    secret
	receipt   receipt
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		secrets:  make(map[key]secret),
		receipts: make(map[key]receipt),
		replays:  make(map[key]replay),
	}
}

// errReplayID is the answer to a replay whose id is not an ID, as from
// the other stores: the store could not record under it.
var errReplayID = fmt.Errorf("memory: malformed replay id: %w", onetime.ErrInvalid)

// lock checks ctx, then locks the store. It leaves the store unlocked and
// returns onetime.ErrClosed on a closed store, and DeadlineExceeded to a
// consuming call whose deadline has passed by the time it holds the lock.
func (s *Store) lock(ctx context.Context, consume bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return onetime.ErrClosed
	}
	if d, ok := ctx.Deadline(); ok && consume && !time.Now().Before(d) {
		s.mu.Unlock()
		return fmt.Errorf("memory: %w", context.DeadlineExceeded)
	}
	return nil
}

// Create implements [onetime.Store].
func (s *Store) Create(ctx context.Context, sec *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	if err := onetime.CheckPair(sec, m); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	sk, _ := keyOf(sec.ID) // Valid, as CheckPair made sure
	mk, _ := keyOf(m.ID)
	if err := s.lock(ctx, false); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.reclaim(m.Created, reclaimPerCreate)
	_, secretStored := s.secrets[sk]
	_, receiptStored := s.receipts[mk]
	if secretStored || receiptStored {
		return onetime.ErrExists
	}

	r := receiptOf(m, sk) // SecretPresent is computed by each read, never stored
	if m.Owner != "" {
		s.next++
		r.order = s.next
	}
	s.secrets[sk], s.receipts[mk] = secretOf(sec, mk), r
	s.expiries.push(expiry{micros(sec.ExpiresAt), sk, 's'})
	s.expiries.push(expiry{micros(m.ExpiresAt), mk, 'm'})
	return nil
}

// Reveal implements [onetime.Store].
func (s *Store) Reveal(ctx context.Context, id onetime.ID, c onetime.Credentials, now time.Time, rp *onetime.Replay) (*onetime.SealedSecret, error) {
	if err := s.lock(ctx, true); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if rp != nil && !rp.ID.Valid() {
		return nil, errReplayID
	}
	if r, ok := s.replayed(rp, now); ok {
		if r.kind != 's' {
			return nil, onetime.ErrWrongPassphrase
		}
		return r.secret.sealed(r.id.id()), nil
	}
	k, valid := keyOf(id)
	sec, ok := s.secret(k, now)
	if !valid || !ok {
		return nil, onetime.ErrNotFound
	}
	if proof := field(sec.fields, secretProof); len(proof) > 0 && subtle.ConstantTimeCompare(proof, c.Proof) != 1 {
		return nil, onetime.ErrNotFound // without the link's key: nothing happens
	}
	receipt, hasReceipt := s.receipt(sec.metadataID, now)
	if check := field(sec.fields, secretCheck); len(check) > 0 && subtle.ConstantTimeCompare(check, c.Check) != 1 {
		sec.attempts++
		if sec.attempts < sec.maxAttempts {
			s.secrets[k] = sec
		} else {
			delete(s.secrets, k)
			if hasReceipt {
				receipt.state, receipt.burned, receipt.updated = onetime.StateBurned, micros(now), micros(now)
				s.receipts[sec.metadataID] = receipt
			}
		}
		s.record(rp, replay{})
		return nil, onetime.ErrWrongPassphrase
	}
	delete(s.secrets, k)
	if hasReceipt {
		receipt.state, receipt.received, receipt.updated = onetime.StateReceived, micros(now), micros(now)
		s.receipts[sec.metadataID] = receipt
	}
	s.record(rp, replay{kind: 's', id: k, secret: sec})
	return sec.sealed(id), nil
}

// replayed returns the answer recorded under rp's id if it is alive at
// now, and whether there is one.
func (s *Store) replayed(rp *onetime.Replay, now time.Time) (replay, bool) {
	if rp == nil {
		return replay{}, false
	}
	k, _ := keyOf(rp.ID) // Valid, as Reveal and Burn made sure
	r, ok := s.replays[k]
	return r, ok && micros(now) < r.expiresAt
}

// record keeps r under rp's id until rp's expiry; a nil rp records nothing.
func (s *Store) record(rp *onetime.Replay, r replay) {
	if rp != nil {
		k, _ := keyOf(rp.ID) // Valid, as Reveal and Burn made sure
		r.expiresAt = micros(rp.ExpiresAt)
		s.replays[k] = r
		s.expiries.push(expiry{r.expiresAt, k, 'r'})
	}
}

// Peek implements [onetime.Store].
func (s *Store) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	if err := s.lock(ctx, false); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	k, valid := keyOf(id)
	sec, ok := s.secret(k, now)
	if !valid || !ok {
		return nil, onetime.ErrNotFound
	}
	return &onetime.SecretInfo{
		PassphraseRequired: len(field(sec.fields, secretCheck)) > 0,
		ProofRequired:      len(field(sec.fields, secretProof)) > 0,
		Attempts:           sec.attempts,
		MaxAttempts:        sec.maxAttempts,
		ExpiresAt:          fromMicros(sec.expiresAt),
	}, nil
}

// Receipt implements [onetime.Store].
func (s *Store) Receipt(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	return s.read(ctx, id, now, false)
}

// View implements [onetime.Store].
func (s *Store) View(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	return s.read(ctx, id, now, true)
}

// read returns a copy of the receipt stored under id, and if view is set
// moves a new receipt whose secret is present to viewed.
func (s *Store) read(ctx context.Context, id onetime.ID, now time.Time, view bool) (*onetime.SealedMetadata, error) {
	if err := s.lock(ctx, false); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	k, valid := keyOf(id)
	receipt, ok := s.receipt(k, now)
	if !valid || !ok {
		return nil, onetime.ErrNotFound
	}
	before := s.sealedReceipt(id, receipt, now)
	if view && receipt.state == onetime.StateNew && before.SecretPresent {
		receipt.state, receipt.updated = onetime.StateViewed, micros(now)
		s.receipts[k] = receipt
	}
	return before, nil
}

// Burn implements [onetime.Store].
func (s *Store) Burn(ctx context.Context, id onetime.ID, now time.Time, rp *onetime.Replay) (*onetime.SealedMetadata, error) {
	if err := s.lock(ctx, true); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if rp != nil && !rp.ID.Valid() {
		return nil, errReplayID
	}
	if r, ok := s.replayed(rp, now); ok && r.kind == 'm' {
		return r.receipt.sealed(r.id.id(), false), nil // recorded with its secret gone
	}
	k, valid := keyOf(id)
	receipt, ok := s.receipt(k, now)
	if !valid || !ok || (receipt.state != onetime.StateNew && receipt.state != onetime.StateViewed) {
		return nil, onetime.ErrNotFound
	}
	if _, ok := s.secret(receipt.secretID, now); !ok {
		return nil, onetime.ErrNotFound
	}
	delete(s.secrets, receipt.secretID)
	receipt.state, receipt.burned, receipt.updated = onetime.StateBurned, micros(now), micros(now)
	s.receipts[k] = receipt
	s.record(rp, replay{kind: 'm', id: k, receipt: receipt})
	return s.sealedReceipt(id, receipt, now), nil
}

// Recent implements [onetime.Store]. It looks at every receipt stored: the
// plain way, fine for the store's uses (tests, one process); a store for
// many owners keeps an index by owner instead.
func (s *Store) Recent(ctx context.Context, owner string, now time.Time, limit int) ([]*onetime.SealedMetadata, error) {
	if err := s.lock(ctx, false); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	type keyed struct {
		k key
		r receipt
	}
	var mine []keyed
	for k, r := range s.receipts {
		if owner != "" && string(field(r.fields, receiptOwner)) == owner && micros(now) < r.expiresAt {
			mine = append(mine, keyed{k, r})
		}
	}
	// Newest first; those created at the same instant, last created first.
	slices.SortFunc(mine, func(a, b keyed) int {
		if c := cmp.Compare(b.r.created, a.r.created); c != 0 {
			return c
		}
		return cmp.Compare(b.r.order, a.r.order)
	})
	out := make([]*onetime.SealedMetadata, 0, min(limit, len(mine)))
	for _, m := range mine[:min(limit, len(mine))] {
		out = append(out, s.sealedReceipt(m.k.id(), m.r, now))
	}
	return out, nil
}

// Sweep implements [onetime.Store]. Its cost is proportional to the number
// of records that expired since the last sweep.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := s.lock(ctx, false); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	return s.reclaim(now, len(s.expiries)), nil
}

// Len reports how many secrets and receipts the store holds, expired or
// not: it shows that expired records are reclaimed.
func (s *Store) Len() (secrets, receipts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.secrets), len(s.receipts)
}

// Close discards every record. Later calls return onetime.ErrClosed;
// calling Close again is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.secrets, s.receipts, s.replays, s.expiries = nil, nil, nil, nil
	return nil
}

// secret returns the secret stored under k if it is alive at now, and
// whether it is. Callers of it and of the methods below hold s.mu.
// Records are values: a caller that changes one stores it again.
func (s *Store) secret(k key, now time.Time) (secret, bool) {
	sec, ok := s.secrets[k]
	return sec, ok && micros(now) < sec.expiresAt
}

// receipt returns the receipt stored under k if it is alive at now, and
// whether it is.
func (s *Store) receipt(k key, now time.Time) (receipt, bool) {
	r, ok := s.receipts[k]
	return r, ok && micros(now) < r.expiresAt
}

// sealedReceipt returns the receipt r stored under id as the caller's
// struct, with SecretPresent as at now.
func (s *Store) sealedReceipt(id onetime.ID, r receipt, now time.Time) *onetime.SealedMetadata {
	_, present := s.secret(r.secretID, now)
	return r.sealed(id, present)
}

// secretOf returns sec as the store keeps it, with its receipt's key mk.
func secretOf(sec *onetime.SealedSecret, mk key) secret {
	return secret{
		metadataID:  mk,
		attempts:    sec.Attempts,
		maxAttempts: sec.MaxAttempts,
		expiresAt:   micros(sec.ExpiresAt),
		fields:      pack(sec.Sealed, sec.Check, sec.Proof, []byte(sec.ShareDomain)),
	}
}

// sealed returns sec, stored under id, as the caller's struct: a copy
// that shares nothing with the store.
func (sec secret) sealed(id onetime.ID) *onetime.SealedSecret {
	return &onetime.SealedSecret{
		ID:          id,
		MetadataID:  sec.metadataID.id(),
		Sealed:      bytes.Clone(field(sec.fields, secretSealed)),
		Check:       bytes.Clone(field(sec.fields, secretCheck)),
		Proof:       bytes.Clone(field(sec.fields, secretProof)),
		Attempts:    sec.attempts,
		MaxAttempts: sec.maxAttempts,
		ShareDomain: string(field(sec.fields, secretShareDomain)),
		ExpiresAt:   fromMicros(sec.expiresAt),
	}
}

// receiptOf returns m as the store keeps it, with its secret's key sk.
func receiptOf(m *onetime.SealedMetadata, sk key) receipt {
	return receipt{
		secretID:           sk,
		state:              m.State,
		passphraseRequired: m.PassphraseRequired,
		created:            micros(m.Created),
		updated:            micros(m.Updated),
		received:           micros(m.Received),
		burned:             micros(m.Burned),
		secretExpiresAt:    micros(m.SecretExpiresAt),
		expiresAt:          micros(m.ExpiresAt),
		fields:             pack([]byte(m.Owner), []byte(m.ShareDomain), m.Sealed, m.OwnerSealed),
	}
}

// sealed returns r, stored under id, as the caller's struct with the
// SecretPresent given: a copy that shares nothing with the store.
func (r receipt) sealed(id onetime.ID, secretPresent bool) *onetime.SealedMetadata {
	return &onetime.SealedMetadata{
		ID:                 id,
		SecretID:           r.secretID.id(),
		Owner:              string(field(r.fields, receiptOwner)),
		State:              r.state,
		PassphraseRequired: r.passphraseRequired,
		ShareDomain:        string(field(r.fields, receiptShareDomain)),
		Created:            fromMicros(r.created),
		Updated:            fromMicros(r.updated),
		Received:           fromMicros(r.received),
		Burned:             fromMicros(r.burned),
		SecretExpiresAt:    fromMicros(r.secretExpiresAt),
		ExpiresAt:          fromMicros(r.expiresAt),
		Sealed:             bytes.Clone(field(r.fields, receiptSealed)),
		OwnerSealed:        bytes.Clone(field(r.fields, receiptOwnerSealed)),
		SecretPresent:      secretPresent,
	}
}

// micros returns t in Unix microseconds, the precision the store keeps
// (the zero time included); fromMicros is its inverse, in UTC. A time t
// is before one stored as at exactly when micros(t) < at.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// pack returns fields one after another in one new slice, so that a
// record holds them with one pointer. Each field follows the uvarint of
// its length plus one, or of 0 for a nil slice, so that a nil field comes
// back nil and an empty one empty.
func pack(fields ...[]byte) []byte {
	size := 0
	for _, f := range fields {
		size += uvarintLen(len(f)+1) + len(f)
	}
	data := make([]byte, 0, size)
	for _, f := range fields {
		n := 0
		if f != nil {
			n = len(f) + 1
		}
		data = binary.AppendUvarint(data, uint64(n))
		data = append(data, f...)
	}
	return data
}

// field returns field i of data, as pack wrote it. It shares data's bytes:
// clone it to return it.
func field(data []byte, i int) []byte {
	for {
		n, w := binary.Uvarint(data)
		var f []byte // nil for n == 0
		if n > 0 {
			f = data[w : w+int(n)-1 : w+int(n)-1]
		}
		if i == 0 {
			return f
		}
		data, i = data[w+len(f):], i-1
	}
}

// uvarintLen returns the length of n as a uvarint.
func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}
