package redis

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/storetest"
)

// TestUpgrade is a store upgraded in place: Redis holds pairs that the
// code of format 1 wrote (createLegacy, the writer of that code), and this
// code, started on it, serves them as that code would have: Peek, Receipt,
// View, Recent (beside pairs of format 2 of the same owner), Reveal with
// and without a passphrase, a secret burned by its attempts, Burn,
// replays; on one server and on a Cluster. It changes them in place, in
// format 1, and writes no format-2 key for them.
func TestUpgrade(t *testing.T) {
	for name, c := range clients(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := newStore(t, c)
			now := t0.Add(time.Second)
			legacy := func(owner string, created time.Time, passphrase bool) (*onetime.SealedSecret, *onetime.SealedMetadata) {
				s, m := storetest.NewPair(owner, created, time.Hour)
				if passphrase {
					s.Check, s.MaxAttempts, m.PassphraseRequired = []byte("right"), 2, true
				}
				createLegacy(t, c, st, s, m)
				return s, m
			}
			var legacyIDs []onetime.ID
			pairOf := func(s *onetime.SealedSecret, m *onetime.SealedMetadata) (*onetime.SealedSecret, *onetime.SealedMetadata) {
				legacyIDs = append(legacyIDs, s.ID, m.ID)
				return s, m
			}
			revealed, revealedM := pairOf(legacy("alice", t0, false))
			locked, lockedM := pairOf(legacy("alice", t0.Add(time.Second), true))
			burned, burnedM := pairOf(legacy("alice", t0.Add(2*time.Second), false))
			spent, spentM := pairOf(legacy("", t0, true))
			replayed, _ := pairOf(legacy("", t0, false))
			_, viewedM := pairOf(legacy("alice", t0.Add(3*time.Second), false))
			// Format 2, after the upgrade, for the same owner.
			fresh, freshM := storetest.NewPair("alice", t0.Add(4*time.Second), time.Hour)
			require.NoError(t, st.Create(ctx, fresh, freshM))

			// Peek, Receipt, View.
			info, err := st.Peek(ctx, locked.ID, now)
			require.NoError(t, err)
			assert.Equal(t, onetime.SecretInfo{PassphraseRequired: true, MaxAttempts: 2, ExpiresAt: locked.ExpiresAt}, *info)
			r, err := st.Receipt(ctx, viewedM.ID, now)
			require.NoError(t, err)
			want := *viewedM
			want.SecretPresent = true
			assert.Equal(t, &want, r)
			r, err = st.View(ctx, viewedM.ID, now)
			require.NoError(t, err)
			assert.Equal(t, &want, r, "View answers the receipt as it was")
			r, err = st.Receipt(ctx, viewedM.ID, now)
			require.NoError(t, err)
			assert.Equal(t, onetime.StateViewed, r.State)
			assert.Equal(t, now, r.Updated)

			// Recent lists both formats, newest first.
			list, err := st.Recent(ctx, "alice", now, 10)
			require.NoError(t, err)
			var ids []onetime.ID
			for _, m := range list {
				ids = append(ids, m.ID)
			}
			assert.Equal(t, []onetime.ID{freshM.ID, viewedM.ID, burnedM.ID, lockedM.ID, revealedM.ID}, ids)

			// Reveal.
			got, err := st.Reveal(ctx, revealed.ID, onetime.Credentials{}, now, nil)
			require.NoError(t, err)
			assert.Equal(t, revealed, got)
			_, err = st.Reveal(ctx, revealed.ID, onetime.Credentials{}, now, nil)
			require.ErrorIs(t, err, onetime.ErrNotFound, "revealed twice")
			r, err = st.Receipt(ctx, revealedM.ID, now)
			require.NoError(t, err)
			assert.Equal(t, onetime.StateReceived, r.State)
			assert.Equal(t, now, r.Received)
			assert.False(t, r.SecretPresent)

			// A wrong passphrase, counted; then the right one.
			_, err = st.Reveal(ctx, locked.ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
			require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
			info, err = st.Peek(ctx, locked.ID, now)
			require.NoError(t, err)
			assert.Equal(t, 1, info.Attempts)
			got, err = st.Reveal(ctx, locked.ID, onetime.Credentials{Check: locked.Check}, now, nil)
			require.NoError(t, err)
			assert.Equal(t, locked.Sealed, got.Sealed)
			assert.Equal(t, 1, got.Attempts)

			// Attempts spent: the secret is burned.
			for range 2 {
				_, err = st.Reveal(ctx, spent.ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
				require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
			}
			r, err = st.Receipt(ctx, spentM.ID, now)
			require.NoError(t, err)
			assert.Equal(t, onetime.StateBurned, r.State)
			_, err = st.Peek(ctx, spent.ID, now)
			require.ErrorIs(t, err, onetime.ErrNotFound)

			// Burn.
			r, err = st.Burn(ctx, burnedM.ID, now, nil)
			require.NoError(t, err)
			assert.Equal(t, onetime.StateBurned, r.State)
			assert.Equal(t, now, r.Burned)
			_, err = st.Burn(ctx, burnedM.ID, now, nil)
			require.ErrorIs(t, err, onetime.ErrNotFound, "burned twice")
			_, err = st.Reveal(ctx, burned.ID, onetime.Credentials{}, now, nil)
			require.ErrorIs(t, err, onetime.ErrNotFound, "revealed after its burn")

			// A replay's outcome: recorded once, answered to the repeat.
			rp := replayFor(replayed.ID, now, time.Minute)
			got, err = st.Reveal(ctx, replayed.ID, onetime.Credentials{}, now, rp)
			require.NoError(t, err)
			again, err := st.Reveal(ctx, replayed.ID, onetime.Credentials{}, now.Add(time.Second), rp)
			require.NoError(t, err)
			assert.Equal(t, got, again)

			// Recent after all this: the states as changed.
			list, err = st.Recent(ctx, "alice", now, 10)
			require.NoError(t, err)
			states := map[onetime.ID]onetime.State{}
			for _, m := range list {
				states[m.ID] = m.State
			}
			assert.Equal(t, map[onetime.ID]onetime.State{
				freshM.ID: onetime.StateNew, viewedM.ID: onetime.StateViewed, burnedM.ID: onetime.StateBurned,
				lockedM.ID: onetime.StateReceived, revealedM.ID: onetime.StateReceived,
			}, states)

			// The records stayed in format 1, in their own keys: no pair
			// key of format 2 names them.
			for _, id := range legacyIDs {
				b, err := c.Get(ctx, st.pair(id)).Bytes()
				if err == goredis.Nil {
					continue
				}
				require.NoError(t, err)
				rest := rawRest(id)
				for _, kind := range []byte{'s', 'm'} {
					r, err := findRecord(b, kind, rest[:])
					require.NoError(t, err)
					assert.Nil(t, r, "a record of format 2 for a pair of format 1")
				}
			}
			for _, m := range []*onetime.SealedMetadata{revealedM, lockedM, burnedM, spentM, viewedM} {
				b, err := c.Get(ctx, st.key(m.ID, kindReceipt)).Bytes()
				require.NoError(t, err, "the receipt of format 1 is gone")
				assert.Equal(t, byte(formatLegacy), b[0])
			}
			for _, s := range []*onetime.SealedSecret{revealed, locked, burned, spent, replayed} {
				n, err := c.Exists(ctx, st.key(s.ID, kindSecret)).Result()
				require.NoError(t, err)
				assert.Zero(t, n, "the consumed secret of format 1 is still stored")
			}
		})
	}
}
