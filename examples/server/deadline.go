package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineCtx is a request's context with the handler's deadline added,
// as context.WithDeadline would make it, except that the timer that closes
// Done at the deadline is started only when something asks for Done. Most
// requests never wait on their context (the memory store only calls Err,
// which here compares the clock with the deadline): they cost no timer, no
// entry among the parent's children and no cancellation, some 5% of a
// share's CPU time on the memory store. Whoever waits on Done gets what
// context.WithDeadline gives.
type deadlineCtx struct {
	context.Context // the request's: values, and its own cancellation
	deadline        time.Time

	mu    sync.Mutex
	timed atomic.Pointer[timedCtx] // set once, by Done or release
}

type timedCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// released stands in for the context once the handler has returned and
// nothing had asked for Done: it is canceled, as a context.WithTimeout's
// is by the deferred cancel.
var released = func() *timedCtx {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return &timedCtx{ctx, cancel}
}()

func newDeadlineCtx(parent context.Context, deadline time.Time) *deadlineCtx {
	return &deadlineCtx{Context: parent, deadline: deadline}
}

// Deadline returns the sooner of the parent's deadline and its own.
func (c *deadlineCtx) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done starts the timer, the first time it is called.
func (c *deadlineCtx) Done() <-chan struct{} {
	if t := c.timed.Load(); t != nil {
		return t.ctx.Done()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timed.Load(); t != nil {
		return t.ctx.Done()
	}
	ctx, cancel := context.WithDeadline(c.Context, c.deadline)
	c.timed.Store(&timedCtx{ctx, cancel})
	return ctx.Done()
}

// Err is the parent's error, else DeadlineExceeded once the deadline has
// passed; once Done has been asked for, the error of the context behind it.
func (c *deadlineCtx) Err() error {
	if t := c.timed.Load(); t != nil {
		return t.ctx.Err()
	}
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value is the parent's, through the context behind Done once there is
// one: so that a context derived from this one finds the cancellation it
// hangs on (context's own lookup), rather than starting a goroutine to
// watch Done.
func (c *deadlineCtx) Value(key any) any {
	if t := c.timed.Load(); t != nil && t != released {
		return t.ctx.Value(key)
	}
	return c.Context.Value(key)
}

// release cancels the context, as the cancel function of
// context.WithDeadline does: call it when the handler returns.
func (c *deadlineCtx) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.timed.Load(); t != nil {
		t.cancel()
		return
	}
	c.timed.Store(released)
}
