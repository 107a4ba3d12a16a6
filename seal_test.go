package onetime

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testSealer(t *testing.T, secret byte) *sealer {
	t.Helper()
	s, err := newSealer(bytes.Repeat([]byte{secret}, 32), 2)
	require.NoError(t, err)
	return s
}

func TestIDs(t *testing.T) {
	s := testSealer(t, 1)
	sk, mk := newKeyPair(randomSource)
	sid, mid := s.pairIDs(sk, mk)
	require.Equal(t, s.secretID(sk), sid, "ids are not a function of the key")
	require.Equal(t, s.metadataID(mk), mid, "ids are not a function of the key")
	require.True(t, sid.Valid(), "bad id %q", sid)
	require.True(t, mid.Valid(), "bad id %q", mid)
	require.NotEqual(t, sid, mid)
	require.Equal(t, sid.Slot(), mid.Slot(), "a pair's ids must share their slot")
	require.NotEqual(t, mid, s.secretID(mk), "ids are not separated by kind")
	require.NotEqual(t, sid, testSealer(t, 2).secretID(sk), "ids do not depend on the server secret")

	// The prf is HMAC-SHA256: check it against a known answer (RFC 4231
	// test case 2 uses a short key, "Jefe").
	var p prf
	p.init([]byte("Jefe"))
	got := p.sum("what do ya want ", "for nothing?")
	assert.Equal(t, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", hex.EncodeToString(got[:]))
}

// TestPRFPooled: a pooled keyed hash gives HMAC-SHA256 of the parts joined,
// whatever their length (the hand-made one refused past 128 bytes) and
// however many goroutines share it.
func TestPRFPooled(t *testing.T) {
	key := bytes.Repeat([]byte{9}, 32)
	var p prf
	p.init(key)
	want := func(msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				a, b := strings.Repeat("a", i+g), strings.Repeat("b", 2*i)
				got := p.sum(a, b)
				if !assert.Equal(t, want(a+b), got[:], "%d+%d bytes", len(a), len(b)) {
					return
				}
			}
		})
	}
	wg.Wait()
	got := p.sum()
	assert.Equal(t, want(""), got[:], "no parts")
}

func TestSealOpen(t *testing.T) {
	s := testSealer(t, 1)
	sk, _ := newKeyPair(randomSource)
	id := []byte(s.secretID(sk))
	value := []byte("the launch codes\n")
	sealed := seal(s.valueAEAD(sk, nil), value, id)
	require.NotContains(t, string(sealed), string(value), "sealed bytes contain the value")
	got, err := open(s.valueAEAD(sk, nil), sealed, id)
	require.NoError(t, err)
	require.Equal(t, value, got)
	for i := range sealed {
		tampered := bytes.Clone(sealed)
		tampered[i] ^= 1
		_, err := open(s.valueAEAD(sk, nil), tampered, id)
		require.Error(t, err, "tampered byte %d was accepted", i)
	}
	_, err = open(s.valueAEAD(sk, nil), sealed[:10], id)
	require.Error(t, err, "truncated sealed bytes were accepted")
	other, _ := newKeyPair(randomSource)
	_, err = open(s.valueAEAD(other, nil), sealed, id)
	require.Error(t, err, "another secret key opened the value")
	_, err = open(s.valueAEAD(sk, nil), sealed, []byte(s.secretID(other)))
	require.Error(t, err, "sealed bytes moved to another record were accepted")
	_, err = open(testSealer(t, 2).valueAEAD(sk, nil), sealed, id)
	require.Error(t, err, "another server secret opened the value")
}

func TestPassphraseSealing(t *testing.T) {
	s := testSealer(t, 1)
	ctx := context.Background()
	sk, _ := newKeyPair(randomSource)
	pk, err := s.passphraseKey(ctx, "client", sk, "correct horse")
	require.NoError(t, err)
	id := []byte(s.secretID(sk))
	sealed := seal(s.valueAEAD(sk, pk), []byte("v"), id)

	right, err := s.passphraseKey(ctx, "client", sk, "correct horse")
	require.NoError(t, err)
	wrong, err := s.passphraseKey(ctx, "client", sk, "correct horsf")
	require.NoError(t, err)
	require.Equal(t, s.checkFor(pk), s.checkFor(right), "the right passphrase gives another check")
	require.NotEqual(t, s.checkFor(pk), s.checkFor(wrong), "a wrong passphrase gives the same check")
	_, err = open(s.valueAEAD(sk, right), sealed, id)
	require.NoError(t, err, "the right passphrase does not open the value")
	_, err = open(s.valueAEAD(sk, wrong), sealed, id)
	require.Error(t, err, "a wrong passphrase opened the value")
	_, err = open(s.valueAEAD(sk, nil), sealed, id)
	require.Error(t, err, "no passphrase opened the value")
	// The salt comes from the secret key: the same passphrase on another
	// secret gives another key.
	sk2, _ := newKeyPair(randomSource)
	pk2, err := s.passphraseKey(ctx, "client", sk2, "correct horse")
	require.NoError(t, err)
	require.NotEqual(t, pk, pk2, "passphrase keys are not salted per secret")
}

func TestPassphraseKeyHonoursContext(t *testing.T) {
	s, err := newSealer(bytes.Repeat([]byte{1}, 32), 1)
	require.NoError(t, err)
	require.NoError(t, s.kdf.acquire(context.Background(), "holder")) // the only slot is taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.passphraseKey(ctx, "client", "k", "p")
	require.ErrorIs(t, err, context.Canceled, "waiting for a KDF slot ignored the context")
	s.kdf.release()
	// The waiter that gave up left no trace: the slot is free again.
	require.Equal(t, 1, s.kdf.free)
	require.Empty(t, s.kdf.clients)
}

func TestReceiptPayload(t *testing.T) {
	p := receiptPayload{secretKey: "abc", recipients: []string{"de*****@e*****.com", "x*****@y*****.org"}}
	var got receiptPayload
	require.NoError(t, got.unmarshal(p.marshal()))
	require.Equal(t, p, got)
	// A payload without recipients round-trips too.
	var bare receiptPayload
	require.NoError(t, bare.unmarshal(receiptPayload{secretKey: "k"}.marshal()))
	require.Equal(t, receiptPayload{secretKey: "k"}, bare)
	for _, bad := range [][]byte{nil, {5, 'a'}, {0x80}} {
		assert.Error(t, new(receiptPayload).unmarshal(bad), "unmarshal(%v) accepted malformed input", bad)
	}
}

func TestOwnedKeyPair(t *testing.T) {
	s := testSealer(t, 1)
	sk, mk, seed := s.newOwnedKeyPair("alice", randomSource)
	require.True(t, validKey(sk), "secret key %q", sk)
	require.True(t, validKey(mk), "metadata key %q", mk)
	require.Equal(t, keyTag(sk), keyTag(mk), "an owned pair must share its tag")
	require.Len(t, seed, ownerSeedLen)
	require.Equal(t, mk, s.ownedMetadataKey("alice", seed), "the metadata key is not recovered from its seed")
	require.NotEqual(t, mk, s.ownedMetadataKey("bob", seed), "a seed moved to another owner gives the same key")
	require.NotEqual(t, mk, testSealer(t, 2).ownedMetadataKey("alice", seed), "the key does not depend on the server secret")
	_, mk2, _ := s.newOwnedKeyPair("alice", randomSource)
	require.NotEqual(t, mk, mk2, "two owned pairs share a metadata key")
}
