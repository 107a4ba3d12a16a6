package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/storetest"
)

// pexpiretime returns the key's absolute expiry in ms (-1 none, -2 no key).
func pexpiretime(t *testing.T, c goredis.UniversalClient, key string) int64 {
	t.Helper()
	v, err := c.Do(context.Background(), "PEXPIRETIME", key).Int64()
	require.NoError(t, err)
	return v
}

// TestNativeExpiry checks that Redis itself expires every pair at the
// later of its secret's and its receipt's ExpiresAt, rounded up to the
// millisecond, that no state change moves or drops that expiry, and that
// the secret, which shares the key, still expires at its own ExpiresAt:
// no method serves it from then on, and the first script that meets it
// drops its bytes while the receipt stays.
func TestNativeExpiry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(t *testing.T) goredis.UniversalClient
	}{
		{"Standalone", func(t *testing.T) goredis.UniversalClient { return redistest.Standalone(t).Client(t) }},
		{"Cluster", func(t *testing.T) goredis.UniversalClient { return redistest.Cluster(t).Client(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c := tc.client(t)
			st := newStore(t, c)
			created := t0.Add(123 * time.Microsecond) // not a whole millisecond
			s, m := storetest.NewPair("owner", created, time.Hour)
			s.Check = []byte("check")
			require.NoError(t, st.Create(ctx, s, m))
			pk, ik := st.pair(s.ID), st.indexKey("owner")
			want := m.ExpiresAt.UnixMilli() + 1
			check := func(when string) {
				t.Helper()
				assert.Equal(t, want, pexpiretime(t, c, pk), "%s: pair PEXPIRETIME (its receipt's)", when)
				assert.Equal(t, want, pexpiretime(t, c, ik), "%s: index PEXPIRETIME (its receipt's)", when)
			}
			check("after Create")
			now := created.Add(time.Minute)
			_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
			require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
			check("after a wrong passphrase")
			v, err := st.View(ctx, m.ID, now)
			require.NoError(t, err)
			require.Equal(t, onetime.StateNew, v.State, "View answers the state before")
			check("after View")
			_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: s.Check}, now, nil)
			require.NoError(t, err)
			assert.False(t, holdsSecret(t, c, st, s.ID), "the secret is still in its pair after Reveal")
			check("after Reveal")

			// An older receipt does not shorten the index's life; a newer
			// one extends it.
			s2, m2 := storetest.NewPair("owner", t0, time.Minute)
			require.NoError(t, st.Create(ctx, s2, m2))
			check("after an older receipt")
			s3, m3 := storetest.NewPair("owner", t0, 2*time.Hour)
			require.NoError(t, st.Create(ctx, s3, m3))
			assert.Equal(t, m3.ExpiresAt.UnixMilli()+1, pexpiretime(t, c, ik), "index PEXPIRETIME (its latest receipt's)")

			// A secret that its receipt outlives expires at its own
			// ExpiresAt, to the microsecond.
			s, m = storetest.NewPair("", created, time.Hour)
			require.NoError(t, st.Create(ctx, s, m))
			before, at := s.ExpiresAt.Add(-time.Microsecond), s.ExpiresAt
			_, err = st.Peek(ctx, s.ID, before)
			require.NoError(t, err, "Peek just before the secret's ExpiresAt")
			_, err = st.Peek(ctx, s.ID, at)
			require.ErrorIs(t, err, onetime.ErrNotFound, "Peek at the secret's ExpiresAt")
			r, err := st.Receipt(ctx, m.ID, at)
			require.NoError(t, err)
			assert.False(t, r.SecretPresent, "Receipt at the secret's ExpiresAt")
			_, err = st.Burn(ctx, m.ID, at, nil)
			require.ErrorIs(t, err, onetime.ErrNotFound, "Burn at the secret's ExpiresAt")
			assert.False(t, holdsSecret(t, c, st, s.ID), "the expired secret's bytes are still in its pair")
			_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, before, nil)
			require.ErrorIs(t, err, onetime.ErrNotFound, "Reveal of a secret whose bytes were dropped")
			r, err = st.Receipt(ctx, m.ID, at)
			require.NoError(t, err, "the receipt outlives its secret")
			assert.Equal(t, onetime.StateNew, r.State)
			assert.Equal(t, m.ExpiresAt.UnixMilli()+1, pexpiretime(t, c, st.pair(s.ID)), "pair PEXPIRETIME after the secret expired")
		})
	}
}

