// Package storetest is the conformance suite for [onetime.Store]
// implementations: a backend is correct when it passes [Run].
//
// A backend's test is one line:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) onetime.Store { return memory.New() })
//	}
//
// Each subtest calls newStore for a fresh, empty, isolated store and closes
// it when done (a subtest may close it first: Close must be safe to call
// again). The suite checks every method of the contract: round trips of
// every field, atomicity under races (Reveal, Burn, View, wrong
// passphrases), expiry exactly at its boundary, the read-and-mark step of
// View, the non-consuming Peek, Recent's order, Sweep, malformed ids,
// ErrClosed after Close, cancelled contexts, replays ([onetime.Replay]:
// repeats, lost answers, recorded wrong passphrases, races between one
// replay id and others), deadlines that passed before a consuming call,
// the proof of the zero-knowledge mode (a reveal without the right
// [onetime.Credentials].Proof changes nothing, with it exactly once, races
// included), and finally the real [onetime.Service] end to end over the
// store. Errors are checked by identity, with [errors.Is], never by their
// text; of a text the suite checks only that it carries no id, passphrase
// check or proof.
//
// The suite never sleeps: time is the now argument, so expiry is checked
// exactly at its boundary. It never assumes that an expired record survives
// until Sweep: a store may reclaim expired records at any time. Run it
// under -race.
//
// Besides [Run], the package gives store authors what their own tests and
// benchmarks need: [NewPair] makes a pair shaped like the Service's,
// [WithProof] gives its secret a proof of the zero-knowledge mode,
// [CheckClosed] checks a closed store, and [RunBenchmarks] runs the
// benchmarks that every store runs under the same names ([Parallel] runs a
// backend's own parallel benchmark the same way).
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
)

// Run runs the conformance suite against the stores newStore makes.
func Run(t *testing.T, newStore func(t *testing.T) onetime.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, onetime.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"CreateDuplicate", testCreateDuplicate},
		{"Missing", testMissing},
		{"RevealOnce", testRevealOnce},
		{"RevealRace", testRevealRace},
		{"BurnRevealRace", testBurnRevealRace},
		{"Burn", testBurn},
		{"View", testView},
		{"ViewRace", testViewRace},
		{"ViewConsumeRace", testViewConsumeRace},
		{"Peek", testPeek},
		{"MaxAttemptsLimit", testMaxAttemptsLimit},
		{"SecretExpiry", testSecretExpiry},
		{"ReceiptExpiry", testReceiptExpiry},
		{"NoResurrection", testNoResurrection},
		{"Recent", testRecent},
		{"RecentTies", testRecentTies},
		{"RecentSkipsExpired", testRecentSkipsExpired},
		{"Passphrase", testPassphrase},
		{"PassphraseBurn", testPassphraseBurn},
		{"PassphraseRace", testPassphraseRace},
		{"NoAliasing", testNoAliasing},
		{"MalformedIDs", testMalformedIDs},
		{"CancelledContext", testCancelledContext},
		{"ErrorTexts", testErrorTexts},
		{"Sweep", testSweep},
		{"Closed", testClosed},
		{"ReplayReveal", testReplayReveal},
		{"ReplayLostReply", testReplayLostReply},
		{"ReplayOutlivesSecret", testReplayOutlivesSecret},
		{"ReplayWrongPassphrase", testReplayWrongPassphrase},
		{"ReplayNotFound", testReplayNotFound},
		{"ReplayBurn", testReplayBurn},
		{"ReplayUnlisted", testReplayUnlisted},
		{"ReplayRevealRace", testReplayRevealRace},
		{"ReplayBurnRace", testReplayBurnRace},
		{"ReplayWrongRace", testReplayWrongRace},
		{"Deadline", testDeadline},
		{"ProofRoundTrip", testProofRoundTrip},
		{"ProofRefused", testProofRefused},
		{"ProofPassphrase", testProofPassphrase},
		{"ProofRevealOnce", testProofRevealOnce},
		{"ProofRace", testProofRace},
		{"ProofCountedRace", testProofCountedRace},
		{"ProofNotRequired", testProofNotRequired},
		{"ProofReplay", testProofReplay},
		{"Service", testService},
		{"ServiceReplay", testServiceReplay},
		{"ServiceZeroKnowledge", testServiceZeroKnowledge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				assert.NoError(t, s.Close(), "Close")
			})
			tc.fn(t, s)
		})
	}
}

// t0 is the suite's epoch: every time it uses is t0 plus whole microseconds,
// as the Store contract promises.
var t0 = time.Date(2031, 3, 4, 5, 6, 7, 891011000, time.UTC)

const (
	secretTTL = time.Hour
	us        = time.Microsecond
)

// randomHex returns n random lowercase hexadecimal digits (n even).
func randomHex(n int) string {
	return hex.EncodeToString(randomBytes(n / 2))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// Sizes of what the Service stores for a 100-byte value: the sealed value
// (nonce, ciphertext and tag) and the sealed receipt.
const (
	sealedLen  = 128
	receiptLen = 85
)

// NewPair returns a fresh secret and its receipt as the Service would
// create them at created for an owner ("" for anonymous) and a lifetime
// ttl: ids that name each other in one random slot, a 128-byte sealed
// value (what a 100-byte value seals to), an 85-byte sealed receipt, no
// passphrase, MaxAttempts 10, share domain example.com, the receipt living
// twice as long as the secret, and OwnerSealed for an owner. Every byte is
// random, so two pairs never collide. Change any field before Create.
func NewPair(owner string, created time.Time, ttl time.Duration) (*onetime.SealedSecret, *onetime.SealedMetadata) {
	slot := randomHex(onetime.SlotLen)
	sid := onetime.ID(slot + randomHex(32))
	mid := onetime.ID(slot + randomHex(32))
	s := &onetime.SealedSecret{
		ID: sid, MetadataID: mid,
		Sealed:      randomBytes(sealedLen),
		MaxAttempts: 10,
		ShareDomain: "example.com",
		ExpiresAt:   created.Add(ttl),
	}
	m := &onetime.SealedMetadata{
		ID: mid, SecretID: sid,
		Owner:           owner,
		State:           onetime.StateNew,
		ShareDomain:     "example.com",
		Created:         created,
		Updated:         created,
		SecretExpiresAt: s.ExpiresAt,
		ExpiresAt:       created.Add(2 * ttl),
		Sealed:          randomBytes(receiptLen),
	}
	if owner != "" {
		m.OwnerSealed = randomBytes(receiptLen)
	}
	return s, m
}

// withPassphrase gives s a passphrase check and returns the right check.
func withPassphrase(s *onetime.SealedSecret, m *onetime.SealedMetadata) []byte {
	s.Check = make([]byte, 32)
	rand.Read(s.Check)
	m.PassphraseRequired = true
	return bytes.Clone(s.Check)
}

func create(t *testing.T, st onetime.Store, owner string, created time.Time) (*onetime.SealedSecret, *onetime.SealedMetadata) {
	t.Helper()
	s, m := NewPair(owner, created, secretTTL)
	mustCreate(t, st, s, m)
	return s, m
}

func mustCreate(t *testing.T, st onetime.Store, s *onetime.SealedSecret, m *onetime.SealedMetadata) {
	t.Helper()
	require.NoError(t, st.Create(context.Background(), s, m), "Create")
}

func receipt(t *testing.T, st onetime.Store, id onetime.ID, now time.Time) *onetime.SealedMetadata {
	t.Helper()
	m, err := st.Receipt(context.Background(), id, now)
	require.NoError(t, err, "Receipt")
	require.NotNil(t, m, "Receipt")
	return m
}

func view(t *testing.T, st onetime.Store, id onetime.ID, now time.Time) *onetime.SealedMetadata {
	t.Helper()
	m, err := st.View(context.Background(), id, now)
	require.NoError(t, err, "View")
	require.NotNil(t, m, "View")
	return m
}

func peek(t *testing.T, st onetime.Store, id onetime.ID, now time.Time) *onetime.SecretInfo {
	t.Helper()
	info, err := st.Peek(context.Background(), id, now)
	require.NoError(t, err, "Peek")
	require.NotNil(t, info, "Peek")
	return info
}

func sameTime(t *testing.T, field string, got, want time.Time) bool {
	t.Helper()
	return assert.Truef(t, got.Equal(want), "%s = %v, want %v", field, got, want)
}

// equalMetadata checks every stored field of a receipt (not SecretPresent,
// which is computed).
func equalMetadata(t *testing.T, got, want *onetime.SealedMetadata) {
	t.Helper()
	if !assert.NotNil(t, got, "receipt") {
		return
	}
	assert.Equal(t, want.ID, got.ID, "ID")
	assert.Equal(t, want.SecretID, got.SecretID, "SecretID")
	assert.Equal(t, want.Owner, got.Owner, "Owner")
	assert.Equal(t, want.State, got.State, "State")
	assert.Equal(t, want.PassphraseRequired, got.PassphraseRequired, "PassphraseRequired")
	assert.Equal(t, want.ShareDomain, got.ShareDomain, "ShareDomain")
	assert.True(t, bytes.Equal(got.Sealed, want.Sealed), "receipt Sealed differs from what was stored")
	assert.True(t, bytes.Equal(got.OwnerSealed, want.OwnerSealed), "receipt OwnerSealed differs from what was stored")
	sameTime(t, "Created", got.Created, want.Created)
	sameTime(t, "Updated", got.Updated, want.Updated)
	sameTime(t, "Received", got.Received, want.Received)
	sameTime(t, "Burned", got.Burned, want.Burned)
	sameTime(t, "SecretExpiresAt", got.SecretExpiresAt, want.SecretExpiresAt)
	sameTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func equalSecret(t *testing.T, got, want *onetime.SealedSecret) {
	t.Helper()
	if !assert.NotNil(t, got, "secret") {
		return
	}
	assert.Equal(t, want.ID, got.ID, "ID")
	assert.Equal(t, want.MetadataID, got.MetadataID, "MetadataID")
	assert.Equal(t, want.Attempts, got.Attempts, "Attempts")
	assert.Equal(t, want.MaxAttempts, got.MaxAttempts, "MaxAttempts")
	assert.Equal(t, want.ShareDomain, got.ShareDomain, "ShareDomain")
	assert.True(t, bytes.Equal(got.Sealed, want.Sealed), "secret Sealed differs from what was stored")
	assert.True(t, bytes.Equal(got.Check, want.Check), "secret Check differs from what was stored")
	assert.True(t, bytes.Equal(got.Proof, want.Proof), "secret Proof differs from what was stored")
	sameTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func testRoundTrip(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	for _, owner := range []string{"", "cust-1@example.com"} {
		s, m := NewPair(owner, t0, secretTTL)
		check := withPassphrase(s, m)
		s.Attempts = 3                        // stored as given, like every field
		s.ShareDomain, m.ShareDomain = "", "" // empty strings round-trip too
		want, wantM := *s, *m
		want.Sealed, want.Check = bytes.Clone(s.Sealed), bytes.Clone(s.Check)
		mustCreate(t, st, s, m)

		got := receipt(t, st, m.ID, t0)
		equalMetadata(t, got, &wantM)
		assert.True(t, got.SecretPresent, "SecretPresent = false for a live secret")
		info := peek(t, st, s.ID, t0)
		assert.Equal(t, onetime.SecretInfo{PassphraseRequired: true, Attempts: 3, MaxAttempts: 10}, onetime.SecretInfo{
			PassphraseRequired: info.PassphraseRequired, Attempts: info.Attempts, MaxAttempts: info.MaxAttempts,
		}, "Peek")
		sameTime(t, "Peek ExpiresAt", info.ExpiresAt, s.ExpiresAt)
		sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0.Add(us), nil)
		require.NoError(t, err, "Reveal")
		equalSecret(t, sec, &want)
	}
	// A value of every byte, and an empty check, round-trip exactly.
	s, m := NewPair("", t0, secretTTL)
	s.Sealed = make([]byte, 256)
	for i := range s.Sealed {
		s.Sealed[i] = byte(i)
	}
	want := bytes.Clone(s.Sealed)
	mustCreate(t, st, s, m)
	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("ignored when the secret has no check")}, t0, nil)
	require.NoError(t, err, "Reveal")
	assert.Equal(t, want, sec.Sealed, "binary Sealed did not round-trip")
	assert.Empty(t, sec.Check, "Check appeared on a secret stored without one")
}

