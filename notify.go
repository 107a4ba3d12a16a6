package onetime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// A Notifier hands a new secret's link to its recipient, by e-mail or
// otherwise (package notify/smtpnotify sends mail).
//
// The Service calls it off the request path: Share stores the secret,
// puts one [Notification] per recipient in a bounded queue and answers at
// once, and worker goroutines call Notify (see [NotifyOptions]). So Notify
// must be safe for concurrent use. Its ctx carries the values of the
// share's context (the [Caller], a request id) but neither its deadline
// nor its cancellation, which end with the request; instead each attempt
// has a deadline of its own (NotifyOptions.AttemptTimeout), and ctx ends
// when [Service.Close] gives up waiting.
//
// A failed Notify is retried, with a growing wait, up to
// NotifyOptions.MaxAttempts times, unless its error matches
// [ErrUndeliverable] (errors.Is): return that when no retry can help, such
// as a recipient the mail server refuses for good. A retry after an
// attempt whose confirmation was lost may deliver twice; both messages
// hold the same link, which reveals the secret once. Errors are logged by
// type only: they may quote the address, which the Service never logs in
// clear. A failure never undoes the share.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// A Notification is one recipient's share of a new secret.
type Notification struct {
	Recipient   string // the address in clear: never store or log it
	Owner       string // the customer who shared the secret
	SecretKey   SecretKey
	ShareDomain string
	ExpiresAt   time.Time
}

// ErrUndeliverable marks a notification that no retry can deliver: a
// [Notifier] returns an error that matches it (errors.Is), for example by
// wrapping it with %w, to make the Service give up at once. Any other
// error is taken as temporary (a network failure, a server asking to try
// later) and retried.
var ErrUndeliverable = errors.New("onetime: notification undeliverable")

// Defaults for the zero fields of [NotifyOptions].
const (
	DefaultNotifyWorkers        = 4
	DefaultNotifyQueueSize      = 1024
	DefaultNotifyMaxAttempts    = 5
	DefaultNotifyAttemptTimeout = 30 * time.Second
	DefaultNotifyMinBackoff     = 2 * time.Second
	DefaultNotifyMaxBackoff     = time.Minute
	DefaultNotifyDrainTimeout   = 10 * time.Second
)

