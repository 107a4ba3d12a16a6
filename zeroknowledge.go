package onetime

import (
	"context"
	"crypto/hmac"

	"github.com/onetimego/onetime/zk"
)

// validateZK checks the zero-knowledge part of a share request: a
// well-formed verifier, a value sealed by the sender, no passphrase (the
// passphrase is in the verifier; one sent beside it would reach the server
// and defeat the mode), no recipients to mail.
func validateZK(req ShareRequest) error {
	if req.Verifier == nil {
		return nil
	}
	switch {
	case !req.Verifier.Valid():
		return invalid("proof", "Malformed zero-knowledge verifier")
	case req.Passphrase != "":
		return invalid("passphrase", "A zero-knowledge secret takes its passphrase in its verifier, never in clear")
	case len(req.Recipients) > 0:
		// The server cannot know the fragment: it could only mail a link
		// that does not open.
		return invalid("recipient", "A zero-knowledge link cannot be e-mailed by the server: send it yourself")
	case !zk.IsSealed(string(req.Value)):
		return invalid("secret", "A zero-knowledge secret must be sealed by the sender ("+zk.Scheme+")")
	}
	return nil
}

// RevealProof reveals a secret shared in the zero-knowledge mode (see
// [ShareRequest].Verifier): it consumes the secret only for the proof that
// its verifier names, and returns the value as the sender sealed it, for
// the reader to open with the link's key (package zk).
//
// A proof of another key, a malformed one, or none is answered exactly like
// an unknown secret ([ErrNotFound]) and consumes nothing: a link scanner
// that has the link without its fragment cannot burn the secret, nor
// spend its attempts. A right key proof with a wrong passphrase proof is
// counted like a wrong passphrase ([ErrWrongPassphrase]), and the attempt
// that spends the budget burns the secret. The check costs a few hashes,
// never a passphrase derivation: the reader derived the proof.
//
// A secret shared in the server-side mode without a passphrase also opens
// here, its value returned as shared: a reader should open a value that is
// not "zk1." as plain. An idempotency key in ctx works as for Reveal.
func (s *Service) RevealProof(ctx context.Context, key SecretKey, proof zk.Proof) (*Secret, error) {
	ctx, run := s.tel.begin(ctx, opReveal)
	sec, err := s.revealProof(ctx, key, proof)
	return sec, run.end(ctx, err)
}

func (s *Service) revealProof(ctx context.Context, key SecretKey, proof zk.Proof) (*Secret, error) {
	if !validKey(string(key)) || !proof.Valid() {
		return nil, ErrNotFound
	}
	id := s.seal.secretID(string(key))
	creds := s.seal.zkCredentials(id, proof)
	now := s.now()
	rp := s.replay(id, now, s.idempotencyKey(ctx), "reveal-proof", string(key), string(proof.Key), string(proof.Passphrase))
	sec, err := s.store.Reveal(ctx, id, creds, now, rp)
	if err != nil {
		return nil, err
	}
	// A recorded answer is returned whatever is presented; its replay id
	// names this very proof, and this checks it once more.
	if len(sec.Proof) > 0 && !hmac.Equal(sec.Proof, creds.Proof) {
		return nil, ErrNotFound
	}
	if len(sec.Check) > 0 && !hmac.Equal(sec.Check, creds.Check) {
		return nil, ErrWrongPassphrase
	}
	value, err := open(s.seal.valueAEAD(string(key), nil), sec.Sealed, []byte(id))
	if err != nil {
		return nil, err
	}
	return &Secret{Key: key, Value: value, ShareDomain: sec.ShareDomain}, nil
}
