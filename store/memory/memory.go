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
// # Expiry without a sweeper
//
// A record is expired from the instant its ExpiresAt is not after now:
// every method checks before it serves or changes a record. Its space is
// reclaimed without a goroutine: every expiry goes into a min-heap
// ([container/heap]), and each Create removes up to four records expired at
// the new pair's creation, more than the two it adds, so that a store that
// is never swept holds about what is alive. Sweep removes all that expired.
//
// A Reveal or Burn given a [onetime.Replay] keeps a copy of its answer in
// the same locked step as its change, reclaimed like a record (though not
// counted as one), and checks its context's deadline once it holds the
// lock. The store keeps every field as given and returns copies.
package memory

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"crypto/subtle"
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

	secrets  map[onetime.ID]*onetime.SealedSecret
	receipts map[onetime.ID]*onetime.SealedMetadata
	replays  map[onetime.ID]*replay

	// order numbers each receipt with an owner in order of Create, to
	// break ties of Created in Recent.
	order map[onetime.ID]uint64
	next  uint64

	// expiries holds the expiry of every record created (consumed ones
	// too) and replay recorded, until reclaim takes it.
	expiries expiryHeap
}

// A replay is an answer recorded under a [onetime.Replay]'s id: Reveal's
// secret, Burn's receipt, or neither for ErrWrongPassphrase.
type replay struct {
	expiresAt time.Time
	secret    *onetime.SealedSecret
	receipt   *onetime.SealedMetadata
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		secrets:  make(map[onetime.ID]*onetime.SealedSecret),
		receipts: make(map[onetime.ID]*onetime.SealedMetadata),
		replays:  make(map[onetime.ID]*replay),
		order:    make(map[onetime.ID]uint64),
	}
}

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
	if err := s.lock(ctx, false); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.reclaim(m.Created, reclaimPerCreate)
	if s.secrets[sec.ID] != nil || s.receipts[m.ID] != nil {
		return onetime.ErrExists
	}

	secret, receipt := copySecret(sec), copyMetadata(m)
	receipt.SecretPresent = false // computed by each read, never stored
	s.secrets[sec.ID], s.receipts[m.ID] = secret, receipt
	heap.Push(&s.expiries, &expiry{sec.ExpiresAt, sec.ID, 's'})
	heap.Push(&s.expiries, &expiry{m.ExpiresAt, m.ID, 'm'})
	if m.Owner != "" {
		s.next++
		s.order[m.ID] = s.next
	}
	return nil
}

// Reveal implements [onetime.Store].
func (s *Store) Reveal(ctx context.Context, id onetime.ID, c onetime.Credentials, now time.Time, rp *onetime.Replay) (*onetime.SealedSecret, error) {
	if err := s.lock(ctx, true); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if r := s.replayed(rp, now); r != nil {
		if r.secret == nil {
			return nil, onetime.ErrWrongPassphrase
		}
		return copySecret(r.secret), nil
	}
	sec := s.secret(id, now)
	if sec == nil {
		return nil, onetime.ErrNotFound
	}
	if len(sec.Proof) > 0 && subtle.ConstantTimeCompare(sec.Proof, c.Proof) != 1 {
		return nil, onetime.ErrNotFound // without the link's key: nothing happens
	}
	receipt := s.receipt(sec.MetadataID, now)
	if len(sec.Check) > 0 && subtle.ConstantTimeCompare(sec.Check, c.Check) != 1 {
		sec.Attempts++
		if sec.Attempts >= sec.MaxAttempts {
			delete(s.secrets, id)
			if receipt != nil {
				receipt.State, receipt.Burned, receipt.Updated = onetime.StateBurned, now, now
			}
		}
		s.record(rp, &replay{})
		return nil, onetime.ErrWrongPassphrase
	}
	delete(s.secrets, id)
	if receipt != nil {
		receipt.State, receipt.Received, receipt.Updated = onetime.StateReceived, now, now
	}
	s.record(rp, &replay{secret: copySecret(sec)})
	return sec, nil // no longer stored: the caller's to keep
}

// replayed returns the answer recorded under rp's id if it is alive at
// now, else nil.
func (s *Store) replayed(rp *onetime.Replay, now time.Time) *replay {
	if rp == nil {
		return nil
	}
	if r := s.replays[rp.ID]; r != nil && now.Before(r.expiresAt) {
		return r
	}
	return nil
}

// record keeps r under rp's id until rp's expiry; a nil rp records nothing.
func (s *Store) record(rp *onetime.Replay, r *replay) {
	if rp != nil {
		r.expiresAt = rp.ExpiresAt
		s.replays[rp.ID] = r
		heap.Push(&s.expiries, &expiry{rp.ExpiresAt, rp.ID, 'r'})
	}
}