// holdsSecret reports whether the pair's key holds the secret with the
// given id.
func holdsSecret(t *testing.T, c goredis.UniversalClient, st *Store, id onetime.ID) bool {
	t.Helper()
	b, err := c.Get(context.Background(), st.pair(id)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return false
	}
	require.NoError(t, err)
	rest := rawRest(id)
	r, err := findRecord(b, 's', rest[:])
	require.NoError(t, err)
	return r != nil && r.flags&fSecret != 0
}

// TestRedisExpires lets Redis's own clock run out on a pair: the keys
// vanish by themselves, and the store reports them gone even to a caller
// whose now is still before their expiry. It waits for Redis (polling),
// never for the store's logical expiry, which the suite tests without
// waiting.
func TestRedisExpires(t *testing.T) {
	ctx := context.Background()
	c := redistest.Standalone(t).Client(t)
	st := newStore(t, c)
	tm, err := c.Time(ctx).Result()
	require.NoError(t, err)
	created := tm.UTC().Truncate(time.Microsecond)
	s, m := storetest.NewPair("owner", created, 150*time.Millisecond)
	require.NoError(t, st.Create(ctx, s, m))
	require.Eventually(t, func() bool {
		return c.Exists(ctx, st.pair(s.ID)).Val() == 0
	}, 10*time.Second, 20*time.Millisecond, "Redis did not expire the pair")
	_, err = st.Receipt(ctx, m.ID, created)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Receipt after Redis expired it")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, created, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal after Redis expired it")
	// The owner index drops the entry too, and then expires itself.
	list, err := st.Recent(ctx, "owner", created, 10)
	assert.NoError(t, err)
	assert.Empty(t, list, "Recent")
	assert.Zero(t, c.ZCard(ctx, st.indexKey("owner")).Val(), "owner index entries of expired receipts")
}

// TestIndexBounded checks that an owner's index keeps at most its cap of
// entries, the newest, and that Recent still lists newest first.
func TestIndexBounded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func(t *testing.T) goredis.UniversalClient
	}{
		{"Standalone", func(t *testing.T) goredis.UniversalClient { return redistest.Standalone(t).Client(t) }},
		{"Cluster", func(t *testing.T) goredis.UniversalClient { return redistest.Cluster(t).Client(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c := tc.client(t)
			st := newStore(t, c)
			st.cap = 5
			var ids []onetime.ID
			for i := range 12 {
				s, m := storetest.NewPair("owner", t0.Add(time.Duration(i)*time.Second), time.Hour)
				require.NoError(t, st.Create(ctx, s, m))
				ids = append(ids, m.ID)
			}
			assert.EqualValues(t, 5, c.ZCard(ctx, st.indexKey("owner")).Val(), "index entries: want the cap")
			list, err := st.Recent(ctx, "owner", t0.Add(time.Minute), 100)
			require.NoError(t, err)
			require.Len(t, list, 5, "Recent")
			for i, m := range list {
				assert.Equal(t, ids[11-i], m.ID, "Recent[%d] is not the %d-th newest", i, i)
			}
		})
	}
}

// TestDanglingIndex covers the Cluster's two-step Create: an index entry
// whose pair was never written is skipped, not served and not counted.
func TestDanglingIndex(t *testing.T) {
	ctx := context.Background()
	c := redistest.Cluster(t).Client(t)
	st := newStore(t, c)
	_, ghost := storetest.NewPair("owner", t0.Add(time.Second), time.Hour)
	require.NoError(t, indexAddScript.Run(ctx, c, []string{st.indexKey("owner")},
		micros(ghost.Created), memberTail(ghost), pxat(ghost.ExpiresAt), st.cap).Err())
	s, m := storetest.NewPair("owner", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	list, err := st.Recent(ctx, "owner", t0.Add(time.Minute), 1)
	require.NoError(t, err)
	require.Len(t, list, 1, "Recent with a dangling newest entry: want the real receipt")
	assert.Equal(t, m.ID, list[0].ID, "Recent with a dangling newest entry")
}

// TestNoScript: after SCRIPT FLUSH (a restart, a failover to a fresh
// replica) the store falls back to EVAL and carries on.
func TestNoScript(t *testing.T) {
	ctx := context.Background()
	c := redistest.Standalone(t).Client(t)
	st := newStore(t, c)
	s, m := storetest.NewPair("owner", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	require.NoError(t, c.ScriptFlush(ctx).Err())
	_, err := st.Recent(ctx, "owner", t0, 10)
	require.NoError(t, err, "Recent after SCRIPT FLUSH")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	require.NoError(t, err, "Reveal after SCRIPT FLUSH")
}
