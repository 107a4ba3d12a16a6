package memory

import "time"

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
	removed, at := 0, micros(now)
	for ; n > 0 && len(s.expiries) > 0 && at >= s.expiries[0].at; n-- {
		e := s.expiries.pop()
		if sec, ok := s.secrets[e.id]; e.kind == 's' && ok && at >= sec.expiresAt {
			delete(s.secrets, e.id)
			removed++
		} else if r, ok := s.receipts[e.id]; e.kind == 'm' && ok && at >= r.expiresAt {
			delete(s.receipts, e.id)
			removed++
		} else if r, ok := s.replays[e.id]; e.kind == 'r' && ok && at >= r.expiresAt {
			delete(s.replays, e.id)
		}
	}
	return removed
}

// An expiry says when what is stored under id expires, in Unix
// microseconds: kind is 's' for a secret, 'm' for a receipt, 'r' for a
// replay. It holds no pointer, so neither does the heap's array.
type expiry struct {
	at   int64
	id   key
	kind byte
}

// expiryHeap is a min-heap of expiries by time. It is kept by hand rather
// than by [container/heap], whose Push and Pop pass each expiry as an any,
// which allocates a value without a pointer; push and pop are that
// package's, for a slice of values.
type expiryHeap []expiry

// push adds e to the heap.
func (h *expiryHeap) push(e expiry) {
	*h = append(*h, e)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if q[i].at >= q[parent].at {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

// pop removes and returns the earliest expiry; the heap is not empty.
func (h *expiryHeap) pop() expiry {
	q := *h
	top, last := q[0], len(q)-1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		child := 2*i + 1
		if child >= len(q) {
			break
		}
		if right := child + 1; right < len(q) && q[right].at < q[child].at {
			child = right
		}
		if q[child].at >= q[i].at {
			break
		}
		q[i], q[child] = q[child], q[i]
		i = child
	}
	*h = q
	return top
}