func testCreateDuplicate(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "owner", t0)

	// Same secret id, new receipt: rejected, and the new receipt is absent.
	s2, m2 := NewPair("owner", t0, secretTTL)
	m2.ID = onetime.ID(s.ID.Slot() + randomHex(32))
	s2.ID, s2.MetadataID, m2.SecretID = s.ID, m2.ID, s.ID
	require.ErrorIs(t, st.Create(ctx, s2, m2), onetime.ErrExists, "Create with a stored secret id")
	_, err := st.Receipt(ctx, m2.ID, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "rejected Create wrote its receipt")

	// Same receipt id, new secret: rejected, and the new secret is absent.
	s3, m3 := NewPair("owner", t0, secretTTL)
	s3.ID = onetime.ID(m.ID.Slot() + randomHex(32))
	m3.ID, s3.MetadataID, m3.SecretID = m.ID, m.ID, s3.ID
	require.ErrorIs(t, st.Create(ctx, s3, m3), onetime.ErrExists, "Create with a stored receipt id")
	_, err = st.Peek(ctx, s3.ID, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "rejected Create wrote its secret")
	_, err = st.Reveal(ctx, s3.ID, onetime.Credentials{}, t0, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "rejected Create wrote its secret")

	// The original pair is untouched, and the owner lists it once.
	equalMetadata(t, receipt(t, st, m.ID, t0), m)
	list, err := st.Recent(ctx, "owner", t0, 10)
	require.NoError(t, err)
	if assert.Len(t, list, 1, "Recent after rejected creates: want only the original") {
		assert.Equal(t, m.ID, list[0].ID)
	}
	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	require.NoError(t, err, "original secret")
	equalSecret(t, sec, s)
}

