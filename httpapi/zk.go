package httpapi

import (
	"context"
	"net/http"

	"github.com/onetimego/onetime"
	"github.com/onetimego/onetime/internal/frontdoor"
	"github.com/onetimego/onetime/zk"
)

// The zero-knowledge extension of the v1 API (docs/zero-knowledge.md,
// format zk1): the status lists the format, a share registers verifiers
// with a value the sender sealed, and a reveal presents proofs. Reference
// clients never send these fields, so that what they get is unchanged.

// zeroKnowledgeField is added to the status bodies after the v1 fields
// (and after "idempotency"): clients share in the zero-knowledge mode only
// with a server that lists zk1 there.
const zeroKnowledgeField = `,"zero_knowledge":["` + zk.Scheme + `"]`

// The refusals of malformed zero-knowledge fields. The service refuses
// the rest (a passphrase beside a verifier, recipients, a value that is
// not zk1) with messages of its own.
var (
	errZKVerifier = &apiError{http.StatusBadRequest,
		"Malformed proof_verifier or passphrase_verifier: each is a SHA-256 digest in 43 characters of unpadded base64url"}
	errZKVerifierAlone = &apiError{http.StatusBadRequest,
		"passphrase_verifier needs proof_verifier"}
	errZKRevealPassphrase = &apiError{http.StatusBadRequest,
		"A zero-knowledge reveal takes its passphrase in passphrase_proof, never in clear"}
)

// zkVerifier returns the verifiers of a share in the zero-knowledge mode,
// nil for a share that names none (the server-side mode).
func zkVerifier(p frontdoor.Params) (*zk.Verifier, error) {
	key, pass := p.Get(frontdoor.ParamProofVerifier), p.Get(frontdoor.ParamPassphraseVerifier)
	switch {
	case key == "" && pass == "":
		return nil, nil
	case key == "":
		return nil, errZKVerifierAlone
	}
	v := &zk.Verifier{Key: zk.DecodeBytes(key)}
	if pass != "" {
		v.Passphrase = zk.DecodeBytes(pass)
		if v.Passphrase == nil {
			return nil, errZKVerifier
		}
	}
	if v.Key == nil {
		return nil, errZKVerifier
	}
	return v, nil
}

// reveal serves POST {BasePath}secret/{secret_key}: with a proof (or a
// passphrase proof) the zero-knowledge reveal, otherwise the v1 one. A
// zero-knowledge secret revealed without its proof, or with a proof of
// another key, is an unknown secret to the caller, answered as one and
// changed in nothing (the Service sees to it); a proof that is not even
// well formed is a proof of no key, answered the same way.
func (h *Handler) reveal(ctx context.Context, key onetime.SecretKey, p frontdoor.Params) (*onetime.Secret, error) {
	proof, passProof := p.Get(frontdoor.ParamProof), p.Get(frontdoor.ParamPassphraseProof)
	if proof == "" && passProof == "" {
		return h.svc.Reveal(ctx, key, p.Get(frontdoor.ParamPassphrase))
	}
	if p.Get(frontdoor.ParamPassphrase) != "" {
		return nil, errZKRevealPassphrase
	}
	// A malformed passphrase proof is none: with the right key proof, a
	// secret with a passphrase counts it as a wrong passphrase.
	pr := zk.Proof{Key: zk.DecodeBytes(proof), Passphrase: zk.DecodeBytes(passProof)}
	return h.svc.RevealProof(ctx, key, pr)
}
