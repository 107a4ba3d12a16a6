package redis

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/redistest"
	"github.com/onetimego/onetime/store/storetest"
)

// servicePair returns a pair shaped as the Service makes it for a
// 100-byte value shared anonymously with the default options: the value
// sealed (116 bytes), the receipt's payload sealed (73 bytes), times in
// whole seconds of TTL after Created.
func servicePair(created time.Time, ttl time.Duration) (*onetime.SealedSecret, *onetime.SealedMetadata) {
	s, m := storetest.NewPair("", created, ttl)
	s.Sealed, m.Sealed = bytes.Repeat([]byte{7}, 116), bytes.Repeat([]byte{9}, 73)
	s.ShareDomain, m.ShareDomain = "", ""
	s.MaxAttempts = onetime.DefaultMaxAttempts
	return s, m
}

// TestPairSize: a pair as the Service shares a 100-byte value takes at
// most 252 bytes, which with Redis's string header (3 bytes and a NUL)
// fits jemalloc's 256-byte class: the next is 320; and so does the pair
// once its receipt is viewed. BenchmarkStoredBytes measures what Redis
// then uses.
func TestPairSize(t *testing.T) {
	s, m := servicePair(t0, 7*24*time.Hour)
	v, err := encodePair(s, m)
	require.NoError(t, err)
	t.Logf("a pair of a 100-byte value: %d bytes", len(v))
	assert.LessOrEqual(t, len(v), 252)
	// Viewed, as the creator's page does to every new receipt: it gains
	// its Updated, and must still fit.
	m.State, m.Updated = onetime.StateViewed, m.Created.Add(time.Second)
	viewed, err := encodePair(s, m)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(viewed), 252, "a viewed pair")
	rest := rawRest(s.ID)
	r, err := findRecord(v, 's', rest[:])
	require.NoError(t, err)
	assert.Equal(t, s.Sealed, r.revealed)
}

// pairCases are pairs that exercise every optional part of a record.
func pairCases() map[string]func() (*onetime.SealedSecret, *onetime.SealedMetadata) {
	plain := func() (*onetime.SealedSecret, *onetime.SealedMetadata) { return storetest.NewPair("", t0, time.Hour) }
	return map[string]func() (*onetime.SealedSecret, *onetime.SealedMetadata){
		"plain": plain,
		"service": func() (*onetime.SealedSecret, *onetime.SealedMetadata) {
			return servicePair(t0, time.Hour)
		},
		"owner": func() (*onetime.SealedSecret, *onetime.SealedMetadata) {
			return storetest.NewPair("alice", t0, time.Hour)
		},
		"passphrase and proof": func() (*onetime.SealedSecret, *onetime.SealedMetadata) {
			s, m := plain()
			s.Check, s.Proof, m.PassphraseRequired = bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{0}, 32), true
			return s, m
		},
		"wide attempts": func() (*onetime.SealedSecret, *onetime.SealedMetadata) {
			s, m := plain()
			s.Attempts, s.MaxAttempts = 300, onetime.MaxAttemptsLimit
			return s, m
		},
		"times of their own": func() (*onetime.SealedSecret, *onetime.SealedMetadata) {
			s, m := plain()
			s.ExpiresAt = s.ExpiresAt.Add(-time.Microsecond)
			m.SecretExpiresAt = m.SecretExpiresAt.Add(time.Millisecond)
			m.ExpiresAt = m.ExpiresAt.Add(123 * time.Microsecond)
			m.Updated, m.Received, m.Burned = t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)
			m.State = onetime.StateViewed
			return s, m
		},
		"zero created": func() (*onetime.SealedSecret, *onetime.SealedMetadata) {
			s, m := plain()
			m.Created = time.Time{}
			return s, m
		},
		"domains of their own": func() (*onetime.SealedSecret, *onetime.SealedMetadata) {
			s, m := plain()
			s.ShareDomain, m.ShareDomain = "secrets.example.org", ""
			m.Owner, m.OwnerSealed = "bob", []byte{1, 2, 3}
			return s, m
		},
	}
}

// luaRead runs the scripts' parser (luaPair) on a pair value: the fields
// of the record with the given id, as text, and the record as changed by
// a reveal at now (dropped secret, state received) and by a view.
var luaRead = goredis.NewScript(luaPair + `
local b, now = pairs_of(ARGV[1]), tonumber(ARGV[4])
local r = find(b, ARGV[2], ARGV[3])
if not r then return 0 end
local function n(x) if x == nil then return '' end return string.format('%.0f', x) end
return {n(r.state), n(r.f), n(r.sexp), n(r.exp), n(r.expires), n(r.attempts), n(r.max),
  r.check or '', r.proof or '', whole(b, r), '\2' .. changed(b, r, 3, now, true),
  '\2' .. changed(b, r, 2, now, false)}
`)

