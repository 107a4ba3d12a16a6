package onetime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
)

// The tests of the notification queue run in a synctest bubble: time is
// fake, so timeouts and backoffs are exact and nothing sleeps for real.

// logBuffer collects a service's log lines; safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// notifyService makes a Service on the memory store whose Logger writes
// into the returned buffer. Inside a bubble, its clock is the bubble's.
func notifyService(t *testing.T, n onetime.Notifier, no *onetime.NotifyOptions) (*onetime.Service, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	svc, err := onetime.New(memory.New(), serverSecret, &onetime.Options{
		Notifier: n, Notify: no, Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, svc.Close()) })
	return svc, logs
}

// attemptLog is a Notifier that records every call and answers with the
// function it is given.
type attemptLog struct {
	mu    sync.Mutex
	calls []attemptCall
	do    func(ctx context.Context, call int) error
}

type attemptCall struct {
	at       time.Time
	deadline time.Time
	note     onetime.Notification
	customer string
}

func (a *attemptLog) Notify(ctx context.Context, n onetime.Notification) error {
	dl, _ := ctx.Deadline()
	a.mu.Lock()
	a.calls = append(a.calls, attemptCall{at: time.Now(), deadline: dl, note: n, customer: onetime.CallerFrom(ctx).Customer})
	call := len(a.calls)
	a.mu.Unlock()
	return a.do(ctx, call)
}

func (a *attemptLog) got() []attemptCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]attemptCall(nil), a.calls...)
}

// assertNoSecrets checks that the log names the recipient only obscured,
// and carries neither the secret key nor the link.
func assertNoSecrets(t *testing.T, logs string, addr string, m *onetime.Metadata) {
	t.Helper()
	assert.NotContains(t, logs, addr)
	assert.NotContains(t, logs, string(m.SecretKey))
	assert.NotContains(t, logs, string(m.SecretKey[:20]))
	assert.NotContains(t, logs, "/secret/")
}

// TestNotifyOffTheRequestPath: a Notifier that hangs does not hold Share
// up; it runs on a context that the end of the request does not cancel and
// that has no deadline of the request's, only one per attempt; it is tried
// MaxAttempts times, with growing waits between attempts, and then given up
// with an error logged without the address.
func TestNotifyOffTheRequestPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := &attemptLog{do: func(ctx context.Context, _ int) error {
			<-ctx.Done()
			return ctx.Err()
		}}
		const timeout, minB, maxB = 10 * time.Second, time.Second, 3 * time.Second
		svc, logs := notifyService(t, hang, &onetime.NotifyOptions{
			Workers: 1, MaxAttempts: 4, AttemptTimeout: timeout, MinBackoff: minB, MaxBackoff: maxB})

		start := time.Now()
		req, cancel := context.WithTimeout(onetime.WithCaller(context.Background(), onetime.Caller{Customer: "ada"}), 2*time.Second)
		m, err := svc.Share(req, onetime.ShareRequest{Owner: "ada", Value: []byte("the value"), Recipients: []string{"bob@example.com"}})
		require.NoError(t, err)
		assert.Zero(t, time.Since(start), "Share returned without waiting for the Notifier")
		synctest.Wait()
		require.Len(t, hang.got(), 1, "the first attempt is under way")
		cancel() // the request ends

		time.Sleep(5 * time.Minute)
		synctest.Wait()
		calls := hang.got()
		require.Len(t, calls, 4, "MaxAttempts")
		for i, c := range calls {
			assert.Equal(t, c.at.Add(timeout), c.deadline, "attempt %d: its own deadline, not the request's", i+1)
			assert.Equal(t, "ada", c.customer, "the request's values travel")
			assert.Equal(t, "bob@example.com", c.note.Recipient)
			assert.Equal(t, m.SecretKey, c.note.SecretKey)
		}
		assert.Equal(t, start, calls[0].at)
		// The wait before retry n is MinBackoff x 2^(n-1), capped at
		// MaxBackoff, less up to half of it.
		for i, want := range []time.Duration{minB, 2 * minB, maxB} {
			wait := calls[i+1].at.Sub(calls[i].at) - timeout
			assert.True(t, wait >= want/2 && wait <= want, "wait %d is %v, want in [%v, %v]", i+1, wait, want/2, want)
		}

		out := logs.String()
		assert.Equal(t, 3, strings.Count(out, "will retry"), out)
		assert.Equal(t, 1, strings.Count(out, "level=ERROR"), out)
		assert.Contains(t, out, `msg="onetime: notifying a recipient failed" recipient=bo*****@e*****.com attempt=4 err_type=context.deadlineExceededError reason="out of attempts"`)
		assertNoSecrets(t, out, "bob@example.com", m)
	})
}

