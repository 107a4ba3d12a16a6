package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ctxKey struct{}

// TestDeadlineCtx: the lazily timed context answers as
// context.WithDeadline's does, and starts no timer for a request that
// never waits on it.
func TestDeadlineCtx(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	far := time.Now().Add(time.Hour)

	c := newDeadlineCtx(parent, far)
	d, ok := c.Deadline()
	assert.True(t, ok)
	assert.Equal(t, far, d)
	assert.NoError(t, c.Err())
	assert.Equal(t, "v", c.Value(ctxKey{}))
	assert.Nil(t, c.timed.Load(), "Err, Deadline and Value start no timer")
	select {
	case <-c.Done():
		t.Fatal("done before its deadline")
	default:
	}
	assert.NotNil(t, c.timed.Load(), "Done does")
	assert.Equal(t, "v", c.Value(ctxKey{}), "values once timed")
	c.release()
	<-c.Done()
	assert.ErrorIs(t, c.Err(), context.Canceled, "released, as by a cancel function")

	// Released without Done ever asked for: canceled all the same.
	c = newDeadlineCtx(parent, far)
	derived, cancel := context.WithCancel(context.WithValue(c, ctxKey{}, "w"))
	defer cancel()
	c.release()
	<-c.Done()
	<-derived.Done()
	assert.ErrorIs(t, c.Err(), context.Canceled)
	assert.Equal(t, "v", c.Value(ctxKey{}))

	// A parent with an earlier deadline, and the parent's cancellation.
	soon := time.Now().Add(time.Minute)
	pctx, pcancel := context.WithDeadline(parent, soon)
	c = newDeadlineCtx(pctx, far)
	d, _ = c.Deadline()
	assert.Equal(t, soon, d)
	pcancel()
	assert.ErrorIs(t, c.Err(), context.Canceled, "the parent's error, before Done")
	<-c.Done()
	assert.ErrorIs(t, c.Err(), context.Canceled, "and after")
	c.release()
}

// TestDeadlineCtxExpires: past its deadline the context's error is
// DeadlineExceeded without a timer, and whoever waits on Done is woken.
func TestDeadlineCtxExpires(t *testing.T) {
	c := newDeadlineCtx(context.Background(), time.Now().Add(-time.Second))
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
	assert.Nil(t, c.timed.Load())
	<-c.Done() // past already: closed at once
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
	c.release()
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded, "the first error stays")

	c = newDeadlineCtx(context.Background(), time.Now().Add(20*time.Millisecond))
	defer c.release()
	select {
	case <-c.Done():
	case <-time.After(time.Minute):
		t.Fatal("Done not closed at the deadline")
	}
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
	d, _ := c.Deadline()
	assert.False(t, time.Now().Before(d), "closed at its deadline, not before")
}

// TestDeadlineCtxConcurrent: Done, Err and release from many goroutines
// at once (for the race detector) agree on one context.
func TestDeadlineCtxConcurrent(t *testing.T) {
	c := newDeadlineCtx(context.Background(), time.Now().Add(time.Hour))
	var wg sync.WaitGroup
	chans := make([]<-chan struct{}, 8)
	for i := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Err()
			chans[i] = c.Done()
		}()
	}
	wg.Wait()
	for _, ch := range chans {
		require.Equal(t, chans[0], ch, "one Done channel")
	}
	c.release()
	<-chans[0]
}