// TestLuaReadsGo: the scripts read every record as Go writes it, and Go
// reads every record as the scripts rewrite it.
func TestLuaReadsGo(t *testing.T) {
	ctx := context.Background()
	c := redistest.Shared(t).Client(t)
	now := t0.Add(time.Minute)
	for name, mk := range pairCases() {
		t.Run(name, func(t *testing.T) {
			s, m := mk()
			v, err := encodePair(s, m)
			require.NoError(t, err)
			// Another pair before it in the value, as when two share a slot.
			s0, m0 := storetest.NewPair("", t0, time.Minute)
			v0, err := encodePair(s0, m0)
			require.NoError(t, err)
			v = append(v0, v[1:]...)

			srest, mrest := rawRest(s.ID), rawRest(m.ID)
			for _, by := range []struct {
				kind string
				rest []byte
			}{{"s", srest[:]}, {"m", mrest[:]}} {
				got, err := luaRead.Run(ctx, c, nil, v, by.kind, by.rest, micros(now)).StringSlice()
				require.NoError(t, err)
				itoa := func(i int) string { return strconv.Itoa(i) }
				us := func(t time.Time) string { return strconv.FormatInt(micros(t), 10) }
				exp, sexp := us(m.ExpiresAt), us(m.SecretExpiresAt)
				if m.ExpiresAt.IsZero() {
					exp = strconv.Itoa(zeroTime)
				}
				assert.Equal(t, []string{itoa(int(m.State)), sexp, exp, us(s.ExpiresAt), itoa(s.Attempts), itoa(s.MaxAttempts),
					string(s.Check), string(s.Proof)}, append(got[:1:1], got[2:9]...), "found by %s", by.kind)

				// The record alone, as a script answers it, reads as stored.
				sec, err := decodeSecret(s.ID, []byte(got[9]))
				require.NoError(t, err)
				want := *s
				want.Check, want.Proof = clone(s.Check), clone(s.Proof)
				assert.Equal(t, &want, sec)
				rec, err := decodeReceipt(m.ID, []byte(got[9]), now)
				require.NoError(t, err)
				wantM := *m
				wantM.SecretPresent = now.Before(s.ExpiresAt)
				assertReceipt(t, &wantM, rec)

				// Received: the secret gone, the times stamped.
				rec, err = decodeReceipt(m.ID, []byte(got[10]), now)
				require.NoError(t, err)
				wantM.State, wantM.Updated, wantM.Received, wantM.SecretPresent = onetime.StateReceived, now, now, false
				assertReceipt(t, &wantM, rec)
				_, err = decodeSecret(s.ID, []byte(got[10]))
				require.ErrorIs(t, err, errFormat, "the secret is still there")

				// Viewed: the secret kept.
				sec, err = decodeSecret(s.ID, []byte(got[11]))
				require.NoError(t, err)
				assert.Equal(t, &want, sec)
				rec, err = decodeReceipt(m.ID, []byte(got[11]), now)
				require.NoError(t, err)
				wantM = *m
				wantM.State, wantM.Updated, wantM.SecretPresent = onetime.StateViewed, now, now.Before(s.ExpiresAt)
				assertReceipt(t, &wantM, rec)
			}
		})
	}
}

// assertReceipt compares receipts, their times by the instant.
func assertReceipt(t *testing.T, want, got *onetime.SealedMetadata) {
	t.Helper()
	for _, p := range []struct {
		name   string
		wt, gt *time.Time
	}{
		{"Created", &want.Created, &got.Created}, {"Updated", &want.Updated, &got.Updated},
		{"Received", &want.Received, &got.Received}, {"Burned", &want.Burned, &got.Burned},
		{"SecretExpiresAt", &want.SecretExpiresAt, &got.SecretExpiresAt}, {"ExpiresAt", &want.ExpiresAt, &got.ExpiresAt},
	} {
		assert.True(t, sameTime(*p.wt, *p.gt), "%s: want %v, got %v", p.name, *p.wt, *p.gt)
	}
	w, g := *want, *got
	w.Created, w.Updated, w.Received, w.Burned, w.SecretExpiresAt, w.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.Created, g.Updated, g.Received, g.Burned, g.SecretExpiresAt, g.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	assert.Equal(t, w, g)
}

// inSlot returns a fresh pair in the given slot.
func inSlot(slot, owner string, created time.Time, ttl time.Duration) (*onetime.SealedSecret, *onetime.SealedMetadata) {
	s, m := storetest.NewPair(owner, created, ttl)
	s.ID = onetime.ID(slot + string(s.ID[onetime.SlotLen:]))
	m.ID = onetime.ID(slot + string(m.ID[onetime.SlotLen:]))
	s.MetadataID, m.SecretID = m.ID, s.ID
	return s, m
}

// records counts the records in the value of a pair's key.
func records(t *testing.T, c goredis.UniversalClient, key string) int {
	t.Helper()
	b, err := c.Get(context.Background(), key).Bytes()
	require.NoError(t, err)
	require.Equal(t, byte(formatPair), b[0])
	cur := cursor{b: b[1:]}
	n := 0
	for len(cur.b) > 0 {
		readRecord(&cur)
		require.NoError(t, cur.err)
		n++
	}
	return n
}

