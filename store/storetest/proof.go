package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/zk"
)

// The proof subtests check the zero-knowledge part of the contract
// ([onetime.SealedSecret].Proof, [onetime.Credentials].Proof): a reveal
// that does not present a secret's proof is answered as if the secret
// did not exist and changes nothing at all: no attempt counted, no
// receipt stamped, no outcome recorded under its replay id. A link
// scanner that has the link without its fragment must not be able to
// consume the secret, nor spend its passphrase attempts. Past the proof,
// the passphrase check works as in the server-side mode.
//
// Each racing subtest gives the secret a budget that a single counted
// wrong-proof attempt would spend, so a store that counts before it
// compares the proof fails loudly rather than by a count that is off by
// one.

// proofLen is the length of the Proof the Service stores: a keyed
// SHA-256 hash.
const proofLen = 32

// WithProof gives s a random proof verifier of the length the Service
// stores, as for a secret shared in the zero-knowledge mode, and returns
// a copy of it: what a reveal must present as [onetime.Credentials].Proof.
// Call it on a pair from [NewPair] before Create.
func WithProof(s *onetime.SealedSecret) []byte {
	s.Proof = randomBytes(proofLen)
	return bytes.Clone(s.Proof)
}

// flipped returns a copy of b with its last byte changed.
func flipped(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-1] ^= 0x01
	return c
}

// wrongProofs lists credentials that do not open a secret whose proof is
// proof and whose check is check (check may be empty): no proof, another
// proof, a prefix, an extension, a proof one bit off, an empty non-nil
// proof, and proof and check swapped. Each carries the right check, so a
// store that compares only the check lets it through; then the same with
// a wrong check, which a store that counts before comparing the proof
// would count.
func wrongProofs(proof, check []byte) map[string]onetime.Credentials {
	out := map[string]onetime.Credentials{}
	for _, c := range []struct {
		what  string
		check []byte
	}{{"the right check", check}, {"a wrong check", []byte("wrong")}} {
		for what, p := range map[string][]byte{
			"no proof":              nil,
			"an empty proof":        {},
			"another proof":         randomBytes(proofLen),
			"a prefix of the proof": proof[:len(proof)-1],
			"the proof and a byte":  append(bytes.Clone(proof), 0),
			"the proof 1 bit off":   flipped(proof),
		} {
			out[what+" and "+c.what] = onetime.Credentials{Proof: p, Check: c.check}
		}
	}
	if len(check) > 0 {
		out["proof and check swapped"] = onetime.Credentials{Proof: check, Check: proof}
	}
	return out
}

// testProofRoundTrip: Proof is stored as given and returned byte for
// byte with Check by Reveal; Peek reports ProofRequired exactly when a
// secret has one.
func testProofRoundTrip(t *testing.T, st onetime.Store) {
	ctx := context.Background()

	// Proof and passphrase; a proof with zero bytes in it, as a blob
	// must keep them.
	s, m := NewPair("owner", t0, secretTTL)
	check := withPassphrase(s, m)
	s.Proof = make([]byte, proofLen)
	for i := range s.Proof {
		s.Proof[i] = byte(i * 37 % 7) // 0, 2, 4, 6, 1, 3, 5, 0, ...
	}
	proof := bytes.Clone(s.Proof)
	s.Attempts = 2
	want := cloneSecret(s)
	mustCreate(t, st, s, m)
	info := peek(t, st, s.ID, t0)
	assert.True(t, info.ProofRequired, "Peek: ProofRequired of a secret with a proof")
	assert.True(t, info.PassphraseRequired, "Peek: PassphraseRequired")
	assert.Equal(t, 2, info.Attempts, "Peek: Attempts")
	assert.Equal(t, s.MaxAttempts, info.MaxAttempts, "Peek: MaxAttempts")
	sameTime(t, "Peek ExpiresAt", info.ExpiresAt, s.ExpiresAt)
	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: check}, t0.Add(us), nil)
	require.NoError(t, err, "Reveal with the right proof and check")
	equalSecret(t, sec, want)
	assert.Equal(t, proof, sec.Proof, "Reveal's Proof")
	assert.Equal(t, check, sec.Check, "Reveal's Check")

	// Proof alone: no passphrase is required, and a check given is
	// ignored as for any secret without one.
	s, m = NewPair("", t0, secretTTL)
	proof = WithProof(s)
	want = cloneSecret(s)
	mustCreate(t, st, s, m)
	info = peek(t, st, s.ID, t0)
	assert.True(t, info.ProofRequired, "Peek: ProofRequired of a secret with a proof and no passphrase")
	assert.False(t, info.PassphraseRequired, "Peek: PassphraseRequired of a secret without a check")
	sec, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: []byte("ignored")}, t0, nil)
	require.NoError(t, err, "Reveal with the right proof")
	equalSecret(t, sec, want)
	assert.Equal(t, proof, sec.Proof, "Reveal's Proof")
	assert.Empty(t, sec.Check, "Check appeared on a secret stored without one")

	// Neither: ProofRequired is false, and no proof comes back.
	s, _ = create(t, st, "", t0)
	info = peek(t, st, s.ID, t0)
	assert.False(t, info.ProofRequired, "Peek: ProofRequired of a secret without a proof")
	sec, err = st.Reveal(ctx, s.ID, onetime.Credentials{}, t0, nil)
	require.NoError(t, err)
	assert.Empty(t, sec.Proof, "Proof appeared on a secret stored without one")
}

