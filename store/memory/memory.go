// Package memory is an in-process [onetime.Store]: fast, safe for
// concurrent use, and gone when the process ends. Use it in tests and in
// single-process programs that need no durability.
//
// Expired records stay invisible from the instant they expire; the space
// they hold is reclaimed by Sweep (which the [onetime.Service] calls
// periodically) in time proportional to the number expired.
package memory

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/onetimego/onetime"
)

// ErrClosed is returned by every method of a closed Store.
var ErrClosed = errors.New("memory: store closed")

// Store is an in-memory [onetime.Store]. The zero value is not usable; call New.
type Store struct {
	mu      sync.Mutex
	closed  bool
	seq     uint64
	secrets map[onetime.ID]*onetime.Secret
	metas   map[onetime.ID]*onetime.Metadata
	owners  map[string][]indexEntry // per owner, ordered by (created, seq)
	expiry  expiryHeap
}

type indexEntry struct {
	id      onetime.ID
	created time.Time
	seq     uint64
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		secrets: make(map[onetime.ID]*onetime.Secret),
		metas:   make(map[onetime.ID]*onetime.Metadata),
		owners:  make(map[string][]indexEntry),
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
		return ErrClosed
	}
	return nil
}

// Create implements [onetime.Store].
func (s *Store) Create(ctx context.Context, sec *onetime.Secret, m *onetime.Metadata) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
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
	s.seq++
	if m.Owner != "" {
		list := append(s.owners[m.Owner], indexEntry{id: m.ID, created: m.Created, seq: s.seq})
		// Keep the list ordered by Created even if clocks disagree; new
		// entries almost always belong at the end.
		for i := len(list) - 1; i > 0 && list[i-1].created.After(list[i].created); i-- {
			list[i-1], list[i] = list[i], list[i-1]
		}
		s.owners[m.Owner] = list
	}
	return nil
}

// secret returns the live secret with the given id, or nil. Callers hold mu.
func (s *Store) secret(id onetime.ID, now time.Time) *onetime.Secret {
	sec := s.secrets[id]
	if sec == nil || !now.Before(sec.ExpiresAt) {
		return nil
	}
	return sec
}

// meta returns the live receipt with the given id, or nil. Callers hold mu.
func (s *Store) meta(id onetime.ID, now time.Time) *onetime.Metadata {
	m := s.metas[id]
	if m == nil || !now.Before(m.ExpiresAt) {
		return nil
	}
	return m
}

// Reveal implements [onetime.Store].
func (s *Store) Reveal(ctx context.Context, id onetime.ID, check []byte, now time.Time) (*onetime.Secret, error) {
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
func (s *Store) Receipt(ctx context.Context, id onetime.ID, now time.Time) (*onetime.Metadata, error) {
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

func (s *Store) snapshot(m *onetime.Metadata, now time.Time) *onetime.Metadata {
	c := cloneMetadata(m)
	c.SecretPresent = s.secret(m.SecretID, now) != nil
	return c
}

// MarkViewed implements [onetime.Store].
func (s *Store) MarkViewed(ctx context.Context, id onetime.ID, now time.Time) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	m := s.meta(id, now)
	if m == nil {
		return onetime.ErrNotFound
	}
	if m.State == onetime.StateNew {
		m.State, m.Updated = onetime.StateViewed, now
	}
	return nil
}

// Burn implements [onetime.Store].
func (s *Store) Burn(ctx context.Context, id onetime.ID, now time.Time) (*onetime.Metadata, error) {
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
func (s *Store) Recent(ctx context.Context, owner string, now time.Time, limit int) ([]*onetime.Metadata, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	list := s.owners[owner]
	var out []*onetime.Metadata
	for i := len(list) - 1; i >= 0 && len(out) < limit; i-- {
		if m := s.meta(list[i].id, now); m != nil {
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
	n := 0
	pruned := map[string]bool{}
	for len(s.expiry) > 0 && !now.Before(s.expiry[0].at) {
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
				pruned[m.Owner] = true
			}
		}
	}
	for owner := range pruned {
		list := slices.DeleteFunc(s.owners[owner], func(e indexEntry) bool {
			_, ok := s.metas[e.id]
			return !ok
		})
		if len(list) == 0 {
			delete(s.owners, owner)
		} else {
			s.owners[owner] = list
		}
	}
	return n, nil
}

// Len reports how many secrets and receipts the store holds, expired or
// not; it shows whether sweeping reclaims space.
func (s *Store) Len() (secrets, receipts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.secrets), len(s.metas)
}

// Close discards every record. Later calls return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.secrets, s.metas, s.owners, s.expiry = nil, nil, nil, nil
	return nil
}

func cloneSecret(s *onetime.Secret) *onetime.Secret {
	c := *s
	c.Sealed = bytes.Clone(s.Sealed)
	c.Check = bytes.Clone(s.Check)
	return &c
}

func cloneMetadata(m *onetime.Metadata) *onetime.Metadata {
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