// TestSharedSlot: pairs whose ids share a slot share one key. Each is
// created, found, revealed and burned on its own; a Create repeated after
// a lost reply succeeds, one of a stored id does not; the key lives as
// long as its longest-lived pair; pairs that Redis's clock has expired are
// dropped when another is added; concurrent reveals of the pairs of one
// key each get one secret once.
func TestSharedSlot(t *testing.T) {
	for name, c := range clients(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := newStore(t, c)
			now := t0.Add(time.Second)
			slot := "00c0ffee"
			key := st.pair(onetime.ID(slot))
			a, am := inSlot(slot, "alice", t0, time.Hour)
			b, bm := inSlot(slot, "alice", t0, 2*time.Hour)
			d, dm := inSlot(slot, "", t0, time.Hour)
			d.Check = []byte("right")
			for _, p := range []struct {
				s *onetime.SealedSecret
				m *onetime.SealedMetadata
			}{{a, am}, {b, bm}, {d, dm}} {
				require.NoError(t, st.Create(ctx, p.s, p.m))
				require.NoError(t, st.Create(ctx, p.s, p.m), "the same Create again")
			}
			assert.Equal(t, 3, records(t, c, key))
			assert.Equal(t, bm.ExpiresAt.UnixMilli()+1, pexpiretime(t, c, key), "the key lives as long as its longest-lived pair")
			x, _ := inSlot(slot, "", t0, time.Hour)
			x.MetadataID = am.ID
			xm := *am
			xm.SecretID = x.ID
			require.ErrorIs(t, st.Create(ctx, x, &xm), onetime.ErrExists, "a stored receipt id")
			y, ym := inSlot(slot, "", t0, time.Hour)
			y.ID, ym.SecretID = b.ID, b.ID
			require.ErrorIs(t, st.Create(ctx, y, ym), onetime.ErrExists, "a stored secret id")

			info, err := st.Peek(ctx, d.ID, now)
			require.NoError(t, err)
			assert.True(t, info.PassphraseRequired)
			_, err = st.Reveal(ctx, d.ID, onetime.Credentials{Check: []byte("wrong")}, now, nil)
			require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
			got, err := st.Reveal(ctx, b.ID, onetime.Credentials{}, now, nil)
			require.NoError(t, err)
			assert.Equal(t, b.Sealed, got.Sealed)
			r, err := st.Burn(ctx, am.ID, now, nil)
			require.NoError(t, err)
			assert.Equal(t, onetime.StateBurned, r.State)
			info, err = st.Peek(ctx, d.ID, now)
			require.NoError(t, err)
			assert.Equal(t, 1, info.Attempts, "the other pairs' changes left this one alone")
			list, err := st.Recent(ctx, "alice", now, 10)
			require.NoError(t, err)
			require.Len(t, list, 2)
			states := map[onetime.ID]onetime.State{list[0].ID: list[0].State, list[1].ID: list[1].State}
			assert.Equal(t, map[onetime.ID]onetime.State{am.ID: onetime.StateBurned, bm.ID: onetime.StateReceived}, states)
			got, err = st.Reveal(ctx, d.ID, onetime.Credentials{Check: d.Check}, now, nil)
			require.NoError(t, err)
			assert.Equal(t, d.Sealed, got.Sealed)
			assert.Equal(t, 3, records(t, c, key), "the receipts stay")

			// A pair that Redis's clock has expired goes when another comes.
			old, oldm := inSlot(slot, "", time.Now().Add(-time.Hour), time.Minute)
			require.NoError(t, st.Create(ctx, old, oldm))
			assert.Equal(t, 4, records(t, c, key))
			e, em := inSlot(slot, "", t0, 3*time.Hour)
			require.NoError(t, st.Create(ctx, e, em))
			assert.Equal(t, 4, records(t, c, key), "the expired pair was dropped, the new one added")
			assert.Equal(t, em.ExpiresAt.UnixMilli()+1, pexpiretime(t, c, key), "a longer-lived pair extends the key's life")

			// Concurrent reveals of the pairs of one key.
			var secrets []*onetime.SealedSecret
			for range 8 {
				s, m := inSlot("0badcafe", "", t0, time.Hour)
				require.NoError(t, st.Create(ctx, s, m))
				secrets = append(secrets, s)
			}
			var wins [8]atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for i, s := range secrets {
						got, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, now, nil)
						if err == nil {
							assert.Equal(t, s.Sealed, got.Sealed)
							wins[i].Add(1)
						} else {
							assert.ErrorIs(t, err, onetime.ErrNotFound)
						}
					}
				})
			}
			wg.Wait()
			for i := range wins {
				assert.Equal(t, int32(1), wins[i].Load(), "reveals of secret %d", i)
			}
		})
	}
}
