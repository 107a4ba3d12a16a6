package memory

import (
	"container/heap"
	"time"

	"github.com/onetimego/onetime"
)

// This file reclaims the space of what expired (see the package doc's
// "Expiry without a sweeper"); memory.go is the contract, step by step.

// reclaimPerCreate is how many expiries each Create takes from the heap:
// more than the two it adds, so that the heap shrinks towards what is alive.
const reclaimPerCreate = 4

// reclaim takes up to n expiries passed at now from the heap, oldest
// first, removes what they name if it is still stored and expired (and not
// a later record under the same id), and reports how many records it
// removed: replays are not records.
func (s *Store) reclaim(now time.Time, n int) int {
	removed := 0
	for ; n > 0 && len(s.expiries) > 0 && !now.Before(s.expiries[0].at); n-- {
		e := heap.Pop(&s.expiries).(*expiry)
		if sec := s.secrets[e.id]; e.kind == 's' && sec != nil && !now.Before(sec.ExpiresAt) {
			delete(s.secrets, e.id)
			removed++
		} else if r := s.receipts[e.id]; e.kind == 'm' && r != nil && !now.Before(r.ExpiresAt) {
			delete(s.receipts, e.id)
			delete(s.order, e.id)
			removed++
		} else if r := s.replays[e.id]; e.kind == 'r' && r != nil && !now.Before(r.expiresAt) {
			delete(s.replays, e.id)
		}
	}
	return removed
}

// An expiry says when what is stored under id expires: kind is 's' for a
// secret, 'm' for a receipt, 'r' for a replay.
type expiry struct {
	at   time.Time
	id   onetime.ID
	kind byte
}

// expiryHeap is a min-heap of expiries by time, for [container/heap]. Its
// pointers pass through Push and Pop as an any without an allocation.
type expiryHeap []*expiry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(*expiry)) }

func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil // so that the array does not keep e alive
	*h = old[:len(old)-1]
	return e
}
