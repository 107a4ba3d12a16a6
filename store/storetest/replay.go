package storetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
)

// The replay and deadline subtests check the part of the contract that
// makes a consuming call repeatable ([onetime.Replay]) and bounds it by
// its context's deadline. What they cannot see through the interface:
//
//   - that a store reclaims the space of an expired replay record (Sweep
//     or its own expiry): the suite sees that it is forgotten, and that
//     Sweep counts none, but not that its bytes are gone; each backend
//     checks that in its own tests, where it can count its rows or keys.
//   - a backend that stalls in the middle of a call and resumes after the
//     deadline: only a backend's own test can stall it (SIGSTOP to Redis,
//     a lock held in PostgreSQL). The suite checks deadlines that have
//     passed before the call, and that a deadline is compared with the
//     clock, not with the now argument.

// replayWindow is how long the suite's replay records live.
const replayWindow = time.Minute

// newReplay returns a replay with a fresh random id in the slot of id,
// recorded from at for replayWindow.
func newReplay(id onetime.ID, at time.Time) *onetime.Replay {
	return &onetime.Replay{ID: onetime.ID(id.Slot() + randomHex(32)), ExpiresAt: at.Add(replayWindow)}
}

// cloneSecret returns a deep copy of s, to compare a later answer with.
func cloneSecret(s *onetime.SealedSecret) *onetime.SealedSecret {
	c := *s
	c.Sealed, c.Check, c.Proof = bytes.Clone(s.Sealed), bytes.Clone(s.Check), bytes.Clone(s.Proof)
	return &c
}

// testReplayReveal: a repeat under the same replay id gets the secret as
// first returned, every field, whatever check it gives and though the
// secret is gone; nothing changes, and the repeat is not a reveal of its
// own. Another replay id, or none, finds the secret gone.
func testReplayReveal(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	mustCreate(t, st, s, m)
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	want := cloneSecret(s)
	want.Attempts = 1

	at := t0.Add(time.Minute)
	a := newReplay(s.ID, at)
	first, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, at, a)
	require.NoError(t, err, "Reveal with a replay")
	equalSecret(t, first, want)
	received := *m
	received.State, received.Received, received.Updated = onetime.StateReceived, at, at

	for _, repeat := range []struct {
		what  string
		check []byte
		at    time.Time
	}{
		{"the same check", check, at},
		{"no check", nil, at.Add(time.Second)},
		{"a wrong check", []byte("wrong"), at.Add(30 * time.Second)},
		{"1µs before the replay expires", check, a.ExpiresAt.Add(-us)},
	} {
		got, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: repeat.check}, repeat.at, a)
		require.NoErrorf(t, err, "repeat with %s", repeat.what)
		equalSecret(t, got, want)
		// The repeat changed nothing: the receipt keeps the first stamp.
		got2 := receipt(t, st, m.ID, repeat.at)
		equalMetadata(t, got2, &received)
		assert.False(t, got2.SecretPresent, "SecretPresent after a replayed Reveal")
	}
	// The answers are the caller's: changing one changes no later one.
	for range 2 {
		first.Sealed[0] ^= 0xff
		first.Check[0] ^= 0xff
		first, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, at, a)
		require.NoError(t, err)
		equalSecret(t, first, want)
	}

	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, at, newReplay(s.ID, at))
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal under another replay id")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal without a replay")
	_, err = st.Peek(ctx, s.ID, at)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek after a replayed Reveal")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, a.ExpiresAt, a)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "repeat at the replay's expiry")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, a.ExpiresAt.Add(time.Hour), a)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "repeat after the replay's expiry")
}

