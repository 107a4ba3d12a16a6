package memory_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/storetest"
)

// TestReplaysReclaimed: replay records go once expired, by Sweep and by
// Creates, as records do, and Sweep counts none of them.
func TestReplaysReclaimed(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	replay := func(id onetime.ID, now time.Time) *onetime.Replay {
		s, _ := storetest.NewPair("", now, time.Hour)
		return &onetime.Replay{ID: onetime.ID(id.Slot() + string(s.ID[onetime.SlotLen:])), ExpiresAt: now.Add(time.Minute)}
	}
	for i := range 10 {
		s, m := storetest.NewPair("owner", t0, time.Hour)
		require.NoError(t, st.Create(ctx, s, m))
		if i%2 == 0 {
			_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, replay(s.ID, t0))
			require.NoError(t, err)
		} else {
			_, err := st.Burn(ctx, m.ID, t0, replay(m.ID, t0))
			require.NoError(t, err)
		}
	}
	require.Equal(t, 10, st.Replays())
	n, err := st.Sweep(ctx, t0.Add(time.Minute-time.Microsecond))
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 10, st.Replays(), "Sweep took replays before their expiry")
	n, err = st.Sweep(ctx, t0.Add(time.Minute))
	require.NoError(t, err)
	assert.Zero(t, n, "Sweep counted replays as records")
	assert.Zero(t, st.Replays(), "replays left after Sweep at their expiry")

	// Without a Sweep, Creates take expired replays as they take records.
	for range 10 {
		s, m := storetest.NewPair("", t0, time.Hour)
		require.NoError(t, st.Create(ctx, s, m))
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, replay(s.ID, t0))
		require.NoError(t, err)
	}
	later := t0.Add(2 * time.Minute)
	for range 5 {
		s, m := storetest.NewPair("", later, time.Hour)
		require.NoError(t, st.Create(ctx, s, m))
	}
	assert.Zero(t, st.Replays(), "replays left after Creates past their expiry")
}

// TestDeadlineWhileLocked: a Reveal or Burn whose deadline passes while it
// waits for the store's lock changes nothing once it gets the lock.
func TestDeadlineWhileLocked(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	s, m := storetest.NewPair("", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	for _, op := range []string{"Reveal", "Burn"} {
		release := st.Hold()
		done := make(chan error)
		go func() {
			dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			var err error
			if op == "Reveal" {
				_, err = st.Reveal(dctx, s.ID, onetime.Credentials{}, t0, nil)
			} else {
				_, err = st.Burn(dctx, m.ID, t0, nil)
			}
			done <- err
		}()
		time.Sleep(50 * time.Millisecond) // the deadline passes while the lock is held
		release()
		require.ErrorIs(t, <-done, context.DeadlineExceeded, op)
	}
	_, err := st.Peek(ctx, s.ID, t0)
	require.NoError(t, err, "a call whose deadline passed while it waited consumed the secret")
}

// TestMalformedReplayID: a Reveal or Burn given a replay whose id is not
// an ID, under which the store could record nothing, fails with
// ErrInvalid, as in the other stores, and consumes nothing.
func TestMalformedReplayID(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	s, m := storetest.NewPair("", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	for _, id := range []onetime.ID{"", "not an id", onetime.ID(strings.ToUpper(string(s.ID)))} {
		rp := &onetime.Replay{ID: id, ExpiresAt: t0.Add(time.Minute)}
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, rp)
		require.ErrorIs(t, err, onetime.ErrInvalid, "Reveal with replay id %q", id)
		_, err = st.Burn(ctx, m.ID, t0, rp)
		require.ErrorIs(t, err, onetime.ErrInvalid, "Burn with replay id %q", id)
	}
	assert.Zero(t, st.Replays())
	_, err := st.Peek(ctx, s.ID, t0)
	require.NoError(t, err, "the secret after the refused calls")
}