// NotifyOptions tune the queue between Share and the [Notifier]
// (Options.Notify). A nil *NotifyOptions, and every zero field, means the
// default.
//
// The queue lives in memory. Notifications still queued, or waiting for a
// retry, when the process ends are lost: after a crash or a kill nothing
// sends them, and neither does a restart. [Service.Close] sends what it
// can within DrainTimeout and logs how many it dropped. A lost
// notification loses no secret: its creator still holds the receipt, which
// shows the secret's link while the secret is unread, and can pass the
// link on by other means.
type NotifyOptions struct {
	// Workers is the number of goroutines that call the Notifier, and so
	// the most notifications in flight at once (4). New starts them only
	// when Options.Notifier is set; Close stops them.
	Workers int
	// QueueSize bounds the notifications waiting for a worker (1024). A
	// notification that finds the queue full is dropped and logged (its
	// address obscured): a mail server that is down or slow fills the
	// queue, and memory stays bounded.
	QueueSize int
	// MaxAttempts bounds the calls to Notify for one notification, the
	// first one included (5). A worker waits between attempts, so a
	// notification that keeps failing holds its worker for at most
	// MaxAttempts x AttemptTimeout plus the waits.
	MaxAttempts int
	// AttemptTimeout is the deadline of each call to Notify (30 s).
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff shape the wait before a retry (2 s and
	// 1 min): before retry n it is MinBackoff x 2^(n-1), at most
	// MaxBackoff, of which a random part, up to half, is taken off (the
	// jitter keeps notifications that failed together from retrying
	// together).
	MinBackoff, MaxBackoff time.Duration
	// DrainTimeout bounds how long Close waits for the queue to empty
	// (10 s). When it runs out, attempts under way are cancelled and
	// what is left is dropped.
	DrainTimeout time.Duration
}

// resolved returns a copy of o with the defaults filled in, or an error
// if a field is out of range.
func (o *NotifyOptions) resolved() (NotifyOptions, error) {
	var r NotifyOptions
	if o != nil {
		r = *o
	}
	if r.Workers < 0 || r.QueueSize < 0 || r.MaxAttempts < 0 || r.AttemptTimeout < 0 ||
		r.MinBackoff < 0 || r.MaxBackoff < 0 || r.DrainTimeout < 0 {
		return r, errors.New("onetime: negative value in NotifyOptions")
	}
	setDefault(&r.Workers, DefaultNotifyWorkers)
	setDefault(&r.QueueSize, DefaultNotifyQueueSize)
	setDefault(&r.MaxAttempts, DefaultNotifyMaxAttempts)
	setDefault(&r.AttemptTimeout, DefaultNotifyAttemptTimeout)
	setDefault(&r.MinBackoff, DefaultNotifyMinBackoff)
	setDefault(&r.MaxBackoff, DefaultNotifyMaxBackoff)
	setDefault(&r.DrainTimeout, DefaultNotifyDrainTimeout)
	if r.MaxBackoff < r.MinBackoff {
		return r, errors.New("onetime: NotifyOptions.MaxBackoff is below MinBackoff")
	}
	return r, nil
}

// startNotifier checks o.Notify, fills in its defaults (in a copy: the
// caller's struct is left alone) and, when o.Notifier is set, starts the
// workers. It returns nil when there is no Notifier.
func startNotifier(o *Options, tel *instruments) (*notifyQueue, error) {
	r, err := o.Notify.resolved()
	if err != nil {
		return nil, err
	}
	o.Notify = &r
	if o.Notifier == nil {
		return nil, nil
	}
	q := &notifyQueue{notifier: o.Notifier, opts: r, log: o.Logger, tel: tel, jobs: make(chan notifyJob, r.QueueSize)}
	q.abort, q.cancel = context.WithCancel(context.Background())
	for range r.Workers {
		q.workers.Go(q.work)
	}
	return q, nil
}

// A notifyQueue hands notifications from Share to a fixed set of workers
// that call the Notifier, retrying temporary failures.
type notifyQueue struct {
	notifier Notifier
	opts     NotifyOptions
	log      *slog.Logger
	tel      *instruments // counts outcomes and the queue's length
	jobs     chan notifyJob

	mu     sync.RWMutex // held to send on jobs, and to close it
	closed bool

	// abort ends every attempt and wait: when Close's DrainTimeout runs out.
	abort   context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
	dropped atomic.Int64 // left in the queue when abort came
	once    sync.Once
}

type notifyJob struct {
	ctx  context.Context // the share's values, without its deadline
	note Notification
}

// notify queues one notification per recipient of a new secret. It never
// waits: a full queue, or a closed Service, drops the notification.
func (s *Service) notify(ctx context.Context, req ShareRequest, recipients []string, secretKey SecretKey, expires time.Time) {
	if s.notes == nil {
		return
	}
	for _, r := range recipients {
		s.notes.enqueue(ctx, Notification{
			Recipient: r, Owner: req.Owner, SecretKey: secretKey,
			ShareDomain: req.ShareDomain, ExpiresAt: expires,
		})
	}
}

func (q *notifyQueue) enqueue(ctx context.Context, n Notification) {
	job := notifyJob{ctx: context.WithoutCancel(ctx), note: n}
	q.mu.RLock()
	defer q.mu.RUnlock()
	reason := "the service is closed"
	if !q.closed {
		// Counted before the send: a worker may take it at once.
		q.tel.notesQueued.Add(ctx, 1)
		select {
		case q.jobs <- job:
			return
		default:
			q.tel.notesQueued.Add(ctx, -1)
			reason = "the queue is full"
		}
	}
	q.tel.notified(ctx, notifyDropped)
	q.log.ErrorContext(ctx, "onetime: notification dropped: "+reason,
		"recipient", ObscureEmail(n.Recipient), "queue_size", q.opts.QueueSize)
}

func (q *notifyQueue) work() {
	for job := range q.jobs {
		q.tel.notesQueued.Add(job.ctx, -1)
		if q.abort.Err() != nil {
			q.dropped.Add(1)
			q.tel.notified(job.ctx, notifyDropped)
			continue
		}
		q.deliver(job)
	}
}

// deliver calls the Notifier until it succeeds, fails for good, runs out
// of attempts or is aborted, and logs the outcome of a failure.
func (q *notifyQueue) deliver(job notifyJob) {
	for attempt := 1; ; attempt++ {
		err := q.attempt(job)
		if err == nil {
			q.tel.notified(job.ctx, notifySent)
			return
		}
		var reason string
		switch {
		case errors.Is(err, ErrUndeliverable):
			reason = "undeliverable"
		case attempt >= q.opts.MaxAttempts:
			reason = "out of attempts"
		case q.abort.Err() != nil:
			reason = "the service closed"
		}
		attrs := []any{"recipient", ObscureEmail(job.note.Recipient), "attempt", attempt, "err_type", errType(err)}
		if reason != "" {
			// The error may quote the address: log only its kind.
			q.log.ErrorContext(job.ctx, "onetime: notifying a recipient failed", append(attrs, "reason", reason)...)
			q.tel.notified(job.ctx, notifyFailed)
			return
		}
		wait := q.backoff(attempt)
		q.log.WarnContext(job.ctx, "onetime: notifying a recipient failed; will retry", append(attrs, "retry_in", wait)...)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-q.abort.Done():
			t.Stop()
			q.log.ErrorContext(job.ctx, "onetime: notifying a recipient failed", append(attrs, "reason", "the service closed")...)
			q.tel.notified(job.ctx, notifyFailed)
			return
		}
	}
}

