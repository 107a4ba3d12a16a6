// Package memory is an in-process [onetime.Store]: fast, safe for
// concurrent use, and gone when the process ends. Use it in tests and in
// single-process programs that need no durability.
//
// Expired records stay invisible from the instant they expire. The space
// they hold is reclaimed a few at a time as new secrets arrive, so the
// store stays about as large as what is alive without any sweeper, and all
// at once by Sweep, in time proportional to the number expired.
//
// # Layout
//
// The garbage collector's work grows with the pointers it must trace, not
// with the bytes held, so the store keeps its records where it finds none:
// in maps from fixed-size keys (an [onetime.ID] decoded to 20 bytes) to
// fixed-size values, whose variable-length parts (sealed bytes, checks,
// owners, domains) live in per-shard byte arenas, addressed by offset and
// length. A store of a million secrets then costs a collection about what
// a store of a thousand does. The records are spread over shards by the
// pair's slot, so a secret and its receipt share one shard and one lock.
//
// Times are kept to the microsecond, in UTC, as the Service gives them.
// The store takes only ids of the form [onetime.ID.Valid] reports, which
// are the only ones a Service makes; Create rejects others.
package memory

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onetimego/onetime"
)

// reclaimPerCreate is how many expired records Create reclaims: more than
// the two it adds, so that the store shrinks towards what is alive.
const reclaimPerCreate = 4

// shardCount is the number of shards, a power of two.
const shardCount = 32

var (
	errInvalidID = errors.New("memory store: an id is not 40 lowercase hexadecimal digits")
	errCrossSlot = errors.New("memory store: a secret and its receipt must share a slot")
	errTooLarge  = errors.New("memory store: record too large")
)

// Store is an in-memory [onetime.Store]. The zero value is not usable; call New.
type Store struct {
	closed atomic.Bool
	seq    atomic.Uint64 // numbers receipts in order of Create
	shards [shardCount]shard

	// hmu guards expiry, every record's expiry in one min-heap, so that
	// Create and Sweep reclaim the oldest expired records first wherever
	// they are. It is never held with another lock.
	hmu    sync.Mutex
	expiry expiryHeap

	// omu guards owners and dead. owners lists each owner's receipts by
	// Created, ties in order of Create; an entry is live while its shard
	// holds a receipt of that id and seq. Reclaimed receipts stay listed
	// until dead, their count per owner, reaches half the list, so that
	// pruning costs O(1) per receipt. omu may be held while taking a
	// shard's lock, never the other way round.
	omu    sync.Mutex
	owners map[string][]ownedEntry
	dead   map[string]int
}

// A shard holds the records whose slot falls to it.
type shard struct {
	mu      sync.Mutex
	secrets map[key]secretRec
	metas   map[key]metaRec
	arena   arena
}

// key is an [onetime.ID] decoded from hexadecimal.
type key [20]byte

// secretRec is a stored [onetime.SealedSecret]. Its blob holds Sealed,
// Check and ShareDomain, in that order.
type secretRec struct {
	meta                           key
	flags                          uint8
	blob                           uint32
	sealedLen, checkLen, domainLen uint32
	attempts, maxAttempts          int32
	expires                        int64 // Unix microseconds
}

// metaRec is a stored [onetime.SealedMetadata]. Its blob holds Sealed,
// OwnerSealed, Owner and ShareDomain, in that order.
type metaRec struct {
	secret                                         key
	state                                          onetime.State
	flags                                          uint8
	passphrase                                     bool
	blob                                           uint32
	sealedLen, ownerSealedLen, ownerLen, domainLen uint32
	seq                                            uint64
	// Unix microseconds.
	created, updated, received, burned, secretExpires, expires int64
}

// flags of the records: which byte slices were nil rather than empty.
const (
	sealedNil      = 1 << iota // Sealed
	checkNil                   // Check of a secret
	ownerSealedNil             // OwnerSealed of a receipt
)

type ownedEntry struct {
	id      key
	created int64
	seq     uint64
}