// TestNotifyRetriesTemporaryFailures: failures that are not
// ErrUndeliverable are retried until one attempt succeeds; then nothing is
// logged at error level.
func TestNotifyRetriesTemporaryFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		flaky := &attemptLog{do: func(_ context.Context, call int) error {
			if call < 3 {
				return fmt.Errorf("try later: %w", errTemporary)
			}
			return nil
		}}
		svc, logs := notifyService(t, flaky, &onetime.NotifyOptions{MinBackoff: time.Second})
		start := time.Now()
		_, err := svc.Share(context.Background(), onetime.ShareRequest{Owner: "ada", Value: []byte("v"), Recipients: []string{"bob@example.com"}})
		require.NoError(t, err)
		time.Sleep(time.Minute)
		synctest.Wait()
		calls := flaky.got()
		require.Len(t, calls, 3)
		assert.Equal(t, start, calls[0].at)
		assert.True(t, calls[2].at.Sub(start) <= 3*time.Second, "waits of at most 1 s and 2 s: %v", calls[2].at.Sub(start))
		out := logs.String()
		assert.Equal(t, 2, strings.Count(out, "will retry"), out)
		assert.Contains(t, out, "err_type=*onetime_test.temporaryError", "the innermost error's type")
		assert.NotContains(t, out, "level=ERROR")
	})
}

var errTemporary = &temporaryError{}

type temporaryError struct{}

func (*temporaryError) Error() string { return "temporary" }

// TestNotifyUndeliverableNotRetried: an error that matches ErrUndeliverable
// ends the notification at its first attempt, and so does a panic in the
// Notifier, which does not take the process down.
func TestNotifyUndeliverableNotRetried(t *testing.T) {
	for name, fail := range map[string]func() error{
		"undeliverable": func() error { return fmt.Errorf("refused bob@example.com: %w", onetime.ErrUndeliverable) },
		"panic":         func() error { panic("bob@example.com exploded") },
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := &attemptLog{do: func(context.Context, int) error { return fail() }}
				svc, logs := notifyService(t, n, nil)
				m, err := svc.Share(context.Background(), onetime.ShareRequest{Owner: "ada", Value: []byte("v"), Recipients: []string{"bob@example.com"}})
				require.NoError(t, err)
				time.Sleep(time.Hour)
				synctest.Wait()
				assert.Len(t, n.got(), 1)
				out := logs.String()
				assert.Contains(t, out, "reason=undeliverable")
				assert.NotContains(t, out, "will retry")
				assertNoSecrets(t, out, "bob@example.com", m)
			})
		})
	}
}

// TestNotifyQueueFull: past QueueSize, a notification is dropped at once,
// with an error that names the recipient only obscured; Share still
// succeeds, and the queued notifications still go out.
func TestNotifyQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		n := &attemptLog{do: func(context.Context, int) error { <-release; return nil }}
		svc, logs := notifyService(t, n, &onetime.NotifyOptions{Workers: 1, QueueSize: 1})
		ctx := context.Background()
		_, err := svc.Share(ctx, onetime.ShareRequest{Owner: "ada", Value: []byte("v"), Recipients: []string{"first@example.com"}})
		require.NoError(t, err)
		synctest.Wait() // the worker holds the first
		m, err := svc.Share(ctx, onetime.ShareRequest{Owner: "ada", Value: []byte("v"),
			Recipients: []string{"second@example.com", "third@example.org"}})
		require.NoError(t, err)
		out := logs.String()
		assert.Contains(t, out, `level=ERROR msg="onetime: notification dropped: the queue is full" recipient=th*****@e*****.org queue_size=1`)
		assertNoSecrets(t, out, "third@example.org", m)
		assert.NotContains(t, out, "second")

		close(release)
		synctest.Wait()
		var got []string
		for _, c := range n.got() {
			got = append(got, c.note.Recipient)
		}
		assert.Equal(t, []string{"first@example.com", "second@example.com"}, got)
	})
}

// TestNotifyCloseDrains: Close sends what is queued before it returns;
// later shares succeed and their notifications are dropped with a log.
func TestNotifyCloseDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := &attemptLog{do: func(ctx context.Context, _ int) error {
			time.Sleep(time.Second)
			return nil
		}}
		svc, logs := notifyService(t, slow, &onetime.NotifyOptions{Workers: 1})
		ctx := context.Background()
		_, err := svc.Share(ctx, onetime.ShareRequest{Owner: "ada", Value: []byte("v"),
			Recipients: []string{"a@example.com", "b@example.com", "c@example.com"}})
		require.NoError(t, err)
		start := time.Now()
		require.NoError(t, svc.Close())
		assert.Equal(t, 3*time.Second, time.Since(start), "Close waited for the three")
		assert.Len(t, slow.got(), 3)
		require.NoError(t, svc.Close(), "a second Close is a no-op")

		_, err = svc.Share(ctx, onetime.ShareRequest{Owner: "ada", Value: []byte("v"), Recipients: []string{"late@example.com"}})
		require.NoError(t, err, "a closed Service still shares")
		assert.Len(t, slow.got(), 3)
		out := logs.String()
		assert.Contains(t, out, `msg="onetime: notification dropped: the service is closed" recipient=la*****@e*****.com`)
		assert.NotContains(t, out, "late@")
	})
}