func testMissing(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	create(t, st, "someone", t0) // a store with something in it
	id := onetime.ID(randomHex(40))
	_, err := st.Reveal(ctx, id, onetime.Credentials{}, t0, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal")
	_, err = st.Peek(ctx, id, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek")
	_, err = st.Receipt(ctx, id, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Receipt")
	_, err = st.View(ctx, id, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "View")
	_, err = st.Burn(ctx, id, t0, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn")
	list, err := st.Recent(ctx, "nobody", t0, 10)
	assert.NoError(t, err, "Recent of an unknown owner")
	assert.Empty(t, list, "Recent of an unknown owner")

	// The receipt id is not a secret id and vice versa.
	s, m := create(t, st, "", t0)
	_, err = st.Reveal(ctx, m.ID, onetime.Credentials{}, t0, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal by receipt id")
	_, err = st.Peek(ctx, m.ID, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek by receipt id")
	_, err = st.Receipt(ctx, s.ID, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Receipt by secret id")
	_, err = st.View(ctx, s.ID, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "View by secret id")
	_, err = st.Burn(ctx, s.ID, t0, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn by secret id")
	// None of that touched the pair.
	equalMetadata(t, receipt(t, st, m.ID, t0), m)
}

func testRevealOnce(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "", t0)
	at := t0.Add(5 * time.Minute)
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, at, nil)
	require.NoError(t, err, "first Reveal")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, at, nil)
	require.ErrorIs(t, err, onetime.ErrNotFound, "second Reveal")
	_, err = st.Peek(ctx, s.ID, at)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek after Reveal")
	got := receipt(t, st, m.ID, at.Add(time.Second))
	want := *m
	want.State, want.Received, want.Updated = onetime.StateReceived, at, at
	equalMetadata(t, got, &want)
	assert.False(t, got.SecretPresent, "SecretPresent after Reveal")
}

// race starts n goroutines running f(i) at once and waits for them. f
// must report failures with assert (never require: it runs off the test's
// goroutine).
func race(n int, f func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			start.Wait()
			f(i)
		}()
	}
	start.Done()
	done.Wait()
}

func rounds(*testing.T) int {
	if testing.Short() {
		return 5
	}
	return 25
}

func testRevealRace(t *testing.T, st onetime.Store) {
	const racers = 64
	for round := range rounds(t) {
		s, m := create(t, st, "", t0)
		var mu sync.Mutex
		winners, misses := 0, 0
		race(racers, func(int) {
			sec, err := st.Reveal(context.Background(), s.ID, onetime.Credentials{}, t0.Add(time.Second), nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && bytes.Equal(sec.Sealed, s.Sealed):
				winners++
			case errors.Is(err, onetime.ErrNotFound):
				misses++
			default:
				assert.Fail(t, "Reveal", "err %v", err)
			}
		})
		require.Equalf(t, 1, winners, "round %d: winners among %d racers", round, racers)
		require.Equalf(t, racers-1, misses, "round %d: not found among %d racers", round, racers)
		got := receipt(t, st, m.ID, t0.Add(time.Second))
		require.Equalf(t, onetime.StateReceived, got.State, "round %d: state after the race", round)
	}
}

func testBurnRevealRace(t *testing.T, st onetime.Store) {
	const racers = 32
	for round := range rounds(t) {
		s, m := create(t, st, "", t0)
		var mu sync.Mutex
		var reveals, burns int
		race(racers, func(i int) {
			var err error
			if i%2 == 0 {
				_, err = st.Reveal(context.Background(), s.ID, onetime.Credentials{}, t0.Add(time.Second), nil)
			} else {
				var got *onetime.SealedMetadata
				got, err = st.Burn(context.Background(), m.ID, t0.Add(time.Second), nil)
				if err == nil {
					assert.Equal(t, onetime.StateBurned, got.State, "Burn's answer")
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && i%2 == 0:
				reveals++
			case err == nil:
				burns++
			default:
				assert.ErrorIsf(t, err, onetime.ErrNotFound, "racer %d", i)
			}
		})
		require.Equalf(t, 1, reveals+burns, "round %d: %d reveals and %d burns succeeded; want exactly one", round, reveals, burns)
		got := receipt(t, st, m.ID, t0.Add(time.Second))
		want := onetime.StateReceived
		if burns == 1 {
			want = onetime.StateBurned
		}
		require.Equalf(t, want, got.State, "round %d: receipt state disagrees with the winner", round)
		require.False(t, got.SecretPresent, "round %d: SecretPresent after the race", round)
		require.Equalf(t, burns == 1, !got.Burned.IsZero(), "round %d: Burned stamp %v disagrees with the winner", round, got.Burned)
		require.Equalf(t, reveals == 1, !got.Received.IsZero(), "round %d: Received stamp %v disagrees with the winner", round, got.Received)
	}
}

func testBurn(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "", t0)
	at := t0.Add(time.Minute)
	got, err := st.Burn(ctx, m.ID, at, nil)
	require.NoError(t, err, "Burn")
	want := *m
	want.State, want.Burned, want.Updated = onetime.StateBurned, at, at
	equalMetadata(t, got, &want)
	assert.False(t, got.SecretPresent, "Burn's answer has SecretPresent")
	equalMetadata(t, receipt(t, st, m.ID, at), &want)
	_, err = st.Burn(ctx, m.ID, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "second Burn")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal after Burn")
	_, err = st.Peek(ctx, s.ID, at)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek after Burn")

	// A viewed receipt can be burned; a received one cannot.
	s, m = create(t, st, "", t0)
	view(t, st, m.ID, t0)
	_, err = st.Burn(ctx, m.ID, at, nil)
	assert.NoError(t, err, "Burn of a viewed receipt")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal after burning a viewed receipt")

	s, m = create(t, st, "", t0)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	require.NoError(t, err)
	_, err = st.Burn(ctx, m.ID, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn after Reveal")
	got = receipt(t, st, m.ID, at)
	assert.Equal(t, onetime.StateReceived, got.State, "failed Burn changed the receipt")
	assert.True(t, got.Burned.IsZero(), "failed Burn stamped Burned")

	// A receipt whose secret expired cannot be burned, and stays as it was.
	_, m = create(t, st, "", t0)
	_, err = st.Burn(ctx, m.ID, m.SecretExpiresAt, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn after the secret's expiry")
	equalMetadata(t, receipt(t, st, m.ID, m.SecretExpiresAt), m)
}

// testView checks View on a receipt in each state it can be in: the
// first View answers new and moves it to viewed, every other answers the
// receipt unchanged and changes nothing.
func testView(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	a, b, c := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)

	t.Run("new then viewed", func(t *testing.T) {
		// The first View answers the receipt as it was: new, Updated as created.
		s, m := create(t, st, "viewer", t0)
		got := view(t, st, m.ID, a)
		equalMetadata(t, got, m)
		assert.True(t, got.SecretPresent, "View of a live pair: SecretPresent")
		// ... and in the same step moved it to viewed, stamping Updated.
		viewed := *m
		viewed.State, viewed.Updated = onetime.StateViewed, a
		got = receipt(t, st, m.ID, a)
		equalMetadata(t, got, &viewed)
		assert.True(t, got.SecretPresent, "SecretPresent after View")
		// Later Views answer viewed, and change nothing: Updated stays a.
		for _, at := range []time.Time{a, b} {
			got = view(t, st, m.ID, at)
			equalMetadata(t, got, &viewed)
			assert.True(t, got.SecretPresent, "SecretPresent in a second View")
		}
		equalMetadata(t, receipt(t, st, m.ID, b), &viewed)
		list, err := st.Recent(ctx, "viewer", b, 10)
		require.NoError(t, err)
		if assert.Len(t, list, 1) {
			equalMetadata(t, list[0], &viewed)
		}
		// The secret is untouched.
		info := peek(t, st, s.ID, b)
		assert.Zero(t, info.Attempts, "View counted an attempt")

		// Received: View answers it unchanged and changes nothing.
		_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, b, nil)
		require.NoError(t, err)
		received := viewed
		received.State, received.Received, received.Updated = onetime.StateReceived, b, b
		got = view(t, st, m.ID, c)
		equalMetadata(t, got, &received)
		assert.False(t, got.SecretPresent, "View of a received receipt: SecretPresent")
		equalMetadata(t, receipt(t, st, m.ID, c), &received)
	})

	t.Run("burned", func(t *testing.T) {
		_, m := create(t, st, "", t0)
		burned, err := st.Burn(ctx, m.ID, a, nil)
		require.NoError(t, err)
		got := view(t, st, m.ID, b)
		equalMetadata(t, got, burned)
		assert.False(t, got.SecretPresent, "View of a burned receipt: SecretPresent")
		equalMetadata(t, receipt(t, st, m.ID, b), burned)
	})

	t.Run("burned by wrong passphrases", func(t *testing.T) {
		s, m := NewPair("", t0, secretTTL)
		withPassphrase(s, m)
		s.MaxAttempts = 1
		mustCreate(t, st, s, m)
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, a, nil)
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
		burned := receipt(t, st, m.ID, a)
		require.Equal(t, onetime.StateBurned, burned.State)
		equalMetadata(t, view(t, st, m.ID, b), burned)
		equalMetadata(t, receipt(t, st, m.ID, b), burned)
	})

	t.Run("viewed from the start", func(t *testing.T) {
		// As Generate stores it.
		s, m := NewPair("", t0, secretTTL)
		m.State = onetime.StateViewed
		mustCreate(t, st, s, m)
		got := view(t, st, m.ID, a)
		equalMetadata(t, got, m)
		assert.True(t, got.SecretPresent, "SecretPresent")
		equalMetadata(t, receipt(t, st, m.ID, a), m)
	})

	t.Run("secret expired", func(t *testing.T) {
		// A new receipt whose secret expired unread: answered as stored,
		// not moved, not stamped.
		_, m := create(t, st, "", t0)
		for _, at := range []time.Time{m.SecretExpiresAt, m.SecretExpiresAt.Add(time.Minute)} {
			got := view(t, st, m.ID, at)
			equalMetadata(t, got, m)
			assert.False(t, got.SecretPresent, "View after the secret's expiry: SecretPresent")
		}
		equalMetadata(t, receipt(t, st, m.ID, m.SecretExpiresAt.Add(time.Minute)), m)

		// View 1µs before the secret's expiry still moves the receipt.
		_, m = create(t, st, "", t0)
		got := view(t, st, m.ID, m.SecretExpiresAt.Add(-us))
		assert.Equal(t, onetime.StateNew, got.State)
		assert.True(t, got.SecretPresent, "SecretPresent 1µs before expiry")
		got = receipt(t, st, m.ID, m.SecretExpiresAt.Add(-us))
		assert.Equal(t, onetime.StateViewed, got.State, "View 1µs before the secret's expiry")
		sameTime(t, "Updated", got.Updated, m.SecretExpiresAt.Add(-us))
	})

	t.Run("receipt expired", func(t *testing.T) {
		_, m := create(t, st, "", t0)
		equalMetadata(t, view(t, st, m.ID, m.ExpiresAt.Add(-us)), m)
		_, err := st.View(ctx, m.ID, m.ExpiresAt)
		assert.ErrorIs(t, err, onetime.ErrNotFound, "View at the receipt's expiry")
		_, err = st.View(ctx, m.ID, m.ExpiresAt.Add(time.Hour))
		assert.ErrorIs(t, err, onetime.ErrNotFound, "View after the receipt's expiry")
	})
}

// rank orders the stored states: a receipt's rank never goes down.
func rank(s onetime.State) int {
	switch s {
	case onetime.StateNew:
		return 0
	case onetime.StateViewed:
		return 1
	default:
		return 2
	}
}

func testViewRace(t *testing.T, st onetime.Store) {
	const racers = 64
	ctx := context.Background()
	for round := range rounds(t) {
		s, m := create(t, st, "", t0)
		var mu sync.Mutex
		var first []int // the racers that saw new
		var updated []time.Time
		race(racers, func(i int) {
			now := t0.Add(time.Second + time.Duration(i)*us)
			got, err := st.View(ctx, m.ID, now)
			if !assert.NoError(t, err, "View") {
				return
			}
			assert.True(t, got.SecretPresent, "View during the race: SecretPresent")
			mu.Lock()
			defer mu.Unlock()
			switch got.State {
			case onetime.StateNew:
				first = append(first, i)
				sameTime(t, "Updated of the receipt as it was", got.Updated, t0)
			case onetime.StateViewed:
				updated = append(updated, got.Updated)
			default:
				assert.Fail(t, "View during the race", "state %v", got.State)
			}
		})
		require.Lenf(t, first, 1, "round %d: Views that saw new among %d racers", round, racers)
		require.Lenf(t, updated, racers-1, "round %d: Views that saw viewed among %d racers", round, racers)
		// Every viewed answer, and the receipt, carry the winner's now.
		won := t0.Add(time.Second + time.Duration(first[0])*us)
		for _, u := range updated {
			sameTime(t, "Updated in a viewed answer", u, won)
		}
		got := receipt(t, st, m.ID, t0.Add(time.Minute))
		require.Equal(t, onetime.StateViewed, got.State, "round %d: state after the race", round)
		sameTime(t, "Updated after the race", got.Updated, won)
		assert.True(t, got.SecretPresent, "SecretPresent after the race")
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0.Add(time.Minute), nil)
		require.NoError(t, err, "Reveal after the race")
	}
}

// testViewConsumeRace races View with Reveal and Burn of the same pair.
// What View answers must be consistent with some order of the calls: a
// live state (new, viewed) only while the secret is unconsumed, with
// SecretPresent; after the consumption, the winner's state; no state ever
// goes back.
func testViewConsumeRace(t *testing.T, st onetime.Store) {
	const viewers = 30
	ctx := context.Background()
	viewAt, revealAt, burnAt := t0.Add(time.Second), t0.Add(2*time.Second), t0.Add(3*time.Second)
	for round := range rounds(t) {
		s, m := create(t, st, "", t0)
		var started, consumed atomic.Bool
		var mu sync.Mutex
		var answers []*onetime.SealedMetadata
		reveals, burns := 0, 0
		race(viewers+2, func(i int) {
			switch i {
			case 0:
				started.Store(true)
				_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, revealAt, nil)
				if err == nil {
					consumed.Store(true)
					mu.Lock()
					reveals++
					mu.Unlock()
					return
				}
				assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal")
			case 1:
				started.Store(true)
				got, err := st.Burn(ctx, m.ID, burnAt, nil)
				if err == nil {
					consumed.Store(true)
					assert.Equal(t, onetime.StateBurned, got.State, "Burn's answer")
					mu.Lock()
					burns++
					mu.Unlock()
					return
				}
				assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn")
			default:
				var prev *onetime.SealedMetadata
				for range 3 {
					after := consumed.Load()
					got, err := st.View(ctx, m.ID, viewAt)
					if !assert.NoError(t, err, "View") {
						return
					}
					begun := started.Load()
					live := got.State == onetime.StateNew || got.State == onetime.StateViewed
					assert.Equalf(t, live, got.SecretPresent, "View answered state %v with SecretPresent %v", got.State, got.SecretPresent)
					assert.Falsef(t, after && live, "a View begun after the secret was consumed answered %v", got.State)
					assert.Truef(t, begun || live, "a View that ended before any Reveal or Burn began answered %v", got.State)
					if prev != nil {
						assert.GreaterOrEqualf(t, rank(got.State), rank(prev.State), "state went back from %v to %v", prev.State, got.State)
						if rank(prev.State) == 2 {
							assert.Equal(t, prev.State, got.State, "state changed after the secret was consumed")
						}
					}
					prev = got
					mu.Lock()
					answers = append(answers, got)
					mu.Unlock()
				}
			}
		})
		require.Equalf(t, 1, reveals+burns, "round %d: %d reveals and %d burns succeeded; want exactly one", round, reveals, burns)
		want, at := onetime.StateReceived, revealAt
		if burns == 1 {
			want, at = onetime.StateBurned, burnAt
		}
		final := receipt(t, st, m.ID, burnAt)
		require.Equalf(t, want, final.State, "round %d: final state", round)
		require.False(t, final.SecretPresent, "round %d: SecretPresent after the race", round)
		sameTime(t, "Updated after the race", final.Updated, at)
		news, vieweds := 0, 0
		for _, a := range answers {
			switch a.State {
			case onetime.StateNew:
				news++
				sameTime(t, "Updated in a new answer", a.Updated, t0)
			case onetime.StateViewed:
				vieweds++
				sameTime(t, "Updated in a viewed answer", a.Updated, viewAt)
			default:
				assert.Equalf(t, want, a.State, "round %d: a View answered a state the winner did not make", round)
				sameTime(t, "Updated in a consumed answer", a.Updated, at)
			}
		}
		require.LessOrEqualf(t, news, 1, "round %d: Views that answered new", round)
		if vieweds > 0 {
			require.Equalf(t, 1, news, "round %d: Views answered viewed but none answered new", round)
		}
	}
}