// Peek implements [onetime.Store].
func (s *Store) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	if err := s.lock(ctx, false); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	sec := s.secret(id, now)
	if sec == nil {
		return nil, onetime.ErrNotFound
	}
	return &onetime.SecretInfo{
		PassphraseRequired: len(sec.Check) > 0,
		ProofRequired:      len(sec.Proof) > 0,
		Attempts:           sec.Attempts,
		MaxAttempts:        sec.MaxAttempts,
		ExpiresAt:          sec.ExpiresAt,
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
	receipt := s.receipt(id, now)
	if receipt == nil {
		return nil, onetime.ErrNotFound
	}
	before := s.copyReceipt(receipt, now)
	if view && receipt.State == onetime.StateNew && before.SecretPresent {
		receipt.State, receipt.Updated = onetime.StateViewed, now
	}
	return before, nil
}

// Burn implements [onetime.Store].
func (s *Store) Burn(ctx context.Context, id onetime.ID, now time.Time, rp *onetime.Replay) (*onetime.SealedMetadata, error) {
	if err := s.lock(ctx, true); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if r := s.replayed(rp, now); r != nil && r.receipt != nil {
		return copyMetadata(r.receipt), nil
	}
	receipt := s.receipt(id, now)
	if receipt == nil || (receipt.State != onetime.StateNew && receipt.State != onetime.StateViewed) ||
		s.secret(receipt.SecretID, now) == nil {
		return nil, onetime.ErrNotFound
	}
	delete(s.secrets, receipt.SecretID)
	receipt.State, receipt.Burned, receipt.Updated = onetime.StateBurned, now, now
	out := s.copyReceipt(receipt, now)
	s.record(rp, &replay{receipt: copyMetadata(out)})
	return out, nil
}

// Recent implements [onetime.Store]. It looks at every receipt stored: the
// plain way, fine for the store's uses (tests, one process); a store for
// many owners keeps an index by owner instead.
func (s *Store) Recent(ctx context.Context, owner string, now time.Time, limit int) ([]*onetime.SealedMetadata, error) {
	if err := s.lock(ctx, false); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var mine []*onetime.SealedMetadata
	for _, r := range s.receipts {
		if r.Owner == owner && owner != "" && now.Before(r.ExpiresAt) {
			mine = append(mine, r)
		}
	}
	// Newest first; those created at the same instant, last created first.
	slices.SortFunc(mine, func(a, b *onetime.SealedMetadata) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return cmp.Compare(s.order[b.ID], s.order[a.ID])
	})
	out := make([]*onetime.SealedMetadata, 0, min(limit, len(mine)))
	for _, r := range mine[:min(limit, len(mine))] {
		out = append(out, s.copyReceipt(r, now))
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
	s.secrets, s.receipts, s.replays, s.order, s.expiries = nil, nil, nil, nil, nil
	return nil
}

// secret returns the secret stored under id if it is alive at now, else
// nil. Callers of it and of the methods below hold s.mu.
func (s *Store) secret(id onetime.ID, now time.Time) *onetime.SealedSecret {
	if sec := s.secrets[id]; sec != nil && now.Before(sec.ExpiresAt) {
		return sec
	}
	return nil
}

// receipt returns the receipt stored under id if it is alive at now, else nil.
func (s *Store) receipt(id onetime.ID, now time.Time) *onetime.SealedMetadata {
	if r := s.receipts[id]; r != nil && now.Before(r.ExpiresAt) {
		return r
	}
	return nil
}

// copyReceipt returns a copy of the stored r, with SecretPresent as at now.
func (s *Store) copyReceipt(r *onetime.SealedMetadata, now time.Time) *onetime.SealedMetadata {
	out := copyMetadata(r)
	out.SecretPresent = s.secret(r.SecretID, now) != nil
	return out
}

// copyMetadata and copySecret return deep copies (bytes.Clone keeps nil
// nil and empty empty), so that the caller may reuse its slices.
func copyMetadata(r *onetime.SealedMetadata) *onetime.SealedMetadata {
	out := *r
	out.Sealed, out.OwnerSealed = bytes.Clone(r.Sealed), bytes.Clone(r.OwnerSealed)
	return &out
}

func copySecret(sec *onetime.SealedSecret) *onetime.SealedSecret {
	out := *sec
	out.Sealed, out.Check, out.Proof = bytes.Clone(sec.Sealed), bytes.Clone(sec.Check), bytes.Clone(sec.Proof)
	return &out
}
