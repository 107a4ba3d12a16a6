package redis

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/storetest"
)

// clients are the deployments the script tests run on.
func clients(t *testing.T) map[string]goredis.UniversalClient {
	return map[string]goredis.UniversalClient{
		"standalone": redistest.Shared(t).Client(t),
		"cluster":    redistest.Cluster(t).Client(t),
	}
}

// TestSameCallAgain runs the Reveal and Burn scripts twice with the same
// outcome key, as go-redis does when it lost the first reply: the second
// run answers what the first did and changes nothing; a run with another
// key (another call) finds the secret gone. The outcome lives at most
// outcomeTTL, and the Store's own calls delete it once answered (off the
// caller's path: settle waits for that).
func TestSameCallAgain(t *testing.T) {
	for name, c := range clients(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := newStore(t, c)
			now := t0.Add(time.Second)
			px := outcomeTTL.Milliseconds()

			// Reveal.
			s, m := storetest.NewPair("", t0, time.Hour)
			require.NoError(t, st.Create(ctx, s, m))
			keys := []string{st.key(s.ID, kindSecret), st.outcomeKey(s.ID)}
			first, err := revealScript.Run(ctx, c, keys, st.pair(s.ID), nil, micros(now), px, "", "").Text()
			require.NoError(t, err)
			ttl, err := c.PTTL(ctx, keys[1]).Result()
			require.NoError(t, err)
			assert.True(t, ttl > 0 && ttl <= outcomeTTL, "outcome PTTL %v, want within %v", ttl, outcomeTTL)
			again, err := revealScript.Run(ctx, c, keys, st.pair(s.ID), nil, micros(now.Add(time.Second)), px, "", "").Text()
			require.NoError(t, err)
			assert.Equal(t, first, again, "the same call again answers the same record")
			got, err := decodeSecret(s.ID, []byte(again))
			require.NoError(t, err)
			assert.Equal(t, s.Sealed, got.Sealed)
			r, err := st.Receipt(ctx, m.ID, now.Add(time.Minute))
			require.NoError(t, err)
			assert.Equal(t, onetime.StateReceived, r.State)
			assert.Equal(t, now, r.Received, "the repeat changed nothing")
			_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
			require.ErrorIs(t, err, onetime.ErrNotFound, "another call")

			// A wrong passphrase is counted once, and a repeat of the
			// attempt that burned the secret still says wrong passphrase.
			s, m = storetest.NewPair("", t0, time.Hour)
			s.Check, s.MaxAttempts = []byte("right"), 2
			require.NoError(t, st.Create(ctx, s, m))
			keys = []string{st.key(s.ID, kindSecret), st.outcomeKey(s.ID)}
			for range 3 {
				v, err := revealScript.Run(ctx, c, keys, st.pair(s.ID), "wrong", micros(now), px, "", "").Int64()
				require.NoError(t, err)
				require.Equal(t, int64(1), v)
			}
			info, err := st.Peek(ctx, s.ID, now)
			require.NoError(t, err)
			assert.Equal(t, 1, info.Attempts, "one call, one attempt")
			keys[1] = st.outcomeKey(s.ID)
			for range 2 {
				v, err := revealScript.Run(ctx, c, keys, st.pair(s.ID), "wrong", micros(now), px, "", "").Int64()
				require.NoError(t, err)
				require.Equal(t, int64(1), v, "the attempt that burned the secret, again")
			}
			r, err = st.Receipt(ctx, m.ID, now)
			require.NoError(t, err)
			assert.Equal(t, onetime.StateBurned, r.State)

			// Burn.
			s, m = storetest.NewPair("", t0, time.Hour)
			require.NoError(t, st.Create(ctx, s, m))
			keys = []string{st.key(m.ID, kindReceipt), st.outcomeKey(m.ID)}
			first, err = burnScript.Run(ctx, c, keys, st.pair(m.ID), micros(now), px, "", "").Text()
			require.NoError(t, err)
			again, err = burnScript.Run(ctx, c, keys, st.pair(m.ID), micros(now.Add(time.Second)), px, "", "").Text()
			require.NoError(t, err)
			assert.Equal(t, first, again)
			b, err := decodeReceipt(m.ID, []byte(again))
			require.NoError(t, err)
			assert.Equal(t, onetime.StateBurned, b.State)
			assert.Equal(t, now, b.Burned)
			_, err = st.Burn(ctx, m.ID, now, nil)
			require.ErrorIs(t, err, onetime.ErrNotFound, "another call")

			// The Store's own calls leave no outcome once answered.
			prefix := st.prefix
			left, err := outcomeKeys(ctx, c, prefix)
			require.NoError(t, err)
			require.Len(t, left, 4, "the outcomes of the scripts run by hand")
			for _, k := range left { // one key per DEL: a Cluster spreads them
				require.NoError(t, c.Del(ctx, k).Err())
			}
			s, m = storetest.NewPair("", t0, time.Hour)
			s.Check = []byte("right")
			require.NoError(t, st.Create(ctx, s, m))
			_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
			require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
			_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: s.Check}, now, nil)
			require.NoError(t, err)
			s, m = storetest.NewPair("", t0, time.Hour)
			require.NoError(t, st.Create(ctx, s, m))
			_, err = st.Burn(ctx, m.ID, now, nil)
			require.NoError(t, err)
			st.settle(false)
			left, err = outcomeKeys(ctx, c, prefix)
			require.NoError(t, err)
			assert.Empty(t, left, "outcome keys left after answered calls")
		})
	}
}

