package onetime_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/store/memory"
	"github.com/onetimego/onetime/zk"
)

// zkShare seals value under a fresh key (and passphrase) as a sender's
// client does, shares it, and returns the receipt and what the reader's
// link carries.
func zkShare(t *testing.T, svc *onetime.Service, value, passphrase string) (*onetime.Metadata, zk.Key, *zk.Derived) {
	t.Helper()
	k, err := zk.NewKey()
	require.NoError(t, err)
	d, err := zk.Derive(k, passphrase)
	require.NoError(t, err)
	sealed, err := d.Seal([]byte(value))
	require.NoError(t, err)
	v := d.Verifier()
	m, err := svc.Share(context.Background(), onetime.ShareRequest{Value: []byte(sealed), Verifier: &v})
	require.NoError(t, err)
	return m, k, d
}

func zkProof(t *testing.T, k zk.Key, passphrase string) (zk.Proof, *zk.Derived) {
	t.Helper()
	d, err := zk.Derive(k, passphrase)
	require.NoError(t, err)
	return d.Proof(), d
}

func TestZeroKnowledgeRoundTrip(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	m, k, _ := zkShare(t, svc, "the plaintext", "")
	assert.False(t, m.PassphraseRequired)

	st, err := svc.Status(ctx, m.SecretKey)
	require.NoError(t, err)
	assert.True(t, st.ZeroKnowledge)
	assert.False(t, st.PassphraseRequired)

	r, err := svc.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.True(t, r.ZeroKnowledge, "the receipt knows its link needs the fragment")

	proof, d := zkProof(t, k, "")
	sec, err := svc.RevealProof(ctx, m.SecretKey, proof)
	require.NoError(t, err)
	plain, err := d.Open(string(sec.Value))
	require.NoError(t, err)
	assert.Equal(t, "the plaintext", string(plain))

	_, err = svc.RevealProof(ctx, m.SecretKey, proof)
	require.ErrorIs(t, err, onetime.ErrNotFound, "exactly once")
	r, err = svc.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateReceived, r.State)
}

// A link without its fragment (a scanner, a chat unfurler) consumes
// nothing, however often it is tried, and spends no attempt.
func TestZeroKnowledgeWithoutKeyConsumesNothing(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, &onetime.Options{MaxAttempts: 2})
	m, _, d := zkShare(t, svc, "v", "pw")
	other, err := zk.NewKey()
	require.NoError(t, err)
	wrongKey, _ := zkProof(t, other, "")
	wrongKey.Passphrase = d.Proof().Passphrase // the right passphrase, without the key

	for range 10 {
		_, err := svc.Reveal(ctx, m.SecretKey, "") // a plain v1 reveal
		require.ErrorIs(t, err, onetime.ErrNotFound)
		_, err = svc.Reveal(ctx, m.SecretKey, "pw") // the passphrase in clear
		require.ErrorIs(t, err, onetime.ErrNotFound)
		_, err = svc.RevealProof(ctx, m.SecretKey, wrongKey)
		require.ErrorIs(t, err, onetime.ErrNotFound)
		_, err = svc.RevealProof(ctx, m.SecretKey, zk.Proof{Key: []byte("short")})
		require.ErrorIs(t, err, onetime.ErrNotFound)
	}
	st, err := svc.Status(ctx, m.SecretKey)
	require.NoError(t, err)
	assert.Equal(t, 2, st.AttemptsLeft, "no attempt spent without the key")

	sec, err := svc.RevealProof(ctx, m.SecretKey, d.Proof())
	require.NoError(t, err)
	plain, err := d.Open(string(sec.Value))
	require.NoError(t, err)
	assert.Equal(t, "v", string(plain))
}

// With the key but a wrong passphrase, the attempt counts, and the budget
// burns the secret.
func TestZeroKnowledgeWrongPassphraseCounted(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, &onetime.Options{MaxAttempts: 3})
	m, k, d := zkShare(t, svc, "v", "right")
	assert.True(t, m.PassphraseRequired)
	wrong, _ := zkProof(t, k, "wrong")
	noPass, _ := zkProof(t, k, "")

	_, err := svc.RevealProof(ctx, m.SecretKey, wrong)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	_, err = svc.RevealProof(ctx, m.SecretKey, noPass)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	st, err := svc.Status(ctx, m.SecretKey)
	require.NoError(t, err)
	assert.Equal(t, 1, st.AttemptsLeft)

	_, err = svc.RevealProof(ctx, m.SecretKey, wrong)
	require.ErrorIs(t, err, onetime.ErrWrongPassphrase)
	_, err = svc.RevealProof(ctx, m.SecretKey, d.Proof())
	require.ErrorIs(t, err, onetime.ErrNotFound, "burned at the budget")
	r, err := svc.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.Equal(t, onetime.StateBurned, r.State)
}