type expiryEntry struct {
	at     int64 // Unix microseconds
	id     key
	secret bool
}

// New returns an empty Store.
func New() *Store {
	s := &Store{
		owners: make(map[string][]ownedEntry),
		dead:   make(map[string]int),
	}
	for i := range s.shards {
		s.shards[i].secrets = make(map[key]secretRec)
		s.shards[i].metas = make(map[key]metaRec)
	}
	return s
}

// parseID decodes id, and reports whether it has the form of an ID.
func parseID(id onetime.ID) (k key, ok bool) {
	if len(id) != 2*len(k) {
		return key{}, false
	}
	for i := range k {
		hi, ok1 := unhex(id[2*i])
		lo, ok2 := unhex(id[2*i+1])
		if !ok1 || !ok2 {
			return key{}, false
		}
		k[i] = hi<<4 | lo
	}
	return k, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// id encodes k back to an ID.
func (k key) id() onetime.ID {
	var b [2 * len(k)]byte
	hex.Encode(b[:], k[:])
	return onetime.ID(b[:])
}

// shard returns the shard of the pair whose slot k begins with.
func (s *Store) shard(k key) *shard {
	return &s.shards[k[onetime.SlotLen/2-1]%shardCount]
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// lock parses id, checks ctx, and locks the id's shard, failing on a
// closed store. ok is false for an id of the wrong form, which names
// nothing; the lock is then held all the same.
func (s *Store) lock(ctx context.Context, id onetime.ID) (sh *shard, k key, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, key{}, false, err
	}
	k, ok = parseID(id)
	sh = s.shard(k)
	sh.mu.Lock()
	if s.closed.Load() {
		sh.mu.Unlock()
		return nil, key{}, false, onetime.ErrClosed
	}
	return sh, k, ok, nil
}

// Create implements [onetime.Store].
func (s *Store) Create(ctx context.Context, sec *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sk, ok1 := parseID(sec.ID)
	smk, ok2 := parseID(sec.MetadataID)
	mk, ok3 := parseID(m.ID)
	msk, ok4 := parseID(m.SecretID)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return errInvalidID
	}
	if sec.ID.Slot() != m.ID.Slot() {
		return errCrossSlot
	}
	slen, clen, sdlen := len(sec.Sealed), len(sec.Check), len(sec.ShareDomain)
	mlen, olen, onlen, mdlen := len(m.Sealed), len(m.OwnerSealed), len(m.Owner), len(m.ShareDomain)
	const maxBlob = 1 << 30
	if slen+clen+sdlen > maxBlob || mlen+olen+onlen+mdlen > maxBlob {
		return errTooLarge
	}
	sh := s.shard(sk)
	sh.mu.Lock()
	if s.closed.Load() {
		sh.mu.Unlock()
		return onetime.ErrClosed
	}
	_, dupS := sh.secrets[sk]
	_, dupM := sh.metas[mk]
	var seq uint64
	if !dupS && !dupM {
		sr := secretRec{
			meta:        smk,
			sealedLen:   uint32(slen),
			checkLen:    uint32(clen),
			domainLen:   uint32(sdlen),
			attempts:    int32(sec.Attempts),
			maxAttempts: int32(sec.MaxAttempts),
			expires:     micros(sec.ExpiresAt),
		}
		if sec.Sealed == nil {
			sr.flags |= sealedNil
		}
		if sec.Check == nil {
			sr.flags |= checkNil
		}
		sr.blob = sh.arena.alloc(slen + clen + sdlen)
		b := sh.arena.bytes(sr.blob, slen+clen+sdlen)
		copy(b[copy(b, sec.Sealed):], sec.Check)
		copy(b[slen+clen:], sec.ShareDomain)

		seq = s.seq.Add(1)
		mr := metaRec{
			secret:         msk,
			state:          m.State,
			passphrase:     m.PassphraseRequired,
			sealedLen:      uint32(mlen),
			ownerSealedLen: uint32(olen),
			ownerLen:       uint32(onlen),
			domainLen:      uint32(mdlen),
			seq:            seq,
			created:        micros(m.Created),
			updated:        micros(m.Updated),
			received:       micros(m.Received),
			burned:         micros(m.Burned),
			secretExpires:  micros(m.SecretExpiresAt),
			expires:        micros(m.ExpiresAt),
		}
		if m.Sealed == nil {
			mr.flags |= sealedNil
		}
		if m.OwnerSealed == nil {
			mr.flags |= ownerSealedNil
		}
		mr.blob = sh.arena.alloc(mlen + olen + onlen + mdlen)
		b = sh.arena.bytes(mr.blob, mlen+olen+onlen+mdlen)
		copy(b[copy(b, m.Sealed):], m.OwnerSealed)
		copy(b[mlen+olen:], m.Owner)
		copy(b[mlen+olen+onlen:], m.ShareDomain)

		sh.secrets[sk] = sr
		sh.metas[mk] = mr
	}
	sh.mu.Unlock()

	// Reclaim a few expired records with every new pair, by the creation
	// time the Service passes, so that a program that never calls Sweep
	// still holds only about as many records as are alive.
	var popped [reclaimPerCreate]expiryEntry
	s.hmu.Lock()
	if s.closed.Load() {
		s.hmu.Unlock()
		return onetime.ErrClosed
	}
	if seq != 0 {
		s.expiry.push(expiryEntry{at: micros(sec.ExpiresAt), id: sk, secret: true})
		s.expiry.push(expiryEntry{at: micros(m.ExpiresAt), id: mk})
	}
	n := s.expiry.popExpired(micros(m.Created), popped[:])
	s.hmu.Unlock()
	s.expire(popped[:n], micros(m.Created))

	if seq == 0 {
		return onetime.ErrExists
	}
	if m.Owner != "" {
		s.list(m.Owner, ownedEntry{id: mk, created: micros(m.Created), seq: seq})
	}
	return nil
}