// attempt makes one call to the Notifier, under AttemptTimeout and abort.
// A panic in the Notifier fails the notification for good instead of the
// process; its value is not logged, as it may quote the address.
func (q *notifyQueue) attempt(job notifyJob) (err error) {
	ctx, cancel := context.WithTimeout(job.ctx, q.opts.AttemptTimeout)
	defer cancel()
	defer context.AfterFunc(q.abort, cancel)()
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("onetime: the Notifier panicked: %w", ErrUndeliverable)
		}
	}()
	return q.notifier.Notify(ctx, job.note)
}

// backoff is the wait before the retry that follows the given attempt:
// exponential, capped, and with up to half of it taken off at random.
func (q *notifyQueue) backoff(attempt int) time.Duration {
	d := q.opts.MinBackoff
	for range attempt - 1 {
		if d > q.opts.MaxBackoff/2 {
			d = q.opts.MaxBackoff // and no doubling past it, nor overflow
			break
		}
		d *= 2
	}
	return d - rand.N(d/2+1)
}

// close stops taking notifications, lets the workers send what is queued
// for at most DrainTimeout, then aborts the rest and waits for the
// workers. It is a no-op on a nil queue, and after the first call.
func (q *notifyQueue) close() {
	if q == nil {
		return
	}
	q.once.Do(func() {
		q.mu.Lock()
		q.closed = true
		close(q.jobs)
		q.mu.Unlock()
		t := time.AfterFunc(q.opts.DrainTimeout, q.cancel)
		q.workers.Wait()
		t.Stop()
		q.cancel()
		if n := q.dropped.Load(); n > 0 {
			q.log.Error("onetime: notifications dropped at Close: DrainTimeout ran out", "count", n)
		}
	})
}

// errType names the innermost error of err's chain: the wrappers' types
// (*fmt.wrapError) tell nothing.
func errType(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return fmt.Sprintf("%T", err)
		}
		err = next
	}
}
