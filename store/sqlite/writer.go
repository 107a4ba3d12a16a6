package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/onetimego/onetime"
)

// A writer runs every write of a Store on one goroutine, with group
// commit: the operations that arrive while a transaction is running are
// run together in the next one. Each is still atomic and isolated (they
// run one after the other under the write lock, and one that fails with a
// database error is taken out and the rest run again), and none is
// acknowledged before the COMMIT that makes it durable. One commit then
// pays for many operations: the WAL frames of the pages they share, the
// locks, BEGIN and COMMIT (and the fsync, with SyncFull). With a single
// caller every transaction holds one operation: nobody waits for a batch
// to fill.
type writer struct {
	conn  *sql.Conn   // the one connection the store writes through
	setup setup       // how configure found conn, to give it back
	stmts []*sql.Stmt // prepared on conn, indexed by the w* constants
	ops   chan *op
	quit  chan struct{} // closed by close
	done  chan struct{} // closed when the loop has returned
	max   int           // operations per transaction at most
	ckpt  *checkpointer // nil when the store does not checkpoint itself

	// For tests: transactions run (batches) and operations in them,
	// COMMITs that succeeded, and callers waiting to hand an op over.
	nBatches, nOps, nCommits, waiting atomic.Int64
}

// An op is one Store method's writes: fn runs in a transaction shared
// with other ops; raw, when set instead, runs alone on the connection,
// outside any transaction (a checkpoint).
type op struct {
	ctx context.Context
	// deadline, when set, is the last instant at which the op's writes
	// may commit (see consume).
	deadline time.Time
	fn       func(*wtx) error
	raw      func(context.Context, *sql.Conn) error
	err      error
	done     chan struct{}
}

// wtx is the transaction an op runs in. Its context is not the caller's:
// see run.
type wtx struct {
	ctx context.Context
	w   *writer
}

func (t *wtx) exec(k int, args ...any) (sql.Result, error) {
	return t.w.stmts[k].ExecContext(t.ctx, args...)
}

func (t *wtx) queryRow(k int, args ...any) *sql.Row {
	return t.w.stmts[k].QueryRowContext(t.ctx, args...)
}

// newWriter prepares the write statements on conn and starts the loop.
// The writer owns conn from then on and releases it in close.
func newWriter(ctx context.Context, conn *sql.Conn, st setup, maxBatch int, ckpt *checkpointer) (*writer, error) {
	w := &writer{conn: conn, setup: st, max: maxBatch, ckpt: ckpt, ops: make(chan *op), quit: make(chan struct{}), done: make(chan struct{})}
	for _, q := range writeQueries {
		st, err := conn.PrepareContext(ctx, q)
		if err != nil {
			w.closeStmts()
			return nil, err
		}
		w.stmts = append(w.stmts, st)
	}
	go w.loop()
	return w, nil
}

func (w *writer) closeStmts() {
	for _, st := range w.stmts {
		st.Close()
	}
}

// close stops the loop after the transaction in progress, and releases
// the connection; operations not yet taken fail with onetime.ErrClosed.
func (w *writer) close() {
	close(w.quit)
	<-w.done
	w.closeStmts()
	w.setup.release(w.conn)
}

// do runs fn as one atomic operation and returns its error. A context
// cancelled before the operation starts stops it; once it has started it
// runs to its commit, so that its outcome (a secret revealed) is never
// lost between the database and the caller.
func (w *writer) do(ctx context.Context, fn func(*wtx) error) error {
	return w.send(&op{ctx: ctx, fn: fn, done: make(chan struct{})})
}

// consume runs fn as do does, for an operation that consumes a secret
// (Reveal, Burn): if ctx has a deadline, its writes commit only if the
// deadline has not passed when their transaction is about to commit, the
// last instant before they take effect. A writer held up past it (a long
// batch, a lock held by another process) so consumes nothing whose answer
// can no longer reach the caller; the call returns an error wrapping
// context.DeadlineExceeded.
func (w *writer) consume(ctx context.Context, fn func(*wtx) error) error {
	o := &op{ctx: ctx, fn: fn, done: make(chan struct{})}
	o.deadline, _ = ctx.Deadline()
	return w.send(o)
}

// errLate is the error of an op whose deadline passed before its commit.
var errLate = fmt.Errorf("sqlite: deadline passed before the commit: %w", context.DeadlineExceeded)

// exclusive runs fn on the writer's connection outside any transaction,
// between two batches.
func (w *writer) exclusive(ctx context.Context, fn func(context.Context, *sql.Conn) error) error {
	return w.send(&op{ctx: ctx, raw: fn, done: make(chan struct{})})
}