// list adds e to owner's list.
func (s *Store) list(owner string, e ownedEntry) {
	s.omu.Lock()
	defer s.omu.Unlock()
	if s.owners == nil { // closed meanwhile
		return
	}
	list := append(s.owners[owner], e)
	// Keep the list ordered by Created even if clocks disagree; new
	// entries almost always belong at the end.
	for i := len(list) - 1; i > 0 && list[i-1].created > list[i].created; i-- {
		list[i-1], list[i] = list[i], list[i-1]
	}
	s.owners[owner] = list
}

// expire deletes the records of entries that are expired at now, and
// reports how many it deleted.
func (s *Store) expire(entries []expiryEntry, now int64) int {
	n := 0
	var owners []string
	for _, e := range entries {
		sh := s.shard(e.id)
		sh.mu.Lock()
		if e.secret {
			if r, ok := sh.secrets[e.id]; ok && r.expires <= now {
				sh.deleteSecret(e.id, r)
				n++
			}
		} else if r, ok := sh.metas[e.id]; ok && r.expires <= now {
			if r.ownerLen > 0 {
				owners = append(owners, string(sh.ownerOf(r)))
			}
			sh.deleteMeta(e.id, r)
			n++
		}
		sh.maybeCompact()
		sh.mu.Unlock()
	}
	for _, o := range owners {
		s.unlist(o)
	}
	return n
}

// unlist counts one more reclaimed receipt in the owner's list, and drops
// the reclaimed entries once they make half of it.
func (s *Store) unlist(owner string) {
	s.omu.Lock()
	defer s.omu.Unlock()
	if s.owners == nil {
		return
	}
	list := s.owners[owner]
	s.dead[owner]++
	if 2*s.dead[owner] < len(list) {
		return
	}
	list = slices.DeleteFunc(list, func(e ownedEntry) bool { return !s.listed(e) })
	delete(s.dead, owner)
	if len(list) == 0 {
		delete(s.owners, owner)
	} else {
		s.owners[owner] = list
	}
}