func testPeek(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	mustCreate(t, st, s, m)
	info := peek(t, st, s.ID, t0)
	assert.True(t, info.PassphraseRequired, "PassphraseRequired")
	assert.Zero(t, info.Attempts, "Attempts")
	assert.Equal(t, s.MaxAttempts, info.MaxAttempts, "MaxAttempts")
	sameTime(t, "ExpiresAt", info.ExpiresAt, s.ExpiresAt)

	for range 3 {
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, nil)
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	}
	// Peeking, again and again, counts nothing and changes nothing.
	for range 3 {
		info = peek(t, st, s.ID, t0.Add(time.Minute))
		assert.Equal(t, 3, info.Attempts, "Attempts after 3 wrong passphrases")
		assert.Equal(t, s.MaxAttempts, info.MaxAttempts, "MaxAttempts")
		assert.True(t, info.PassphraseRequired, "PassphraseRequired")
	}
	got := receipt(t, st, m.ID, t0.Add(time.Minute))
	equalMetadata(t, got, m) // still new: Peek is not a read of the receipt
	assert.True(t, got.SecretPresent, "SecretPresent after Peek")
	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0.Add(2*time.Minute), nil)
	require.NoError(t, err, "Reveal after Peek")
	assert.Equal(t, 3, sec.Attempts, "Attempts after Peeks")
	_, err = st.Peek(ctx, s.ID, t0.Add(2*time.Minute))
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek of a revealed secret")

	// No passphrase; Attempts and MaxAttempts as stored.
	s2, m2 := NewPair("", t0, secretTTL)
	s2.Attempts, s2.MaxAttempts = 2, 7
	mustCreate(t, st, s2, m2)
	info = peek(t, st, s2.ID, t0)
	assert.False(t, info.PassphraseRequired, "PassphraseRequired without a check")
	assert.Equal(t, 2, info.Attempts, "Attempts")
	assert.Equal(t, 7, info.MaxAttempts, "MaxAttempts")

	// Expiry: found 1µs before, not at.
	s, m = create(t, st, "", t0)
	peek(t, st, s.ID, s.ExpiresAt.Add(-us))
	_, err = st.Peek(ctx, s.ID, s.ExpiresAt)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek at expiry")
	equalMetadata(t, receipt(t, st, m.ID, s.ExpiresAt), m)

	// Burned, by Burn or by the last wrong passphrase: not found.
	s, m = create(t, st, "", t0)
	_, err = st.Burn(ctx, m.ID, t0, nil)
	require.NoError(t, err)
	_, err = st.Peek(ctx, s.ID, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek of a burned secret")
	s, m = NewPair("", t0, secretTTL)
	withPassphrase(s, m)
	s.MaxAttempts = 2
	mustCreate(t, st, s, m)
	for range 2 {
		_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
		require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	}
	_, err = st.Peek(ctx, s.ID, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek of a secret burned by wrong passphrases")
}

func testMaxAttemptsLimit(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	const limit = onetime.MaxAttemptsLimit

	// MaxAttempts at the limit round-trips, and a wrong attempt counts.
	s, m := NewPair("", t0, secretTTL)
	withPassphrase(s, m)
	s.MaxAttempts = limit
	mustCreate(t, st, s, m)
	info := peek(t, st, s.ID, t0)
	assert.Equal(t, limit, info.MaxAttempts, "MaxAttempts")
	assert.Zero(t, info.Attempts, "Attempts")
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	info = peek(t, st, s.ID, t0)
	assert.Equal(t, 1, info.Attempts, "Attempts after a wrong passphrase")
	assert.Equal(t, limit, info.MaxAttempts, "MaxAttempts after a wrong passphrase")

	// Attempts near the limit: stored, counted and reported exactly.
	s, m = NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	s.Attempts, s.MaxAttempts = limit-2, limit
	mustCreate(t, st, s, m)
	info = peek(t, st, s.ID, t0)
	assert.Equal(t, limit-2, info.Attempts, "Attempts")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	info = peek(t, st, s.ID, t0)
	assert.Equal(t, limit-1, info.Attempts, "Attempts after a wrong passphrase")
	assert.Equal(t, limit, info.MaxAttempts, "MaxAttempts")
	got := receipt(t, st, m.ID, t0)
	assert.Equal(t, onetime.StateNew, got.State, "state with one attempt left")
	assert.True(t, got.SecretPresent, "SecretPresent with one attempt left")
	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0, nil)
	require.NoError(t, err, "Reveal with one attempt left")
	assert.Equal(t, limit-1, sec.Attempts, "Attempts")
	assert.Equal(t, limit, sec.MaxAttempts, "MaxAttempts")

	// The attempt that reaches the limit burns the secret.
	s, m = NewPair("", t0, secretTTL)
	check = withPassphrase(s, m)
	s.Attempts, s.MaxAttempts = limit-1, limit
	mustCreate(t, st, s, m)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0.Add(time.Second), nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "the last wrong attempt")
	_, err = st.Peek(ctx, s.ID, t0.Add(time.Second))
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek after the last attempt")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0.Add(time.Second), nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "right passphrase after the last attempt")
	got = receipt(t, st, m.ID, t0.Add(time.Second))
	assert.Equal(t, onetime.StateBurned, got.State, "state after the last attempt")
	sameTime(t, "Burned", got.Burned, t0.Add(time.Second))
}

