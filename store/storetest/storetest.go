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
// it when done. The suite never sleeps: time is the now argument, so expiry
// is checked exactly at its boundary. Run it under -race.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

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
		{"MarkViewed", testMarkViewed},
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
		{"CancelledContext", testCancelledContext},
		{"ErrorTexts", testErrorTexts},
		{"Sweep", testSweep},
		{"Service", testService},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
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

func randomHex(n int) string {
	b := make([]byte, n/2)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newPair returns a fresh secret and receipt created at created, with
// ids that share a random slot.
func newPair(owner string, created time.Time) (*onetime.SealedSecret, *onetime.SealedMetadata) {
	slot := randomHex(onetime.SlotLen)
	sid := onetime.ID(slot + randomHex(32))
	mid := onetime.ID(slot + randomHex(32))
	sealed := make([]byte, 128)
	rand.Read(sealed)
	msealed := make([]byte, 85)
	rand.Read(msealed)
	s := &onetime.SealedSecret{
		ID: sid, MetadataID: mid,
		Sealed:      sealed,
		MaxAttempts: 10,
		ShareDomain: "example.com",
		ExpiresAt:   created.Add(secretTTL),
	}
	m := &onetime.SealedMetadata{
		ID: mid, SecretID: sid,
		Owner:           owner,
		State:           onetime.StateNew,
		ShareDomain:     "example.com",
		Created:         created,
		Updated:         created,
		SecretExpiresAt: s.ExpiresAt,
		ExpiresAt:       created.Add(2 * secretTTL),
		Sealed:          msealed,
	}
	if owner != "" {
		m.OwnerSealed = []byte("owner-sealed:" + string(mid))
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
	s, m := newPair(owner, created)
	mustCreate(t, st, s, m)
	return s, m
}

func mustCreate(t *testing.T, st onetime.Store, s *onetime.SealedSecret, m *onetime.SealedMetadata) {
	t.Helper()
	if err := st.Create(context.Background(), s, m); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

func receipt(t *testing.T, st onetime.Store, id onetime.ID, now time.Time) *onetime.SealedMetadata {
	t.Helper()
	m, err := st.Receipt(context.Background(), id, now)
	if err != nil {
		t.Fatalf("Receipt: %v", err)
	}
	return m
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func sameTime(t *testing.T, field string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", field, got, want)
	}
}

func equalMetadata(t *testing.T, got, want *onetime.SealedMetadata) {
	t.Helper()
	if got.ID != want.ID || got.SecretID != want.SecretID || got.Owner != want.Owner ||
		got.State != want.State || got.PassphraseRequired != want.PassphraseRequired ||
		got.ShareDomain != want.ShareDomain {
		t.Errorf("receipt = %+v, want %+v", got, want)
	}
	if !bytes.Equal(got.Sealed, want.Sealed) || !bytes.Equal(got.OwnerSealed, want.OwnerSealed) {
		t.Errorf("receipt sealed fields differ from what was stored")
	}
	sameTime(t, "Created", got.Created, want.Created)
	sameTime(t, "Updated", got.Updated, want.Updated)
	sameTime(t, "Received", got.Received, want.Received)
	sameTime(t, "Burned", got.Burned, want.Burned)
	sameTime(t, "SecretExpiresAt", got.SecretExpiresAt, want.SecretExpiresAt)
	sameTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func equalSecret(t *testing.T, got, want *onetime.SealedSecret) {
	t.Helper()
	if got.ID != want.ID || got.MetadataID != want.MetadataID || got.Attempts != want.Attempts ||
		got.MaxAttempts != want.MaxAttempts || got.ShareDomain != want.ShareDomain {
		t.Errorf("secret = %+v, want %+v", got, want)
	}
	if !bytes.Equal(got.Sealed, want.Sealed) || !bytes.Equal(got.Check, want.Check) {
		t.Errorf("secret Sealed or Check differ from what was stored")
	}
	sameTime(t, "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
}

func testRoundTrip(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	for _, owner := range []string{"", "cust-1@example.com"} {
		s, m := newPair(owner, t0)
		check := withPassphrase(s, m)
		s.Attempts = 3                        // stored as given, like every field
		s.ShareDomain, m.ShareDomain = "", "" // empty strings round-trip too
		want, wantM := *s, *m
		want.Sealed, want.Check = bytes.Clone(s.Sealed), bytes.Clone(s.Check)
		mustCreate(t, st, s, m)

		got := receipt(t, st, m.ID, t0)
		equalMetadata(t, got, &wantM)
		if !got.SecretPresent {
			t.Errorf("SecretPresent = false for a live secret")
		}
		sec, err := st.Reveal(ctx, s.ID, check, t0.Add(us))
		if err != nil {
			t.Fatalf("Reveal: %v", err)
		}
		equalSecret(t, sec, &want)
	}
	// A value of every byte, and an empty check, round-trip exactly.
	s, m := newPair("", t0)
	s.Sealed = make([]byte, 256)
	for i := range s.Sealed {
		s.Sealed[i] = byte(i)
	}
	want := bytes.Clone(s.Sealed)
	mustCreate(t, st, s, m)
	sec, err := st.Reveal(ctx, s.ID, []byte("ignored when the secret has no check"), t0)
	if err != nil {
		t.Fatalf("Reveal: %v", err)
	}
	if !bytes.Equal(sec.Sealed, want) || len(sec.Check) != 0 {
		t.Errorf("binary Sealed did not round-trip or Check appeared")
	}
}

func testCreateDuplicate(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "owner", t0)

	// Same secret id, new receipt: rejected, and the new receipt is absent.
	s2, m2 := newPair("owner", t0)
	s2.ID, m2.SecretID = s.ID, s.ID
	m2.ID = onetime.ID(s.ID.Slot() + randomHex(32))
	wantErr(t, "Create with a stored secret id", st.Create(ctx, s2, m2), onetime.ErrExists)
	if _, err := st.Receipt(ctx, m2.ID, t0); !errors.Is(err, onetime.ErrNotFound) {
		t.Errorf("rejected Create wrote its receipt: %v", err)
	}

	// Same receipt id, new secret: rejected, and the new secret is absent.
	s3, m3 := newPair("owner", t0)
	m3.ID, s3.MetadataID = m.ID, m.ID
	s3.ID = onetime.ID(m.ID.Slot() + randomHex(32))
	wantErr(t, "Create with a stored receipt id", st.Create(ctx, s3, m3), onetime.ErrExists)
	if _, err := st.Reveal(ctx, s3.ID, nil, t0); !errors.Is(err, onetime.ErrNotFound) {
		t.Errorf("rejected Create wrote its secret: %v", err)
	}

	// The original pair is untouched, and the owner lists it once.
	equalMetadata(t, receipt(t, st, m.ID, t0), m)
	list, err := st.Recent(ctx, "owner", t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != m.ID {
		t.Errorf("Recent after rejected creates = %d receipts, want only the original", len(list))
	}
	if _, err := st.Reveal(ctx, s.ID, nil, t0); err != nil {
		t.Errorf("original secret: %v", err)
	}
}

func testMissing(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	create(t, st, "someone", t0) // a store with something in it
	id := onetime.ID(randomHex(40))
	_, err := st.Reveal(ctx, id, nil, t0)
	wantErr(t, "Reveal", err, onetime.ErrNotFound)
	_, err = st.Receipt(ctx, id, t0)
	wantErr(t, "Receipt", err, onetime.ErrNotFound)
	wantErr(t, "MarkViewed", viewErr(ctx, st, id, t0), onetime.ErrNotFound)
	_, err = st.Burn(ctx, id, t0)
	wantErr(t, "Burn", err, onetime.ErrNotFound)
	list, err := st.Recent(ctx, "nobody", t0, 10)
	if err != nil || len(list) != 0 {
		t.Errorf("Recent of an unknown owner = %d, %v; want none", len(list), err)
	}
	// The receipt id is not a secret id and vice versa.
	s, m := create(t, st, "", t0)
	_, err = st.Reveal(ctx, m.ID, nil, t0)
	wantErr(t, "Reveal by receipt id", err, onetime.ErrNotFound)
	_, err = st.Receipt(ctx, s.ID, t0)
	wantErr(t, "Receipt by secret id", err, onetime.ErrNotFound)
}

func testRevealOnce(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "", t0)
	at := t0.Add(5 * time.Minute)
	if _, err := st.Reveal(ctx, s.ID, nil, at); err != nil {
		t.Fatalf("first Reveal: %v", err)
	}
	_, err := st.Reveal(ctx, s.ID, nil, at)
	wantErr(t, "second Reveal", err, onetime.ErrNotFound)
	got := receipt(t, st, m.ID, at.Add(time.Second))
	if got.State != onetime.StateReceived || got.SecretPresent {
		t.Errorf("after Reveal: state %v, SecretPresent %v; want received, false", got.State, got.SecretPresent)
	}
	sameTime(t, "Received", got.Received, at)
	sameTime(t, "Updated", got.Updated, at)
	if !got.Burned.IsZero() {
		t.Errorf("Burned = %v after a reveal", got.Burned)
	}
}

// race starts n goroutines running f(i) at once and waits for them.
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

func rounds(t *testing.T) int {
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
			sec, err := st.Reveal(context.Background(), s.ID, nil, t0.Add(time.Second))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && bytes.Equal(sec.Sealed, s.Sealed):
				winners++
			case errors.Is(err, onetime.ErrNotFound):
				misses++
			default:
				t.Errorf("Reveal: %v", err)
			}
		})
		if winners != 1 || misses != racers-1 {
			t.Fatalf("round %d: %d winners and %d not found among %d racers; want exactly 1 winner", round, winners, misses, racers)
		}
		if got := receipt(t, st, m.ID, t0.Add(time.Second)); got.State != onetime.StateReceived {
			t.Fatalf("round %d: state %v after the race, want received", round, got.State)
		}
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
				_, err = st.Reveal(context.Background(), s.ID, nil, t0.Add(time.Second))
			} else {
				var got *onetime.SealedMetadata
				got, err = st.Burn(context.Background(), m.ID, t0.Add(time.Second))
				if err == nil && got.State != onetime.StateBurned {
					t.Errorf("Burn returned state %v", got.State)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && i%2 == 0:
				reveals++
			case err == nil:
				burns++
			case !errors.Is(err, onetime.ErrNotFound):
				t.Errorf("racer %d: %v", i, err)
			}
		})
		if reveals+burns != 1 {
			t.Fatalf("round %d: %d reveals and %d burns succeeded; want exactly one", round, reveals, burns)
		}
		got := receipt(t, st, m.ID, t0.Add(time.Second))
		want := onetime.StateReceived
		if burns == 1 {
			want = onetime.StateBurned
		}
		if got.State != want || got.SecretPresent {
			t.Fatalf("round %d: receipt state %v (SecretPresent %v), but the winner was a %v", round, got.State, got.SecretPresent, want)
		}
		if (burns == 1) == got.Burned.IsZero() || (reveals == 1) == got.Received.IsZero() {
			t.Fatalf("round %d: receipt stamps Received %v, Burned %v disagree with the winner", round, got.Received, got.Burned)
		}
	}
}