// listed reports whether the receipt of e is still stored, expired or not.
func (s *Store) listed(e ownedEntry) bool {
	sh := s.shard(e.id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r, ok := sh.metas[e.id]
	return ok && r.seq == e.seq
}

// Reveal implements [onetime.Store].
func (s *Store) Reveal(ctx context.Context, id onetime.ID, check []byte, now time.Time) (*onetime.SealedSecret, error) {
	sh, k, ok, err := s.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer sh.mu.Unlock()
	t := micros(now)
	r, live := sh.secret(k, t)
	if !ok || !live {
		return nil, onetime.ErrNotFound
	}
	m, mlive := sh.meta(r.meta, t)
	if r.checkLen > 0 && !bytes.Equal(sh.checkOf(r), check) {
		r.attempts++
		if r.attempts >= r.maxAttempts {
			sh.deleteSecret(k, r)
			if mlive {
				m.state, m.burned, m.updated = onetime.StateBurned, t, t
				sh.metas[r.meta] = m
			}
			sh.maybeCompact()
		} else {
			sh.secrets[k] = r
		}
		return nil, onetime.ErrWrongPassphrase
	}
	out := sh.exportSecret(id, r)
	sh.deleteSecret(k, r)
	if mlive {
		m.state, m.received, m.updated = onetime.StateReceived, t, t
		sh.metas[r.meta] = m
	}
	sh.maybeCompact()
	return out, nil
}

// Receipt implements [onetime.Store].
func (s *Store) Receipt(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	sh, k, ok, err := s.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer sh.mu.Unlock()
	t := micros(now)
	m, live := sh.meta(k, t)
	if !ok || !live {
		return nil, onetime.ErrNotFound
	}
	return sh.snapshot(id, m, t), nil
}

// View implements [onetime.Store].
func (s *Store) View(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	sh, k, ok, err := s.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer sh.mu.Unlock()
	t := micros(now)
	m, live := sh.meta(k, t)
	if !ok || !live {
		return nil, onetime.ErrNotFound
	}
	before := sh.snapshot(id, m, t)
	if m.state == onetime.StateNew && before.SecretPresent {
		m.state, m.updated = onetime.StateViewed, t
		sh.metas[k] = m
	}
	return before, nil
}

// Peek implements [onetime.Store].
func (s *Store) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	sh, k, ok, err := s.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer sh.mu.Unlock()
	r, live := sh.secret(k, micros(now))
	if !ok || !live {
		return nil, onetime.ErrNotFound
	}
	return &onetime.SecretInfo{
		PassphraseRequired: r.checkLen > 0,
		Attempts:           int(r.attempts),
		MaxAttempts:        int(r.maxAttempts),
		ExpiresAt:          fromMicros(r.expires),
	}, nil
}

// Burn implements [onetime.Store].
func (s *Store) Burn(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	sh, k, ok, err := s.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer sh.mu.Unlock()
	t := micros(now)
	m, live := sh.meta(k, t)
	if !ok || !live || (m.state != onetime.StateNew && m.state != onetime.StateViewed) {
		return nil, onetime.ErrNotFound
	}
	r, slive := sh.secret(m.secret, t)
	if !slive {
		return nil, onetime.ErrNotFound
	}
	sh.deleteSecret(m.secret, r)
	m.state, m.burned, m.updated = onetime.StateBurned, t, t
	sh.metas[k] = m
	sh.maybeCompact()
	return sh.snapshot(id, m, t), nil
}

// Recent implements [onetime.Store].
func (s *Store) Recent(ctx context.Context, owner string, now time.Time, limit int) ([]*onetime.SealedMetadata, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.omu.Lock()
	defer s.omu.Unlock()
	if s.closed.Load() {
		return nil, onetime.ErrClosed
	}
	t := micros(now)
	list := s.owners[owner]
	var out []*onetime.SealedMetadata
	for i := len(list) - 1; i >= 0 && len(out) < limit; i-- {
		e := list[i]
		sh := s.shard(e.id)
		sh.mu.Lock()
		if m, live := sh.meta(e.id, t); live && m.seq == e.seq {
			out = append(out, sh.snapshot(e.id.id(), m, t))
		}
		sh.mu.Unlock()
	}
	return out, nil
}