// testReplayLostReply: a caller that drops Reveal's answer and asks again
// with the same replay id gets the secret as stored.
func testReplayLostReply(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	for _, owner := range []string{"", "owner"} {
		s, m := create(t, st, owner, t0)
		want := cloneSecret(s)
		a := newReplay(s.ID, t0)
		_, _ = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, a) // the answer is lost
		got, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0.Add(time.Second), a)
		require.NoError(t, err, "asking again after a lost answer")
		equalSecret(t, got, want)
		assert.Equal(t, onetime.StateReceived, receipt(t, st, m.ID, t0.Add(time.Second)).State)

		_, m = create(t, st, owner, t0)
		b := newReplay(m.ID, t0)
		_, _ = st.Burn(ctx, m.ID, t0, b) // the answer is lost
		burned, err := st.Burn(ctx, m.ID, t0.Add(time.Second), b)
		require.NoError(t, err, "asking again after a lost Burn answer")
		wantM := *m
		wantM.State, wantM.Burned, wantM.Updated = onetime.StateBurned, t0, t0
		equalMetadata(t, burned, &wantM)
	}
}

// testReplayOutlivesSecret: a recorded outcome is served until the
// replay's expiry though the secret itself expired meanwhile, and Sweep
// does not take it before then.
func testReplayOutlivesSecret(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, _ := create(t, st, "", t0)
	want := cloneSecret(s)
	at := s.ExpiresAt.Add(-us)
	a := newReplay(s.ID, at)
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, at, a)
	require.NoError(t, err, "Reveal 1µs before expiry")
	later := s.ExpiresAt.Add(time.Second)
	n, err := st.Sweep(ctx, later)
	require.NoError(t, err, "Sweep")
	assert.LessOrEqual(t, n, 1, "Sweep counted more than the expired secret (a replay record is no record)")
	got, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, later, a)
	require.NoError(t, err, "repeat after the secret's expiry, before the replay's")
	equalSecret(t, got, want)

	_, m := create(t, st, "", t0)
	b := newReplay(m.ID, at)
	first, err := st.Burn(ctx, m.ID, at, b)
	require.NoError(t, err, "Burn 1µs before the secret's expiry")
	_, err = st.Sweep(ctx, later)
	require.NoError(t, err, "Sweep")
	again, err := st.Burn(ctx, m.ID, later, b)
	require.NoError(t, err, "repeated Burn after the secret's expiry, before the replay's")
	equalMetadata(t, again, first)
}

// testReplayWrongPassphrase: a counted wrong attempt is recorded; its
// repeat answers ErrWrongPassphrase, even with the right check, and counts
// nothing. The attempt that burns the secret is recorded too.
func testReplayWrongPassphrase(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	mustCreate(t, st, s, m)
	a := newReplay(s.ID, t0)
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, a)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "a wrong attempt with a replay")
	for _, c := range [][]byte{[]byte("wrong"), check, nil} {
		_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: c}, t0.Add(time.Second), a)
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "repeat of a recorded wrong attempt")
	}
	assert.Equal(t, 1, peek(t, st, s.ID, t0.Add(time.Second)).Attempts, "a repeated wrong attempt was counted again")
	equalMetadata(t, receipt(t, st, m.ID, t0.Add(time.Second)), m)

	// The secret is still there for the right passphrase under another
	// replay id; the recorded wrong attempt stays as recorded.
	b := newReplay(s.ID, t0)
	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0.Add(2*time.Second), b)
	require.NoError(t, err, "the right passphrase under another replay id")
	assert.Equal(t, 1, sec.Attempts, "Attempts")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0.Add(3*time.Second), a)
	assert.ErrorIs(t, err, onetime.ErrWrongPassphrase, "the recorded wrong attempt after the secret was revealed")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0.Add(3*time.Second), b)
	assert.NoError(t, err, "the recorded reveal after a repeat of another replay")

	// Once the record of a wrong attempt expires, the same replay id is a
	// new call: here, a right passphrase that reveals the secret.
	s, m = NewPair("", t0, secretTTL)
	check = withPassphrase(s, m)
	mustCreate(t, st, s, m)
	a = newReplay(s.ID, t0)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, a)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, a.ExpiresAt, a)
	require.NoError(t, err, "the right passphrase under an expired replay id")

	// The burning attempt: recorded as ErrWrongPassphrase, not as gone.
	s, m = NewPair("", t0, secretTTL)
	check = withPassphrase(s, m)
	s.Attempts, s.MaxAttempts = 4, 5
	mustCreate(t, st, s, m)
	a = newReplay(s.ID, t0)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, a)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "the last attempt")
	got := receipt(t, st, m.ID, t0)
	require.Equal(t, onetime.StateBurned, got.State, "the last attempt burns the secret")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0.Add(time.Second), a)
	assert.ErrorIs(t, err, onetime.ErrWrongPassphrase, "repeat of the burning attempt")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0.Add(time.Second), newReplay(s.ID, t0))
	assert.ErrorIs(t, err, onetime.ErrNotFound, "another replay id after the burning attempt")
	equalMetadata(t, receipt(t, st, m.ID, t0.Add(time.Second)), got)
}

