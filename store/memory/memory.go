// Package memory is an in-process [onetime.Store]: fast, safe for
// concurrent use, and gone when the process ends. Use it in tests and in
// single-process programs that need no durability.
//
// Expired records stay invisible from the instant they expire. The space
// they hold is reclaimed a few at a time as new secrets arrive, so the
// store stays about as large as what is alive without any sweeper, and all
// at once by Sweep, in time proportional to the number expired.
package memory

import (
	"bytes"
	"container/heap"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/onetimego/onetime"
)

// reclaimPerCreate is how many expired records Create reclaims: more than
// the two it adds, so that the store shrinks towards what is alive.
const reclaimPerCreate = 4

// Store is an in-memory [onetime.Store]. The zero value is not usable; call New.
type Store struct {
	mu      sync.Mutex
	closed  bool
	secrets map[onetime.ID]*onetime.SealedSecret
	metas   map[onetime.ID]*onetime.SealedMetadata
	// owners lists each owner's receipts by Created, ties in order of
	// Create. An entry is live while metas holds that very pointer;
	// reclaimed receipts stay listed until dead, their count per owner,
	// reaches half the list, so that pruning costs O(1) per receipt.
	owners map[string][]*onetime.SealedMetadata
	dead   map[string]int
	expiry expiryHeap
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		secrets: make(map[onetime.ID]*onetime.SealedSecret),
		metas:   make(map[onetime.ID]*onetime.SealedMetadata),
		owners:  make(map[string][]*onetime.SealedMetadata),
		dead:    make(map[string]int),
	}
}

// lock takes the mutex after checking ctx, and fails on a closed store.
func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return onetime.ErrClosed
	}
	return nil
}

// Create implements [onetime.Store].
func (s *Store) Create(ctx context.Context, sec *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	// Reclaim a few expired records with every new pair, by the creation
	// time the Service passes, so that a program that never calls Sweep
	// still holds only about as many records as are alive.
	s.reclaim(m.Created, reclaimPerCreate)
	if _, ok := s.secrets[sec.ID]; ok {
		return onetime.ErrExists
	}
	if _, ok := s.metas[m.ID]; ok {
		return onetime.ErrExists
	}
	s.secrets[sec.ID] = cloneSecret(sec)
	mc := cloneMetadata(m)
	mc.SecretPresent = false
	s.metas[m.ID] = mc
	heap.Push(&s.expiry, expiryEntry{at: sec.ExpiresAt, id: sec.ID, secret: true})
	heap.Push(&s.expiry, expiryEntry{at: m.ExpiresAt, id: m.ID})
	if m.Owner != "" {
		list := append(s.owners[m.Owner], mc)
		// Keep the list ordered by Created even if clocks disagree; new
		// entries almost always belong at the end.
		for i := len(list) - 1; i > 0 && list[i-1].Created.After(list[i].Created); i-- {
			list[i-1], list[i] = list[i], list[i-1]
		}
		s.owners[m.Owner] = list
	}
	return nil
}

// secret returns the live secret with the given id, or nil. Callers hold mu.
func (s *Store) secret(id onetime.ID, now time.Time) *onetime.SealedSecret {
	sec := s.secrets[id]
	if sec == nil || !now.Before(sec.ExpiresAt) {
		return nil
	}
	return sec
}

// meta returns the live receipt with the given id, or nil. Callers hold mu.
func (s *Store) meta(id onetime.ID, now time.Time) *onetime.SealedMetadata {
	m := s.metas[id]
	if m == nil || !now.Before(m.ExpiresAt) {
		return nil
	}
	return m
}

// Reveal implements [onetime.Store].
func (s *Store) Reveal(ctx context.Context, id onetime.ID, check []byte, now time.Time) (*onetime.SealedSecret, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	sec := s.secret(id, now)
	if sec == nil {
		return nil, onetime.ErrNotFound
	}
	m := s.meta(sec.MetadataID, now)
	if len(sec.Check) > 0 && !bytes.Equal(sec.Check, check) {
		sec.Attempts++
		if sec.Attempts >= sec.MaxAttempts {
			delete(s.secrets, id)
			if m != nil {
				m.State, m.Burned, m.Updated = onetime.StateBurned, now, now
			}
		}
		return nil, onetime.ErrWrongPassphrase
	}
	delete(s.secrets, id)
	if m != nil {
		m.State, m.Received, m.Updated = onetime.StateReceived, now, now
	}
	return sec, nil // deleted: no one else holds it
}

// Receipt implements [onetime.Store].
func (s *Store) Receipt(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	m := s.meta(id, now)
	if m == nil {
		return nil, onetime.ErrNotFound
	}
	return s.snapshot(m, now), nil
}