func testBurn(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "", t0)
	at := t0.Add(time.Minute)
	got, err := st.Burn(ctx, m.ID, at)
	if err != nil {
		t.Fatalf("Burn: %v", err)
	}
	want := *m
	want.State, want.Burned, want.Updated = onetime.StateBurned, at, at
	equalMetadata(t, got, &want)
	equalMetadata(t, receipt(t, st, m.ID, at), &want)
	_, err = st.Burn(ctx, m.ID, at)
	wantErr(t, "second Burn", err, onetime.ErrNotFound)
	_, err = st.Reveal(ctx, s.ID, nil, at)
	wantErr(t, "Reveal after Burn", err, onetime.ErrNotFound)

	// A viewed receipt can be burned; a received one cannot.
	s, m = create(t, st, "", t0)
	if err := viewErr(ctx, st, m.ID, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Burn(ctx, m.ID, at); err != nil {
		t.Errorf("Burn of a viewed receipt: %v", err)
	}
	_, err = st.Reveal(ctx, s.ID, nil, at)
	wantErr(t, "Reveal after burning a viewed receipt", err, onetime.ErrNotFound)
	s, m = create(t, st, "", t0)
	if _, err := st.Reveal(ctx, s.ID, nil, t0); err != nil {
		t.Fatal(err)
	}
	_, err = st.Burn(ctx, m.ID, at)
	wantErr(t, "Burn after Reveal", err, onetime.ErrNotFound)
	if got := receipt(t, st, m.ID, at); got.State != onetime.StateReceived || !got.Burned.IsZero() {
		t.Errorf("failed Burn changed the receipt: state %v", got.State)
	}
}