// testReplayNotFound: ErrNotFound is never recorded. A replay id whose
// call found nothing is free: the next call under it does its work.
func testReplayNotFound(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("", t0, secretTTL)
	a := newReplay(s.ID, t0)
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, a)
	require.ErrorIs(t, err, onetime.ErrNotFound, "Reveal of a secret not yet created")
	mustCreate(t, st, s, m)
	got, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0.Add(time.Second), a)
	require.NoError(t, err, "a replay id whose first Reveal found nothing recorded ErrNotFound")
	equalSecret(t, got, s)

	s, m = NewPair("", t0, secretTTL)
	b := newReplay(m.ID, t0)
	_, err = st.Burn(ctx, m.ID, t0, b)
	require.ErrorIs(t, err, onetime.ErrNotFound, "Burn of a receipt not yet created")
	mustCreate(t, st, s, m)
	_, err = st.Burn(ctx, m.ID, t0.Add(time.Second), b)
	require.NoError(t, err, "a replay id whose first Burn found nothing recorded ErrNotFound")

	// A Burn that finds the secret received records nothing: the replay id
	// then burns another pair of the slot.
	s, m = create(t, st, "", t0)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	require.NoError(t, err)
	b = newReplay(m.ID, t0)
	_, err = st.Burn(ctx, m.ID, t0, b)
	require.ErrorIs(t, err, onetime.ErrNotFound, "Burn of a received secret")
	s, m = pairInSlot(m.ID.Slot())
	mustCreate(t, st, s, m)
	_, err = st.Burn(ctx, m.ID, t0, b)
	require.NoError(t, err, "a replay id whose Burn found the secret received recorded ErrNotFound")
}

// pairInSlot returns a pair from NewPair("", t0, secretTTL) moved into slot.
func pairInSlot(slot string) (*onetime.SealedSecret, *onetime.SealedMetadata) {
	s, m := NewPair("", t0, secretTTL)
	s.ID = onetime.ID(slot + string(s.ID[onetime.SlotLen:]))
	m.ID = onetime.ID(slot + string(m.ID[onetime.SlotLen:]))
	s.MetadataID, m.SecretID = m.ID, s.ID
	return s, m
}

// testReplayBurn: a repeated Burn under the same replay id gets the burned
// receipt as first returned and changes nothing; another id, or none, finds
// the secret gone.
func testReplayBurn(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "owner", t0)
	view(t, st, m.ID, t0.Add(time.Second))
	at := t0.Add(time.Minute)
	a := newReplay(m.ID, at)
	first, err := st.Burn(ctx, m.ID, at, a)
	require.NoError(t, err, "Burn with a replay")
	want := *m
	want.State, want.Updated, want.Burned = onetime.StateBurned, at, at
	equalMetadata(t, first, &want)
	assert.False(t, first.SecretPresent, "Burn's answer: SecretPresent")

	for _, when := range []time.Time{at, at.Add(time.Second), a.ExpiresAt.Add(-us)} {
		got, err := st.Burn(ctx, m.ID, when, a)
		require.NoError(t, err, "repeated Burn")
		equalMetadata(t, got, &want)
		assert.False(t, got.SecretPresent, "repeated Burn's answer: SecretPresent")
		equalMetadata(t, receipt(t, st, m.ID, when), &want)
	}
	for range 2 {
		first.Sealed[0] ^= 0xff
		first.State = onetime.StateNew
		first, err = st.Burn(ctx, m.ID, at, a)
		require.NoError(t, err)
		equalMetadata(t, first, &want)
	}

	_, err = st.Burn(ctx, m.ID, at, newReplay(m.ID, at))
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn under another replay id")
	_, err = st.Burn(ctx, m.ID, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn without a replay")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal after a replayed Burn")
	_, err = st.Burn(ctx, m.ID, a.ExpiresAt, a)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "repeated Burn at the replay's expiry")
	equalMetadata(t, receipt(t, st, m.ID, a.ExpiresAt), &want)
}