// TestNotifyCloseBounded: Close waits at most DrainTimeout; then it cancels
// the attempt under way, drops what is left and says how many.
func TestNotifyCloseBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var ended []error
		hang := &attemptLog{do: func(ctx context.Context, _ int) error {
			<-ctx.Done()
			mu.Lock()
			ended = append(ended, ctx.Err())
			mu.Unlock()
			return ctx.Err()
		}}
		svc, logs := notifyService(t, hang, &onetime.NotifyOptions{Workers: 1, AttemptTimeout: time.Hour, DrainTimeout: 5 * time.Second})
		_, err := svc.Share(context.Background(), onetime.ShareRequest{Owner: "ada", Value: []byte("v"),
			Recipients: []string{"a@example.com", "b@example.com", "c@example.com"}})
		require.NoError(t, err)
		start := time.Now()
		require.NoError(t, svc.Close())
		assert.Equal(t, 5*time.Second, time.Since(start))
		assert.Len(t, hang.got(), 1, "the others were never tried")
		mu.Lock()
		assert.Equal(t, []error{context.Canceled}, ended)
		mu.Unlock()
		out := logs.String()
		assert.Contains(t, out, `recipient=a*****@e*****.com attempt=1 err_type=*errors.errorString reason="the service closed"`)
		assert.Contains(t, out, `msg="onetime: notifications dropped at Close: DrainTimeout ran out" count=2`)
	})
}

// TestNotifyWorkersOnlyWithANotifier: without a Notifier, New starts no
// goroutine (the bubble would not end with one left); with one, Close
// stops them all, also when a worker waits to retry.
func TestNotifyWorkersOnlyWithANotifier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc, err := onetime.New(memory.New(), serverSecret, nil)
		require.NoError(t, err)
		_, err = svc.Share(context.Background(), onetime.ShareRequest{Owner: "ada", Value: []byte("v"), Recipients: []string{"a@example.com"}})
		require.NoError(t, err, "recipients without a Notifier are only recorded")
		// No Close: nothing to stop.
	})
	synctest.Test(t, func(t *testing.T) {
		failing := &attemptLog{do: func(context.Context, int) error { return errTemporary }}
		svc, err := onetime.New(memory.New(), serverSecret, &onetime.Options{Notifier: failing,
			Notify: &onetime.NotifyOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour, DrainTimeout: time.Second}, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		_, err = svc.Share(context.Background(), onetime.ShareRequest{Owner: "ada", Value: []byte("v"), Recipients: []string{"a@example.com"}})
		require.NoError(t, err)
		synctest.Wait()
		start := time.Now()
		require.NoError(t, svc.Close())
		assert.Equal(t, time.Second, time.Since(start), "the wait to retry ends at DrainTimeout")
		assert.Len(t, failing.got(), 1)
	})
}

// TestNotifyOptions: defaults fill the zero fields, in a copy; values out
// of range are refused by New.
func TestNotifyOptions(t *testing.T) {
	mine := &onetime.NotifyOptions{Workers: 2}
	svc, err := onetime.New(memory.New(), serverSecret, &onetime.Options{Notify: mine})
	require.NoError(t, err)
	defer svc.Close()
	assert.Equal(t, onetime.NotifyOptions{Workers: 2}, *mine, "the caller's struct is left alone")
	assert.Equal(t, onetime.NotifyOptions{
		Workers:        2,
		QueueSize:      onetime.DefaultNotifyQueueSize,
		MaxAttempts:    onetime.DefaultNotifyMaxAttempts,
		AttemptTimeout: onetime.DefaultNotifyAttemptTimeout,
		MinBackoff:     onetime.DefaultNotifyMinBackoff,
		MaxBackoff:     onetime.DefaultNotifyMaxBackoff,
		DrainTimeout:   onetime.DefaultNotifyDrainTimeout,
	}, *svc.Options().Notify)

	for name, o := range map[string]onetime.NotifyOptions{
		"negative Workers":        {Workers: -1},
		"negative QueueSize":      {QueueSize: -1},
		"negative MaxAttempts":    {MaxAttempts: -1},
		"negative AttemptTimeout": {AttemptTimeout: -time.Second},
		"negative DrainTimeout":   {DrainTimeout: -time.Second},
		"MaxBackoff < MinBackoff": {MinBackoff: 2 * time.Minute},
	} {
		_, err := onetime.New(memory.New(), serverSecret, &onetime.Options{Notify: &o})
		assert.Error(t, err, name)
	}
	assert.True(t, errors.Is(fmt.Errorf("x: %w", onetime.ErrUndeliverable), onetime.ErrUndeliverable))
}