func (w *writer) send(o *op) error {
	w.waiting.Add(1)
	select {
	case w.ops <- o:
		w.waiting.Add(-1)
	case <-o.ctx.Done():
		w.waiting.Add(-1)
		return o.ctx.Err()
	case <-w.quit:
		w.waiting.Add(-1)
		return onetime.ErrClosed
	}
	<-o.done
	return o.err
}

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]*op, 0, w.max)
	var next *op // a raw op met while filling a batch: it runs after it
	for {
		o := next
		next = nil
		if o == nil {
			select {
			case o = <-w.ops:
			case <-w.quit:
				return
			}
		}
		if o.raw != nil {
			if o.err = o.ctx.Err(); o.err == nil {
				o.err = o.raw(context.Background(), w.conn)
			}
			close(o.done)
			continue
		}
		batch = append(batch[:0], o)
		// Let goroutines that are about to write queue up first: on a
		// busy machine they are runnable but not running, and a yield
		// fills the batch (measured: from ~2.5 to ~10 operations per
		// commit with 16 writers on 2 CPUs, and 30% less CPU per
		// operation). Yield again while that brings more.
		for yields := 1; w.max > 1 && next == nil; yields++ {
			runtime.Gosched()
			n := len(batch)
		drain:
			for len(batch) < w.max {
				select {
				case o := <-w.ops:
					if o.raw != nil {
						next = o
						break drain
					}
					batch = append(batch, o)
				default:
					break drain
				}
			}
			if len(batch) == n || len(batch) == w.max || yields == 3 {
				break
			}
		}
		w.run(batch)
		if w.ckpt != nil {
			w.ckpt.committed()
		}
		w.nBatches.Add(1)
		w.nOps.Add(int64(len(batch)))
		for i := range batch {
			close(batch[i].done)
			batch[i] = nil
		}
	}
}

// kept reports whether an operation that returned err keeps its writes
// and lets its batch commit: the outcomes of the contract do (a counted
// wrong passphrase; a duplicate, which writes nothing). Any other error
// is the database's, and undoes the batch.
func kept(err error) bool {
	return err == nil || errors.Is(err, onetime.ErrWrongPassphrase) ||
		errors.Is(err, onetime.ErrNotFound) || errors.Is(err, onetime.ErrExists)
}

// run runs a batch and sets each op's err. An op whose context is done
// before it starts does not run. The statements of an op that has started
// run without its context, so that a caller giving up cannot leave half an
// operation in a transaction shared with others. If an op fails with a
// database error, the transaction is rolled back and the others are run
// again without it, so one failure fails one caller.
func (w *writer) run(batch []*op) {
	pending := make([]*op, 0, len(batch))
	for _, o := range batch {
		if err := o.ctx.Err(); err != nil {
			o.err = err
		} else {
			pending = append(pending, o)
		}
	}
	for len(pending) > 0 {
		bad := w.try(pending)
		if bad < 0 {
			return
		}
		pending = append(pending[:bad], pending[bad+1:]...)
	}
}

// try runs ops in one transaction. It returns the index of the op whose
// error rolled the transaction back, or -1 when every op has its outcome
// (committed, or failed together with BEGIN or COMMIT).
func (w *writer) try(ops []*op) int {
	fail := func(err error) int {
		for _, o := range ops {
			o.err = err
		}
		return -1
	}
	// The transaction is tied to no caller's context: one caller giving
	// up must not roll back the others. BEGIN IMMEDIATE takes the write
	// lock at once (waiting out the busy timeout), so that an op that
	// reads before it writes never finds its snapshot stale.
	ctx := context.Background()
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fail(err)
	}
	t := &wtx{ctx: ctx, w: w}
	for i, o := range ops {
		o.err = call(o.fn, t)
		if !kept(o.err) {
			w.rollback()
			return i
		}
	}
	// The last check before the writes take effect: an op whose deadline
	// has passed is taken out, and the others run again without it.
	now := time.Now()
	for i, o := range ops {
		if !o.deadline.IsZero() && !now.Before(o.deadline) {
			o.err = errLate
			w.rollback()
			return i
		}
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		w.rollback() // a failed COMMIT may leave the transaction open
		return fail(err)
	}
	w.nCommits.Add(1)
	return -1
}

// rollback ends the transaction in progress, if SQLite has not already.
func (w *writer) rollback() {
	w.conn.ExecContext(context.Background(), "ROLLBACK")
}

// call runs fn, turning a panic into an error so that the writer, and
// every caller waiting on it, survive a bug in one operation.
func call(fn func(*wtx) error, t *wtx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlite: panic in a write: %v", r)
		}
	}()
	return fn(t)
}