// testReplayUnlisted: replay records are no records. Recent lists the
// receipts alone, and Sweep counts no replay record it removes.
func testReplayUnlisted(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	var ids []onetime.ID
	var last *onetime.Replay
	for i := range 6 {
		s, m := create(t, st, "owner", t0.Add(time.Duration(i)*time.Second))
		ids = append([]onetime.ID{m.ID}, ids...)
		last = newReplay(s.ID, t0.Add(10*time.Second))
		var err error
		if i%2 == 0 {
			_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0.Add(10*time.Second), last)
		} else {
			_, err = st.Burn(ctx, m.ID, t0.Add(10*time.Second), last)
		}
		require.NoError(t, err)
	}
	list, err := st.Recent(ctx, "owner", t0.Add(11*time.Second), 100)
	require.NoError(t, err)
	got := make([]onetime.ID, len(list))
	for i, m := range list {
		got[i] = m.ID
	}
	assert.Equal(t, ids, got, "Recent after replayed calls: the receipts alone")

	// Every replay has expired, no pair has: Sweep removes no record.
	after := last.ExpiresAt.Add(time.Second)
	require.True(t, after.Before(t0.Add(secretTTL)))
	n, err := st.Sweep(ctx, after)
	require.NoError(t, err, "Sweep")
	assert.Zero(t, n, "Sweep counted replay records as records")
	list, err = st.Recent(ctx, "owner", after, 100)
	require.NoError(t, err)
	assert.Len(t, list, len(ids), "Recent after Sweep")
}

// testReplayRevealRace races reveals of one secret: half the racers share
// one replay id A, the others have one each. Either the A-holders won, and
// each of them gets the secret while every other racer finds it gone, or
// exactly one other racer won, and every A-holder finds it gone.
func testReplayRevealRace(t *testing.T, st onetime.Store) {
	const racers = 32
	at := t0.Add(time.Second)
	for round := range rounds(t) {
		s, m := create(t, st, "", t0)
		want := cloneSecret(s)
		a := newReplay(s.ID, at)
		var mu sync.Mutex
		var shared, sharedMissed, others, othersMissed int
		race(racers, func(i int) {
			replay := a
			if i%2 == 1 {
				replay = newReplay(s.ID, at)
			}
			sec, err := st.Reveal(context.Background(), s.ID, onetime.Credentials{}, at, replay)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				equalSecret(t, sec, want)
				if i%2 == 0 {
					shared++
				} else {
					others++
				}
			case errors.Is(err, onetime.ErrNotFound):
				if i%2 == 0 {
					sharedMissed++
				} else {
					othersMissed++
				}
			default:
				assert.Fail(t, "Reveal", "err %v", err)
			}
		})
		if shared > 0 {
			require.Equalf(t, racers/2, shared, "round %d: the shared replay won, but only %d of its %d holders got the secret", round, shared, racers/2)
			require.Zerof(t, others, "round %d: the shared replay and another racer both got the secret", round)
		} else {
			require.Equalf(t, 1, others, "round %d: %d racers with their own replay got the secret; want one", round, others)
			require.Equalf(t, racers/2, sharedMissed, "round %d: holders of the shared replay that found the secret gone", round)
		}
		require.Equal(t, racers, shared+sharedMissed+others+othersMissed, "round %d: answers", round)
		got := receipt(t, st, m.ID, at)
		require.Equal(t, onetime.StateReceived, got.State, "round %d: state after the race", round)
		sameTime(t, "Received after the race", got.Received, at)
	}
}