func testMarkViewed(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "", t0)
	a, b := t0.Add(time.Second), t0.Add(2*time.Second)
	if err := viewErr(ctx, st, m.ID, a); err != nil {
		t.Fatal(err)
	}
	got := receipt(t, st, m.ID, a)
	if got.State != onetime.StateViewed {
		t.Errorf("state %v after MarkViewed, want viewed", got.State)
	}
	sameTime(t, "Updated", got.Updated, a)
	if err := viewErr(ctx, st, m.ID, b); err != nil {
		t.Fatal(err)
	}
	sameTime(t, "Updated after a second MarkViewed", receipt(t, st, m.ID, b).Updated, a)

	if _, err := st.Reveal(ctx, s.ID, nil, b); err != nil {
		t.Fatal(err)
	}
	if err := viewErr(ctx, st, m.ID, b.Add(time.Second)); err != nil {
		t.Errorf("MarkViewed of a received receipt: %v, want no-op", err)
	}
	if got := receipt(t, st, m.ID, b); got.State != onetime.StateReceived {
		t.Errorf("MarkViewed moved a received receipt to %v", got.State)
	}
}

func testSecretExpiry(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := create(t, st, "", t0)
	before, at := s.ExpiresAt.Add(-us), s.ExpiresAt
	if got := receipt(t, st, m.ID, before); !got.SecretPresent {
		t.Errorf("SecretPresent = false 1µs before expiry")
	}
	if got := receipt(t, st, m.ID, at); got.SecretPresent || got.State != onetime.StateNew {
		t.Errorf("at expiry: SecretPresent %v, state %v; want false, new (as stored)", got.SecretPresent, got.State)
	}
	_, err := st.Reveal(ctx, s.ID, nil, at)
	wantErr(t, "Reveal at expiry", err, onetime.ErrNotFound)
	_, err = st.Burn(ctx, m.ID, at)
	wantErr(t, "Burn at expiry", err, onetime.ErrNotFound)
	// The receipt outlives its secret.
	if got := receipt(t, st, m.ID, m.ExpiresAt.Add(-us)); got.SecretPresent {
		t.Errorf("receipt 1µs before its own expiry reports its expired secret present")
	}
	// Just before the boundary, the secret is still served.
	s, _ = create(t, st, "", t0)
	if _, err := st.Reveal(ctx, s.ID, nil, before); err != nil {
		t.Errorf("Reveal 1µs before expiry: %v", err)
	}
}