func testSecretExpiry(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "", t0)
	before, at := s.ExpiresAt.Add(-us), s.ExpiresAt
	got := receipt(t, st, m.ID, before)
	assert.True(t, got.SecretPresent, "SecretPresent 1µs before expiry")
	got = receipt(t, st, m.ID, at)
	assert.False(t, got.SecretPresent, "SecretPresent at expiry")
	assert.Equal(t, onetime.StateNew, got.State, "state at expiry: as stored")
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal at expiry")
	_, err = st.Peek(ctx, s.ID, at)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek at expiry")
	_, err = st.Burn(ctx, m.ID, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn at expiry")
	// The receipt outlives its secret, unchanged.
	got = receipt(t, st, m.ID, m.ExpiresAt.Add(-us))
	assert.False(t, got.SecretPresent, "receipt 1µs before its own expiry reports its expired secret present")
	equalMetadata(t, got, m)
	// Just before the boundary, the secret is still served.
	s, _ = create(t, st, "", t0)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, before, nil)
	assert.NoError(t, err, "Reveal 1µs before expiry")
}

func testReceiptExpiry(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	_, m := create(t, st, "owner", t0)
	before := m.ExpiresAt.Add(-us)
	receipt(t, st, m.ID, before)
	list, err := st.Recent(ctx, "owner", before, 10)
	assert.NoError(t, err)
	assert.Len(t, list, 1, "Recent 1µs before expiry")
	_, err = st.Receipt(ctx, m.ID, m.ExpiresAt)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Receipt at expiry")
	_, err = st.View(ctx, m.ID, m.ExpiresAt)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "View at expiry")
	_, err = st.Burn(ctx, m.ID, m.ExpiresAt, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Burn at expiry")
	list, err = st.Recent(ctx, "owner", m.ExpiresAt, 10)
	assert.NoError(t, err)
	assert.Empty(t, list, "Recent lists an expired receipt")
}

func testNoResurrection(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	// State changes just before each expiry do not extend either lifetime.
	s, m := create(t, st, "", t0)
	view(t, st, m.ID, s.ExpiresAt.Add(-us))
	got := receipt(t, st, m.ID, s.ExpiresAt)
	assert.False(t, got.SecretPresent, "View extended the secret's life")
	sameTime(t, "SecretExpiresAt after View", got.SecretExpiresAt, m.SecretExpiresAt)
	sameTime(t, "ExpiresAt after View", got.ExpiresAt, m.ExpiresAt)

	s, m = create(t, st, "", t0)
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, s.ExpiresAt.Add(-us), nil)
	require.NoError(t, err, "Reveal 1µs before expiry")
	_, err = st.Receipt(ctx, m.ID, m.ExpiresAt)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Receipt after its expiry, following a reveal")

	s, m = create(t, st, "", t0)
	_, err = st.Burn(ctx, m.ID, s.ExpiresAt.Add(-us), nil)
	require.NoError(t, err)
	_, err = st.Receipt(ctx, m.ID, m.ExpiresAt)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Receipt after its expiry, following a burn")

	// Failed operations on expired records bring nothing back.
	s, m = create(t, st, "", t0)
	after := m.ExpiresAt.Add(time.Second)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, after, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound)
	_, err = st.Burn(ctx, m.ID, after, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound)
	_, err = st.View(ctx, m.ID, after)
	assert.ErrorIs(t, err, onetime.ErrNotFound)
	_, err = st.Peek(ctx, s.ID, after)
	assert.ErrorIs(t, err, onetime.ErrNotFound)
	_, err = st.Receipt(ctx, m.ID, after)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Receipt of an expired pair after failed operations")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, after, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal of an expired pair after failed operations")

	// Wrong passphrases near expiry do not extend the secret either.
	s, m = NewPair("", t0, secretTTL)
	withPassphrase(s, m)
	mustCreate(t, st, s, m)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, s.ExpiresAt.Add(-us), nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: s.Check}, s.ExpiresAt, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Reveal at expiry after a wrong attempt")
}

func testRecent(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	var mine []*onetime.SealedMetadata
	var secrets []*onetime.SealedSecret
	for i := range 6 {
		s, m := create(t, st, "alice", t0.Add(time.Duration(i)*time.Second))
		mine = append(mine, m)
		secrets = append(secrets, s)
		create(t, st, "bob", t0.Add(time.Duration(i)*time.Second))
		create(t, st, "", t0.Add(time.Duration(i)*time.Second))
	}
	now := t0.Add(10 * time.Second)
	_, err := st.Reveal(ctx, secrets[4].ID, onetime.Credentials{}, now, nil)
	require.NoError(t, err)
	list, err := st.Recent(ctx, "alice", now, 100)
	require.NoError(t, err)
	require.Len(t, list, len(mine))
	for i, got := range list {
		want := mine[len(mine)-1-i]
		require.Equalf(t, want.ID, got.ID, "Recent[%d] is not the receipt created %d-th newest", i, i)
		assert.Equal(t, "alice", got.Owner)
		assert.Equalf(t, got.ID != mine[4].ID, got.SecretPresent, "Recent[%d].SecretPresent", i)
	}
	assert.Equal(t, onetime.StateReceived, list[1].State, "Recent shows a received secret's receipt")
	// Listing is not reading: nothing moved to viewed.
	assert.Equal(t, onetime.StateNew, list[0].State, "Recent's state of an unread receipt")
	assert.Equal(t, onetime.StateNew, receipt(t, st, mine[5].ID, now).State, "Recent moved a receipt")

	list, err = st.Recent(ctx, "alice", now, 2)
	require.NoError(t, err)
	if assert.Len(t, list, 2, "Recent with limit 2") {
		assert.Equal(t, mine[5].ID, list[0].ID)
		assert.Equal(t, mine[4].ID, list[1].ID)
	}
	list, err = st.Recent(ctx, "", now, 100)
	assert.NoError(t, err)
	assert.Empty(t, list, "anonymous receipts are listed")
	// Receipts expire out of the list one by one.
	list, err = st.Recent(ctx, "alice", mine[2].ExpiresAt, 100)
	assert.NoError(t, err)
	assert.Len(t, list, 3, "Recent at the expiry of the 3rd receipt")
}

func testRecentSkipsExpired(t *testing.T, st onetime.Store) {
	// The two newest receipts are short-lived and gone first: a limit of 3
	// must still find the older live ones.
	var ids []onetime.ID
	for i, ttl := range []time.Duration{time.Hour, time.Hour, time.Minute, time.Minute} {
		s, m := NewPair("erin", t0.Add(time.Duration(i)*time.Second), ttl)
		mustCreate(t, st, s, m)
		ids = append(ids, m.ID)
	}
	// One more whose secret expired unread while its receipt lives on.
	s, m := NewPair("erin", t0.Add(-time.Minute), 4*time.Minute)
	mustCreate(t, st, s, m)
	now := t0.Add(5 * time.Minute)
	list, err := st.Recent(context.Background(), "erin", now, 3)
	require.NoError(t, err)
	require.Len(t, list, 3, "Recent(limit 3) with the newest receipts expired: want the 3 live ones")
	assert.Equal(t, []onetime.ID{ids[1], ids[0], m.ID}, []onetime.ID{list[0].ID, list[1].ID, list[2].ID}, "newest first")
	assert.False(t, list[2].SecretPresent, "SecretPresent in Recent for an expired secret")
	assert.True(t, list[0].SecretPresent, "SecretPresent in Recent for a live secret")
}

func testRecentTies(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	var ids []onetime.ID
	for range 5 {
		_, m := create(t, st, "carol", t0) // all in the same microsecond
		ids = append(ids, m.ID)
	}
	_, newest := create(t, st, "carol", t0.Add(us))
	_, oldest := create(t, st, "carol", t0.Add(-us)) // created last, but older
	list, err := st.Recent(ctx, "carol", t0.Add(time.Minute), 100)
	require.NoError(t, err)
	want := []onetime.ID{newest.ID, ids[4], ids[3], ids[2], ids[1], ids[0], oldest.ID}
	got := make([]onetime.ID, len(list))
	for i, m := range list {
		got[i] = m.ID
	}
	assert.Equal(t, want, got, "Recent order: newest Created first, ties in reverse order of Create")
}