// testReplayBurnRace races Burns under one replay id A with reveals under
// their own: either every Burn gets the same burned receipt and every
// reveal finds the secret gone, or one reveal won and every Burn finds it
// gone.
func testReplayBurnRace(t *testing.T, st onetime.Store) {
	const racers = 32
	at := t0.Add(time.Second)
	for round := range rounds(t) {
		s, m := create(t, st, "", t0)
		a := newReplay(m.ID, at)
		var mu sync.Mutex
		var burns, reveals int
		race(racers, func(i int) {
			var err error
			if i%2 == 0 {
				var got *onetime.SealedMetadata
				if got, err = st.Burn(context.Background(), m.ID, at, a); err == nil {
					assert.Equal(t, onetime.StateBurned, got.State, "Burn's answer")
					sameTime(t, "Burned", got.Burned, at)
				}
			} else {
				_, err = st.Reveal(context.Background(), s.ID, onetime.Credentials{}, at, newReplay(s.ID, at))
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && i%2 == 0:
				burns++
			case err == nil:
				reveals++
			default:
				assert.ErrorIsf(t, err, onetime.ErrNotFound, "racer %d", i)
			}
		})
		if burns > 0 {
			require.Equalf(t, racers/2, burns, "round %d: the shared Burn won, but only %d of its %d holders got the receipt", round, burns, racers/2)
			require.Zerof(t, reveals, "round %d: a Burn and a Reveal both succeeded", round)
			require.Equal(t, onetime.StateBurned, receipt(t, st, m.ID, at).State)
		} else {
			require.Equalf(t, 1, reveals, "round %d: reveals that succeeded", round)
			require.Equal(t, onetime.StateReceived, receipt(t, st, m.ID, at).State)
		}
	}
}

// testReplayWrongRace: concurrent repeats of one wrong attempt count it
// once, and each gets ErrWrongPassphrase; racers with their own replay id
// are each counted.
func testReplayWrongRace(t *testing.T, st onetime.Store) {
	const racers = 32
	ctx := context.Background()
	for round := range rounds(t) {
		s, m := NewPair("", t0, secretTTL)
		check := withPassphrase(s, m)
		s.MaxAttempts = 1000
		mustCreate(t, st, s, m)
		a := newReplay(s.ID, t0)
		race(racers, func(i int) {
			replay := a
			if i%2 == 1 {
				replay = newReplay(s.ID, t0)
			}
			_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, replay)
			assert.ErrorIs(t, err, onetime.ErrWrongPassphrase, "wrong attempt")
		})
		require.Equalf(t, 1+racers/2, peek(t, st, s.ID, t0).Attempts, "round %d: attempts counted", round)
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0, nil)
		require.NoError(t, err)
	}
}

// testDeadline: a consuming call whose context's deadline has passed
// changes nothing and returns an error wrapping DeadlineExceeded; a
// deadline still ahead is compared with the clock, not with the now
// argument (the suite's now is years away from the clock).
func testDeadline(t *testing.T, st onetime.Store) {
	past, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	ctx := context.Background()
	s, m := NewPair("owner", t0, secretTTL)
	check := withPassphrase(s, m)
	mustCreate(t, st, s, m)
	a := newReplay(s.ID, t0)
	late := func(what string, err error) {
		t.Helper()
		if assert.ErrorIsf(t, err, context.DeadlineExceeded, "%s after its deadline", what) {
			checkErrorText(t, err, append(secretsOf(s, m), []byte(a.ID), []byte(a.ID[onetime.SlotLen:]))...)
		}
	}
	for _, replay := range []*onetime.Replay{nil, a} {
		sec, err := st.Reveal(past, s.ID, onetime.Credentials{Check: check}, t0, replay)
		late("Reveal", err)
		assert.Nil(t, sec, "Reveal after its deadline returned a secret")
		_, err = st.Reveal(past, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, replay)
		late("a wrong Reveal", err)
		got, err := st.Burn(past, m.ID, t0, replay)
		late("Burn", err)
		assert.Nil(t, got, "Burn after its deadline returned a receipt")
	}
	assert.Zero(t, peek(t, st, s.ID, t0).Attempts, "a wrong attempt after its deadline was counted")
	got := receipt(t, st, m.ID, t0)
	equalMetadata(t, got, m)
	assert.True(t, got.SecretPresent, "a call after its deadline consumed the secret")

	// Nothing was recorded under the replay id: it reveals now.
	ahead, cancel2 := context.WithTimeout(ctx, time.Minute)
	defer cancel2()
	sec, err := st.Reveal(ahead, s.ID, onetime.Credentials{Check: check}, t0, a)
	require.NoError(t, err, "Reveal with a deadline ahead, under the replay id of calls that missed theirs")
	equalSecret(t, sec, s)
	_, m = create(t, st, "owner", t0)
	_, err = st.Burn(ahead, m.ID, t0, newReplay(m.ID, t0))
	require.NoError(t, err, "Burn with a deadline ahead")

	// A cancelled call records nothing either.
	s, _ = create(t, st, "", t0)
	cancelled, stop := context.WithCancel(ctx)
	stop()
	a = newReplay(s.ID, t0)
	_, err = st.Reveal(cancelled, s.ID, onetime.Credentials{}, t0, a)
	require.ErrorIs(t, err, context.Canceled)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, a)
	require.NoError(t, err, "Reveal under the replay id of a cancelled call")
}

