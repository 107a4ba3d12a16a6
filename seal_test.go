package onetime

import (
	"bytes"
	"context"
	"testing"
)

func testSealer(t *testing.T, secret byte) *sealer {
	t.Helper()
	s, err := newSealer(bytes.Repeat([]byte{secret}, 32), 2)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIDs(t *testing.T) {
	s := testSealer(t, 1)
	sk, mk := newKeyPair()
	sid, mid := s.pairIDs(sk, mk)
	if sid != s.secretID(sk) || mid != s.metadataID(mk) {
		t.Fatal("ids are not a function of the key")
	}
	if !sid.Valid() || !mid.Valid() || sid == mid {
		t.Fatalf("bad ids %q %q", sid, mid)
	}
	if sid.Slot() != mid.Slot() {
		t.Fatal("a pair's ids must share their slot")
	}
	if s.secretID(mk) == mid {
		t.Fatal("ids are not separated by kind")
	}
	if other := testSealer(t, 2); other.secretID(sk) == sid {
		t.Fatal("ids do not depend on the server secret")
	}
	sk2, _ := newKeyPair()
	if s.secretID(sk2).Slot() == sid.Slot() {
		t.Log("two pairs share a slot (possible, 1 in 2^32)")
	}
	// The prf is HMAC-SHA256: check it against a known answer (RFC 4231
	// test case 2 uses a short key, "Jefe").
	var p prf
	p.init([]byte("Jefe"))
	got := p.sum("what do ya want ", "for nothing?")
	want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if hexs := string(hexEncode(got[:])); hexs != want {
		t.Fatalf("HMAC-SHA256 = %s, want %s", hexs, want)
	}
}

func hexEncode(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return out
}

func TestSealOpen(t *testing.T) {
	s := testSealer(t, 1)
	sk, _ := newKeyPair()
	id := []byte(s.secretID(sk))
	value := []byte("the launch codes\n")
	sealed := seal(s.valueAEAD(sk, nil), value, id)
	if bytes.Contains(sealed, value) {
		t.Fatal("sealed bytes contain the value")
	}
	got, err := open(s.valueAEAD(sk, nil), sealed, id)
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("open = %q, %v", got, err)
	}
	for i := range sealed {
		tampered := bytes.Clone(sealed)
		tampered[i] ^= 1
		if _, err := open(s.valueAEAD(sk, nil), tampered, id); err == nil {
			t.Fatalf("tampered byte %d was accepted", i)
		}
	}
	if _, err := open(s.valueAEAD(sk, nil), sealed[:10], id); err == nil {
		t.Fatal("truncated sealed bytes were accepted")
	}
	other, _ := newKeyPair()
	if _, err := open(s.valueAEAD(other, nil), sealed, id); err == nil {
		t.Fatal("another secret key opened the value")
	}
	if _, err := open(s.valueAEAD(sk, nil), sealed, []byte(s.secretID(other))); err == nil {
		t.Fatal("sealed bytes moved to another record were accepted")
	}
	if _, err := open(testSealer(t, 2).valueAEAD(sk, nil), sealed, id); err == nil {
		t.Fatal("another server secret opened the value")
	}
}

func TestPassphraseSealing(t *testing.T) {
	s := testSealer(t, 1)
	ctx := context.Background()
	sk, _ := newKeyPair()
	pk, err := s.passphraseKey(ctx, sk, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	id := []byte(s.secretID(sk))
	sealed := seal(s.valueAEAD(sk, pk), []byte("v"), id)

	right, _ := s.passphraseKey(ctx, sk, "correct horse")
	wrong, _ := s.passphraseKey(ctx, sk, "correct horsf")
	if !bytes.Equal(s.checkFor(right), s.checkFor(pk)) {
		t.Fatal("the right passphrase gives another check")
	}
	if bytes.Equal(s.checkFor(wrong), s.checkFor(pk)) {
		t.Fatal("a wrong passphrase gives the same check")
	}
	if _, err := open(s.valueAEAD(sk, right), sealed, id); err != nil {
		t.Fatalf("the right passphrase does not open the value: %v", err)
	}
	if _, err := open(s.valueAEAD(sk, wrong), sealed, id); err == nil {
		t.Fatal("a wrong passphrase opened the value")
	}
	if _, err := open(s.valueAEAD(sk, nil), sealed, id); err == nil {
		t.Fatal("no passphrase opened the value")
	}
	// The salt comes from the secret key: the same passphrase on another
	// secret gives another key.
	sk2, _ := newKeyPair()
	if pk2, _ := s.passphraseKey(ctx, sk2, "correct horse"); bytes.Equal(pk2, pk) {
		t.Fatal("passphrase keys are not salted per secret")
	}
}

func TestPassphraseKeyHonoursContext(t *testing.T) {
	s, err := newSealer(bytes.Repeat([]byte{1}, 32), 1)
	if err != nil {
		t.Fatal(err)
	}
	s.kdf <- struct{}{} // the only slot is taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.passphraseKey(ctx, "k", "p"); err != context.Canceled {
		t.Fatalf("waiting for a KDF slot ignored the context: %v", err)
	}
}

func TestReceiptPayload(t *testing.T) {
	p := receiptPayload{secretKey: "abc", recipients: []string{"de*****@e*****.com", "x*****@y*****.org"}}
	var got receiptPayload
	if err := got.unmarshal(p.marshal()); err != nil || got.secretKey != p.secretKey || len(got.recipients) != 2 || got.recipients[1] != p.recipients[1] {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {5, 'a'}, {0x80}} {
		if err := new(receiptPayload).unmarshal(bad); err == nil {
			t.Errorf("unmarshal(%v) accepted malformed input", bad)
		}
	}
}

func TestOwnedKeyPair(t *testing.T) {
	s := testSealer(t, 1)
	sk, mk, seed := s.newOwnedKeyPair("alice")
	if !validKey(sk) || !validKey(mk) || keyTag(sk) != keyTag(mk) || len(seed) != ownerSeedLen {
		t.Fatalf("owned pair %q %q (seed %d bytes)", sk, mk, len(seed))
	}
	if s.ownedMetadataKey("alice", seed) != mk {
		t.Fatal("the metadata key is not recovered from its seed")
	}
	if s.ownedMetadataKey("bob", seed) == mk {
		t.Fatal("a seed moved to another owner gives the same key")
	}
	if testSealer(t, 2).ownedMetadataKey("alice", seed) == mk {
		t.Fatal("the key does not depend on the server secret")
	}
	_, mk2, _ := s.newOwnedKeyPair("alice")
	if mk2 == mk {
		t.Fatal("two owned pairs share a metadata key")
	}
}