func testPassphrase(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	mustCreate(t, st, s, m)
	for i := range s.MaxAttempts - 1 {
		var wrong []byte // a missing passphrase counts as a wrong one
		if i%2 == 1 {
			wrong = []byte("wrong")
		}
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: wrong}, t0, nil)
		require.ErrorIsf(t, err, onetime.ErrWrongPassphrase, "wrong attempt %d", i+1)
	}
	got := receipt(t, st, m.ID, t0)
	equalMetadata(t, got, m) // wrong attempts leave the receipt alone
	require.True(t, got.SecretPresent, "after %d wrong attempts: SecretPresent", s.MaxAttempts-1)
	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0, nil)
	require.NoErrorf(t, err, "right passphrase after %d wrong ones", s.MaxAttempts-1)
	assert.Equal(t, s.MaxAttempts-1, sec.Attempts, "Attempts")
}

func testPassphraseBurn(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	mustCreate(t, st, s, m)
	at := t0.Add(time.Minute)
	for i := range s.MaxAttempts {
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, at, nil)
		require.ErrorIsf(t, err, onetime.ErrWrongPassphrase, "wrong attempt %d", i+1)
	}
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "right passphrase after the limit")
	got := receipt(t, st, m.ID, at)
	want := *m
	want.State, want.Burned, want.Updated = onetime.StateBurned, at, at
	equalMetadata(t, got, &want)
	assert.False(t, got.SecretPresent, "SecretPresent after the limit")
	// A burned receipt stays burned.
	got = view(t, st, m.ID, at.Add(time.Second))
	assert.Equal(t, onetime.StateBurned, got.State, "View of a burned receipt")
	equalMetadata(t, receipt(t, st, m.ID, at.Add(time.Second)), &want)
}

func testPassphraseRace(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	const racers = 64
	// Every concurrent wrong attempt is counted.
	s, m := NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	s.MaxAttempts = 1000
	mustCreate(t, st, s, m)
	race(racers, func(int) {
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, nil)
		assert.ErrorIs(t, err, onetime.ErrWrongPassphrase, "wrong attempt")
	})
	assert.Equal(t, racers, peek(t, st, s.ID, t0).Attempts, "Peek's Attempts after concurrent wrong attempts")
	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: check}, t0, nil)
	require.NoError(t, err)
	assert.Equal(t, racers, sec.Attempts, "Attempts after concurrent wrong attempts")

	// With a limit of 10, exactly 10 attempts are answered as wrong; the
	// rest find the secret burned.
	s, m = NewPair("", t0, secretTTL)
	withPassphrase(s, m)
	mustCreate(t, st, s, m)
	var mu sync.Mutex
	wrong, gone := 0, 0
	race(racers, func(int) {
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, nil)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, onetime.ErrWrongPassphrase):
			wrong++
		case errors.Is(err, onetime.ErrNotFound):
			gone++
		default:
			assert.Fail(t, "wrong attempt", "err %v", err)
		}
	})
	assert.Equal(t, s.MaxAttempts, wrong, "attempts answered as wrong")
	assert.Equal(t, racers-s.MaxAttempts, gone, "attempts that found the secret burned")
	assert.Equal(t, onetime.StateBurned, receipt(t, st, m.ID, t0).State, "state after the limit")
}

func testNoAliasing(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("owner", t0, secretTTL)
	withPassphrase(s, m)
	wantSealed, wantCheck, wantMeta := bytes.Clone(s.Sealed), bytes.Clone(s.Check), bytes.Clone(m.Sealed)
	wantOwner := bytes.Clone(m.OwnerSealed)
	mustCreate(t, st, s, m)
	// The caller's structs are the caller's after Create.
	s.Sealed[0] ^= 0xff
	s.Check[0] ^= 0xff
	m.Sealed[0] ^= 0xff
	m.OwnerSealed[0] ^= 0xff
	m.State = onetime.StateBurned

	intact := func(what string) {
		t.Helper()
		got := receipt(t, st, m.ID, t0)
		require.Truef(t, bytes.Equal(got.Sealed, wantMeta) && bytes.Equal(got.OwnerSealed, wantOwner), "%s: the receipt's bytes changed", what)
		require.Equalf(t, onetime.StateNew, got.State, "%s: the receipt's state changed", what)
	}
	intact("Create kept the caller's receipt memory")
	// A returned struct is the caller's too.
	got := receipt(t, st, m.ID, t0)
	got.Sealed[0] ^= 0xff
	got.OwnerSealed[0] ^= 0xff
	got.State = onetime.StateBurned
	intact("Receipt returned the store's own memory")
	list, err := st.Recent(ctx, "owner", t0, 1)
	require.NoError(t, err)
	require.Len(t, list, 1)
	list[0].Sealed[0] ^= 0xff
	list[0].OwnerSealed[0] ^= 0xff
	list[0].State = onetime.StateBurned
	intact("Recent returned the store's own memory")
	got, err = st.View(ctx, m.ID, t0) // answers new, stores viewed
	require.NoError(t, err)
	got.Sealed[0] ^= 0xff
	got.OwnerSealed[0] ^= 0xff
	got = receipt(t, st, m.ID, t0)
	require.True(t, bytes.Equal(got.Sealed, wantMeta) && bytes.Equal(got.OwnerSealed, wantOwner), "View returned the store's own memory")

	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Check: wantCheck}, t0, nil)
	require.NoError(t, err)
	require.True(t, bytes.Equal(sec.Sealed, wantSealed) && bytes.Equal(sec.Check, wantCheck), "Create kept the caller's secret memory")

	_, m2 := create(t, st, "owner", t0)
	burned, err := st.Burn(ctx, m2.ID, t0, nil)
	require.NoError(t, err)
	burned.Sealed[0] ^= 0xff
	burned.State = onetime.StateNew
	again := receipt(t, st, m2.ID, t0)
	require.True(t, bytes.Equal(again.Sealed, m2.Sealed), "Burn returned the store's own memory")
	require.Equal(t, onetime.StateBurned, again.State, "Burn returned the store's own memory")
}

// testMalformedIDs: an id that is not [onetime.ID.Valid] names no
// record. Every lookup by one answers ErrNotFound, an id that differs from
// a stored one only in case included; Create refuses a pair with such an
// id, or whose ids do not name each other in one slot, with an error
// wrapping ErrInvalid, and writes nothing.
func testMalformedIDs(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "owner", t0)
	upper := func(id onetime.ID) onetime.ID {
		u := onetime.ID(strings.ToUpper(string(id)))
		require.NotEqual(t, id, u, "an id of digits alone") // odds of (10/16)^40
		return u
	}
	for _, id := range []onetime.ID{
		"", "x", s.ID[:39], s.ID + "0", "g" + s.ID[1:], upper(s.ID), upper(m.ID),
	} {
		_, err := st.Reveal(ctx, id, onetime.Credentials{}, t0, nil)
		assert.ErrorIsf(t, err, onetime.ErrNotFound, "Reveal(%q)", id)
		_, err = st.Peek(ctx, id, t0)
		assert.ErrorIsf(t, err, onetime.ErrNotFound, "Peek(%q)", id)
		_, err = st.Receipt(ctx, id, t0)
		assert.ErrorIsf(t, err, onetime.ErrNotFound, "Receipt(%q)", id)
		_, err = st.View(ctx, id, t0)
		assert.ErrorIsf(t, err, onetime.ErrNotFound, "View(%q)", id)
		_, err = st.Burn(ctx, id, t0, nil)
		assert.ErrorIsf(t, err, onetime.ErrNotFound, "Burn(%q)", id)
	}
	// None of that touched the stored pair.
	got := receipt(t, st, m.ID, t0)
	equalMetadata(t, got, m)
	assert.True(t, got.SecretPresent, "a lookup by a malformed id consumed the secret")

	otherSlot := func(id onetime.ID) onetime.ID {
		for {
			if o := onetime.ID(randomHex(onetime.SlotLen) + string(id[onetime.SlotLen:])); o.Slot() != id.Slot() {
				return o
			}
		}
	}
	for what, spoil := range map[string]func(s *onetime.SealedSecret, m *onetime.SealedMetadata){
		"a short secret id": func(s *onetime.SealedSecret, m *onetime.SealedMetadata) {
			s.ID = s.ID[:39]
			m.SecretID = s.ID
		},
		"an upper-case receipt id": func(s *onetime.SealedSecret, m *onetime.SealedMetadata) {
			m.ID = upper(m.ID)
			s.MetadataID = m.ID
		},
		"a secret naming another receipt": func(s *onetime.SealedSecret, m *onetime.SealedMetadata) {
			s.MetadataID = onetime.ID(m.ID.Slot() + randomHex(32))
		},
		"a receipt naming another secret": func(s *onetime.SealedSecret, m *onetime.SealedMetadata) {
			m.SecretID = onetime.ID(s.ID.Slot() + randomHex(32))
		},
		"ids in two slots": func(s *onetime.SealedSecret, m *onetime.SealedMetadata) {
			m.ID = otherSlot(m.ID)
			s.MetadataID = m.ID
		},
	} {
		s, m := NewPair("owner", t0, secretTTL)
		spoil(s, m)
		require.ErrorIsf(t, st.Create(ctx, s, m), onetime.ErrInvalid, "Create of %s", what)
		// (Lower case: a store that decoded an upper-case id as
		// hexadecimal would have stored it under the lower-case one.)
		_, err := st.Peek(ctx, onetime.ID(strings.ToLower(string(s.ID))), t0)
		assert.ErrorIsf(t, err, onetime.ErrNotFound, "Create of %s stored the secret", what)
		_, err = st.Receipt(ctx, onetime.ID(strings.ToLower(string(m.ID))), t0)
		assert.ErrorIsf(t, err, onetime.ErrNotFound, "Create of %s stored the receipt", what)
	}
	list, err := st.Recent(ctx, "owner", t0, 10)
	require.NoError(t, err)
	if assert.Len(t, list, 1, "Recent after refused Creates: want the stored pair alone") {
		assert.Equal(t, m.ID, list[0].ID)
	}
}

