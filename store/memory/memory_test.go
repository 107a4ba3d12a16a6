package memory_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) onetime.Store { return memory.New() })
}

var t0 = time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)

func newStore(t *testing.T) *memory.Store {
	st := memory.New()
	t.Cleanup(func() { assert.NoError(t, st.Close()) })
	return st
}

// TestBoundedWithoutSweep: a store that is never swept holds only a few
// records more than are alive, and so do its indexes, however many
// secrets pass through it.
func TestBoundedWithoutSweep(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	const n = 5000
	const slack = 4 // expired records a Create may leave for the next
	var secretExp, receiptExp []time.Time
	alive := func(exps []time.Time, now time.Time) ([]time.Time, int) {
		kept := exps[:0]
		for _, e := range exps {
			if now.Before(e) {
				kept = append(kept, e)
			}
		}
		return kept, len(kept)
	}
	maxLen := 0
	now := t0
	for i := range n {
		now = now.Add(10 * time.Second)
		ttl := time.Duration(i%5+1) * time.Minute // 1 to 5 minutes, mixed
		s, m := storetest.NewPair([]string{"", "alice", "bob"}[i%3], now, ttl)
		require.NoError(t, st.Create(ctx, s, m))
		receiptExp = append(receiptExp, m.ExpiresAt)
		if i%4 == 0 {
			_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil) // a consumed secret goes at once
			require.NoError(t, err)
		} else {
			secretExp = append(secretExp, s.ExpiresAt)
		}
		var liveSecrets, liveReceipts int
		secretExp, liveSecrets = alive(secretExp, now)
		receiptExp, liveReceipts = alive(receiptExp, now)

		secrets, receipts := st.Len()
		require.LessOrEqualf(t, secrets+receipts, liveSecrets+liveReceipts+slack,
			"after %d creates: %d secrets and %d receipts held, %d and %d alive", i+1, secrets, receipts, liveSecrets, liveReceipts)
		expiry, owned := st.IndexSizes()
		require.LessOrEqualf(t, expiry, 2*(liveReceipts+slack), "after %d creates: expiry heap of %d", i+1, expiry)
		require.LessOrEqualf(t, owned, liveReceipts+slack, "after %d creates: %d entries in the order of receipts", i+1, owned)
		maxLen = max(maxLen, secrets+receipts)
	}
	// 5 minutes at most, one pair every 10 s: never more than 30 secrets
	// and 60 receipts alive at once.
	assert.LessOrEqual(t, maxLen, 30+60+slack)
	t.Logf("%d pairs created, at most %d records held at once", n, maxLen)
}

// TestSweepCounts: the memory store counts exactly the records it removes,
// and a pair's secret and receipt are two records.
func TestSweepCounts(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	var ids []*onetime.SealedSecret
	for i := range 10 {
		s, m := storetest.NewPair([]string{"", "carol"}[i%2], t0, time.Hour)
		require.NoError(t, st.Create(ctx, s, m))
		ids = append(ids, s)
	}
	for _, s := range ids[:2] {
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
		require.NoError(t, err)
	}
	n, err := st.Sweep(ctx, t0.Add(time.Hour-time.Microsecond))
	require.NoError(t, err)
	assert.Zero(t, n, "Sweep before any expiry")
	n, err = st.Sweep(ctx, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 8, n, "Sweep at the secrets' expiry: the 8 unread secrets")
	secrets, receipts := st.Len()
	assert.Equal(t, [2]int{0, 10}, [2]int{secrets, receipts}, "Len after the first Sweep")
	n, err = st.Sweep(ctx, t0.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 10, n, "Sweep at the receipts' expiry")
	secrets, receipts = st.Len()
	assert.Equal(t, [2]int{0, 0}, [2]int{secrets, receipts}, "Len after the second Sweep")
	expiry, owned := st.IndexSizes()
	assert.Equal(t, [2]int{0, 0}, [2]int{expiry, owned}, "index sizes after everything was swept")
	n, err = st.Sweep(ctx, t0.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n, "a second Sweep")
}