// testProofRefused: a reveal without the right proof answers ErrNotFound
// and changes nothing: the secret stays revealable, its attempts and its
// receipt are as they were, and its replay id recorded nothing, so a
// later reveal with the right proof under the same replay id reveals.
func testProofRefused(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	for _, withCheck := range []bool{true, false} {
		s, m := NewPair("owner", t0, secretTTL)
		var check []byte
		if withCheck {
			check = withPassphrase(s, m)
		}
		proof := WithProof(s)
		s.Attempts, s.MaxAttempts = 1, 2 // one counted attempt would burn it
		want := cloneSecret(s)
		mustCreate(t, st, s, m)
		secrets := append(secretsOf(s, m), proof)

		at := t0.Add(time.Minute)
		a := newReplay(s.ID, at)
		for what, c := range wrongProofs(proof, check) {
			for _, rp := range []*onetime.Replay{nil, a} {
				sec, err := st.Reveal(ctx, s.ID, c, at, rp)
				if assert.ErrorIsf(t, err, onetime.ErrNotFound, "Reveal with %s (passphrase %v, replay %v)", what, withCheck, rp != nil) {
					checkErrorText(t, err, secrets...)
				}
				assert.Nilf(t, sec, "Reveal with %s returned a secret", what)
			}
		}
		info := peek(t, st, s.ID, at)
		assert.Equal(t, 1, info.Attempts, "a reveal without the right proof counted an attempt")
		assert.True(t, info.ProofRequired, "ProofRequired after refused reveals")
		got := receipt(t, st, m.ID, at)
		equalMetadata(t, got, m)
		assert.True(t, got.SecretPresent, "SecretPresent after refused reveals")

		// The replay id of the refused calls is free: the right proof
		// reveals under it, and its repeat gets the secret.
		sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: check}, at.Add(time.Second), a)
		require.NoErrorf(t, err, "the right proof under the replay id of refused reveals (passphrase %v)", withCheck)
		equalSecret(t, sec, want)
		again, err := st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: check}, at.Add(2*time.Second), a)
		require.NoError(t, err, "a repeat of the reveal")
		equalSecret(t, again, want)
		received := *m
		received.State, received.Received, received.Updated = onetime.StateReceived, at.Add(time.Second), at.Add(time.Second)
		equalMetadata(t, receipt(t, st, m.ID, at.Add(2*time.Second)), &received)
	}
}

