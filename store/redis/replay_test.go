package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/storetest"
)

// replayFor returns a Replay for a call about id: a fresh replay id in
// id's slot, expiring ttl after now.
func replayFor(id onetime.ID, now time.Time, ttl time.Duration) *onetime.Replay {
	var b [16]byte
	rand.Read(b[:])
	return &onetime.Replay{ID: onetime.ID(id.Slot() + hex.EncodeToString(b[:])), ExpiresAt: now.Add(ttl)}
}

// TestReplay: what the Redis store does with a Replay, on one server and
// on a Cluster. The outcome goes under a key named by the replay id, in
// the pair's slot; Redis keeps it for ExpiresAt-now and the Store does not
// delete it once answered; a later call with that id gets it as recorded
// whatever its check, until its now reaches ExpiresAt; ErrNotFound is not
// recorded; a replay id of another slot is refused before anything runs.
func TestReplay(t *testing.T) {
	for name, c := range clients(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := newStore(t, c)
			now := t0.Add(time.Second)

			t.Run("Reveal", func(t *testing.T) {
				s, m := storetest.NewPair("", t0, time.Hour)
				require.NoError(t, st.Create(ctx, s, m))
				rp := replayFor(s.ID, now, time.Minute)
				first, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, rp)
				require.NoError(t, err)
				assert.Equal(t, s.Sealed, first.Sealed)

				st.settle(false) // the DELs of answered calls have run
				key := st.key(rp.ID, kindReplay)
				rec, err := c.Get(ctx, key).Result()
				require.NoError(t, err, "the outcome is kept after the answer")
				assert.Equal(t, "\x01s", rec[:2], "a replay's outcome: version, kind in lower case")
				ttl, err := c.PTTL(ctx, key).Result()
				require.NoError(t, err)
				assert.True(t, ttl > 59*time.Second && ttl <= time.Minute, "outcome PTTL %v, want ExpiresAt-now", ttl)

				again, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("any check")}, now.Add(30*time.Second), rp)
				require.NoError(t, err, "a repeat with the replay id")
				assert.Equal(t, first, again, "the repeat answers the secret as first returned")
				r, err := st.Receipt(ctx, m.ID, now.Add(time.Minute))
				require.NoError(t, err)
				assert.Equal(t, onetime.StateReceived, r.State)
				assert.Equal(t, now, r.Received, "the repeat changed nothing")

				_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
				require.ErrorIs(t, err, onetime.ErrNotFound, "a call without the replay")
				_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, now, replayFor(s.ID, now, time.Minute))
				require.ErrorIs(t, err, onetime.ErrNotFound, "a call with another replay id")
				_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, rp.ExpiresAt, rp)
				require.ErrorIs(t, err, onetime.ErrNotFound, "the outcome is gone at ExpiresAt, whatever Redis still holds")
			})

			t.Run("WrongPassphrase", func(t *testing.T) {
				s, m := storetest.NewPair("", t0, time.Hour)
				s.Check, s.MaxAttempts = []byte("right"), 2
				require.NoError(t, st.Create(ctx, s, m))
				rp := replayFor(s.ID, now, time.Minute)
				for _, check := range []string{"wrong", "right", "wrong"} {
					_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte(check)}, now, rp)
					require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "check %q with the replay id", check)
				}
				info, err := st.Peek(ctx, s.ID, now)
				require.NoError(t, err)
				assert.Equal(t, 1, info.Attempts, "one attempt counted, however often repeated")

				// The attempt that burns the secret is recorded too.
				rp = replayFor(s.ID, now, time.Minute)
				for range 2 {
					_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, now, rp)
					require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
				}
				r, err := st.Receipt(ctx, m.ID, now)
				require.NoError(t, err)
				assert.Equal(t, onetime.StateBurned, r.State)
			})

			t.Run("NotFoundNotRecorded", func(t *testing.T) {
				s, _ := storetest.NewPair("", t0, time.Hour)
				rp := replayFor(s.ID, now, time.Minute)
				_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, rp)
				require.ErrorIs(t, err, onetime.ErrNotFound)
				n, err := c.Exists(ctx, st.key(rp.ID, kindReplay)).Result()
				require.NoError(t, err)
				assert.Zero(t, n, "ErrNotFound was recorded")
			})

			t.Run("Burn", func(t *testing.T) {
				s, m := storetest.NewPair("", t0, time.Hour)
				require.NoError(t, st.Create(ctx, s, m))
				rp := replayFor(m.ID, now, time.Minute)
				first, err := st.Burn(ctx, m.ID, now, rp)
				require.NoError(t, err)
				assert.Equal(t, onetime.StateBurned, first.State)
				again, err := st.Burn(ctx, m.ID, now.Add(time.Second), rp)
				require.NoError(t, err)
				assert.Equal(t, first, again, "the repeat answers the receipt as first returned")
				_, err = st.Burn(ctx, m.ID, now, nil)
				require.ErrorIs(t, err, onetime.ErrNotFound, "a call without the replay")
				_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
				require.ErrorIs(t, err, onetime.ErrNotFound, "the secret is burned")
				st.settle(false)
				n, err := c.Exists(ctx, st.key(rp.ID, kindReplay)).Result()
				require.NoError(t, err)
				assert.Equal(t, int64(1), n, "the outcome is kept after the answer")
			})

			t.Run("ExpiresAtPast", func(t *testing.T) {
				// A replay already expired at now still lets the call work;
				// its outcome lives a millisecond and counts for nothing.
				s, m := storetest.NewPair("", t0, time.Hour)
				require.NoError(t, st.Create(ctx, s, m))
				rp := &onetime.Replay{ID: replayFor(s.ID, now, 0).ID, ExpiresAt: now.Add(-time.Second)}
				_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, rp)
				require.NoError(t, err)
				_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, now, rp)
				require.ErrorIs(t, err, onetime.ErrNotFound)
			})

			t.Run("Refused", func(t *testing.T) {
				s, m := storetest.NewPair("", t0, time.Hour)
				require.NoError(t, st.Create(ctx, s, m))
				other, _ := storetest.NewPair("", t0, time.Hour)
				for name, rp := range map[string]*onetime.Replay{
					"another slot": replayFor(other.ID, now, time.Minute),
					"malformed":    {ID: onetime.ID(s.ID.Slot() + "XYZ"), ExpiresAt: now.Add(time.Minute)},
					"no expiry":    {ID: replayFor(s.ID, now, 0).ID},
				} {
					_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, rp)
					require.ErrorIs(t, err, onetime.ErrInvalid, "Reveal, %s", name)
					_, err = st.Burn(ctx, m.ID, now, rp)
					require.ErrorIs(t, err, onetime.ErrInvalid, "Burn, %s", name)
				}
				got, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
				require.NoError(t, err, "the refused calls changed nothing")
				assert.Equal(t, s.Sealed, got.Sealed)
			})
		})
	}
}