func testReceiptExpiry(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	_, m := create(t, st, "owner", t0)
	receipt(t, st, m.ID, m.ExpiresAt.Add(-us))
	_, err := st.Receipt(ctx, m.ID, m.ExpiresAt)
	wantErr(t, "Receipt at expiry", err, onetime.ErrNotFound)
	wantErr(t, "MarkViewed at expiry", viewErr(ctx, st, m.ID, m.ExpiresAt), onetime.ErrNotFound)
	_, err = st.Burn(ctx, m.ID, m.ExpiresAt)
	wantErr(t, "Burn at expiry", err, onetime.ErrNotFound)
	list, err := st.Recent(ctx, "owner", m.ExpiresAt, 10)
	if err != nil || len(list) != 0 {
		t.Errorf("Recent lists an expired receipt (%d, %v)", len(list), err)
	}
	list, err = st.Recent(ctx, "owner", m.ExpiresAt.Add(-us), 10)
	if err != nil || len(list) != 1 {
		t.Errorf("Recent 1µs before expiry = %d receipts, %v; want 1", len(list), err)
	}
}

func testNoResurrection(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	// State changes just before each expiry do not extend either lifetime.
	s, m := create(t, st, "", t0)
	if err := viewErr(ctx, st, m.ID, s.ExpiresAt.Add(-us)); err != nil {
		t.Fatal(err)
	}
	if got := receipt(t, st, m.ID, s.ExpiresAt); got.SecretPresent {
		t.Errorf("MarkViewed extended the secret's life")
	}
	if _, err := st.Reveal(ctx, s.ID, nil, s.ExpiresAt.Add(-us)); err != nil {
		t.Fatalf("Reveal 1µs before expiry: %v", err)
	}
	_, err := st.Receipt(ctx, m.ID, m.ExpiresAt)
	wantErr(t, "Receipt after its expiry, following a reveal", err, onetime.ErrNotFound)

	s, m = create(t, st, "", t0)
	if _, err := st.Burn(ctx, m.ID, s.ExpiresAt.Add(-us)); err != nil {
		t.Fatal(err)
	}
	_, err = st.Receipt(ctx, m.ID, m.ExpiresAt)
	wantErr(t, "Receipt after its expiry, following a burn", err, onetime.ErrNotFound)

	// Failed operations on expired records bring nothing back.
	s, m = create(t, st, "", t0)
	after := m.ExpiresAt.Add(time.Second)
	st.Reveal(ctx, s.ID, nil, after)
	st.Burn(ctx, m.ID, after)
	viewErr(ctx, st, m.ID, after)
	_, err = st.Receipt(ctx, m.ID, after)
	wantErr(t, "Receipt of an expired pair after failed operations", err, onetime.ErrNotFound)
	_, err = st.Reveal(ctx, s.ID, nil, after)
	wantErr(t, "Reveal of an expired pair after failed operations", err, onetime.ErrNotFound)

	// Wrong passphrases near expiry do not extend the secret either.
	s, m = newPair("", t0)
	withPassphrase(s, m)
	mustCreate(t, st, s, m)
	st.Reveal(ctx, s.ID, []byte("wrong"), s.ExpiresAt.Add(-us))
	_, err = st.Reveal(ctx, s.ID, s.Check, s.ExpiresAt)
	wantErr(t, "Reveal at expiry after a wrong attempt", err, onetime.ErrNotFound)
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
	if _, err := st.Reveal(ctx, secrets[4].ID, nil, t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(10 * time.Second)
	list, err := st.Recent(ctx, "alice", now, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(mine) {
		t.Fatalf("Recent = %d receipts, want %d", len(list), len(mine))
	}
	for i, got := range list {
		want := mine[len(mine)-1-i]
		if got.ID != want.ID || got.Owner != "alice" {
			t.Fatalf("Recent[%d] is not the receipt created %d-th newest", i, i)
		}
		if present := got.ID != mine[4].ID; got.SecretPresent != present {
			t.Errorf("Recent[%d].SecretPresent = %v, want %v", i, got.SecretPresent, present)
		}
	}
	if list[1].State != onetime.StateReceived {
		t.Errorf("Recent shows a received secret's receipt as %v", list[1].State)
	}
	list, err = st.Recent(ctx, "alice", now, 2)
	if err != nil || len(list) != 2 || list[0].ID != mine[5].ID || list[1].ID != mine[4].ID {
		t.Errorf("Recent with limit 2 did not return the 2 newest (%d, %v)", len(list), err)
	}
	list, err = st.Recent(ctx, "", now, 100)
	if err != nil || len(list) != 0 {
		t.Errorf("anonymous receipts are listed: %d, %v", len(list), err)
	}
	// Receipts expire out of the list one by one.
	list, err = st.Recent(ctx, "alice", mine[2].ExpiresAt, 100)
	if err != nil || len(list) != 3 {
		t.Errorf("Recent at the expiry of the 3rd receipt = %d, %v; want 3", len(list), err)
	}
}

// withTTL gives a new pair the secret lifetime ttl (the receipt 2 x ttl).
func withTTL(s *onetime.SealedSecret, m *onetime.SealedMetadata, ttl time.Duration) {
	s.ExpiresAt = m.Created.Add(ttl)
	m.SecretExpiresAt, m.ExpiresAt = s.ExpiresAt, m.Created.Add(2*ttl)
}

func testRecentSkipsExpired(t *testing.T, st onetime.Store) {
	// The two newest receipts are short-lived and gone first: a limit of 2
	// must still find the two older live ones.
	var ids []onetime.ID
	for i, ttl := range []time.Duration{time.Hour, time.Hour, time.Minute, time.Minute} {
		s, m := newPair("erin", t0.Add(time.Duration(i)*time.Second))
		withTTL(s, m, ttl)
		mustCreate(t, st, s, m)
		ids = append(ids, m.ID)
	}
	// One more whose secret expired unread while its receipt lives on.
	s, m := newPair("erin", t0.Add(-time.Minute))
	withTTL(s, m, 4*time.Minute)
	mustCreate(t, st, s, m)
	now := t0.Add(5 * time.Minute)
	list, err := st.Recent(context.Background(), "erin", now, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].ID != ids[1] || list[1].ID != ids[0] || list[2].ID != m.ID {
		t.Fatalf("Recent(limit 3) with the newest receipts expired = %d receipts; want the 3 live ones, newest first", len(list))
	}
	if list[2].SecretPresent || !list[0].SecretPresent {
		t.Errorf("SecretPresent in Recent: %v for an expired secret, %v for a live one", list[2].SecretPresent, list[0].SecretPresent)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	want := []onetime.ID{newest.ID, ids[4], ids[3], ids[2], ids[1], ids[0], oldest.ID}
	if len(list) != len(want) {
		t.Fatalf("Recent = %d receipts, want %d", len(list), len(want))
	}
	for i := range want {
		if list[i].ID != want[i] {
			t.Fatalf("Recent[%d] out of order: want newest Created first, ties in reverse order of Create", i)
		}
	}
}

func testPassphrase(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := newPair("", t0)
	check := withPassphrase(s, m)
	mustCreate(t, st, s, m)
	for i := range s.MaxAttempts - 1 {
		var wrong []byte // a missing passphrase counts as a wrong one
		if i%2 == 1 {
			wrong = []byte("wrong")
		}
		_, err := st.Reveal(ctx, s.ID, wrong, t0)
		wantErr(t, fmt.Sprintf("wrong attempt %d", i+1), err, onetime.ErrWrongPassphrase)
	}
	if got := receipt(t, st, m.ID, t0); got.State != onetime.StateNew || !got.SecretPresent {
		t.Fatalf("after %d wrong attempts: state %v, present %v", s.MaxAttempts-1, got.State, got.SecretPresent)
	}
	sec, err := st.Reveal(ctx, s.ID, check, t0)
	if err != nil {
		t.Fatalf("right passphrase after %d wrong ones: %v", s.MaxAttempts-1, err)
	}
	if sec.Attempts != s.MaxAttempts-1 {
		t.Errorf("Attempts = %d, want %d", sec.Attempts, s.MaxAttempts-1)
	}
}

func testPassphraseBurn(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := newPair("", t0)
	check := withPassphrase(s, m)
	mustCreate(t, st, s, m)
	at := t0.Add(time.Minute)
	for i := range s.MaxAttempts {
		_, err := st.Reveal(ctx, s.ID, []byte("wrong"), at)
		wantErr(t, fmt.Sprintf("wrong attempt %d", i+1), err, onetime.ErrWrongPassphrase)
	}
	_, err := st.Reveal(ctx, s.ID, check, at)
	wantErr(t, "right passphrase after the limit", err, onetime.ErrNotFound)
	got := receipt(t, st, m.ID, at)
	if got.State != onetime.StateBurned || got.SecretPresent {
		t.Errorf("after %d wrong attempts: state %v, want burned", s.MaxAttempts, got.State)
	}
	sameTime(t, "Burned", got.Burned, at)
	sameTime(t, "Updated", got.Updated, at)
	// A burned receipt stays burned.
	if err := viewErr(ctx, st, m.ID, at.Add(time.Second)); err != nil {
		t.Fatalf("MarkViewed of a burned receipt: %v, want a no-op", err)
	}
	if got := receipt(t, st, m.ID, at.Add(time.Second)); got.State != onetime.StateBurned {
		t.Errorf("MarkViewed moved a burned receipt to %v", got.State)
	}
}

func testPassphraseRace(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	const racers = 64
	// Every concurrent wrong attempt is counted.
	s, m := newPair("", t0)
	check := withPassphrase(s, m)
	s.MaxAttempts = 1000
	mustCreate(t, st, s, m)
	race(racers, func(int) {
		if _, err := st.Reveal(ctx, s.ID, []byte("wrong"), t0); !errors.Is(err, onetime.ErrWrongPassphrase) {
			t.Errorf("wrong attempt: %v", err)
		}
	})
	sec, err := st.Reveal(ctx, s.ID, check, t0)
	if err != nil {
		t.Fatal(err)
	}
	if sec.Attempts != racers {
		t.Errorf("Attempts = %d after %d concurrent wrong attempts", sec.Attempts, racers)
	}

	// With a limit of 10, exactly 10 attempts are answered as wrong; the
	// rest find the secret burned.
	s, m = newPair("", t0)
	withPassphrase(s, m)
	mustCreate(t, st, s, m)
	var mu sync.Mutex
	wrong, gone := 0, 0
	race(racers, func(int) {
		_, err := st.Reveal(ctx, s.ID, []byte("wrong"), t0)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, onetime.ErrWrongPassphrase):
			wrong++
		case errors.Is(err, onetime.ErrNotFound):
			gone++
		default:
			t.Errorf("wrong attempt: %v", err)
		}
	})
	if wrong != s.MaxAttempts || gone != racers-s.MaxAttempts {
		t.Errorf("%d wrong, %d not found; want %d and %d", wrong, gone, s.MaxAttempts, racers-s.MaxAttempts)
	}
	if got := receipt(t, st, m.ID, t0); got.State != onetime.StateBurned {
		t.Errorf("state %v after the limit, want burned", got.State)
	}
}

func testNoAliasing(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := newPair("owner", t0)
	withPassphrase(s, m)
	wantSealed, wantCheck, wantMeta := bytes.Clone(s.Sealed), bytes.Clone(s.Check), bytes.Clone(m.Sealed)
	mustCreate(t, st, s, m)
	// The caller's structs are the caller's after Create.
	s.Sealed[0] ^= 0xff
	s.Check[0] ^= 0xff
	m.Sealed[0] ^= 0xff
	m.OwnerSealed[0] ^= 0xff
	m.State = onetime.StateBurned

	got := receipt(t, st, m.ID, t0)
	if !bytes.Equal(got.Sealed, wantMeta) || got.State != onetime.StateNew {
		t.Fatalf("Create kept the caller's receipt memory")
	}
	// A returned struct is the caller's too.
	got.Sealed[0] ^= 0xff
	got.OwnerSealed[0] ^= 0xff
	got.State = onetime.StateBurned
	again := receipt(t, st, m.ID, t0)
	if !bytes.Equal(again.Sealed, wantMeta) || again.State != onetime.StateNew {
		t.Fatalf("Receipt returned the store's own memory")
	}
	list, err := st.Recent(ctx, "owner", t0, 1)
	if err != nil || len(list) != 1 {
		t.Fatal(err)
	}
	list[0].Sealed[0] ^= 0xff
	if again := receipt(t, st, m.ID, t0); !bytes.Equal(again.Sealed, wantMeta) {
		t.Fatalf("Recent returned the store's own memory")
	}
	sec, err := st.Reveal(ctx, s.ID, wantCheck, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sec.Sealed, wantSealed) || !bytes.Equal(sec.Check, wantCheck) {
		t.Fatalf("Create kept the caller's secret memory")
	}
}

func testCancelledContext(t *testing.T, st onetime.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, m := newPair("owner", t0)
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", what, err)
		}
	}
	check("Create", st.Create(ctx, s, m))
	if _, err := st.Receipt(context.Background(), m.ID, t0); !errors.Is(err, onetime.ErrNotFound) {
		t.Errorf("Create with a cancelled context wrote the pair (%v)", err)
	}
	s, m = create(t, st, "owner", t0)
	_, err := st.Reveal(ctx, s.ID, nil, t0)
	check("Reveal", err)
	_, err = st.Receipt(ctx, m.ID, t0)
	check("Receipt", err)
	check("MarkViewed", viewErr(ctx, st, m.ID, t0))
	_, err = st.Burn(ctx, m.ID, t0)
	check("Burn", err)
	_, err = st.Recent(ctx, "owner", t0, 10)
	check("Recent", err)
	_, err = st.Sweep(ctx, t0)
	check("Sweep", err)
	// Nothing happened to the pair.
	if got := receipt(t, st, m.ID, t0); got.State != onetime.StateNew || !got.SecretPresent {
		t.Errorf("a cancelled call changed the pair: state %v", got.State)
	}
}