// testProofPassphrase: with the right proof, a missing or wrong check is
// a wrong passphrase as in the server-side mode: counted, recorded under
// a replay id, and the attempt that reaches MaxAttempts burns the secret.
// Reveals without the proof meanwhile count nothing.
func testProofPassphrase(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	proof := WithProof(s)
	s.MaxAttempts = 3
	mustCreate(t, st, s, m)
	at := t0.Add(time.Minute)

	b := newReplay(s.ID, at)
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof}, at, b)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "the right proof without a check")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: check}, at, b)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "a repeat of a recorded wrong attempt")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Check: []byte("wrong")}, at, nil)
	require.ErrorIs(t, err, onetime.ErrNotFound, "a wrong check without the proof")
	assert.Equal(t, 1, peek(t, st, s.ID, at).Attempts, "Attempts after one wrong passphrase")

	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: []byte("wrong")}, at, nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "the right proof with a wrong check")
	assert.Equal(t, 2, peek(t, st, s.ID, at).Attempts, "Attempts after two wrong passphrases")
	equalMetadata(t, receipt(t, st, m.ID, at), m) // wrong attempts leave the receipt alone

	// The last attempt burns the secret; the right credentials then find
	// it gone.
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: flipped(check)}, at, nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "the last wrong attempt")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: check}, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "the right proof and check after the last attempt")
	_, err = st.Peek(ctx, s.ID, at)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "Peek after the last attempt")
	burned := *m
	burned.State, burned.Burned, burned.Updated = onetime.StateBurned, at, at
	got := receipt(t, st, m.ID, at)
	equalMetadata(t, got, &burned)
	assert.False(t, got.SecretPresent, "SecretPresent after the last attempt")
}

// testProofRevealOnce: the right proof and check reveal the secret
// exactly once; the receipt says received. Burn, which the creator calls
// with the receipt's id and no proof, burns a secret that has one, and
// expiry holds as for any secret.
func testProofRevealOnce(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	proof := WithProof(s)
	want := cloneSecret(s)
	mustCreate(t, st, s, m)
	at := t0.Add(5 * time.Minute)
	c := onetime.Credentials{Proof: proof, Check: check}
	sec, err := st.Reveal(ctx, s.ID, c, at, nil)
	require.NoError(t, err, "first Reveal")
	equalSecret(t, sec, want)
	_, err = st.Reveal(ctx, s.ID, c, at, nil)
	require.ErrorIs(t, err, onetime.ErrNotFound, "second Reveal")
	_, err = st.Reveal(ctx, s.ID, c, at, newReplay(s.ID, at))
	require.ErrorIs(t, err, onetime.ErrNotFound, "second Reveal with a replay")
	received := *m
	received.State, received.Received, received.Updated = onetime.StateReceived, at, at
	got := receipt(t, st, m.ID, at)
	equalMetadata(t, got, &received)
	assert.False(t, got.SecretPresent, "SecretPresent after Reveal")

	s, m = NewPair("", t0, secretTTL)
	proof = WithProof(s)
	mustCreate(t, st, s, m)
	_, err = st.Burn(ctx, m.ID, at, nil)
	require.NoError(t, err, "Burn of a secret with a proof")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof}, at, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "the right proof after Burn")

	s, m = NewPair("", t0, secretTTL)
	proof = WithProof(s)
	mustCreate(t, st, s, m)
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof}, s.ExpiresAt, nil)
	assert.ErrorIs(t, err, onetime.ErrNotFound, "the right proof at expiry")
	equalMetadata(t, receipt(t, st, m.ID, s.ExpiresAt), m)
}

// testProofRace races reveals of one secret: most racers present no
// proof or a wrong one (some with the right check), a few the right proof
// and check. Exactly one of the few wins; everyone else finds nothing.
// The secret has one attempt left, so a single wrong-proof racer counted
// as a wrong passphrase would burn it and leave no winner.
func testProofRace(t *testing.T, st onetime.Store) {
	const racers = 64
	at := t0.Add(time.Second)
	for round := range rounds(t) {
		s, m := NewPair("", t0, secretTTL)
		check := withPassphrase(s, m)
		proof := WithProof(s)
		s.Attempts, s.MaxAttempts = 1, 2
		want := cloneSecret(s)
		mustCreate(t, st, s, m)
		wrong := []onetime.Credentials{
			{},
			{Check: check},
			{Proof: randomBytes(proofLen), Check: check},
			{Proof: flipped(proof), Check: []byte("wrong")},
		}
		var mu sync.Mutex
		var winners, rightMissed, wrongMissed int
		race(racers, func(i int) {
			right := i%8 == 0
			c := onetime.Credentials{Proof: proof, Check: check}
			if !right {
				c = wrong[i%len(wrong)]
			}
			sec, err := st.Reveal(context.Background(), s.ID, c, at, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && right:
				equalSecret(t, sec, want)
				winners++
			case err == nil:
				assert.Failf(t, "Reveal", "racer %d without the right proof got the secret", i)
			case errors.Is(err, onetime.ErrNotFound) && right:
				rightMissed++
			case errors.Is(err, onetime.ErrNotFound):
				wrongMissed++
			default:
				assert.Failf(t, "Reveal", "racer %d (right proof %v): err %v", i, right, err)
			}
		})
		require.Equalf(t, 1, winners, "round %d: winners among the %d racers with the right proof", round, racers/8)
		require.Equalf(t, racers/8-1, rightMissed, "round %d: racers with the right proof that found it gone", round)
		require.Equalf(t, racers-racers/8, wrongMissed, "round %d: racers without the right proof answered not found", round)
		got := receipt(t, st, m.ID, at)
		require.Equalf(t, onetime.StateReceived, got.State, "round %d: state after the race", round)
		sameTime(t, "Received after the race", got.Received, at)
	}
}

