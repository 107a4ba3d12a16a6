package frontdoor

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ctxKey struct{}

// TestDeadlineUnobserved: without a call of Done, the context says what
// context.WithDeadline's would (deadline, values, Err before and after the
// deadline, Canceled once released), and keeps its first reason.
func TestDeadlineUnobserved(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "kept")
	at := time.Now().Add(time.Hour)
	ctx, release := newDeadline(parent, at)
	d, ok := ctx.Deadline()
	assert.True(t, ok)
	assert.Equal(t, at, d)
	assert.Equal(t, "kept", ctx.Value(ctxKey{}))
	assert.NoError(t, ctx.Err())
	release()
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
	select {
	case <-ctx.Done():
	default:
		t.Fatal("released, not done")
	}

	ctx, release = newDeadline(parent, time.Now().Add(-time.Millisecond))
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded, "past its deadline, unobserved")
	release()
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded, "the first reason stays")

	early, cancel := context.WithDeadline(parent, time.Now().Add(time.Minute))
	defer cancel()
	ctx, release = newDeadline(early, at)
	defer release()
	d, _ = ctx.Deadline()
	want, _ := early.Deadline()
	assert.Equal(t, want, d, "the parent's deadline when earlier")
	cancel()
	assert.ErrorIs(t, ctx.Err(), context.Canceled, "the parent's error")
}

// TestDeadlineObserved: Done closes at the deadline, and contexts derived
// from it (WithCancel, AfterFunc) end with it.
func TestDeadlineObserved(t *testing.T) {
	ctx, release := newDeadline(context.Background(), time.Now().Add(50*time.Millisecond))
	defer release()
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	fired := make(chan struct{})
	context.AfterFunc(ctx, func() { close(fired) })
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("not done at its deadline")
	}
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	<-child.Done()
	assert.ErrorIs(t, child.Err(), context.DeadlineExceeded)
	<-fired

	ctx, release = newDeadline(context.Background(), time.Now().Add(time.Hour))
	child, cancel = context.WithCancel(ctx)
	defer cancel()
	release()
	<-child.Done()
	assert.ErrorIs(t, child.Err(), context.Canceled, "released: its children end")
	assert.ErrorIs(t, ctx.Err(), context.Canceled)

	parent, cancelParent := context.WithCancel(context.Background())
	ctx, release = newDeadline(parent, time.Now().Add(time.Hour))
	defer release()
	done := ctx.Done()
	cancelParent()
	<-done
	assert.ErrorIs(t, ctx.Err(), context.Canceled)
}

// TestDeadlineCheap: asking for the deadline and the error, as a store
// does, costs the context itself and nothing else: no timer, nothing
// registered with the parent.
func TestDeadlineCheap(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	defer cancel()
	allocs := testing.AllocsPerRun(100, func() {
		ctx, release := newDeadline(parent, time.Now().Add(time.Minute))
		if _, ok := ctx.Deadline(); !ok || ctx.Err() != nil {
			panic("no deadline")
		}
		release()
	})
	assert.Equal(t, 1.0, allocs)
}

// TestDeadlineRace: Done, Err, Value and release from many goroutines at
// once (go test -race).
func TestDeadlineRace(t *testing.T) {
	for range 50 {
		ctx, release := newDeadline(context.Background(), time.Now().Add(time.Millisecond))
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				switch i % 4 {
				case 0:
					<-ctx.Done()
				case 1:
					_ = ctx.Err()
				case 2:
					_ = ctx.Value(ctxKey{})
				default:
					release()
				}
			})
		}
		wg.Wait()
		require.Error(t, ctx.Err())
	}
}

// newDeadline is withDeadline with its release, as context.WithDeadline
// returns its cancel.
func newDeadline(parent context.Context, at time.Time) (*deadlineCtx, func()) {
	c := withDeadline(parent, at)
	return c, c.release
}