func testCancelledContext(t *testing.T, st onetime.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, m := NewPair("owner", t0, secretTTL)
	stored, storedM := create(t, st, "owner", t0)
	secrets := append(secretsOf(s, m), secretsOf(stored, storedM)...)
	cancelled := func(what string, err error) {
		t.Helper()
		if assert.ErrorIsf(t, err, context.Canceled, "%s with a cancelled context", what) {
			checkErrorText(t, err, secrets...)
		}
	}
	cancelled("Create", st.Create(ctx, s, m))
	_, err := st.Receipt(context.Background(), m.ID, t0)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Create with a cancelled context wrote the pair")

	s, m = stored, storedM
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	cancelled("Reveal", err)
	_, err = st.Peek(ctx, s.ID, t0)
	cancelled("Peek", err)
	_, err = st.Receipt(ctx, m.ID, t0)
	cancelled("Receipt", err)
	_, err = st.View(ctx, m.ID, t0)
	cancelled("View", err)
	_, err = st.Burn(ctx, m.ID, t0, nil)
	cancelled("Burn", err)
	_, err = st.Recent(ctx, "owner", t0, 10)
	cancelled("Recent", err)
	_, err = st.Sweep(ctx, t0)
	cancelled("Sweep", err)
	// Nothing happened to the pair.
	got := receipt(t, st, m.ID, t0)
	equalMetadata(t, got, m)
	assert.True(t, got.SecretPresent, "a cancelled call changed the pair")
}

// checkErrorText checks that err's text names none of the given ids or
// checks, as they are or in hexadecimal. It is the one check of a text
// the suite makes: errors are told apart by errors.Is.
func checkErrorText(t *testing.T, err error, secrets ...[]byte) {
	t.Helper()
	text := err.Error()
	for _, b := range secrets {
		for _, s := range []string{string(b), hex.EncodeToString(b)} {
			assert.NotContainsf(t, text, s, "an error text contains an id or check")
		}
	}
}

// secretsOf lists what no error text may contain: the pair's ids (whole
// and without the shared slot), its check and its proof.
func secretsOf(s *onetime.SealedSecret, m *onetime.SealedMetadata) [][]byte {
	out := [][]byte{[]byte(s.ID), []byte(s.ID[onetime.SlotLen:]), []byte(m.ID), []byte(m.ID[onetime.SlotLen:])}
	if len(s.Check) > 0 {
		out = append(out, s.Check)
	}
	if len(s.Proof) > 0 {
		out = append(out, s.Proof)
	}
	return out
}

func testErrorTexts(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("owner", t0, secretTTL)
	withPassphrase(s, m)
	mustCreate(t, st, s, m)
	unknownS, unknownM := NewPair("owner", t0, secretTTL)
	secrets := append(secretsOf(s, m), secretsOf(unknownS, unknownM)...)
	// A pair that takes the stored ids but differs in its bytes (a store
	// may take a byte-for-byte repeat as a retried Create).
	dupS, dupM := NewPair("owner", t0, secretTTL)
	dupS.ID, dupS.MetadataID, dupM.ID, dupM.SecretID = s.ID, m.ID, m.ID, s.ID
	errs := map[string]error{"Create of stored ids": st.Create(ctx, dupS, dupM)}
	_, errs["Reveal with a wrong passphrase"] = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, t0, nil)
	_, errs["Reveal of an unknown id"] = st.Reveal(ctx, unknownS.ID, onetime.Credentials{}, t0, nil)
	_, errs["Peek of an unknown id"] = st.Peek(ctx, unknownS.ID, t0)
	_, errs["Peek at expiry"] = st.Peek(ctx, s.ID, s.ExpiresAt)
	_, errs["Receipt of an unknown id"] = st.Receipt(ctx, unknownM.ID, t0)
	_, errs["View of an unknown id"] = st.View(ctx, unknownM.ID, t0)
	_, errs["Burn of an unknown id"] = st.Burn(ctx, unknownM.ID, t0, nil)
	_, errs["Receipt at expiry"] = st.Receipt(ctx, m.ID, m.ExpiresAt)
	for what, err := range errs {
		if assert.Errorf(t, err, "%s: want an error", what) {
			checkErrorText(t, err, secrets...)
		}
	}
}

func testSweep(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	// expiries holds the expiry of every record created here: Sweep(now)
	// may count at most those expired at now, less what it counted before.
	// (Consumed secrets are included, should a store keep them until swept.)
	var expiries []time.Time
	removed := 0
	add := func(s *onetime.SealedSecret, m *onetime.SealedMetadata) {
		mustCreate(t, st, s, m)
		expiries = append(expiries, s.ExpiresAt, m.ExpiresAt)
	}
	sweep := func(now time.Time) int {
		t.Helper()
		most := -removed
		for _, e := range expiries {
			if !now.Before(e) {
				most++
			}
		}
		n, err := st.Sweep(ctx, now)
		require.NoError(t, err, "Sweep")
		require.GreaterOrEqual(t, n, 0, "Sweep's count")
		require.LessOrEqualf(t, n, most, "Sweep(%v) counts more records than had expired and were not counted before", now)
		removed += n
		return n
	}

	// Every pair is created at t0, before anything expires, so no store can
	// have reclaimed anything before the first Sweep.
	var old, live, done []*onetime.SealedMetadata
	var oldSecrets, liveSecrets []*onetime.SealedSecret
	for range 20 {
		s, m := NewPair("owner", t0, secretTTL)
		add(s, m)
		old, oldSecrets = append(old, m), append(oldSecrets, s)
		s, m = NewPair("owner", t0, 24*time.Hour)
		add(s, m)
		live, liveSecrets = append(live, m), append(liveSecrets, s)
	}
	for _, owner := range []string{"owner", ""} {
		s, m := NewPair(owner, t0, secretTTL)
		add(s, m)
		_, err := st.Reveal(ctx, s.ID, onetime.Credentials{}, t0.Add(time.Minute), nil)
		require.NoError(t, err)
		done = append(done, m)
	}
	checkLive := func(now time.Time) {
		t.Helper()
		for i, m := range live {
			got := receipt(t, st, m.ID, now)
			require.True(t, got.SecretPresent && got.State == onetime.StateNew, "Sweep damaged a live pair")
			equalMetadata(t, got, m)
			require.Equal(t, liveSecrets[i].MaxAttempts, peek(t, st, liveSecrets[i].ID, now).MaxAttempts)
		}
	}

	// Nothing expired: nothing removed.
	require.Zero(t, sweep(oldSecrets[0].ExpiresAt.Add(-us)), "Sweep before any expiry")
	checkLive(t0)

	// Between the old secrets' expiry and their receipts': the secrets go,
	// the receipts stay.
	mid := oldSecrets[0].ExpiresAt.Add(time.Minute)
	sweep(mid)
	for i, m := range old {
		got := receipt(t, st, m.ID, mid)
		require.False(t, got.SecretPresent, "an expired secret is present after Sweep")
		equalMetadata(t, got, m)
		_, err := st.Peek(ctx, oldSecrets[i].ID, mid)
		require.ErrorIs(t, err, onetime.ErrNotFound, "Peek of an expired secret after Sweep")
	}
	for _, m := range done {
		assert.Equal(t, onetime.StateReceived, receipt(t, st, m.ID, mid).State, "Sweep damaged a received receipt")
	}
	checkLive(mid)
	sweep(mid) // nothing counted twice

	// After the old receipts' expiry: every old record is gone.
	end := old[0].ExpiresAt.Add(time.Minute)
	sweep(end)
	for _, m := range append(old, done...) {
		_, err := st.Receipt(ctx, m.ID, end)
		require.ErrorIs(t, err, onetime.ErrNotFound, "expired receipt after Sweep")
	}
	checkLive(end)
	list, err := st.Recent(ctx, "owner", end, 100)
	require.NoError(t, err)
	require.Len(t, list, len(live), "Recent after Sweep: want the live receipts")
	t.Logf("Sweep removed %d of the 44 records expired by then", removed)

	// At the boundary: Sweep(now) may remove what expires at now, and must
	// keep what expires 1µs later.
	s1, m1 := NewPair("", end, time.Minute)
	add(s1, m1)
	s2, m2 := NewPair("", end.Add(us), time.Minute)
	add(s2, m2)
	sweep(s1.ExpiresAt)
	got := receipt(t, st, m2.ID, s1.ExpiresAt)
	require.True(t, got.SecretPresent, "Sweep removed a secret 1µs before its expiry")
	_, err = st.Reveal(ctx, s2.ID, onetime.Credentials{}, s1.ExpiresAt, nil)
	require.NoError(t, err, "Reveal after Sweep of a secret 1µs before its expiry")
	sweep(m1.ExpiresAt)
	_, err = st.Receipt(ctx, m2.ID, m1.ExpiresAt)
	require.NoError(t, err, "Sweep removed a receipt 1µs before its expiry")
	_, err = st.Receipt(ctx, m1.ID, m1.ExpiresAt)
	require.ErrorIs(t, err, onetime.ErrNotFound)

	// Long after: everything is gone, and a second Sweep finds nothing.
	far := t0.Add(1000 * time.Hour)
	sweep(far)
	for _, m := range append(live, m2) {
		_, err := st.Receipt(ctx, m.ID, far)
		require.ErrorIs(t, err, onetime.ErrNotFound, "expired receipt after Sweep")
	}
	list, err = st.Recent(ctx, "owner", far, 100)
	require.NoError(t, err)
	require.Empty(t, list, "Recent after everything expired")
	require.Zero(t, sweep(far), "a second Sweep at the same time")
}