// testProofCountedRace races wrong passphrases with the right proof
// against reveals without it: every one of the former is counted, none
// of the latter.
func testProofCountedRace(t *testing.T, st onetime.Store) {
	const racers = 64
	ctx := context.Background()
	for round := range rounds(t) {
		s, m := NewPair("", t0, secretTTL)
		check := withPassphrase(s, m)
		proof := WithProof(s)
		s.MaxAttempts = 1000
		mustCreate(t, st, s, m)
		race(racers, func(i int) {
			c := onetime.Credentials{Proof: proof, Check: []byte("wrong")}
			want := onetime.ErrWrongPassphrase
			if i%4 != 0 {
				c.Proof, want = randomBytes(proofLen), onetime.ErrNotFound
			}
			_, err := st.Reveal(ctx, s.ID, c, t0, nil)
			assert.ErrorIsf(t, err, want, "racer %d", i)
		})
		require.Equalf(t, racers/4, peek(t, st, s.ID, t0).Attempts, "round %d: attempts counted", round)
		sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: check}, t0, nil)
		require.NoError(t, err)
		require.Equal(t, racers/4, sec.Attempts, "Attempts")
	}
}

// testProofNotRequired: a secret without a proof (the server-side mode)
// ignores any proof presented; its passphrase works as ever.
func testProofNotRequired(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, _ := create(t, st, "", t0)
	sec, err := st.Reveal(ctx, s.ID, onetime.Credentials{Proof: randomBytes(proofLen)}, t0, nil)
	require.NoError(t, err, "a proof presented to a secret without one")
	equalSecret(t, sec, s)

	s, m := NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	mustCreate(t, st, s, m)
	assert.False(t, peek(t, st, s.ID, t0).ProofRequired, "ProofRequired of a secret without a proof")
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: randomBytes(proofLen), Check: []byte("wrong")}, t0, nil)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "a proof and a wrong check")
	assert.Equal(t, 1, peek(t, st, s.ID, t0).Attempts, "Attempts")
	sec, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: randomBytes(proofLen), Check: check}, t0, nil)
	require.NoError(t, err, "a proof and the right check")
	assert.Equal(t, 1, sec.Attempts, "Attempts")
	assert.Empty(t, sec.Proof, "Proof appeared on a secret stored without one")
}

// testProofReplay: a recorded reveal is returned to a repeat with its
// Proof as stored, whatever credentials the repeat presents (the contract
// of replays: the replay id is the caller's capability, and the Service
// checks the answer once more). The store keeps its own copy of Proof: a
// caller who changes the bytes it gave Create, or the ones it got back,
// changes nothing stored.
func testProofReplay(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	s, m := NewPair("", t0, secretTTL)
	check := withPassphrase(s, m)
	proof := WithProof(s)
	want := cloneSecret(s)
	mustCreate(t, st, s, m)
	s.Proof[0] ^= 0xff // the caller's memory, not the store's
	_, err := st.Reveal(ctx, s.ID, onetime.Credentials{Proof: s.Proof, Check: check}, t0, nil)
	require.ErrorIs(t, err, onetime.ErrNotFound, "Create kept the caller's Proof memory")

	a := newReplay(s.ID, t0)
	first, err := st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: check}, t0, a)
	require.NoError(t, err)
	equalSecret(t, first, want)
	for what, c := range map[string]onetime.Credentials{
		"the same credentials": {Proof: proof, Check: check},
		"no credentials":       {},
	} {
		first.Proof[0] ^= 0xff // the answer is the caller's
		got, err := st.Reveal(ctx, s.ID, c, t0.Add(time.Second), a)
		require.NoErrorf(t, err, "a repeat with %s", what)
		equalSecret(t, got, want)
		first = got
	}
	_, err = st.Reveal(ctx, s.ID, onetime.Credentials{Proof: proof, Check: check}, t0.Add(time.Second), newReplay(s.ID, t0))
	assert.ErrorIs(t, err, onetime.ErrNotFound, "another replay id after the reveal")
	assert.Equal(t, onetime.StateReceived, receipt(t, st, m.ID, t0.Add(time.Second)).State)
}