// testServiceReplay drives the real Service's idempotent calls over the
// store: repeats of Share, Generate, Reveal (with a passphrase) and Burn
// answer the first answer, and no repeat stores a second secret.
func testServiceReplay(t *testing.T, st onetime.Store) {
	now := t0
	svc, err := onetime.New(st, bytes.Repeat([]byte("k"), 32), &onetime.Options{
		Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, svc.Close()) })
	bg := context.Background()
	ctx := onetime.WithIdempotencyKey(bg, "share-1")

	req := onetime.ShareRequest{Owner: "dana", Value: []byte("value ✓"), TTL: time.Hour, Passphrase: "pw"}
	first, err := svc.Share(ctx, req)
	require.NoError(t, err)
	now = now.Add(20 * time.Second)
	again, err := svc.Share(ctx, req)
	require.NoError(t, err, "a repeated Share")
	assert.Equal(t, *first, *again, "a repeated Share's answer")
	list, err := svc.Recent(bg, "dana")
	require.NoError(t, err)
	assert.Len(t, list, 1, "a repeated Share stored a second secret")

	ctx = onetime.WithIdempotencyKey(bg, "reveal-1")
	got, err := svc.Reveal(ctx, first.SecretKey, "pw")
	require.NoError(t, err)
	assert.Equal(t, req.Value, got.Value)
	now = now.Add(20 * time.Second)
	got, err = svc.Reveal(ctx, first.SecretKey, "pw")
	require.NoError(t, err, "a repeated Reveal")
	assert.Equal(t, req.Value, got.Value, "a repeated Reveal's value")
	_, err = svc.Reveal(onetime.WithIdempotencyKey(bg, "reveal-2"), first.SecretKey, "pw")
	assert.ErrorIs(t, err, onetime.ErrNotFound, "a Reveal under another key")

	ctx = onetime.WithIdempotencyKey(bg, "generate-1")
	g, err := svc.Generate(ctx, onetime.GenerateRequest{ShareRequest: onetime.ShareRequest{Owner: "dana"}})
	require.NoError(t, err)
	g2, err := svc.Generate(ctx, onetime.GenerateRequest{ShareRequest: onetime.ShareRequest{Owner: "dana"}})
	require.NoError(t, err, "a repeated Generate")
	assert.Equal(t, *g, *g2, "a repeated Generate's answer")
	b, err := svc.Burn(ctx, g.MetadataKey)
	require.NoError(t, err)
	now = now.Add(time.Second)
	b2, err := svc.Burn(ctx, g.MetadataKey)
	require.NoError(t, err, "a repeated Burn")
	assert.Equal(t, onetime.StateBurned, b2.State)
	assert.Equal(t, b.Burned, b2.Burned, "a repeated Burn's stamp")
	list, err = svc.Recent(bg, "dana")
	require.NoError(t, err)
	assert.Len(t, list, 2, "Recent after repeated calls")
}