// testClosed checks that every method fails with ErrClosed after Close,
// and that Close may be called again.
func testClosed(t *testing.T, st onetime.Store) {
	s, m := create(t, st, "owner", t0)
	require.NoError(t, st.Close(), "Close")
	CheckClosed(t, st, s, m)
}

// CheckClosed checks a store that its caller has just closed: every
// method, called for the pair s and m (one created before Close, or a
// fresh one from NewPair), fails with an error that wraps
// onetime.ErrClosed, returns no result, and names neither id of the pair;
// Close again returns nil and changes none of that. Run checks every store
// so; a backend's own test calls it after closing a store it set up in a
// way of its own (calls in flight, a connection lost, ...).
func CheckClosed(t *testing.T, st onetime.Store, s *onetime.SealedSecret, m *onetime.SealedMetadata) {
	t.Helper()
	ctx := context.Background()
	s2, m2 := NewPair(m.Owner, t0, secretTTL)
	secrets := append(secretsOf(s, m), secretsOf(s2, m2)...)
	check := func(round int) {
		t.Helper()
		errs := map[string]error{"Create": st.Create(ctx, s2, m2)}
		var sec *onetime.SealedSecret
		var info *onetime.SecretInfo
		var got, viewed, burned *onetime.SealedMetadata
		var list []*onetime.SealedMetadata
		sec, errs["Reveal"] = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
		_, errs["Reveal with a replay"] = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, newReplay(s.ID, t0))
		_, errs["Burn with a replay"] = st.Burn(ctx, m.ID, t0, newReplay(m.ID, t0))
		info, errs["Peek"] = st.Peek(ctx, s.ID, t0)
		got, errs["Receipt"] = st.Receipt(ctx, m.ID, t0)
		viewed, errs["View"] = st.View(ctx, m.ID, t0)
		burned, errs["Burn"] = st.Burn(ctx, m.ID, t0, nil)
		list, errs["Recent"] = st.Recent(ctx, "owner", t0, 10)
		_, errs["Sweep"] = st.Sweep(ctx, t0.Add(1000*time.Hour))
		for what, err := range errs {
			if assert.ErrorIsf(t, err, onetime.ErrClosed, "%s after Close (%d)", what, round) {
				checkErrorText(t, err, secrets...)
			}
		}
		assert.Nil(t, sec, "Reveal after Close returned a secret")
		assert.Nil(t, info, "Peek after Close returned a secret's info")
		assert.Nil(t, got, "Receipt after Close returned a receipt")
		assert.Nil(t, viewed, "View after Close returned a receipt")
		assert.Nil(t, burned, "Burn after Close returned a receipt")
		assert.Empty(t, list, "Recent after Close returned receipts")
	}
	check(1)
	require.NoError(t, st.Close(), "a second Close")
	check(2)
}

// testService drives the real Service over the store, end to end.
func testService(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	now := t0
	svc, err := onetime.New(st, bytes.Repeat([]byte("k"), 32), &onetime.Options{
		Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, svc.Close()) })
	require.NoError(t, svc.Ping(ctx), "Ping")

	value := []byte("line one\nzwei ✓\n\n")
	r, err := svc.Share(ctx, onetime.ShareRequest{Owner: "dana", Value: value, TTL: time.Hour, Passphrase: "open sesame"})
	require.NoError(t, err)
	require.NotEmpty(t, r.SecretKey)
	require.NotEmpty(t, r.MetadataKey)
	assert.Equal(t, onetime.StateNew, r.State, "Share's receipt")
	need, err := svc.Check(ctx, r.SecretKey)
	require.NoError(t, err, "Check")
	assert.True(t, need, "Check: passphrase required")
	_, err = svc.Reveal(ctx, r.SecretKey, "wrong")
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "wrong passphrase")

	// The first read of the receipt reports new, later ones viewed.
	now = now.Add(time.Second)
	rc, err := svc.Receipt(ctx, r.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateNew, rc.State, "first Receipt")
	assert.Equal(t, r.SecretKey, rc.SecretKey, "first Receipt's secret key")
	now = now.Add(time.Second)
	rc, err = svc.Receipt(ctx, r.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateViewed, rc.State, "second Receipt")
	assert.Equal(t, r.SecretKey, rc.SecretKey, "second Receipt's secret key")
	sameTime(t, "Updated after the first read", rc.Updated, t0.Add(time.Second))

	got, err := svc.Reveal(ctx, r.SecretKey, "open sesame")
	require.NoError(t, err, "Reveal")
	assert.Equal(t, value, got.Value, "value round-trip")
	_, err = svc.Reveal(ctx, r.SecretKey, "open sesame")
	require.ErrorIs(t, err, onetime.ErrNotFound, "second Reveal")
	_, err = svc.Check(ctx, r.SecretKey)
	require.ErrorIs(t, err, onetime.ErrNotFound, "Check after Reveal")
	rc, err = svc.Receipt(ctx, r.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateReceived, rc.State, "Receipt after Reveal")
	assert.Empty(t, rc.SecretKey, "Receipt after Reveal shows the secret key")

	g, err := svc.Generate(ctx, onetime.GenerateRequest{ShareRequest: onetime.ShareRequest{Owner: "dana"}})
	require.NoError(t, err)
	assert.Equal(t, onetime.StateNew, g.State, "Generate's answer")
	assert.NotEmpty(t, g.Value)
	rc, err = svc.Receipt(ctx, g.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateViewed, rc.State, "first Receipt of a generated secret")
	b, err := svc.Burn(ctx, g.MetadataKey)
	require.NoError(t, err, "Burn")
	assert.Equal(t, onetime.StateBurned, b.State, "Burn")

	now = now.Add(30 * time.Minute)
	list, err := svc.Recent(ctx, "dana")
	require.NoError(t, err)
	require.Len(t, list, 2, "Recent")
	assert.Equal(t, g.MetadataKey, list[0].MetadataKey, "Recent: newest first")
	assert.Equal(t, onetime.StateBurned, list[0].State)
	assert.Equal(t, r.MetadataKey, list[1].MetadataKey)
	assert.Equal(t, onetime.StateReceived, list[1].State)

	now = now.Add(time.Hour) // the generated secret's TTL (default 7 days) is not over
	e, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("x"), TTL: time.Minute})
	require.NoError(t, err)
	now = now.Add(time.Minute)
	rc, err = svc.Receipt(ctx, e.MetadataKey)
	require.NoError(t, err, "receipt of an expired secret")
	assert.Equal(t, onetime.StateExpired, rc.State, "receipt of an expired secret")
	_, err = svc.Reveal(ctx, e.SecretKey, "")
	require.ErrorIs(t, err, onetime.ErrNotFound, "Reveal of an expired secret")

	_, err = svc.Sweep(ctx) // counts are the store's (Redis reports 0)
	require.NoError(t, err, "Sweep")
	rc, err = svc.Receipt(ctx, e.MetadataKey)
	require.NoError(t, err, "receipt of an expired secret after Sweep")
	assert.Equal(t, onetime.StateExpired, rc.State, "receipt of an expired secret after Sweep")
}