// TestRecordVersion: every record starts with its format version, and a
// record of a version this code does not know is refused by every method
// that meets it, scripts and Go alike, with errVersion (not ErrNotFound,
// not a misread), and is left as it was.
func TestRecordVersion(t *testing.T) {
	s, m := storetest.NewPair("owner", t0, time.Hour)
	srec, err := encodeSecret(s)
	require.NoError(t, err)
	mrec, err := encodeReceipt(m)
	require.NoError(t, err)
	require.Equal(t, byte(recordVersion), srec[0])
	require.Equal(t, byte(recordVersion), mrec[0])
	future := func(b []byte) []byte { return append([]byte{recordVersion + 1}, b[1:]...) }
	_, err = decodeSecret(s.ID, future(srec))
	require.ErrorIs(t, err, errVersion)
	_, err = decodeReceipt(m.ID, future(mrec))
	require.ErrorIs(t, err, errVersion)
	_, err = decodePeek(future(srec)[:secretHeader])
	require.ErrorIs(t, err, errVersion)

	for name, c := range clients(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := t0.Add(time.Second)
			// put stores a pair whose secret and receipt records are the
			// given ones, under the store's keys.
			put := func(st *Store, s *onetime.SealedSecret, m *onetime.SealedMetadata, srec, mrec []byte) {
				require.NoError(t, st.Create(ctx, s, m))
				require.NoError(t, c.Set(ctx, st.key(s.ID, kindSecret), srec, time.Hour).Err())
				require.NoError(t, c.Set(ctx, st.key(m.ID, kindReceipt), mrec, time.Hour).Err())
			}
			unchanged := func(st *Store, s *onetime.SealedSecret, m *onetime.SealedMetadata, srec, mrec []byte) {
				t.Helper()
				got, err := c.Get(ctx, st.key(s.ID, kindSecret)).Bytes()
				require.NoError(t, err, "the secret record is gone")
				assert.Equal(t, srec, got, "the secret record changed")
				got, err = c.Get(ctx, st.key(m.ID, kindReceipt)).Bytes()
				require.NoError(t, err, "the receipt record is gone")
				assert.Equal(t, mrec, got, "the receipt record changed")
			}
			refused := func(what string, err error) {
				t.Helper()
				assert.ErrorIs(t, err, errVersion, what)
				assert.NotErrorIs(t, err, onetime.ErrNotFound, what)
			}
			for _, tc := range []struct {
				name                  string
				secretNew, receiptNew bool
			}{
				{"secret", true, false},
				{"receipt", false, true},
				{"both", true, true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					st := newStore(t, c)
					s, m := storetest.NewPair("owner", t0, time.Hour)
					srec, err := encodeSecret(s)
					require.NoError(t, err)
					mrec, err := encodeReceipt(m)
					require.NoError(t, err)
					if tc.secretNew {
						srec = future(srec)
					}
					if tc.receiptNew {
						mrec = future(mrec)
					}
					put(st, s, m, srec, mrec)

					_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
					refused("Reveal", err)
					_, err = st.Burn(ctx, m.ID, now, nil)
					refused("Burn", err)
					_, err = st.Receipt(ctx, m.ID, now)
					refused("Receipt", err)
					_, err = st.View(ctx, m.ID, now)
					refused("View", err)
					_, err = st.Recent(ctx, "owner", now, 10)
					refused("Recent", err)
					if tc.secretNew {
						_, err = st.Peek(ctx, s.ID, now)
						refused("Peek", err)
					}
					unchanged(st, s, m, srec, mrec)
				})
			}
		})
	}
}

// TestAttemptsLimit: the record holds Attempts and MaxAttempts up to
// onetime.MaxAttemptsLimit, and the script counts and burns at that size.
func TestAttemptsLimit(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, redistest.Shared(t).Client(t))
	now := t0.Add(time.Second)
	for _, tc := range []struct {
		attempts, max int
		burned        bool
	}{
		{1000, onetime.MaxAttemptsLimit, false},
		{onetime.MaxAttemptsLimit - 2, onetime.MaxAttemptsLimit, false},
		{onetime.MaxAttemptsLimit - 1, onetime.MaxAttemptsLimit, true},
		{onetime.MaxAttemptsLimit, onetime.MaxAttemptsLimit, true},
	} {
		s, m := storetest.NewPair("", t0, time.Hour)
		s.Check, s.Attempts, s.MaxAttempts = []byte("right"), tc.attempts, tc.max
		require.NoError(t, st.Create(ctx, s, m))
		info, err := st.Peek(ctx, s.ID, now)
		require.NoError(t, err)
		assert.Equal(t, onetime.SecretInfo{PassphraseRequired: true, Attempts: tc.attempts, MaxAttempts: tc.max, ExpiresAt: s.ExpiresAt}, *info)
		_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
		info, err = st.Peek(ctx, s.ID, now)
		if tc.burned {
			require.ErrorIs(t, err, onetime.ErrNotFound, "%d of %d attempts", tc.attempts+1, tc.max)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.attempts+1, info.Attempts)
		got, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: s.Check}, now, nil)
		require.NoError(t, err)
		assert.Equal(t, tc.attempts+1, got.Attempts)
		assert.Equal(t, tc.max, got.MaxAttempts)
	}
	s, m := storetest.NewPair("", t0, time.Hour)
	s.MaxAttempts = onetime.MaxAttemptsLimit + 1
	require.ErrorIs(t, st.Create(ctx, s, m), onetime.ErrInvalid)
}