// Many readers race: some without the key, some with a wrong passphrase,
// several with the right proof. Exactly one gets the value.
func TestZeroKnowledgeRace(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, &onetime.Options{MaxAttempts: 1000})
	m, k, d := zkShare(t, svc, "v", "pw")
	right := d.Proof()
	wrong, _ := zkProof(t, k, "") // the key without the passphrase
	other, err := zk.NewKey()
	require.NoError(t, err)
	stranger, _ := zkProof(t, other, "")
	stranger.Passphrase = right.Passphrase

	var wins, wrongs atomic.Int32
	var wg sync.WaitGroup
	for i := range 48 {
		wg.Go(func() {
			p := [...]zk.Proof{right, wrong, stranger}[i%3]
			_, err := svc.RevealProof(ctx, m.SecretKey, p)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, onetime.ErrWrongPassphrase):
				wrongs.Add(1)
			default:
				assert.ErrorIs(t, err, onetime.ErrNotFound)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
	assert.LessOrEqual(t, wrongs.Load(), int32(16))
}

func TestZeroKnowledgeShareRules(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	k, err := zk.NewKey()
	require.NoError(t, err)
	d, err := zk.Derive(k, "")
	require.NoError(t, err)
	sealed, err := d.Seal([]byte("x"))
	require.NoError(t, err)
	v := d.Verifier()

	cases := map[string]struct {
		req   onetime.ShareRequest
		field string
	}{
		"plaintext value":   {onetime.ShareRequest{Value: []byte("plain"), Verifier: &v}, "secret"},
		"passphrase beside": {onetime.ShareRequest{Value: []byte(sealed), Verifier: &v, Passphrase: "pw"}, "passphrase"},
		"short verifier":    {onetime.ShareRequest{Value: []byte(sealed), Verifier: &zk.Verifier{Key: []byte("x")}}, "proof"},
		"recipients":        {onetime.ShareRequest{Owner: "c", Value: []byte(sealed), Verifier: &v, Recipients: []string{"a@example.com"}}, "recipient"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := svc.Share(ctx, c.req)
			require.ErrorIs(t, err, onetime.ErrInvalid)
			var ie *onetime.InputError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, c.field, ie.Field)
			assert.NotContains(t, err.Error(), "pw")
		})
	}
	_, err = svc.Generate(ctx, onetime.GenerateRequest{ShareRequest: onetime.ShareRequest{Verifier: &v}})
	require.ErrorIs(t, err, onetime.ErrInvalid)
}

// A plain secret is untouched by the mode: Reveal as ever, and RevealProof
// opens one without a passphrase as it was shared.
func TestZeroKnowledgePlainSecretUnaffected(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t, nil, nil)
	m, err := svc.Share(ctx, onetime.ShareRequest{Value: []byte("plain")})
	require.NoError(t, err)
	r, err := svc.Receipt(ctx, m.MetadataKey)
	require.NoError(t, err)
	assert.False(t, r.ZeroKnowledge)
	k, err := zk.NewKey()
	require.NoError(t, err)
	p, _ := zkProof(t, k, "")
	sec, err := svc.RevealProof(ctx, m.SecretKey, p)
	require.NoError(t, err)
	assert.Equal(t, "plain", string(sec.Value))
}

// A retry with the same idempotency key gets the first answer; the key
// proof is part of what names the answer.
func TestZeroKnowledgeIdempotentReveal(t *testing.T) {
	svc, _ := newService(t, nil, nil)
	m, _, d := zkShare(t, svc, "v", "")
	p := d.Proof()
	ctx := onetime.WithIdempotencyKey(context.Background(), "retry-1")
	first, err := svc.RevealProof(ctx, m.SecretKey, p)
	require.NoError(t, err)
	again, err := svc.RevealProof(ctx, m.SecretKey, p)
	require.NoError(t, err)
	assert.Equal(t, first.Value, again.Value)

	other, err := zk.NewKey()
	require.NoError(t, err)
	q, _ := zkProof(t, other, "")
	_, err = svc.RevealProof(ctx, m.SecretKey, q)
	require.ErrorIs(t, err, onetime.ErrNotFound, "the same idempotency key with another proof is another call")
}

// What the store keeps of a zero-knowledge secret holds no byte of the
// plaintext, the key, the proofs or the verifiers.
func TestZeroKnowledgeStoreSeesNoKey(t *testing.T) {
	rec := &capturing{Store: memory.New()}
	svc, _ := newService(t, rec, nil)
	k, err := zk.NewKey()
	require.NoError(t, err)
	d, err := zk.Derive(k, "pw")
	require.NoError(t, err)
	sealed, err := d.Seal([]byte("PLAINTEXT-MARK"))
	require.NoError(t, err)
	v := d.Verifier()
	_, err = svc.Share(context.Background(), onetime.ShareRequest{Value: []byte(sealed), Verifier: &v})
	require.NoError(t, err)
	require.NotNil(t, rec.secret)
	p := d.Proof()
	stored := bytes.Join([][]byte{rec.secret.Sealed, rec.secret.Check, rec.secret.Proof, rec.receipt.Sealed}, nil)
	for _, b := range [][]byte{[]byte("PLAINTEXT-MARK"), []byte(sealed), k[:], []byte(k.Fragment()), p.Key, p.Passphrase, v.Key, v.Passphrase} {
		assert.False(t, bytes.Contains(stored, b), "the store holds %q", b)
	}
	assert.Len(t, rec.secret.Proof, 32)
	assert.Len(t, rec.secret.Check, 32)
}

type capturing struct {
	onetime.Store
	secret  *onetime.SealedSecret
	receipt *onetime.SealedMetadata
}

func (c *capturing) Create(ctx context.Context, s *onetime.SealedSecret, m *onetime.SealedMetadata) error {
	c.secret, c.receipt = s, m
	return c.Store.Create(ctx, s, m)
}