// testServiceZeroKnowledge drives the real Service's zero-knowledge mode
// over the store: a share with a verifier, refused reveals that change
// nothing, a counted wrong passphrase proof, and the reveal. The proofs
// are random bytes of the right form rather than ones derived from a key
// and passphrase (package zk's PBKDF2 is the reader's cost, not the
// store's): the Service sees only their hashes either way.
func testServiceZeroKnowledge(t *testing.T, st onetime.Store) {
	ctx := context.Background()
	now := t0
	svc, err := onetime.New(st, bytes.Repeat([]byte("k"), 32), &onetime.Options{
		Now: func() time.Time { return now },
	})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, svc.Close()) })

	k, err := zk.NewKey()
	require.NoError(t, err)
	d, err := zk.Derive(k, "")
	require.NoError(t, err)
	sealed, err := d.Seal([]byte("zero knowledge ✓"))
	require.NoError(t, err)
	proof := zk.Proof{Key: make([]byte, zk.KeySize), Passphrase: make([]byte, zk.KeySize)}
	rand.Read(proof.Key)
	rand.Read(proof.Passphrase)
	v := proof.Verifier()
	r, err := svc.Share(ctx, onetime.ShareRequest{Owner: "dana", Value: []byte(sealed), Verifier: &v})
	require.NoError(t, err, "a zero-knowledge share")
	assert.True(t, r.PassphraseRequired, "Share's receipt: PassphraseRequired")

	status, err := svc.Status(ctx, r.SecretKey)
	require.NoError(t, err)
	assert.True(t, status.ZeroKnowledge, "Status: ZeroKnowledge")
	assert.True(t, status.PassphraseRequired, "Status: PassphraseRequired")
	left := status.AttemptsLeft

	other := zk.Proof{Key: randomBytes(zk.KeySize), Passphrase: proof.Passphrase}
	for range 3 {
		_, err = svc.RevealProof(ctx, r.SecretKey, other)
		require.ErrorIs(t, err, onetime.ErrNotFound, "a proof of another key")
		_, err = svc.Reveal(ctx, r.SecretKey, "")
		require.ErrorIs(t, err, onetime.ErrNotFound, "a server-side reveal")
	}
	status, err = svc.Status(ctx, r.SecretKey)
	require.NoError(t, err)
	assert.Equal(t, left, status.AttemptsLeft, "refused reveals spent attempts")

	wrongPass := zk.Proof{Key: proof.Key, Passphrase: randomBytes(zk.KeySize)}
	_, err = svc.RevealProof(ctx, r.SecretKey, wrongPass)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase, "the key proof with a wrong passphrase proof")
	status, err = svc.Status(ctx, r.SecretKey)
	require.NoError(t, err)
	assert.Equal(t, left-1, status.AttemptsLeft, "a wrong passphrase proof is counted")

	got, err := svc.RevealProof(ctx, r.SecretKey, proof)
	require.NoError(t, err, "RevealProof")
	plain, err := d.Open(string(got.Value))
	require.NoError(t, err, "the value comes back as the sender sealed it")
	assert.Equal(t, "zero knowledge ✓", string(plain))
	_, err = svc.RevealProof(ctx, r.SecretKey, proof)
	require.ErrorIs(t, err, onetime.ErrNotFound, "exactly once")
	rc, err := svc.Receipt(ctx, r.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateReceived, rc.State, "Receipt after RevealProof")
}
