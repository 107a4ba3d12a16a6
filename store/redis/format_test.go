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

// creators are the ways a pair gets into Redis that the Store must serve:
// its own Create (format 2), and the Create of format 1 that stores
// written before it hold (createLegacy).
func creators() map[string]func(t *testing.T, c goredis.UniversalClient, st *Store, s *onetime.SealedSecret, m *onetime.SealedMetadata) {
	return map[string]func(*testing.T, goredis.UniversalClient, *Store, *onetime.SealedSecret, *onetime.SealedMetadata){
		"format 2": func(t *testing.T, _ goredis.UniversalClient, st *Store, s *onetime.SealedSecret, m *onetime.SealedMetadata) {
			require.NoError(t, st.Create(context.Background(), s, m))
		},
		"format 1": createLegacy,
	}
}

// runReveal runs revealScript as Reveal does, with the outcome key okey
// and no replay.
func runReveal(c goredis.UniversalClient, st *Store, id onetime.ID, okey, check string, now time.Time) *goredis.Cmd {
	rest := rawRest(id)
	return revealScript.Run(context.Background(), c, []string{st.pair(id), okey},
		string(rest[:]), check, "", micros(now), outcomeTTL.Milliseconds(), "", "")
}

// runBurn runs burnScript as Burn does, with the outcome key okey and no
// replay.
func runBurn(c goredis.UniversalClient, st *Store, id onetime.ID, okey string, now time.Time) *goredis.Cmd {
	rest := rawRest(id)
	return burnScript.Run(context.Background(), c, []string{st.pair(id), okey},
		string(rest[:]), micros(now), outcomeTTL.Milliseconds(), "", "")
}

// TestSameCallAgain runs the Reveal and Burn scripts twice with the same
// outcome key, as go-redis does when it lost the first reply: the second
// run answers what the first did and changes nothing; a run with another
// key (another call) finds the secret gone. The outcome lives at most
// outcomeTTL, and the Store's own calls delete it once answered (off the
// caller's path: settle waits for that). Pairs of both formats.
func TestSameCallAgain(t *testing.T) {
	for name, c := range clients(t) {
		for format, create := range creators() {
			t.Run(name+"/"+format, func(t *testing.T) {
				testSameCallAgain(t, c, create)
			})
		}
	}
}

func testSameCallAgain(t *testing.T, c goredis.UniversalClient, create func(*testing.T, goredis.UniversalClient, *Store, *onetime.SealedSecret, *onetime.SealedMetadata)) {
	ctx := context.Background()
	st := newStore(t, c)
	now := t0.Add(time.Second)

	// Reveal.
	s, m := storetest.NewPair("", t0, time.Hour)
	create(t, c, st, s, m)
	okey := st.outcomeKey(s.ID)
	first, err := runReveal(c, st, s.ID, okey, "", now).Text()
	require.NoError(t, err)
	ttl, err := c.PTTL(ctx, okey).Result()
	require.NoError(t, err)
	assert.True(t, ttl > 0 && ttl <= outcomeTTL, "outcome PTTL %v, want within %v", ttl, outcomeTTL)
	again, err := runReveal(c, st, s.ID, okey, "", now.Add(time.Second)).Text()
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

	// A wrong passphrase is counted once, and a repeat of the attempt
	// that burned the secret still says wrong passphrase.
	s, m = storetest.NewPair("", t0, time.Hour)
	s.Check, s.MaxAttempts = []byte("right"), 2
	create(t, c, st, s, m)
	okey = st.outcomeKey(s.ID)
	for range 3 {
		v, err := runReveal(c, st, s.ID, okey, "wrong", now).Int64()
		require.NoError(t, err)
		require.Equal(t, int64(1), v)
	}
	info, err := st.Peek(ctx, s.ID, now)
	require.NoError(t, err)
	assert.Equal(t, 1, info.Attempts, "one call, one attempt")
	okey = st.outcomeKey(s.ID)
	for range 2 {
		v, err := runReveal(c, st, s.ID, okey, "wrong", now).Int64()
		require.NoError(t, err)
		require.Equal(t, int64(1), v, "the attempt that burned the secret, again")
	}
	r, err = st.Receipt(ctx, m.ID, now)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateBurned, r.State)

	// Burn.
	s, m = storetest.NewPair("", t0, time.Hour)
	create(t, c, st, s, m)
	okey = st.outcomeKey(m.ID)
	first, err = runBurn(c, st, m.ID, okey, now).Text()
	require.NoError(t, err)
	again, err = runBurn(c, st, m.ID, okey, now.Add(time.Second)).Text()
	require.NoError(t, err)
	assert.Equal(t, first, again)
	b, err := decodeReceipt(m.ID, []byte(again), now)
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
	create(t, c, st, s, m)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: s.Check}, now, nil)
	require.NoError(t, err)
	s, m = storetest.NewPair("", t0, time.Hour)
	create(t, c, st, s, m)
	_, err = st.Burn(ctx, m.ID, now, nil)
	require.NoError(t, err)
	st.settle(false)
	left, err = outcomeKeys(ctx, c, prefix)
	require.NoError(t, err)
	assert.Empty(t, left, "outcome keys left after answered calls")
}