func testErrorTexts(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := newPair("owner", t0)
	withPassphrase(s, m)
	mustCreate(t, st, s, m)
	unknown := onetime.ID(randomHex(40))
	var errs []error
	_, err := st.Reveal(ctx, s.ID, []byte("wrong"), t0)
	errs = append(errs, err, st.Create(ctx, s, m))
	_, err = st.Reveal(ctx, unknown, nil, t0)
	errs = append(errs, err, viewErr(ctx, st, unknown, t0))
	_, err = st.Receipt(ctx, unknown, t0)
	errs = append(errs, err)
	_, err = st.Burn(ctx, unknown, t0)
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		text := err.Error()
		for _, id := range []onetime.ID{s.ID, m.ID, unknown} {
			if strings.Contains(text, string(id)) || strings.Contains(text, string(id[onetime.SlotLen:])) {
				t.Errorf("error %q contains an id", text)
			}
		}
		if strings.Contains(text, string(s.Check)) || strings.Contains(text, hex.EncodeToString(s.Check)) {
			t.Errorf("error %q contains the check", text)
		}
	}
}

func testSweep(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	var old, live []*onetime.SealedMetadata
	var oldSecrets []*onetime.SealedSecret
	for range 20 {
		s, m := create(t, st, "owner", t0)
		old, oldSecrets = append(old, m), append(oldSecrets, s)
		_, m = create(t, st, "owner", t0.Add(24*time.Hour))
		live = append(live, m)
	}
	// Between the old secrets' expiry and their receipts': the receipts stay.
	mid := oldSecrets[0].ExpiresAt.Add(time.Minute)
	if _, err := st.Sweep(ctx, mid); err != nil {
		t.Fatal(err)
	}
	for _, m := range old {
		if got := receipt(t, st, m.ID, mid); got.SecretPresent {
			t.Fatal("an expired secret is present after Sweep")
		}
	}
	end := old[0].ExpiresAt.Add(time.Minute)
	if _, err := st.Sweep(ctx, end); err != nil {
		t.Fatal(err)
	}
	for _, m := range old {
		if _, err := st.Receipt(ctx, m.ID, end); !errors.Is(err, onetime.ErrNotFound) {
			t.Fatalf("expired receipt after Sweep: %v", err)
		}
	}
	for _, m := range live {
		if got := receipt(t, st, m.ID, end); !got.SecretPresent || got.State != onetime.StateNew {
			t.Fatalf("Sweep damaged a live pair")
		}
	}
	list, err := st.Recent(ctx, "owner", end, 100)
	if err != nil || len(list) != len(live) {
		t.Fatalf("Recent after Sweep = %d, %v; want the %d live receipts", len(list), err, len(live))
	}
	// At the boundary: Sweep(now) may remove what expires at now, and must
	// keep what expires 1µs later.
	s1, m1 := newPair("", end)
	withTTL(s1, m1, time.Minute)
	mustCreate(t, st, s1, m1)
	s2, m2 := newPair("", end.Add(us))
	withTTL(s2, m2, time.Minute)
	mustCreate(t, st, s2, m2)
	if _, err := st.Sweep(ctx, s1.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if got := receipt(t, st, m2.ID, s1.ExpiresAt); !got.SecretPresent {
		t.Fatal("Sweep removed a secret 1µs before its expiry")
	}
	if _, err := st.Reveal(ctx, s2.ID, nil, s1.ExpiresAt); err != nil {
		t.Fatalf("Reveal after Sweep of a secret 1µs before its expiry: %v", err)
	}
	if _, err := st.Sweep(ctx, m1.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Receipt(ctx, m2.ID, m1.ExpiresAt); err != nil {
		t.Fatalf("Sweep removed a receipt 1µs before its expiry: %v", err)
	}
}

// testService drives the real Service over the store, end to end.
func testService(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	now := t0
	svc, err := onetime.New(st, bytes.Repeat([]byte("k"), 32), &onetime.Options{
		Now:           func() time.Time { return now },
		SweepInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	value := []byte("line one\nzwei ✓\n\n")
	r, err := svc.Share(ctx, onetime.ShareRequest{Owner: "dana", Value: value, TTL: time.Hour, Passphrase: "open sesame"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Reveal(ctx, r.SecretKey, "wrong"); !errors.Is(err, onetime.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	rc, err := svc.Receipt(ctx, r.MetadataKey)
	if err != nil || rc.State != onetime.StateViewed || rc.SecretKey != r.SecretKey {
		t.Fatalf("Receipt = %+v, %v", rc, err)
	}
	got, err := svc.Reveal(ctx, r.SecretKey, "open sesame")
	if err != nil || !bytes.Equal(got.Value, value) {
		t.Fatalf("Reveal = %v; value round-trip exact: %v", err, err == nil && bytes.Equal(got.Value, value))
	}
	if _, err := svc.Reveal(ctx, r.SecretKey, "open sesame"); !errors.Is(err, onetime.ErrNotFound) {
		t.Fatalf("second Reveal: %v", err)
	}
	g, err := svc.Generate(ctx, onetime.GenerateRequest{Owner: "dana"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.Burn(ctx, g.MetadataKey)
	if err != nil || b.State != onetime.StateBurned {
		t.Fatalf("Burn = %v, %v", b, err)
	}
	now = now.Add(30 * time.Minute)
	list, err := svc.Recent(ctx, "dana")
	if err != nil || len(list) != 2 || list[0].MetadataKey != g.MetadataKey || list[1].State != onetime.StateReceived {
		t.Fatalf("Recent = %d receipts, %v", len(list), err)
	}
	now = now.Add(time.Hour) // the generated secret's TTL (default 7 days) is not over
	e, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("x"), TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if rc, err := svc.Receipt(ctx, e.MetadataKey); err != nil || rc.State != onetime.StateExpired {
		t.Fatalf("receipt of an expired secret: %+v, %v", rc, err)
	}
}

// viewErr calls View for its effect and returns only its error.
func viewErr(ctx context.Context, st onetime.Store, id onetime.ID, now time.Time) error {
	_, err := st.View(ctx, id, now)
	return err
}
