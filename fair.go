package onetime

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// errKDFBusy is what a passphrase derivation answers when the request's
// deadline passes while it waits for, or runs, the derivation: the service
// was too busy, and the caller should retry later. It is not the
// caller's going away, so it does not match context.DeadlineExceeded.
var errKDFBusy = fmt.Errorf("%w: the deadline passed while waiting for a passphrase derivation", ErrBusy)

// busyOr returns errKDFBusy for a deadline that passed, and err otherwise
// (a caller that cancelled is gone, not kept waiting).
func busyOr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return errKDFBusy
	}
	return err
}

// fairSem is a counting semaphore whose waiters are served round-robin by
// client: when a slot frees, it goes to the longest-waiting request of the
// next client in turn, not to whoever queued first. One client with a
// thousand requests in the queue then delays another client's request by
// at most one derivation per slot, instead of a thousand.
type fairSem struct {
	mu      sync.Mutex
	free    int
	queues  map[string][]*fairWaiter // per client, oldest first
	clients []string                 // clients with waiters, in turn order
	tel     *instruments             // counts the waiters; nil counts nothing
}

type fairWaiter struct {
	ready chan struct{} // closed, under mu, when the slot is handed over
}

func newFairSem(n int) *fairSem {
	return &fairSem{free: n, queues: make(map[string][]*fairWaiter)}
}

// acquire waits for a slot for client, or for ctx to end: then it returns
// ctx's error, or an error wrapping ErrBusy when ctx's deadline passed.
func (s *fairSem) acquire(ctx context.Context, client string) error {
	s.mu.Lock()
	if s.free > 0 && len(s.clients) == 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	w := &fairWaiter{ready: make(chan struct{})}
	q, queued := s.queues[client]
	if !queued {
		s.clients = append(s.clients, client)
	}
	s.queues[client] = append(q, w)
	s.mu.Unlock()
	s.tel.kdfQueued(ctx, 1)
	defer s.tel.kdfQueued(ctx, -1)

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		select {
		case <-w.ready:
			// Handed a slot just as ctx ended: pass it on.
			s.releaseLocked()
		default:
			s.remove(client, w)
		}
		return busyOr(ctx.Err())
	}
}

// release returns a slot, handing it to the next client in turn.
func (s *fairSem) release() {
	s.mu.Lock()
	s.releaseLocked()
	s.mu.Unlock()
}

func (s *fairSem) releaseLocked() {
	if len(s.clients) == 0 {
		s.free++
		return
	}
	client := s.clients[0]
	q := s.queues[client]
	w := q[0]
	s.clients = s.clients[1:]
	if len(q) == 1 {
		delete(s.queues, client)
	} else {
		s.queues[client] = q[1:]
		s.clients = append(s.clients, client) // to the back of the turn
	}
	close(w.ready)
}

// remove drops a waiter that gave up. Callers hold mu.
func (s *fairSem) remove(client string, w *fairWaiter) {
	q := s.queues[client]
	for i, x := range q {
		if x == w {
			q = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	if len(q) > 0 {
		s.queues[client] = q
		return
	}
	delete(s.queues, client)
	for i, c := range s.clients {
		if c == client {
			s.clients = append(s.clients[:i:i], s.clients[i+1:]...)
			break
		}
	}
}