// Sweep implements [onetime.Store]. Its cost is proportional to the number
// of records that expired since the last sweep.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	t := micros(now)
	var batch [256]expiryEntry
	total := 0
	for {
		s.hmu.Lock()
		if s.closed.Load() {
			s.hmu.Unlock()
			return total, onetime.ErrClosed
		}
		n := s.expiry.popExpired(t, batch[:])
		s.hmu.Unlock()
		total += s.expire(batch[:n], t)
		if n < len(batch) {
			return total, nil
		}
	}
}

// Len reports how many secrets and receipts the store holds, expired or
// not; it shows whether sweeping reclaims space.
func (s *Store) Len() (secrets, receipts int) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		secrets += len(sh.secrets)
		receipts += len(sh.metas)
		sh.mu.Unlock()
	}
	return secrets, receipts
}

// Close discards every record. Later calls return onetime.ErrClosed.
func (s *Store) Close() error {
	s.closed.Store(true)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.secrets, sh.metas, sh.arena = nil, nil, arena{}
		sh.mu.Unlock()
	}
	s.hmu.Lock()
	s.expiry = nil
	s.hmu.Unlock()
	s.omu.Lock()
	s.owners, s.dead = nil, nil
	s.omu.Unlock()
	return nil
}

// secret returns the secret stored under k and whether it is alive at t.
// Callers hold mu, as for every method of shard.
func (sh *shard) secret(k key, t int64) (secretRec, bool) {
	r, ok := sh.secrets[k]
	return r, ok && t < r.expires
}

// meta returns the receipt stored under k and whether it is alive at t.
func (sh *shard) meta(k key, t int64) (metaRec, bool) {
	m, ok := sh.metas[k]
	return m, ok && t < m.expires
}

func (r *secretRec) size() int { return int(r.sealedLen + r.checkLen + r.domainLen) }

func (m *metaRec) size() int {
	return int(m.sealedLen + m.ownerSealedLen + m.ownerLen + m.domainLen)
}

// checkOf returns the stored check of r, in the arena: do not keep it.
func (sh *shard) checkOf(r secretRec) []byte {
	return sh.arena.bytes(r.blob, r.size())[r.sealedLen : r.sealedLen+r.checkLen]
}

// ownerOf returns the stored owner of m, in the arena: do not keep it.
func (sh *shard) ownerOf(m metaRec) []byte {
	off := m.sealedLen + m.ownerSealedLen
	return sh.arena.bytes(m.blob, m.size())[off : off+m.ownerLen]
}

func (sh *shard) deleteSecret(k key, r secretRec) {
	sh.arena.release(r.blob, r.size())
	delete(sh.secrets, k)
}

func (sh *shard) deleteMeta(k key, m metaRec) {
	sh.arena.release(m.blob, m.size())
	delete(sh.metas, k)
}

// exportSecret returns a copy of the secret r stored under id.
func (sh *shard) exportSecret(id onetime.ID, r secretRec) *onetime.SealedSecret {
	b := sh.arena.bytes(r.blob, r.size())
	sl, cl := int(r.sealedLen), int(r.checkLen)
	buf := bytes.Clone(b[:sl+cl])
	out := &onetime.SealedSecret{
		ID:          id,
		MetadataID:  r.meta.id(),
		Attempts:    int(r.attempts),
		MaxAttempts: int(r.maxAttempts),
		ShareDomain: string(b[sl+cl:]),
		ExpiresAt:   fromMicros(r.expires),
	}
	if r.flags&sealedNil == 0 {
		out.Sealed = nonNil(buf[:sl:sl])
	}
	if r.flags&checkNil == 0 {
		out.Check = nonNil(buf[sl : sl+cl : sl+cl])
	}
	return out
}