// TestRecordVersion: every value starts with its format version, and a
// value of a version this code does not know, in a pair's key or in a key
// of format 1, is refused by every method that meets it, scripts and Go
// alike, with errVersion (not ErrNotFound, not a misread), and is left as
// it was.
func TestRecordVersion(t *testing.T) {
	s, m := storetest.NewPair("owner", t0, time.Hour)
	v, err := encodePair(s, m)
	require.NoError(t, err)
	require.Equal(t, byte(formatPair), v[0])
	future := func(b []byte) []byte { return append([]byte{formatPair + 1}, b[1:]...) }
	_, err = decodeSecret(s.ID, future(v))
	require.ErrorIs(t, err, errVersion)
	_, err = decodeReceipt(m.ID, future(v), t0)
	require.ErrorIs(t, err, errVersion)
	srec, err := encodeLegacySecret(s)
	require.NoError(t, err)
	_, err = decodeLegacyPeek(future(srec))
	require.ErrorIs(t, err, errVersion)

	for name, c := range clients(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := t0.Add(time.Second)
			refused := func(what string, err error) {
				t.Helper()
				assert.ErrorIs(t, err, errVersion, what)
				assert.NotErrorIs(t, err, onetime.ErrNotFound, what)
			}
			for _, tc := range []struct {
				name   string
				format int // of the pair stored
				future []byte
				secret bool // the secret's value is of the unknown version
			}{
				{"pair", formatPair, []byte{'p'}, true},
				{"format 1, secret", formatLegacy, []byte{kindSecret}, true},
				{"format 1, receipt", formatLegacy, []byte{kindReceipt}, false},
				{"format 1, both", formatLegacy, []byte{kindSecret, kindReceipt}, true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					st := newStore(t, c)
					s, m := storetest.NewPair("owner", t0, time.Hour)
					if tc.format == formatPair {
						require.NoError(t, st.Create(ctx, s, m))
					} else {
						createLegacy(t, c, st, s, m)
					}
					// The values made unknown, and what they are then.
					values := map[string][]byte{}
					for _, kind := range tc.future {
						key := st.pair(s.ID)
						switch kind {
						case kindSecret:
							key = st.key(s.ID, kindSecret)
						case kindReceipt:
							key = st.key(m.ID, kindReceipt)
						}
						b, err := c.Get(ctx, key).Bytes()
						require.NoError(t, err)
						b = future(b)
						require.NoError(t, c.Set(ctx, key, b, goredis.KeepTTL).Err())
						values[key] = b
					}

					_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
					refused("Reveal", err)
					_, err = st.Burn(ctx, m.ID, now, nil)
					refused("Burn", err)
					_, err = st.Receipt(ctx, m.ID, now)
					refused("Receipt", err)
					_, err = st.View(ctx, m.ID, now)
					refused("View", err)
					_, err = st.Recent(ctx, "owner", now, 10)
					refused("Recent", err)
					if tc.secret {
						_, err = st.Peek(ctx, s.ID, now)
						refused("Peek", err)
					}
					if tc.format == formatPair {
						// Another pair of the slot meets the value too.
						s2, m2 := storetest.NewPair("", t0, time.Hour)
						s2.ID = onetime.ID(s.ID.Slot() + string(s2.ID[onetime.SlotLen:]))
						m2.ID = onetime.ID(s.ID.Slot() + string(m2.ID[onetime.SlotLen:]))
						s2.MetadataID, m2.SecretID = m2.ID, s2.ID
						refused("Create in the slot", st.Create(ctx, s2, m2))
					}
					for key, want := range values {
						got, err := c.Get(ctx, key).Bytes()
						require.NoError(t, err, "the value is gone")
						assert.Equal(t, want, got, "the value changed")
					}
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