func (s *Store) snapshot(m *onetime.SealedMetadata, now time.Time) *onetime.SealedMetadata {
	c := cloneMetadata(m)
	c.SecretPresent = s.secret(m.SecretID, now) != nil
	return c
}

// View implements [onetime.Store].
func (s *Store) View(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	m := s.meta(id, now)
	if m == nil {
		return nil, onetime.ErrNotFound
	}
	before := s.snapshot(m, now)
	if m.State == onetime.StateNew && before.SecretPresent {
		m.State, m.Updated = onetime.StateViewed, now
	}
	return before, nil
}

// Peek implements [onetime.Store].
func (s *Store) Peek(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SecretInfo, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	sec := s.secret(id, now)
	if sec == nil {
		return nil, onetime.ErrNotFound
	}
	return &onetime.SecretInfo{
		PassphraseRequired: len(sec.Check) > 0,
		Attempts:           sec.Attempts,
		MaxAttempts:        sec.MaxAttempts,
		ExpiresAt:          sec.ExpiresAt,
	}, nil
}

// Burn implements [onetime.Store].
func (s *Store) Burn(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	m := s.meta(id, now)
	if m == nil || (m.State != onetime.StateNew && m.State != onetime.StateViewed) || s.secret(m.SecretID, now) == nil {
		return nil, onetime.ErrNotFound
	}
	delete(s.secrets, m.SecretID)
	m.State, m.Burned, m.Updated = onetime.StateBurned, now, now
	return cloneMetadata(m), nil
}

// Recent implements [onetime.Store].
func (s *Store) Recent(ctx context.Context, owner string, now time.Time, limit int) ([]*onetime.SealedMetadata, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	list := s.owners[owner]
	var out []*onetime.SealedMetadata
	for i := len(list) - 1; i >= 0 && len(out) < limit; i-- {
		if m := s.meta(list[i].ID, now); m != nil && m == list[i] {
			out = append(out, s.snapshot(m, now))
		}
	}
	return out, nil
}

// Sweep implements [onetime.Store]. Its cost is proportional to the number
// of records that expired since the last sweep.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	return s.reclaim(now, -1), nil
}

// reclaim deletes up to limit records expired at now (all when limit is
// negative) and reports how many it deleted. Callers hold mu.
func (s *Store) reclaim(now time.Time, limit int) int {
	n := 0
	for len(s.expiry) > 0 && !now.Before(s.expiry[0].at) && n != limit {
		e := heap.Pop(&s.expiry).(expiryEntry)
		if e.secret {
			if sec, ok := s.secrets[e.id]; ok && sec.ExpiresAt.Equal(e.at) {
				delete(s.secrets, e.id)
				n++
			}
			continue
		}
		if m, ok := s.metas[e.id]; ok && m.ExpiresAt.Equal(e.at) {
			delete(s.metas, e.id)
			n++
			if m.Owner != "" {
				s.unlist(m.Owner)
			}
		}
	}
	return n
}

// unlist counts one more reclaimed receipt in the owner's list, and drops
// the reclaimed entries once they make half of it. Callers hold mu.
func (s *Store) unlist(owner string) {
	list := s.owners[owner]
	s.dead[owner]++
	if 2*s.dead[owner] < len(list) {
		return
	}
	// DeleteFunc zeroes the tail, letting the dropped receipts go.
	list = slices.DeleteFunc(list, func(m *onetime.SealedMetadata) bool { return s.metas[m.ID] != m })
	delete(s.dead, owner)
	if len(list) == 0 {
		delete(s.owners, owner)
	} else {
		s.owners[owner] = list
	}
}

// Len reports how many secrets and receipts the store holds, expired or
// not; it shows whether sweeping reclaims space.
func (s *Store) Len() (secrets, receipts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.secrets), len(s.metas)
}

// Close discards every record. Later calls return onetime.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.secrets, s.metas, s.owners, s.dead, s.expiry = nil, nil, nil, nil, nil
	return nil
}

func cloneSecret(s *onetime.SealedSecret) *onetime.SealedSecret {
	c := *s
	c.Sealed = bytes.Clone(s.Sealed)
	c.Check = bytes.Clone(s.Check)
	return &c
}

func cloneMetadata(m *onetime.SealedMetadata) *onetime.SealedMetadata {
	c := *m
	c.Sealed = bytes.Clone(m.Sealed)
	c.OwnerSealed = bytes.Clone(m.OwnerSealed)
	return &c
}

type expiryEntry struct {
	at     time.Time
	id     onetime.ID
	secret bool
}

// expiryHeap is a min-heap of expiry times, for sweeping in O(expired).
type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