// snapshot returns a copy of the receipt m stored under id, with
// SecretPresent as at t.
func (sh *shard) snapshot(id onetime.ID, m metaRec, t int64) *onetime.SealedMetadata {
	b := sh.arena.bytes(m.blob, m.size())
	sl, ol, nl := int(m.sealedLen), int(m.ownerSealedLen), int(m.ownerLen)
	buf := bytes.Clone(b[:sl+ol])
	_, present := sh.secret(m.secret, t)
	out := &onetime.SealedMetadata{
		ID:                 id,
		SecretID:           m.secret.id(),
		Owner:              string(b[sl+ol : sl+ol+nl]),
		State:              m.state,
		PassphraseRequired: m.passphrase,
		ShareDomain:        string(b[sl+ol+nl:]),
		Created:            fromMicros(m.created),
		Updated:            fromMicros(m.updated),
		Received:           fromMicros(m.received),
		Burned:             fromMicros(m.burned),
		SecretExpiresAt:    fromMicros(m.secretExpires),
		ExpiresAt:          fromMicros(m.expires),
		SecretPresent:      present,
	}
	if m.flags&sealedNil == 0 {
		out.Sealed = nonNil(buf[:sl:sl])
	}
	if m.flags&ownerSealedNil == 0 {
		out.OwnerSealed = nonNil(buf[sl : sl+ol : sl+ol])
	}
	return out
}

// nonNil returns b, or an empty slice for a nil b: a field given empty but
// not nil comes back so.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// maybeCompact moves the shard's records to a fresh arena once its free
// space outgrows what is in use, so that a store that shrank gives the
// space back. Its cost, proportional to the records of the shard, is paid
// once per as many bytes freed.
func (sh *shard) maybeCompact() {
	a := &sh.arena
	if a.idle < compactMin || a.idle <= a.live {
		return
	}
	fresh := arena{large: a.large, largeFree: a.largeFree}
	move := func(addr uint32, n int) uint32 {
		if n == 0 || addr&largeFlag != 0 {
			return addr // not in the chunks: nothing to move
		}
		to := fresh.alloc(n)
		copy(fresh.bytes(to, n), a.bytes(addr, n))
		return to
	}
	for k, r := range sh.secrets {
		r.blob = move(r.blob, r.size())
		sh.secrets[k] = r
	}
	for k, m := range sh.metas {
		m.blob = move(m.blob, m.size())
		sh.metas[k] = m
	}
	sh.arena = fresh
}

// An arena holds byte strings without pointers for the collector to trace:
// strings of up to maxSmall bytes in chunks of chunkSize bytes, in blocks
// of a few size classes with a free list each; longer ones in slices of
// their own. An address names a block: chunk<<chunkShift | offset, or
// largeFlag | index in large.
type arena struct {
	chunks    [][]byte
	next      uint32 // address of the unused tail of the last chunk
	free      [classCount][]uint32
	large     [][]byte
	largeFree []uint32
	// live and idle count the bytes of blocks in use and on the free
	// lists, in chunks.
	live, idle int
}

const (
	chunkShift = 16
	chunkSize  = 1 << chunkShift
	maxSmall   = 8 << 10
	largeFlag  = 1 << 31
	// classCount covers maxSmall: 8 classes up to 128, 8 per doubling after.
	classCount = 8 + 8*6
	// compactMin is the free space below which a shard never compacts.
	compactMin = 2 * chunkSize
)

// sizeClass returns the class of blocks for n bytes (0 < n <= maxSmall)
// and their size: a multiple of 16 up to 128, then 8 sizes per doubling,
// so that a block wastes at most an eighth of itself.
func sizeClass(n int) (class, size int) {
	if n <= 128 {
		size = (n + 15) &^ 15
		return size/16 - 1, size
	}
	l := bits.Len(uint(n - 1))
	shift := l - 4
	m := (n-1)>>shift + 1 // 9 to 16
	return 8 + (l-8)*8 + (m - 9), m << shift
}

