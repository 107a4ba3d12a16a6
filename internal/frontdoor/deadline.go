package frontdoor

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// A deadlineCtx is context.WithDeadline(parent, deadline) that starts no
// timer until something waits on it. Most requests never do: a share or
// reveal on the memory or SQLite store only asks for the deadline (Store
// implementations refuse to consume past it) and for Err, and never
// selects on Done. context.WithDeadline would register a child with the
// request's context (locking it and allocating its Done channel) and start
// a runtime timer for every request: about 5% of the server's CPU on a
// share (issue 22), for a timer that almost always is stopped unfired.
//
// The first call of Done makes the context.WithDeadline it stands for;
// from then on every method is that context's. Before that, Err computes
// what it would say, and keeps the first answer that is not nil: the
// parent's error, DeadlineExceeded once the deadline has passed, Canceled
// once released. Value hands out the
// started context's values, so that context.WithCancel and AfterFunc find
// its cancelCtx (and register with it) as they would find the standard
// one. (Before the start, context.Cause finds the parent's: nil on a
// deadline passed unobserved. Nothing the server runs calls Cause.)
type deadlineCtx struct {
	parent   context.Context
	deadline time.Time

	mu      sync.Mutex
	started atomic.Pointer[startedDeadline] // set once, under mu
	err     error                           // under mu: the first reason seen before the start
}

// startedDeadline is the context.WithDeadline that a deadlineCtx became.
type startedDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// withDeadline returns a context that is done at deadline or when parent
// is. Call its release once the request is served, as one would call
// context.WithDeadline's cancel.
func withDeadline(parent context.Context, deadline time.Time) *deadlineCtx {
	return &deadlineCtx{parent: parent, deadline: deadline}
}

// Deadline implements context.Context: the earlier of the parent's and
// its own.
func (c *deadlineCtx) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done implements context.Context. It starts the timer.
func (c *deadlineCtx) Done() <-chan struct{} {
	return c.start().ctx.Done()
}

// Err implements context.Context.
func (c *deadlineCtx) Err() error {
	if s := c.started.Load(); s != nil {
		return s.ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason()
}

// reason returns, and keeps, the first reason for c to be done: the
// parent's error, or DeadlineExceeded once the deadline has passed; nil
// while there is none. The caller holds c.mu.
func (c *deadlineCtx) reason() error {
	if c.err == nil {
		if err := c.parent.Err(); err != nil {
			c.err = err
		} else if !time.Now().Before(c.deadline) {
			c.err = context.DeadlineExceeded
		}
	}
	return c.err
}

// Value implements context.Context.
func (c *deadlineCtx) Value(key any) any {
	if s := c.started.Load(); s != nil {
		return s.ctx.Value(key)
	}
	return c.parent.Value(key)
}

// start returns the context.WithDeadline that c stands for, made on the
// first call (and cancelled at once if c had a reason to be done already:
// released, or its parent's error, or its deadline passed, which
// context.WithDeadline would see for itself).
func (c *deadlineCtx) start() *startedDeadline {
	if s := c.started.Load(); s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.started.Load(); s != nil {
		return s
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	if c.err != nil {
		cancel()
	}
	s := &startedDeadline{ctx, cancel}
	c.started.Store(s)
	return s
}

// release ends c as a cancel function would: Err says Canceled from then
// on (unless it had a reason already) and a started timer is stopped.
func (c *deadlineCtx) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.started.Load(); s != nil {
		s.cancel()
	} else if c.reason() == nil {
		c.err = context.Canceled
	}
}