// TestCreateReclaims: Create reclaims a few records expired by the new
// pair's creation time, oldest expiry first.
func TestCreateReclaims(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	for range 3 {
		s, m := storetest.NewPair("dave", t0, time.Minute)
		require.NoError(t, st.Create(ctx, s, m))
	}
	at := t0.Add(2 * time.Minute) // all 6 records expired
	s, m := storetest.NewPair("", at, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	secrets, receipts := st.Len()
	// 4 reclaimed: the 3 secrets, then 1 receipt.
	assert.Equal(t, [2]int{1, 3}, [2]int{secrets, receipts}, "Len after the first Create")
	s, m = storetest.NewPair("", at, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	secrets, receipts = st.Len()
	assert.Equal(t, [2]int{2, 2}, [2]int{secrets, receipts}, "Len after the second Create")
	_, owned := st.IndexSizes()
	assert.Zero(t, owned, "the order of receipts after all of dave's were reclaimed")
	n, err := st.Sweep(ctx, at)
	require.NoError(t, err)
	assert.Zero(t, n, "Sweep after Create reclaimed everything")
	// A Create rejected as a duplicate still writes nothing.
	require.ErrorIs(t, st.Create(ctx, s, m), onetime.ErrExists)
	secrets, receipts = st.Len()
	assert.Equal(t, [2]int{2, 2}, [2]int{secrets, receipts}, "Len after a rejected Create")
}

// TestCloseDiscards: Close drops every record, and a closed store serves
// nothing, not even an empty answer.
func TestCloseDiscards(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	s, m := storetest.NewPair("erin", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	require.NoError(t, st.Close())
	secrets, receipts := st.Len()
	assert.Equal(t, [2]int{0, 0}, [2]int{secrets, receipts}, "Len after Close")
	list, err := st.Recent(ctx, "erin", t0, 10)
	assert.ErrorIs(t, err, onetime.ErrClosed)
	assert.Nil(t, list)
	n, err := st.Sweep(ctx, t0)
	assert.ErrorIs(t, err, onetime.ErrClosed)
	assert.Zero(t, n)
	require.NoError(t, st.Close(), "second Close")
	_, err = st.Receipt(ctx, m.ID, t0)
	assert.ErrorIs(t, err, onetime.ErrClosed)
}

// TestRecentAfterReclaim: receipts reclaimed by Create leave the owner's
// list at once as Recent sees it, even while the list still holds their
// entries, and an id stored again later is listed under its new owner
// only, once.
func TestRecentAfterReclaim(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	var short, long []*onetime.SealedMetadata
	var shortSecrets []*onetime.SealedSecret
	for range 4 {
		s, m := storetest.NewPair("frank", t0, time.Minute)
		require.NoError(t, st.Create(ctx, s, m))
		short, shortSecrets = append(short, m), append(shortSecrets, s)
	}
	for i := range 5 {
		s, m := storetest.NewPair("frank", t0.Add(time.Duration(i+1)*time.Second), time.Hour)
		require.NoError(t, st.Create(ctx, s, m))
		long = append(long, m)
	}
	// Two Creates at t0+2m reclaim the 4 short secrets, then their receipts.
	at := t0.Add(2 * time.Minute)
	for range 2 {
		s, m := storetest.NewPair("", at, time.Hour)
		require.NoError(t, st.Create(ctx, s, m))
	}
	secrets, receipts := st.Len()
	require.Equal(t, [2]int{7, 7}, [2]int{secrets, receipts}, "Len after the reclaiming Creates")
	_, owned := st.IndexSizes()
	require.Equal(t, 5, owned, "the order of receipts drops the 4 reclaimed ones")

	ids := func(owner string, now time.Time, limit int) []onetime.ID {
		t.Helper()
		list, err := st.Recent(ctx, owner, now, limit)
		require.NoError(t, err)
		out := []onetime.ID{}
		for _, m := range list {
			assert.Equal(t, owner, m.Owner)
			out = append(out, m.ID)
		}
		return out
	}
	assert.Equal(t, []onetime.ID{long[4].ID, long[3].ID, long[2].ID, long[1].ID, long[0].ID}, ids("frank", at, 100))

	// The reclaimed ids stored again: one under grace, one under frank.
	later := t0.Add(3 * time.Minute)
	s, m := storetest.NewPair("grace", later, time.Hour)
	s.ID, s.MetadataID, m.ID, m.SecretID = shortSecrets[0].ID, short[0].ID, short[0].ID, shortSecrets[0].ID
	require.NoError(t, st.Create(ctx, s, m))
	s, m = storetest.NewPair("frank", later, time.Hour)
	s.ID, s.MetadataID, m.ID, m.SecretID = shortSecrets[1].ID, short[1].ID, short[1].ID, shortSecrets[1].ID
	require.NoError(t, st.Create(ctx, s, m))
	assert.Equal(t, []onetime.ID{short[0].ID}, ids("grace", later, 100))
	assert.Equal(t, []onetime.ID{short[1].ID, long[4].ID, long[3].ID, long[2].ID, long[1].ID, long[0].ID}, ids("frank", later, 100))
	assert.Equal(t, []onetime.ID{short[1].ID, long[4].ID}, ids("frank", later, 2))
}

// fill returns n random bytes.
func fill(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestFieldsRoundTrip: every field comes back as given, for byte strings
// of many sizes up to more than a megabyte, and nil and empty slices stay
// what they were.
func TestFieldsRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	sizes := []int{0, 1, 15, 16, 17, 127, 128, 129, 1000, 8191, 8192, 8193, 100_000, 1<<20 + 28}
	type stored struct {
		s *onetime.SealedSecret
		m *onetime.SealedMetadata
	}
	var all []stored
	for i, n := range sizes {
		s, m := storetest.NewPair("", t0.Add(time.Duration(i)*time.Second), time.Hour)
		s.Sealed, m.Sealed = fill(n), fill(sizes[len(sizes)-1-i])
		s.Attempts, s.MaxAttempts = i, onetime.MaxAttemptsLimit
		s.ShareDomain, m.ShareDomain = "", ""
		if i%2 == 0 {
			m.Owner, m.OwnerSealed = "owner-"+hex.EncodeToString(fill(i+1)), fill(i*7)
			s.ShareDomain, m.ShareDomain = "example.com", "example.net"
			m.State, m.Received, m.Burned = onetime.StateViewed, t0.Add(time.Minute), t0.Add(time.Hour)
		}
		switch i % 3 {
		case 0:
			s.Check = nil
		case 1:
			s.Check = []byte{} // empty, not nil
		default:
			s.Check = fill(i)
		}
		if i == 3 {
			s.Sealed, m.OwnerSealed = nil, []byte{}
		}
		m.PassphraseRequired = len(s.Check) > 0
		require.NoError(t, st.Create(ctx, s, m))
		all = append(all, stored{s, m})
	}
	now := t0.Add(time.Minute)
	for _, p := range all {
		want := *p.m
		want.SecretPresent = true
		got, err := st.Receipt(ctx, p.m.ID, now)
		require.NoError(t, err)
		assert.Equal(t, &want, got, "Receipt of a receipt of %d bytes", len(p.m.Sealed))
		if p.m.Owner != "" {
			list, err := st.Recent(ctx, p.m.Owner, now, 10)
			require.NoError(t, err)
			assert.Equal(t, []*onetime.SealedMetadata{&want}, list, "Recent")
		}
	}
	for _, p := range all {
		got, err := st.Reveal(ctx, p.s.ID, onetime.Credentials{Check: p.s.Check}, now, nil)
		require.NoError(t, err)
		assert.Equal(t, p.s, got, "Reveal of a secret of %d bytes", len(p.s.Sealed))
	}
}

// TestInvalidIDs: the store takes only ids of the form of an ID, and a
// pair only in one slot; a malformed id names nothing, and an upper-case
// one is not taken for its lower-case twin.
func TestInvalidIDs(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	s, m := storetest.NewPair("", t0, time.Hour)
	require.NoError(t, st.Create(ctx, s, m))
	upper := onetime.ID(strings.ToUpper(string(s.ID)))
	for name, id := range map[string]onetime.ID{"empty": "", "short": s.ID[:39], "upper case": upper, "not hex": "zz" + s.ID[2:]} {
		_, err := st.Reveal(ctx, id, onetime.Credentials{}, t0, nil)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal of an id %s", name)
		_, err = st.Peek(ctx, id, t0)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek of an id %s", name)
		for op, f := range map[string]func(context.Context, onetime.ID, time.Time) (*onetime.SealedMetadata, error){
			"Receipt": st.Receipt, "View": st.View,
			"Burn": func(ctx context.Context, id onetime.ID, now time.Time) (*onetime.SealedMetadata, error) {
				return st.Burn(ctx, id, now, nil)
			},
		} {
			_, err := f(ctx, id, t0)
			assert.ErrorIs(t, err, onetime.ErrNotFound, "%s of an id %s", op, name)
		}
	}

	bad, badM := storetest.NewPair("", t0, time.Hour)
	bad.ID = upper
	err := st.Create(ctx, bad, badM)
	require.ErrorIs(t, err, onetime.ErrInvalid, "Create with an upper-case id")
	assert.NotErrorIs(t, err, onetime.ErrExists)
	assert.NotContains(t, err.Error(), string(upper))

	cross, crossM := storetest.NewPair("", t0, time.Hour)
	other, _ := storetest.NewPair("", t0, time.Hour)
	crossM.ID = other.MetadataID // another slot
	cross.MetadataID = crossM.ID
	require.ErrorIs(t, st.Create(ctx, cross, crossM), onetime.ErrInvalid, "Create of a pair in two slots")

	secrets, receipts := st.Len()
	assert.Equal(t, [2]int{1, 1}, [2]int{secrets, receipts}, "Len after the rejected Creates")
	_, err = st.Peek(ctx, s.ID, t0)
	assert.NoError(t, err, "the stored secret")
}

// heapInUse collects garbage and returns the bytes of the heap in use.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestSpaceReclaimed: the space of a secret's value goes with the secret.
// Pairs created and revealed one after another leave only their receipts
// behind; once most of a large store has expired, a Sweep gives the space
// back, and so do later Creates without any Sweep, while the records that
// remain keep their bytes.
func TestSpaceReclaimed(t *testing.T) {
	ctx := context.Background()
	const n, value = 5000, 4096
	heap0 := heapInUse()
	st := newStore(t)
	for range n {
		s, m := storetest.NewPair("", t0, time.Hour)
		s.Sealed = fill(value)
		require.NoError(t, st.Create(ctx, s, m))
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
		require.NoError(t, err)
	}
	assert.Less(t, heapInUse()-heap0, int64(n*value/4), "heap after %d pairs of %d bytes revealed at once", n, value)

	for _, sweep := range []bool{true, false} {
		st := newStore(t)
		heap0 := heapInUse()
		var keep []*onetime.SealedSecret
		for i := range n {
			s, m := storetest.NewPair("", t0, time.Minute)
			s.Sealed = fill(value)
			if i%100 == 0 {
				s.ExpiresAt, m.ExpiresAt = t0.Add(time.Hour), t0.Add(2*time.Hour)
				keep = append(keep, s)
			}
			require.NoError(t, st.Create(ctx, s, m))
		}
		full := heapInUse() - heap0
		require.Greater(t, full, int64(n*value), "heap with %d secrets of %d bytes", n, value)
		later, added := t0.Add(2*time.Minute), 0
		if sweep {
			_, err := st.Sweep(ctx, later)
			require.NoError(t, err)
		} else {
			for range n / 2 { // each Create reclaims 4 expired records
				s, m := storetest.NewPair("", later, time.Hour)
				require.NoError(t, st.Create(ctx, s, m))
				added++
			}
		}
		secrets, _ := st.Len()
		require.Equal(t, len(keep)+added, secrets, "secrets held after the reclaiming")
		assert.Less(t, heapInUse()-heap0, full/4, "heap after all but %d of %d secrets expired (sweep %v)", len(keep), n, sweep)
		for _, s := range keep {
			got, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, later, nil)
			require.NoError(t, err)
			require.Equal(t, s.Sealed, got.Sealed, "a secret kept through the reclaiming")
		}
	}
}

// TestZeroID: an id of all zeros, whose key is the zero key, is stored
// like any other, and an id that is not Valid does not find it, though it
// has no key of its own.
func TestZeroID(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	s, m := storetest.NewPair("", t0, time.Hour)
	s.ID, m.SecretID = onetime.ID(strings.Repeat("0", 40)), onetime.ID(strings.Repeat("0", 40))
	s.MetadataID, m.ID = onetime.ID(strings.Repeat("0", 39)+"1"), onetime.ID(strings.Repeat("0", 39)+"1")
	require.NoError(t, st.Create(ctx, s, m))
	for _, id := range []onetime.ID{"", "0", "not an id", onetime.ID(strings.Repeat("0", 41))} {
		_, err := st.Peek(ctx, id, t0)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek of %q", id)
		_, err = st.Reveal(ctx, id, onetime.Credentials{}, t0, nil)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal of %q", id)
		_, err = st.Receipt(ctx, id, t0)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "Receipt of %q", id)
		_, err = st.Burn(ctx, id, t0, nil)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn of %q", id)
	}
	got, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	require.NoError(t, err)
	assert.Equal(t, s, got)
}

// TestTimesKept: times come back as the same instants in UTC, to the
// microsecond the contract lets a store keep, the zero time as zero,
// and a time before 1970 or far ahead as it was.
func TestTimesKept(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	created := time.Date(1969, 12, 31, 23, 59, 59, 999_999_000, time.UTC)
	s, m := storetest.NewPair("", created, time.Hour)
	s.ExpiresAt = time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC)
	m.SecretExpiresAt, m.ExpiresAt = s.ExpiresAt, s.ExpiresAt
	m.Received, m.Burned = time.Time{}, created.Add(time.Microsecond)
	require.NoError(t, st.Create(ctx, s, m))
	now := time.Date(2031, 1, 2, 3, 4, 5, 6_000, time.FixedZone("east", 3600))
	got, err := st.Receipt(ctx, m.ID, now)
	require.NoError(t, err)
	want := *m
	want.SecretPresent = true
	assert.Equal(t, &want, got)
	assert.True(t, got.Received.IsZero())
	info, err := st.Peek(ctx, s.ID, now)
	require.NoError(t, err)
	assert.Equal(t, s.ExpiresAt, info.ExpiresAt)

	// Expired from the very microsecond of ExpiresAt, whatever its zone.
	s, m = storetest.NewPair("", t0, time.Minute)
	require.NoError(t, st.Create(ctx, s, m))
	_, err = st.Peek(ctx, s.ID, s.ExpiresAt.Add(-time.Microsecond).In(time.FixedZone("west", -7200)))
	require.NoError(t, err, "a microsecond before its expiry")
	_, err = st.Peek(ctx, s.ID, s.ExpiresAt.In(time.FixedZone("west", -7200)))
	require.ErrorIs(t, err, onetime.ErrNotFound, "at its expiry")
}