// alloc returns the address of a block for n bytes.
func (a *arena) alloc(n int) uint32 {
	if n == 0 {
		return 0
	}
	if n > maxSmall {
		return a.allocLarge(n)
	}
	c, size := sizeClass(n)
	if l := a.free[c]; len(l) > 0 {
		a.live += size
		a.free[c] = l[:len(l)-1]
		a.idle -= size
		return l[len(l)-1]
	}
	ci, off := int(a.next>>chunkShift), int(a.next&(chunkSize-1))
	if ci >= len(a.chunks) || off+size > chunkSize {
		if len(a.chunks) >= largeFlag>>chunkShift {
			// The chunks address 2 GiB per shard: past that, small
			// records get slices of their own, like large ones.
			return a.allocLarge(n)
		}
		a.chunks = append(a.chunks, make([]byte, chunkSize))
		a.next = uint32(len(a.chunks)-1) << chunkShift
	}
	a.live += size
	addr := a.next
	a.next += uint32(size)
	return addr
}

// allocLarge returns the address of a slice of n bytes of its own.
func (a *arena) allocLarge(n int) uint32 {
	b := make([]byte, n)
	if k := len(a.largeFree); k > 0 {
		i := a.largeFree[k-1]
		a.largeFree = a.largeFree[:k-1]
		a.large[i] = b
		return largeFlag | i
	}
	a.large = append(a.large, b)
	return largeFlag | uint32(len(a.large)-1)
}

// bytes returns the n bytes at addr, in the arena.
func (a *arena) bytes(addr uint32, n int) []byte {
	if n == 0 {
		return nil
	}
	if addr&largeFlag != 0 {
		return a.large[addr&^largeFlag]
	}
	off := addr & (chunkSize - 1)
	return a.chunks[addr>>chunkShift][off : int(off)+n : int(off)+n]
}

// release frees the block of n bytes at addr.
func (a *arena) release(addr uint32, n int) {
	switch {
	case n == 0:
	case addr&largeFlag != 0:
		i := addr &^ largeFlag
		a.large[i] = nil
		a.largeFree = append(a.largeFree, i)
	default:
		c, size := sizeClass(n)
		a.free[c] = append(a.free[c], addr)
		a.live -= size
		a.idle += size
	}
}

// expiryHeap is a min-heap of expiry times, for reclaiming in O(expired).
// It is 4-ary: half as deep as a binary heap, with a node's children side
// by side, so that a push or pop in a heap of millions of entries misses
// the cache half as often.
type expiryHeap []expiryEntry

const heapArity = 4

func (h *expiryHeap) push(e expiryEntry) {
	*h = append(*h, e)
	q := *h
	i := len(q) - 1
	for i > 0 {
		p := (i - 1) / heapArity
		if q[p].at <= e.at {
			break
		}
		q[i] = q[p]
		i = p
	}
	q[i] = e
}

// popExpired moves up to len(into) entries expired at now from the heap
// into into, oldest first, and reports how many it moved.
func (h *expiryHeap) popExpired(now int64, into []expiryEntry) int {
	n := 0
	for n < len(into) && len(*h) > 0 && (*h)[0].at <= now {
		into[n] = h.pop()
		n++
	}
	return n
}

func (h *expiryHeap) pop() expiryEntry {
	q := *h
	top := q[0]
	last := len(q) - 1
	e := q[last]
	q = q[:last]
	*h = q
	if last == 0 {
		return top
	}
	i := 0
	for {
		first := heapArity*i + 1
		if first >= len(q) {
			break
		}
		c := first
		for j := first + 1; j < min(first+heapArity, len(q)); j++ {
			if q[j].at < q[c].at {
				c = j
			}
		}
		if e.at <= q[c].at {
			break
		}
		q[i] = q[c]
		i = c
	}
	q[i] = e
	return top
}
