package onetime

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// state returns the free slots and the number of waiters of s.
func (s *fairSem) state() (free, waiting int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.queues {
		waiting += len(q)
	}
	return s.free, waiting
}

// TestFairSemCapacity: at most n holders at once, and as many as n when
// that many want a slot.
func TestFairSemCapacity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n, callers = 3, 20
		s := newFairSem(n)
		gate := make(chan struct{})
		var inside, most atomic.Int32
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() {
				if !assert.NoError(t, s.acquire(context.Background(), fmt.Sprint("client", i%4))) {
					return
				}
				in := inside.Add(1)
				for m := most.Load(); in > m && !most.CompareAndSwap(m, in); m = most.Load() {
				}
				<-gate
				inside.Add(-1)
				s.release()
			})
		}
		synctest.Wait() // every caller holds a slot or waits for one
		assert.EqualValues(t, n, inside.Load())
		free, waiting := s.state()
		assert.Zero(t, free)
		assert.Equal(t, callers-n, waiting)

		close(gate)
		wg.Wait()
		assert.EqualValues(t, n, most.Load())
		free, waiting = s.state()
		assert.Equal(t, n, free, "every slot came back")
		assert.Zero(t, waiting)
	})
}

// TestFairSemRoundRobin: a client that queues one request behind another
// client's hundred is served after at most one of them per slot, not
// after all of them. Holders keep their slot until the test lets one go,
// so the order recorded is the order in which slots were handed over.
func TestFairSemRoundRobin(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint("slots=", n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newFairSem(n)
				for range n { // every slot busy
					require.NoError(t, s.acquire(context.Background(), "holder"))
				}
				var mu sync.Mutex
				var order []string
				gate := make(chan struct{})
				var wg sync.WaitGroup
				waiter := func(client string) {
					wg.Go(func() {
						if !assert.NoError(t, s.acquire(context.Background(), client)) {
							return
						}
						mu.Lock()
						order = append(order, client)
						mu.Unlock()
						<-gate
						s.release()
					})
				}
				for range 100 {
					waiter("A")
				}
				synctest.Wait() // A's hundred are queued
				waiter("B")
				synctest.Wait()
				_, waiting := s.state()
				require.Equal(t, 101, waiting)

				for range n { // the holder's slots, one by one
					s.release()
					synctest.Wait()
				}
				for range 101 - n { // then each holder's in turn
					gate <- struct{}{}
					synctest.Wait()
				}
				close(gate)
				wg.Wait()

				want := append([]string{"A", "B"}, slices.Repeat([]string{"A"}, 99)...)
				assert.Equal(t, want, order)
				free, waiting := s.state()
				assert.Equal(t, n, free)
				assert.Zero(t, waiting)
			})
		})
	}
}

// TestFairSemTurns: with three clients queued, slots go A, B, C, A, B, C,
// whatever the order in which their requests arrived.
func TestFairSemTurns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFairSem(1)
		require.NoError(t, s.acquire(context.Background(), "holder"))
		var mu sync.Mutex
		var order []string
		var wg sync.WaitGroup
		for _, c := range []string{"A", "A", "A", "B", "B", "C", "C", "C", "C"} {
			wg.Go(func() {
				if assert.NoError(t, s.acquire(context.Background(), c)) {
					mu.Lock()
					order = append(order, c)
					mu.Unlock()
					s.release()
				}
			})
			synctest.Wait() // queued in this order
		}
		s.release()
		wg.Wait()
		assert.Equal(t, []string{"A", "B", "C", "A", "B", "C", "A", "C", "C"}, order)
	})
}

// TestFairSemCancelWaiting: a waiter whose context ends leaves the queue,
// and the next release goes to the next waiter or back to the pool.
func TestFairSemCancelWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFairSem(1)
		require.NoError(t, s.acquire(context.Background(), "holder"))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.acquire(ctx, "A") }()
		synctest.Wait()
		_, waiting := s.state()
		require.Equal(t, 1, waiting)

		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		_, waiting = s.state()
		assert.Zero(t, waiting, "the waiter that gave up is still queued")
		assert.Empty(t, s.clients)

		s.release()
		free, _ := s.state()
		assert.Equal(t, 1, free, "the slot went to a waiter that had left")
	})
}

// TestFairSemCancelHandedOver: a slot handed to a waiter at the very
// moment its context ends is passed on to the next waiter, not lost.
func TestFairSemCancelHandedOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newFairSem(1)
		require.NoError(t, s.acquire(context.Background(), "holder"))
		ctx, cancel := context.WithCancel(context.Background())
		first := make(chan error, 1)
		go func() { first <- s.acquire(ctx, "A") }()
		synctest.Wait()
		second := make(chan error, 1)
		go func() {
			err := s.acquire(context.Background(), "B")
			if err == nil {
				s.release()
			}
			second <- err
		}()
		synctest.Wait() // A then B wait, both parked

		// Under the lock: A's context ends (A wakes on it and blocks on the
		// lock), then the holder's slot is handed to A, first in turn.
		s.mu.Lock()
		cancel()
		s.releaseLocked()
		s.mu.Unlock()

		require.ErrorIs(t, <-first, context.Canceled)
		require.NoError(t, <-second, "the slot handed to A was not passed on to B")
		free, waiting := s.state()
		assert.Equal(t, 1, free, "a slot leaked")
		assert.Zero(t, waiting)
	})
}

// TestFairSemStress runs many clients that acquire, give up and release
// at random, under -race, and checks the count at every step and the
// pool at the end.
func TestFairSemStress(t *testing.T) {
	const n = 2
	s := newFairSem(n)
	var inside atomic.Int32
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			client := fmt.Sprint("c", i%5)
			for range 200 {
				ctx, cancel := context.WithCancel(context.Background())
				if rand.IntN(4) == 0 {
					cancel() // gives up at once, or while it waits
				}
				if err := s.acquire(ctx, client); err != nil {
					cancel()
					continue
				}
				if in := inside.Add(1); in > n {
					t.Errorf("%d holders of %d slots", in, n)
				}
				inside.Add(-1)
				s.release()
				cancel()
			}
		})
	}
	wg.Wait()
	free, waiting := s.state()
	assert.Equal(t, n, free)
	assert.Zero(t, waiting)
	assert.Empty(t, s.clients)
}
